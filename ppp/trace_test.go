package ppp

import (
	"strings"
	"testing"
)

func TestTracePacket(t *testing.T) {
	for _, tt := range []struct {
		name  string
		proto Protocol
		in    []byte
		want  string
	}{
		{"LCP ConfReq", ProtoLCP, []byte{
			0x01, 0x01, 0x00, 0x12, // ConfReq id=1 length=18
			0x01, 0x04, 0x05, 0xc8, // MRU 1480
			0x03, 0x04, 0xc0, 0x23, // auth PAP
			0x05, 0x06, 0x1a, 0x2b, 0x3c, 0x4d, // magic
		}, "LCP ConfReq id=0x1 <mru 1480> <auth pap> <magic 0x1a2b3c4d>"},
		{"LCP EchoReq", ProtoLCP, []byte{
			0x09, 0x07, 0x00, 0x08, // EchoReq id=7 length=8
			0xde, 0xad, 0xbe, 0xef, // magic
		}, "LCP EchoReq id=0x7 magic=0xdeadbeef"},
		{"LCP TermReq", ProtoLCP, []byte{
			0x05, 0x02, 0x00, 0x08, // TermReq id=2 length=8
			'b', 'y', 'e', '\n', // reason, with a newline that must not break the line
		}, `LCP TermReq id=0x2 "bye\n"`},
		{"LCP ProtRej", ProtoLCP, []byte{
			0x08, 0x03, 0x00, 0x08, // ProtRej id=3 length=8
			0x80, 0x57, 0x01, 0x01, // IPV6CP, its packet
		}, "LCP ProtRej id=0x3 proto=0x8057"},
		{"PAP AuthReq hides the password", ProtoPAP, []byte{
			0x01, 0x01, 0x00, 0x0e, // AuthReq id=1 length=14
			0x03, 'b', 'o', 'b', // Peer-ID
			0x05, 's', 'e', 'c', 'r', 't', // Password
		}, `PAP AuthReq id=0x1 user="bob" password=<hidden>`},
		{"PAP malformed AuthReq hides its bytes", ProtoPAP, []byte{
			0x01, 0x01, 0x00, 0x0a, // AuthReq id=1 length=10
			0x03, 'b', 'o', 'b', // Peer-ID
			0x09, 's', // Password length past the end
		}, `PAP AuthReq id=0x1 <malformed>`},
		{"PAP AuthNak", ProtoPAP, []byte{
			0x03, 0x01, 0x00, 0x08, // AuthNak id=1 length=8
			0x03, 'n', 'o', '!', // Message
		}, `PAP AuthNak id=0x1 "no!"`},
		{"CHAP Challenge", ProtoCHAP, []byte{
			0x01, 0x01, 0x00, 0x0b, // Challenge id=1 length=11
			0x04, 0x01, 0x02, 0x03, 0x04, // Value
			'M', 'T', // Name
		}, `CHAP Challenge id=0x1 <01020304>, name = "MT"`},
		{"IPCP ConfNak", ProtoIPCP, []byte{
			0x03, 0x01, 0x00, 0x0a, // ConfNak id=1 length=10
			0x03, 0x06, 10, 0, 0, 2, // address 10.0.0.2
		}, "IPCP ConfNak id=0x1 <addr 10.0.0.2>"},
		{"short", ProtoLCP, []byte{0x01, 0x01}, "LCP malformed 0101"},
		{"IPv4 data", ProtoIPv4, make([]byte, 20), "IP len=20"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := TracePacket(tt.proto, tt.in); got != tt.want {
				t.Errorf("TracePacket = %q, want %q", got, tt.want)
			}
		})
	}
}

// FuzzTracePacket: any packet renders as one line, and a PAP
// Authenticate-Request never shows its password.
func FuzzTracePacket(f *testing.F) {
	f.Add(uint16(ProtoLCP), []byte{0x01, 0x01, 0x00, 0x08, 0x01, 0x04, 0x05, 0xc8})                   // ConfReq with MRU
	f.Add(uint16(ProtoPAP), []byte{0x01, 0x01, 0x00, 0x0c, 0x01, 'u', 0x05, 'p', 'a', 's', 's', 'w'}) // AuthReq
	f.Add(uint16(ProtoCHAP), []byte{0x02, 0x01, 0x00, 0x07, 0x01, 0xaa, 'n'})                         // Response
	f.Add(uint16(ProtoIPCP), []byte{0x01, 0x01, 0x00, 0x04})                                          // empty ConfReq
	f.Add(uint16(ProtoLCP), []byte{0x01, 0x01, 0x00, 0x06, 0x01, 0x00})                               // option length 0
	f.Fuzz(func(t *testing.T, proto uint16, b []byte) {
		s := TracePacket(Protocol(proto), b)
		if strings.ContainsAny(s, "\n\r") {
			t.Fatalf("two lines: %q", s)
		}
		if Protocol(proto) == ProtoPAP {
			if p, err := ParsePAP(b); err == nil && p.Code == PAPAuthRequest && len(p.Password) >= 4 && strings.Contains(strings.Replace(s, "password=<hidden>", "", 1), string(p.Password)) && !strings.Contains(string(p.PeerID), string(p.Password)) {
				t.Fatalf("password %q shown: %q", p.Password, s)
			}
		}
	})
}
