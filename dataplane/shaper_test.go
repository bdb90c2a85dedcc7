package dataplane

import (
	"sync/atomic"
	"testing"
	"time"
)

// flood offers 1000-byte packets to b as fast as it takes them, from one
// goroutine (as a session's reader would), until stop; the bytes that
// passed at once or left the queue are counted in sent.
func flood(b *bucket, sent *atomic.Uint64, stop <-chan struct{}) {
	pkt := make([]byte, 1000)
	for {
		select {
		case <-stop:
			return
		default:
		}
		for {
			v := b.offer(pkt, len(pkt))
			if v == pass {
				sent.Add(uint64(len(pkt)))
			}
			if v == dropped {
				break
			}
		}
		time.Sleep(200 * time.Microsecond)
	}
}

func newTestBucket(d Direction) (*bucket, *atomic.Uint64) {
	var sent atomic.Uint64
	b := newBucket(0, func(p []byte) { sent.Add(uint64(len(p))) }, func() {})
	b.configure(d)
	return b, &sent
}

// rateOver measures the bits/s sent between two instants after start.
func rateOver(sent *atomic.Uint64, start time.Time, from, to time.Duration) float64 {
	time.Sleep(time.Until(start.Add(from)))
	a := sent.Load()
	time.Sleep(time.Until(start.Add(to)))
	return float64(sent.Load()-a) * 8 / (to - from).Seconds()
}

func within(got, want, tol float64) bool { return got >= want*(1-tol) && got <= want*(1+tol) }

// A flooded bucket sends at its rate, its queue bounded and its drops
// counted.
func TestShaperRate(t *testing.T) {
	b, sent := newTestBucket(Direction{Rate: 10e6, BurstTime: time.Second})
	stop := make(chan struct{})
	defer close(stop)
	start := time.Now()
	go flood(b, sent, stop)
	if got := rateOver(sent, start, 200*time.Millisecond, 1200*time.Millisecond); !within(got, 10e6, 0.1) {
		t.Errorf("shaped to 10M: sent %.2f Mbit/s", got/1e6)
	}
	st := b.stats()
	if st.Dropped == 0 || st.QueuedPackets > queueSlots {
		t.Errorf("flooded: %d dropped, %d queued (at most %d)", st.Dropped, st.QueuedPackets, queueSlots)
	}
}

// Burst as RouterOS does it: a quiet bucket starts at the burst rate and
// falls back to its rate once the average over burst-time reaches the
// threshold (here after 1 s × 8M/20M = 0.4 s).
func TestShaperBurst(t *testing.T) {
	b, sent := newTestBucket(Direction{Rate: 10e6, BurstRate: 20e6, BurstThreshold: 8e6, BurstTime: time.Second})
	stop := make(chan struct{})
	defer close(stop)
	start := time.Now()
	go flood(b, sent, stop)
	burst := rateOver(sent, start, 50*time.Millisecond, 300*time.Millisecond)
	settled := rateOver(sent, start, time.Second, 2*time.Second)
	if !within(burst, 20e6, 0.1) || !within(settled, 10e6, 0.1) {
		t.Errorf("burst %.2f Mbit/s (want 20), then %.2f (want 10)", burst/1e6, settled/1e6)
	}
}

// A changed limit applies to the next packet; a zero rate lets the queue
// go at once.
func TestShaperReconfigure(t *testing.T) {
	b, sent := newTestBucket(Direction{Rate: 1e6, BurstTime: time.Second})
	stop := make(chan struct{})
	start := time.Now()
	go flood(b, sent, stop)
	slow := rateOver(sent, start, 100*time.Millisecond, 500*time.Millisecond)
	b.configure(Direction{Rate: 5e6, BurstTime: time.Second})
	fast := rateOver(sent, start, 600*time.Millisecond, 1100*time.Millisecond)
	close(stop)
	if !within(slow, 1e6, 0.1) || !within(fast, 5e6, 0.1) {
		t.Errorf("1M then 5M: sent %.2f then %.2f Mbit/s", slow/1e6, fast/1e6)
	}
	b.configure(Direction{})
	time.Sleep(50 * time.Millisecond)
	if st := b.stats(); st.QueuedPackets != 0 {
		t.Errorf("%d packets still queued without a limit", st.QueuedPackets)
	}
}

// Shaping allocates nothing per packet, whether a packet passes, waits in
// the queue or is dropped, counted across every goroutine (the
// scheduler's too).
func TestShaperZeroAllocs(t *testing.T) {
	for _, rate := range []uint64{10e9, 1e6} {
		b, _ := newTestBucket(Direction{Rate: rate, BurstRate: 2 * rate, BurstThreshold: rate / 2, BurstTime: time.Second})
		pkt := make([]byte, 1400)
		for range 2 * queueSlots { // warm up: the queue's slots
			b.offer(pkt, len(pkt))
		}
		if n := testing.AllocsPerRun(2000, func() { b.offer(pkt, len(pkt)) }); n != 0 {
			t.Errorf("rate %s: %.2f allocations per packet, want 0", FormatRate(rate), n)
		}
	}
}

// A byte quota is called once, on the packet that uses it up: limit-bytes-out
// counts what the host sends the peer (the replies), limit-bytes-in what
// the peer sends (the requests).
func TestQuota(t *testing.T) {
	for _, out := range []bool{false, true} {
		e := newEchoBench(t, false)
		e.roundTrip(t) // 84 bytes each way before the quota: not counted
		var fired atomic.Int32
		var which atomic.Bool
		in, outQ := uint64(500), uint64(0)
		if out {
			in, outQ = 0, 500
		}
		e.ifc.SetQuota(in, outQ, func(o bool) { fired.Add(1); which.Store(o) })
		for k := 1; k <= 10; k++ {
			e.roundTrip(t)
			// 84-byte packets: the 6th crosses 500.
			if want := int32(0); k >= 6 {
				want = 1
				// The reader counts a reply's bytes after the SendFunc
				// saw it: give it a moment.
				for deadline := time.Now().Add(time.Second); fired.Load() == 0 && time.Now().Before(deadline); {
					time.Sleep(time.Millisecond)
				}
				if fired.Load() != want || which.Load() != out {
					t.Fatalf("out=%v: after %d packets the quota fired %d times (out=%v), want once", out, k, fired.Load(), which.Load())
				}
			} else if fired.Load() != want {
				t.Fatalf("out=%v: quota fired after %d packets of 84 bytes", out, k)
			}
		}
	}
}
