package mp

import (
	"testing"
)

// BenchmarkMP is the cost of carrying a 1600-byte IP packet over a
// 1480-byte link MTU as MP fragments (split, then reassembled), against
// the plain copy a packet that fits takes; SetBytes makes the figures
// throughputs of IP payload.
func BenchmarkMP(b *testing.B) {
	for _, bc := range []struct {
		name  string
		size  int
		short bool
	}{
		{"fragmented-1600-long", 1602, false},
		{"fragmented-1600-short", 1602, true},
		{"fragmented-9000-long", 9002, false},
		{"single-1400", 1402, false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			f := Fragmenter{Short: bc.short}
			r := NewReassembler(ReassemblerConfig{MRRU: 9100, Short: bc.short, MaxFragment: 1480}, func([]byte) {})
			off := room + 2 + LongHeaderLen
			buf := append(make([]byte, off), packet(bc.size, 0)...)
			h := 2 + HeaderLen(bc.short)
			send := func(frag []byte) error { r.Input(frag[room+h-HeaderLen(bc.short):], t0); return nil }
			b.SetBytes(int64(bc.size - 2))
			b.ReportAllocs()
			for b.Loop() {
				if err := f.Split(buf, off, room, 1480, send); err != nil {
					b.Fatal(err)
				}
			}
			if st := r.Stats(); st.Packets == 0 || st.Lost != 0 {
				b.Fatalf("stats %+v", st)
			}
		})
	}
	// Plain: the copy into the TUN a packet without MP costs at most.
	b.Run("plain-1600-copy", func(b *testing.B) {
		src, dst := packet(1602, 0), make([]byte, 1602)
		b.SetBytes(1600)
		for b.Loop() {
			copy(dst, src)
		}
	})
}
