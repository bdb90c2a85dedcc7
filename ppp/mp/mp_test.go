package mp

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"
)

// room is what a PPPoE sender keeps in front of a frame in these tests.
const room = 22

var t0 = time.Unix(1_700_000_000, 0)

// packet is a PPP packet of n bytes: IPv4's Protocol field, then a pattern.
func packet(n int, tag byte) []byte {
	p := make([]byte, n)
	p[0], p[1] = 0x00, 0x21
	for i := 2; i < n; i++ {
		p[i] = byte(i) ^ tag
	}
	return p
}

// split fragments pkt as a sender with maxFrame-byte frames would, and
// returns each fragment as it follows the 0x003d Protocol field.
func split(t testing.TB, f *Fragmenter, pkt []byte, maxFrame int) [][]byte {
	t.Helper()
	off := room + 2 + LongHeaderLen
	buf := append(make([]byte, off), pkt...)
	var out [][]byte
	err := f.Split(buf, off, room, maxFrame, func(frag []byte) error {
		if len(frag)-room > maxFrame {
			t.Fatalf("fragment of %d bytes, max %d", len(frag)-room, maxFrame)
		}
		if frag[room] != 0x00 || frag[room+1] != 0x3d {
			t.Fatalf("fragment protocol %x", frag[room:room+2])
		}
		out = append(out, bytes.Clone(frag[room+2:]))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

type sink struct{ got [][]byte }

func (s *sink) deliver(p []byte) { s.got = append(s.got, bytes.Clone(p)) }

func TestHeaderFormats(t *testing.T) {
	tests := []struct {
		name       string
		short      bool
		begin, end bool
		seq        uint32
		want       []byte
	}{
		{"long B", false, true, false, 0x000102, []byte{0x80, 0x00, 0x01, 0x02}},
		{"long E", false, false, true, 0xffffff, []byte{0x40, 0xff, 0xff, 0xff}},
		{"long BE wraps 24 bits", false, true, true, 0x1000005, []byte{0xc0, 0x00, 0x00, 0x05}},
		{"short B", true, true, false, 0x123, []byte{0x81, 0x23}},
		{"short E max", true, false, true, 0xfff, []byte{0x4f, 0xff}},
		{"short middle", true, false, false, 0x1001, []byte{0x00, 0x01}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := AppendFragment(nil, tt.short, Fragment{Begin: tt.begin, End: tt.end, Seq: tt.seq})
			if !bytes.Equal(got, tt.want) {
				t.Fatalf("header %x, want %x", got, tt.want)
			}
			f, err := Parse(append(got, 9), tt.short)
			if err != nil {
				t.Fatal(err)
			}
			if f.Begin != tt.begin || f.End != tt.end || f.Seq != tt.seq&seqMask(tt.short) || !bytes.Equal(f.Data, []byte{9}) {
				t.Fatalf("parsed %+v", f)
			}
		})
	}
	if _, err := Parse([]byte{0x80, 0, 0}, false); err == nil {
		t.Fatal("a 3-byte long header parsed")
	}
	if _, err := Parse([]byte{0x80}, true); err == nil {
		t.Fatal("a 1-byte short header parsed")
	}
}

func TestSplitSizes(t *testing.T) {
	var f Fragmenter
	// 1602 bytes (a 1600-byte IP packet and its Protocol field) over a
	// 1480-byte MTU: two fragments of 801.
	frags := split(t, &f, packet(1602, 0), 1480)
	if len(frags) != 2 || len(frags[0]) != 4+801 || len(frags[1]) != 4+801 {
		t.Fatalf("fragments %d: %d, %d bytes", len(frags), len(frags[0]), len(frags[len(frags)-1]))
	}
	a, _ := Parse(frags[0], false)
	b, _ := Parse(frags[1], false)
	if !a.Begin || a.End || b.Begin || !b.End || a.Seq != 0 || b.Seq != 1 {
		t.Fatalf("flags/seq %+v %+v", a, b)
	}
	// A packet that fits goes as one fragment with B and E.
	frags = split(t, &f, packet(100, 0), 1480)
	if c, _ := Parse(frags[0], false); len(frags) != 1 || !c.Begin || !c.End || c.Seq != 2 {
		t.Fatalf("small packet: %d fragments, %+v", len(frags), c)
	}
	if err := f.Split(make([]byte, 30), 10, room, 1480, nil); !errors.Is(err, ErrNoRoom) {
		t.Fatalf("no room: %v", err)
	}
	if err := f.Split(make([]byte, 60), 30, room, 6, nil); !errors.Is(err, ErrTooSmall) {
		t.Fatalf("tiny frames: %v", err)
	}
}

func TestReassemble(t *testing.T) {
	p1, p2, p3 := packet(3000, 1), packet(1602, 2), packet(60, 3)
	var f Fragmenter
	f1 := split(t, &f, p1, 1000) // 4 fragments: seq 0-3
	f2 := split(t, &f, p2, 1000) // 2: seq 4-5
	f3 := split(t, &f, p3, 1000) // 1: seq 6
	cat := func(fs ...[][]byte) [][]byte {
		var out [][]byte
		for _, x := range fs {
			out = append(out, x...)
		}
		return out
	}
	all := cat(f1, f2, f3)
	big := append(append([]byte{}, f1[0]...), make([]byte, 2000)...)
	tests := []struct {
		name    string
		cfg     ReassemblerConfig
		in      [][]byte
		want    [][]byte
		wantErr Stats // the counters checked (Fragments aside)
	}{
		{"in order", ReassemblerConfig{MRRU: 4000}, all, [][]byte{p1, p2, p3}, Stats{Packets: 3}},
		{"out of order within the window", ReassemblerConfig{MRRU: 4000},
			[][]byte{f1[0], f1[2], f1[1], f1[3], f2[1], f2[0], f3[0]}, [][]byte{p1, p2, p3}, Stats{Packets: 3}},
		{"lost middle fragment", ReassemblerConfig{MRRU: 4000, Window: 1},
			cat(f1[:1], f1[2:], f2, f3), [][]byte{p2, p3}, Stats{Packets: 2, Lost: 1, Discarded: 3}},
		{"lost first fragment", ReassemblerConfig{MRRU: 4000, Window: 1},
			cat(f1[1:], f2, f3), [][]byte{p2, p3}, Stats{Packets: 2, Discarded: 3}},
		{"lost last fragment, next packet starts", ReassemblerConfig{MRRU: 4000, Window: 1},
			cat(f1[:3], f2, f3), [][]byte{p2, p3}, Stats{Packets: 2, Lost: 1, Discarded: 1}},
		{"lost fragment found by the window", ReassemblerConfig{MRRU: 4000, Window: 2},
			cat(f1[:1], f1[2:], f2, f3), [][]byte{p2, p3}, Stats{Packets: 2, Lost: 1, Discarded: 3}},
		{"duplicates", ReassemblerConfig{MRRU: 4000},
			[][]byte{f1[0], f1[0], f1[2], f1[2], f1[1], f1[3], f1[3], f2[0], f2[1], f3[0], f3[0]},
			[][]byte{p1, p2, p3}, Stats{Packets: 3, Duplicate: 1, Stale: 3}},
		{"packet over the MRRU", ReassemblerConfig{MRRU: 2000}, all, [][]byte{p2, p3}, Stats{Packets: 2, Oversize: 1, Discarded: 2}},
		{"fragment over the link MRU", ReassemblerConfig{MRRU: 4000, MaxFragment: 1000},
			cat([][]byte{big}, f1[1:], f2, f3), [][]byte{p2, p3}, Stats{Packets: 2, Oversize: 1, Discarded: 3}},
		{"malformed", ReassemblerConfig{MRRU: 4000}, cat([][]byte{{0x80}}, all), [][]byte{p1, p2, p3}, Stats{Packets: 3, Malformed: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s sink
			r := NewReassembler(tt.cfg, s.deliver)
			for _, fr := range tt.in {
				r.Input(fr, t0)
			}
			if len(s.got) != len(tt.want) {
				t.Fatalf("got %d packets, want %d; stats %+v", len(s.got), len(tt.want), r.Stats())
			}
			for i := range s.got {
				if !bytes.Equal(s.got[i], tt.want[i]) {
					t.Fatalf("packet %d: %d bytes, want %d (-want +got differ)", i, len(s.got[i]), len(tt.want[i]))
				}
			}
			st := r.Stats()
			st.Fragments = 0
			if st != tt.wantErr {
				t.Fatalf("stats (-want +got):\n-%+v\n+%+v", tt.wantErr, st)
			}
		})
	}
}

// TestReassembleTimeout: a packet whose last fragment never comes is dropped
// once the timeout has passed, and the next one goes through.
func TestReassembleTimeout(t *testing.T) {
	var f Fragmenter
	p1, p2 := packet(3000, 1), packet(3000, 2)
	f1, f2 := split(t, &f, p1, 1000), split(t, &f, p2, 1000)
	var s sink
	r := NewReassembler(ReassemblerConfig{MRRU: 4000, Timeout: time.Second}, s.deliver)
	r.Input(f1[0], t0)
	r.Input(f1[1], t0)
	r.Expire(t0.Add(500 * time.Millisecond))
	if st := r.Stats(); st.Discarded != 0 {
		t.Fatalf("dropped before the timeout: %+v", st)
	}
	r.Expire(t0.Add(2 * time.Second))
	if st := r.Stats(); st.Discarded != 1 {
		t.Fatalf("not dropped after the timeout: %+v", st)
	}
	// A gap the window would wait for (f1's last two fragments, then
	// f2's second): the timeout ends the wait too.
	r.Input(f2[0], t0.Add(3*time.Second))
	r.Input(f2[2], t0.Add(3*time.Second))
	r.Input(f2[3], t0.Add(3*time.Second))
	r.Expire(t0.Add(5 * time.Second))
	if st := r.Stats(); st.Lost != 3 || st.Discarded != 4 || len(s.got) != 0 {
		t.Fatalf("after the gap's timeout: %+v, %d packets", st, len(s.got))
	}
	p3 := packet(1500, 3)
	for _, fr := range split(t, &f, p3, 1000) {
		r.Input(fr, t0.Add(6*time.Second))
	}
	if len(s.got) != 1 || !bytes.Equal(s.got[0], p3) {
		t.Fatalf("after the timeouts: %d packets", len(s.got))
	}
}

// TestSequenceWrap runs both formats across the wrap of their sequence
// space, with a swap of two fragments at the wrap.
func TestSequenceWrap(t *testing.T) {
	for _, short := range []bool{false, true} {
		t.Run(fmt.Sprint("short=", short), func(t *testing.T) {
			f := Fragmenter{Short: short, seq: seqMask(short) - 2}
			var s sink
			r := NewReassembler(ReassemblerConfig{MRRU: 4000, Short: short}, s.deliver)
			var want [][]byte
			for i := range 4 {
				p := packet(2500, byte(i))
				want = append(want, p)
				frags := split(t, &f, p, 1000) // 3 fragments each
				if i == 1 {
					frags[0], frags[1] = frags[1], frags[0]
				}
				for _, fr := range frags {
					if short && len(fr) != ShortHeaderLen+len(p)/3 && len(fr) != ShortHeaderLen+len(p)/3+1 {
						t.Fatalf("short fragment of %d bytes", len(fr))
					}
					r.Input(fr, t0)
				}
			}
			if len(s.got) != len(want) {
				t.Fatalf("got %d packets, want %d: %+v", len(s.got), len(want), r.Stats())
			}
			for i := range want {
				if !bytes.Equal(s.got[i], want[i]) {
					t.Fatalf("packet %d differs", i)
				}
			}
		})
	}
}

// TestZeroAllocs: once warm, fragmenting and reassembling allocate nothing.
func TestZeroAllocs(t *testing.T) {
	var f Fragmenter
	r := NewReassembler(ReassemblerConfig{MRRU: 1614, MaxFragment: 1480}, func([]byte) {})
	off := room + 2 + LongHeaderLen
	buf := append(make([]byte, off), packet(1602, 0)...)
	send := func(frag []byte) error { r.Input(frag[room+2:], t0); return nil }
	run := func() {
		if err := f.Split(buf, off, room, 1480, send); err != nil {
			t.Fatal(err)
		}
	}
	run()
	if n := testing.AllocsPerRun(100, run); n != 0 {
		t.Fatalf("%v allocations per packet", n)
	}
	if st := r.Stats(); st.Packets != 102 {
		t.Fatalf("stats %+v", st)
	}
}
