package link

import (
	"errors"
	"io"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Handler is offered every frame a Port reads. It runs on the Port's reader
// goroutine, must not block and must not keep frame after it returns (copy
// it, e.g. into an Inbox). It reports whether the frame was for it; frames no
// handler accepts are counted in PortStats.Unmatched.
type Handler func(frame []byte) (accepted bool)

// Port is the one reader of a Link. Its goroutine reads each frame once and
// offers it to the Handlers subscribed to its destination MAC
// (SubscribeDst), then to every Handler subscribed to all frames
// (Subscribe), each group in subscription order, without starting a
// goroutine per frame. Writers share the Link through Port.WriteFrame.
type Port struct {
	l      Link
	subs   atomic.Pointer[[]*Subscription] // copy-on-write; the reader never locks
	mu     sync.Mutex                      // serialises changes to subs, guards down and err
	done   chan struct{}                   // closed when the reader returns
	closed atomic.Bool
	down   bool  // the reader has stopped and run the OnDown hooks
	err    error // why the reader stopped, if not Close

	// byDst indexes the SubscribeDst handlers by destination MAC, so a
	// frame for one of 10,000 emulated hosts costs one map lookup, not
	// 10,000 handler calls. Its slices are replaced, never changed in
	// place; nDst lets a port without such handlers skip the lock.
	dstMu sync.RWMutex
	byDst map[[6]byte][]*Subscription
	nDst  atomic.Int64

	unmatched  atomic.Uint64
	readErrors atomic.Uint64

	// Owned by the reader goroutine: the hooks handlers asked for with
	// AtBatchEnd, and the handler dispatch as one func value.
	atEnd    []func()
	dispatch func(frame []byte)
	// batch is the Link's batched sending, if it has it.
	batch BatchWriter
	// tap, if set, sees every frame read and sent (SetTap).
	tap atomic.Pointer[Tap]
}

// Subscription is one Handler registered with a Port.
type Subscription struct {
	p      *Port
	h      Handler
	onDown func() // guarded by p.mu
	keyed  bool   // registered under dst by SubscribeDst
	dst    [6]byte
}

// maxReadErrors is how many ReadFrame errors in a row (10 ms apart) make
// the Port give up on its Link: an interface that was removed fails every
// read, and its users must hear that it is gone.
const maxReadErrors = 100

// PortStats are a Port's counters: those of its Link plus demultiplexing.
type PortStats struct {
	Link        Stats
	Unmatched   uint64 // frames read that no handler accepted
	ReadErrors  uint64 // ReadFrame errors other than ErrClosed
	Subscribers int
}

// NewPort starts the reader goroutine of l. The Port owns l from now on:
// Port.Close closes it.
func NewPort(l Link) *Port {
	p := &Port{l: l, done: make(chan struct{}), byDst: make(map[[6]byte][]*Subscription)}
	p.subs.Store(new([]*Subscription))
	p.dispatch = p.offer
	p.batch, _ = l.(BatchWriter)
	go p.read()
	return p
}

func (p *Port) read() {
	defer p.stop()
	br, batched := p.l.(BatchReader)
	var buf []byte
	if !batched {
		buf = make([]byte, MaxFrameLen(p.l.MTU())+64)
	}
	failures := 0
	for {
		var n int
		var err error
		if batched {
			err = br.ReadFrames(p.dispatch)
		} else if n, err = p.l.ReadFrame(buf); err == nil {
			p.offer(buf[:n])
		}
		p.endBatch()
		if err != nil {
			if errors.Is(err, ErrClosed) {
				return
			}
			p.readErrors.Add(1)
			if errors.Is(err, io.ErrShortBuffer) {
				continue
			}
			if failures++; failures >= maxReadErrors {
				p.mu.Lock()
				p.err = err
				p.mu.Unlock()
				p.closed.Store(true)
				_ = p.l.Close()
				return
			}
			// A failing interface must not spin.
			time.Sleep(10 * time.Millisecond)
			continue
		}
		failures = 0
	}
}

// offer hands one frame to the handlers subscribed to it.
func (p *Port) offer(frame []byte) {
	p.tapped(Received, frame)
	accepted := false
	if len(frame) >= 6 && p.nDst.Load() > 0 {
		p.dstMu.RLock()
		keyed := p.byDst[[6]byte(frame[:6])]
		p.dstMu.RUnlock()
		// Called unlocked: a handler may Cancel its subscription.
		for _, s := range keyed {
			if s.h(frame) {
				accepted = true
			}
		}
	}
	for _, s := range *p.subs.Load() {
		if s.h(frame) {
			accepted = true
		}
	}
	if !accepted {
		p.unmatched.Add(1)
	}
}

// AtBatchEnd has fn called once, on the reader goroutine, when the frames
// read together with the current one have all been offered: after a
// batch from a BatchReader, or after this frame on another Link. It is
// how a handler that holds frames back (to write them to a device
// together, say) learns that none are left at hand. Call it only from a
// Handler, at most once per batch for the same purpose; it does not
// allocate once the Port has seen a batch that large.
func (p *Port) AtBatchEnd(fn func()) {
	p.atEnd = append(p.atEnd, fn)
}

func (p *Port) endBatch() {
	for i, fn := range p.atEnd {
		fn()
		p.atEnd[i] = nil
	}
	p.atEnd = p.atEnd[:0]
}

// stop runs when the reader returns: every subscriber's OnDown hook is
// called, then Done is closed.
func (p *Port) stop() {
	p.mu.Lock()
	p.down = true
	var hooks []func()
	for _, s := range *p.subs.Load() {
		if s.onDown != nil {
			hooks = append(hooks, s.onDown)
		}
	}
	p.dstMu.RLock()
	for _, subs := range p.byDst {
		for _, s := range subs {
			if s.onDown != nil {
				hooks = append(hooks, s.onDown)
			}
		}
	}
	p.dstMu.RUnlock()
	p.mu.Unlock()
	for _, fn := range hooks {
		fn()
	}
	close(p.done)
}

// OnDown sets fn to be called once, on the reader goroutine, when the Port
// stops reading (Close, or a Link that failed), unless the subscription was
// cancelled before. If the Port has already stopped, fn runs at once. It
// lets a state machine without a goroutine of its own hear that its link is
// gone.
func (s *Subscription) OnDown(fn func()) *Subscription {
	p := s.p
	p.mu.Lock()
	if p.down {
		p.mu.Unlock()
		fn()
		return s
	}
	s.onDown = fn
	p.mu.Unlock()
	return s
}

// Subscribe registers h for every frame read from now on.
func (p *Port) Subscribe(h Handler) *Subscription {
	s := &Subscription{p: p, h: h}
	p.mu.Lock()
	defer p.mu.Unlock()
	old := *p.subs.Load()
	next := make([]*Subscription, len(old), len(old)+1)
	copy(next, old)
	next = append(next, s)
	p.subs.Store(&next)
	return s
}

// SubscribeDst registers h for every frame read from now on whose
// destination MAC is dst, and only those. It is Subscribe for a handler
// that would reject every other frame anyway (a PPPoE client, whose
// discovery replies and session frames are all unicast to it), at the cost
// of one map lookup per frame however many such handlers there are.
func (p *Port) SubscribeDst(dst [6]byte, h Handler) *Subscription {
	s := &Subscription{p: p, h: h, keyed: true, dst: dst}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.dstMu.Lock()
	defer p.dstMu.Unlock()
	old := p.byDst[dst]
	p.byDst[dst] = append(old[:len(old):len(old)], s)
	p.nDst.Add(1)
	return s
}

// Cancel removes the subscription. It may be called from inside its own
// Handler and more than once. Once Cancel returns, the reader may still be
// running the handler for the current frame, but not for later ones.
func (s *Subscription) Cancel() {
	p := s.p
	p.mu.Lock()
	defer p.mu.Unlock()
	s.onDown = nil
	if s.keyed {
		p.dstMu.Lock()
		defer p.dstMu.Unlock()
		old := p.byDst[s.dst]
		i := slices.Index(old, s)
		if i < 0 {
			return
		}
		if len(old) == 1 {
			delete(p.byDst, s.dst)
		} else {
			p.byDst[s.dst] = slices.Delete(slices.Clone(old), i, i+1)
		}
		p.nDst.Add(-1)
		return
	}
	old := *p.subs.Load()
	next := make([]*Subscription, 0, len(old))
	for _, o := range old {
		if o != s {
			next = append(next, o)
		}
	}
	p.subs.Store(&next)
}

// WriteFrame sends one frame on the Port's Link. It is safe for concurrent
// use.
func (p *Port) WriteFrame(b []byte) error {
	if p.closed.Load() {
		return ErrClosed
	}
	// Tapped before it leaves, as a sniffer on the wire would see it:
	// the answer to it may be read before WriteFrame returns.
	p.tapped(Sent, b)
	return p.l.WriteFrame(b)
}

// QueueFrame sends b, or, on a Link that sends in batches (BatchWriter),
// queues a copy of it for the next Flush: a writer with several frames at
// hand queues them all and flushes once. Without batching it is
// WriteFrame. It is safe for concurrent use and does not keep b.
func (p *Port) QueueFrame(b []byte) error {
	if p.closed.Load() {
		return ErrClosed
	}
	p.tapped(Sent, b)
	if p.batch == nil {
		return p.l.WriteFrame(b)
	}
	return p.batch.QueueFrame(b)
}

// Flush sends the frames QueueFrame queued, if the Link queues them.
func (p *Port) Flush() error {
	if p.batch == nil || p.closed.Load() {
		return nil
	}
	return p.batch.Flush()
}

// Name returns the name of the Link.
func (p *Port) Name() string { return p.l.Name() }

// HardwareAddr returns the MAC address of the Link.
func (p *Port) HardwareAddr() net.HardwareAddr { return p.l.HardwareAddr() }

// MTU returns the MTU of the Link.
func (p *Port) MTU() int { return p.l.MTU() }

// Link returns the Link the Port reads.
func (p *Port) Link() Link { return p.l }

// Done is closed when the reader goroutine has stopped, after Close or when
// the Link closed underneath.
func (p *Port) Done() <-chan struct{} { return p.done }

// Err returns why the reader stopped on its own (the Link kept failing), or
// nil.
func (p *Port) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// Stats returns the Port's counters.
func (p *Port) Stats() PortStats {
	return PortStats{
		Link:        p.l.Stats(),
		Unmatched:   p.unmatched.Load(),
		ReadErrors:  p.readErrors.Load(),
		Subscribers: len(*p.subs.Load()) + int(p.nDst.Load()),
	}
}

// Close closes the Link and waits for the reader goroutine to return.
func (p *Port) Close() error {
	if p.closed.Swap(true) {
		<-p.done
		return nil
	}
	err := p.l.Close()
	<-p.done
	return err
}
