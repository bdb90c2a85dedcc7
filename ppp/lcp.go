package ppp

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
)

// The Link Control Protocol (RFC 1661 §5–6) on top of the automaton.
//
// Options this end requests: Maximum-Receive-Unit, Authentication-Protocol
// (the server role, strongest allowed method first) and Magic-Number; with
// Config.MRRU set, the multilink options of RFC 1990 §5.1 too: MRRU,
// Short-Sequence-Number-Header-Format (Config.ShortSeq) and
// Endpoint-Discriminator (Config.Endpoint). Options the peer may request
// and get: the same, the multilink ones only with Config.MRRU set, so that
// an end without MP rejects them and the link runs plain PPP. Everything
// else is Configure-Rejected byte for byte — ACCM, PFC and ACFC because
// RFC 2516 §7 forbids them on PPPoE, and whatever this stack does not know.

// minMRU is the smallest MRU the peer may announce; a smaller one is Nak'd
// with this value.
const minMRU = 128

// defaultMRU is the MRU of a peer that does not negotiate one (RFC 1661
// §6.1).
const defaultMRU = 1500

// loopbackFail is how many signs of a looped-back link (our own magic
// number coming back, RFC 1661 §6.4) end the link.
const loopbackFail = 10

// lcpOpts is one side's view of the negotiated LCP options.
type lcpOpts struct {
	mru      uint16
	hasMRU   bool
	magic    uint32
	hasMagic bool
	auth     Method // MethodNone: no Authentication-Protocol option

	// RFC 1990 §5.1: the MRRU, whether the sender of the options wants
	// short sequence numbers, and whether it sent an
	// Endpoint-Discriminator.
	mrru     uint16
	hasMRRU  bool
	shortSeq bool
	hasED    bool
}

// minMRRU is the smallest MRRU taken: RFC 1990 §5.1.1 gives no floor, but
// a reconstructed unit smaller than the smallest MRU (RFC 1661 §6.1's 128
// octets here) would make MP pointless.
const minMRRU = minMRU

// validEndpoint checks an Endpoint-Discriminator's class and address
// length (RFC 1990 §5.1.3).
func validEndpoint(d []byte) bool {
	if len(d) < 1 {
		return false
	}
	n := len(d) - 1
	switch d[0] {
	case 0: // Null Class
		return n == 0
	case 1, 4: // Locally Assigned Address, PPP Magic-Number Block
		return n <= 20
	case 2: // Internet Protocol address
		return n == 4
	case 3: // IEEE 802.1 Globally Assigned MAC Address
		return n == 6
	case 5: // Public Switched Network Directory Number
		return n <= 15
	}
	return false
}

type lcp struct {
	s *Session
	f *fsm

	want lcpOpts // our next Configure-Request
	got  lcpOpts // our request as the peer acknowledged it
	his  lcpOpts // the peer's request as we acknowledged it

	refused      MethodSet // methods the peer Nak'd or did not offer in return
	lastNakMagic uint32    // magic we last suggested in a Configure-Nak
	loops        int       // signs of a looped-back link
	everOpened   bool
	nakedAuth    []string // methods the peer asked for that we do not allow
	echoID       uint8

	nak, rej, scratch []byte
}

func newLCP(s *Session) *lcp {
	l := &lcp{s: s}
	l.f = newFSM("lcp", ProtoLCP, timerLCP, s.cfg.Timing, s, l)
	return l
}

func (l *lcp) reset() {
	l.refused = 0
	l.want = lcpOpts{
		mru:      uint16(l.s.mru),
		hasMRU:   true,
		magic:    l.s.newMagic(),
		hasMagic: true,
	}
	if l.s.demandsAuth() {
		l.want.auth = l.s.cfg.Require.Strongest()
	}
	if m := l.s.cfg.MRRU; m > 0 {
		l.want.mrru, l.want.hasMRRU = uint16(m), true
		l.want.shortSeq = l.s.cfg.ShortSeq
		l.want.hasED = len(l.s.cfg.Endpoint) > 0
	}
}

