package ppp

import (
	"testing"

	"rosh/internal/allocs"
)

var allocSink []byte

// TestLengthClaimsAllocateNothing: short packets whose Length fields claim
// 64 KiB (the packet's Length, RFC 1661 §5; an option's, §6; PAP's
// Peer-ID/Passwd-Length, RFC 1334 §2.2.1; CHAP's Value-Size, RFC 1994 §4.1)
// cost no more than their real size in any decoder: the claim is checked
// against the bytes there before anything is sized from it.
func TestLengthClaimsAllocateNothing(t *testing.T) {
	const limit = 512
	if got := allocs.BytesPerCall(10, func() { allocSink = make([]byte, 1<<16) }); got < limit {
		t.Fatalf("the measure sees %d B for a 64 KiB allocation", got)
	}
	server := fuzzSession(t, RoleServer)
	cases := map[string]func(){
		"ParsePacket Length 65535":   func() { _, _ = ParsePacket([]byte{1, 1, 0xff, 0xff, 1, 4, 5, 0xd4}) },
		"ParseOptions length 255":    func() { _, _ = ParseOptions([]byte{1, 0xff, 5, 0xd4}) },
		"ParsePAP Peer-ID 255":       func() { _, _ = ParsePAP([]byte{1, 1, 0xff, 0xff, 0xff, 'a'}) },
		"ParsePAP Length 65535":      func() { _, _ = ParsePAP([]byte{1, 1, 0xff, 0xff, 1, 'a', 0xff, 'b'}) },
		"ParseCHAP Value-Size 255":   func() { _, _ = ParseCHAP([]byte{2, 1, 0xff, 0xff, 0xff, 1, 2}) },
		"MS-CHAPv2 response 64 KiB":  func() { _, _ = ParseMSCHAPv2Response([]byte{0xff, 0xff}) },
		"session LCP Length 65535":   func() { _, _ = server.parse(ProtoLCP, []byte{1, 1, 0xff, 0xff, 1, 4}) },
		"session IPCP Length 65535":  func() { _, _ = server.parse(ProtoIPCP, []byte{1, 1, 0xff, 0xff, 3, 6}) },
		"session CHAP Length 65535":  func() { _, _ = server.parse(ProtoCHAP, []byte{2, 1, 0xff, 0xff, 0xff}) },
		"session PAP Length 65535":   func() { _, _ = server.parse(ProtoPAP, []byte{1, 1, 0xff, 0xff, 0xff}) },
		"LCP options claiming 65535": func() { _, _ = ParseOptions([]byte{3, 0xff, 0xc2, 0x23}) },
	}
	for name, fn := range cases {
		if got := allocs.BytesPerCall(100, fn); got > limit {
			t.Errorf("%s: allocates %d B per packet (limit %d B)", name, got, limit)
		}
	}
}
