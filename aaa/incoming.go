package aaa

import (
	"errors"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"
	"layeh.com/radius/vendors/mikrotik"
)

// Error-Cause values (RFC 5176 §3.5).
const (
	ErrorCauseUnsupportedAttribute = 401
	ErrorCauseMissingAttribute     = 402
	ErrorCauseInvalidRequest       = 404
	ErrorCauseUnsupportedService   = 405
	ErrorCauseSessionNotFound      = 503
)

// attrErrorCause is RFC 5176 §3.5's Error-Cause (101).
const attrErrorCause = 101

// Selector picks the sessions a Disconnect-Request or CoA-Request is
// about (RFC 5176 §3: session identification attributes); every field set
// must match.
type Selector struct {
	SessionID string
	User      string
	FramedIP  netip.Addr
}

// Empty reports whether the request named no session at all.
func (s Selector) Empty() bool { return s.SessionID == "" && s.User == "" && !s.FramedIP.IsValid() }

// Request is a decoded Disconnect-Request or CoA-Request.
type Request struct {
	Disconnect bool // else CoA
	Selector   Selector
	// Change is what a CoA asks for; only SessionTimeout, IdleTimeout,
	// InterimInterval and RateLimit apply to a running session, and
	// Has* say which of them it carries.
	Change                            Reply
	HasSessionTimeout, HasIdleTimeout bool
	HasInterimInterval, HasRateLimit  bool
	From                              netip.AddrPort
}

// Handler answers a request: ok, or the Error-Cause of the NAK.
type Handler func(req *Request) (ok bool, cause int)

// Incoming is the Dynamic Authorization Server of RFC 5176 (/radius
// incoming): Disconnect-Request and CoA-Request from the configured
// servers, authenticated with their shared secret.
type Incoming struct {
	conn    *net.UDPConn
	secrets func(from netip.Addr) (string, bool)
	handle  Handler
	// Log reports requests dropped or answered with a NAK.
	log  func(format string, args ...any)
	done chan struct{}

	mu     sync.Mutex
	recent map[string]cached
}

// cached is an answer kept for a retransmitted request (RFC 5176 §2.3:
// the server detects duplicates by source, Identifier and Authenticator).
type cached struct {
	reply []byte
	at    time.Time
}

// duplicateWindow is how long an answer is kept for duplicates.
const duplicateWindow = 10 * time.Second

// ListenIncoming listens on port (3799, RFC 5176 §3) of every address.
// secrets gives the shared secret of a source, false for one that is not
// a configured server (its requests are silently discarded, RFC 5176
// §5.1).
func ListenIncoming(port int, secrets func(from netip.Addr) (string, bool), handle Handler, log func(string, ...any)) (*Incoming, error) {
	conn, err := net.ListenUDP("udp", &net.UDPAddr{Port: port})
	if err != nil {
		return nil, err
	}
	in := &Incoming{conn: conn, secrets: secrets, handle: handle, log: log, done: make(chan struct{}), recent: map[string]cached{}}
	go in.run()
	return in, nil
}

// Close stops listening.
func (in *Incoming) Close() {
	in.conn.Close()
	<-in.done
}

// Port is the local port listened on.
func (in *Incoming) Port() int { return in.conn.LocalAddr().(*net.UDPAddr).Port }

func (in *Incoming) logf(format string, args ...any) {
	if in.log != nil {
		in.log(format, args...)
	}
}

func (in *Incoming) run() {
	defer close(in.done)
	var buf [radius.MaxPacketLength]byte
	for {
		n, from, err := in.conn.ReadFromUDPAddrPort(buf[:])
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		if reply := in.serve(buf[:n], from); reply != nil {
			in.conn.WriteToUDPAddrPort(reply, from)
		}
	}
}

// serve answers one datagram, nil to drop it.
func (in *Incoming) serve(b []byte, from netip.AddrPort) []byte {
	secret, ok := in.secrets(from.Addr())
	if !ok {
		in.logf("incoming: request from %s, not a configured RADIUS server, dropped", from.Addr())
		return nil
	}
	p, err := radius.Parse(b, []byte(secret))
	if err != nil {
		in.logf("incoming: malformed request from %s dropped: %v", from, err)
		return nil
	}
	if p.Code != radius.CodeDisconnectRequest && p.Code != radius.CodeCoARequest {
		in.logf("incoming: %v from %s dropped", p.Code, from)
		return nil
	}
	b = b[:int(b[2])<<8|int(b[3])]
	// RFC 5176 §3.5: the Request Authenticator is computed as for
	// accounting; a request failing it is silently discarded.
	if !radius.IsAuthenticRequest(b, []byte(secret)) {
		in.logf("incoming: %v from %s with a wrong authenticator (secret mismatch?) dropped", p.Code, from)
		return nil
	}
	if err := checkMessageAuthenticator(b, make([]byte, 16), []byte(secret)); err != nil {
		in.logf("incoming: %v from %s dropped: %v", p.Code, from, err)
		return nil
	}
	key := from.String() + string(b[1:2]) + string(b[4:20])
	now := time.Now()
	in.mu.Lock()
	for k, c := range in.recent {
		if now.Sub(c.at) > duplicateWindow {
			delete(in.recent, k)
		}
	}
	if c, ok := in.recent[key]; ok {
		in.mu.Unlock()
		return c.reply
	}
	in.mu.Unlock()

	req, cause := DecodeRequest(p)
	req.From = from
	ok = false
	if cause == 0 {
		ok, cause = in.handle(req)
	}
	code := radius.CodeDisconnectACK
	switch {
	case p.Code == radius.CodeDisconnectRequest && !ok:
		code = radius.CodeDisconnectNAK
	case p.Code == radius.CodeCoARequest && ok:
		code = radius.CodeCoAACK
	case p.Code == radius.CodeCoARequest:
		code = radius.CodeCoANAK
	}
	resp := p.Response(code)
	if !ok && cause != 0 {
		resp.Add(attrErrorCause, radius.NewInteger(uint32(cause)))
	}
	if !ok {
		in.logf("incoming: %v from %s: NAK, error cause %d", p.Code, from, cause)
	}
	reply, err := resp.Encode()
	if err != nil {
		return nil
	}
	in.mu.Lock()
	in.recent[key] = cached{reply: reply, at: now}
	in.mu.Unlock()
	return reply
}