func (l *lcp) appendRequest(b []byte) []byte {
	if l.want.hasMRU {
		b = appendOption16(b, LCPOptMRU, l.want.mru)
	}
	if l.want.auth != MethodNone {
		b = appendAuthOption(b, l.want.auth)
	}
	if l.want.hasMagic {
		b = appendOption32(b, LCPOptMagic, l.want.magic)
	}
	if l.want.hasMRRU {
		b = appendOption16(b, LCPOptMRRU, l.want.mrru)
		if l.want.shortSeq {
			b = appendOption(b, LCPOptShortSeq)
		}
		if l.want.hasED {
			b = appendOption(b, LCPOptEndpoint, l.s.cfg.Endpoint...)
		}
	}
	return b
}

// checkRequest implements RFC 1661 §5.2–5.4 for the peer's options.
func (l *lcp) checkRequest(req, out []byte, rejectNaks bool) (Code, []byte) {
	his := lcpOpts{mru: defaultMRU}
	nak, rej := l.nak[:0], l.rej[:0]
	var seen uint32
	for b := req; len(b) > 0; {
		t, d, raw, rest, err := nextOption(b)
		if err != nil { // checked by the automaton; be safe anyway
			break
		}
		b = rest
		dup := t < 32 && seen&(1<<t) != 0
		if t < 32 {
			seen |= 1 << t
		}
		// nakWith suggests a value, or rejects once Max-Failure Naks
		// went unheeded (RFC 1661 §4.6).
		nakWith := func(suggest func([]byte) []byte) {
			if rejectNaks {
				rej = append(rej, raw...)
			} else {
				nak = suggest(nak)
			}
		}
		switch {
		case dup:
			rej = append(rej, raw...)
		case t == LCPOptMRU && len(d) == 2:
			v := binary.BigEndian.Uint16(d)
			if v < minMRU {
				nakWith(func(b []byte) []byte { return appendOption16(b, LCPOptMRU, minMRU) })
				continue
			}
			his.mru, his.hasMRU = v, true
		case t == LCPOptAuthProtocol && len(d) >= 2:
			allow := l.s.cfg.Allow
			if !l.s.canAuthenticateSelf() {
				// We hold no credentials: we will not authenticate.
				rej = append(rej, raw...)
				continue
			}
			if m, ok := methodFromOption(d); ok && allow.Has(m) {
				his.auth = m
				continue
			}
			// RFC 1661 §6.2: a Nak names the protocol we would use;
			// ours is the strongest we allow.
			if name := authOptionString(d); !slices.Contains(l.nakedAuth, name) && len(l.nakedAuth) < 8 {
				l.nakedAuth = append(l.nakedAuth, name)
			}
			nakWith(func(b []byte) []byte { return appendAuthOption(b, allow.Strongest()) })
		case t == LCPOptMagic && len(d) == 4:
			v := binary.BigEndian.Uint32(d)
			if v == 0 || (l.want.hasMagic && v == l.want.magic) {
				// RFC 1661 §6.4: zero is illegal; our own number may
				// mean the link is looped back. Suggest another.
				if v != 0 {
					l.loops++
				}
				l.lastNakMagic = l.s.newMagic()
				nakWith(func(b []byte) []byte { return appendOption32(b, LCPOptMagic, l.lastNakMagic) })
				continue
			}
			his.magic, his.hasMagic = v, true
		case (t == LCPOptMRRU || t == LCPOptShortSeq || t == LCPOptEndpoint) && l.s.cfg.MRRU == 0:
			// No MP here: the peer learns it and runs plain PPP
			// (RFC 1990 §5.1.1).
			rej = append(rej, raw...)
		case t == LCPOptMRRU && len(d) == 2:
			v := binary.BigEndian.Uint16(d)
			if v < minMRRU {
				nakWith(func(b []byte) []byte { return appendOption16(b, LCPOptMRRU, minMRRU) })
				continue
			}
			his.mrru, his.hasMRRU = v, true
		case t == LCPOptShortSeq && len(d) == 0:
			// RFC 1990 §5.1.2: the peer will receive short numbers.
			his.shortSeq = true
		case t == LCPOptEndpoint && validEndpoint(d):
			his.hasED = true
		default:
			rej = append(rej, raw...)
		}
	}
	l.nak, l.rej = nak, rej
	if l.loops >= loopbackFail {
		l.s.fail(fmt.Errorf("%w: our magic number came back %d times", ErrLoopback, l.loops))
	}
	switch {
	case len(rej) > 0:
		return CodeConfigureReject, append(out, rej...)
	case len(nak) > 0:
		return CodeConfigureNak, append(out, nak...)
	}
	l.his = his
	return CodeConfigureAck, append(out, req...)
}

