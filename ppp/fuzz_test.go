package ppp

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"rosh/clock"
)

// Native fuzz targets, one per decoder: parse, marshal, parse again, and the
// two parses agree. Seeds name the edge they aim at.

func FuzzParsePacket(f *testing.F) {
	f.Add([]byte{})                                       // nothing
	f.Add([]byte{1, 1, 0})                                // header cut short
	f.Add([]byte{1, 1, 0, 3})                             // Length below the header
	f.Add([]byte{9, 1, 0, 8, 1, 2, 3, 4, 0, 0})           // padding past Length
	f.Add([]byte{1, 1, 0xff, 0xff, 1})                    // Length far past the end
	f.Add([]byte{1, 1, 0, 10, 1, 4, 5, 0xd4, 5, 6, 1, 2}) // Length inside an option
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePacket(b)
		if err != nil {
			return
		}
		if p.Length() != len(p) {
			t.Fatalf("Length %d, packet %d octets", p.Length(), len(p))
		}
		again := AppendPacket(nil, p.Code(), p.Identifier(), p.Data())
		if !bytes.Equal(again, p) {
			t.Fatalf("re-encoded %x, parsed %x", again, p)
		}
	})
}

func FuzzParseOptions(f *testing.F) {
	f.Add([]byte{})                                         // no options
	f.Add([]byte{1, 4, 5, 0xd4, 5, 6, 1, 2, 3, 4})          // MRU and magic
	f.Add([]byte{7, 2, 8, 2})                               // data-less options
	f.Add([]byte{1, 0})                                     // Length 0
	f.Add([]byte{1, 1})                                     // Length 1
	f.Add([]byte{3, 5, 0xc2, 0x23})                         // cut inside the last option
	f.Add([]byte{0x13, 0xff})                               // Length far past the end
	f.Add(append([]byte{0x42, 0xff}, make([]byte, 253)...)) // the longest option
	f.Fuzz(func(t *testing.T, b []byte) {
		opts, err := ParseOptions(b)
		if (err == nil) != (checkOptions(b) == nil) {
			t.Fatalf("ParseOptions and checkOptions disagree: %v", err)
		}
		if err != nil {
			return
		}
		out, err := opts.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, b) {
			t.Fatalf("re-encoded %x, parsed %x", out, b)
		}
		again, err := ParseOptions(out)
		if err != nil || len(again) != len(opts) {
			t.Fatalf("second parse: %v, %d options for %d", err, len(again), len(opts))
		}
	})
}

// nopClock never fires.
type nopClock struct{}

type nopTimer struct{}

func (nopTimer) C() <-chan time.Time                { return nil }
func (nopTimer) Stop() bool                         { return true }
func (nopTimer) Reset(time.Duration) bool           { return true }
func (nopClock) Now() time.Time                     { return time.Unix(0, 0) }
func (nopClock) NewTimer(time.Duration) clock.Timer { return nopTimer{} }
func nopSender() Sender                             { return SenderFunc(func(Protocol, []byte) error { return nil }) }
func fuzzAddrs(string) (IPConfig, error)            { return IPConfig{Peer: netip.MustParseAddr("10.0.0.5")}, nil }
func fuzzAuth(*AuthRequest) AuthResult              { return AuthResult{} }

