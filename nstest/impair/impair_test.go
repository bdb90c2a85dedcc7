package impair_test

import (
	"encoding/binary"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"rosh/link"
	"rosh/nstest"
	"rosh/nstest/impair"
)

// end is one side of the relay as the test sees it: a packet link in the
// side's namespace and what it has received.
type end struct {
	l    link.Link
	mu   sync.Mutex
	got  map[uint32]time.Duration // sequence number → one-way latency
	done chan struct{}
}

func openEnd(t *testing.T, ns, ifname string) *end {
	t.Helper()
	var l link.Link
	if err := nstest.InNamespace(ns, func() (err error) { l, err = link.OpenPacket(ifname); return }); err != nil {
		t.Fatal(err)
	}
	e := &end{l: l, got: map[uint32]time.Duration{}, done: make(chan struct{})}
	go func() {
		defer close(e.done)
		buf := make([]byte, 2048)
		for {
			n, err := l.ReadFrame(buf)
			if errors.Is(err, link.ErrClosed) {
				return
			}
			if err != nil || n < 34 || buf[14] != 0x11 {
				continue
			}
			seq := binary.BigEndian.Uint32(buf[22:])
			sent := time.Unix(0, int64(binary.BigEndian.Uint64(buf[26:])))
			e.mu.Lock()
			e.got[seq] = time.Since(sent)
			e.mu.Unlock()
		}
	}()
	t.Cleanup(func() { l.Close(); <-e.done })
	return e
}

// reset forgets what was received.
func (e *end) reset() {
	e.mu.Lock()
	e.got = map[uint32]time.Duration{}
	e.mu.Unlock()
}

func (e *end) received() (n int, latencies []time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, d := range e.got {
		latencies = append(latencies, d)
	}
	slices.Sort(latencies)
	return len(e.got), latencies
}

// send sends n PPPoE session frames from one end to the other, one every
// 100 µs, each carrying its sequence number and the time it left.
func send(t *testing.T, from, to *end, n int) {
	t.Helper()
	frame := make([]byte, 60)
	copy(frame[0:6], to.l.HardwareAddr())
	copy(frame[6:12], from.l.HardwareAddr())
	binary.BigEndian.PutUint16(frame[12:], 0x8864)
	frame[14] = 0x11                               // version 1, type 1
	binary.BigEndian.PutUint16(frame[16:], 0x42)   // session id
	binary.BigEndian.PutUint16(frame[18:], 40)     // payload length
	binary.BigEndian.PutUint16(frame[20:], 0x0021) // PPP protocol: IPv4
	for i := range n {
		binary.BigEndian.PutUint32(frame[22:], uint32(i))
		binary.BigEndian.PutUint64(frame[26:], uint64(time.Now().UnixNano()))
		if err := from.l.WriteFrame(frame); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// settle waits until the relay has nothing in flight: 200 ms past the
// longest delay in use.
func settle(delay time.Duration) { time.Sleep(delay + 200*time.Millisecond) }

// TestRelay checks the relay counts and loses what it is told to, holds
// frames as long as it is told to, each direction on its own, and takes
// new settings while it runs.
func TestRelay(t *testing.T) {
	pair := nstest.NewPair(t, nstest.Impaired())
	ac := openEnd(t, pair.AC, pair.ACIf)
	cl := openEnd(t, pair.Client, pair.ClientIf)
	r := pair.Relay

	before := func() [2]impair.Counters {
		return [2]impair.Counters{r.Counters(impair.ACToClient), r.Counters(impair.ClientToAC)}
	}
	for _, tc := range []struct {
		loss     float64
		n        int
		min, max int // frames that must arrive
	}{
		{loss: 0, n: 500, min: 500, max: 500},
		{loss: 1, n: 500, min: 0, max: 0},
		// Binomial(1000, 0.5): 500 ± 16; ±100 is over six standard
		// deviations, so the test does not flake, yet it fails on a
		// relay that drops everything or nothing.
		{loss: 0.5, n: 1000, min: 400, max: 600},
	} {
		cl.reset()
		c0 := before()
		r.Set(impair.ACToClient, impair.Impairment{Loss: tc.loss})
		send(t, ac, cl, tc.n)
		settle(0)
		got, _ := cl.received()
		c1 := r.Counters(impair.ACToClient)
		dropped := c1.Dropped - c0[0].Dropped
		forwarded := c1.Forwarded - c0[0].Forwarded
		t.Logf("loss %.0f%%: %d of %d frames arrived; relay dropped %d, forwarded %d (other frames included), overflow %d",
			100*tc.loss, got, tc.n, dropped, forwarded, c1.Overflow)
		if got < tc.min || got > tc.max {
			t.Errorf("loss %.0f%%: %d of %d frames arrived, want %d..%d", 100*tc.loss, got, tc.n, tc.min, tc.max)
		}
		// Every frame the relay let through arrived, every other it
		// counted as dropped (the kernel's own frames, IPv6 neighbour
		// discovery, pass too: at least).
		if forwarded < uint64(got) || dropped < uint64(tc.n-got) {
			t.Errorf("loss %.0f%%: relay counted %d forwarded, %d dropped; %d of %d arrived", 100*tc.loss, forwarded, dropped, got, tc.n)
		}
		if c1.Received-c0[0].Received != dropped+forwarded {
			t.Errorf("loss %.0f%%: received %d != dropped %d + forwarded %d", 100*tc.loss, c1.Received-c0[0].Received, dropped, forwarded)
		}
		if c1.Overflow != 0 {
			t.Errorf("relay overflowed %d frames", c1.Overflow)
		}
	}

	// Delay: 50 ms towards the client, none back, at the same time.
	const delay = 50 * time.Millisecond
	r.Set(impair.ACToClient, impair.Impairment{Delay: delay})
	r.Set(impair.ClientToAC, impair.Impairment{})
	cl.reset()
	ac.reset()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); send(t, cl, ac, 200) }()
	send(t, ac, cl, 200)
	wg.Wait()
	settle(delay)
	nDown, down := cl.received()
	nUp, up := ac.received()
	if nDown != 200 || nUp != 200 {
		t.Fatalf("with delay only, %d and %d of 200 frames arrived", nDown, nUp)
	}
	t.Logf("delay 50 ms ac->client: min %v median %v max %v; client->ac: min %v median %v max %v",
		down[0], down[100], down[199], up[0], up[100], up[199])
	if down[0] < delay || down[100] > delay+15*time.Millisecond {
		t.Errorf("ac->client latency min %v median %v, want >= %v and about it", down[0], down[100], delay)
	}
	if up[100] > 10*time.Millisecond {
		t.Errorf("client->ac latency median %v, want the undelayed direction fast", up[100])
	}
	// Order is kept: frames held by the delay leave as they came.
	cl.mu.Lock()
	for seq := range uint32(199) {
		if cl.got[seq] > cl.got[seq+1]+delay {
			t.Errorf("frame %d left after frame %d", seq, seq+1)
		}
	}
	cl.mu.Unlock()

	// Changed while running: the delay goes, the frames flow at once.
	r.Set(impair.ACToClient, impair.Impairment{})
	cl.reset()
	send(t, ac, cl, 100)
	settle(0)
	if n, lat := cl.received(); n != 100 || lat[50] > 10*time.Millisecond {
		t.Errorf("after clearing the delay: %d of 100 frames, median %v", n, lat[min(50, len(lat)-1)])
	}
}
