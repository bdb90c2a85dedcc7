package dataplane

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// synFixture is a TCP SYN from 192.0.2.1:40000 to 198.51.100.2:80 with
// the options Linux sends, in a 20-byte IPv4 header. The checksums are
// left zero here and filled in by fixChecksums.
var synFixture = []byte{
	// IPv4 header (RFC 791 §3.1)
	0x45,       // version 4, IHL 5 (20 bytes)
	0x00,       // DSCP/ECN
	0x00, 0x3c, // total length 60
	0xbe, 0xef, // identification
	0x40, 0x00, // flags DF, fragment offset 0
	0x40,       // TTL 64
	0x06,       // protocol TCP
	0x00, 0x00, // header checksum (fixChecksums)
	192, 0, 2, 1, // source 192.0.2.1
	198, 51, 100, 2, // destination 198.51.100.2
	// TCP header (RFC 9293 §3.1)
	0x9c, 0x40, // source port 40000
	0x00, 0x50, // destination port 80
	0x12, 0x34, 0x56, 0x78, // sequence number
	0x00, 0x00, 0x00, 0x00, // acknowledgment number
	0xa0,       // data offset 10 (40 bytes)
	0x02,       // flags SYN
	0xfa, 0xf0, // window 64240
	0x00, 0x00, // checksum (fixChecksums)
	0x00, 0x00, // urgent pointer
	// options
	0x02, 0x04, 0x05, 0xb4, // MSS 1460
	0x04, 0x02, // SACK permitted
	0x08, 0x0a, 0x00, 0x01, 0x02, 0x03, 0x00, 0x00, 0x00, 0x00, // timestamps
	0x01,             // NOP
	0x03, 0x03, 0x07, // window scale 7
}

// segment builds an IPv4 TCP segment: IPv4 options ipOpts (padded by the
// caller to a multiple of 4), TCP flags, the TCP options opts (padded
// here with EOL) and the fragment field. Checksums are right.
func segment(ipOpts []byte, flags byte, frag uint16, opts ...byte) []byte {
	for len(opts)%4 != 0 {
		opts = append(opts, tcpOptEOL)
	}
	ihl := 20 + len(ipOpts)
	b := make([]byte, ihl+20+len(opts))
	b[0] = 0x40 | byte(ihl/4)
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	binary.BigEndian.PutUint16(b[6:], frag)
	b[8], b[9] = 64, ipProtoTCP
	copy(b[12:], []byte{192, 0, 2, 1, 198, 51, 100, 2})
	copy(b[20:], ipOpts)
	t := b[ihl:]
	binary.BigEndian.PutUint16(t[0:], 40000)
	binary.BigEndian.PutUint16(t[2:], 80)
	t[12] = byte((20+len(opts))/4) << 4
	t[13] = flags
	binary.BigEndian.PutUint16(t[14:], 64240)
	copy(t[20:], opts)
	return fixChecksums(b)
}