func fuzzSession(t testing.TB, role Role) *Session {
	cfg := Config{Role: role, Clock: nopClock{}, User: "u", Password: "p", RequestDNS: true, Addresses: fuzzAddrs}
	if role == RoleServer {
		cfg.Require = AllMethods
		cfg.Authenticator = AuthenticatorFunc(fuzzAuth)
	}
	s, err := New(cfg, nopSender())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// checkReply checks a reply to a Configure-Request against RFC 1661
// §5.2–5.4: an Ack is the request, a Reject holds options of the request
// unchanged, a Nak holds well-formed options.
func checkReply(t *testing.T, req []byte, code Code, reply []byte) {
	t.Helper()
	if err := checkOptions(reply); err != nil {
		t.Fatalf("%s with malformed options %x: %v", code, reply, err)
	}
	switch code {
	case CodeConfigureAck:
		if !bytes.Equal(reply, req) {
			t.Fatalf("Ack %x differs from request %x", reply, req)
		}
	case CodeConfigureReject:
		if len(reply) == 0 || rejectMatchesRequest(reply, req) != nil {
			t.Fatalf("Reject %x is not a subset of request %x", reply, req)
		}
	case CodeConfigureNak:
		if len(reply) == 0 {
			t.Fatal("empty Nak")
		}
	default:
		t.Fatalf("reply code %s", code)
	}
}

// FuzzLCPConfigure feeds option lists to LCP as a peer's
// Configure-Request, Nak and Reject, in both roles.
func FuzzLCPConfigure(f *testing.F) {
	f.Add([]byte{1, 4, 5, 0xd4, 5, 6, 1, 2, 3, 4}, false)         // pppd: MRU 1492, magic
	f.Add([]byte{2, 6, 0, 0, 0, 0, 7, 2, 8, 2}, true)             // ACCM, PFC, ACFC: rejected
	f.Add([]byte{3, 4, 0xc0, 0x23, 3, 5, 0xc2, 0x23, 0x81}, true) // two auth options
	f.Add([]byte{3, 5, 0xc2, 0x23, 0x7f}, false)                  // unknown CHAP algorithm
	f.Add([]byte{3, 4, 0xc2, 0x27}, false)                        // EAP
	f.Add([]byte{5, 6, 0, 0, 0, 0}, false)                        // magic zero
	f.Add([]byte{1, 4, 0, 1}, false)                              // MRU 1
	f.Add([]byte{1, 3, 5}, false)                                 // MRU of the wrong size
	f.Add([]byte{0x11, 4, 5, 0xd4, 0x13, 3, 0}, true)             // MRRU, endpoint discriminator
	f.Fuzz(func(t *testing.T, opts []byte, server bool) {
		if checkOptions(opts) != nil {
			return // the automaton discards these before the layer sees them
		}
		role := RoleClient
		if server {
			role = RoleServer
		}
		s := fuzzSession(t, role)
		s.lcp.reset()
		s.lcp.f.req = s.lcp.appendRequest(s.lcp.f.req[:0])
		for _, rejectNaks := range []bool{false, true} {
			code, reply := s.lcp.checkRequest(opts, nil, rejectNaks)
			checkReply(t, opts, code, reply)
			if rejectNaks && code == CodeConfigureNak {
				t.Fatal("Nak after Max-Failure")
			}
		}
		_ = s.lcp.gotNak(opts)
		_ = s.lcp.gotReject(opts)
		if s.lcp.want.hasMRU && s.lcp.want.mru < minMRU {
			t.Fatalf("took MRU %d from a Nak", s.lcp.want.mru)
		}
		if s.lcp.want.auth != MethodNone && !s.cfg.Require.Has(s.lcp.want.auth) {
			t.Fatalf("asks for %s outside %s", s.lcp.want.auth, s.cfg.Require)
		}
	})
}

// FuzzIPCPConfigure does the same for IPCP.
func FuzzIPCPConfigure(f *testing.F) {
	f.Add([]byte{2, 6, 0, 0x2d, 0x0f, 1, 3, 6, 0, 0, 0, 0}, true)  // VJ and 0.0.0.0
	f.Add([]byte{3, 6, 10, 0, 0, 5, 0x81, 6, 0, 0, 0, 0}, true)    // address and DNS
	f.Add([]byte{0x82, 6, 0, 0, 0, 0, 0x84, 6, 0, 0, 0, 0}, false) // NBNS
	f.Add([]byte{3, 6, 0, 0, 0, 0, 3, 6, 1, 1, 1, 1}, false)       // the address twice
	f.Add([]byte{3, 2}, true)                                      // address without data
	f.Add([]byte{}, true)                                          // no options: Nak with the address
	f.Fuzz(func(t *testing.T, opts []byte, server bool) {
		if checkOptions(opts) != nil {
			return
		}
		role := RoleClient
		if server {
			role = RoleServer
		}
		s := fuzzSession(t, role)
		ip, _ := fuzzAddrs("")
		ip.Local = netip.MustParseAddr("10.0.0.1")
		ip.PrimaryDNS = netip.MustParseAddr("10.0.0.53")
		s.ipcp.assign(ip)
		s.ipcp.reset()
		s.ipcp.f.req = s.ipcp.appendRequest(s.ipcp.f.req[:0])
		for _, rejectNaks := range []bool{false, true} {
			code, reply := s.ipcp.checkRequest(opts, nil, rejectNaks)
			checkReply(t, opts, code, reply)
		}
		_ = s.ipcp.gotNak(opts)
		_ = s.ipcp.gotReject(opts)
	})
}

func FuzzPAP(f *testing.F) {
	f.Add([]byte{1, 7, 0, 14, 3, 'b', 'o', 'b', 5, 's', 'e', 'c', 'r', 't'}) // a request
	f.Add([]byte{1, 7, 0, 6, 0, 0})                                          // empty name and password
	f.Add([]byte{1, 7, 0, 6, 9, 0})                                          // Peer-ID Length past the end
	f.Add([]byte{2, 7, 0, 4})                                                // Ack without Msg-Length
	f.Add([]byte{3, 7, 0, 8, 3, 'b', 'a', 'd'})                              // Nak with a message
	f.Add([]byte{1, 7, 0, 9, 1, 'x', 1, 'y', 'z'})                           // trailing octet
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePAP(b)
		if err != nil {
			return
		}
		out, err := p.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		q, err := ParsePAP(out)
		if err != nil {
			t.Fatalf("re-parse of %x: %v", out, err)
		}
		if q.Code != p.Code || q.ID != p.ID || !bytes.Equal(q.PeerID, p.PeerID) || !bytes.Equal(q.Password, p.Password) || !bytes.Equal(q.Message, p.Message) {
			t.Fatalf("%+v became %+v", p, q)
		}
	})
}

