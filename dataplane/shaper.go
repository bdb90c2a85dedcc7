package dataplane

import (
	"sync"
	"sync/atomic"
	"time"
)

// Shaping (SetRateLimit). Each limited direction of a session is a token
// bucket in front of a bounded FIFO:
//
//   - Tokens are bits, earned at the direction's rate and held up to
//     bucketDepth worth of it (at least minDepth bytes), RouterOS's
//     bucket-size: enough to ride out a late wake-up of the scheduler on
//     a busy machine without losing rate, little enough that a link idle
//     for a while gets no more than a blink of line rate.
//   - A packet that finds the queue empty and enough tokens passes at
//     once, on the caller's goroutine. Otherwise it is copied into the
//     queue (queueSlots packets) or, the queue being full, dropped and
//     counted: shaping, not policing, but with a bound.
//   - Queued packets leave from one scheduler goroutine shared by every
//     session (a heap of buckets by the time their head packet's tokens
//     are due), so a limited session costs no goroutine of its own, and
//     an unlimited one not even the check: Interface.limits is nil.
//
// Burst, as RouterOS does it: the average rate over BurstTime is kept in
// 16 slots of BurstTime/16; while it is below BurstThreshold the bucket
// earns tokens at BurstRate, otherwise at Rate. A session that was quiet
// thus starts at BurstRate and, sending flat out, falls back to Rate once
// the average reaches the threshold (after BurstTime × threshold /
// burst-rate), and may burst again when its average drops below it.

const (
	// queueSlots is how many packets a shaped direction holds while they
	// wait for tokens. RouterOS's default-small queue holds 10; TCP at
	// tens of Mbit/s keeps the rate with more room, and a host's TSO
	// burst (up to 44 segments) fits.
	queueSlots = 64
	// slotSize is a queue slot's first allocation: a full-size packet and
	// the session's headroom. A bigger packet (baby jumbo frames) grows
	// its slot once.
	slotSize = 2048
	// bucketDepth is how much time's worth of tokens the bucket holds:
	// RouterOS's default bucket-size of 0.1 (of a second at the rate).
	bucketDepth = 100 * time.Millisecond
	// minDepth is the least a bucket holds, in bytes: two full packets,
	// so that a slow rate still passes a full-size one.
	minDepth   = 3000
	burstSlots = 16
)

// epoch is the origin of the shaper's monotonic clock.
var epoch = time.Now()

func nanotime() int64 { return int64(time.Since(epoch)) }

// QueueStats are one direction's shaping counters.
type QueueStats struct {
	Bytes, Packets, Dropped    uint64 // passed and dropped
	QueuedPackets, QueuedBytes uint64 // waiting now
	Rate                       uint64 // bits/s in force now (burst or not)
	Bursting                   bool
}

// ShaperStats are a limited session's queue, both ways: Rx what the
// subscriber sent, Tx what it receives.
type ShaperStats struct{ Rx, Tx QueueStats }

// bucket shapes one direction.
type bucket struct {
	mu sync.Mutex
	d  Direction
	// tokens are in bits × 10⁹ (rate in bit/s × nanoseconds), so that
	// refills need no division.
	tokens int64
	last   int64
	// The burst average: bytes sent in each of the last 16 slots of
	// BurstTime/16, their sum, and the current slot.
	win       [burstSlots]uint64
	winSum    uint64
	winIdx    int
	slotStart int64

	q          [queueSlots][]byte
	head, n    int
	queuedB    int
	sink       func([]byte) // sends one packet on
	flush      func()       // ends a batch of sink calls
	hdr        int          // bytes before the counted ones in a buffer
	scheduled  bool
	due        int64
	heapIdx    int
	sched      *scheduler
	bytes, pkt atomic.Uint64
	drops      atomic.Uint64
}

func newBucket(hdr int, sink func([]byte), flush func()) *bucket {
	return &bucket{hdr: hdr, sink: sink, flush: flush, heapIdx: -1, sched: shaping}
}