// fixChecksums fills in the IPv4 header checksum and the TCP checksum
// over the segment's bytes in pkt (for a first fragment, as if the rest
// were empty: what matters is that an incremental update keeps it right).
func fixChecksums(pkt []byte) []byte {
	ihl := int(pkt[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(pkt[2:]))
	pkt[10], pkt[11] = 0, 0
	binary.BigEndian.PutUint16(pkt[10:], checksum(pkt[:ihl], 0))
	t := pkt[ihl:total]
	t[16], t[17] = 0, 0
	binary.BigEndian.PutUint16(t[16:], checksum(t, pseudoSum(pkt, len(t))))
	return pkt
}

func mss(v uint16) []byte { return []byte{tcpOptMSS, tcpOptMSSLen, byte(v >> 8), byte(v)} }

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

const (
	flagACK = 0x10
	flagMF  = 0x2000 // more fragments
)

var (
	nop      = []byte{tcpOptNOP}
	sackOK   = []byte{0x04, 0x02}
	wscale7  = []byte{0x03, 0x03, 0x07}
	tsOpt    = []byte{0x08, 0x0a, 0, 0, 0, 1, 0, 0, 0, 0}
	raOpt    = []byte{0x94, 0x04, 0x00, 0x00} // IPv4 Router Alert (RFC 2113)
	ipNOPEOL = []byte{0x01, 0x01, 0x01, 0x00} // IPv4 NOP NOP NOP EOL
)

func TestClampMSS(t *testing.T) {
	syn := fixChecksums(append([]byte(nil), synFixture...))
	synClamped := append([]byte(nil), synFixture...)
	binary.BigEndian.PutUint16(synClamped[42:], 1440)
	synClamped = fixChecksums(synClamped)
	padded := append(append([]byte(nil), syn...), 0, 0, 0, 0, 0, 0)
	paddedWant := append(append([]byte(nil), synClamped...), 0, 0, 0, 0, 0, 0)

	for _, tc := range []struct {
		name string
		in   []byte
		max  uint16
		want []byte // nil: unchanged
	}{
		{"Linux SYN MSS 1460 to 1440", syn, 1440, synClamped},
		{"Ethernet padding after total length", padded, 1440, paddedWant},
		{"SYN-ACK", segment(nil, tcpFlagSYN|flagACK, 0, mss(1460)...), 1452,
			segment(nil, tcpFlagSYN|flagACK, 0, mss(1452)...)},
		{"MSS below max", segment(nil, tcpFlagSYN, 0, mss(1400)...), 1440, nil},
		{"MSS equal to max", segment(nil, tcpFlagSYN, 0, mss(1440)...), 1440, nil},
		{"IPv4 options present", segment(raOpt, tcpFlagSYN, 0, mss(1460)...), 1440,
			segment(raOpt, tcpFlagSYN, 0, mss(1440)...)},
		{"IPv4 NOP/EOL options", segment(ipNOPEOL, tcpFlagSYN, 0, mss(65495)...), 1452,
			segment(ipNOPEOL, tcpFlagSYN, 0, mss(1452)...)},
		{"MSS after timestamps, even offset", segment(nil, tcpFlagSYN, 0, cat(nop, nop, tsOpt, mss(1460))...), 1440,
			segment(nil, tcpFlagSYN, 0, cat(nop, nop, tsOpt, mss(1440))...)},
		{"MSS after one NOP, odd offset", segment(nil, tcpFlagSYN, 0, cat(nop, mss(1460), wscale7)...), 1440,
			segment(nil, tcpFlagSYN, 0, cat(nop, mss(1440), wscale7)...)},
		{"MSS after SACK-permitted and NOP, odd offset", segment(nil, tcpFlagSYN, 0, cat(sackOK, nop, mss(9000))...), 1400,
			segment(nil, tcpFlagSYN, 0, cat(sackOK, nop, mss(1400))...)},
		{"two MSS options, both clamped", segment(nil, tcpFlagSYN, 0, cat(mss(1460), mss(8960))...), 1440,
			segment(nil, tcpFlagSYN, 0, cat(mss(1440), mss(1440))...)},
		{"no MSS option", segment(nil, tcpFlagSYN, 0, cat(nop, nop, tsOpt, sackOK, nop, wscale7)...), 1440, nil},
		{"no options at all", segment(nil, tcpFlagSYN, 0), 1440, nil},
		{"non-SYN segment with an MSS option", segment(nil, flagACK, 0, mss(1460)...), 1440, nil},
		{"first fragment is clamped", segment(nil, tcpFlagSYN, flagMF, mss(1460)...), 1440,
			segment(nil, tcpFlagSYN, flagMF, mss(1440)...)},
		{"non-first fragment is left alone", segment(nil, tcpFlagSYN, flagMF|185, mss(1460)...), 1440, nil},
		{"last fragment is left alone", segment(nil, tcpFlagSYN, 3, mss(1460)...), 1440, nil},
		{"EOL before the MSS", segment(nil, tcpFlagSYN, 0, cat([]byte{tcpOptEOL, 0, 0, 0}, mss(1460))...), 1440, nil},
		{"option of length 0 stops the scan", segment(nil, tcpFlagSYN, 0, cat([]byte{0x08, 0x00, 0, 0}, mss(1460))...), 1440, nil},
		{"option of length 1 stops the scan", segment(nil, tcpFlagSYN, 0, cat([]byte{0x08, 0x01, 0, 0}, mss(1460))...), 1440, nil},
		{"option running past the header", segment(nil, tcpFlagSYN, 0, 0x08, 0x0a, 0, 0), 1440, nil},
		{"MSS with the wrong length", segment(nil, tcpFlagSYN, 0, tcpOptMSS, 0x03, 0x05, 0xb4), 1440, nil},
		{"MSS cut by the header's end", segment(nil, tcpFlagSYN, 0, 0x01, 0x01, 0x01, tcpOptMSS), 1440, nil},
		{"max 0 leaves everything alone", syn, 0, nil},
		{"UDP", func() []byte { b := append([]byte(nil), syn...); b[9] = 17; return b }(), 1440, nil},
		{"IPv6", func() []byte { b := append([]byte(nil), syn...); b[0] = 0x60; return b }(), 1440, nil},
		{"IHL below 5", func() []byte { b := append([]byte(nil), syn...); b[0] = 0x44; return b }(), 1440, nil},
		{"IHL beyond the packet", func() []byte { b := append([]byte(nil), syn...); b[0] = 0x4f; b[3] = 40; return b[:40] }(), 1440, nil},
		{"total length beyond the bytes", func() []byte { b := append([]byte(nil), syn...); b[3] = 61; return b }(), 1440, nil},
		{"total length below IHL", func() []byte { b := append([]byte(nil), syn...); b[3] = 19; return b }(), 1440, nil},
		{"TCP header cut short", func() []byte { b := append([]byte(nil), syn[:36]...); b[3] = 36; return b }(), 1440, nil},
		{"data offset beyond the segment", func() []byte { b := append([]byte(nil), syn...); b[32] = 0xf0; return b }(), 1440, nil},
		{"data offset below 5", func() []byte { b := append([]byte(nil), syn...); b[32] = 0x40; return b }(), 1440, nil},
		{"empty", []byte{}, 1440, nil},
		{"one byte", []byte{0x45}, 1440, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := append([]byte(nil), tc.in...)
			changed := ClampMSS(got, tc.max)
			want := tc.want
			if want == nil {
				want = tc.in
			}
			if changed != (tc.want != nil) {
				t.Errorf("ClampMSS = %v, want %v", changed, tc.want != nil)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("packet (-want +got):\n-% x\n+% x", want, got)
			}
			if changed && !tcpChecksumOK(got) {
				t.Error("TCP checksum no longer valid")
			}
		})
	}
}

