package shell

import (
	"testing"

	"rosh/menus"
)

// FuzzExecute feeds arbitrary console lines to a configured console: no
// line may panic, and a line that fails must leave the configuration as
// it was.
func FuzzExecute(f *testing.F) {
	for _, seed := range []string{
		"/ppp secret add name=a password=b",                 // a valid change
		`/ppp secret set [find name="MT-User"] !caller-id`,  // brackets, quotes, unset
		"/ppp secret print where name~\"^M\" and !disabled", // where expression
		`/ip pool add name=x ranges=10.0.0.1-10.0.0.0`,      // bad range
		`"`,                    // lone quote
		"[[[]]",                // unbalanced brackets
		"/ppp/../ppp/./secret", // path tricks
		"/import file=/dev/null",
		"/interface pppoe-client monitor 0 once",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, line string) {
		sh, buf := newTestShell(t)
		transcript(t, sh, buf, seedAC)
		before := sh.ExportText("/", menus.ExportOptions{ShowSensitive: true})
		if err := sh.Execute(line, 1); err != nil {
			if after := sh.ExportText("/", menus.ExportOptions{ShowSensitive: true}); after != before {
				t.Fatalf("failing line %q changed the configuration: %v", line, err)
			}
		}
	})
}

// FuzzLoadConfig feeds arbitrary bytes as a configuration file.
func FuzzLoadConfig(f *testing.F) {
	f.Add([]byte("/ip pool\nadd name=a ranges=10.0.0.1\n"))
	f.Add([]byte("/ppp secret add name=x \\\n  password=y\n"))
	f.Add([]byte("\x00\xff\n\n#c\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sh, _ := newTestShell(t)
		dir := t.TempDir()
		p := dir + "/c.rsc"
		if err := writeFile(p, data); err != nil {
			t.Fatal(err)
		}
		_ = sh.LoadConfig(p)
	})
}
