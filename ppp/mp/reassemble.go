package mp

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// Defaults of ReassemblerConfig.
const (
	DefaultWindow      = 2
	DefaultTimeout     = time.Second
	DefaultMaxFragment = 1500
)

// ReassemblerConfig sizes a Reassembler.
type ReassemblerConfig struct {
	// MRRU is the largest packet put back together, counted as RFC 1990
	// §5.1.1 counts it: its Information field, without the two-byte
	// Protocol field in front. A bigger one is dropped and counted as
	// oversize.
	MRRU int
	// Short reads the 12-bit format (we asked for it, RFC 1990 §5.1.2).
	Short bool
	// Window is how many fragments may wait, out of order, for one that
	// is missing. RFC 1990 §4.1's M rule on a single link (M is the last
	// sequence number received) would call the missing one lost at once;
	// the window lets a lower layer that reorders a little — which a
	// sender on one link must not do, but a bridge may — lose nothing.
	// Once a fragment arrives Window or more numbers past the missing
	// one, it is lost. Zero means DefaultWindow, 2: a swap of neighbours
	// costs nothing, and a loss holds up at most the one fragment after
	// it. 1 is the strict M rule; others are rounded up to a power of
	// two.
	Window int
	// Timeout drops a partly reassembled packet, and gives up waiting
	// for missing fragments, when nothing has completed for this long
	// (checked on each Input and on Expire). Zero means DefaultTimeout.
	Timeout time.Duration
	// MaxFragment is the largest fragment data accepted (the link's
	// MRU); a bigger fragment is dropped as oversize. Zero means
	// DefaultMaxFragment.
	MaxFragment int
}

// Stats counts what a Reassembler saw.
type Stats struct {
	Fragments uint64 // fragments received (all, good or not)
	Packets   uint64 // packets delivered
	Lost      uint64 // fragments given up for lost (M rule, window, timeout)
	Discarded uint64 // incomplete packets dropped, and fragments whose start was lost
	Stale     uint64 // fragments numbered before what is awaited: late or repeated
	Duplicate uint64 // fragments already waiting in the window
	Oversize  uint64 // fragments or packets larger than allowed
	Malformed uint64 // fragments shorter than the header
}

// Reassembler puts fragments back into packets (RFC 1990 §4). Memory is
// bounded: one MRRU-sized buffer for the packet being reassembled and
// Window fragment buffers for fragments that arrived ahead of a missing
// one, each made on first use and kept. Not safe for concurrent use but
// for Stats.
type Reassembler struct {
	cfg     ReassemblerConfig
	deliver func(pkt []byte)

	started bool
	next    uint32 // the sequence number awaited
	// asm is the packet being reassembled, while active: from its B
	// fragment up to the fragment before next.
	asm    []byte
	active bool
	// progress is when next last moved, or the reassembler started.
	progress time.Time

	slots   []slot // fragments ahead of next, at seq % Window
	pending int

	stats struct {
		fragments, packets, lost, discarded, stale, duplicate, oversize, malformed atomic.Uint64
	}
}

type slot struct {
	used       bool
	begin, end bool
	seq        uint32
	data       []byte
}

// NewReassembler returns a reassembler that hands each whole packet to
// deliver — the PPP Protocol field, then the Information field — on the
// caller's goroutine, valid only during the call.
func NewReassembler(cfg ReassemblerConfig, deliver func(pkt []byte)) *Reassembler {
	if cfg.Window <= 0 {
		cfg.Window = DefaultWindow
	}
	if max := int(seqMask(cfg.Short)+1) / 2; cfg.Window > max {
		cfg.Window = max
	}
	// A power of two divides the sequence space, so that the slots of
	// the numbers in any window are distinct across a wrap.
	cfg.Window = 1 << bits.Len(uint(cfg.Window-1))
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxFragment <= 0 {
		cfg.MaxFragment = DefaultMaxFragment
	}
	if cfg.MRRU <= 0 {
		cfg.MRRU = DefaultMaxFragment
	}
	return &Reassembler{cfg: cfg, deliver: deliver, slots: make([]slot, cfg.Window)}
}

// Stats returns the counters; safe from any goroutine.
func (r *Reassembler) Stats() Stats {
	s := &r.stats
	return Stats{
		Fragments: s.fragments.Load(), Packets: s.packets.Load(), Lost: s.lost.Load(),
		Discarded: s.discarded.Load(), Stale: s.stale.Load(), Duplicate: s.duplicate.Load(),
		Oversize: s.oversize.Load(), Malformed: s.malformed.Load(),
	}
}