// configure sets the direction's limit. The burst average starts afresh
// and the bucket full, as a new queue would; queued packets are released
// by the new rate.
func (b *bucket) configure(d Direction, now int64) {
	b.mu.Lock()
	b.d = d
	b.win, b.winSum, b.winIdx, b.slotStart = [burstSlots]uint64{}, 0, 0, now
	b.last = now
	b.tokens = b.depth(b.rateAt())
	if b.n > 0 {
		b.schedule(now)
	}
	b.mu.Unlock()
}

// rateAt is the rate in force: BurstRate while the average over BurstTime
// is below BurstThreshold, else Rate (0: unlimited).
func (b *bucket) rateAt() uint64 {
	if b.d.Bursts() && b.average() < b.d.BurstThreshold {
		return b.d.BurstRate
	}
	return b.d.Rate
}

// average is the rate of the last BurstTime in bits/s.
func (b *bucket) average() uint64 {
	return uint64(float64(b.winSum) * 8 / b.d.BurstTime.Seconds())
}

// depth is the most tokens the bucket holds at rate.
func (b *bucket) depth(rate uint64) int64 {
	return max(int64(rate)*int64(bucketDepth), minDepth*8*1e9)
}

// refill credits the tokens earned since the last refill, up to the
// bucket's depth (rate > 0). The time is compared before it is multiplied:
// an hour's idle at 40G does not overflow.
func (b *bucket) refill(now int64, rate uint64) {
	el := now - b.last
	b.last = now
	if el <= 0 {
		return
	}
	d := b.depth(rate)
	if b.tokens >= d || el >= (d-b.tokens)/int64(rate) {
		b.tokens = d
		return
	}
	b.tokens += el * int64(rate)
}

// account adds n bytes sent at now to the burst average.
func (b *bucket) account(now int64, n int) {
	b.bytes.Add(uint64(n))
	b.pkt.Add(1)
	if !b.d.Bursts() {
		return
	}
	slot := int64(b.d.BurstTime) / burstSlots
	if now-b.slotStart >= slot*burstSlots {
		b.win, b.winSum = [burstSlots]uint64{}, 0
		b.slotStart = now
	}
	for now-b.slotStart >= slot {
		b.winIdx = (b.winIdx + 1) % burstSlots
		b.winSum -= b.win[b.winIdx]
		b.win[b.winIdx] = 0
		b.slotStart += slot
	}
	b.win[b.winIdx] += uint64(n)
	b.winSum += uint64(n)
}

func cost(n int) int64 { return int64(n) * 8 * 1e9 }

// verdicts of offer
const (
	pass = iota
	queued
	dropped
)

// offer decides one packet (n bytes counted against the limit, the whole
// buffer pkt kept when queued): pass (the caller sends it now), queued
// (copied; the scheduler sends it) or dropped.
func (b *bucket) offer(pkt []byte, n int, now int64) int {
	b.mu.Lock()
	rate := b.rateAt()
	if b.n == 0 {
		if rate == 0 {
			b.account(now, n)
			b.mu.Unlock()
			return pass
		}
		b.refill(now, rate)
		if c := cost(n); b.tokens >= c {
			b.tokens -= c
			b.account(now, n)
			b.mu.Unlock()
			return pass
		}
	}
	if b.n == queueSlots {
		b.mu.Unlock()
		b.drops.Add(1)
		return dropped
	}
	k := (b.head + b.n) % queueSlots
	if b.q[k] == nil {
		b.q[k] = make([]byte, 0, max(slotSize, len(pkt)))
	}
	b.q[k] = append(b.q[k][:0], pkt...)
	b.n++
	b.queuedB += n
	if !b.scheduled {
		b.schedule(now)
	}
	b.mu.Unlock()
	return queued
}

// release sends the queued packets whose tokens are there, on the
// scheduler's goroutine, and schedules the bucket again if some are left.
func (b *bucket) release(now int64) {
	b.mu.Lock()
	b.scheduled = false
	sent := false
	for b.n > 0 {
		p := b.q[b.head]
		n := len(p) - b.hdr
		rate := b.rateAt()
		if rate != 0 {
			b.refill(now, rate)
			c := cost(n)
			if b.tokens < c {
				break
			}
			b.tokens -= c
		}
		b.account(now, n)
		b.sink(p)
		sent = true
		b.head = (b.head + 1) % queueSlots
		b.n--
		b.queuedB -= n
	}
	if b.n > 0 {
		b.schedule(now)
	}
	b.mu.Unlock()
	if sent {
		b.flush()
	}
}

