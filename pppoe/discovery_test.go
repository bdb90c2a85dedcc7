package pppoe

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"rosh/clock"
	"rosh/link"
)

var svcMain = Service{Name: "pppoeservice", AcceptEmptyService: true}

// runDiscovery is the client ↔ AC test shared by the pipe and veth runs:
// discovery to PADS, PPP frames both ways, PADT from the client ending the
// AC's session.
func runDiscovery(t *testing.T, acPort, clPort *link.Port) {
	var acEvents, clEvents eventLog
	defer func() {
		if t.Failed() {
			t.Logf("AC events:\n%v\nclient events:\n%v", &acEvents, &clEvents)
		}
	}()
	up := make(chan *Session, 1)
	ac := startAC(t, acPort, ACConfig{
		ACName:    func() string { return "MikroTik" },
		OnSession: func(s *Session) { up <- s },
		OnEvent:   acEvents.add,
	}, svcMain)
	c := newClient(t, clPort, ClientConfig{ServiceName: "pppoeservice", OnEvent: clEvents.add})

	start := time.Now()
	s, err := dial(t, c)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Logf("PADS after %v", time.Since(start))
	acMAC, _ := MACFrom(acPort.HardwareAddr())
	clMAC, _ := MACFrom(clPort.HardwareAddr())
	info := s.Info()
	if info.ID == 0 || info.ID == 0xffff || info.Peer != acMAC || info.Local != clMAC ||
		info.ACName != "MikroTik" || info.Service != "pppoeservice" {
		t.Errorf("client session = %+v", info)
	}
	if s.MaxMRU() != 1492 {
		t.Errorf("MaxMRU = %d, want 1492", s.MaxMRU())
	}
	var as *Session
	select {
	case as = <-up:
	case <-time.After(5 * time.Second):
		t.Fatal("AC reported no session")
	}
	if as.ID() != info.ID || as.Peer() != clMAC || as.Info().Service != "pppoeservice" ||
		!bytes.Equal(as.Info().HostUniq, c.HostUniq()) {
		t.Errorf("AC session = %+v", as.Info())
	}
	rows := ac.Sessions()
	if len(rows) != 1 || rows[0].ID != info.ID || rows[0].Peer != clMAC {
		t.Errorf("AC session table = %+v", rows)
	}

	// PPP frames both ways: an LCP Configure-Request each.
	lcp := []byte{0xc0, 0x21, 0x01, 0x01, 0x00, 0x08, 0x01, 0x04, 0x05, 0xd4}
	if err := s.WritePPP(lcp); err != nil {
		t.Fatal(err)
	}
	if err := as.WritePPP(lcp[:6]); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		s    *Session
		want []byte
	}{{"AC", as, lcp}, {"client", s, lcp[:6]}} {
		select {
		case got := <-tc.s.Recv():
			if !bytes.Equal(got, tc.want) {
				t.Errorf("%s received % x, want % x (padding must be cut)", tc.name, got, tc.want)
			}
			tc.s.Recycle(got)
		case <-time.After(5 * time.Second):
			t.Fatalf("%s received nothing", tc.name)
		}
	}

	// The largest frame the MTU carries goes, one byte more does not.
	if err := s.WritePPP(make([]byte, s.MaxMRU()+2)); err != nil {
		t.Errorf("WritePPP of MaxMRU+2 bytes: %v", err)
	}
	if err := s.WritePPP(make([]byte, s.MaxMRU()+3)); !errors.Is(err, ErrTooLong) {
		t.Errorf("WritePPP of MaxMRU+3 bytes = %v, want ErrTooLong", err)
	}
	select {
	case got := <-as.Recv():
		if len(got) != as.MaxMRU()+2 {
			t.Errorf("AC received %d bytes, want %d", len(got), as.MaxMRU()+2)
		}
		as.Recycle(got)
	case <-time.After(5 * time.Second):
		t.Fatal("full-size frame not received")
	}

	// The client hangs up: PADT, and the AC's session ends.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(s.Err(), ErrClosed) {
		t.Errorf("client session Err = %v", s.Err())
	}
	if err := waitDone(t, as); !errors.Is(err, ErrTerminated) {
		t.Errorf("AC session ended with %v, want ErrTerminated", err)
	}
	if err := s.WritePPP(lcp); !errors.Is(err, ErrClosed) {
		t.Errorf("WritePPP after Close = %v", err)
	}
	waitFor(t, "AC table empty", func() bool { return len(ac.Sessions()) == 0 })
	st := ac.Stats()
	if st.PADIReceived < 1 || st.PADOSent < 1 || st.PADSSent != 1 || st.PADTReceived != 1 || st.Sessions != 0 {
		t.Errorf("AC stats = %+v", st)
	}
	if got, want := clEvents.kinds(), "dialing,offer,request,session-up,session-down"; got != want {
		t.Errorf("client events %s, want %s", got, want)
	}
}

