package pppoe

import (
	"context"
	"testing"
	"time"

	"rosh/clock"
	"rosh/link"
)

// engineRig is an AC and a client whose input paths are called directly,
// without their goroutines, so a fuzz target or benchmark can feed them
// frames synchronously. The AC's MAC is macAC and the client's macClient,
// as in the fixtures.
type engineRig struct {
	acPort, clPort *link.Port
	ac             *AC
	c              *Client
	d              *dialer
	clSession      *Session
	clHandler      link.Handler
	discHandler    link.Handler
}

func newEngineRig(tb testing.TB) *engineRig {
	a, b := link.Pipe(link.WithMACs(macAC.HardwareAddr(), macClient.HardwareAddr()), link.WithQueue(8))
	r := &engineRig{acPort: link.NewPort(a), clPort: link.NewPort(b)}
	tb.Cleanup(func() {
		r.acPort.Close()
		r.clPort.Close()
	})
	var err error
	r.ac, err = newAC(r.acPort, ACConfig{})
	if err != nil {
		tb.Fatal(err)
	}
	r.ac.services = []*acService{
		{Service: Service{Name: "svc1", AcceptEmptyService: true}, name: []byte("svc1")},
		{Service: Service{Name: "slow", PADODelay: time.Second, OneSessionPerHost: true, MaxSessions: 1}, name: []byte("slow")},
	}
	// A session the AC knows, for session frames and PADTs.
	as := newSession(r.acPort, SessionInfo{ID: 0x1234, Local: macAC, Peer: macClient}, 4, nil)
	r.ac.sessions[0x1234] = &acSession{s: as, svc: r.ac.services[0]}
	r.ac.byHost[macClient] = []uint16{0x1234}
	r.ac.services[0].count = 1
	r.ac.idx[0x1234] = as

	r.c, err = NewClient(r.clPort, ClientConfig{HostUniq: []byte{0xde, 0xad, 0xbe, 0xef}})
	if err != nil {
		tb.Fatal(err)
	}
	r.d = &dialer{
		c:     r.c,
		ctx:   context.Background(),
		inbox: link.NewInbox(4, 1600),
		buf:   make([]byte, 1600),
		timer: clock.Real{}.NewTimer(time.Hour),
	}
	r.d.timer.Stop()
	r.resetDial()
	r.clSession = newSession(r.clPort, SessionInfo{ID: 0x1234, Local: macClient, Peer: macAC}, 4, nil)
	r.clHandler = func(f []byte) bool { return r.c.sessionInput(r.clSession, f) }
	return r
}

// resetDial gives the dialer a fresh subscription state, as Dial would:
// a PADS fed to it hands the previous one over to the session it opened.
// The subscription is on a MAC no frame is sent to, so only the test calls
// the handler.
func (r *engineRig) resetDial() {
	r.d.cs = newClientSub(r.d.inbox)
	r.d.cs.sub = r.clPort.SubscribeDst(MAC{0x02, 0xff}, func([]byte) bool { return false })
	r.discHandler = r.c.match(r.d.cs)
}

func drain(q *link.Inbox) {
	for {
		select {
		case b := <-q.C():
			q.Recycle(b)
		default:
			return
		}
	}
}

// FuzzEngineInput feeds one frame to every input path of the engines: the
// AC's port handler and its owner-side input, the client's discovery
// handler and dialer (waiting for a PADO and for a PADS), and a client
// session's handler. Nothing may panic, whatever the frame.
func FuzzEngineInput(f *testing.F) {
	addFrameSeeds(f)
	for _, g := range goldenPackets() {
		b, _ := g.p.MarshalBinary()
		f.Add(b) // every frame kind rosh sends, with all tags
	}
	r := newEngineRig(f)
	f.Fuzz(func(t *testing.T, frame []byte) {
		r.ac.handle(frame)
		drain(r.ac.padiQ)
		drain(r.ac.ctrlQ)
		r.ac.input(frame)
		// Sessions a lucky frame opened are closed so they do not pile up.
		for id, as := range r.ac.sessions {
			if id != 0x1234 {
				r.ac.endSession(as, ErrClosed, false)
			}
		}

		r.discHandler(frame)
		drain(r.d.inbox)
		drain(r.d.cs.early)
		for _, requesting := range []bool{false, true} {
			r.d.requesting = requesting
			r.d.acMAC = macAC
			if s, _ := r.d.input(frame); s != nil {
				s.end(ErrClosed)
				r.resetDial()
			}
		}
		r.clHandler(frame)
		drain(r.clSession.in)
	})
}

// BenchmarkACPADI is the AC's cost per PADI: decode, one HMAC cookie,
// PADO encoded and written.
func BenchmarkACPADI(b *testing.B) {
	r := newEngineRig(b)
	r.ac.services = r.ac.services[:1]
	b.ReportAllocs()
	for b.Loop() {
		r.ac.input(fixturePADI)
	}
}

// BenchmarkACPADRBadCookie is the AC's cost per spoofed PADR.
func BenchmarkACPADRBadCookie(b *testing.B) {
	r := newEngineRig(b)
	b.ReportAllocs()
	for b.Loop() {
		r.ac.input(fixturePADR)
	}
	if r.ac.badCookie.Load() == 0 {
		b.Fatal("PADR not refused for its cookie")
	}
}

// BenchmarkACSessionFrame is the reader-side dispatch of a session frame to
// its session's queue.
func BenchmarkACSessionFrame(b *testing.B) {
	r := newEngineRig(b)
	s := r.ac.idx[0x1234]
	b.ReportAllocs()
	for b.Loop() {
		r.ac.handle(fixtureSession)
		s.Recycle(<-s.Recv())
	}
}

// BenchmarkSessionWritePPP is the cost of sending one PPP frame.
func BenchmarkSessionWritePPP(b *testing.B) {
	r := newEngineRig(b)
	ppp := make([]byte, 1400)
	b.ReportAllocs()
	b.SetBytes(int64(len(ppp)))
	for b.Loop() {
		if err := r.clSession.WritePPP(ppp); err != nil {
			b.Fatal(err)
		}
	}
}
