package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestInstall runs `make install-files` (make install without its build)
// into a staging directory and checks
// the unit it installs with systemd-analyze verify: directives systemd
// knows, a binary that exists, capabilities and restart policy in place.
func TestInstall(t *testing.T) {
	stage := t.TempDir()
	out, err := exec.Command("make", "-C", "../..", "--no-print-directory", "install-files", "DESTDIR="+stage, "BIN="+roshBin).CombinedOutput()
	if err != nil {
		t.Fatalf("make install: %v\n%s", err, out)
	}
	bin := filepath.Join(stage, "usr/local/sbin/rosh")
	if fi, err := os.Stat(bin); err != nil || fi.Mode().Perm() != 0o755 {
		t.Fatalf("installed binary: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(stage, "var/lib/rosh")); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("configuration directory: %v", err)
	}
	unitPath := filepath.Join(stage, "etc/systemd/system/rosh.service")
	unit, err := os.ReadFile(unitPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"ExecStart=/usr/local/sbin/rosh serve --config /var/lib/rosh/config.rsc",
		"Type=notify", "Restart=on-failure",
		"AmbientCapabilities=CAP_NET_ADMIN CAP_NET_RAW", "CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW",
	} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("the unit lacks %q", want)
		}
	}
	// systemd-analyze verify checks that ExecStart's binary exists: point
	// it at the staged one.
	check := filepath.Join(t.TempDir(), "rosh.service")
	os.WriteFile(check, []byte(strings.ReplaceAll(string(unit), "/usr/local/sbin/rosh", bin)), 0o644)
	v := exec.Command("systemd-analyze", "verify", check)
	vout, err := v.CombinedOutput()
	// Other units of the machine may draw warnings; ours must draw none.
	var ours []string
	for _, l := range strings.Split(string(vout), "\n") {
		if strings.Contains(l, "rosh.service") {
			ours = append(ours, l)
		}
	}
	if err != nil || len(ours) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, vout)
	}
}