func TestDiscoveryPipe(t *testing.T) {
	checkLeaks(t)
	n := newPipeNet(t)
	runDiscovery(t, n.acPort, n.clPort)
}

func TestEmptyServiceFilledFromPADO(t *testing.T) {
	checkLeaks(t)
	n := newPipeNet(t)
	startAC(t, n.acPort, ACConfig{}, svcMain)
	s, err := dial(t, newClient(t, n.clPort, ClientConfig{}))
	if err != nil {
		t.Fatal(err)
	}
	if s.Info().Service != "pppoeservice" || s.Info().ACName != "MikroTik" {
		t.Errorf("session = %+v", s.Info())
	}
}

// A service with accept-empty-service=no does not answer an empty request.
func TestAcceptEmptyServiceNo(t *testing.T) {
	checkLeaks(t)
	n := newPipeNet(t)
	ac := startAC(t, n.acPort, ACConfig{}, Service{Name: "strict"})
	raw := newRawPeer(t, n.clPort, nil)
	raw.send(t, discovery(Broadcast, n.clMAC, CodePADI, 0, tagStr(TagServiceName, "")))
	raw.send(t, discovery(Broadcast, n.clMAC, CodePADI, 0, tagStr(TagServiceName, "strict")))
	pado := raw.expect(t, CodePADO)
	if !pado.Tags.HasService("strict") {
		t.Errorf("PADO %v", pado)
	}
	raw.expectNothing(t, 50*time.Millisecond)
	if st := ac.Stats(); st.UnknownService != 1 {
		t.Errorf("UnknownService = %d, want 1", st.UnknownService)
	}
}

func TestTwoServicesOneInterface(t *testing.T) {
	checkLeaks(t)
	n := newPipeNet(t)
	ac := startAC(t, n.acPort, ACConfig{}, Service{Name: "a"}, Service{Name: "b"})
	ca := newClient(t, n.clPort, ClientConfig{ServiceName: "a"})
	cb := newClient(t, n.clPort, ClientConfig{ServiceName: "b"})
	sa, err := dial(t, ca)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := dial(t, cb)
	if err != nil {
		t.Fatal(err)
	}
	if sa.Info().Service != "a" || sb.Info().Service != "b" || sa.ID() == sb.ID() {
		t.Errorf("sessions %+v and %+v", sa.Info(), sb.Info())
	}
	rows := ac.Sessions()
	if len(rows) != 2 {
		t.Fatalf("AC sessions %+v", rows)
	}
	// Each client saw the other's PADO/PADS as a foreign Host-Uniq, or
	// nothing: never a wrong session.
	if ca.Stats().SessionsUp != 1 || cb.Stats().SessionsUp != 1 {
		t.Errorf("client stats %+v %+v", ca.Stats(), cb.Stats())
	}
}

// PADR for a service the AC does not offer: PADS with Service-Name-Error
// and SESSION_ID 0 (RFC 2516 §5.4), Host-Uniq echoed.
func TestPADRUnknownService(t *testing.T) {
	checkLeaks(t)
	n := newPipeNet(t)
	ac := startAC(t, n.acPort, ACConfig{}, svcMain)
	raw := newRawPeer(t, n.clPort, nil)
	raw.send(t, discovery(n.acMAC, n.clMAC, CodePADR, 0,
		tagStr(TagServiceName, "nosuch"),
		tagStr(TagHostUniq, "hu"),
		tagStr(TagRelaySessionID, "relay"),
	))
	pads := raw.expect(t, CodePADS)
	if pads.SessionID != 0 {
		t.Errorf("PADS session id %#x, want 0", pads.SessionID)
	}
	err := pads.Tags.Err(pads.Src)
	if !errors.Is(err, ErrServiceName) {
		t.Errorf("PADS tags %v: want Service-Name-Error", pads.Tags)
	}
	if v, _ := pads.Tags.Value(TagHostUniq); string(v) != "hu" {
		t.Errorf("Host-Uniq not echoed: %v", pads.Tags)
	}
	if v, _ := pads.Tags.Value(TagRelaySessionID); string(v) != "relay" {
		t.Errorf("Relay-Session-Id not echoed: %v", pads.Tags)
	}
	waitFor(t, "1 refusal", func() bool {
		st := ac.Stats()
		return st.PADSErrors == 1 && st.Sessions == 0
	})
}

