//go:build linux

package pppoe

import (
	"bytes"
	"encoding/binary"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// recorder is a Receiver that keeps copies of what it is given and counts
// flushes.
type recorder struct {
	mu      sync.Mutex
	frames  [][]byte
	flushes int
	// pending is how many frames arrived since the last flush.
	pending int
}

func (r *recorder) ReceivePPP(frame []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.frames = append(r.frames, bytes.Clone(frame))
	r.pending++
}

func (r *recorder) FlushPPP() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.flushes++
	r.pending = 0
}

func (r *recorder) state() (n, flushes, pending int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.frames), r.flushes, r.pending
}

// sessionPair dials a client session to an AC on n and returns both ends.
func sessionPair(t *testing.T, n *testNet) (cl, ac *Session) {
	t.Helper()
	up := make(chan *Session, 1)
	startAC(t, n.acPort, ACConfig{OnSession: func(s *Session) { up <- s }}, svcMain)
	c := newClient(t, n.clPort, ClientConfig{ServiceName: "pppoeservice"})
	cl, err := dial(t, c)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	select {
	case ac = <-up:
	case <-time.After(5 * time.Second):
		t.Fatal("AC reported no session")
	}
	return cl, ac
}

// withHeadroom is frame behind FrameHeadroom bytes of room, as QueuePPP
// takes it, with room to pad after it.
func withHeadroom(frame []byte) []byte {
	b := make([]byte, FrameHeadroom+len(frame), FrameHeadroom+max(len(frame), 64))
	copy(b[FrameHeadroom:], frame)
	return b
}

// TestSessionDataPath: frames queued with QueuePPP leave at Flush as
// WritePPP would send them (padded when short), and the receiving side's
// Receiver gets the protocol it asked for, in order, with a FlushPPP after
// the last, while other protocols still arrive on Recv. Over a Pipe and
// over a veth pair with the AF_PACKET link, which batches both ways.
func TestSessionDataPath(t *testing.T) {
	for _, kind := range []struct {
		name string
		net  func(t *testing.T) *testNet
	}{
		{"pipe", func(t *testing.T) *testNet { return newPipeNet(t) }},
		{"veth", func(t *testing.T) *testNet { return newVethNetWith(t, openPacket, true) }},
	} {
		t.Run(kind.name, func(t *testing.T) {
			checkLeaks(t)
			cl, ac := sessionPair(t, kind.net(t))
			var rec recorder
			cl.SetReceiver(0x0021, &rec)

			var sent [][]byte
			for i := range 40 {
				ip := make([]byte, 2+20+i*30) // PPP protocol, then "IPv4"
				binary.BigEndian.PutUint16(ip, 0x0021)
				for k := 2; k < len(ip); k++ {
					ip[k] = byte(i + k)
				}
				sent = append(sent, ip)
				if err := ac.QueuePPP(withHeadroom(ip)); err != nil {
					t.Fatalf("QueuePPP %d: %v", i, err)
				}
			}
			lcp := []byte{0xc0, 0x21, 0x09, 0x01, 0x00, 0x08, 0, 0, 0, 0}
			if err := ac.WritePPP(lcp); err != nil { // sends what is queued first
				t.Fatal(err)
			}
			if err := ac.Flush(); err != nil {
				t.Fatal(err)
			}
			select {
			case got := <-cl.Recv():
				if !bytes.Equal(got, lcp) {
					t.Errorf("Recv got % x, want the LCP frame % x", got, lcp)
				}
				cl.Recycle(got)
			case <-time.After(5 * time.Second):
				t.Fatal("LCP frame not received")
			}
			waitFor(t, "40 IPv4 frames and a flush", func() bool {
				n, flushes, pending := rec.state()
				return n == len(sent) && flushes > 0 && pending == 0
			})
			for i, f := range rec.frames {
				if !bytes.Equal(f, sent[i]) {
					t.Fatalf("frame %d: got % x, want % x", i, f, sent[i])
				}
			}
			if st := cl.Stats(); st.RxFrames != uint64(len(sent))+1 {
				t.Errorf("client counted %d frames received, want %d", st.RxFrames, len(sent)+1)
			}

			// Without the receiver, IPv4 goes to Recv again.
			cl.SetReceiver(0x0021, nil)
			if err := ac.QueuePPP(withHeadroom(sent[3])); err != nil {
				t.Fatal(err)
			}
			ac.Flush()
			select {
			case got := <-cl.Recv():
				if !bytes.Equal(got, sent[3]) {
					t.Errorf("Recv got % x, want % x", got, sent[3])
				}
				cl.Recycle(got)
			case <-time.After(5 * time.Second):
				t.Fatal("IPv4 frame not received on Recv")
			}

			if err := ac.QueuePPP(make([]byte, 3)); err == nil {
				t.Error("QueuePPP without headroom: no error")
			}
			if err := ac.QueuePPP(withHeadroom(make([]byte, ac.MaxMRU()+3))); err == nil {
				t.Error("QueuePPP of MaxMRU+3 bytes: no error")
			}
			ac.Close()
			if err := ac.QueuePPP(withHeadroom(sent[0])); err == nil {
				t.Error("QueuePPP after Close: no error")
			}
		})
	}
}

