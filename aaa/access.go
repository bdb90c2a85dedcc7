package aaa

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"
	"layeh.com/radius/rfc2869"
	"layeh.com/radius/vendors/microsoft"
	"layeh.com/radius/vendors/mikrotik"

	"rosh/ppp"
)

// NAS is who asks: the access concentrator.
type NAS struct {
	// Identifier is the router's identity (NAS-Identifier, RFC 2865
	// §5.32).
	Identifier string
	// IP is the NAS-IP-Address (RFC 2865 §5.4): the server's src-address
	// when set, else the address the request leaves from.
	IP netip.Addr
}

// Port is the session a request is about.
type Port struct {
	// Number is the NAS-Port (RFC 2865 §5.5): the PPPoE session id.
	Number uint32
	// CallingStationID is the client's MAC (RFC 2865 §5.31), CalledStationID
	// the PPPoE service name (§5.30) — what RouterOS sends.
	CallingStationID, CalledStationID string
	// SessionID is the Acct-Session-Id (RFC 2866 §5.5), sent in the
	// Access-Request too so that the server can tie them together.
	SessionID string
}

// addCommon adds what every request about a session carries.
func addCommon(p *radius.Packet, nas NAS, port Port, user string) {
	rfc2865.UserName_AddString(p, user)
	rfc2865.NASIdentifier_AddString(p, nas.Identifier)
	if nas.IP.Is4() {
		rfc2865.NASIPAddress_Add(p, net.IP(nas.IP.AsSlice()))
	}
	rfc2865.NASPort_Add(p, rfc2865.NASPort(port.Number))
	rfc2865.NASPortType_Add(p, rfc2865.NASPortType_Value_Ethernet)
	rfc2865.ServiceType_Add(p, rfc2865.ServiceType_Value_FramedUser)
	rfc2865.FramedProtocol_Add(p, rfc2865.FramedProtocol_Value_PPP)
	if port.CallingStationID != "" {
		rfc2865.CallingStationID_AddString(p, port.CallingStationID)
	}
	if port.CalledStationID != "" {
		rfc2865.CalledStationID_AddString(p, port.CalledStationID)
	}
	if port.SessionID != "" {
		rfc2866.AcctSessionID_AddString(p, port.SessionID)
	}
}

// NewAccessRequest is the Access-Request for one PPP authentication, its
// credentials as the method carries them:
//   - PAP: User-Password, hidden with the secret (RFC 2865 §5.2);
//   - CHAP-MD5: CHAP-Password = Identifier + Response, and the Challenge
//     in CHAP-Challenge (RFC 2865 §5.3, §5.40);
//   - MS-CHAPv1: MS-CHAP-Challenge and MS-CHAP-Response = Ident, Flags,
//     LM-Response, NT-Response (RFC 2548 §2.1.3, §2.3.3);
//   - MS-CHAPv2: MS-CHAP-Challenge and MS-CHAP2-Response = Ident, Flags,
//     Peer-Challenge, Reserved, NT-Response (RFC 2548 §2.3.2).
//
// The PPP Response Value has Flags last (RFC 2433 §4, RFC 2759 §4); the
// attributes have it second.
func NewAccessRequest(secret []byte, nas NAS, port Port, r *ppp.AuthRequest) (*radius.Packet, error) {
	p := radius.New(radius.CodeAccessRequest, secret)
	addCommon(p, nas, port, r.User)
	switch r.Method {
	case ppp.PAP:
		if len(r.Password) > 128 {
			return nil, fmt.Errorf("PAP password longer than 128 octets (RFC 2865 §5.2)")
		}
		if err := rfc2865.UserPassword_AddString(p, r.Password); err != nil {
			return nil, err
		}
	case ppp.CHAP:
		if len(r.Response) != 16 {
			return nil, fmt.Errorf("CHAP response of %d octets", len(r.Response))
		}
		rfc2865.CHAPPassword_Add(p, append([]byte{r.ID}, r.Response...))
		rfc2865.CHAPChallenge_Add(p, r.Challenge)
	case ppp.MSCHAPv1, ppp.MSCHAPv2:
		if len(r.Response) != 49 {
			return nil, fmt.Errorf("%v response of %d octets", r.Method, len(r.Response))
		}
		v := make([]byte, 0, 50)
		v = append(v, r.ID, r.Response[48])
		v = append(v, r.Response[:48]...)
		microsoft.MSCHAPChallenge_Add(p, r.Challenge)
		if r.Method == ppp.MSCHAPv1 {
			microsoft.MSCHAPResponse_Add(p, v)
		} else {
			microsoft.MSCHAP2Response_Add(p, v)
		}
	default:
		return nil, fmt.Errorf("unsupported method %v", r.Method)
	}
	if err := signAccessRequest(p); err != nil {
		return nil, err
	}
	return p, nil
}

