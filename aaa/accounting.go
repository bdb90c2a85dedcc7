package aaa

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"time"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"
	"layeh.com/radius/rfc2869"
)

// Status is an Acct-Status-Type (RFC 2866 §5.1, RFC 2869 §5.1).
type Status = rfc2866.AcctStatusType

// Accounting record kinds.
const (
	Start   = rfc2866.AcctStatusType_Value_Start
	Stop    = rfc2866.AcctStatusType_Value_Stop
	Interim = rfc2866.AcctStatusType_Value_InterimUpdate
)

// Terminate causes (RFC 2866 §5.10) that rosh reports.
const (
	CauseUserRequest    = rfc2866.AcctTerminateCause_Value_UserRequest
	CauseLostCarrier    = rfc2866.AcctTerminateCause_Value_LostCarrier
	CauseLostService    = rfc2866.AcctTerminateCause_Value_LostService
	CauseIdleTimeout    = rfc2866.AcctTerminateCause_Value_IdleTimeout
	CauseSessionTimeout = rfc2866.AcctTerminateCause_Value_SessionTimeout
	CauseAdminReset     = rfc2866.AcctTerminateCause_Value_AdminReset
	CauseAdminReboot    = rfc2866.AcctTerminateCause_Value_AdminReboot
	CauseNASError       = rfc2866.AcctTerminateCause_Value_NASError
	CauseNASRequest     = rfc2866.AcctTerminateCause_Value_NASRequest
)

// Record is one accounting request about a session.
type Record struct {
	Status Status
	NAS    NAS
	Port   Port
	User   string
	// FramedIP is the peer's address.
	FramedIP netip.Addr
	Class    [][]byte
	// Time is when the event happened; the request carries how long ago
	// that was when it is sent (Acct-Delay-Time, RFC 2866 §5.2).
	Time time.Time
	// SessionTime, octets and packets: Interim and Stop (RFC 2866 §5.3,
	// §5.4, §5.7, §5.8, §5.10). In is from the user, Out to the user.
	SessionTime           time.Duration
	InOctets, OutOctets   uint64
	InPackets, OutPackets uint64
	Cause                 rfc2866.AcctTerminateCause
}

// Packet is the Accounting-Request of r, sent at now.
func (r *Record) Packet(secret []byte, now time.Time) *radius.Packet {
	p := radius.New(radius.CodeAccountingRequest, secret)
	rfc2866.AcctStatusType_Add(p, r.Status)
	addCommon(p, r.NAS, r.Port, r.User)
	if r.FramedIP.Is4() {
		rfc2865.FramedIPAddress_Add(p, net.IP(r.FramedIP.AsSlice()))
	}
	for _, c := range r.Class {
		rfc2865.Class_Add(p, c)
	}
	rfc2866.AcctAuthentic_Add(p, rfc2866.AcctAuthentic_Value_RADIUS)
	if d := now.Sub(r.Time); d > 0 {
		rfc2866.AcctDelayTime_Add(p, rfc2866.AcctDelayTime(d/time.Second))
	}
	rfc2869.EventTimestamp_Add(p, r.Time)
	if r.Status == Start {
		return p
	}
	rfc2866.AcctSessionTime_Add(p, rfc2866.AcctSessionTime(r.SessionTime/time.Second))
	// Octets beyond 32 bits go into the Gigawords (RFC 2869 §5.1, §5.2).
	rfc2866.AcctInputOctets_Add(p, rfc2866.AcctInputOctets(uint32(r.InOctets)))
	rfc2866.AcctOutputOctets_Add(p, rfc2866.AcctOutputOctets(uint32(r.OutOctets)))
	rfc2869.AcctInputGigawords_Add(p, rfc2869.AcctInputGigawords(r.InOctets>>32))
	rfc2869.AcctOutputGigawords_Add(p, rfc2869.AcctOutputGigawords(r.OutOctets>>32))
	rfc2866.AcctInputPackets_Add(p, rfc2866.AcctInputPackets(uint32(r.InPackets)))
	rfc2866.AcctOutputPackets_Add(p, rfc2866.AcctOutputPackets(uint32(r.OutPackets)))
	if r.Status == Stop && r.Cause != 0 {
		rfc2866.AcctTerminateCause_Add(p, r.Cause)
	}
	return p
}