// TestQueuePPPAllocs: queueing and flushing a frame allocates nothing.
func TestQueuePPPAllocs(t *testing.T) {
	for _, kind := range []struct {
		name string
		net  func(t *testing.T) *testNet
	}{
		{"pipe", func(t *testing.T) *testNet { return newPipeNetCapture(t, false) }},
		{"veth", func(t *testing.T) *testNet { return newVethNetWith(t, openPacket, false) }},
	} {
		t.Run(kind.name, func(t *testing.T) {
			cl, _ := sessionPair(t, kind.net(t))
			buf := withHeadroom(make([]byte, 1400))
			binary.BigEndian.PutUint16(buf[FrameHeadroom:], 0x0021)
			allocs := testing.AllocsPerRun(200, func() {
				for range 8 {
					cl.QueuePPP(buf)
				}
				cl.Flush()
			})
			if allocs != 0 {
				t.Errorf("QueuePPP+Flush: %v allocations, want 0", allocs)
			}
		})
	}
}

// counter is a Receiver that only counts.
type counter struct{ frames, flushes atomic.Int64 }

func (c *counter) ReceivePPP([]byte) { c.frames.Add(1) }
func (c *counter) FlushPPP()         { c.flushes.Add(1) }

// TestReceiverAllocs: frames sent with QueuePPP and handed to a Receiver
// by the port's reader cost no allocation on either side, counted over
// thousands of frames through a veth pair.
func TestReceiverAllocs(t *testing.T) {
	n := newVethNetWith(t, openPacket, false)
	cl, ac := sessionPair(t, n)
	var c counter
	cl.SetReceiver(0x0021, &c)
	buf := withHeadroom(make([]byte, 1400))
	binary.BigEndian.PutUint16(buf[FrameHeadroom:], 0x0021)
	// Bursts of 50 frames, each waited for: the test checks allocations,
	// not whether the reader keeps up with a sender on the same machine.
	send := func(frames int) {
		for range frames / 50 {
			want := c.frames.Load() + 50
			for range 50 {
				ac.QueuePPP(buf)
			}
			ac.Flush()
			for c.frames.Load() < want {
				time.Sleep(50 * time.Microsecond)
			}
		}
	}
	send(1000) // warm up: buffers, batch lists
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	send(5000)
	runtime.ReadMemStats(&after)
	// The runtime allocates a little on its own (timers).
	allocs := after.Mallocs - before.Mallocs
	t.Logf("%d allocations for 5000 frames", allocs)
	if allocs > 100 {
		t.Errorf("%d allocations for 5000 frames, want next to none", allocs)
	}
}
