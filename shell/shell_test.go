package shell

import (
	"bytes"
	"flag"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rosh/menus"
	"rosh/router"
)

var update = flag.Bool("update", false, "rewrite the golden transcripts")

// fixedInterfaces is the host the console tests pretend to run on.
func fixedInterfaces() []router.HostInterface {
	return []router.HostInterface{
		{Name: "lo", Type: "loopback", MTU: 65536, Running: true},
		{Name: "ether2", Type: "veth", MTU: 1500, MAC: net.HardwareAddr{2, 0xab, 0xcd, 0, 0, 2}, Running: true},
		{Name: "ether3", Type: "veth", MTU: 1500, MAC: net.HardwareAddr{2, 0xab, 0xcd, 0, 0, 1}, Running: true},
	}
}

// newTestShell returns a console on a fresh configuration writing to buf.
func newTestShell(t testing.TB) (*Shell, *bytes.Buffer) {
	eng := router.NewEngine()
	eng.SetHostInterfaces(fixedInterfaces)
	tree := menus.NewTree(menus.All())
	eng.Update(func(c *router.Config) error { tree.Init(c); return nil })
	var buf bytes.Buffer
	sh := New(eng, tree, &buf)
	sh.Now = func() time.Time { return time.Date(2026, 11, 25, 19, 0, 0, 0, time.UTC) }
	sh.SetFileDir(t.TempDir())
	return sh, &buf
}

// transcript runs a script line by line and returns what a person would
// have seen: each line echoed after "> ", then its output or error.
func transcript(t testing.TB, sh *Shell, buf *bytes.Buffer, script string) string {
	var out strings.Builder
	for i, line := range strings.Split(strings.TrimRight(script, "\n"), "\n") {
		buf.Reset()
		out.WriteString("> " + line + "\n")
		if err := sh.Execute(line, i+1); err != nil {
			out.WriteString(buf.String())
			out.WriteString(err.Error() + "\n")
			continue
		}
		out.WriteString(buf.String())
	}
	return out.String()
}

// TestGoldenTranscripts replays testdata/console/*.rsc and diffs the
// transcript with the .golden file next to it (go test -update rewrites).
func TestGoldenTranscripts(t *testing.T) {
	files, err := filepath.Glob("../testdata/console/*.rsc")
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts found: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			script, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			sh, buf := newTestShell(t)
			got := transcript(t, sh, buf, string(script))
			golden := strings.TrimSuffix(f, ".rsc") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./shell -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("transcript differs from %s (-want +got):\n%s", golden, lineDiff(string(want), got))
			}
		})
	}
}

// lineDiff is a small line-by-line diff for test failures.
func lineDiff(want, got string) string {
	w := strings.Split(want, "\n")
	g := strings.Split(got, "\n")
	var b strings.Builder
	n := len(w)
	if len(g) > n {
		n = len(g)
	}
	for i := 0; i < n; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			b.WriteString("-" + wl + "\n+" + gl + "\n")
		}
	}
	return b.String()
}

func containsAny(s string, subs ...string) bool {
	for _, x := range subs {
		if strings.Contains(s, x) {
			return true
		}
	}
	return false
}

func writeFile(p string, b []byte) error { return os.WriteFile(p, b, 0o600) }
