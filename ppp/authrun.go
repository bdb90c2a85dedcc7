package ppp

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The Authenticate phase (RFC 1661 §3.5), both directions: authPeer is the
// authenticator (we verify the peer — the server role), authSelf is the
// peer (we prove ourselves — the client role). Which runs, with which
// method, is what LCP negotiated.

// authDeadline is how long one side waits for the other to act at all:
// Max-Configure restart intervals.
func (s *Session) authDeadline() time.Duration {
	return time.Duration(s.cfg.Timing.MaxConfigure) * s.cfg.Timing.Restart
}

// authInput routes a PAP or CHAP packet to the side that runs it.
func (s *Session) authInput(proto Protocol, p Packet) {
	code := p.Code()
	switch {
	case proto == ProtoPAP && code == PAPAuthRequest,
		proto == ProtoCHAP && code == CHAPResponse:
		s.authPeer.input(proto, p)
	case proto == ProtoPAP && (code == PAPAuthAck || code == PAPAuthNak),
		proto == ProtoCHAP && (code == CHAPChallenge || code == CHAPSuccess || code == CHAPFailure):
		s.authSelf.input(proto, p)
	default:
		s.discard(proto, "unknown code")
	}
}

// sendMarshaled sends a PAP or CHAP packet.
func (s *Session) sendMarshaled(proto Protocol, n int, marshal func([]byte) (int, error)) []byte {
	if n > s.mtu() {
		s.log.Warn("authentication packet larger than the peer's MRU not sent", "topic", topicOf(proto), "proto", proto.String(), "len", n)
		return nil
	}
	if cap(s.txbuf) < n {
		s.txbuf = make([]byte, n)
	}
	b := s.txbuf[:n]
	if _, err := marshal(b); err != nil {
		s.log.Warn("cannot encode", "topic", topicOf(proto), "proto", proto.String(), "err", err)
		return nil
	}
	s.send(proto, b)
	return b
}

// authSide is what both directions share: the method LCP negotiated,
// whether its exchange is running, and whether it is done.
type authSide struct {
	s      *Session
	method Method
	active bool
	done   bool
}

func (a *authSide) finished() bool { return a.method == MethodNone || a.done }

// accepts reports whether a PAP or CHAP packet belongs to the running
// exchange of the negotiated method. If not, the packet is discarded, with
// idle as the reason when no exchange is running.
func (a *authSide) accepts(proto Protocol, idle string) bool {
	if !a.active {
		a.s.discard(proto, idle)
		return false
	}
	if proto == ProtoPAP && a.method == PAP || proto == ProtoCHAP && a.method != PAP && a.method != MethodNone {
		return true
	}
	a.s.discard(proto, "not the negotiated method")
	return false
}

// The texts an authenticator sends when the Authenticator gives none.
const (
	msgGranted = "Access granted"
	msgFailed  = "Authentication failed"
)

// authPeer: we are the authenticator.
type authPeer struct {
	authSide

	id        uint8
	challenge [16]byte
	sends     int
	// Our verdict, repeated for a retransmitted request (RFC 1334 §2.2.2,
	// RFC 1994 §4.2).
	replied bool
	reply   []byte
	// pending is the request an AsyncAuthenticator is deciding, and
	// answer what sends its verdict.
	pending *AuthRequest
	answer  func(AuthResult)
}

func (a *authPeer) begin(m Method) {
	*a = authPeer{authSide: authSide{s: a.s, method: m, active: true}, id: a.id, reply: a.reply[:0]}
	if m == PAP {
		// RFC 1334 §2.1: the peer sends; we wait.
		a.s.startTimer(timerAuthPeer, a.s.authDeadline())
		return
	}
	// RFC 1994 §2.3: a new challenge, a new identifier.
	a.id++
	a.s.random(a.challenge[:m.challengeLen()])
	a.sendChallenge()
}

func (a *authPeer) stop() {
	a.active = false
	a.s.stopTimer(timerAuthPeer)
}

func (a *authPeer) sendChallenge() {
	p := CHAPPacket{Code: CHAPChallenge, ID: a.id, Value: a.challenge[:a.method.challengeLen()], Name: []byte(a.s.cfg.Name)}
	a.s.sendMarshaled(ProtoCHAP, p.Len(), p.MarshalTo)
	a.sends++
	a.s.startTimer(timerAuthPeer, a.s.cfg.Timing.Restart)
}

