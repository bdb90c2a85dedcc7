package pppoe

import (
	"bytes"
	"testing"
)

// Seeds shared by the fuzz targets, each with the edge it aims at.
func addFrameSeeds(f *testing.F) {
	for _, tt := range decodeTests {
		f.Add(tt.in) // every valid frame kind, padded
	}
	f.Add([]byte{})                                                           // nothing
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})                         // the 6-byte input the counter-example panics on
	f.Add(fixturePADI[:EthernetLen])                                          // Ethernet header alone
	f.Add(fixturePADI[:EthernetLen+HeaderLen-1])                              // PPPoE header one byte short
	f.Add(fixturePADI[:EthernetLen+HeaderLen+3])                              // a tag header cut short
	f.Add(fixtureTaggedPADI[:EthernetLen+1])                                  // 802.1Q tag cut short
	f.Add(append(bytes.Clone(fixturePADI[:18]), 0xff, 0xff))                  // LENGTH 65535 over a short frame
	f.Add(append(bytes.Clone(fixturePADO[:20]), 0x01, 0x02, 0xff, 0xff, 'x')) // tag length lying
	f.Add(append(bytes.Clone(fixturePADI[:20]), 0, 0, 0, 1, 0))               // End-Of-List with a value
	f.Add(append(bytes.Clone(fixtureSession[:15]), 0x09, 0, 1, 0, 0))         // session frame with a discovery code
}

// FuzzDecodePacket checks that no input panics Packet.Decode and that what
// decodes re-encodes to something that decodes to the same packet, and
// re-encodes to the same bytes again (parse → marshal → parse symmetry).
func FuzzDecodePacket(f *testing.F) {
	addFrameSeeds(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		var p Packet
		if err := p.Decode(in); err != nil {
			return
		}
		b, err := p.MarshalBinary()
		if err != nil {
			t.Fatalf("MarshalBinary of decoded %v: %v", &p, err)
		}
		var q Packet
		if err := q.Decode(b); err != nil {
			t.Fatalf("Decode of re-encoded % x: %v", b, err)
		}
		if d := packetDiff(&p, &q); d != "" {
			t.Fatalf("round trip mismatch (-first +second):\n%s", d)
		}
		b2, err := q.MarshalBinary()
		if err != nil || !bytes.Equal(b, b2) {
			t.Fatalf("second encoding differs: % x vs % x (%v)", b, b2, err)
		}
	})
}

// FuzzParseTags checks ParseTags alone: no panic, and parse → marshal →
// parse gives the same ordered list.
func FuzzParseTags(f *testing.F) {
	for _, tt := range decodeTests {
		if len(tt.in) > EthernetLen+HeaderLen {
			f.Add(tt.in[EthernetLen+HeaderLen:]) // real tag lists, with padding after them
		}
	}
	f.Add([]byte{0x01, 0x01})                   // half a tag header
	f.Add([]byte{0x01, 0x01, 0x00, 0x05, 'a'})  // value shorter than its length
	f.Add([]byte{0x00, 0x00, 0x00, 0x00, 0xff}) // End-Of-List then junk
	f.Add([]byte{0x01, 0x20, 0x00, 0x01, 0x05}) // PPP-Max-Payload of one byte
	f.Fuzz(func(t *testing.T, in []byte) {
		ts, err := ParseTags(nil, in)
		if err != nil {
			return
		}
		_, _ = ts.PPPMaxPayload()
		_ = ts.Err(MAC{})
		_ = ts.String()
		b := make([]byte, ts.Len())
		n, err := ts.MarshalTo(b)
		if err != nil || n != len(b) {
			t.Fatalf("MarshalTo = %d, %v; want %d, nil", n, err, len(b))
		}
		ts2, err := ParseTags(nil, b)
		if err != nil {
			t.Fatalf("ParseTags of re-encoded % x: %v", b, err)
		}
		if !ts.Equal(ts2) {
			t.Fatalf("round trip mismatch (-first +second):\n-%v\n+%v", ts, ts2)
		}
	})
}

// FuzzParseEthernet checks the Ethernet/802.1Q decoder: no panic, and the
// header re-encodes to the bytes it was decoded from.
func FuzzParseEthernet(f *testing.F) {
	f.Add(fixturePADI)                       // untagged
	f.Add(fixtureTaggedPADI)                 // 802.1Q
	f.Add(fixtureTaggedPADI[:EthernetLen+2]) // tag cut in the middle
	f.Add([]byte{1, 2, 3})                   // runt
	f.Fuzz(func(t *testing.T, in []byte) {
		e, payload, err := ParseEthernet(in)
		if err != nil {
			return
		}
		b := make([]byte, e.Len())
		if _, err := e.MarshalTo(b); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, in[:len(in)-len(payload)]) {
			t.Fatalf("header re-encoded as % x, was % x", b, in[:len(in)-len(payload)])
		}
		e2, _, err := ParseEthernet(append(b, payload...))
		if err != nil || e2 != e {
			t.Fatalf("round trip: %+v vs %+v (%v)", e, e2, err)
		}
	})
}

// FuzzParseHeader checks the header view: no panic, and the view's fields
// describe the bytes it was given.
func FuzzParseHeader(f *testing.F) {
	f.Add(fixturePADS[EthernetLen:])      // a real header and tags
	f.Add([]byte{0x11, 0x09, 0, 0, 0, 0}) // empty PADI header
	f.Add([]byte{0x11, 0x09, 0, 0, 0xff}) // five bytes
	f.Add([]byte{0x11, 0, 0, 1, 0, 9})    // LENGTH past the end
	f.Fuzz(func(t *testing.T, in []byte) {
		h, err := ParseHeader(in)
		if err != nil {
			return
		}
		if h.Version() != 1 || h.Type() != 1 {
			t.Fatalf("accepted VER %d TYPE %d", h.Version(), h.Type())
		}
		if int(h.PayloadLength()) != len(h.Payload()) {
			t.Fatalf("LENGTH %d, payload %d bytes", h.PayloadLength(), len(h.Payload()))
		}
		b := make([]byte, HeaderLen)
		g := Header(b)
		g.SetVerType()
		g.SetCode(h.Code())
		g.SetSessionID(h.SessionID())
		g.SetPayloadLength(h.PayloadLength())
		if !bytes.Equal(b, in[:HeaderLen]) {
			t.Fatalf("header re-encoded as % x, was % x", b, in[:HeaderLen])
		}
	})
}
