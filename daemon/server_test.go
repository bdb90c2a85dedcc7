package daemon

import (
	"bytes"
	"fmt"
	"math/rand"
	"net"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"rosh/shell"
)

// startServer runs a Server on a System with a configuration in a
// temporary directory (no clients or servers: nothing touches the host's
// interfaces) and returns its socket.
func startServer(t *testing.T) (string, *Server) {
	t.Helper()
	dir := t.TempDir()
	sys, loadErr, err := shell.OpenSystem(shell.SystemOptions{ConfigPath: filepath.Join(dir, "config.rsc")})
	if err != nil || loadErr != nil {
		t.Fatal(err, loadErr)
	}
	sock := filepath.Join(dir, "rosh.sock")
	l, lk, err := listen(sock, holderInfo{pid: "test", socket: sock})
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(sys)
	served := make(chan struct{})
	go func() { srv.Serve(l); close(served) }()
	t.Cleanup(func() {
		l.Close()
		<-served
		srv.Close(5 * time.Second)
		sys.Close()
		lk.release()
	})
	return sock, srv
}

// syncBuffer is an output a test reads while the console writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func attach(t *testing.T, sock string, interactive bool) (*Remote, *syncBuffer) {
	t.Helper()
	out := &syncBuffer{}
	r, err := Attach(sock, interactive, out)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r, out
}