// Reply is what an Access-Accept, Access-Reject or CoA-Request says about
// a session; zero fields were absent.
type Reply struct {
	Accept  bool
	Message string // Reply-Message (RFC 2865 §5.18), joined
	// Address decides the peer's address: Framed-IP-Address, else an
	// address from Framed-Pool (RFC 2869 §5.18).
	FramedIP      netip.Addr
	FramedPool    string
	FramedNetmask netip.Addr
	FramedRoutes  []string
	// SessionTimeout, IdleTimeout (RFC 2865 §5.27, §5.28) and
	// InterimInterval (Acct-Interim-Interval, RFC 2869 §5.16).
	SessionTimeout, IdleTimeout, InterimInterval time.Duration
	// Class is echoed in every accounting request (RFC 2865 §5.25).
	Class [][]byte
	// Group is Mikrotik-Group: the /ppp profile of the session;
	// RateLimit is Mikrotik-Rate-Limit, overriding the profile's.
	Group, RateLimit string
	// DNS are MS-Primary-DNS-Server and MS-Secondary-DNS-Server
	// (RFC 2548 §2.2.3).
	DNS []netip.Addr
	// MSCHAP2Success is the "S=…" authenticator response of
	// MS-CHAP2-Success, without its Ident (RFC 2548 §2.3.3), to pass to
	// the MS-CHAPv2 peer; MSCHAPError the E= code of MS-CHAP-Error
	// (§2.1.5) of a reject.
	MSCHAP2Success string
	MSCHAPError    int
}

