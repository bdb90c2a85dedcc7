package daemon

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"rosh/shell"
)

// ErrNoDaemon is returned by Attach when nothing listens on the socket.
var ErrNoDaemon = errors.New("no rosh daemon")

// Remote is a console attached to a daemon. It is a shell.Console: the
// interactive and script runners drive it as they drive a Shell, and the
// lines run in the daemon.
type Remote struct {
	c   net.Conn
	out io.Writer

	wmu sync.Mutex // one frame written at a time

	replies chan Frame
	lost    chan struct{}
	byeMsg  string // set before lost is closed

	prompt string
	// quit: /quit was given; detached: Close was called. Both are read
	// by the goroutine that reports a daemon gone (RunConsole).
	quit     atomic.Bool
	detached atomic.Bool
}

// Attach connects to the daemon on socket. Output of commands is written
// to out as it comes; interactive says a person watches a terminal.
func Attach(socket string, interactive bool, out io.Writer) (*Remote, error) {
	c, err := net.DialTimeout("unix", socket, 5*time.Second)
	if err != nil {
		return nil, fmt.Errorf("%w on %s: %v", ErrNoDaemon, socket, err)
	}
	r := &Remote{c: c, out: out, replies: make(chan Frame, 1), lost: make(chan struct{})}
	go r.read()
	if err := r.write(KindHello, Hello{Interactive: interactive}.Marshal()); err != nil {
		c.Close()
		return nil, err
	}
	f, err := r.reply(KindDone)
	if err != nil {
		c.Close()
		return nil, err
	}
	d, err := ParseDone(f.Payload)
	if err != nil {
		c.Close()
		return nil, err
	}
	r.prompt = d.Prompt
	return r, nil
}

// read delivers output as it comes and replies to the waiting request.
func (r *Remote) read() {
	defer close(r.lost)
	br := bufio.NewReaderSize(r.c, 64<<10)
	for {
		f, err := ReadFrame(br)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				r.byeMsg = err.Error()
			}
			return
		}
		switch f.Kind {
		case KindOutput:
			r.out.Write(f.Payload)
		case KindBye:
			r.byeMsg = string(f.Payload)
			return
		case KindDone, KindSuggest, KindHelpText:
			if f.Kind == KindDone {
				// Known before the daemon's close that follows a /quit
				// is seen, so that the close is not taken for a failure.
				if d, err := ParseDone(f.Payload); err == nil && d.Quit {
					r.quit.Store(true)
				}
			}
			select {
			case r.replies <- f:
			default:
				r.byeMsg = "protocol error: a reply nobody asked for"
				return
			}
		default:
			r.byeMsg = fmt.Sprintf("protocol error: unexpected frame %q", f.Kind)
			return
		}
	}
}

func (r *Remote) write(kind byte, payload []byte) error {
	if len(payload) > MaxPayload {
		return fmt.Errorf("line too long (%d bytes, at most %d)", len(payload), MaxPayload)
	}
	r.wmu.Lock()
	defer r.wmu.Unlock()
	_, err := r.c.Write(AppendFrame(nil, kind, payload))
	return err
}

// reply waits for the answer of kind to the request just sent.
func (r *Remote) reply(kind byte) (Frame, error) {
	select {
	case f := <-r.replies:
		if f.Kind != kind {
			return Frame{}, fmt.Errorf("protocol error: %q answered with %q", kind, f.Kind)
		}
		return f, nil
	case <-r.lost:
		// The reply may have come just before the end (Done of /quit,
		// then the daemon closes): the reader queued it first.
		select {
		case f := <-r.replies:
			if f.Kind == kind {
				return f, nil
			}
		default:
		}
		return Frame{}, r.lostErr()
	}
}

// lostErr says why the daemon ended the console.
func (r *Remote) lostErr() error {
	if r.byeMsg != "" {
		return fmt.Errorf("rosh daemon ended the console: %s", r.byeMsg)
	}
	return errors.New("rosh daemon closed the connection")
}

// Lost is closed when the connection ended.
func (r *Remote) Lost() <-chan struct{} { return r.lost }

// LostErr says why the connection ended, once Lost is closed; nil after a
// /quit.
func (r *Remote) LostErr() error {
	select {
	case <-r.lost:
		if r.detached.Load() || r.quit.Load() && r.byeMsg == "" {
			return nil
		}
		return r.lostErr()
	default:
		return nil
	}
}

// Prompt implements shell.Console: the prompt after the last command.
func (r *Remote) Prompt() string { return r.prompt }

// Execute implements shell.Console: the line runs in the daemon; its
// output has been written when Execute returns.
func (r *Remote) Execute(line string, lineNo int) error {
	if err := r.write(KindExec, Exec{LineNo: lineNo, Line: line}.Marshal()); err != nil {
		if r.isLost() {
			return r.lostErr()
		}
		return err
	}
	f, err := r.reply(KindDone)
	if err != nil {
		return err
	}
	d, err := ParseDone(f.Payload)
	if err != nil {
		r.c.Close()
		return err
	}
	r.prompt = d.Prompt
	r.quit.Store(d.Quit)
	if d.Failed {
		return errors.New(d.Err)
	}
	return nil
}

func (r *Remote) isLost() bool {
	select {
	case <-r.lost:
		return true
	default:
		return false
	}
}

// Complete implements shell.Console.
func (r *Remote) Complete(before string) ([]shell.Suggestion, int) {
	if r.write(KindComplete, []byte(before)) != nil {
		return nil, len(before)
	}
	f, err := r.reply(KindSuggest)
	if err != nil {
		return nil, len(before)
	}
	s, err := ParseSuggestions(f.Payload)
	if err != nil || s.Start > len(before) {
		return nil, len(before)
	}
	return s.List, s.Start
}

// Help implements shell.Console.
func (r *Remote) Help(before string) string {
	if r.write(KindHelp, []byte(before)) != nil {
		return ""
	}
	f, err := r.reply(KindHelpText)
	if err != nil {
		return ""
	}
	return string(f.Payload)
}

// Interrupt implements shell.Console: Ctrl-C reaches the daemon.
func (r *Remote) Interrupt() { r.write(KindInterrupt, nil) }

// Quit implements shell.Console: /quit was given, or the daemon is gone.
func (r *Remote) Quit() bool { return r.quit.Load() || r.isLost() }

// Close detaches; the daemon keeps running.
func (r *Remote) Close() error {
	r.detached.Store(true)
	err := r.c.Close()
	<-r.lost
	return err
}
