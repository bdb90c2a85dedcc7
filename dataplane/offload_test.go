package dataplane

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"

	"golang.org/x/sys/unix"
)

func TestSumMatchesRFC1071(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 300 {
		b := make([]byte, n)
		for k := range b {
			b[k] = byte(r.Uint32())
		}
		if got, want := ^fold(sum(b, 0)), checksum(b, 0); got != want {
			t.Fatalf("length %d: sum gives %#04x, RFC 1071 %#04x", n, got, want)
		}
	}
	allOnes := bytes.Repeat([]byte{0xff}, 65536)
	if got := fold(sum(allOnes, 0)); got != 0xffff {
		t.Errorf("64 KiB of 0xff folds to %#04x", got)
	}
}

// tsoFixture is what a TSO read gives: one IPv4 TCP packet with 12 bytes
// of options (timestamps) and n bytes of payload, ID 0x1000, DF, the
// flags given, and a partial checksum (the pseudo-header sum), as the
// kernel leaves it.
func tsoFixture(n int, flags byte) []byte {
	const hl = 20 + 32
	b := make([]byte, hl+n)
	b[0] = 0x45
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	binary.BigEndian.PutUint16(b[4:], 0x1000) // identification
	binary.BigEndian.PutUint16(b[6:], ipv4DF) // don't fragment
	b[8], b[9] = 64, ipProtoTCP
	copy(b[12:], []byte{10, 77, 0, 1, 10, 77, 0, 2})
	ipv4HeaderChecksum(b, 20)
	t := b[20:]
	binary.BigEndian.PutUint16(t[0:], 5001)
	binary.BigEndian.PutUint16(t[2:], 40000)
	binary.BigEndian.PutUint32(t[4:], 0xfffff000) // sequence: wraps within the burst
	binary.BigEndian.PutUint32(t[8:], 0x01020304) // acknowledgment
	t[12] = 8 << 4                                // data offset 8 (32 bytes)
	t[13] = flags
	binary.BigEndian.PutUint16(t[14:], 502) // window
	copy(t[20:], []byte{1, 1, 8, 10, 0, 0, 0, 7, 0, 0, 0, 9})
	for k := range n {
		b[hl+k] = byte(k*13 + k>>8)
	}
	binary.BigEndian.PutUint16(t[16:], fold(pseudoHeader(b, ipProtoTCP, len(t))))
	return b
}

