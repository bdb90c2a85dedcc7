package dataplane

import (
	"sync/atomic"
	"testing"
	"time"
)

// sim plays a bucket on a manual scheduler in played time: each tick
// (1 ms) the bucket sends what is due, then, while flooding, the source
// offers 1000-byte packets until the queue drops one.
type sim struct {
	b    *bucket
	s    *scheduler
	now  int64
	sent uint64 // bytes passed at once or sent from the queue
}

const tick = int64(time.Millisecond)

func newSim(d Direction) *sim {
	sm := &sim{s: &scheduler{manual: true}}
	sm.b = newBucket(0, func(p []byte) { sm.sent += uint64(len(p)) }, func() {})
	sm.b.sched = sm.s
	sm.b.configure(d, 0)
	return sm
}

// run plays dur and returns the bits/s sent in it.
func (sm *sim) run(dur time.Duration, flood bool) float64 {
	pkt := make([]byte, 1000)
	from, end := sm.sent, sm.now+int64(dur)
	for sm.now < end {
		sm.now += tick
		for len(sm.s.heap) > 0 && sm.s.heap[0].due <= sm.now {
			sm.s.pop().release(sm.now)
		}
		for flood {
			v := sm.b.offer(pkt, len(pkt), sm.now)
			if v == pass {
				sm.sent += uint64(len(pkt))
			}
			if v == dropped {
				break
			}
		}
	}
	return float64(sm.sent-from) * 8 / dur.Seconds()
}

func within(got, want, tol float64) bool { return got >= want*(1-tol) && got <= want*(1+tol) }

// A flooded bucket sends at its rate, its queue bounded and its drops
// counted.
func TestShaperRate(t *testing.T) {
	for _, rate := range []uint64{64e3, 1e6, 10e6, 20e6, 100e6} {
		sm := newSim(Direction{Rate: rate, BurstTime: time.Second})
		sm.run(time.Second, true) // the first 0.1 s of tokens are a bonus
		if got := sm.run(2*time.Second, true); !within(got, float64(rate), 0.01) {
			t.Errorf("shaped to %s: sent %.0f bit/s", FormatRate(rate), got)
		}
		if st := sm.b.stats(); st.Dropped == 0 || st.QueuedPackets != queueSlots {
			t.Errorf("%s flooded: %d dropped, %d queued, want some and %d", FormatRate(rate), st.Dropped, st.QueuedPackets, queueSlots)
		}
	}
}

// Burst as RouterOS does it: a quiet bucket starts at the burst rate and
// falls back to its rate once the average over burst-time reaches the
// threshold — with the 10M/10M 20M/20M 8M/8M 8/8, after
// 8 s × 8M/20M = 3.2 s — and bursts again once a quiet spell brought the
// average back below the threshold.
func TestShaperBurst(t *testing.T) {
	sm := newSim(Direction{Rate: 10e6, BurstRate: 20e6, BurstThreshold: 8e6, BurstTime: 8 * time.Second})
	sm.run(100*time.Millisecond, true) // the full bucket's bonus
	if got := sm.run(3*time.Second, true); !within(got, 20e6, 0.02) {
		t.Errorf("first 3 s: %.2f Mbit/s, want 20 (burst)", got/1e6)
	}
	sm.run(time.Second, true)
	if got := sm.run(4*time.Second, true); !within(got, 10e6, 0.01) {
		t.Errorf("seconds 4-8: %.2f Mbit/s, want 10", got/1e6)
	}
	sm.run(8*time.Second, false)
	sm.run(100*time.Millisecond, true)
	if got := sm.run(time.Second, true); !within(got, 20e6, 0.02) {
		t.Errorf("after 8 s quiet: %.2f Mbit/s, want 20 (burst again)", got/1e6)
	}
	// Without a burst rate above the rate, no burst.
	sm = newSim(Direction{Rate: 10e6, BurstRate: 5e6, BurstThreshold: 8e6, BurstTime: 8 * time.Second})
	sm.run(100*time.Millisecond, true)
	if got := sm.run(2*time.Second, true); !within(got, 10e6, 0.01) {
		t.Errorf("burst rate below the rate: %.2f Mbit/s, want 10", got/1e6)
	}
}

// A changed limit applies to the next packet; a zero rate lets the queue
// go at once.
func TestShaperReconfigure(t *testing.T) {
	sm := newSim(Direction{Rate: 1e6, BurstTime: time.Second})
	sm.run(time.Second, true)
	slow := sm.run(time.Second, true)
	sm.b.configure(Direction{Rate: 5e6, BurstTime: time.Second}, sm.now)
	sm.run(200*time.Millisecond, true)
	fast := sm.run(time.Second, true)
	if !within(slow, 1e6, 0.01) || !within(fast, 5e6, 0.01) {
		t.Errorf("1M then 5M: sent %.2f then %.2f Mbit/s", slow/1e6, fast/1e6)
	}
	sm.b.configure(Direction{}, sm.now)
	sm.run(time.Millisecond, false)
	if st := sm.b.stats(); st.QueuedPackets != 0 {
		t.Errorf("%d packets still queued without a limit", st.QueuedPackets)
	}
}

// Shaping allocates nothing per packet, whether a packet passes, waits in
// the queue or is dropped, counted across every goroutine (the real
// scheduler's too).
func TestShaperZeroAllocs(t *testing.T) {
	for _, rate := range []uint64{10e9, 1e6} {
		b := newBucket(0, func([]byte) {}, func() {})
		b.configure(Direction{Rate: rate, BurstRate: 2 * rate, BurstThreshold: rate / 2, BurstTime: time.Second}, nanotime())
		pkt := make([]byte, 1400)
		for range 2 * queueSlots { // warm up: the queue's slots
			b.offer(pkt, len(pkt), nanotime())
		}
		if n := testing.AllocsPerRun(2000, func() { b.offer(pkt, len(pkt), nanotime()) }); n != 0 {
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
