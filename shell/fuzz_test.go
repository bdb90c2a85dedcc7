package shell

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"rosh/menus"
)

// hangLimit is how long one fuzz input may run: no console line or
// configuration file may block the shell.
const hangLimit = 5 * time.Second

// watchdog panics, with every goroutine's stack, if the input being fuzzed
// runs past hangLimit: the fuzzer then records it as a crasher, where a
// hang would only stall the worker until -fuzztime ends. Call the returned
// function when the input is done.
func watchdog(in any) func() {
	done := make(chan struct{})
	go func() {
		select {
		case <-done:
		case <-time.After(hangLimit):
			buf := make([]byte, 1<<20)
			panic(fmt.Sprintf("input %q still running after %v:\n%s", in, hangLimit, buf[:runtime.Stack(buf, true)]))
		}
	}()
	return func() { close(done) }
}

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
		defer watchdog(line)()
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
		defer watchdog(data)()
		sh, _ := newTestShell(t)
		dir := t.TempDir()
		p := dir + "/c.rsc"
		if err := writeFile(p, data); err != nil {
			t.Fatal(err)
		}
		_ = sh.LoadConfig(p)
	})
}
