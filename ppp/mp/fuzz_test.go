package mp

import (
	"bytes"
	"testing"
	"time"
)

// FuzzParse: parse, write back, parse again; the two parses agree.
func FuzzParse(f *testing.F) {
	f.Add([]byte{}, false)                       // nothing
	f.Add([]byte{0x80, 0, 0}, false)             // long header cut short
	f.Add([]byte{0xc0, 0, 0, 1, 0, 0x21}, false) // a whole packet in one fragment
	f.Add([]byte{0x3f, 0xff, 0xff, 0xff}, false) // reserved bits set
	f.Add([]byte{0x4f, 0xff, 1}, true)           // short E at the top of the space
	f.Add([]byte{0x30, 0x00}, true)              // short, reserved bits set
	f.Fuzz(func(t *testing.T, b []byte, short bool) {
		fr, err := Parse(b, short)
		if err != nil {
			return
		}
		again, err := Parse(AppendFragment(nil, short, fr), short)
		if err != nil || again.Begin != fr.Begin || again.End != fr.End || again.Seq != fr.Seq || !bytes.Equal(again.Data, fr.Data) {
			t.Fatalf("reparsed %+v %v, first %+v", again, err, fr)
		}
	})
}

// FuzzReassembler feeds a stream of fragments — each a length octet, a time
// step octet, then the fragment — to a small reassembler: it must never
// panic, never deliver more than MRRU bytes, never hold more than its
// window, and never deliver a packet that was not begun by a B fragment.
func FuzzReassembler(f *testing.F) {
	frag := func(short bool, b, e bool, seq uint32, data ...byte) []byte {
		return AppendFragment(nil, short, Fragment{Begin: b, End: e, Seq: seq, Data: data})
	}
	stream := func(frags ...[]byte) []byte {
		var out []byte
		for _, x := range frags {
			out = append(out, byte(len(x)), 1)
			out = append(out, x...)
		}
		return out
	}
	f.Add(stream(frag(false, true, true, 0, 0, 0x21, 1)), false)                                                             // one whole packet
	f.Add(stream(frag(false, true, false, 7, 0, 0x21), frag(false, false, true, 8, 2, 3)), false)                            // two in order
	f.Add(stream(frag(false, false, true, 8, 2), frag(false, true, false, 7, 0, 0x21)), false)                               // swapped
	f.Add(stream(frag(false, true, false, 1, 0), frag(false, false, true, 40, 1)), false)                                    // a gap past the window
	f.Add(stream(frag(true, true, false, 0xfff, 0), frag(true, false, true, 0, 1)), true)                                    // short wrap
	f.Add(stream(frag(false, true, false, 0, make([]byte, 40)...), frag(false, false, true, 1, make([]byte, 40)...)), false) // over the MRRU
	f.Add([]byte{200, 0, 0x80}, false)                                                                                       // length past the end
	f.Fuzz(func(t *testing.T, in []byte, short bool) {
		const mrru, maxFrag = 64, 48
		r := NewReassembler(ReassemblerConfig{MRRU: mrru, Short: short, Window: 4, MaxFragment: maxFrag, Timeout: 10 * time.Millisecond},
			func(p []byte) {
				if len(p) > mrru+2 {
					t.Fatalf("delivered %d bytes, MRRU %d", len(p), mrru)
				}
			})
		now := t0
		for len(in) >= 2 {
			n, step := int(in[0]), in[1]
			in = in[2:]
			n = min(n, len(in))
			now = now.Add(time.Duration(step) * time.Millisecond)
			r.Input(in[:n], now)
			in = in[n:]
			if r.pending > len(r.slots) || r.pending < 0 {
				t.Fatalf("%d fragments pending, %d slots", r.pending, len(r.slots))
			}
			if len(r.asm) > mrru+2 {
				t.Fatalf("holding %d bytes, MRRU %d", len(r.asm), mrru)
			}
		}
		r.Expire(now.Add(time.Hour))
		if r.active || r.pending != 0 {
			t.Fatalf("after the timeout: active %v, %d pending", r.active, r.pending)
		}
	})
}