func TestSegmentTCP(t *testing.T) {
	const mss = 1440
	in := tsoFixture(4*mss+100, tcpFlagACK|tcpFlagPSH|tcpFlagFIN|tcpFlagCWR)
	tso, err := parseTSO(in, mss)
	if err != nil {
		t.Fatal(err)
	}
	if tso.segs != 5 || tso.hl != 52 {
		t.Fatalf("parseTSO: %d segments, header %d; want 5, 52", tso.segs, tso.hl)
	}
	var payload []byte
	out := make([]byte, tso.hl+mss)
	for k := range tso.segs {
		n := tso.segment(k, out)
		seg := out[:n]
		want := mss
		if k == 4 {
			want = 100
		}
		if n != 52+want || int(binary.BigEndian.Uint16(seg[2:])) != n {
			t.Errorf("segment %d: %d bytes, total length %d; want %d", k, n, binary.BigEndian.Uint16(seg[2:]), 52+want)
		}
		if !validIPv4(seg) || !tcpChecksumOK(seg) {
			t.Errorf("segment %d: bad checksum", k)
		}
		if id := binary.BigEndian.Uint16(seg[4:]); id != 0x1000+uint16(k) {
			t.Errorf("segment %d: id %#x", k, id)
		}
		if seq := binary.BigEndian.Uint32(seg[24:]); seq != 0xfffff000+uint32(k*mss) {
			t.Errorf("segment %d: seq %#x", k, seq)
		}
		wantFlags := byte(tcpFlagACK)
		if k == 0 {
			wantFlags |= tcpFlagCWR
		}
		if k == 4 {
			wantFlags |= tcpFlagPSH | tcpFlagFIN
		}
		if seg[33] != wantFlags {
			t.Errorf("segment %d: flags %#x, want %#x", k, seg[33], wantFlags)
		}
		for _, r := range [][2]int{
			{0, 2},   // version, IHL, TOS
			{6, 10},  // DF, TTL, protocol
			{12, 24}, // addresses, ports
			{28, 33}, // acknowledgment, data offset
			{34, 36}, // window
			{38, 52}, // urgent pointer, options
		} {
			if !bytes.Equal(seg[r[0]:r[1]], in[r[0]:r[1]]) {
				t.Errorf("segment %d: bytes %d..%d not copied", k, r[0], r[1])
			}
		}
		payload = append(payload, seg[52:]...)
	}
	if !bytes.Equal(payload, in[52:]) {
		t.Error("payload changed")
	}
	for _, bad := range []struct {
		name string
		pkt  []byte
		mss  int
	}{
		{"mss 0", in, 0},
		{"total length wrong", func() []byte { b := append([]byte(nil), in...); b[2]++; return b }(), mss},
		{"UDP", func() []byte { b := append([]byte(nil), in...); b[9] = 17; return b }(), mss},
		{"fragment", func() []byte { b := append([]byte(nil), in...); b[6] |= 0x20; return b }(), mss},
		{"data offset past the end", func() []byte { b := append([]byte(nil), in[:60]...); b[2], b[3] = 0, 60; b[32] = 0xf0; return b }(), mss},
		{"no payload", func() []byte { b := append([]byte(nil), in[:52]...); b[2], b[3] = 0, 52; return b }(), mss},
		{"short", in[:30], mss},
	} {
		if _, err := parseTSO(bad.pkt, bad.mss); err == nil {
			t.Errorf("parseTSO accepted %s", bad.name)
		}
	}
}

func TestCompleteChecksum(t *testing.T) {
	in := tsoFixture(300, tcpFlagACK)
	if tcpChecksumOK(in) {
		t.Fatal("fixture's checksum is complete already")
	}
	if !completeChecksum(in, 20, 16) || !tcpChecksumOK(in) {
		t.Error("TCP checksum not completed")
	}
	for _, bad := range [][2]int{{10, 16}, {20, 400}, {20, -1}} {
		if completeChecksum(in, bad[0], bad[1]) {
			t.Errorf("completeChecksum accepted start %d offset %d", bad[0], bad[1])
		}
	}
	// A UDP checksum of zero is sent as 0xffff (RFC 768). The payload
	// is chosen so that the sum comes out all ones.
	udp := ipv4(17, addrA, addrB, 10)
	udp = append(udp, 0, 1, 0, 2, 0, 10, 0, 0, 0, 0)
	s := fold(sum(udp[20:], pseudoHeader(udp, 17, 10)))
	binary.BigEndian.PutUint16(udp[28:], ^s) // payload that makes the sum 0xffff
	binary.BigEndian.PutUint16(udp[26:], fold(pseudoHeader(udp, 17, 10)))
	if !completeChecksum(udp, 20, 6) {
		t.Fatal("UDP checksum not completed")
	}
	if c := binary.BigEndian.Uint16(udp[26:]); c != 0xffff {
		t.Errorf("UDP checksum %#04x, want 0xffff for zero", c)
	}
}

// segments cuts a fixture into the segments a peer would send.
func segments(tb testing.TB, in []byte, mss int) [][]byte {
	tso, err := parseTSO(in, mss)
	if err != nil {
		tb.Fatal(err)
	}
	var out [][]byte
	for k := range tso.segs {
		b := make([]byte, tso.hl+mss)
		out = append(out, b[:tso.segment(k, b)])
	}
	return out
}

// written is one frame the coalescer wrote.
type written struct {
	frame       []byte
	segs, bytes int
}

func newTestCoalescer() (*coalescer, *[]written) {
	var w []written
	c := &coalescer{}
	c.write = func(frame []byte, segs, bytes int) error {
		w = append(w, written{append([]byte(nil), frame...), segs, bytes})
		return nil
	}
	return c, &w
}

