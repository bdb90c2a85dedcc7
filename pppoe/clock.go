package pppoe

import (
	"slices"
	"sync"
	"time"
)

// Clock is where the engines take time from. A nil Clock in a config means
// the real clock; tests inject a ManualClock and advance it, so back-off and
// delays take no real time.
type Clock interface {
	Now() time.Time
	NewTimer(d time.Duration) Timer
}

// Timer is the part of time.Timer the engines use. Its channel has room for
// one tick; after Stop or Reset no stale tick from before is delivered.
type Timer interface {
	C() <-chan time.Time
	Stop() bool
	Reset(d time.Duration) bool
}

// RealClock is the system clock.
type RealClock struct{}

// Now returns time.Now().
func (RealClock) Now() time.Time { return time.Now() }

// NewTimer returns a time.Timer.
func (RealClock) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

type realTimer struct{ t *time.Timer }

func (r realTimer) C() <-chan time.Time        { return r.t.C }
func (r realTimer) Stop() bool                 { return r.t.Stop() }
func (r realTimer) Reset(d time.Duration) bool { return r.t.Reset(d) }

func clockOrReal(c Clock) Clock {
	if c == nil {
		return RealClock{}
	}
	return c
}

// ManualClock is a Clock that moves only when told to. Timers fire, in
// deadline order, when Advance or Set moves the time past their deadline.
type ManualClock struct {
	mu      sync.Mutex
	now     time.Time
	timers  []*manualTimer
	changed chan struct{} // closed and replaced whenever timers change
}

// NewManualClock returns a ManualClock reading start.
func NewManualClock(start time.Time) *ManualClock {
	return &ManualClock{now: start, changed: make(chan struct{})}
}

// Now returns the clock's time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// NewTimer returns a timer that fires d after the clock's current time.
func (c *ManualClock) NewTimer(d time.Duration) Timer {
	t := &manualTimer{c: c, ch: make(chan time.Time, 1)}
	t.Reset(d)
	return t
}

// Advance moves the clock forward by d, firing every timer that falls due.
func (c *ManualClock) Advance(d time.Duration) {
	c.Set(c.Now().Add(d))
}

// Set moves the clock to t (never backwards), firing every timer that falls
// due, earliest first.
func (c *ManualClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		i := slices.IndexFunc(c.timers, func(mt *manualTimer) bool { return !mt.when.After(t) })
		if i < 0 {
			break
		}
		// fire the earliest due timer first
		for j, mt := range c.timers {
			if mt.when.Before(c.timers[i].when) {
				i = j
			}
		}
		mt := c.timers[i]
		c.timers = slices.Delete(c.timers, i, i+1)
		if mt.when.After(c.now) {
			c.now = mt.when
		}
		select {
		case mt.ch <- c.now:
		default:
		}
	}
	if t.After(c.now) {
		c.now = t
	}
	c.notifyLocked()
}

// Timers returns the number of armed timers.
func (c *ManualClock) Timers() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

// WaitTimers blocks until at least n timers are armed or the real-time
// timeout passes, and reports whether they are. Tests use it to know that an
// engine has reached the point where it waits.
func (c *ManualClock) WaitTimers(n int, timeout time.Duration) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		ok, ch := len(c.timers) >= n, c.changed
		c.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-ch:
		case <-deadline.C:
			return false
		}
	}
}

// NextDeadline returns how long until the earliest armed timer fires, and
// false if none is armed.
func (c *ManualClock) NextDeadline() (time.Duration, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.timers) == 0 {
		return 0, false
	}
	first := c.timers[0].when
	for _, t := range c.timers {
		if t.when.Before(first) {
			first = t.when
		}
	}
	return first.Sub(c.now), true
}

func (c *ManualClock) notifyLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

func (c *ManualClock) removeLocked(t *manualTimer) bool {
	i := slices.Index(c.timers, t)
	if i < 0 {
		return false
	}
	c.timers = slices.Delete(c.timers, i, i+1)
	return true
}

type manualTimer struct {
	c    *ManualClock
	ch   chan time.Time
	when time.Time
}

func (t *manualTimer) C() <-chan time.Time { return t.ch }

func (t *manualTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	active := t.c.removeLocked(t)
	t.drain()
	t.c.notifyLocked()
	return active
}

func (t *manualTimer) Reset(d time.Duration) bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	active := t.c.removeLocked(t)
	t.drain()
	t.when = t.c.now.Add(d)
	if d <= 0 {
		t.ch <- t.c.now
	} else {
		t.c.timers = append(t.c.timers, t)
	}
	t.c.notifyLocked()
	return active
}

func (t *manualTimer) drain() {
	select {
	case <-t.ch:
	default:
	}
}
