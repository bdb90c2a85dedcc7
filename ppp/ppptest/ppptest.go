// Package ppptest has what tests of PPP sessions need: a manual clock, so
// that timeouts take no real time, and a capture of the packets exchanged
// that writes a pcap Wireshark opens.
package ppptest

import (
	"encoding/binary"
	"io"
	"slices"
	"sync"
	"time"

	"rosh/ppp"
)

// ManualClock is a ppp.Clock whose time moves only when Advance says so.
// A timer that falls due gets the time on its channel, as a time.Timer
// does; the session that owns it handles the tick on its own goroutine (or
// when a test polls it).
type ManualClock struct {
	mu     sync.Mutex
	now    time.Time
	seq    uint64
	timers []*manualTimer // armed timers
}

// Epoch is where a NewManualClock starts.
var Epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// NewManualClock returns a clock reading Epoch.
func NewManualClock() *ManualClock { return &ManualClock{now: Epoch} }

// Now returns the clock's time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// NewTimer returns a timer that falls due d from now.
func (c *ManualClock) NewTimer(d time.Duration) ppp.Timer {
	t := &manualTimer{c: c, ch: make(chan time.Time, 1)}
	t.Reset(d)
	return t
}

// Advance moves the clock forward by d. Every timer that falls due on the
// way gets its tick, earliest first (a tick not yet taken is not doubled).
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	target := c.now.Add(d)
	for {
		i := c.earliestLocked()
		if i < 0 || c.timers[i].when.After(target) {
			break
		}
		t := c.timers[i]
		c.timers = slices.Delete(c.timers, i, i+1)
		if t.when.After(c.now) {
			c.now = t.when
		}
		select {
		case t.ch <- c.now:
		default:
		}
	}
	c.now = target
}

// NextDeadline returns how long until the earliest armed timer falls due,
// and false if none is armed. Tests step from deadline to deadline with it,
// so that ticks are handled in the order they fall due.
func (c *ManualClock) NextDeadline() (time.Duration, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := c.earliestLocked()
	if i < 0 {
		return 0, false
	}
	return c.timers[i].when.Sub(c.now), true
}

// Pending returns the number of armed timers.
func (c *ManualClock) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

func (c *ManualClock) earliestLocked() int {
	i := -1
	for j, t := range c.timers {
		if i < 0 || t.when.Before(c.timers[i].when) || (t.when.Equal(c.timers[i].when) && t.seq < c.timers[i].seq) {
			i = j
		}
	}
	return i
}

type manualTimer struct {
	c    *ManualClock
	ch   chan time.Time
	when time.Time
	seq  uint64
}

func (t *manualTimer) C() <-chan time.Time { return t.ch }

// Stop disarms the timer and takes back a tick not yet received.
func (t *manualTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	return t.stopLocked()
}

func (t *manualTimer) stopLocked() bool {
	select {
	case <-t.ch:
	default:
	}
	i := slices.Index(t.c.timers, t)
	if i < 0 {
		return false
	}
	t.c.timers = slices.Delete(t.c.timers, i, i+1)
	return true
}

// Reset rearms the timer to fall due d from now.
func (t *manualTimer) Reset(d time.Duration) bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	active := t.stopLocked()
	t.c.seq++
	t.when, t.seq = t.c.now.Add(d), t.c.seq
	t.c.timers = append(t.c.timers, t)
	return active
}

// Capture records PPP packets as they pass, for a pcap to read when a test
// fails. Safe for concurrent use.
type Capture struct {
	mu      sync.Mutex
	packets []packet
}

type packet struct {
	t     time.Time
	out   bool
	proto ppp.Protocol
	b     []byte
}

// Add records one packet: out is true for a packet the capturing side
// sent, false for one it received.
func (c *Capture) Add(t time.Time, out bool, proto ppp.Protocol, b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.packets = append(c.packets, packet{t: t, out: out, proto: proto, b: slices.Clone(b)})
}

// Len returns the number of packets recorded.
func (c *Capture) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.packets)
}

// linkTypePPPWithDir is LINKTYPE_PPP_WITH_DIR: a direction octet (0 in,
// 1 out), then the PPP Protocol field and the Information field.
const linkTypePPPWithDir = 204

// WritePcap writes the packets as a classic pcap file.
func (c *Capture) WritePcap(w io.Writer) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var hdr [24]byte
	binary.LittleEndian.PutUint32(hdr[0:], 0xa1b2c3d4) // magic, microseconds
	binary.LittleEndian.PutUint16(hdr[4:], 2)          // version 2.4
	binary.LittleEndian.PutUint16(hdr[6:], 4)
	binary.LittleEndian.PutUint32(hdr[16:], 65535) // snaplen
	binary.LittleEndian.PutUint32(hdr[20:], linkTypePPPWithDir)
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	for _, p := range c.packets {
		n := 1 + 2 + len(p.b)
		var rec [16 + 3]byte
		binary.LittleEndian.PutUint32(rec[0:], uint32(p.t.Unix()))
		binary.LittleEndian.PutUint32(rec[4:], uint32(p.t.Nanosecond()/1000))
		binary.LittleEndian.PutUint32(rec[8:], uint32(n))
		binary.LittleEndian.PutUint32(rec[12:], uint32(n))
		if p.out {
			rec[16] = 1
		}
		binary.BigEndian.PutUint16(rec[17:], uint16(p.proto))
		if _, err := w.Write(rec[:]); err != nil {
			return err
		}
		if _, err := w.Write(p.b); err != nil {
			return err
		}
	}
	return nil
}