// Every prefix of a SYN, with the total length left as it was or cut to
// match, is handled without a panic; only whole headers are changed.
func TestClampMSSTruncated(t *testing.T) {
	syn := fixChecksums(append([]byte(nil), synFixture...))
	for n := range len(syn) {
		for _, fixLen := range []bool{false, true} {
			b := append([]byte(nil), syn[:n]...)
			if fixLen && n >= 4 {
				binary.BigEndian.PutUint16(b[2:], uint16(n))
			}
			changed := ClampMSS(b, 536)
			// The MSS option ends at byte 44: only then is there a
			// whole header (data offset 10 → 60 bytes) to change.
			if changed {
				t.Errorf("prefix %d (length fixed %v) was changed: % x", n, fixLen, b)
			}
		}
	}
}

// The incremental update agrees with a full recomputation for every
// value of a word, odd-offset MSS values included (the fixtures above
// compare whole packets; this sweeps the arithmetic).
func TestChecksumReplace(t *testing.T) {
	b := []byte{0x45, 0x00, 0x12, 0x34, 0xab, 0xcd, 0xff, 0xff, 0x00, 0x01}
	hc := checksum(b, 0)
	for v := range 0x10000 {
		old := binary.BigEndian.Uint16(b[4:])
		c := append([]byte(nil), b...)
		binary.BigEndian.PutUint16(c[4:], uint16(v))
		got := checksumReplace(hc, old, uint16(v))
		want := checksum(c, 0)
		if got != want && !(got^want == 0xffff && (got == 0 || want == 0)) {
			t.Fatalf("word %#04x → %#04x: incremental %#04x, recomputed %#04x", old, v, got, want)
		}
	}
}