// Input takes one fragment: what follows the 0x003d Protocol field. It
// never keeps b; whole packets go to deliver before it returns.
func (r *Reassembler) Input(b []byte, now time.Time) {
	r.stats.fragments.Add(1)
	f, err := Parse(b, r.cfg.Short)
	if err != nil {
		r.stats.malformed.Add(1)
		return
	}
	if len(f.Data) > r.cfg.MaxFragment {
		// Its packet cannot be completed; the gap it leaves is found
		// like a lost fragment's.
		r.stats.oversize.Add(1)
		return
	}
	if !r.started {
		r.started, r.next, r.progress = true, f.Seq, now
	}
	r.Expire(now)
	d := seqDiff(f.Seq, r.next, r.cfg.Short)
	w := int32(r.cfg.Window)
	switch {
	case d < 0:
		r.stats.stale.Add(1)
		return
	case d == 0:
		if r.pending == 0 && !r.active && f.Begin && f.End {
			// A whole packet in one fragment, in order: no copy.
			r.next = (r.next + 1) & seqMask(r.cfg.Short)
			r.progress = now
			r.emit(f.Data)
			return
		}
		r.take(f.Begin, f.End, f.Data, now)
		r.drain(now)
		return
	case d >= w:
		// RFC 1990 §4.1: fragments numbered below what just arrived,
		// less the window, are not coming — the M rule.
		for r.pending > 0 && seqDiff(f.Seq, r.next, r.cfg.Short) >= w {
			r.skip(now)
			r.drain(now)
		}
		if seqDiff(f.Seq, r.next, r.cfg.Short) >= w {
			// Nothing waits: jump to the new fragment, and what was
			// being reassembled is lost with the numbers skipped.
			r.stats.lost.Add(uint64(seqDiff(f.Seq, r.next, r.cfg.Short)))
			r.drop()
			r.next = f.Seq
		}
		if f.Seq == r.next {
			r.take(f.Begin, f.End, f.Data, now)
			r.drain(now)
			return
		}
	}
	// Ahead of a missing fragment, within the window: wait in a slot.
	s := &r.slots[f.Seq%uint32(len(r.slots))]
	if s.used {
		r.stats.duplicate.Add(1)
		return
	}
	if s.data == nil {
		s.data = make([]byte, 0, r.cfg.MaxFragment)
	}
	s.used, s.begin, s.end, s.seq = true, f.Begin, f.End, f.Seq
	s.data = append(s.data[:0], f.Data...)
	r.pending++
}

// Expire gives up on what has waited longer than the timeout: missing
// fragments are lost, the fragments behind them are taken as far as they
// go, and a packet still incomplete is dropped. Input calls it; an owner
// with a timer may too, to free nothing but state — the buffers stay.
func (r *Reassembler) Expire(now time.Time) {
	if (!r.active && r.pending == 0) || now.Sub(r.progress) < r.cfg.Timeout {
		return
	}
	for r.pending > 0 {
		r.skip(now)
		r.drain(now)
	}
	r.drop()
	r.progress = now
}

// take consumes the fragment numbered next.
func (r *Reassembler) take(begin, end bool, data []byte, now time.Time) {
	r.next = (r.next + 1) & seqMask(r.cfg.Short)
	r.progress = now
	if begin {
		r.drop() // a packet without its E fragment: lost
		if r.asm == nil {
			r.asm = make([]byte, 0, r.cfg.MRRU+2)
		}
		r.asm, r.active = r.asm[:0], true
	} else if !r.active {
		// The packet's start was lost or dropped.
		r.stats.discarded.Add(1)
		return
	}
	if len(r.asm)+len(data) > r.cfg.MRRU+2 {
		r.stats.oversize.Add(1)
		r.drop()
		return
	}
	r.asm = append(r.asm, data...)
	if end {
		r.active = false
		r.emit(r.asm)
	}
}

// skip gives the fragment numbered next up for lost, or takes it if it is
// waiting.
func (r *Reassembler) skip(now time.Time) {
	if s := &r.slots[r.next%uint32(len(r.slots))]; s.used && s.seq == r.next {
		s.used = false
		r.pending--
		r.take(s.begin, s.end, s.data, now)
		return
	}
	r.stats.lost.Add(1)
	r.drop()
	r.next = (r.next + 1) & seqMask(r.cfg.Short)
}

// drain takes the waiting fragments that follow next without a gap.
func (r *Reassembler) drain(now time.Time) {
	for r.pending > 0 {
		s := &r.slots[r.next%uint32(len(r.slots))]
		if !s.used || s.seq != r.next {
			return
		}
		s.used = false
		r.pending--
		r.take(s.begin, s.end, s.data, now)
	}
}

// drop abandons the packet being reassembled, counting its fragments.
func (r *Reassembler) drop() {
	if r.active {
		r.active = false
		r.stats.discarded.Add(1)
	}
}

func (r *Reassembler) emit(pkt []byte) {
	r.stats.packets.Add(1)
	if r.deliver != nil {
		r.deliver(pkt)
	}
}