// The client side of a refused PADS: a typed error with the reason, for
// each of the three error tags.
func TestClientPADSErrors(t *testing.T) {
	for _, tc := range []struct {
		tag  TagType
		want error
	}{
		{TagServiceNameError, ErrServiceName},
		{TagACSystemError, ErrACSystem},
		{TagGenericError, ErrGeneric},
	} {
		t.Run(tc.tag.String(), func(t *testing.T) {
			checkLeaks(t)
			n := newPipeNet(t)
			raw := newRawPeer(t, n.acPort, nil)
			var events eventLog
			c := newClient(t, n.clPort, ClientConfig{ServiceName: "svc", OnEvent: events.add})
			errc := make(chan error, 1)
			go func() { _, err := dial(t, c); errc <- err }()

			padi := raw.expect(t, CodePADI)
			hu, _ := padi.Tags.Value(TagHostUniq)
			raw.send(t, discovery(n.clMAC, n.acMAC, CodePADO, 0,
				tagStr(TagACName, "ac"), tagStr(TagServiceName, "svc"), Tag{Type: TagHostUniq, Value: hu}))
			raw.expect(t, CodePADR)
			raw.send(t, discovery(n.clMAC, n.acMAC, CodePADS, 0,
				tagStr(TagServiceName, "svc"), Tag{Type: TagHostUniq, Value: hu}, tagStr(tc.tag, "the reason")))
			err := <-errc
			var pe *PeerError
			if !errors.Is(err, tc.want) || !errors.As(err, &pe) || pe.Reason != "the reason" || pe.Peer != n.acMAC {
				t.Fatalf("Dial error = %v, want %v with reason", err, tc.want)
			}
			if got := events.kinds(); got != "dialing,offer,request,error" {
				t.Errorf("events %s", got)
			}
		})
	}
}

// An AC sends its LCP Configure-Request right after the PADS, often before
// the dialer has read the PADS: that frame must reach the session, not be
// lost to a 3-second LCP restart. A PADT that close behind ends it.
func TestSessionFramesRightAfterPADS(t *testing.T) {
	for _, padt := range []bool{false, true} {
		t.Run(fmt.Sprintf("padt=%v", padt), func(t *testing.T) {
			checkLeaks(t)
			n := newPipeNet(t)
			raw := newRawPeer(t, n.acPort, nil)
			c := newClient(t, n.clPort, ClientConfig{ServiceName: "svc"})
			res := dialAsync(t, c)

			padi := raw.expect(t, CodePADI)
			hu, _ := padi.Tags.Value(TagHostUniq)
			raw.send(t, discovery(n.clMAC, n.acMAC, CodePADO, 0,
				tagStr(TagACName, "ac"), tagStr(TagServiceName, "svc"), Tag{Type: TagHostUniq, Value: hu}))
			raw.expect(t, CodePADR)
			// PADS, then at once a session frame for it, a stray one for
			// another id, and maybe the PADT.
			raw.send(t, discovery(n.clMAC, n.acMAC, CodePADS, 0x42,
				tagStr(TagServiceName, "svc"), Tag{Type: TagHostUniq, Value: hu}))
			lcp := []byte{0xc0, 0x21, 0x01, 0x01, 0x00, 0x04}
			for _, id := range []uint16{0x42, 0x43} {
				raw.send(t, &Packet{Ethernet: Ethernet{Dst: n.clMAC, Src: n.acMAC, EtherType: EtherTypeSession},
					Code: CodeSession, SessionID: id, Payload: lcp})
			}
			if padt {
				raw.send(t, discovery(n.clMAC, n.acMAC, CodePADT, 0x42))
			}
			r := <-res
			if r.err != nil {
				t.Fatal(r.err)
			}
			select {
			case got := <-r.s.Recv():
				if !bytes.Equal(got, lcp) {
					t.Errorf("session received % x, want % x", got, lcp)
				}
			case <-time.After(2 * time.Second):
				t.Fatal("the frame sent right after the PADS never reached the session")
			}
			select {
			case got := <-r.s.Recv():
				t.Errorf("session received a second frame % x", got)
			default:
			}
			if padt {
				if err := waitDone(t, r.s); !errors.Is(err, ErrTerminated) {
					t.Errorf("session ended with %v, want the PADT's", err)
				}
			}
		})
	}
}

// TestMaxSessionsFull: a service at max-sessions offers nothing (RFC 2516
// §5.2: an AC that cannot serve a PADI MUST NOT answer it with a PADO),
// and a PADR made with an offer from before it filled up gets a PADS
// with AC-System-Error.
func TestMaxSessionsFull(t *testing.T) {
	checkLeaks(t)
	n := newPipeNet(t)
	ac := startAC(t, n.acPort, ACConfig{}, Service{Name: "svc", MaxSessions: 1})
	// The raw peer sees only its own exchange (its Host-Uniq).
	raw := newRawPeer(t, n.clPort, func(p *Packet) bool {
		hu, _ := p.Tags.Value(TagHostUniq)
		return p.IsDiscovery() && string(hu) == "hu"
	})
	pado := offer(t, raw, n.clMAC, "svc")
	cookie, _ := pado.Tags.Value(TagACCookie)
	cookie = bytes.Clone(cookie)

	if _, err := dial(t, newClient(t, n.clPort, ClientConfig{ServiceName: "svc"})); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "1 session", func() bool { return ac.Stats().Sessions == 1 })
	raw.send(t, discovery(Broadcast, n.clMAC, CodePADI, 0, tagStr(TagServiceName, "svc"), tagStr(TagHostUniq, "hu")))
	raw.expectNothing(t, 300*time.Millisecond)
	_, err := dial(t, newClient(t, n.clPort, ClientConfig{ServiceName: "svc", PADIAttempts: 2, PADITimeout: 100 * time.Millisecond}))
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("Dial to a full service: %v, want no offer", err)
	}

	raw.send(t, discovery(n.acMAC, n.clMAC, CodePADR, 0, tagStr(TagServiceName, "svc"), tagStr(TagHostUniq, "hu"), Tag{Type: TagACCookie, Value: cookie}))
	pads := raw.expect(t, CodePADS)
	if reason, ok := pads.Tags.Value(TagACSystemError); !ok || string(reason) != "max sessions reached" || pads.SessionID != 0 {
		t.Fatalf("PADR to a full service got %v, want a PADS with AC-System-Error", pads)
	}
	// Counters move just after the frame is written: wait for them.
	waitFor(t, "1 session, 1 refusal, 3 PADIs unanswered", func() bool {
		st := ac.Stats()
		return st.Sessions == 1 && st.PADSErrors == 1 && st.FullService == 3
	})
}