// schedule puts the bucket on the scheduler for when its head packet's
// tokens will be there. b.mu is held.
func (b *bucket) schedule(now int64) {
	due := now
	if rate := b.rateAt(); rate != 0 && b.n > 0 {
		n := len(b.q[b.head]) - b.hdr
		if need := cost(n) - b.tokens; need > 0 {
			due += need/int64(rate) + 1
		}
	}
	b.scheduled = true
	b.sched.add(b, due)
}

func (b *bucket) stats() QueueStats {
	b.mu.Lock()
	defer b.mu.Unlock()
	return QueueStats{
		Bytes: b.bytes.Load(), Packets: b.pkt.Load(), Dropped: b.drops.Load(),
		QueuedPackets: uint64(b.n), QueuedBytes: uint64(b.queuedB),
		Rate: b.rateAt(), Bursting: b.d.Bursts() && b.rateAt() == b.d.BurstRate,
	}
}

// scheduler releases queued packets of every bucket when their tokens
// are due: one goroutine for the process, started with the first queued
// packet.
type scheduler struct {
	once sync.Once
	// manual: no goroutine; a test calls release itself (at the times
	// it plays).
	manual bool
	mu     sync.Mutex
	heap   []*bucket
	ready  []*bucket
	wake   chan struct{}
}

var shaping = &scheduler{wake: make(chan struct{}, 1)}

// add schedules b at due. b.mu is held (lock order: bucket, scheduler).
func (s *scheduler) add(b *bucket, due int64) {
	if !s.manual {
		s.once.Do(func() { go s.run() })
	}
	s.mu.Lock()
	b.due = due
	if b.heapIdx >= 0 {
		s.fix(b.heapIdx)
	} else {
		b.heapIdx = len(s.heap)
		s.heap = append(s.heap, b)
		s.up(b.heapIdx)
	}
	first := s.heap[0] == b
	s.mu.Unlock()
	if first {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

func (s *scheduler) run() {
	t := time.NewTimer(time.Hour)
	for {
		s.mu.Lock()
		now := nanotime()
		s.ready = s.ready[:0]
		for len(s.heap) > 0 && s.heap[0].due <= now {
			s.ready = append(s.ready, s.pop())
		}
		wait := time.Hour
		if len(s.heap) > 0 {
			wait = time.Duration(s.heap[0].due - now)
		}
		ready := s.ready
		s.mu.Unlock()
		if len(ready) > 0 {
			for _, b := range ready {
				b.release(nanotime())
			}
			continue
		}
		t.Reset(wait)
		select {
		case <-t.C:
		case <-s.wake:
			t.Stop()
		}
	}
}

// The heap: buckets by due time, each knowing its index.
func (s *scheduler) less(i, j int) bool { return s.heap[i].due < s.heap[j].due }

func (s *scheduler) swap(i, j int) {
	s.heap[i], s.heap[j] = s.heap[j], s.heap[i]
	s.heap[i].heapIdx, s.heap[j].heapIdx = i, j
}

func (s *scheduler) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !s.less(i, p) {
			return
		}
		s.swap(i, p)
		i = p
	}
}

func (s *scheduler) down(i int) {
	for {
		l := 2*i + 1
		if l >= len(s.heap) {
			return
		}
		m := l
		if r := l + 1; r < len(s.heap) && s.less(r, l) {
			m = r
		}
		if !s.less(m, i) {
			return
		}
		s.swap(i, m)
		i = m
	}
}

func (s *scheduler) fix(i int) {
	s.up(i)
	s.down(i)
}

func (s *scheduler) pop() *bucket {
	b := s.heap[0]
	last := len(s.heap) - 1
	s.swap(0, last)
	s.heap[last] = nil
	s.heap = s.heap[:last]
	s.down(0)
	b.heapIdx = -1
	return b
}
