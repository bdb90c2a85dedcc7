package ppp_test

import (
	"testing"
	"time"

	"rosh/ppp"
)

// fuzzProtos are the protocols the session fuzz target picks from.
var fuzzProtos = []ppp.Protocol{ppp.ProtoLCP, ppp.ProtoPAP, ppp.ProtoCHAP, ppp.ProtoIPCP, ppp.ProtoIPv4, ppp.ProtoCCP, ppp.ProtoIPV6CP, ppp.ProtoMP}

// seq encodes packets for FuzzSessionInput: a protocol selector, a length,
// the bytes.
func seq(pkts ...[]byte) []byte {
	var b []byte
	for _, p := range pkts {
		b = append(b, p[0], byte(len(p)-1))
		b = append(b, p[1:]...)
	}
	return b
}

// FuzzSessionInput feeds a session, in either role, opened or not, any
// sequence of packets of any protocol, with time passing between them: it
// must neither panic nor send more than the peer's MRU.
func FuzzSessionInput(f *testing.F) {
	sel := func(i byte, p []byte) []byte { return append([]byte{i}, p...) }
	// A pppd bring-up as the client sees it.
	f.Add(false, true, seq(
		sel(0, pkt(ppp.CodeConfigureRequest, 1, 1, 4, 5, 0xd4, 3, 5, 0xc2, 0x23, 0x81, 5, 6, 1, 2, 3, 4)),
		sel(2, pkt(ppp.CHAPChallenge, 1, 16, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 'a', 'c')),
	))
	// The server in Authenticate, given a short and a long CHAP response.
	f.Add(true, true, seq(
		sel(2, pkt(ppp.CHAPResponse, 1, 1, 0)),
		sel(2, pkt(ppp.CHAPResponse, 1, 49, 0, 0, 0)),
	))
	// Echo, Discard, a Code-Reject of Configure-Request, a Protocol-Reject
	// of IPCP, an unknown code, a Terminate-Request.
	f.Add(true, false, seq(
		sel(0, pkt(ppp.CodeEchoRequest, 1, 0, 0, 0, 0, 9)),
		sel(0, pkt(ppp.CodeDiscardRequest, 2, 0, 0, 0, 0)),
		sel(0, pkt(ppp.CodeCodeReject, 3, 1, 1, 0, 4)),
		sel(0, pkt(ppp.CodeProtocolReject, 4, 0x80, 0x21, 1, 1, 0, 4)),
		sel(0, pkt(42, 5)),
		sel(0, pkt(ppp.CodeTerminateRequest, 6, 'b', 'y', 'e')),
	))
	// IPCP with VJ; CCP; garbage IPv4; a header whose Length lies.
	f.Add(true, false, seq(
		sel(3, pkt(ppp.CodeConfigureRequest, 1, 2, 6, 0, 0x2d, 0x0f, 1, 3, 6, 0, 0, 0, 0)),
		sel(5, pkt(ppp.CodeConfigureRequest, 1, 0x1a, 4, 0x78, 0)),
		sel(4, []byte{0x45}),
		sel(0, []byte{1, 1, 0xff, 0xff}),
	))
	f.Fuzz(func(t *testing.T, open, server bool, data []byte) {
		cfg := clientConfig(0)
		if server {
			cfg = serverConfig(ppp.AllMethods)
		}
		l := newLone(t, cfg)
		if open {
			l.openLCP(0x01, 0x04, 0x00, 0x80, 0x05, 0x06, 0x01, 0x02, 0x03, 0x04) // peer MRU 128
		}
		for len(data) >= 2 {
			proto := fuzzProtos[int(data[0])%len(fuzzProtos)]
			n := min(int(data[1]), len(data)-2)
			l.feed(proto, data[2:2+n])
			data = data[2+n:]
			l.clk.Advance(700 * time.Millisecond)
			l.settle()
		}
		st := l.s.Status()
		for _, p := range l.rec.sent {
			if open && st.Phase != ppp.PhaseDead && len(p.b) > 1500 {
				t.Fatalf("sent %d octets", len(p.b))
			}
			if _, err := ppp.ParsePacket(p.b); err != nil && p.proto != ppp.ProtoIPv4 {
				t.Fatalf("sent a malformed %s packet %x", p.proto, p.b)
			}
		}
	})
}
