package router

import (
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"rosh/pppoe"
)

// dropEvery is how often the drop counters of an access concentrator or a
// client are looked at and their growth logged.
const dropEvery = time.Second

// dropCounter is one counter of frames dropped as foreign, forged or
// malformed, named for the log.
type dropCounter struct {
	what string
	n    func() uint64
}

// watchDrops logs, at most once per dropEvery until done is closed, what
// the counters grew by since the previous look, with their totals, at topic
// pppoe,debug. The counters move on the wire's hot paths, where a log line
// per frame would let a flood of spoofed frames write the log (SPEC §3:
// frames for an unknown session or from the wrong MAC are dropped and
// counted).
func watchDrops(done <-chan struct{}, counters []dropCounter, logf func(format string, args ...any)) {
	last := make([]uint64, len(counters))
	t := time.NewTicker(dropEvery)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
		}
		var parts []string
		for i, c := range counters {
			n := c.n()
			if n > last[i] {
				parts = append(parts, fmt.Sprintf("%d %s (total %d)", n-last[i], c.what, n))
			}
			last[i] = n
		}
		if len(parts) > 0 {
			logf("dropped %s", strings.Join(parts, ", "))
		}
	}
}

// acDropCounters are an access concentrator's counters of frames it
// dropped without answering.
func acDropCounters(ac *pppoe.AC) []dropCounter {
	st := func(f func(pppoe.ACStats) uint64) func() uint64 { return func() uint64 { return f(ac.Stats()) } }
	return []dropCounter{
		{"session frames from a MAC not the session's", st(func(s pppoe.ACStats) uint64 { return s.WrongMAC })},
		{"PADTs from a MAC not the session's", st(func(s pppoe.ACStats) uint64 { return s.PADTIgnored })},
		{"PADRs with a missing or forged AC-Cookie", st(func(s pppoe.ACStats) uint64 { return s.BadCookie })},
		{"session frames for no session", st(func(s pppoe.ACStats) uint64 { return s.UnknownSession })},
		{"malformed frames", st(func(s pppoe.ACStats) uint64 { return s.Malformed })},
		{"discovery frames to full queues", st(func(s pppoe.ACStats) uint64 { return s.QueueDrops })},
	}
}

// clientDropWatch holds a client's: PADOs and PADSes for its MAC that do
// not carry its Host-Uniq, and, while a session is up, the session's frames
// and PADTs from a MAC other than its access concentrator's. The counts
// go on across redials.
type clientDropWatch struct {
	hostUniq, wrongMAC, padt atomic.Uint64 // of clients and sessions that ended
	client                   atomic.Pointer[pppoe.Client]
	session                  atomic.Pointer[pppoe.Session]
}

// retire adds the counts of the current client and session to the totals.
func (d *clientDropWatch) retire() {
	if c := d.client.Swap(nil); c != nil {
		d.hostUniq.Add(c.Stats().WrongHostUniq)
	}
	if s := d.session.Swap(nil); s != nil {
		st := s.Stats()
		d.wrongMAC.Add(st.WrongMAC)
		d.padt.Add(st.PADTIgnored)
	}
}

func (d *clientDropWatch) counters() []dropCounter {
	return []dropCounter{
		{"PADOs/PADSes with a foreign Host-Uniq", func() uint64 {
			n := d.hostUniq.Load()
			if c := d.client.Load(); c != nil {
				n += c.Stats().WrongHostUniq
			}
			return n
		}},
		{"session frames from a MAC not the access concentrator's", func() uint64 {
			n := d.wrongMAC.Load()
			if s := d.session.Load(); s != nil {
				n += s.Stats().WrongMAC
			}
			return n
		}},
		{"PADTs from a MAC not the access concentrator's", func() uint64 {
			n := d.padt.Load()
			if s := d.session.Load(); s != nil {
				n += s.Stats().PADTIgnored
			}
			return n
		}},
	}
}
