package clock

import (
	"slices"
	"sync"
	"time"
)

// Manual is a Clock whose time moves only when Advance or Set says so. A
// timer that falls due on the way gets the time on its channel, as a
// time.Timer does, earliest deadline first and, for equal deadlines, in the
// order they were armed; a tick not yet taken is not doubled. The goroutine
// that owns the timer handles the tick on its own. Safe for concurrent use.
type Manual struct {
	mu      sync.Mutex
	now     time.Time
	timers  []*manualTimer // armed, in the order they were armed
	changed chan struct{}  // closed when the armed timers change; nil until WaitTimers asks
}

// NewManual returns a Manual reading start.
func NewManual(start time.Time) *Manual { return &Manual{now: start} }

// Now returns the clock's time.
func (c *Manual) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// NewTimer returns a timer that falls due d after the clock's time; if d is
// not positive it has its tick already.
func (c *Manual) NewTimer(d time.Duration) Timer {
	t := &manualTimer{c: c, ch: make(chan time.Time, 1)}
	t.Reset(d)
	return t
}

// Advance moves the clock forward by d, firing every timer that falls due.
func (c *Manual) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.setLocked(c.now.Add(d))
}

// Set moves the clock to t, firing every timer that falls due. It never
// moves the clock backwards.
func (c *Manual) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.setLocked(t)
}

func (c *Manual) setLocked(t time.Time) {
	for {
		i := c.earliestLocked()
		if i < 0 || c.timers[i].when.After(t) {
			break
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

// NextDeadline returns how long until the earliest armed timer falls due,
// and false if none is armed. Tests step from deadline to deadline with it,
// so that ticks are handled in the order they fall due.
func (c *Manual) NextDeadline() (time.Duration, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := c.earliestLocked()
	if i < 0 {
		return 0, false
	}
	return c.timers[i].when.Sub(c.now), true
}

// Timers returns the number of armed timers.
func (c *Manual) Timers() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

// WaitTimers blocks until at least n timers are armed or the real-time
// timeout passes, and reports whether they are. Tests use it to know that an
// engine has reached the point where it waits.
func (c *Manual) WaitTimers(n int, timeout time.Duration) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		ok := len(c.timers) >= n
		if c.changed == nil {
			c.changed = make(chan struct{})
		}
		ch := c.changed
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

// earliestLocked returns the index of the timer that falls due first, the
// first armed of those with the same deadline, or -1 if none is armed.
func (c *Manual) earliestLocked() int {
	i := -1
	for j, t := range c.timers {
		if i < 0 || t.when.Before(c.timers[i].when) {
			i = j
		}
	}
	return i
}

func (c *Manual) notifyLocked() {
	if c.changed != nil {
		close(c.changed)
		c.changed = nil
	}
}

type manualTimer struct {
	c    *Manual
	ch   chan time.Time
	when time.Time
}

func (t *manualTimer) C() <-chan time.Time { return t.ch }

// Stop disarms the timer and takes back a tick not yet received.
func (t *manualTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	active := t.stopLocked()
	t.c.notifyLocked()
	return active
}

// Reset rearms the timer to fall due d after the clock's time; if d is not
// positive the tick is delivered at once.
func (t *manualTimer) Reset(d time.Duration) bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	active := t.stopLocked()
	t.when = t.c.now.Add(d)
	if d <= 0 {
		t.ch <- t.c.now
	} else {
		t.c.timers = append(t.c.timers, t)
	}
	t.c.notifyLocked()
	return active
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
