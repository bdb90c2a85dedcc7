package pppoe

import (
	"bytes"
	"testing"

	"rosh/internal/allocs"
)

var allocSink []byte

// lyingFrames are short frames whose length fields claim 64 KiB: the PPPoE
// LENGTH, a tag's TAG_LENGTH, both, and a session frame's LENGTH over a
// PPP packet whose own Length says 65535 too.
func lyingFrames() map[string][]byte {
	padi := func(length []byte, tags ...byte) []byte {
		f := bytes.Clone(fixturePADI[:EthernetLen])
		f = append(f, 0x11, byte(CodePADI), 0, 0)
		f = append(f, length...)
		return append(f, tags...)
	}
	session := bytes.Clone(fixtureSession[:EthernetLen+HeaderLen+2])
	session[EthernetLen+4], session[EthernetLen+5] = 0xff, 0xff // LENGTH 65535
	session = append(session, 1, 1, 0xff, 0xff)                 // LCP Configure-Request, Length 65535
	return map[string][]byte{
		"PPPoE LENGTH 65535":         padi([]byte{0xff, 0xff}, 0x01, 0x01, 0x00, 0x00),
		"TAG_LENGTH 65535":           padi([]byte{0x00, 0x08}, 0x01, 0x03, 0xff, 0xff, 0xde, 0xad, 0xbe, 0xef),
		"both 65535":                 padi([]byte{0xff, 0xff}, 0x01, 0x04, 0xff, 0xff, 1, 2, 3, 4),
		"PADR cookie claims 65535":   append(bytes.Clone(fixturePADR[:EthernetLen+HeaderLen+8]), 0x01, 0x04, 0xff, 0xff, 1, 2),
		"session LENGTH 65535 + LCP": session,
	}
}

// TestLengthClaimsAllocateNothing: a frame whose length fields claim 64 KiB
// costs no more memory than its real size in any decoder or input path —
// the claim is checked against the bytes there before anything is sized
// from it (RFC 2516 §4 LENGTH; STYLE: check the declared length first).
func TestLengthClaimsAllocateNothing(t *testing.T) {
	r := newEngineRig(t)
	const limit = 512 // bytes per call: far below the 64 KiB claimed
	if got := allocs.BytesPerCall(10, func() { allocSink = make([]byte, 1<<16) }); got < limit {
		t.Fatalf("the measure sees %d B for a 64 KiB allocation", got)
	}
	for name, frame := range lyingFrames() {
		t.Run(name, func(t *testing.T) {
			paths := map[string]func(){
				"Packet.Decode": func() { var p Packet; p.Tags = make(Tags, 0, 8); _ = p.Decode(frame) },
				"ParseHeader":   func() { _, _ = ParseHeader(frame[EthernetLen:]) },
				"ParseTags":     func() { _, _ = ParseTags(make(Tags, 0, 8), frame[EthernetLen+HeaderLen:]) },
				"AC":            func() { r.ac.handle(frame); drain(r.ac.padiQ); drain(r.ac.ctrlQ); r.ac.input(frame) },
				"client":        func() { r.discHandler(frame); drain(r.d.inbox); _, _ = r.d.input(frame) },
				"session":       func() { r.clHandler(frame); drain(r.clSession.in) },
			}
			for path, fn := range paths {
				if got := allocs.BytesPerCall(100, fn); got > limit {
					t.Errorf("%s allocates %d B per frame of %d B (limit %d B)", path, got, len(frame), limit)
				}
			}
		})
	}
}