// DecodeRequest reads a Disconnect-Request or CoA-Request; cause is the
// Error-Cause to NAK with when it cannot be served.
func DecodeRequest(p *radius.Packet) (*Request, int) {
	req := &Request{Disconnect: p.Code == radius.CodeDisconnectRequest}
	req.Selector.SessionID = rfc2866.AcctSessionID_GetString(p)
	req.Selector.User = rfc2865.UserName_GetString(p)
	if a, ok := p.Lookup(rfc2865.FramedIPAddress_Type); ok {
		ip, err := ipv4(a)
		if err != nil {
			return req, ErrorCauseInvalidRequest
		}
		req.Selector.FramedIP = ip
	}
	if req.Selector.Empty() {
		// RFC 5176 §3: at least one session identification attribute.
		return req, ErrorCauseMissingAttribute
	}
	if req.Disconnect {
		return req, 0
	}
	// RFC 5176 §3.5: a CoA asking for a change rosh cannot make gets a
	// NAK with Unsupported-Attribute, not a partial ACK.
	for _, a := range p.Attributes {
		if a.Type == rfc2865.VendorSpecific_Type {
			if id, v, err := radius.VendorSpecific(a.Attribute); err == nil && id == mikrotikVendor && len(v) > 0 && v[0] == mikrotikRateLimit {
				continue
			}
			return req, ErrorCauseUnsupportedAttribute
		}
		if !coaAttributes[a.Type] {
			return req, ErrorCauseUnsupportedAttribute
		}
	}
	p2 := *p
	p2.Code = radius.CodeCoARequest
	ch, err := DecodeReply(&p2)
	if err != nil {
		return req, ErrorCauseInvalidRequest
	}
	req.Change = ch
	_, req.HasSessionTimeout = p.Lookup(rfc2865.SessionTimeout_Type)
	_, req.HasIdleTimeout = p.Lookup(rfc2865.IdleTimeout_Type)
	_, req.HasInterimInterval = p.Lookup(85)
	_, err = mikrotik.MikrotikRateLimit_Lookup(p)
	req.HasRateLimit = err == nil
	return req, 0
}

// MikroTik's vendor id and Mikrotik-Rate-Limit's type (its dictionary).
const (
	mikrotikVendor    = 14988
	mikrotikRateLimit = 8
)

// coaAttributes are what a CoA-Request may carry: session and NAS
// identification (RFC 5176 §3), the changes rosh applies, and the
// attributes any request may have.
var coaAttributes = map[radius.Type]bool{
	rfc2865.UserName_Type: true, rfc2865.NASIPAddress_Type: true, rfc2865.NASPort_Type: true,
	rfc2865.FramedIPAddress_Type: true, rfc2865.SessionTimeout_Type: true, rfc2865.IdleTimeout_Type: true,
	rfc2865.CalledStationID_Type: true, rfc2865.CallingStationID_Type: true, rfc2865.NASIdentifier_Type: true,
	rfc2865.State_Type: true, rfc2865.Class_Type: true, rfc2865.ReplyMessage_Type: true,
	rfc2866.AcctSessionID_Type: true, rfc2866.AcctDelayTime_Type: true,
	55:                       true, // Event-Timestamp (RFC 2869 §5.3)
	attrMessageAuthenticator: true,
	85:                       true, // Acct-Interim-Interval (RFC 2869 §5.16)
}

// String names a request for the log.
func (r *Request) String() string {
	kind := "CoA"
	if r.Disconnect {
		kind = "Disconnect"
	}
	s := kind + " from " + r.From.Addr().String()
	if r.Selector.SessionID != "" {
		s += " session-id=" + r.Selector.SessionID
	}
	if r.Selector.User != "" {
		s += " user=" + strconv.Quote(r.Selector.User)
	}
	if r.Selector.FramedIP.IsValid() {
		s += " address=" + r.Selector.FramedIP.String()
	}
	return s
}
