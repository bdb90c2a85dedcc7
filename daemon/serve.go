package daemon

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"rosh/shell"
)

// DefaultSocket is where `rosh serve` listens and `rosh` looks for it.
const DefaultSocket = "/run/rosh/rosh.sock"

// ServeOptions are `rosh serve`'s flags.
type ServeOptions struct {
	ConfigPath string
	Socket     string
}

// Serve runs the daemon until SIGTERM or SIGINT: it loads the
// configuration, starts every enabled client and server, and attaches the
// consoles that connect to the socket. On the signal every session ends
// cleanly (LCP Terminate, PADT, TUN devices and routes removed) and it
// returns 0. SIGHUP reopens the log file. It returns non-zero when it
// cannot start: the configuration or the socket taken by another daemon,
// a configuration that does not load.
func Serve(opt ServeOptions, stderr io.Writer) int {
	fail := func(format string, args ...any) int {
		fmt.Fprintf(stderr, "rosh serve: "+format+"\n", args...)
		return 1
	}
	if opt.Socket == "" {
		opt.Socket = DefaultSocket
	}
	config, err := filepath.Abs(opt.ConfigPath)
	if err != nil {
		return fail("%v", err)
	}
	socket, err := filepath.Abs(opt.Socket)
	if err != nil {
		return fail("%v", err)
	}
	if err := os.MkdirAll(filepath.Dir(config), 0o700); err != nil {
		return fail("%v", err)
	}
	me := holderInfo{pid: strconv.Itoa(os.Getpid()), socket: socket}
	cfgLock, h, err := takeLock(configLockPath(config), me)
	if errors.Is(err, ErrInUse) {
		return fail("%s is already served by another rosh serve (pid %s, socket %s): attach to it with `rosh console --socket %s`",
			config, orUnknown(h.pid), orUnknown(h.socket), orUnknown(h.socket))
	}
	if err != nil {
		return fail("locking %s: %v", config, err)
	}
	defer cfgLock.release()
	l, sockLock, err := listen(socket, me)
	if err != nil {
		return fail("%v", err)
	}
	defer sockLock.release()

	// Signals are caught before anything starts, so that a TERM during
	// start-up still ends the sessions cleanly.
	sig := make(chan os.Signal, 4)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer signal.Stop(sig)

	sys, loadErr, err := shell.OpenSystem(shell.SystemOptions{ConfigPath: config, Runtime: shell.EnvRuntimeOptions()})
	if err == nil && loadErr != nil {
		sys.Close()
		err = fmt.Errorf("%v (the file is left untouched; fix it and start again)", loadErr)
	}
	if err != nil {
		l.Close()
		return fail("%v", err)
	}
	srv := NewServer(sys)
	go srv.Serve(l)
	fmt.Fprintf(stderr, "rosh serve: %s loaded, consoles attach on %s (pid %d)\n", config, socket, os.Getpid())
	notify("READY=1\nMAINPID=" + me.pid)

	for s := range sig {
		if s == syscall.SIGHUP {
			if err := sys.ReopenLog(); err != nil {
				fmt.Fprintf(stderr, "rosh serve: reopening the log: %v\n", err)
			}
			continue
		}
		break
	}
	notify("STOPPING=1")
	l.Close()
	srv.Close(5 * time.Second)
	status := 0
	if err := sys.Close(); err != nil {
		fmt.Fprintf(stderr, "rosh serve: %v\n", err)
		status = 1
	}
	fmt.Fprintf(stderr, "rosh serve: stopped\n")
	return status
}

// AttachOptions say how a console attaches.
type AttachOptions struct {
	Socket string
	// Script runs this file instead of reading the console.
	Script string
}

// RunConsole attaches to the daemon on opt.Socket and runs the console
// there as rosh runs its own: a script, go-prompt on a terminal, or lines
// from stdin. Leaving (/quit, Ctrl-D, end of input) detaches; the daemon
// and its sessions stay. It returns the exit status: non-zero when a line
// failed or the daemon went away.
func RunConsole(opt AttachOptions, stdin io.Reader, stdout, stderr io.Writer) int {
	interactive := opt.Script == "" && shell.IsTerminal(stdin) && shell.IsTerminal(stdout)
	r, err := Attach(opt.Socket, interactive, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "rosh: %v\n", err)
		return 2
	}
	defer r.Close()
	report := func(n int, err error) { fmt.Fprintf(stdout, "line %d: %v\n", n, err) }
	status := 0
	switch {
	case opt.Script != "":
		f, err := os.Open(opt.Script)
		if err != nil {
			fmt.Fprintf(stderr, "rosh: %v\n", err)
			return 2
		}
		if shell.RunLines(r, f, report) > 0 {
			status = 1
		}
		f.Close()
	case interactive:
		// A daemon that goes away (systemctl stop) says so at once; the
		// prompt leaves at the next key.
		done := make(chan struct{})
		go func() {
			select {
			case <-r.Lost():
				if err := r.LostErr(); err != nil {
					fmt.Fprintf(stderr, "\r\nrosh: %v (press Enter)\r\n", err)
				}
			case <-done:
			}
		}()
		shell.RunInteractive(r, stdout)
		close(done)
		if r.LostErr() != nil {
			return 1
		}
		return 0
	default:
		if shell.RunLines(r, stdin, report) > 0 {
			status = 1
		}
	}
	if err := r.LostErr(); err != nil {
		fmt.Fprintf(stderr, "rosh: %v\n", err)
		status = 1
	}
	return status
}