func (l *lcp) gotAck([]byte) { l.got = l.want }

func (l *lcp) gotNak(opts []byte) error {
	for b := opts; len(b) > 0; {
		t, d, _, rest, err := nextOption(b)
		if err != nil {
			return fmt.Errorf("%w: malformed options: %v", errDiscard, err)
		}
		b = rest
		switch {
		case t == LCPOptMRU && len(d) == 2:
			// Take a smaller MRU; a larger one than we can receive
			// is not ours to take (the peer will Reject in the end).
			if v := binary.BigEndian.Uint16(d); v >= minMRU && int(v) <= l.s.mru {
				l.want.mru = v
			}
		case t == LCPOptAuthProtocol && l.want.auth != MethodNone:
			req := l.s.cfg.Require
			l.refused = l.refused.With(l.want.auth)
			if m, ok := methodFromOption(d); ok && req.Has(m) && !l.refused.Has(m) {
				l.want.auth = m
				continue
			}
			next := (req &^ l.refused).Strongest()
			if next == MethodNone {
				return fmt.Errorf("%w: peer refused all allowed methods (%s); it asked for %s",
					ErrNoCommonAuth, req, authOptionString(d))
			}
			l.want.auth = next
		case t == LCPOptMagic && len(d) == 4:
			// RFC 1661 §6.4: the number we suggested coming back in
			// a Nak makes a looped-back link likelier; either way a
			// new number is chosen.
			if binary.BigEndian.Uint32(d) == l.lastNakMagic {
				l.loops++
				if l.loops >= loopbackFail {
					return fmt.Errorf("%w: our magic number came back %d times", ErrLoopback, l.loops)
				}
			}
			l.want.magic = l.s.newMagic()
		case t == LCPOptMRRU && len(d) == 2 && l.want.hasMRRU:
			// A smaller MRRU we can live with; a larger one is more
			// than we reassemble.
			if v := binary.BigEndian.Uint16(d); v >= minMRRU && v <= uint16(l.s.cfg.MRRU) {
				l.want.mrru = v
			}
		}
	}
	return nil
}

func (l *lcp) gotReject(opts []byte) error {
	if err := rejectMatchesRequest(opts, l.f.req); err != nil {
		return err
	}
	for b := opts; len(b) > 0; {
		t, _, _, rest, _ := nextOption(b)
		b = rest
		switch t {
		case LCPOptMRU:
			l.want.hasMRU = false
		case LCPOptAuthProtocol:
			return fmt.Errorf("%w: peer refused to authenticate (rejected %s)", ErrNoCommonAuth, l.want.auth)
		case LCPOptMagic:
			l.want.hasMagic, l.want.magic = false, 0
		case LCPOptMRRU:
			// RFC 1990 §5.1.1: the peer does not do MP; nor do we,
			// and the other multilink options go with it.
			l.want.hasMRRU, l.want.shortSeq, l.want.hasED = false, false, false
		case LCPOptShortSeq:
			l.want.shortSeq = false
		case LCPOptEndpoint:
			l.want.hasED = false
		}
	}
	return nil
}