// offer runs PADI → PADO on a raw client and returns the PADO.
func offer(t *testing.T, raw *rawPeer, src MAC, service string) *Packet {
	t.Helper()
	raw.send(t, discovery(Broadcast, src, CodePADI, 0, tagStr(TagServiceName, service), tagStr(TagHostUniq, "hu")))
	return raw.expect(t, CodePADO)
}

func TestBadCookieDropped(t *testing.T) {
	checkLeaks(t)
	clk := clock.NewManual(time.Unix(1_000_000, 0))
	n := newPipeNet(t)
	ac := startAC(t, n.acPort, ACConfig{Clock: clk}, svcMain)
	raw := newRawPeer(t, n.clPort, nil)
	pado := offer(t, raw, n.clMAC, "pppoeservice")
	cookie, ok := pado.Tags.Value(TagACCookie)
	if !ok || len(cookie) != cookieLen {
		t.Fatalf("PADO without a cookie: %v", pado)
	}
	cookie = bytes.Clone(cookie)
	forged := bytes.Clone(cookie)
	forged[len(forged)-1] ^= 1
	other := MAC{0x02, 0, 0, 0, 0, 0x99}

	padr := func(src MAC, tags ...Tag) {
		raw.send(t, discovery(n.acMAC, src, CodePADR, 0, append([]Tag{tagStr(TagServiceName, "pppoeservice")}, tags...)...))
	}
	padr(n.clMAC)                                        // no cookie
	padr(n.clMAC, Tag{Type: TagACCookie, Value: forged}) // one bit flipped
	padr(n.clMAC, tagStr(TagACCookie, "short"))          // wrong length
	padr(other, Tag{Type: TagACCookie, Value: cookie})   // replayed from another MAC
	waitFor(t, "4 bad cookies", func() bool { return ac.Stats().BadCookie == 4 })
	raw.expectNothing(t, 20*time.Millisecond)

	// Valid for the current and the next slot, then expired.
	clk.Advance(2*cookieSlot + time.Second)
	padr(n.clMAC, Tag{Type: TagACCookie, Value: cookie})
	waitFor(t, "expired cookie", func() bool { return ac.Stats().BadCookie == 5 })
	raw.expectNothing(t, 20*time.Millisecond)

	// A fresh cookie works, also in the next slot.
	pado = offer(t, raw, n.clMAC, "pppoeservice")
	cookie, _ = pado.Tags.Value(TagACCookie)
	clk.Advance(cookieSlot)
	padr(n.clMAC, Tag{Type: TagACCookie, Value: cookie})
	if pads := raw.expect(t, CodePADS); pads.SessionID == 0 {
		t.Errorf("PADS %v", pads)
	}
	if st := ac.Stats(); st.Sessions != 1 || st.BadCookie != 5 {
		t.Errorf("stats %+v", st)
	}
}

// A retransmitted PADR gets the same PADS, not a second session.
func TestDuplicatePADR(t *testing.T) {
	checkLeaks(t)
	n := newPipeNet(t)
	ac := startAC(t, n.acPort, ACConfig{}, svcMain)
	raw := newRawPeer(t, n.clPort, nil)
	pado := offer(t, raw, n.clMAC, "pppoeservice")
	cookie, _ := pado.Tags.Value(TagACCookie)
	padr := discovery(n.acMAC, n.clMAC, CodePADR, 0,
		tagStr(TagServiceName, "pppoeservice"), tagStr(TagHostUniq, "hu"), Tag{Type: TagACCookie, Value: cookie})
	raw.send(t, padr)
	first := raw.expect(t, CodePADS)
	raw.send(t, padr)
	second := raw.expect(t, CodePADS)
	if first.SessionID == 0 || first.SessionID != second.SessionID {
		t.Errorf("PADS ids %#x and %#x", first.SessionID, second.SessionID)
	}
	if st := ac.Stats(); st.Sessions != 1 {
		t.Errorf("%d sessions", st.Sessions)
	}
}