func FuzzCHAP(f *testing.F) {
	f.Add([]byte{1, 1, 0, 15, 8, 1, 2, 3, 4, 5, 6, 7, 8, 'a', 'c'})         // MS-CHAPv1 challenge
	f.Add([]byte{2, 1, 0, 5, 0})                                            // empty value
	f.Add([]byte{2, 1, 0, 6, 49, 0})                                        // Value-Size past the end
	f.Add([]byte{3, 1, 0, 4})                                               // empty Success
	f.Add([]byte{4, 1, 0, 13, 'E', '=', '6', '9', '1', ' ', 'R', '=', '0'}) // MS-CHAP Failure
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseCHAP(b)
		if err != nil {
			return
		}
		out, err := p.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		q, err := ParseCHAP(out)
		if err != nil {
			t.Fatalf("re-parse of %x: %v", out, err)
		}
		if q.Code != p.Code || q.ID != p.ID || !bytes.Equal(q.Value, p.Value) || !bytes.Equal(q.Name, p.Name) || !bytes.Equal(q.Message, p.Message) {
			t.Fatalf("%+v became %+v", p, q)
		}
	})
}

func FuzzMSCHAPResponse(f *testing.F) {
	f.Add(make([]byte, 49))            // all zero
	f.Add(make([]byte, 48))            // one short
	f.Add(make([]byte, 50))            // one long
	f.Add(append(make([]byte, 48), 1)) // MS-CHAPv1 UseNT flag
	f.Fuzz(func(t *testing.T, v []byte) {
		if r, err := ParseMSCHAPv1Response(v); err == nil {
			out := make([]byte, r.Len())
			if _, err := r.MarshalTo(out); err != nil || !bytes.Equal(out, v) {
				t.Fatalf("v1: %x became %x (%v)", v, out, err)
			}
		}
		if r, err := ParseMSCHAPv2Response(v); err == nil {
			out := make([]byte, r.Len())
			if _, err := r.MarshalTo(out); err != nil || !bytes.Equal(out, v) {
				t.Fatalf("v2: %x became %x (%v)", v, out, err)
			}
		}
		// The authenticator's check must not trip over any response.
		for _, m := range []Method{CHAP, MSCHAPv1, MSCHAPv2} {
			VerifyPassword(&AuthRequest{Method: m, User: "u", Challenge: v, Response: v}, "p")
		}
	})
}

func FuzzMSCHAPMessages(f *testing.F) {
	f.Add("E=691 R=0")                                                // RFC 2433 minimum
	f.Add("E=691 R=1 C=0102030405060708090A0B0C0D0E0F10 V=3 M=retry") // RFC 2759 full
	f.Add("E=648 R=0 V=3 M=")                                         // empty message
	f.Add("E=+5 R=0")                                                 // sign on a number
	f.Add("E=1 C= M=x")                                               // empty challenge
	f.Add("S=407A5589115FD0D6209F510FE9C04566932CDA56 M=Access granted")
	f.Add("  E=691   R=0  ") // extra spaces
	f.Fuzz(func(t *testing.T, msg string) {
		ParseMSCHAPv2Success(msg)
		fl, err := ParseMSCHAPFailure(msg)
		if err != nil {
			return
		}
		again, err := ParseMSCHAPFailure(fl.String())
		if err != nil {
			t.Fatalf("%q → %q: %v", msg, fl.String(), err)
		}
		if again.Error != fl.Error || again.Retry != fl.Retry || !bytes.Equal(again.Challenge, fl.Challenge) || again.Version != fl.Version || again.Message != fl.Message {
			t.Fatalf("%+v became %+v", fl, again)
		}
	})
}

// BenchmarkLCPCheckRequest measures the answer to pppd's usual LCP
// Configure-Request.
func BenchmarkLCPCheckRequest(b *testing.B) {
	s := fuzzSession(b, RoleClient)
	s.lcp.reset()
	req := []byte{1, 4, 5, 0xd4, 3, 5, 0xc2, 0x23, 0x81, 5, 6, 1, 2, 3, 4}
	out := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		if code, _ := s.lcp.checkRequest(req, out[:0], false); code != CodeConfigureAck {
			b.Fatal(code)
		}
	}
}

// BenchmarkIPCPCheckRequest measures the server's Nak of pppd's first IPCP
// request (VJ rejected).
func BenchmarkIPCPCheckRequest(b *testing.B) {
	s := fuzzSession(b, RoleServer)
	ip, _ := fuzzAddrs("")
	s.ipcp.assign(ip)
	req := []byte{3, 6, 0, 0, 0, 0, 0x81, 6, 0, 0, 0, 0}
	out := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		s.ipcp.checkRequest(req, out[:0], false)
	}
}