// DecodeReply reads the attributes rosh honours from an Access-Accept or
// Access-Reject (or a CoA-Request). A malformed value of an attribute
// that decides something is an error: a session must not come up with
// half its authorisation understood.
func DecodeReply(p *radius.Packet) (Reply, error) {
	var r Reply
	switch p.Code {
	case radius.CodeAccessAccept:
		r.Accept = true
	case radius.CodeAccessReject, radius.CodeCoARequest:
	default:
		return r, fmt.Errorf("%w: unexpected %v", ErrBadResponse, p.Code)
	}
	var msgs []string
	for _, a := range p.Attributes {
		var err error
		switch a.Type {
		case rfc2865.ReplyMessage_Type:
			msgs = append(msgs, strings.TrimRight(radius.String(a.Attribute), "\r\n\x00"))
		case rfc2865.FramedIPAddress_Type:
			r.FramedIP, err = ipv4(a.Attribute)
		case rfc2865.FramedIPNetmask_Type:
			r.FramedNetmask, err = ipv4(a.Attribute)
		case rfc2869.FramedPool_Type:
			r.FramedPool = radius.String(a.Attribute)
		case rfc2865.FramedRoute_Type:
			r.FramedRoutes = append(r.FramedRoutes, radius.String(a.Attribute))
		case rfc2865.SessionTimeout_Type:
			r.SessionTimeout, err = seconds(a.Attribute)
		case rfc2865.IdleTimeout_Type:
			r.IdleTimeout, err = seconds(a.Attribute)
		case rfc2869.AcctInterimInterval_Type:
			r.InterimInterval, err = seconds(a.Attribute)
		case rfc2865.Class_Type:
			r.Class = append(r.Class, append([]byte(nil), a.Attribute...))
		}
		if err != nil {
			return Reply{}, fmt.Errorf("%w: attribute %d: %v", ErrBadResponse, a.Type, err)
		}
	}
	r.Message = strings.Join(msgs, " ")
	// Vendor-Specific (RFC 2865 §5.26): the generated lookups parse the
	// Vendor-Id, vendor type and length of each.
	if v, err := mikrotik.MikrotikGroup_LookupString(p); err == nil {
		r.Group = v
	}
	if v, err := mikrotik.MikrotikRateLimit_LookupString(p); err == nil {
		r.RateLimit = v
	}
	for _, f := range []func(*radius.Packet) (net.IP, error){microsoft.MSPrimaryDNSServer_Lookup, microsoft.MSSecondaryDNSServer_Lookup} {
		if ip, err := f(p); err == nil {
			if a, ok := netip.AddrFromSlice(ip); ok && a.Is4() {
				r.DNS = append(r.DNS, a)
			}
		}
	}
	if v, err := microsoft.MSCHAP2Success_Lookup(p); err == nil {
		// Ident, then "S=" and 40 hex digits (RFC 2548 §2.3.3).
		if len(v) < 43 || string(v[1:3]) != "S=" {
			return Reply{}, fmt.Errorf("%w: malformed MS-CHAP2-Success", ErrBadResponse)
		}
		r.MSCHAP2Success = string(v[1:43])
	}
	if v, err := microsoft.MSCHAPError_Lookup(p); err == nil && len(v) > 1 {
		// Ident, then "E=691 R=0 …" (RFC 2548 §2.1.5).
		if f := strings.Fields(string(v[1:])); len(f) > 0 && strings.HasPrefix(f[0], "E=") {
			r.MSCHAPError, _ = strconv.Atoi(f[0][2:])
		}
	}
	return r, nil
}

func ipv4(a radius.Attribute) (netip.Addr, error) {
	if len(a) != 4 {
		return netip.Addr{}, fmt.Errorf("address of %d octets", len(a))
	}
	return netip.AddrFrom4([4]byte(a)), nil
}

func seconds(a radius.Attribute) (time.Duration, error) {
	n, err := radius.Integer(a)
	if err != nil {
		return 0, err
	}
	return time.Duration(n) * time.Second, nil
}

// Route is a route toward the user: Framed-Route, or the subnet of
// Framed-IP-Address and Framed-IP-Netmask.
type Route struct {
	Dst    netip.Prefix
	Metric int
}

// Routes are the routes the reply asks the NAS to point at the session:
// each Framed-Route ("<dst>[/<bits>] [<gateway> [<metric>…]]", RFC 2865
// §5.22; the gateway, when given, is the user's end of the link, which a
// point-to-point link needs no address for) and, with a Framed-IP-Netmask
// shorter than /32, the user's whole subnet (RFC 2865 §5.9). A malformed
// Framed-Route is skipped and reported in bad.
func (r *Reply) Routes() (routes []Route, bad []string) {
	for _, s := range r.FramedRoutes {
		f := strings.Fields(s)
		if len(f) == 0 {
			bad = append(bad, s)
			continue
		}
		dst := f[0]
		if !strings.Contains(dst, "/") {
			dst += "/32"
		}
		p, err := netip.ParsePrefix(dst)
		if err != nil || !p.Addr().Is4() {
			bad = append(bad, s)
			continue
		}
		rt := Route{Dst: p.Masked()}
		if len(f) > 2 {
			if m, err := strconv.Atoi(f[2]); err == nil && m >= 0 {
				rt.Metric = m
			}
		}
		routes = append(routes, rt)
	}
	if r.FramedIP.Is4() && r.FramedNetmask.Is4() {
		ones := 0
		for _, b := range r.FramedNetmask.As4() {
			for i := 7; i >= 0 && b&(1<<i) != 0; i-- {
				ones++
			}
		}
		if ones < 32 {
			if p, err := r.FramedIP.Prefix(ones); err == nil {
				routes = append(routes, Route{Dst: p})
			}
		}
	}
	return routes, bad
}
