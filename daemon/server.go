package daemon

import (
	"bufio"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"rosh/shell"
)

// Limits of a console connection.
const (
	// MaxQueued bounds the output waiting for a console that does not
	// read: past it the console is dropped, never the daemon slowed.
	MaxQueued = 1 << 20
	// WriteTimeout drops a console whose socket accepts nothing for
	// this long.
	WriteTimeout = 10 * time.Second
	// HelloTimeout drops a connection that does not say hello.
	HelloTimeout = 10 * time.Second
	// MaxConsoles bounds the consoles attached at once.
	MaxConsoles = 64
)

// Server attaches consoles to a System: each connection is a Shell of its
// own (menu, print numbering, Ctrl-C) on the one engine, whose lock orders
// the changes of every console.
type Server struct {
	sys *shell.System

	mu      sync.Mutex
	conns   map[*conn]struct{}
	closing bool
	wg      sync.WaitGroup
}

// NewServer returns a server of consoles on sys.
func NewServer(sys *shell.System) *Server {
	return &Server{sys: sys, conns: map[*conn]struct{}{}}
}

// Serve accepts consoles on l until l is closed.
func (s *Server) Serve(l net.Listener) error {
	for {
		c, err := l.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		s.mu.Lock()
		if s.closing || len(s.conns) >= MaxConsoles {
			msg := "rosh serve is stopping"
			if !s.closing {
				msg = "too many consoles attached"
			}
			s.mu.Unlock()
			c.SetWriteDeadline(time.Now().Add(time.Second))
			c.Write(AppendFrame(nil, KindBye, []byte(msg)))
			c.Close()
			continue
		}
		cn := newConn(c)
		s.conns[cn] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			s.handle(cn)
			s.mu.Lock()
			delete(s.conns, cn)
			s.mu.Unlock()
		}()
	}
}

// Close says bye to every console, ends them and waits (at most timeout)
// for their running commands to end.
func (s *Server) Close(timeout time.Duration) {
	s.mu.Lock()
	s.closing = true
	for c := range s.conns {
		c.bye("rosh serve is stopping")
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(timeout):
	}
}

// Consoles is how many consoles are attached.
func (s *Server) Consoles() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// conn is one attached console: the socket and its outgoing queue.
type conn struct {
	c net.Conn

	mu     sync.Mutex
	queue  []byte
	kick   chan struct{}
	dead   bool
	flushQ bool // close once the queue is written
	done   chan struct{}
	sh     *shell.Shell
	gone   atomic.Bool
}

func newConn(c net.Conn) *conn {
	return &conn{c: c, kick: make(chan struct{}, 1), done: make(chan struct{})}
}

// send queues a frame without ever blocking: a console that lets more
// than MaxQueued bytes pile up is dropped.
func (c *conn) send(kind byte, payload []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead || c.flushQ {
		return
	}
	if len(c.queue)+HeaderLen+len(payload) > MaxQueued {
		c.killLocked()
		return
	}
	c.queue = AppendFrame(c.queue, kind, payload)
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// Write is the console's output: O frames. It never blocks and never
// fails; output to a dropped console is discarded.
func (c *conn) Write(p []byte) (int, error) {
	for off := 0; off < len(p); off += MaxOutputChunk {
		end := min(off+MaxOutputChunk, len(p))
		c.send(KindOutput, p[off:end])
	}
	return len(p), nil
}

// killLocked drops the console: the socket is closed, which ends its
// reader and writer; the running command is stopped.
func (c *conn) killLocked() {
	if c.dead {
		return
	}
	c.dead = true
	c.queue = nil
	c.c.Close()
	if c.sh != nil {
		go c.sh.Close()
	}
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

func (c *conn) kill() {
	c.mu.Lock()
	c.killLocked()
	c.mu.Unlock()
}

// bye sends a bye and closes the console once it is written.
func (c *conn) bye(msg string) {
	c.send(KindBye, []byte(msg))
	c.mu.Lock()
	c.flushQ = true
	sh := c.sh
	c.mu.Unlock()
	select {
	case c.kick <- struct{}{}:
	default:
	}
	if sh != nil {
		sh.Close()
	}
}

// writer writes the queue to the socket; one per console.
func (c *conn) writer() {
	defer close(c.done)
	for range c.kick {
		c.mu.Lock()
		if c.dead {
			c.mu.Unlock()
			return
		}
		b := c.queue
		c.queue = nil
		closeAfter := c.flushQ
		c.mu.Unlock()
		if len(b) > 0 {
			c.c.SetWriteDeadline(time.Now().Add(WriteTimeout))
			if _, err := c.c.Write(b); err != nil {
				c.kill()
				return
			}
		}
		if closeAfter {
			c.mu.Lock()
			empty := len(c.queue) == 0
			c.mu.Unlock()
			if empty {
				c.kill()
				return
			}
		}
	}
}

func (s *Server) handle(c *conn) {
	go c.writer()
	defer func() {
		c.kill()
		<-c.done
	}()
	br := bufio.NewReaderSize(c.c, 4096)
	c.c.SetReadDeadline(time.Now().Add(HelloTimeout))
	f, err := ReadFrame(br)
	if err != nil {
		return
	}
	var h Hello
	if f.Kind == KindHello {
		h, err = ParseHello(f.Payload)
	} else {
		err = ErrBadFrame
	}
	if err != nil {
		c.bye("not a rosh console: " + err.Error())
		return
	}
	c.c.SetReadDeadline(time.Time{})
	sh := s.sys.NewConsole(c)
	sh.SetInteractive(h.Interactive)
	c.mu.Lock()
	c.sh = sh
	dead := c.dead
	c.mu.Unlock()
	if dead {
		sh.Close()
		return
	}
	c.send(KindDone, Done{Prompt: sh.Prompt()}.Marshal())

	// One request runs at a time, in its own goroutine, so that the
	// reader stays free for Ctrl-C and notices a console that vanished.
	jobs := make(chan Frame, 1)
	ran := make(chan struct{})
	go func() {
		defer close(ran)
		for f := range jobs {
			if c.gone.Load() {
				continue // the console left: what it queued is not run
			}
			s.serve(c, sh, f)
		}
	}()
	defer func() {
		c.gone.Store(true)
		sh.Close()
		close(jobs)
		<-ran
	}()
	for {
		f, err := ReadFrame(br)
		if err != nil {
			return
		}
		switch f.Kind {
		case KindInterrupt:
			sh.Interrupt()
		case KindExec, KindComplete, KindHelp:
			select {
			case jobs <- f:
			default:
				c.bye("protocol error: a request while another runs")
				return
			}
		default:
			c.bye("protocol error: unexpected frame " + string(rune(f.Kind)))
			return
		}
	}
}

// serve answers one request.
func (s *Server) serve(c *conn, sh *shell.Shell, f Frame) {
	switch f.Kind {
	case KindExec:
		x, err := ParseExec(f.Payload)
		if err != nil {
			c.bye("protocol error: " + err.Error())
			return
		}
		d := Done{}
		if err := sh.Execute(x.Line, x.LineNo); err != nil {
			d.Failed, d.Err = true, err.Error()
		}
		d.Prompt, d.Quit = sh.Prompt(), sh.Quit()
		c.send(KindDone, d.Marshal())
		if d.Quit {
			c.bye("")
		}
	case KindComplete:
		list, start := sh.Complete(string(f.Payload))
		c.send(KindSuggest, Suggestions{Start: start, List: list}.Marshal())
	case KindHelp:
		c.send(KindHelpText, []byte(sh.Help(string(f.Payload))))
	}
}
