package shell

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"rosh/menus"
)

// richConfig touches every configuration menu, built-ins included, with
// values that need quoting and escaping.
const richConfig = seedAC + `
/system identity set name="edge router"
/ip pool add name=overflow ranges=10.1.0.0/24 comment="spill \"over\" pool"
/ip pool set pppoe-pool next-pool=overflow
/ppp profile set default change-tcp-mss=no dns-server=9.9.9.9
/ppp profile set default-encryption only-one=yes
/ppp profile add name=gold local-address=10.0.0.1 remote-address=overflow rate-limit="10M/20M" session-timeout=1d idle-timeout=5m30s only-one=yes use-compression=no
/ppp secret add name="user one" password="p@ss word$\\" profile=gold caller-id=02:00:00:00:00:09 remote-address=10.1.0.50 disabled=yes limit-bytes-out=1000000
/ppp secret add name=u2 password=x service=pppoe routes="192.168.5.0/24 10.1.0.51 1"
/interface pppoe-client add interface=ether2 user=bob password=pw allow=mschap2 add-default-route=yes default-route-distance=5 use-peer-dns=yes keepalive-timeout=disabled max-mtu=1480 mrru=1614 host-uniq=0xdeadbeef comment="to the ISP"
/interface pppoe-server server add interface=ether2 service-name="" authentication=chap,pap max-sessions=100 one-session-per-host=yes pado-delay=100 keepalive-timeout=30 accept-empty-service=no
/interface pppoe-server add name=pppoe-bob user=bob service=pppoeservice`

func TestExportImportRoundTrip(t *testing.T) {
	sh, buf := newTestShell(t)
	if got := transcript(t, sh, buf, richConfig); !noErrors(got) {
		t.Fatalf("configuration failed:\n%s", got)
	}
	first := sh.ExportText("/", menus.ExportOptions{ShowSensitive: true})
	dir := t.TempDir()
	file := filepath.Join(dir, "saved.rsc")
	sh.SetFileDir(dir)
	if err := sh.Execute("/export show-sensitive file=saved", 1); err != nil {
		t.Fatal(err)
	}

	fresh, out := newTestShell(t)
	fresh.SetFileDir(dir)
	if err := fresh.Execute("/import file=saved.rsc", 1); err != nil {
		t.Fatalf("import: %v\n%s\nscript:\n%s", err, out, first)
	}
	second := fresh.ExportText("/", menus.ExportOptions{ShowSensitive: true})
	if first != second {
		t.Errorf("export after import differs (-want +got):\n%s", lineDiff(first, second))
	}

	// The configuration loader takes the same script.
	loaded, _ := newTestShell(t)
	if err := loaded.LoadConfig(file); err != nil {
		t.Fatal(err)
	}
	if third := loaded.ExportText("/", menus.ExportOptions{ShowSensitive: true}); third != first {
		t.Errorf("loaded configuration differs (-want +got):\n%s", lineDiff(first, third))
	}

	// Without show-sensitive, no password or secret appears.
	hidden := sh.ExportText("/", menus.ExportOptions{})
	for _, secret := range []string{"StrongPass", "p@ss", "password="} {
		if strings.Contains(hidden, secret) {
			t.Errorf("export without show-sensitive contains %q:\n%s", secret, hidden)
		}
	}
	// verbose writes defaults too.
	verbose := sh.ExportText("/", menus.ExportOptions{Verbose: true})
	if !strings.Contains(verbose, "keepalive-timeout=10") {
		t.Errorf("verbose export lacks defaults:\n%s", verbose)
	}
}

func TestLoadConfigNamesFailingLine(t *testing.T) {
	file := filepath.Join(t.TempDir(), "config.rsc")
	broken := "/ip pool add name=a ranges=10.0.0.1-10.0.0.9\n/ppp secret add name=x profile=missing\n"
	if err := os.WriteFile(file, []byte(broken), 0o600); err != nil {
		t.Fatal(err)
	}
	sh, _ := newTestShell(t)
	err := sh.LoadConfig(file)
	if err == nil || !strings.Contains(err.Error(), "line 2") || !strings.Contains(err.Error(), "profile") {
		t.Fatalf("LoadConfig error = %v, want one naming line 2", err)
	}
	// Nothing of a broken file is applied.
	if got := sh.ExportText("/", menus.ExportOptions{}); strings.Contains(got, "/ip pool") {
		t.Errorf("half of a broken file was applied:\n%s", got)
	}
}

// TestMainPersists runs rosh's main loop on a piped script and checks that
// the file it saved loads into the same configuration, and that a broken
// file is left untouched.
func TestMainPersists(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.rsc")
	var out, errOut bytes.Buffer
	status := Main(Options{ConfigPath: cfg}, strings.NewReader(seedAC+"\n/ppp secret adx\n"), &out, &errOut)
	if status != 1 {
		t.Errorf("status = %d, want 1 (one line failed); output:\n%s", status, out.String())
	}
	if !strings.Contains(out.String(), "line 6: bad command name adx (line 6 column 13)") {
		t.Errorf("failing line not reported with its number:\n%s", out.String())
	}
	saved, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(saved), "add name=MT-User password=StrongPass profile=for-pppoe service=pppoe") {
		t.Errorf("saved configuration lacks the secret:\n%s", saved)
	}
	out.Reset()
	if status := Main(Options{ConfigPath: cfg}, strings.NewReader("/ppp secret print count-only\n"), &out, &errOut); status != 0 || strings.TrimSpace(out.String()) != "1" {
		t.Errorf("after restart: status %d, output %q, want 1 secret", status, out.String())
	}

	if err := os.WriteFile(cfg, []byte("/ppp secret add name=x profile=missing\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	errOut.Reset()
	Main(Options{ConfigPath: cfg}, strings.NewReader("/ip pool add name=p ranges=10.0.0.1\n"), &out, &errOut)
	if !strings.Contains(errOut.String(), "line 1") {
		t.Errorf("broken config not reported: %q", errOut.String())
	}
	if b, _ := os.ReadFile(cfg); string(b) != "/ppp secret add name=x profile=missing\n" {
		t.Errorf("broken config was overwritten:\n%s", b)
	}
}

// TestExportShowSensitive: the console's export, whole or per menu, hides
// every password and RADIUS secret unless show-sensitive is given
// (RouterOS v7), and shows them all with it.
func TestExportShowSensitive(t *testing.T) {
	sh, buf := newTestShell(t)
	secrets := []string{"Cl1entPw", "S3cretPw", "R4diusKey"}
	for i, line := range []string{
		"/interface pppoe-client add interface=ether2 user=bob password=Cl1entPw",
		"/ppp secret add name=alice password=S3cretPw",
		"/radius add service=ppp address=192.0.2.10 secret=R4diusKey",
	} {
		if err := sh.Execute(line, i+1); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
	}
	for _, cmd := range []string{"/export", "/export hide-sensitive", "/ppp secret export", "/interface pppoe-client export", "/radius export verbose"} {
		buf.Reset()
		if err := sh.Execute(cmd, 1); err != nil {
			t.Fatalf("%s: %v", cmd, err)
		}
		for _, s := range secrets {
			if strings.Contains(buf.String(), s) {
				t.Errorf("%s shows %q:\n%s", cmd, s, buf.String())
			}
		}
	}
	buf.Reset()
	if err := sh.Execute("/export show-sensitive", 1); err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets {
		if !strings.Contains(buf.String(), s) {
			t.Errorf("/export show-sensitive lacks %q:\n%s", s, buf.String())
		}
	}
}