func (a *authPeer) timeout() {
	if !a.active || a.done || a.pending != nil {
		return
	}
	if a.method == PAP {
		a.s.fail(fmt.Errorf("%w: no PAP Authenticate-Request from the peer", ErrAuthTimeout))
		return
	}
	// RFC 1994 §4.1: the Challenge is retransmitted until a Response.
	if a.sends < a.s.cfg.Timing.MaxConfigure {
		a.sendChallenge()
		return
	}
	a.s.fail(fmt.Errorf("%w: no response to %d %s challenges", ErrAuthTimeout, a.sends, a.method))
}

func (a *authPeer) input(proto Protocol, p Packet) {
	if !a.accepts(proto, "not authenticating the peer") {
		return
	}
	if proto == ProtoPAP {
		a.pap(p)
	} else {
		a.chap(p)
	}
}

func (a *authPeer) pap(p Packet) {
	req, err := ParsePAP(p)
	if err != nil {
		a.s.malformed.Add(1)
		return
	}
	if a.pending != nil {
		a.s.discard(ProtoPAP, "verdict pending")
		return
	}
	if a.replied {
		a.resend(ProtoPAP, req.ID)
		return
	}
	r := &AuthRequest{Method: PAP, User: string(req.PeerID), Password: string(req.Password)}
	a.judge(r, func(res AuthResult) { a.papVerdict(req.ID, r, res) })
}

// papVerdict answers the Authenticate-Request id with res.
func (a *authPeer) papVerdict(id uint8, r *AuthRequest, res AuthResult) {
	reply := PAPPacket{Code: PAPAuthNak, ID: id, Message: []byte(res.Message)}
	switch {
	case res.OK && res.Message == "":
		reply.Code, reply.Message = PAPAuthAck, []byte(msgGranted)
	case res.OK:
		reply.Code = PAPAuthAck
	case res.Message == "":
		reply.Message = []byte(msgFailed)
	}
	if len(reply.Message) > 255 {
		reply.Message = reply.Message[:255]
	}
	a.record(a.s.sendMarshaled(ProtoPAP, reply.Len(), reply.MarshalTo))
	a.verdict(r.User, res)
}

func (a *authPeer) chap(p Packet) {
	resp, err := ParseCHAP(p)
	if err != nil {
		a.s.malformed.Add(1)
		return
	}
	if resp.ID != a.id {
		a.s.discard(ProtoCHAP, "response to another challenge")
		return
	}
	if a.pending != nil {
		a.s.discard(ProtoCHAP, "verdict pending")
		return
	}
	if a.replied {
		a.resend(ProtoCHAP, resp.ID)
		return
	}
	want := 16
	if a.method != CHAP {
		want = msResponseLen
	}
	if len(resp.Value) != want {
		a.s.malformed.Add(1)
		a.s.log.Debug("CHAP response of the wrong size", "topic", "chap", "method", a.method.String(), "size", len(resp.Value))
		return
	}
	r := &AuthRequest{
		Method:    a.method,
		User:      string(resp.Name),
		ID:        resp.ID,
		Challenge: append([]byte(nil), a.challenge[:a.method.challengeLen()]...),
		Response:  append([]byte(nil), resp.Value...),
	}
	a.judge(r, func(res AuthResult) { a.chapVerdict(r, res) })
}

// judge asks the Authenticator about r and has answer send the verdict,
// now or, from an AsyncAuthenticator, when it comes (decided).
func (a *authPeer) judge(r *AuthRequest, answer func(AuthResult)) {
	async, ok := a.s.cfg.Authenticator.(AsyncAuthenticator)
	if !ok {
		answer(a.s.cfg.Authenticator.Authenticate(r))
		return
	}
	s := a.s
	res, done := async.StartAuthenticate(r, func(res AuthResult) {
		s.post(&command{kind: cmdVerdict, req: r, res: res})
	})
	if done {
		answer(res)
		return
	}
	a.pending, a.answer = r, answer
	// The Challenge is not repeated while the verdict is out (the peer
	// answered it); the AsyncAuthenticator bounds the wait.
	a.s.stopTimer(timerAuthPeer)
}

// decided delivers an AsyncAuthenticator's verdict on r, unless the
// exchange it belongs to is over (the link went down, a new challenge).
func (a *authPeer) decided(r *AuthRequest, res AuthResult) {
	if !a.active || a.pending != r {
		return
	}
	answer := a.answer
	a.pending, a.answer = nil, nil
	answer(res)
}

// chapVerdict answers the CHAP Response r with res.
func (a *authPeer) chapVerdict(r *AuthRequest, res AuthResult) {
	reply := CHAPPacket{Code: CHAPSuccess, ID: r.ID}
	switch {
	case res.OK && a.method == MSCHAPv2:
		if res.AuthenticatorResponse == "" {
			res = AuthResult{Reason: "no MS-CHAPv2 authenticator response from the Authenticator"}
			break
		}
		msg := res.Message
		if msg == "" {
			msg = msgGranted
		}
		reply.Message = []byte(res.AuthenticatorResponse + " M=" + msg)
	case res.OK && res.Message == "":
		reply.Message = []byte(msgGranted)
	case res.OK:
		reply.Message = []byte(res.Message)
	}
	if !res.OK {
		reply.Code = CHAPFailure
		msg := res.Message
		if msg == "" {
			msg = msgFailed
		}
		switch a.method {
		case CHAP:
			reply.Message = []byte(msg)
		case MSCHAPv1:
			// RFC 2433 §5: "E=eeeeeeeeee R=r"; no retry offered.
			reply.Message = []byte(MSCHAPFailure{Error: msErr(res)}.String())
		case MSCHAPv2:
			// RFC 2759 §6: E, R, C (the challenge), V=3, M.
			reply.Message = []byte(MSCHAPFailure{Error: msErr(res), Challenge: r.Challenge, Version: 3, Message: msg}.String())
		}
	}
	a.record(a.s.sendMarshaled(ProtoCHAP, reply.Len(), reply.MarshalTo))
	a.verdict(r.User, res)
}

func msErr(res AuthResult) int {
	if res.MSCHAPError != 0 {
		return res.MSCHAPError
	}
	return MSCHAPErrAuthenticationFailed
}

func (a *authPeer) record(sent []byte) {
	a.replied = true
	a.reply = append(a.reply[:0], sent...)
}

// resend repeats our verdict for a retransmitted request, with its
// identifier.
//
// A request repeated after our success means the verdict was lost and the
// peer is still in the Authenticate phase, where it discards NCP packets
// (RFC 1661 §3.4; a peer of ours repeats it when our IPCP reaches it,
// authSelf.peerInNetworkPhase). The Configure-Requests our IPCP has sent
// so far could not be answered, so they do not count against Max-Configure
// (§4.6: sent "before assuming that the peer is unable to respond"): IPCP's
// Restart counter starts again. Without it a lost Success on a lossy line
// (each repeat costs a round trip of IPCP, Response and Success) could use
// up most of the ten, and IPCP gave up just after the peer caught up.
func (a *authPeer) resend(proto Protocol, id uint8) {
	if len(a.reply) < HeaderLen {
		return
	}
	Packet(a.reply).SetIdentifier(id)
	a.s.send(proto, a.reply)
	if a.done && a.s.phase == PhaseNetwork {
		a.s.ipcp.f.restartCount()
	}
}

func (a *authPeer) verdict(user string, res AuthResult) {
	s := a.s
	s.peerName = user
	s.method = a.method
	if !res.OK {
		reason := res.Reason
		if reason == "" {
			reason = "refused"
		}
		err := fmt.Errorf("%w: %s", ErrAuthFailed, reason)
		if s.infoOn() {
			s.log.Info("peer failed authentication", "topic", a.method.topic(), "user", user, "method", a.method.String(), "reason", reason)
		}
		s.emit(EventAuthFailed, err)
		// The reason stays ours (the log, the session's error); the
		// peer's Terminate-Request says only that it failed, or it
		// would tell a prober which user names exist.
		s.setReason(err)
		s.terminate(ErrAuthFailed.Error())
		return
	}
	a.done = true
	s.stopTimer(timerAuthPeer)
	if s.infoOn() {
		s.log.Info("peer authenticated", "topic", a.method.topic(), "user", user, "method", a.method.String())
	}
	s.emit(EventAuthenticated, nil)
	s.authDone()
}

// authSelf: we are the peer being authenticated.
type authSelf struct {
	authSide

	id    uint8 // PAP request identifier
	sends int
	// The last CHAP exchange, to answer a retransmitted Challenge with the
	// same Response (RFC 1994 §4.1) and to check MS-CHAPv2's Success.
	haveResp      bool
	chalID        uint8
	chal          []byte
	resp          []byte
	peerChallenge [16]byte
	ntResponse    [24]byte
	// repeats counts the Responses repeated for the peer's NCP packets
	// (peerInNetworkPhase).
	repeats int
}

func (a *authSelf) begin(m Method) {
	*a = authSelf{authSide: authSide{s: a.s, method: m, active: true}, id: a.id, chal: a.chal[:0], resp: a.resp[:0]}
	if m == PAP {
		a.sendPAP()
		return
	}
	// RFC 1994 §2.1: the authenticator sends the first Challenge.
	a.s.startTimer(timerAuthSelf, a.s.authDeadline())
}

func (a *authSelf) stop() {
	a.active = false
	a.s.stopTimer(timerAuthSelf)
}

// sendPAP sends (or, RFC 1334 §2.2.1, repeats) the Authenticate-Request.
func (a *authSelf) sendPAP() {
	if a.sends == 0 {
		a.id++
	}
	cfg := &a.s.cfg
	p := PAPPacket{Code: PAPAuthRequest, ID: a.id, PeerID: []byte(cfg.User), Password: []byte(cfg.Password)}
	a.s.sendMarshaled(ProtoPAP, p.Len(), p.MarshalTo)
	a.sends++
	a.s.startTimer(timerAuthSelf, a.s.cfg.Timing.Restart)
}

func (a *authSelf) timeout() {
	if !a.active || a.done {
		return
	}
	if a.method == PAP {
		if a.sends < a.s.cfg.Timing.MaxConfigure {
			a.sendPAP()
			return
		}
		a.s.fail(fmt.Errorf("%w: no answer to %d PAP Authenticate-Requests", ErrAuthTimeout, a.sends))
		return
	}
	a.s.fail(fmt.Errorf("%w: no %s challenge or result from the peer", ErrAuthTimeout, a.method))
}

func (a *authSelf) input(proto Protocol, p Packet) {
	if !a.accepts(proto, "not authenticating to the peer") {
		return
	}
	if proto == ProtoPAP {
		a.pap(p)
	} else {
		a.chap(p)
	}
}

func (a *authSelf) pap(p Packet) {
	r, err := ParsePAP(p)
	if err != nil {
		a.s.malformed.Add(1)
		return
	}
	if r.ID != a.id || a.done {
		a.s.discard(ProtoPAP, "not an answer to our request")
		return
	}
	if r.Code == PAPAuthAck {
		a.succeeded("")
		return
	}
	a.failed(peerMessage(r.Message))
}

func (a *authSelf) chap(p Packet) {
	c, err := ParseCHAP(p)
	if err != nil {
		a.s.malformed.Add(1)
		return
	}
	switch c.Code {
	case CHAPChallenge:
		a.challenge(c)
	case CHAPSuccess, CHAPFailure:
		if !a.haveResp || c.ID != a.chalID {
			a.s.discard(ProtoCHAP, "result for another response")
			return
		}
		if a.done {
			return // a repeated Success
		}
		if c.Code == CHAPFailure {
			a.failed(a.chapFailure(string(c.Message)))
			return
		}
		if a.method == MSCHAPv2 {
			if reason := a.checkAuthenticator(string(c.Message)); reason != "" {
				a.failed(reason)
				return
			}
		}
		a.succeeded(a.s.peerName)
	}
}

func (a *authSelf) challenge(c CHAPPacket) {
	if (a.method == MSCHAPv1 && len(c.Value) != 8) || (a.method == MSCHAPv2 && len(c.Value) != 16) {
		a.s.malformed.Add(1)
		return
	}
	if a.haveResp && c.ID == a.chalID && bytes.Equal(c.Value, a.chal) {
		// A retransmitted Challenge: the same Response again, and
		// the authenticator is still there to wait for.
		a.s.send(ProtoCHAP, a.resp)
		a.s.startTimer(timerAuthSelf, a.s.authDeadline())
		return
	}
	cfg := &a.s.cfg
	a.s.peerName = string(c.Name)
	var value []byte
	switch a.method {
	case CHAP:
		v := chapMD5(c.ID, cfg.Password, c.Value)
		value = v[:]
	case MSCHAPv1:
		// RFC 2433 §4: no LAN Manager response, the NT one flagged.
		r := MSCHAPv1Response{NTResponse: MSCHAPv1NTResponse(c.Value, cfg.Password), Flags: msv1UseNT}
		value = make([]byte, msResponseLen)
		r.MarshalTo(value)
	case MSCHAPv2:
		a.s.random(a.peerChallenge[:])
		nt, err := MSCHAPv2NTResponse(c.Value, a.peerChallenge[:], cfg.User, cfg.Password)
		if err != nil {
			a.s.fail(fmt.Errorf("%w: %v", ErrAuthFailed, err))
			return
		}
		a.ntResponse = nt
		r := MSCHAPv2Response{PeerChallenge: a.peerChallenge, NTResponse: nt}
		value = make([]byte, msResponseLen)
		r.MarshalTo(value)
	}
	resp := CHAPPacket{Code: CHAPResponse, ID: c.ID, Value: value, Name: []byte(cfg.User)}
	sent := a.s.sendMarshaled(ProtoCHAP, resp.Len(), resp.MarshalTo)
	a.resp = append(a.resp[:0], sent...)
	a.chal = append(a.chal[:0], c.Value...)
	a.chalID = c.ID
	a.haveResp = true
	a.s.startTimer(timerAuthSelf, a.s.authDeadline())
}

// peerInNetworkPhase is told that an NCP packet came while we wait for
// the verdict on our Response: the authenticator has sent its Success and
// moved on, and the Success was lost. RFC 1994 §4.2 foresees it ("the
// Success might be lost"): the authenticator must answer a repeated
// Response with the verdict it gave, so we repeat ours. Without it the
// authenticator, done with Challenges, sends only IPCP, which we may not
// take before the verdict, and the session never comes up. The peer's
// NCP retransmissions pace the repeats.
//
// The authenticator that sends them is not silent: it has moved on, and
// what we wait for is a verdict lost on the way, which each repeat asks
// for again (three frames that must all get through). So each repeat gives
// the verdict a new authentication deadline, up to Max-Configure repeats;
// otherwise a line that lost one frame in five ran out of the one 30-s
// deadline about once in six thousand sessions, the authenticator all the
// while sending Success after Success.
func (a *authSelf) peerInNetworkPhase() {
	if !a.active || a.done || !a.haveResp || a.method == PAP {
		return
	}
	a.s.send(ProtoCHAP, a.resp)
	if a.repeats < a.s.cfg.Timing.MaxConfigure {
		a.repeats++
		a.s.startTimer(timerAuthSelf, a.s.authDeadline())
	}
}

// checkAuthenticator verifies MS-CHAPv2's mutual authentication (RFC 2759
// §5): the server must prove it knows our password. It returns why not.
func (a *authSelf) checkAuthenticator(msg string) string {
	got, _, err := ParseMSCHAPv2Success(msg)
	if err != nil {
		return "MS-CHAPv2 success without a valid authenticator response"
	}
	cfg := &a.s.cfg
	want, err := MSCHAPv2AuthenticatorResponse(a.chal, a.peerChallenge[:], a.ntResponse[:], cfg.User, cfg.Password)
	if err != nil || !strings.EqualFold(got, want) {
		return "MS-CHAPv2 authenticator response is wrong: the server does not know our password"
	}
	return ""
}

// chapFailure explains a Failure message: MS-CHAP's E= code, or the text.
func (a *authSelf) chapFailure(msg string) string {
	if a.method == MSCHAPv1 || a.method == MSCHAPv2 {
		if f, err := ParseMSCHAPFailure(msg); err == nil {
			s := fmt.Sprintf("%s (E=%d)", msErrorText(f.Error), f.Error)
			if f.Message != "" {
				s += ": " + f.Message
			}
			return s
		}
	}
	return peerMessage([]byte(msg))
}

// peerMessage quotes the peer's message, if it is text.
func peerMessage(b []byte) string {
	if m := printable(b); m != "" {
		return "peer says " + strconv.Quote(m)
	}
	if len(b) > 0 {
		return "peer says " + hex.EncodeToString(b)
	}
	return "refused by the peer"
}

func (a *authSelf) succeeded(peer string) {
	s := a.s
	a.done = true
	s.stopTimer(timerAuthSelf)
	s.method = a.method
	if s.infoOn() {
		s.log.Info("authenticated to the peer", "topic", a.method.topic(), "method", a.method.String(), "peer", peer)
	}
	s.emit(EventAuthenticated, nil)
	s.authDone()
}

func (a *authSelf) failed(reason string) {
	s := a.s
	s.method = a.method
	err := fmt.Errorf("%w: %s", ErrAuthFailed, reason)
	if s.infoOn() {
		s.log.Info("authentication to the peer failed", "topic", a.method.topic(), "method", a.method.String(), "reason", reason)
	}
	s.emit(EventAuthFailed, err)
	s.fail(err)
}