// expand turns what the coalescer wrote back into the packets it
// stands for, the way the kernel would segment a GSO packet, checking
// each virtio_net_hdr on the way.
func expand(tb testing.TB, ws []written) [][]byte {
	tb.Helper()
	var out [][]byte
	for _, w := range ws {
		h, pkt := vnetHdr(w.frame[:vnetHdrLen]), w.frame[vnetHdrLen:]
		if h.gsoType() == unix.VIRTIO_NET_HDR_GSO_NONE {
			if !bytes.Equal(h[:vnetHdrLen], make([]byte, vnetHdrLen)) || w.segs != 1 {
				tb.Fatalf("single packet with header % x, %d segments", []byte(h[:vnetHdrLen]), w.segs)
			}
			out = append(out, pkt)
			continue
		}
		if h.gsoType() != unix.VIRTIO_NET_HDR_GSO_TCPV4 || h.flags() != unix.VIRTIO_NET_HDR_F_NEEDS_CSUM ||
			h.csumStart() != 20 || h.csumOffset() != 16 || int(binary.NativeEndian.Uint16(h[vnetHdrLenOff:])) != 20+int(pkt[32]>>4)*4 {
			tb.Fatalf("GSO header % x", []byte(h[:vnetHdrLen]))
		}
		// CHECKSUM_PARTIAL: completing it gives the whole packet's
		// checksum.
		full := append([]byte(nil), pkt...)
		if !completeChecksum(full, 20, 16) || !tcpChecksumOK(full) || !validIPv4(full) {
			tb.Fatalf("joined packet's checksums are wrong")
		}
		segs := segments(tb, pkt, h.gsoSize())
		if len(segs) != w.segs {
			tb.Fatalf("GSO packet of %d segments counted as %d", len(segs), w.segs)
		}
		n := 0
		for _, s := range segs {
			n += len(s)
		}
		if n != w.bytes {
			tb.Fatalf("GSO packet of %d bytes counted as %d", n, w.bytes)
		}
		out = append(out, segs...)
	}
	return out
}

// samePackets compares packet lists; checksums compare by validity, as
// 0x0000 and 0xffff are the same one's complement zero.
func samePackets(a, b [][]byte) error {
	if len(a) != len(b) {
		return fmt.Errorf("%d packets, want %d", len(b), len(a))
	}
	for k := range a {
		x, y := append([]byte(nil), a[k]...), append([]byte(nil), b[k]...)
		if len(x) >= 20 && len(y) >= 20 && len(x) == len(y) && validIPv4(x) && validIPv4(y) {
			x[10], x[11], y[10], y[11] = 0, 0, 0, 0
			if x[9] == ipProtoTCP && len(x) >= 40 && tcpChecksumOK(a[k]) && tcpChecksumOK(b[k]) {
				x[36], x[37], y[36], y[37] = 0, 0, 0, 0
			}
		}
		if !bytes.Equal(x, y) {
			return fmt.Errorf("packet %d:\nwant % x\ngot  % x", k, a[k], b[k])
		}
	}
	return nil
}

