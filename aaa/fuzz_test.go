package aaa

import (
	"net"
	"net/netip"
	"reflect"
	"testing"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2869"
	"layeh.com/radius/vendors/microsoft"
	"layeh.com/radius/vendors/mikrotik"

	"rosh/ppp"
)

var fuzzSecret = []byte("testing123")

// fuzzRequest is the Access-Request the fuzzed replies answer.
func fuzzRequest(t testing.TB) []byte {
	req, err := NewAccessRequest(fuzzSecret, NAS{Identifier: "MikroTik"}, Port{Number: 1, SessionID: "81000001"},
		&ppp.AuthRequest{Method: ppp.PAP, User: "MT-User", Password: "StrongPass"})
	if err != nil {
		t.Fatal(err)
	}
	req.Identifier, req.Authenticator = 7, [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	// The Message-Authenticator was computed over the random header.
	req.Del(attrMessageAuthenticator)
	b, err := req.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// encodeReply writes r as the attributes of a reply to req: the inverse
// of DecodeReply, for the round trip.
func encodeReply(t testing.TB, r Reply, req []byte) []byte {
	code := radius.CodeAccessReject
	if r.Accept {
		code = radius.CodeAccessAccept
	}
	p := &radius.Packet{Code: code, Identifier: req[1], Secret: fuzzSecret}
	copy(p.Authenticator[:], req[4:20])
	if r.Message != "" {
		rfc2865.ReplyMessage_AddString(p, r.Message)
	}
	if r.FramedIP.IsValid() {
		rfc2865.FramedIPAddress_Add(p, net.IP(r.FramedIP.AsSlice()))
	}
	if r.FramedNetmask.IsValid() {
		rfc2865.FramedIPNetmask_Add(p, net.IP(r.FramedNetmask.AsSlice()))
	}
	if r.FramedPool != "" {
		rfc2869.FramedPool_AddString(p, r.FramedPool)
	}
	for _, rt := range r.FramedRoutes {
		rfc2865.FramedRoute_AddString(p, rt)
	}
	if r.SessionTimeout > 0 {
		rfc2865.SessionTimeout_Add(p, rfc2865.SessionTimeout(r.SessionTimeout.Seconds()))
	}
	if r.IdleTimeout > 0 {
		rfc2865.IdleTimeout_Add(p, rfc2865.IdleTimeout(r.IdleTimeout.Seconds()))
	}
	if r.InterimInterval > 0 {
		rfc2869.AcctInterimInterval_Add(p, rfc2869.AcctInterimInterval(r.InterimInterval.Seconds()))
	}
	for _, c := range r.Class {
		rfc2865.Class_Add(p, c)
	}
	if r.Group != "" {
		mikrotik.MikrotikGroup_AddString(p, r.Group)
	}
	if r.RateLimit != "" {
		mikrotik.MikrotikRateLimit_AddString(p, r.RateLimit)
	}
	for i, d := range r.DNS {
		if i == 0 {
			microsoft.MSPrimaryDNSServer_Add(p, net.IP(d.AsSlice()))
		} else if i == 1 {
			microsoft.MSSecondaryDNSServer_Add(p, net.IP(d.AsSlice()))
		}
	}
	if r.MSCHAP2Success != "" {
		microsoft.MSCHAP2Success_Add(p, append([]byte{1}, r.MSCHAP2Success...))
	}
	b, err := p.Encode()
	if err != nil {
		t.Skip() // too long to encode again: nothing to compare
	}
	return b
}

// FuzzReply feeds arbitrary datagrams to the reply path the access
// concentrator runs on what arrives from a server: CheckResponse (header,
// Response Authenticator, Message-Authenticator), then DecodeReply. It
// must never panic; a reply it accepts must encode back to a reply that
// decodes to the same thing.
func FuzzReply(f *testing.F) {
	req := fuzzRequest(f)
	full := Reply{
		Accept: true, Message: "welcome", FramedIP: mustAddr("10.0.0.77"), FramedPool: "subs",
		FramedNetmask: mustAddr("255.255.255.255"), FramedRoutes: []string{"192.168.1.0/24 10.0.0.77 1"},
		SessionTimeout: 3600e9, IdleTimeout: 600e9, InterimInterval: 60e9, Class: [][]byte{[]byte("c1")},
		Group: "gold", RateLimit: "1M/2M", DNS: []netip.Addr{mustAddr("8.8.8.8"), mustAddr("1.1.1.1")},
		MSCHAP2Success: "S=0123456789ABCDEF0123456789ABCDEF01234567",
	}
	f.Add(encodeReply(f, full, req))                             // every attribute rosh honours
	f.Add(encodeReply(f, Reply{Message: "wrong password"}, req)) // a reject
	f.Add(encodeReply(f, Reply{Accept: true}, req))              // an empty accept
	short := encodeReply(f, Reply{Accept: true}, req)
	f.Add(short[:19]) // shorter than the header
	bad := encodeReply(f, Reply{Accept: true, FramedPool: "p"}, req)
	bad[len(bad)-4] = 0xff // an attribute length past the end
	f.Add(bad)
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := CheckResponse(b, req, fuzzSecret)
		if err != nil {
			// Whatever fails the checks may still be decoded by a
			// careless caller: DecodeReply must survive it too.
			if q, err := radius.Parse(b, fuzzSecret); err == nil {
				DecodeReply(q)
			}
			return
		}
		r, err := DecodeReply(p)
		if err != nil {
			return
		}
		again, err := DecodeReply(mustParse(t, encodeReply(t, r, req)))
		if err != nil {
			t.Fatalf("re-encoded reply does not decode: %v", err)
		}
		if len(r.DNS) > 2 {
			r.DNS = r.DNS[:2]
		}
		norm(&r)
		norm(&again)
		if !reflect.DeepEqual(r, again) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", again, r)
		}
	})
}

func mustParse(t *testing.T, b []byte) *radius.Packet {
	p, err := radius.Parse(b, fuzzSecret)
	if err != nil {
		t.Fatalf("re-encoded reply does not parse: %v", err)
	}
	return p
}

// norm clears what the encoding does not keep apart: empty lists.
func norm(r *Reply) {
	if len(r.FramedRoutes) == 0 {
		r.FramedRoutes = nil
	}
	if len(r.Class) == 0 {
		r.Class = nil
	}
	if len(r.DNS) == 0 {
		r.DNS = nil
	}
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
