// Package clock is where rosh's engines take time from: the wall clock, or a
// manual clock that a test moves by hand, so that a 30-second keepalive or a
// discovery back-off takes no real time (tailscale tstime, gVisor faketime).
//
// A nil Clock in a config means real time; OrReal makes that one line.
package clock

import "time"

// Clock tells the time and makes timers.
type Clock interface {
	Now() time.Time
	NewTimer(d time.Duration) Timer
}

// Timer is the part of time.Timer the engines use: its channel is one of the
// events an owner goroutine selects on. After Stop or Reset returns, no tick
// from before is delivered (time.Timer's behaviour since Go 1.23).
type Timer interface {
	C() <-chan time.Time
	Stop() bool
	Reset(d time.Duration) bool
}

// Real is the system clock.
type Real struct{}

// Now returns time.Now().
func (Real) Now() time.Time { return time.Now() }

// NewTimer returns a time.Timer.
func (Real) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

type realTimer struct{ t *time.Timer }

func (r realTimer) C() <-chan time.Time        { return r.t.C }
func (r realTimer) Stop() bool                 { return r.t.Stop() }
func (r realTimer) Reset(d time.Duration) bool { return r.t.Reset(d) }

// OrReal returns c, or Real if c is nil.
func OrReal(c Clock) Clock {
	if c == nil {
		return Real{}
	}
	return c
}