func TestMSSForMTU(t *testing.T) {
	for _, tc := range []struct {
		mtu  int
		want uint16
	}{{1500, 1460}, {1492, 1452}, {1480, 1440}, {576, 536}, {41, 1}, {40, 0}, {0, 0}, {-1, 0}, {70000, 0xffff}} {
		if got := MSSForMTU(tc.mtu); got != tc.want {
			t.Errorf("MSSForMTU(%d) = %d, want %d", tc.mtu, got, tc.want)
		}
	}
}

// FuzzClampMSS: no input panics; an input whose TCP checksum is made
// right stays right when the clamp changes it; nothing but MSS values
// (now ≤ max) and the checksum changes; an unchanged report means
// unchanged bytes.
func FuzzClampMSS(f *testing.F) {
	syn := fixChecksums(append([]byte(nil), synFixture...))
	f.Add(syn, uint16(1440))                                                                   // the Linux SYN
	f.Add(segment(nil, tcpFlagSYN, 0, cat(nop, mss(1460), wscale7)...), uint16(1440))          // odd-offset MSS
	f.Add(segment(raOpt, tcpFlagSYN|flagACK, 0, cat(sackOK, nop, mss(9000))...), uint16(1400)) // IP options, SYN-ACK
	f.Add(segment(nil, tcpFlagSYN, flagMF, mss(1460)...), uint16(1440))                        // first fragment
	f.Add(segment(nil, tcpFlagSYN, flagMF|185, mss(1460)...), uint16(1440))                    // later fragment
	f.Add(segment(nil, tcpFlagSYN, 0, 0x08, 0x00, 0, 0), uint16(1440))                         // zero-length option
	f.Add(syn[:30], uint16(1440))                                                              // truncated
	f.Add([]byte{}, uint16(1))                                                                 // empty
	f.Fuzz(func(t *testing.T, in []byte, max uint16) {
		if fixable(in) {
			fixChecksums(in)
		}
		b := append([]byte(nil), in...)
		changed := ClampMSS(b, max)
		if !changed {
			if !bytes.Equal(b, in) {
				t.Fatalf("reported unchanged but changed:\n% x\n% x", in, b)
			}
			return
		}
		if !fixable(in) {
			t.Fatalf("changed a packet it should have refused: % x", in)
		}
		if !tcpChecksumOK(b) {
			t.Fatalf("checksum broken:\nin  % x\nout % x", in, b)
		}
		ihl := int(in[0]&0x0f) * 4
		for k := range b {
			if b[k] != in[k] && k != ihl+16 && k != ihl+17 {
				if v, ok := mssOf(b); !ok || v > max {
					t.Fatalf("byte %d changed outside the checksum, MSS %d (max %d)", k, v, max)
				}
			}
		}
		if ClampMSS(b, max) {
			t.Fatalf("a second clamp changed the packet again: % x", b)
		}
	})
}

// fixable: an IPv4 TCP packet whose headers are whole, so its checksum
// can be computed and a clamp may apply.
func fixable(b []byte) bool {
	if len(b) < 20 || b[0]>>4 != 4 || b[9] != ipProtoTCP {
		return false
	}
	ihl := int(b[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(b[2:]))
	return ihl >= 20 && total >= ihl+20 && total <= len(b)
}

func BenchmarkClampMSS(b *testing.B) {
	syn := fixChecksums(append([]byte(nil), synFixture...))
	data := segment(nil, flagACK, 0)
	for _, bc := range []struct {
		name string
		pkt  []byte
	}{{"SYN", syn}, {"data", data}} {
		b.Run(bc.name, func(b *testing.B) {
			buf := make([]byte, len(bc.pkt))
			b.ReportAllocs()
			for b.Loop() {
				copy(buf, bc.pkt)
				ClampMSS(buf, 1440)
			}
		})
	}
}