func TestCoalesce(t *testing.T) {
	const mss = 1440
	stream := segments(t, tsoFixture(10*mss, tcpFlagACK), mss)           // ten full segments
	tail := segments(t, tsoFixture(3*mss+7, tcpFlagACK), mss)            // three full, one short
	pushed := segments(t, tsoFixture(4*mss, tcpFlagACK|tcpFlagPSH), mss) // PSH on the last
	mod := func(p []byte, f func(b []byte)) []byte {
		b := append([]byte(nil), p...)
		f(b)
		return fixChecksums(b)
	}
	other := mod(stream[1], func(b []byte) { b[21]++ }) // another source port
	ping := icmpEcho(addrB, addrA, 8, 1, 1, nil)
	syn := fixChecksums(append([]byte(nil), synFixture...))
	badSum := append([]byte(nil), stream[2]...)
	badSum[60] ^= 0xff

	for _, tc := range []struct {
		name  string
		in    [][]byte
		segs  []int // segments per write, in order
		flush bool  // Flush at the end (else the last write must come by itself)
	}{
		{"a stream joins", stream, []int{10}, true},
		{"a short segment ends the packet", tail, []int{4}, false},
		{"PSH ends the packet", pushed, []int{4}, false},
		{"a single segment goes as it came", stream[:1], []int{1}, true},
		{"a PSH segment alone is not held", pushed[3:], []int{1}, false},
		{"a gap in sequence", [][]byte{stream[0], stream[1], stream[3], stream[4]}, []int{2, 2}, true},
		{"a sequence gap, identifications in order", [][]byte{stream[0], mod(stream[2], func(b []byte) { b[5] = 0x01 })}, []int{1, 1}, true},
		{"a repeated segment", [][]byte{stream[0], stream[1], stream[1], stream[2]}, []int{2, 2}, true},
		{"another flow in between", [][]byte{stream[0], other, stream[2]}, []int{1, 1, 1}, true},
		{"a ping in between", [][]byte{stream[0], stream[1], ping, stream[2], stream[3]}, []int{2, 1, 2}, true},
		{"a SYN is never held", [][]byte{syn, stream[0]}, []int{1, 1}, true},
		{"a bad checksum goes alone", [][]byte{stream[0], stream[1], badSum, stream[3]}, []int{2, 1, 1}, true},
		{"an identification gap", [][]byte{stream[0], mod(stream[1], func(b []byte) { b[5]++ })}, []int{1, 1}, true},
		{"another acknowledgment", [][]byte{stream[0], mod(stream[1], func(b []byte) { b[31]++ })}, []int{1, 1}, true},
		{"another window", [][]byte{stream[0], mod(stream[1], func(b []byte) { b[35]++ })}, []int{1, 1}, true},
		{"other timestamps", [][]byte{stream[0], mod(stream[1], func(b []byte) { b[51]++ })}, []int{1, 1}, true},
		{"another TTL", [][]byte{stream[0], mod(stream[1], func(b []byte) { b[8]-- })}, []int{1, 1}, true},
		{"ECN CE", [][]byte{stream[0], mod(stream[1], func(b []byte) { b[1] = 3 })}, []int{1, 1}, true},
		{"no DF", [][]byte{mod(stream[0], func(b []byte) { b[6] = 0 }), mod(stream[1], func(b []byte) { b[6] = 0 })}, []int{1, 1}, true},
		{"64 KiB at most", append(append([][]byte(nil), stream...), segments(t, func() []byte {
			b := tsoFixture(40*mss, tcpFlagACK)
			seq := uint32(0xfffff000)
			binary.BigEndian.PutUint32(b[24:], seq+10*mss)
			binary.BigEndian.PutUint16(b[4:], 0x1000+10)
			ipv4HeaderChecksum(b, 20)
			binary.BigEndian.PutUint16(b[36:], fold(pseudoHeader(b, ipProtoTCP, len(b)-20)))
			return b
		}(), mss)...), []int{45, 5}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, w := newTestCoalescer()
			for _, p := range tc.in {
				if err := c.queue(append([]byte(nil), p...)); err != nil {
					t.Fatal(err)
				}
			}
			if !tc.flush && c.n != 0 {
				t.Errorf("%d segments still held where the packet should have gone", c.segs)
			}
			if err := c.flush(); err != nil {
				t.Fatal(err)
			}
			var got []int
			for _, x := range *w {
				got = append(got, x.segs)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.segs) {
				t.Errorf("writes of %v segments, want %v", got, tc.segs)
			}
			if err := samePackets(tc.in, expand(t, *w)); err != nil {
				t.Error(err)
			}
		})
	}
}