// waitGoroutines waits until the process runs at most n goroutines.
func waitGoroutines(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, baseline %d:\n%s", runtime.NumGoroutine(), n, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestConsoleBasics: prompt, a change, an error with its position, the
// menu kept per console, completion and ? help, /quit.
func TestConsoleBasics(t *testing.T) {
	sock, _ := startServer(t)
	r, out := attach(t, sock, false)
	if r.Prompt() != "[admin@MikroTik] > " {
		t.Errorf("prompt %q", r.Prompt())
	}
	if err := r.Execute("/ip pool add name=p1 ranges=10.0.0.1-10.0.0.9", 1); err != nil {
		t.Fatal(err)
	}
	if err := r.Execute("/ip pool", 2); err != nil || r.Prompt() != "[admin@MikroTik] /ip pool> " {
		t.Fatalf("prompt %q, %v", r.Prompt(), err)
	}
	if err := r.Execute("print", 3); err != nil || !strings.Contains(out.String(), "10.0.0.1-10.0.0.9") {
		t.Fatalf("print: %v\n%s", err, out.String())
	}
	if err := r.Execute("bogus", 7); err == nil || err.Error() != "bad command name bogus (line 7 column 1)" {
		t.Errorf("error %v", err)
	}
	other, _ := attach(t, sock, false)
	if other.Prompt() != "[admin@MikroTik] > " {
		t.Errorf("a second console starts at the root menu: %q", other.Prompt())
	}
	if err := other.Execute("/system identity set name=R2", 1); err != nil {
		t.Fatal(err)
	}
	if err := r.Execute("", 4); err != nil || r.Prompt() != "[admin@R2] /ip pool> " {
		t.Errorf("the first console does not see the second's identity: %q %v", r.Prompt(), err)
	}
	sugg, start := r.Complete("/int")
	if start != 0 || len(sugg) == 0 || sugg[0].Text != "/interface" {
		t.Errorf("Complete(/int) = %+v, %d", sugg, start)
	}
	if h := r.Help("/ip pool "); !strings.Contains(h, "add") {
		t.Errorf("help: %q", h)
	}
	if err := r.Execute("/quit", 5); err != nil || !r.Quit() {
		t.Fatalf("quit: %v %v", err, r.Quit())
	}
	select {
	case <-r.Lost():
	case <-time.After(5 * time.Second):
		t.Fatal("the daemon kept the console after /quit")
	}
	if err := r.LostErr(); err != nil {
		t.Errorf("/quit reported as %v", err)
	}
	if err := other.Execute("/ip pool print count-only", 1); err != nil {
		t.Errorf("the other console after one quit: %v", err)
	}
}

// TestHostilePeers: garbage, an oversized frame, a request flood, a
// console that never reads and connections that never say hello never
// stop the daemon or the consoles next to them; when they are gone the
// daemon's goroutines are back to what they were.
func TestHostilePeers(t *testing.T) {
	sock, srv := startServer(t)
	good, goodOut := attach(t, sock, true)
	for i := 0; i < 500; i++ {
		if err := good.Execute(fmt.Sprintf("/ip pool add name=pool%d ranges=10.%d.%d.1", i, i/256, i%256), i+1); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(100 * time.Millisecond)
	baseline := runtime.NumGoroutine()
	t0 := time.Now()

	dial := func() net.Conn {
		c, err := net.Dial("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	hello := AppendFrame(nil, KindHello, Hello{Interactive: true}.Marshal())
	rng := rand.New(rand.NewSource(1))
	var hostile []net.Conn
	// Random bytes, before and after a hello.
	for i := 0; i < 20; i++ {
		c := dial()
		junk := make([]byte, rng.Intn(4096))
		rng.Read(junk)
		if i%2 == 1 {
			junk = append(append([]byte{}, hello...), junk...)
		}
		c.Write(junk)
		hostile = append(hostile, c)
	}
	// A frame that says it is 4 GiB long; a line longer than allowed.
	for _, b := range [][]byte{
		append(append([]byte{}, hello...), 'X', 0xff, 0xff, 0xff, 0xff),
		append(append([]byte{}, hello...), AppendFrame(nil, KindExec, bytes.Repeat([]byte("a"), MaxPayload+1))...),
	} {
		c := dial()
		c.Write(b)
		hostile = append(hostile, c)
	}
	// Requests without waiting for answers: the daemon ends the console.
	flood := dial()
	flood.Write(hello)
	for i := 0; i < 5; i++ {
		flood.Write(AppendFrame(nil, KindExec, Exec{LineNo: 1, Line: "/ip pool print"}.Marshal()))
	}
	// A console that asks for a print of 500 pools every 20 ms, and
	// never reads: its queue fills and the daemon drops it.
	deaf := dial()
	deaf.Write(hello)
	deaf.Write(AppendFrame(nil, KindExec, Exec{LineNo: 1, Line: "/ip pool print interval=20ms"}.Marshal()))
	// Connections that never say hello.
	for i := 0; i < 3; i++ {
		hostile = append(hostile, dial())
	}

	// Meanwhile the good console works, quickly.
	var worst time.Duration
	for i := 0; i < 200; i++ {
		start := time.Now()
		if err := good.Execute(fmt.Sprintf("/ppp secret add name=u%d password=x", i), i+1); err != nil {
			t.Fatalf("good console: %v\n%s", err, goodOut.String())
		}
		worst = max(worst, time.Since(start))
	}
	t.Logf("slowest of 200 changes next to the hostile peers: %v", worst)
	if worst > 2*time.Second {
		t.Errorf("a change took %v next to hostile peers", worst)
	}
	// The deaf console is dropped once its queue overflows.
	// The other hostile peers leave; the deaf one stays, never reading,
	// until the daemon drops it.
	for _, c := range hostile {
		c.Close()
	}
	flood.Close()
	deadline := time.Now().Add(20 * time.Second)
	for srv.Consoles() > 1 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := srv.Consoles(); n > 1 {
		t.Errorf("%d consoles still attached; the console that never reads should be dropped", n)
	}
	t.Logf("the console that never reads was dropped %v after it attached", time.Since(t0))
	deaf.Close()
	waitGoroutines(t, baseline)
	if err := good.Execute("/ppp secret print count-only", 1); err != nil || !strings.Contains(goodOut.String(), "200\n") {
		t.Errorf("good console after the storm: %v", err)
	}
}

// TestConsoleVanishesMidCommand: a console that disappears while a
// command runs until Ctrl-C (print interval=, like monitor) costs nothing:
// the command stops, every goroutine of the console ends.
func TestConsoleVanishesMidCommand(t *testing.T) {
	sock, srv := startServer(t)
	r, _ := attach(t, sock, true)
	r.Execute("/ip pool add name=p ranges=10.0.0.1", 1)
	r.Close()
	for srv.Consoles() > 0 {
		time.Sleep(10 * time.Millisecond)
	}
	baseline := runtime.NumGoroutine()
	for i := 0; i < 10; i++ {
		c, err := net.Dial("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		c.Write(AppendFrame(nil, KindHello, Hello{Interactive: true}.Marshal()))
		c.Write(AppendFrame(nil, KindExec, Exec{LineNo: 1, Line: "/ip pool print interval=1"}.Marshal()))
		buf := make([]byte, 4096)
		var got []byte
		for !bytes.Contains(got, []byte("10.0.0.1")) {
			n, err := c.Read(buf)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, buf[:n]...)
		}
		if i%2 == 0 {
			c.(*net.UnixConn).CloseWrite() // half-closed first, as a shell's pipe ends
		}
		c.Close()
	}
	waitGoroutines(t, baseline)
}