func TestWrongHostUniqIgnored(t *testing.T) {
	checkLeaks(t)
	n := newPipeNet(t)
	raw := newRawPeer(t, n.acPort, nil)
	c := newClient(t, n.clPort, ClientConfig{HostUniq: []byte{1, 2, 3, 4}})
	res := dialAsync(t, c)

	padi := raw.expect(t, CodePADI)
	if hu, _ := padi.Tags.Value(TagHostUniq); !bytes.Equal(hu, []byte{1, 2, 3, 4}) {
		t.Fatalf("PADI Host-Uniq %x, want the configured 01020304", hu)
	}
	pado := func(hu ...byte) *Packet {
		tags := []Tag{tagStr(TagACName, "ac"), tagStr(TagServiceName, "")}
		if hu != nil {
			tags = append(tags, Tag{Type: TagHostUniq, Value: hu})
		}
		return discovery(n.clMAC, n.acMAC, CodePADO, 0, tags...)
	}
	raw.send(t, pado(9, 9, 9, 9)) // someone else's
	raw.send(t, pado())           // none at all
	waitFor(t, "2 foreign Host-Uniqs", func() bool { return c.Stats().WrongHostUniq == 2 })
	raw.expectNothing(t, 20*time.Millisecond)

	raw.send(t, pado(1, 2, 3, 4))
	raw.expect(t, CodePADR)
	pads := discovery(n.clMAC, n.acMAC, CodePADS, 0x42, tagStr(TagServiceName, ""))
	pads.Tags = append(pads.Tags, Tag{Type: TagHostUniq, Value: []byte{7}})
	raw.send(t, pads) // wrong Host-Uniq: ignored
	waitFor(t, "3 foreign Host-Uniqs", func() bool { return c.Stats().WrongHostUniq == 3 })
	pads.Tags[1].Value = []byte{1, 2, 3, 4}
	raw.send(t, pads)
	r := <-res
	if r.err != nil || r.s.ID() != 0x42 {
		t.Fatalf("Dial = %v, %v", r.s, r.err)
	}
}

func TestSpoofedPADTIgnored(t *testing.T) {
	checkLeaks(t)
	n := newPipeNet(t)
	up := make(chan *Session, 1)
	ac := startAC(t, n.acPort, ACConfig{OnSession: func(s *Session) { up <- s }}, svcMain)
	s, err := dial(t, newClient(t, n.clPort, ClientConfig{}))
	if err != nil {
		t.Fatal(err)
	}
	as := <-up
	id := s.ID()
	evil := MAC{0x02, 0xee, 0xee, 0xee, 0xee, 0xee}
	write := func(port *link.Port, p *Packet) {
		b, _ := p.MarshalBinary()
		if err := port.WriteFrame(b); err != nil {
			t.Fatal(err)
		}
	}

	// Towards the client: right id from another MAC, right MAC with another id.
	write(n.acPort, discovery(n.clMAC, evil, CodePADT, id))
	write(n.acPort, discovery(n.clMAC, n.acMAC, CodePADT, id+1))
	waitFor(t, "client ignores 2 PADTs", func() bool { return s.Stats().PADTIgnored == 2 })
	// Towards the AC: right id from another MAC, unknown id.
	write(n.clPort, discovery(n.acMAC, evil, CodePADT, id))
	write(n.clPort, discovery(n.acMAC, n.clMAC, CodePADT, id+1))
	waitFor(t, "AC ignores 2 PADTs", func() bool { return ac.Stats().PADTIgnored == 2 })
	if s.Err() != nil || as.Err() != nil {
		t.Fatalf("a spoofed PADT ended a session: %v / %v", s.Err(), as.Err())
	}

	// Session frames with a wrong MAC or unknown id are dropped, counted.
	data := &Packet{Ethernet: Ethernet{Dst: n.acMAC, Src: evil, EtherType: EtherTypeSession}, SessionID: id, Payload: []byte{0xc0, 0x21}}
	write(n.clPort, data)
	data.Src, data.SessionID = n.clMAC, id+7
	write(n.clPort, data)
	waitFor(t, "AC drops 2 session frames", func() bool {
		st := ac.Stats()
		return st.WrongMAC == 1 && st.UnknownSession == 1
	})
	data.Ethernet = Ethernet{Dst: n.clMAC, Src: evil, EtherType: EtherTypeSession}
	data.SessionID = id
	write(n.acPort, data)
	waitFor(t, "client drops 1 session frame", func() bool { return s.Stats().WrongMAC == 1 })
	if len(as.Recv()) != 0 || len(s.Recv()) != 0 {
		t.Error("a spoofed session frame was delivered")
	}

	// The real PADT from the AC ends the client's session.
	if err := as.Close(); err != nil {
		t.Fatal(err)
	}
	if err := waitDone(t, s); !errors.Is(err, ErrTerminated) {
		t.Errorf("client session ended with %v, want ErrTerminated", err)
	}
	if !errors.Is(as.Err(), ErrClosed) {
		t.Errorf("AC session ended with %v", as.Err())
	}
}