// maxQueued bounds the records waiting for a server: a day of interim
// updates of a few thousand sessions. Beyond it Interim-Updates are
// dropped (the next one carries the totals); Start and Stop never are.
const maxQueued = 1 << 16

// Accounting sends records in order, one at a time, each until a server
// acknowledges it (RFC 2866 §2: the client MUST retry until it gets an
// Accounting-Response): while no server answers, the head record is tried
// again every retry interval, with a new Acct-Delay-Time and so a new
// Identifier (RFC 2866 §5.2), so that nothing is lost while rosh runs.
type Accounting struct {
	// Servers returns the servers to try, in order (they may change
	// while records wait).
	Servers func() []Server
	// Log reports a record that could not be sent, once per outage, and
	// the recovery.
	Log func(format string, args ...any)
	// Retry is the pause between rounds over every server (1 s).
	Retry time.Duration
	// Answered, if set, is told how long each answered record took, from
	// its first transmission to the server's answer (the metrics).
	Answered func(d time.Duration)

	mu      sync.Mutex
	queue   []*Record
	wake    chan struct{}
	stop    chan struct{}
	done    chan struct{}
	started bool
	sent    uint64
	dropped uint64
}

// Send queues r. It never blocks.
func (a *Accounting) Send(r *Record) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.started {
		a.started = true
		a.wake = make(chan struct{}, 1)
		a.stop = make(chan struct{})
		a.done = make(chan struct{})
		go a.run()
	}
	if len(a.queue) >= maxQueued && r.Status == Interim {
		a.dropped++
		return
	}
	a.queue = append(a.queue, r)
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// Pending is how many records wait for a server.
func (a *Accounting) Pending() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.queue)
}

// Flush waits until the queue is empty or d has passed, and reports
// whether it emptied: a clean shutdown gives the Stop records a chance.
func (a *Accounting) Flush(d time.Duration) bool {
	deadline := time.Now().Add(d)
	for a.Pending() > 0 {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

// Close stops the sender; records still queued are lost.
func (a *Accounting) Close() {
	a.mu.Lock()
	started := a.started
	a.mu.Unlock()
	if started {
		close(a.stop)
		<-a.done
	}
}

func (a *Accounting) run() {
	defer close(a.done)
	retry := a.Retry
	if retry <= 0 {
		retry = time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-a.stop
		cancel()
	}()
	failing := false
	for {
		a.mu.Lock()
		var r *Record
		if len(a.queue) > 0 {
			r = a.queue[0]
		}
		a.mu.Unlock()
		if r == nil {
			select {
			case <-a.wake:
				continue
			case <-a.stop:
				return
			}
		}
		start := time.Now()
		_, srv, err := Exchange(ctx, a.Servers(), true, func(s Server) (*radius.Packet, error) {
			rec := *r
			if !rec.NAS.IP.IsValid() {
				rec.NAS.IP = s.Src
			}
			return rec.Packet([]byte(s.Secret), time.Now()), nil
		})
		if err == nil {
			if a.Answered != nil {
				a.Answered(time.Since(start))
			}
			if failing && a.Log != nil {
				a.Log("accounting: %s answers again; %d records waiting", srv, a.Pending()-1)
			}
			failing = false
			a.mu.Lock()
			a.queue[0] = nil
			a.queue = a.queue[1:]
			a.sent++
			a.mu.Unlock()
			continue
		}
		if !failing && a.Log != nil {
			a.Log("accounting: %v; retrying every %v", err, retry)
		}
		failing = true
		select {
		case <-time.After(retry):
		case <-a.stop:
			return
		}
	}
}