// Deliver writes what is held first.
func TestCoalescerDeliverKeepsOrder(t *testing.T) {
	stream := segments(t, tsoFixture(3*1440, tcpFlagACK), 1440)
	c, w := newTestCoalescer()
	c.queue(stream[0])
	c.queue(stream[1])
	ping := icmpEcho(addrB, addrA, 8, 1, 1, nil)
	c.deliver(ping)
	if err := samePackets([][]byte{stream[0], stream[1], ping}, expand(t, *w)); err != nil {
		t.Error(err)
	}
}

func TestCoalescerZeroAllocs(t *testing.T) {
	stream := segments(t, tsoFixture(20*1440, tcpFlagACK), 1440)
	c := &coalescer{write: func([]byte, int, int) error { return nil }}
	c.queue(stream[0])
	c.flush()
	if n := testing.AllocsPerRun(100, func() {
		for _, s := range stream {
			c.queue(s)
		}
		c.flush()
	}); n != 0 {
		t.Errorf("%.1f allocations per burst", n)
	}
}

// FuzzCoalesce: a stream of segments, mangled by the fuzzer (dropped,
// repeated, swapped, bytes flipped, checksums fixed or not, pushes, a
// foreign packet), goes through the coalescer; what it writes, cut up
// again as the kernel would, is the stream unchanged, in order — so it
// never joins what it should not, and never loses or reorders a packet.
func FuzzCoalesce(f *testing.F) {
	f.Add(uint16(1440), uint16(8000), []byte{})                    // clean stream
	f.Add(uint16(100), uint16(2000), []byte{0, 3, 1, 5, 2, 7})     // drop, repeat, swap
	f.Add(uint16(536), uint16(5000), []byte{3, 2, 0x13, 4, 6, 8})  // flips, fixed and not
	f.Add(uint16(1), uint16(40), []byte{5, 1, 4, 9, 0x25, 3})      // tiny segments, PSH, foreign
	f.Add(uint16(1460), uint16(65000), []byte{0x16, 0x20, 6, 0x7}) // near 64 KiB
	f.Fuzz(func(t *testing.T, mss, n uint16, ops []byte) {
		if mss == 0 || n == 0 || int(n) > 65000 || int(n)/int(mss) > 400 {
			return
		}
		stream := segments(t, tsoFixture(int(n), tcpFlagACK), int(mss))
		for k := 0; k+1 < len(ops) && len(stream) > 0; k += 2 {
			op, at := ops[k]%8, int(ops[k+1])%len(stream)
			if stream[at] == nil && op != 0 && op != 2 {
				continue // a flush mark, not a packet
			}
			switch op {
			case 0: // drop
				stream = append(stream[:at], stream[at+1:]...)
			case 1: // repeat
				stream = append(stream[:at+1], stream[at:]...)
			case 2: // swap with the next
				if at+1 < len(stream) {
					stream[at], stream[at+1] = stream[at+1], stream[at]
				}
			case 3, 6: // flip a byte; 6 fixes the checksums after
				b := append([]byte(nil), stream[at]...)
				b[int(ops[k+1])*7%len(b)] ^= ops[k] | 1
				if op == 6 && fixable(b) && b[0] == 0x45 {
					fixChecksums(b)
				}
				stream[at] = b
			case 4: // push
				if b := append([]byte(nil), stream[at]...); fixable(b) && b[0] == 0x45 {
					b[33] |= tcpFlagPSH
					stream[at] = fixChecksums(b)
				}
			case 5: // a foreign packet
				stream = append(stream[:at], append([][]byte{icmpEcho(addrB, addrA, 8, 1, uint16(k), nil)}, stream[at:]...)...)
			case 7: // flush here
				stream = append(stream[:at], append([][]byte{nil}, stream[at:]...)...)
			}
		}
		c, w := newTestCoalescer()
		var want [][]byte
		for _, p := range stream {
			if p == nil {
				c.flush()
				continue
			}
			want = append(want, p)
			if err := c.queue(append([]byte(nil), p...)); err != nil {
				t.Fatal(err)
			}
		}
		c.flush()
		if err := samePackets(want, expand(t, *w)); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzSegment: whatever a read hands over as a TSO packet, the reader
// either refuses it or cuts it into packets a PPP link can carry: valid
// IPv4, total length right, TCP checksum right, payload in order.
func FuzzSegment(f *testing.F) {
	f.Add(tsoFixture(5000, tcpFlagACK|tcpFlagPSH), uint16(1440))
	f.Add(tsoFixture(1, tcpFlagACK), uint16(1))
	f.Add(tsoFixture(100, tcpFlagACK)[:60], uint16(50))
	f.Fuzz(func(t *testing.T, pkt []byte, mss uint16) {
		tso, err := parseTSO(pkt, int(mss))
		if err != nil {
			return
		}
		if tso.segs > 2000 {
			return
		}
		out := make([]byte, tso.hl+int(mss))
		var payload []byte
		for k := range tso.segs {
			n := tso.segment(k, out)
			seg := out[:n]
			if !validIPv4(seg) || !tcpChecksumOK(seg) || int(binary.BigEndian.Uint16(seg[2:])) != n {
				t.Fatalf("segment %d of %d is broken: % x", k, tso.segs, seg)
			}
			payload = append(payload, seg[tso.hl:]...)
		}
		if !bytes.Equal(payload, pkt[tso.hl:]) {
			t.Fatal("payload changed")
		}
	})
}

func BenchmarkSegment(b *testing.B) {
	in := tsoFixture(45*1440, tcpFlagACK)
	tso, _ := parseTSO(in, 1440)
	out := make([]byte, tso.hl+1440)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		for k := range tso.segs {
			tso.segment(k, out)
		}
	}
}

func BenchmarkCoalesce(b *testing.B) {
	stream := segments(b, tsoFixture(45*1440, tcpFlagACK), 1440)
	c := &coalescer{write: func([]byte, int, int) error { return nil }}
	b.SetBytes(45 * 1440)
	b.ReportAllocs()
	for b.Loop() {
		for _, s := range stream {
			c.queue(s)
		}
		c.flush()
	}
}

// TestSumAlignments checks the 64-bit sum against RFC 1071's 16-bit one
// on every length up to 300 at every start offset within a word, carried
// sums included, and on the inputs most likely to lose a carry.
func TestSumAlignments(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	buf := make([]byte, 310)
	for k := range buf {
		buf[k] = byte(r.Uint32())
	}
	for off := range 8 {
		for n := range 300 {
			b := buf[off : off+n]
			initial := r.Uint32() & 0xffff
			if got, want := ^fold(sum(b, uint64(initial))), checksum(b, initial); got != want {
				t.Fatalf("offset %d length %d initial %#x: sum gives %#04x, RFC 1071 %#04x", off, n, initial, got, want)
			}
		}
	}
	for _, fill := range []byte{0x00, 0x01, 0x80, 0xfe, 0xff} {
		for _, n := range []int{1, 7, 8, 9, 31, 32, 33, 1500, 65535} {
			b := bytes.Repeat([]byte{fill}, n)
			if got, want := ^fold(sum(b, 0)), checksum(b, 0); got != want {
				t.Fatalf("%d bytes of %#02x: sum gives %#04x, RFC 1071 %#04x", n, fill, got, want)
			}
		}
	}
}

// FuzzSum: the 64-bit sum equals RFC 1071's 16-bit one on any bytes.
func FuzzSum(f *testing.F) {
	f.Add([]byte{0xff, 0xff, 0xff}, uint16(0xffff))
	f.Add(bytes.Repeat([]byte{0xff}, 40), uint16(1))
	f.Fuzz(func(t *testing.T, b []byte, initial uint16) {
		if got, want := ^fold(sum(b, uint64(initial))), checksum(b, uint32(initial)); got != want {
			t.Fatalf("sum gives %#04x, RFC 1071 %#04x", got, want)
		}
	})
}

func BenchmarkSum1500(b *testing.B) {
	buf := bytes.Repeat([]byte{0xa5, 0x5a, 0xff}, 500)
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		sum(buf, 0)
	}
}