func TestOneSessionPerHost(t *testing.T) {
	checkLeaks(t)
	n := newPipeNet(t)
	ups := make(chan *Session, 2)
	ac := startAC(t, n.acPort, ACConfig{OnSession: func(s *Session) { ups <- s }},
		Service{Name: "svc", OneSessionPerHost: true})
	first, err := dial(t, newClient(t, n.clPort, ClientConfig{ServiceName: "svc"}))
	if err != nil {
		t.Fatal(err)
	}
	acFirst := <-ups
	second, err := dial(t, newClient(t, n.clPort, ClientConfig{ServiceName: "svc"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := waitDone(t, first); !errors.Is(err, ErrTerminated) {
		t.Errorf("older client session ended with %v, want a PADT", err)
	}
	if !errors.Is(acFirst.Err(), ErrReplaced) {
		t.Errorf("older AC session ended with %v, want ErrReplaced", acFirst.Err())
	}
	rows := ac.Sessions()
	if len(rows) != 1 || rows[0].ID != second.ID() {
		t.Errorf("sessions %+v, want only %#x", rows, second.ID())
	}
}

// Clients with their own LocalMAC on one port are distinct hosts to the
// AC (with OneSessionPerHost, neither replaces the other): their frames
// carry their MAC, and a PADT for one leaves the other up.
func TestClientLocalMAC(t *testing.T) {
	checkLeaks(t)
	n := newPipeNet(t)
	ups := make(chan *Session, 2)
	startAC(t, n.acPort, ACConfig{OnSession: func(s *Session) { ups <- s }},
		Service{Name: "svc", OneSessionPerHost: true})
	macs := []MAC{{0x02, 0x45, 0x4d, 0, 0, 1}, {0x02, 0x45, 0x4d, 0, 0, 2}}
	var cl [2]*Session
	for i, mac := range macs {
		s, err := dial(t, newClient(t, n.clPort, ClientConfig{ServiceName: "svc", LocalMAC: mac}))
		if err != nil {
			t.Fatal(err)
		}
		if s.Info().Local != mac {
			t.Errorf("client %d session Local = %v, want %v", i, s.Info().Local, mac)
		}
		if as := <-ups; as.Peer() != mac {
			t.Errorf("AC session %d from %v, want %v", i, as.Peer(), mac)
		}
		cl[i] = s
	}
	if err := cl[0].Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-cl[1].Done():
		t.Fatalf("second host's session ended with %v", cl[1].Err())
	case <-time.After(50 * time.Millisecond):
	}
	if _, err := NewClient(n.clPort, ClientConfig{LocalMAC: Broadcast}); err == nil {
		t.Error("NewClient accepted a broadcast LocalMAC")
	}
}

func TestPADODelay(t *testing.T) {
	checkLeaks(t)
	clk := clock.NewManual(time.Unix(1_000_000, 0))
	n := newPipeNet(t)
	ac := startAC(t, n.acPort, ACConfig{Clock: clk},
		Service{Name: "slow", PADODelay: 200 * time.Millisecond, AcceptEmptyService: true},
		Service{Name: "fast", AcceptEmptyService: true},
	)
	raw := newRawPeer(t, n.clPort, nil)
	raw.send(t, discovery(Broadcast, n.clMAC, CodePADI, 0, tagStr(TagServiceName, "")))
	fast := raw.expect(t, CodePADO)
	if !fast.Tags.HasService("fast") || fast.Tags.HasService("slow") {
		t.Fatalf("first PADO %v, want fast", fast)
	}
	// RFC 2516 §5.2: the PADI's Service-Name first, then the offer.
	if fast.Tags[1].Type != TagServiceName || len(fast.Tags[1].Value) != 0 {
		t.Errorf("PADO tags %v: want the empty Service-Name echoed first", fast.Tags)
	}
	if !clk.WaitTimers(1, 5*time.Second) {
		t.Fatal("AC armed no pado-delay timer")
	}
	raw.expectNothing(t, 20*time.Millisecond)
	clk.Advance(199 * time.Millisecond)
	raw.expectNothing(t, 20*time.Millisecond)
	clk.Advance(time.Millisecond)
	slow := raw.expect(t, CodePADO)
	if !slow.Tags.HasService("slow") {
		t.Fatalf("delayed PADO %v", slow)
	}
	waitFor(t, "2 PADOs counted", func() bool { return ac.Stats().PADOSent == 2 })

	// A client asking for any service takes the fast one.
	c := newClient(t, n.clPort, ClientConfig{Clock: clk})
	s, err := dial(t, c)
	if err != nil {
		t.Fatal(err)
	}
	if s.Info().Service != "fast" {
		t.Errorf("client took %q, want the undelayed service", s.Info().Service)
	}
}

// RFC 2516 §7 back-off: PADI after 1, 2, 4, 8, 8, 8 s, then ErrTimeout.
func TestPADIBackoff(t *testing.T) {
	checkLeaks(t)
	clk := clock.NewManual(time.Unix(1_000_000, 0))
	n := newPipeNet(t)
	raw := newRawPeer(t, n.acPort, nil)
	var events eventLog
	c := newClient(t, n.clPort, ClientConfig{Clock: clk, PADIAttempts: 7, OnEvent: events.add})
	errc := make(chan error, 1)
	go func() { _, err := dial(t, c); errc <- err }()
	for i, want := range []time.Duration{1, 2, 4, 8, 8, 8, 8} {
		raw.expect(t, CodePADI)
		if !clk.WaitTimers(1, 5*time.Second) {
			t.Fatal("no timer armed")
		}
		d, _ := clk.NextDeadline()
		if d != want*time.Second {
			t.Errorf("after PADI %d: next in %v, want %v", i+1, d, want*time.Second)
		}
		clk.Advance(d)
	}
	if err := <-errc; !errors.Is(err, ErrTimeout) {
		t.Errorf("Dial = %v, want ErrTimeout", err)
	}
	if c.Stats().PADISent != 7 {
		t.Errorf("PADISent = %d", c.Stats().PADISent)
	}
}

// PADR is resent with back-off; after PADRAttempts discovery restarts with
// PADI (RFC 2516 §7).
func TestPADRRetryThenPADI(t *testing.T) {
	checkLeaks(t)
	clk := clock.NewManual(time.Unix(1_000_000, 0))
	n := newPipeNet(t)
	raw := newRawPeer(t, n.acPort, nil)
	c := newClient(t, n.clPort, ClientConfig{Clock: clk})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { _, err := c.Dial(ctx); errc <- err }()

	padi := raw.expect(t, CodePADI)
	hu, _ := padi.Tags.Value(TagHostUniq)
	raw.send(t, discovery(n.clMAC, n.acMAC, CodePADO, 0,
		tagStr(TagACName, "ac"), tagStr(TagServiceName, "x"), tagStr(TagACCookie, "cookie"),
		tagStr(TagRelaySessionID, "r1"), Tag{Type: TagHostUniq, Value: hu}))
	for i, want := range []time.Duration{1, 2, 4, 8} {
		padr := raw.expect(t, CodePADR)
		if v, _ := padr.Tags.Value(TagACCookie); string(v) != "cookie" {
			t.Errorf("PADR %d does not echo the cookie: %v", i, padr.Tags)
		}
		if v, _ := padr.Tags.Value(TagRelaySessionID); string(v) != "r1" {
			t.Errorf("PADR %d does not echo Relay-Session-Id: %v", i, padr.Tags)
		}
		if !padr.Tags.HasService("x") || padr.Dst != n.acMAC {
			t.Errorf("PADR %d = %v", i, padr)
		}
		clk.WaitTimers(1, 5*time.Second)
		if d, _ := clk.NextDeadline(); d != want*time.Second {
			t.Errorf("after PADR %d: next in %v, want %v", i+1, d, want*time.Second)
		}
		clk.Advance(want * time.Second)
	}
	raw.expect(t, CodePADI)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("Dial = %v", err)
	}
}

func TestACClosesSessions(t *testing.T) {
	checkLeaks(t)
	n := newPipeNet(t)
	ac := startAC(t, n.acPort, ACConfig{}, svcMain, Service{Name: "other"})
	s1, err := dial(t, newClient(t, n.clPort, ClientConfig{ServiceName: "other"}))
	if err != nil {
		t.Fatal(err)
	}
	s2, err := dial(t, newClient(t, n.clPort, ClientConfig{}))
	if err != nil {
		t.Fatal(err)
	}
	// Removing a service ends its sessions with PADT.
	if err := ac.RemoveService("other"); err != nil {
		t.Fatal(err)
	}
	if err := waitDone(t, s1); !errors.Is(err, ErrTerminated) {
		t.Errorf("session of the removed service: %v", err)
	}
	if s2.Err() != nil {
		t.Errorf("the other service's session ended: %v", s2.Err())
	}
	// Closing the AC ends the rest with PADT.
	ac.Close()
	if err := waitDone(t, s2); !errors.Is(err, ErrTerminated) {
		t.Errorf("session after AC Close: %v", err)
	}
	waitFor(t, "2 PADTs counted", func() bool { return ac.Stats().PADTSent == 2 })
}

func TestSessionIDsNotReused(t *testing.T) {
	checkLeaks(t)
	n := newPipeNet(t)
	startAC(t, n.acPort, ACConfig{}, svcMain)
	c := newClient(t, n.clPort, ClientConfig{})
	seen := map[uint16]bool{}
	for range 20 {
		s, err := dial(t, c)
		if err != nil {
			t.Fatal(err)
		}
		if seen[s.ID()] || s.ID() == 0 || s.ID() == 0xffff {
			t.Fatalf("session id %#x reused or reserved", s.ID())
		}
		seen[s.ID()] = true
		s.Close()
	}
}

func TestVLANEchoed(t *testing.T) {
	checkLeaks(t)
	n := newPipeNet(t)
	startAC(t, n.acPort, ACConfig{}, svcMain)
	raw := newRawPeer(t, n.clPort, nil)
	padi := discovery(Broadcast, n.clMAC, CodePADI, 0, tagStr(TagServiceName, ""))
	padi.Tagged, padi.TCI = true, 0x0064
	raw.send(t, padi)
	pado := raw.expect(t, CodePADO)
	if !pado.Tagged || pado.VLANID() != 100 {
		t.Errorf("PADO %v: want VLAN 100", pado)
	}
}

// RFC 4638: PPP-Max-Payload is granted up to what the link carries.
func TestPPPMaxPayload(t *testing.T) {
	for _, tc := range []struct {
		mtu     int
		ask     uint16
		want    uint16
		wantMRU int
	}{
		{mtu: 1508, ask: 1500, want: 1500, wantMRU: 1500},
		{mtu: 1504, ask: 1500, want: 1496, wantMRU: 1496},
		{mtu: 1500, ask: 1500, want: 0, wantMRU: 1492},
		{mtu: 1508, ask: 0, want: 0, wantMRU: 1492},
	} {
		t.Run("", func(t *testing.T) {
			checkLeaks(t)
			n := newPipeNet(t, link.WithMTU(tc.mtu))
			up := make(chan *Session, 1)
			startAC(t, n.acPort, ACConfig{OnSession: func(s *Session) { up <- s }}, svcMain)
			s, err := dial(t, newClient(t, n.clPort, ClientConfig{MaxPayload: tc.ask}))
			if err != nil {
				t.Fatal(err)
			}
			as := <-up
			if s.Info().MaxPayload != tc.want || as.Info().MaxPayload != tc.want || s.MaxMRU() != tc.wantMRU {
				t.Errorf("MTU %d ask %d: client %d (MRU %d), AC %d; want %d (MRU %d)", tc.mtu, tc.ask,
					s.Info().MaxPayload, s.MaxMRU(), as.Info().MaxPayload, tc.want, tc.wantMRU)
			}
		})
	}
}

func TestScanPipe(t *testing.T) {
	checkLeaks(t)
	n := newPipeNet(t)
	startAC(t, n.acPort, ACConfig{ACName: func() string { return "MikroTik" }},
		Service{Name: "pppoeservice", AcceptEmptyService: true},
		Service{Name: "second", AcceptEmptyService: true})
	clk := clock.NewManual(time.Unix(1_000_000, 0))
	var live []ScanResult
	done := make(chan []ScanResult)
	go func() {
		rows, err := Scan(context.Background(), n.clPort, ScanConfig{Clock: clk, Duration: 3 * time.Second,
			OnResult: func(r ScanResult) { live = append(live, r) }})
		if err != nil {
			t.Error(err)
		}
		done <- rows
	}()
	// Let the PADI be answered, then run out the clock, resending once a
	// second as RouterOS's scan does.
	waitFor(t, "scan timers", func() bool { return clk.Timers() == 2 })
	time.Sleep(50 * time.Millisecond)
	for range 3 {
		clk.Advance(time.Second)
		time.Sleep(20 * time.Millisecond)
	}
	rows := <-done
	want := []ScanResult{{"pppoeservice", n.acMAC, "MikroTik"}, {"second", n.acMAC, "MikroTik"}}
	if len(rows) != 2 || rows[0] != want[0] || rows[1] != want[1] {
		t.Errorf("rows %+v, want %+v", rows, want)
	}
	if len(live) != 2 {
		t.Errorf("OnResult saw %d rows", len(live))
	}
}

// When the interface goes away, every session on it ends with ErrLinkDown,
// the AC stops, and a Dial in progress returns.
func TestLinkDown(t *testing.T) {
	checkLeaks(t)
	n := newPipeNet(t)
	up := make(chan *Session, 1)
	ac := startAC(t, n.acPort, ACConfig{OnSession: func(s *Session) { up <- s }}, svcMain)
	var events eventLog
	c := newClient(t, n.clPort, ClientConfig{OnEvent: events.add})
	s, err := dial(t, c)
	if err != nil {
		t.Fatal(err)
	}
	as := <-up

	n.clPort.Close()
	if err := waitDone(t, s); !errors.Is(err, ErrLinkDown) {
		t.Errorf("client session ended with %v, want ErrLinkDown", err)
	}
	if _, err := dial(t, c); !errors.Is(err, ErrLinkDown) {
		t.Errorf("Dial on a closed port = %v", err)
	}
	n.acPort.Close()
	if err := waitDone(t, as); !errors.Is(err, ErrLinkDown) {
		t.Errorf("AC session ended with %v, want ErrLinkDown", err)
	}
	select {
	case <-ac.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("AC still running on a closed port")
	}
	if c.Stats().SessionsDown != 1 || !strings.Contains(events.kinds(), "session-down") {
		t.Errorf("client stats %+v, events %s", c.Stats(), events.kinds())
	}
}
