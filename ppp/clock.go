package ppp

import "time"

// Clock is where a session gets time from. Tests pass a manual clock (see
// ppp/ppptest) so that a 30-second keepalive test takes microseconds; nil in
// Config means real time. The shape is rosh/pppoe's Clock: an owner that
// drives both with one clock adapts it with a NewTimer that returns the
// same timer.
type Clock interface {
	Now() time.Time
	NewTimer(d time.Duration) Timer
}

// Timer is the part of time.Timer a session uses: its channel is one of the
// events the session's loop selects on. After Stop or Reset returns, no
// tick from before is delivered (time.Timer's behaviour since Go 1.23).
type Timer interface {
	C() <-chan time.Time
	Stop() bool
	Reset(d time.Duration) bool
}

// realClock is the wall clock.
type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

type realTimer struct{ t *time.Timer }

func (r realTimer) C() <-chan time.Time        { return r.t.C }
func (r realTimer) Stop() bool                 { return r.t.Stop() }
func (r realTimer) Reset(d time.Duration) bool { return r.t.Reset(d) }
