package ppp

import "time"

// Clock is where a session gets time from. Tests pass a manual clock (see
// ppp/ppptest) so that a 30-second keepalive test takes microseconds; nil in
// Config means real time.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f, on a goroutine of the clock's choosing, once d has
	// passed. A session's f only posts an event to the session's loop.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a pending AfterFunc call.
type Timer interface {
	// Stop prevents the call if it has not happened yet and reports
	// whether it did so.
	Stop() bool
}

// realClock is the wall clock.
type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }
