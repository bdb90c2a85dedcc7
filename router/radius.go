package router

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"layeh.com/radius"
	"layeh.com/radius/rfc2866"

	"rosh/aaa"
	"rosh/dataplane"
	"rosh/ppp"
)

// radiusRun is the runtime's RADIUS side: the accounting sender, the
// /radius incoming listener and the Acct-Session-Id counter.
type radiusRun struct {
	acct aaa.Accounting
	// incoming listens while /radius incoming accept=yes; port is its
	// port.
	incoming *aaa.Incoming
	port     int
	// seq numbers Acct-Session-Ids; it starts at a random value so that
	// two access concentrators, or one restarted, do not repeat ids in a
	// server's records (RFC 2866 §5.5: unique per NAS).
	seq uint32
}

func (r *Runtime) initRadius() {
	var b [4]byte
	rand.Read(b[:])
	r.radius.seq = binary.BigEndian.Uint32(b[:]) &^ 0xff
	r.radius.acct.Servers = func() []aaa.Server { return r.desiredNow().Radius }
	r.radius.acct.Log = func(format string, args ...any) { r.log.Add("radius,error", format, args...) }
	r.radius.acct.Answered = func(d time.Duration) { r.eng.Metrics.ObserveRADIUS("accounting", d) }
}

// newAcctSessionID returns the next Acct-Session-Id: eight hex digits,
// as RouterOS prints them.
func (r *Runtime) newAcctSessionID() string {
	r.mu.Lock()
	r.radius.seq++
	n := r.radius.seq
	r.mu.Unlock()
	return fmt.Sprintf("%08X", n)
}

// reconcileRadius opens or closes the /radius incoming listener.
func (r *Runtime) reconcileRadius(d *Desired) {
	r.mu.Lock()
	in, port := r.radius.incoming, r.radius.port
	r.mu.Unlock()
	want := 0
	if d.Incoming.Accept {
		want = d.Incoming.Port
	}
	if in != nil && port == want {
		return
	}
	if in != nil {
		in.Close()
		r.log.Add("radius,info", "incoming: stopped listening on port %d", port)
	}
	in = nil
	if want != 0 {
		var err error
		in, err = aaa.ListenIncoming(want, r.incomingSecret, r.dynamicAuth, func(format string, args ...any) {
			r.log.Add("radius,info", format, args...)
		})
		if err != nil {
			r.log.Add("radius,error", "incoming: cannot listen on port %d: %v", want, err)
			want = 0
		} else {
			r.log.Add("radius,info", "incoming: listening on port %d", want)
		}
	}
	r.mu.Lock()
	r.radius.incoming, r.radius.port = in, want
	r.mu.Unlock()
}

// closeRadius stops the listener and gives queued accounting records
// (the Stops of the sessions just ended) a moment to leave.
func (r *Runtime) closeRadius() {
	r.mu.Lock()
	in := r.radius.incoming
	r.radius.incoming = nil
	r.mu.Unlock()
	if in != nil {
		in.Close()
	}
	if !r.radius.acct.Flush(2 * time.Second) {
		r.log.Add("radius,error", "accounting: %d records not sent at shutdown", r.radius.acct.Pending())
	}
	r.radius.acct.Close()
}

// incomingSecret is the secret of a configured server (RFC 5176 §5.1:
// requests from anyone else are discarded).
func (r *Runtime) incomingSecret(from netip.Addr) (string, bool) {
	for _, s := range r.desiredNow().Radius {
		if s.Address == from {
			return s.Secret, true
		}
	}
	return "", false
}

// dynamicAuth serves a Disconnect-Request or CoA-Request: every session
// the request's attributes select is ended or changed; none is a NAK with
// Session-Context-Not-Found (RFC 5176 §3.5).
func (r *Runtime) dynamicAuth(req *aaa.Request) (bool, int) {
	r.mu.Lock()
	var match []*serverSession
	for s := range r.sessions {
		if s.selectedBy(req.Selector) {
			match = append(match, s)
		}
	}
	r.mu.Unlock()
	if len(match) == 0 {
		r.log.Add("radius,info", "incoming: %v: no such session", req)
		return false, aaa.ErrorCauseSessionNotFound
	}
	for _, s := range match {
		if req.Disconnect {
			r.log.Add("radius,info", "incoming: %v: disconnecting %s", req, s.describe())
			s.end(aaa.CauseAdminReset, "disconnected by RADIUS")
			continue
		}
		r.log.Add("radius,info", "incoming: %v: changing %s", req, s.describe())
		s.change(req)
	}
	return true, 0
}

func (s *serverSession) selectedBy(sel aaa.Selector) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended || s.user == "" {
		return false
	}
	return (sel.SessionID == "" || sel.SessionID == s.acctID) &&
		(sel.User == "" || sel.User == s.user) &&
		(!sel.FramedIP.IsValid() || sel.FramedIP == s.addr)
}

func (s *serverSession) describe() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprintf("%s (user %s, session %s)", s.ifname, s.user, s.acctID)
}

// port is what RADIUS requests say about the session.
func (s *serverSession) port() aaa.Port {
	return aaa.Port{Number: uint32(s.ps.ID()), CallingStationID: s.mac, CalledStationID: s.spec.ServiceName, SessionID: s.acctID}
}

// Authenticate is StartAuthenticate waited for (ppp.Authenticator).
func (s *serverSession) Authenticate(req *ppp.AuthRequest) ppp.AuthResult {
	ch := make(chan ppp.AuthResult, 1)
	if res, done := s.StartAuthenticate(req, func(res ppp.AuthResult) { ch <- res }); done {
		return res
	}
	return <-ch
}

// StartAuthenticate judges a login the RouterOS way: a local /ppp secret
// first; RADIUS (with /ppp aaa use-radius=yes) only for a user no local
// secret admits, asked on a goroutine of its own so that the session keeps
// serving its link meanwhile (ppp.AsyncAuthenticator).
func (s *serverSession) StartAuthenticate(req *ppp.AuthRequest, verdict func(ppp.AuthResult)) (ppp.AuthResult, bool) {
	// A host shut out after repeated failures is refused before its
	// password is looked at, locally or by RADIUS (authguard.go).
	if wait, first := s.r.auth.shutOut(s.mac); wait > 0 {
		if first {
			s.r.log.Add("ppp,info", "<pppoe-%s>: login refused: user %s from %s, %v: too many failed logins, the next one considered in %v",
				req.User, req.User, s.mac, req.Method, wait.Round(100*time.Millisecond))
		}
		return ppp.AuthResult{Reason: "too many failed logins", Message: "too many failed logins, try again later"}, true
	}
	d := s.r.desiredNow()
	sec, why := secretFor(d, req.User, s.mac)
	if why != "" && d.AAA.UseRadius {
		go func() { verdict(s.radiusAuthenticate(d, req)) }()
		return ppp.AuthResult{}, false
	}
	return s.admit(d, req, localVerdict(req, sec, why), s.profileFor(d, sec), nil), true
}

// localVerdict judges req against the local secret secretFor found (why
// says why there is none). A missing secret gets the peer the same answer
// as a wrong password (the ppp package's default text): only the Reason,
// which stays in the log, tells them apart, or a prober could list the
// user names.
func localVerdict(req *ppp.AuthRequest, sec SecretSpec, why string) ppp.AuthResult {
	if why != "" {
		return ppp.AuthResult{Reason: why}
	}
	return ppp.VerifyPassword(req, sec.Password)
}

// radiusTimeout bounds one authentication over every server, whatever
// their timeouts say: the peer gives up after Max-Configure restarts.
const radiusTimeout = 20 * time.Second

// radiusAuthenticate asks the servers in order and turns the answer into
// a verdict.
func (s *serverSession) radiusAuthenticate(d *Desired, req *ppp.AuthRequest) ppp.AuthResult {
	ctx, cancel := context.WithTimeout(context.Background(), radiusTimeout)
	defer cancel()
	start := time.Now()
	resp, srv, err := aaa.Exchange(ctx, d.Radius, false, func(srv aaa.Server) (*radius.Packet, error) {
		return aaa.NewAccessRequest([]byte(srv.Secret), aaa.NAS{Identifier: d.Identity, IP: srv.Src}, s.port(), req)
	})
	if err == nil {
		s.r.eng.Metrics.ObserveRADIUS("access", time.Since(start))
	}
	if err != nil {
		msg := "RADIUS server not responding"
		if errors.Is(err, aaa.ErrNoServer) {
			msg = "no RADIUS server"
		}
		s.r.log.Add("radius,error", "<pppoe-%s>: %v", req.User, err)
		return s.admit(d, req, ppp.AuthResult{Reason: "radius: " + err.Error(), Message: msg}, ProfileSpec{}, nil)
	}
	rep, err := aaa.DecodeReply(resp)
	if err != nil {
		return s.admit(d, req, ppp.AuthResult{Reason: fmt.Sprintf("radius %s: %v", srv, err), Message: "authentication failed"}, ProfileSpec{}, nil)
	}
	if !rep.Accept {
		why := "rejected by RADIUS server " + srv.String()
		if rep.Message != "" {
			why += ": " + rep.Message
		}
		return s.admit(d, req, ppp.AuthResult{Reason: why, Message: rep.Message, MSCHAPError: rep.MSCHAPError}, ProfileSpec{}, nil)
	}
	res := ppp.AuthResult{OK: true, Message: rep.Message, AuthenticatorResponse: rep.MSCHAP2Success}
	if req.Method == ppp.MSCHAPv2 && res.AuthenticatorResponse == "" {
		// RFC 2548 §2.3.3: the authenticator response is the server's
		// to give; without it the peer could not trust us.
		res = ppp.AuthResult{Reason: "radius " + srv.String() + ": Access-Accept without MS-CHAP2-Success"}
	}
	return s.admit(d, req, res, s.radiusProfile(d, &rep), &rep)
}

// radiusProfile is the profile Mikrotik-Group names, else the server's
// default-profile.
func (s *serverSession) radiusProfile(d *Desired, rep *aaa.Reply) ProfileSpec {
	name := rep.Group
	if name == "" {
		name = s.spec.DefaultProfile
	}
	if p, ok := d.Profiles[name]; ok {
		return p
	}
	s.r.log.Add("radius,warning", "Mikrotik-Group %q: no such profile, using default", name)
	return d.Profiles["default"]
}

// admit completes a verdict: one session per user where the profile says
// so, the session's interface name, and the log line of a failure.
func (s *serverSession) admit(d *Desired, req *ppp.AuthRequest, res ppp.AuthResult, prof ProfileSpec, rad *aaa.Reply) ppp.AuthResult {
	// A wrong user or password counts towards the host's back-off; a
	// RADIUS server that did not answer, or a user already logged in, is
	// no guess.
	guess := !res.OK && !strings.HasPrefix(res.Reason, "radius")
	if res.OK && !s.r.claimUser(req.User, s, prof.OnlyOne) {
		res = ppp.AuthResult{Reason: "only one session per user allowed (profile " + prof.Name + ")", Message: "already logged in"}
	}
	s.r.eng.Metrics.authResult(roleServer, req.Method, res.OK)
	if !res.OK {
		s.r.log.Add("ppp,info", "<pppoe-%s>: login failed: user %s from %s, %v: %s", req.User, req.User, s.mac, req.Method, res.Reason)
		if guess {
			failures, refused, wait := s.r.auth.failed(s.mac)
			switch {
			case wait > 0 && refused > 0:
				s.r.log.Add("ppp,info", "%s: %d failed logins in a row (and %d refused unchecked): logins from it refused for %v", s.mac, failures, refused, wait)
			case wait > 0:
				s.r.log.Add("ppp,info", "%s: %d failed logins in a row: logins from it refused for %v", s.mac, failures, wait)
			}
		}
		return res
	}
	s.r.auth.succeeded(s.mac)
	name := "<pppoe-" + req.User + ">"
	if b, ok := d.Bindings[req.User]; ok && (b.Service == "" || b.Service == s.spec.ServiceName) {
		name = b.Name
	}
	name = s.r.claimName(name)
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		s.r.releaseName(name)
		return ppp.AuthResult{Reason: "session ended while authenticating"}
	}
	old := s.ifname // a second authentication (CHAP re-challenge)
	s.user, s.ifname, s.rad = req.User, name, rad
	s.mu.Unlock()
	if old != "" {
		s.r.releaseName(old)
	}
	return res
}

// end closes the session for cause (the first cause given wins).
func (s *serverSession) end(cause rfc2866.AcctTerminateCause, reason string) {
	s.mu.Lock()
	if s.cause == 0 {
		s.cause = cause
	}
	p := s.ppp
	s.mu.Unlock()
	if p != nil {
		p.Close(reason)
	} else {
		s.ps.Close()
	}
}

// SetRateLimit records a rate limit from RADIUS (Mikrotik-Rate-Limit in
// the Access-Accept or a CoA) that overrides the profile's rate-limit,
// and gives it to the running session's shaper at once, without a
// reconnect (effectiveRateLimit, applyLimits).
func (s *serverSession) SetRateLimit(v string) {
	s.mu.Lock()
	s.rateLimit = v
	s.mu.Unlock()
	s.applyLimits()
}

// RateLimit is the session's rate limit: RADIUS's when it gave one, else
// the profile's ("" unlimited).
func (s *serverSession) RateLimit() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rateLimit != "" {
		return s.rateLimit
	}
	return s.profile.RateLimit
}

// addRadiusRoutes points the routes of the Access-Accept (Framed-Route,
// Framed-IP-Netmask) at the session's TUN; they go with the device.
func (s *serverSession) addRadiusRoutes(name string) {
	s.mu.Lock()
	rad := s.rad
	s.mu.Unlock()
	ifc := s.tun.ifc.Load()
	if rad == nil || ifc == nil {
		return
	}
	routes, bad := rad.Routes()
	for _, b := range bad {
		s.r.log.Add("radius,warning", "%s: Framed-Route %q not understood", name, b)
	}
	for _, rt := range routes {
		if err := ifc.AddRoute(dataplane.Route{Dst: rt.Dst, Metric: rt.Metric}); err != nil {
			s.r.log.Add("radius,error", "%s: route %v: %v", name, rt.Dst, err)
		}
	}
}

// sessionUp starts what runs while the session is up: the session and
// idle timeouts, and accounting (Start, then Interim-Updates).
func (s *serverSession) sessionUp() {
	d := s.r.desiredNow()
	now := time.Now()
	s.mu.Lock()
	if !s.since.IsZero() { // IPCP renegotiated: the session goes on
		s.mu.Unlock()
		return
	}
	s.since = now
	prof, rad := s.profile, s.rad
	session, idle, interim := prof.SessionTimeout, prof.IdleTimeout, time.Duration(0)
	if rad != nil {
		if rad.SessionTimeout > 0 {
			session = rad.SessionTimeout
		}
		if rad.IdleTimeout > 0 {
			idle = rad.IdleTimeout
		}
		if rad.RateLimit != "" {
			s.rateLimit = rad.RateLimit
		}
		s.acctOn = d.AAA.Accounting
		interim = d.AAA.InterimUpdate
		if rad.InterimInterval > 0 {
			interim = rad.InterimInterval
		}
	}
	s.setSessionTimeout(session)
	s.setIdleTimeout(idle)
	s.setInterim(interim)
	acct := s.acctOn
	s.mu.Unlock()
	if acct {
		s.r.radius.acct.Send(s.record(aaa.Start, dataplane.Stats{}, 0))
	}
}

// setSessionTimeout (re)starts the session timer: d from now (a CoA's
// Session-Timeout counts from when it arrives). s.mu is held.
func (s *serverSession) setSessionTimeout(d time.Duration) {
	if s.timers.session != nil {
		s.timers.session.Stop()
		s.timers.session = nil
	}
	if d > 0 {
		s.timers.session = time.AfterFunc(d, func() { s.end(aaa.CauseSessionTimeout, "session timeout") })
	}
}

// setIdleTimeout (re)starts the idle check: the session ends when its
// data-plane packet counters have not moved for d. s.mu is held.
func (s *serverSession) setIdleTimeout(d time.Duration) {
	if s.timers.idle != nil {
		s.timers.idle.Stop()
		s.timers.idle = nil
	}
	if d <= 0 || s.r.noTUN {
		return
	}
	step := min(max(d/4, 100*time.Millisecond), 5*time.Second)
	var last uint64
	active := time.Now()
	var check func()
	check = func() {
		st := s.tun.stats()
		now := time.Now()
		if n := st.RxPackets + st.TxPackets; n != last {
			last, active = n, now
		}
		if now.Sub(active) >= d {
			s.end(aaa.CauseIdleTimeout, "idle timeout")
			return
		}
		s.mu.Lock()
		if s.timers.idle != nil && !s.ended {
			s.timers.idle.Reset(step)
		}
		s.mu.Unlock()
	}
	s.timers.idle = time.AfterFunc(step, check)
}

// setInterim (re)starts Interim-Updates every d. s.mu is held.
func (s *serverSession) setInterim(d time.Duration) {
	if s.timers.interim != nil {
		s.timers.interim.Stop()
		s.timers.interim = nil
	}
	if d <= 0 || !s.acctOn {
		return
	}
	var tick func()
	tick = func() {
		s.r.radius.acct.Send(s.record(aaa.Interim, s.tun.stats(), 0))
		s.mu.Lock()
		if s.timers.interim != nil && !s.ended {
			s.timers.interim.Reset(d)
		}
		s.mu.Unlock()
	}
	s.timers.interim = time.AfterFunc(d, tick)
}

// change applies a CoA-Request to the running session.
func (s *serverSession) change(req *aaa.Request) {
	s.mu.Lock()
	if req.HasSessionTimeout {
		s.setSessionTimeout(req.Change.SessionTimeout)
	}
	if req.HasIdleTimeout {
		s.setIdleTimeout(req.Change.IdleTimeout)
	}
	if req.HasInterimInterval {
		s.setInterim(req.Change.InterimInterval)
	}
	s.mu.Unlock()
	if req.HasRateLimit {
		s.SetRateLimit(req.Change.RateLimit)
	}
}

// sessionEnded stops the timers and sends the Stop record, with the
// counters read before the TUN went away.
func (s *serverSession) sessionEnded(err error, st dataplane.Stats) {
	s.mu.Lock()
	s.ended = true
	for _, t := range []*time.Timer{s.timers.session, s.timers.idle, s.timers.interim} {
		if t != nil {
			t.Stop()
		}
	}
	s.timers = sessionTimers{}
	acct := s.acctOn
	cause := s.cause
	s.mu.Unlock()
	if !acct {
		return
	}
	if cause == 0 {
		cause = terminateCause(err)
	}
	s.r.radius.acct.Send(s.record(aaa.Stop, st, cause))
}

// terminateCause maps why a session ended to RFC 2866 §5.10's causes.
func terminateCause(err error) rfc2866.AcctTerminateCause {
	switch {
	case errors.Is(err, ppp.ErrPeerTerminated):
		return aaa.CauseUserRequest
	case errors.Is(err, ppp.ErrLowerDown) && strings.Contains(err.Error(), "PADT"):
		return aaa.CauseUserRequest // the client hung up without LCP
	case errors.Is(err, ppp.ErrLowerDown), errors.Is(err, ppp.ErrKeepalive):
		return aaa.CauseLostCarrier
	case errors.Is(err, ppp.ErrClosed) && strings.Contains(err.Error(), "shutdown"):
		return aaa.CauseAdminReboot
	case errors.Is(err, ppp.ErrClosed) && strings.Contains(err.Error(), "removed"):
		return aaa.CauseNASRequest
	case errors.Is(err, ppp.ErrClosed):
		return aaa.CauseAdminReset
	}
	return aaa.CauseNASError
}

// record is an accounting record of the session now.
func (s *serverSession) record(status aaa.Status, st dataplane.Stats, cause rfc2866.AcctTerminateCause) *aaa.Record {
	now := time.Now()
	d := s.r.desiredNow()
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := &aaa.Record{
		Status: status, NAS: aaa.NAS{Identifier: d.Identity}, Port: s.port(), User: s.user,
		FramedIP: s.addr, Time: now, Cause: cause,
		InOctets: st.RxBytes, OutOctets: st.TxBytes, InPackets: st.RxPackets, OutPackets: st.TxPackets,
	}
	if !s.since.IsZero() {
		rec.SessionTime = now.Sub(s.since)
	}
	if s.rad != nil {
		rec.Class = s.rad.Class
	}
	return rec
}

// sessionTimers are the timers of an up session.
type sessionTimers struct {
	session, idle, interim *time.Timer
}