// rejectMatchesRequest checks that every option of a Configure-Reject was
// in our request, unmodified (RFC 1661 §5.4).
func rejectMatchesRequest(rejected, req []byte) error {
	for b := rejected; len(b) > 0; {
		_, _, raw, rest, err := nextOption(b)
		if err != nil {
			return fmt.Errorf("%w: malformed options: %v", errDiscard, err)
		}
		b = rest
		found := false
		for r := req; len(r) > 0 && !found; {
			_, _, rraw, rrest, _ := nextOption(r)
			found = string(rraw) == string(raw)
			r = rrest
		}
		if !found {
			return fmt.Errorf("%w: Configure-Reject of an option we did not send", errDiscard)
		}
	}
	return nil
}

// askedAuth lists the methods the peer asked for that we refused.
func (l *lcp) askedAuth() string { return strings.Join(l.nakedAuth, ",") }

func (l *lcp) up() {
	l.everOpened = true
	l.s.lcpUp()
}

func (l *lcp) down()    { l.s.lcpDown() }
func (l *lcp) started() {}
func (l *lcp) finished() {
	l.s.lcpFinished(l.f.why)
}

func (l *lcp) peerTerminated(data []byte) { l.s.peerTerminated(data) }

// magic is the number we put in Echo and Discard packets: our negotiated
// Magic-Number, or zero (RFC 1661 §5.8).
func (l *lcp) magic() uint32 {
	if l.f.state == StateOpened && l.got.hasMagic {
		return l.got.magic
	}
	return 0
}

// other handles the codes LCP has beyond the automaton's: Protocol-Reject,
// Echo-Request, Echo-Reply and Discard-Request (RFC 1661 §5.7–5.9).
func (l *lcp) other(p Packet) (event, bool) {
	d := p.Data()
	switch p.Code() {
	case CodeProtocolReject:
		// §5.7: only meaningful in Opened; discarded otherwise.
		if l.f.state != StateOpened || len(d) < 2 {
			return 0, false
		}
		proto := Protocol(binary.BigEndian.Uint16(d))
		if proto == ProtoLCP {
			return evRXJMinus, true
		}
		l.s.protocolRejected(proto)
		return evRXJPlus, true
	case CodeEchoRequest, CodeEchoReply, CodeDiscardRequest:
		if len(d) < 4 {
			return 0, false
		}
		if m := binary.BigEndian.Uint32(d); m != 0 && m == l.magic() {
			// Our own packet came back (§6.4).
			l.loops++
			if l.loops >= loopbackFail {
				l.s.fail(fmt.Errorf("%w: our echo came back %d times", ErrLoopback, l.loops))
			}
			return 0, false
		}
		return evRXR, true
	}
	return evRUC, true
}

// ser answers an Echo-Request with our magic number and the request's data
// (RFC 1661 §5.8); sendControl keeps it within the peer's MRU.
func (l *lcp) ser(p Packet) {
	if p.Code() != CodeEchoRequest {
		return
	}
	b := binary.BigEndian.AppendUint32(l.scratch[:0], l.magic())
	b = append(b, p.Data()[4:]...)
	l.scratch = b
	l.s.sendControl(ProtoLCP, CodeEchoReply, p.Identifier(), b)
}

// sendEcho sends a keepalive Echo-Request.
func (l *lcp) sendEcho() {
	l.echoID++
	b := binary.BigEndian.AppendUint32(l.scratch[:0], l.magic())
	l.scratch = b
	l.s.sendControl(ProtoLCP, CodeEchoRequest, l.echoID, b)
}

// sendProtocolReject rejects a packet of a protocol we do not run (RFC 1661
// §5.7): the protocol number, then the packet's information, truncated by
// sendControl to the peer's MRU.
func (l *lcp) sendProtocolReject(proto Protocol, info []byte) {
	if l.f.state != StateOpened {
		return
	}
	b := binary.BigEndian.AppendUint16(l.scratch[:0], uint16(proto))
	if max := l.s.mtu() - HeaderLen - 2; len(info) > max {
		info = info[:max]
	}
	b = append(b, info...)
	l.scratch = b
	l.f.id++
	l.s.sendControl(ProtoLCP, CodeProtocolReject, l.f.id, b)
}
