package pppoe

import "testing"

// benchFrames are the frame kinds whose decode and encode are benchmarked.
var benchFrames = []struct {
	name  string
	frame []byte
}{
	{"PADI", fixturePADI},
	{"PADO", fixturePADO},
	{"PADR", fixturePADR},
	{"PADS", fixturePADS},
	{"PADT", fixturePADT},
	{"Session", fixtureSession},
}

func BenchmarkDecode(b *testing.B) {
	for _, bf := range benchFrames {
		b.Run(bf.name, func(b *testing.B) {
			var p Packet
			p.Tags = make(Tags, 0, 16)
			b.ReportAllocs()
			b.SetBytes(int64(len(bf.frame)))
			for b.Loop() {
				if err := p.Decode(bf.frame); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkEncode(b *testing.B) {
	for _, bf := range benchFrames {
		b.Run(bf.name, func(b *testing.B) {
			var p Packet
			if err := p.Decode(bf.frame); err != nil {
				b.Fatal(err)
			}
			buf := make([]byte, 1518)
			b.ReportAllocs()
			b.SetBytes(int64(len(bf.frame)))
			for b.Loop() {
				if _, err := p.MarshalTo(buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
