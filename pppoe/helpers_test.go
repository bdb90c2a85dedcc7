package pppoe

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"rosh/link"
)

// checkLeaks fails the test if goroutines of this module are still running
// once the test's other cleanups have run. Call it first in a test so that
// its cleanup runs last.
func checkLeaks(t testing.TB) {
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for {
			leaked := leakedGoroutines()
			if len(leaked) == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("%d goroutines leaked:\n%s", len(leaked), strings.Join(leaked, "\n\n"))
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

func leakedGoroutines() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for i, g := range strings.Split(string(buf), "\n\n") {
		if i == 0 {
			continue // this goroutine
		}
		if strings.Contains(g, "rosh/link.") || strings.Contains(g, "rosh/pppoe.(*") {
			out = append(out, g)
		}
	}
	return out
}

// dumpOnFailure wraps l so that, if the test fails, every frame that crossed
// it is written to a pcap file that Wireshark opens, named in the log.
func dumpOnFailure(t testing.TB, l link.Link) link.Link {
	var mu sync.Mutex
	var buf bytes.Buffer
	cl, err := link.Capture(l, lockedWriter{&mu, &buf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		name := filepath.Join(os.TempDir(), "rosh-"+strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())+".pcap")
		mu.Lock()
		defer mu.Unlock()
		if err := os.WriteFile(name, buf.Bytes(), 0o644); err == nil {
			t.Logf("frames of the failed test: %s", name)
		}
	})
	return cl
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (w lockedWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(b)
}

// testNet is an AC-side port and a client-side port joined by a wire: a
// Pipe (newPipeNet) or a veth pair (newVethNet).
type testNet struct {
	acPort, clPort *link.Port
	acMAC, clMAC   MAC
}

func newPipeNet(t testing.TB, opts ...link.PipeOption) *testNet {
	return newPipeNetCapture(t, true, opts...)
}

// newPipeNetCapture is newPipeNet, with the AC side recorded for a failure
// dump only if capture is set.
func newPipeNetCapture(t testing.TB, capture bool, opts ...link.PipeOption) *testNet {
	a, b := link.Pipe(opts...)
	return newTestNet(t, a, b, capture)
}

// newTestNet puts ports on the AC's link ac and the client's link cl, closed
// at cleanup, with the AC side recorded for a failure dump if capture is set.
func newTestNet(t testing.TB, ac, cl link.Link, capture bool) *testNet {
	if capture {
		ac = dumpOnFailure(t, ac)
	}
	n := &testNet{acPort: link.NewPort(ac), clPort: link.NewPort(cl)}
	n.acMAC, _ = MACFrom(ac.HardwareAddr())
	n.clMAC, _ = MACFrom(cl.HardwareAddr())
	t.Cleanup(func() {
		n.acPort.Close()
		n.clPort.Close()
	})
	return n
}

// startAC starts an AC with the given services and closes it at cleanup.
func startAC(t testing.TB, port *link.Port, cfg ACConfig, services ...Service) *AC {
	t.Helper()
	ac, err := NewAC(port, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ac.Close() })
	for _, s := range services {
		if err := ac.SetService(s); err != nil {
			t.Fatal(err)
		}
	}
	return ac
}

func newClient(t testing.TB, port *link.Port, cfg ClientConfig) *Client {
	t.Helper()
	c, err := NewClient(port, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// dial runs c.Dial with a real-time guard and closes the session at
// cleanup.
func dial(t testing.TB, c *Client) (*Session, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := c.Dial(ctx)
	if s != nil {
		t.Cleanup(func() { s.Close() })
	}
	return s, err
}

// dialResult is what a Dial returned.
type dialResult struct {
	s   *Session
	err error
}

// dialAsync runs dial on a goroutine of its own, for a test that plays the
// AC meanwhile.
func dialAsync(t testing.TB, c *Client) <-chan dialResult {
	res := make(chan dialResult, 1)
	go func() { s, err := dial(t, c); res <- dialResult{s, err} }()
	return res
}

// rawPeer reads and writes raw frames on a port, for tests that script one
// side of the protocol.
type rawPeer struct {
	port *link.Port
	mac  MAC
	ch   chan []byte
}

// newRawPeer subscribes to PPPoE frames on port that match keep (nil: all).
func newRawPeer(t testing.TB, port *link.Port, keep func(*Packet) bool) *rawPeer {
	r := &rawPeer{port: port, ch: make(chan []byte, 4096)}
	r.mac, _ = MACFrom(port.HardwareAddr())
	sub := port.Subscribe(func(frame []byte) bool {
		var p Packet
		if p.Decode(frame) != nil || (keep != nil && !keep(&p)) {
			return false
		}
		select {
		case r.ch <- bytes.Clone(frame):
		default:
		}
		return true
	})
	t.Cleanup(sub.Cancel)
	return r
}

// expect waits for the next frame and checks its code.
func (r *rawPeer) expect(t testing.TB, code Code) *Packet {
	t.Helper()
	select {
	case f := <-r.ch:
		var p Packet
		if err := p.Decode(f); err != nil {
			t.Fatalf("decode: %v", err)
		}
		if p.Code != code {
			t.Fatalf("got %v, want %v", &p, code)
		}
		return &p
	case <-time.After(5 * time.Second):
		t.Fatalf("no %v within 5s", code)
	}
	return nil
}

// expectNothing checks that no frame arrives within d of real time.
func (r *rawPeer) expectNothing(t testing.TB, d time.Duration) {
	t.Helper()
	select {
	case f := <-r.ch:
		var p Packet
		_ = p.Decode(f)
		t.Fatalf("unexpected frame %v", &p)
	case <-time.After(d):
	}
}

func (r *rawPeer) send(t testing.TB, p *Packet) {
	t.Helper()
	b, err := p.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.port.WriteFrame(b); err != nil {
		t.Fatal(err)
	}
}

// discovery builds a discovery packet.
func discovery(dst, src MAC, code Code, sid uint16, tags ...Tag) *Packet {
	return &Packet{
		Ethernet:  Ethernet{Dst: dst, Src: src, EtherType: EtherTypeDiscovery},
		Code:      code,
		SessionID: sid,
		Tags:      tags,
	}
}

func tagStr(t TagType, v string) Tag { return Tag{Type: t, Value: []byte(v)} }

// eventLog collects events for assertions and for the log of a failed test.
type eventLog struct {
	mu  sync.Mutex
	evs []Event
}

func (l *eventLog) add(e Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.evs = append(l.evs, e)
}

func (l *eventLog) kinds() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var s []string
	for _, e := range l.evs {
		s = append(s, e.Kind.String())
	}
	return strings.Join(s, ",")
}

func (l *eventLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var sb strings.Builder
	for _, e := range l.evs {
		fmt.Fprintln(&sb, e)
	}
	return sb.String()
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func waitDone(t testing.TB, s *Session) error {
	t.Helper()
	select {
	case <-s.Done():
		return s.Err()
	case <-time.After(5 * time.Second):
		t.Fatalf("session %#04x did not end", s.ID())
	}
	return nil
}
