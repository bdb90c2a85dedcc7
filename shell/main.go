package shell

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"

	"golang.org/x/term"

	"rosh/router"
)

// Options are the binary's flags.
type Options struct {
	ConfigPath  string
	Script      string
	Identity    string
	IdentitySet bool
}

// Main runs rosh: load the configuration, then a script, the interactive
// console on a terminal, or lines from stdin. It returns the exit status:
// non-zero when a line failed.
func Main(opts Options, stdin io.Reader, stdout, stderr io.Writer) int {
	if path := os.Getenv("ROSH_CPUPROFILE"); path != "" {
		// A CPU profile of the whole run, for performance work.
		if f, err := os.Create(path); err == nil {
			pprof.StartCPUProfile(f)
			defer func() { pprof.StopCPUProfile(); f.Close() }()
		}
	}
	if path := os.Getenv("ROSH_HEAPPROFILE"); path != "" {
		stop := heapProfileOnSignal(path)
		defer stop()
	}
	sys, loadErr, err := OpenSystem(SystemOptions{ConfigPath: opts.ConfigPath, Identity: opts.Identity, IdentitySet: opts.IdentitySet, Runtime: EnvRuntimeOptions()})
	if loadErr != nil {
		fmt.Fprintf(stderr, "rosh: %v\nrosh: the configuration file is left untouched: changes in this run are not saved\n", loadErr)
	}
	if err != nil {
		fmt.Fprintf(stderr, "rosh: %v\n", err)
		return 2
	}
	sh := sys.NewConsole(stdout)
	// The echo logging action prints on the console.
	sys.Eng.Log.SetEcho(func(e router.LogEntry) { sh.out.Printf("%s\n", e.Line()) })
	status := 0
	switch {
	case opts.Script != "":
		f, err := os.Open(opts.Script)
		if err != nil {
			fmt.Fprintf(stderr, "rosh: %v\n", err)
			status = 2
			break
		}
		if sh.RunScript(f, nil) > 0 {
			status = 1
		}
		f.Close()
	case isTerminal(stdin) && isTerminal(stdout):
		sh.SetInteractive(true)
		RunInteractive(sh, stdout)
	default:
		if sh.RunScript(stdin, nil) > 0 {
			status = 1
		}
	}
	if err := sys.Close(); err != nil {
		fmt.Fprintf(stderr, "rosh: %v\n", err)
		status = 1
	}
	return status
}

// IsTerminal reports whether f is a terminal.
func IsTerminal(f any) bool { return isTerminal(f) }

func isTerminal(f any) bool {
	if x, ok := f.(*os.File); ok {
		return term.IsTerminal(int(x.Fd()))
	}
	return false
}

// LoadConfig runs the configuration file into an empty configuration. A
// missing file is an empty configuration; a line that fails is an error
// naming the file and the line, and nothing of the file is applied.
func (s *Shell) LoadConfig(path string) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	loader := &Shell{eng: s.eng, tree: s.tree, cwd: "/", numbers: map[string][]rowRef{}, out: newOutput(io.Discard), Now: s.Now, fileDir: s.fileDir}
	var first error
	loader.RunScript(strings.NewReader(string(data)), func(n int, err error) {
		if first == nil {
			first = fmt.Errorf("%s line %d: %v", path, n, err)
		}
	})
	if first != nil {
		// Start from scratch rather than from half a file.
		s.eng.Update(func(c *router.Config) error {
			*c = *router.NewConfig()
			s.tree.Init(c)
			return nil
		})
		return first
	}
	return nil
}

// heapProfileOnSignal writes a heap profile to path each time the
// process gets SIGUSR1, after a garbage collection so that inuse_space is
// what is live, and the same profile as text to path.txt, which ends with
// the runtime's memory statistics (goroutine stacks, heap in use, GC
// count): for performance work like ROSH_CPUPROFILE, e.g. what an access
// concentrator holding many sessions keeps for each. Each file is
// replaced whole. The function returned stops listening.
func heapProfileOnSignal(path string) func() {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGUSR1)
	done := make(chan struct{})
	write := func(path string, debug int) {
		f, err := os.Create(path + ".tmp")
		if err != nil {
			return
		}
		err = pprof.Lookup("heap").WriteTo(f, debug)
		if f.Close() == nil && err == nil {
			os.Rename(path+".tmp", path)
		}
	}
	go func() {
		for {
			select {
			case <-sig:
				runtime.GC()
				write(path+".txt", 1)
				write(path, 0)
			case <-done:
				return
			}
		}
	}()
	return func() { signal.Stop(sig); close(done) }
}
