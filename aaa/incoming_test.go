package aaa

import (
	"net"
	"net/netip"
	"testing"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"
	"layeh.com/radius/vendors/mikrotik"
)

// dynRequest is a Disconnect- or CoA-Request signed with fuzzSecret.
func dynRequest(t testing.TB, code radius.Code, add func(p *radius.Packet)) []byte {
	p := radius.New(code, fuzzSecret)
	add(p)
	b, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newTestIncoming(handle Handler) *Incoming {
	return &Incoming{
		secrets: func(from netip.Addr) (string, bool) {
			return string(fuzzSecret), from == netip.MustParseAddr("127.0.0.1")
		},
		handle: handle, recent: map[string]cached{},
	}
}

var fromServer = netip.MustParseAddrPort("127.0.0.1:40000")

// TestIncoming: requests are answered ACK or NAK with the Error-Cause the
// handler gives; a retransmission gets the same answer without running
// the handler again; strangers and wrong secrets get nothing.
func TestIncoming(t *testing.T) {
	calls := 0
	in := newTestIncoming(func(r *Request) (bool, int) {
		calls++
		if r.Selector.SessionID == "81000001" {
			return true, 0
		}
		return false, ErrorCauseSessionNotFound
	})
	disc := dynRequest(t, radius.CodeDisconnectRequest, func(p *radius.Packet) { rfc2866.AcctSessionID_SetString(p, "81000001") })
	for i := 0; i < 2; i++ {
		resp, err := radius.Parse(in.serve(disc, fromServer), fuzzSecret)
		if err != nil || resp.Code != radius.CodeDisconnectACK {
			t.Fatalf("disconnect: %v %v", resp, err)
		}
	}
	if calls != 1 {
		t.Errorf("handler ran %d times for a request and its retransmission", calls)
	}
	coa := dynRequest(t, radius.CodeCoARequest, func(p *radius.Packet) {
		rfc2865.UserName_SetString(p, "nobody")
		rfc2865.SessionTimeout_Set(p, 30)
	})
	resp, err := radius.Parse(in.serve(coa, fromServer), fuzzSecret)
	if err != nil || resp.Code != radius.CodeCoANAK {
		t.Fatalf("coa: %v %v", resp, err)
	}
	if a, ok := resp.Lookup(attrErrorCause); !ok || radius.Bytes(a)[3] != 503&0xff {
		t.Errorf("NAK without Error-Cause 503: %v", resp.Attributes)
	}
	empty := dynRequest(t, radius.CodeCoARequest, func(p *radius.Packet) { rfc2865.SessionTimeout_Set(p, 30) })
	resp, _ = radius.Parse(in.serve(empty, fromServer), fuzzSecret)
	if a, ok := resp.Lookup(attrErrorCause); !ok || radius.Bytes(a)[3] != ErrorCauseMissingAttribute&0xff {
		t.Errorf("a request naming no session: %v", resp)
	}
	filter := dynRequest(t, radius.CodeCoARequest, func(p *radius.Packet) {
		rfc2866.AcctSessionID_SetString(p, "81000001")
		rfc2865.FilterID_SetString(p, "gold")
	})
	resp, _ = radius.Parse(in.serve(filter, fromServer), fuzzSecret)
	if a, ok := resp.Lookup(attrErrorCause); resp.Code != radius.CodeCoANAK || !ok || radius.Bytes(a)[3] != ErrorCauseUnsupportedAttribute&0xff {
		t.Errorf("a CoA with Filter-Id, which rosh cannot apply: %v", resp)
	}
	if b := in.serve(disc, netip.MustParseAddrPort("192.0.2.1:40000")); b != nil {
		t.Error("a stranger's request was answered")
	}
	forged := append([]byte(nil), disc...)
	forged[len(forged)-1] ^= 1
	if b := in.serve(forged, netip.MustParseAddrPort("127.0.0.1:40001")); b != nil {
		t.Error("a request with a wrong authenticator was answered")
	}
}

// FuzzIncoming feeds arbitrary datagrams from a configured server to the
// Dynamic Authorization path: never a panic, and a request decoded is
// answered.
func FuzzIncoming(f *testing.F) {
	f.Add(dynRequest(f, radius.CodeDisconnectRequest, func(p *radius.Packet) { rfc2866.AcctSessionID_SetString(p, "81000001") })) // by session id
	f.Add(dynRequest(f, radius.CodeCoARequest, func(p *radius.Packet) {                                                           // every attribute a CoA may change
		rfc2865.FramedIPAddress_Set(p, net.IPv4(10, 0, 0, 5))
		rfc2865.SessionTimeout_Set(p, 30)
		rfc2865.IdleTimeout_Set(p, 10)
		mikrotik.MikrotikRateLimit_SetString(p, "1M/2M")
	}))
	f.Add(dynRequest(f, radius.CodeCoARequest, func(p *radius.Packet) { p.Add(rfc2865.FramedIPAddress_Type, radius.Attribute{1, 2, 3}) })) // a 3-octet address
	f.Add([]byte{40, 1, 0, 20})                                                                                                            // header cut short
	f.Fuzz(func(t *testing.T, b []byte) {
		in := newTestIncoming(func(r *Request) (bool, int) { return r.Selector.SessionID != "", 0 })
		in.serve(b, fromServer)
		if p, err := radius.Parse(b, fuzzSecret); err == nil {
			DecodeRequest(p)
		}
	})
}
