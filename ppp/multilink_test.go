package ppp_test

import (
	"bytes"
	"fmt"
	"testing"

	"rosh/ppp"
	"rosh/ppp/mp"
)

// TestMultilinkMatrix: client mrru set or not × server mrru set or not —
// every pairing reaches IPCP Opened; MP is up only when both ends set it,
// and an end without it Configure-Rejects the multilink options (RFC 1990
// §5.1.1) rather than leave the link half in a bundle.
func TestMultilinkMatrix(t *testing.T) {
	for _, cm := range []int{0, 1614} {
		for _, sm := range []int{0, 1600} {
			t.Run(fmt.Sprintf("client=%d/server=%d", cm, sm), func(t *testing.T) {
				ccfg, scfg := clientConfig(0), serverConfig(ppp.AllMethods)
				ccfg.MRRU, scfg.MRRU = cm, sm
				ccfg.Endpoint = []byte{3, 2, 0xab, 0xcd, 0, 0, 2} // class 3: the MAC
				n := newNet(t, ccfg, scfg)
				n.up()
				c, s := n.client.Status(), n.server.Status()
				both := cm > 0 && sm > 0
				if c.MP != both || s.MP != both {
					t.Fatalf("MP client %v server %v, want %v", c.MP, s.MP, both)
				}
				if both && (c.MRRU != cm || c.PeerMRRU != sm || s.MRRU != sm || s.PeerMRRU != cm) {
					t.Fatalf("MRRU client %d/%d server %d/%d", c.MRRU, c.PeerMRRU, s.MRRU, s.PeerMRRU)
				}
				rejects := n.count(false, ppp.ProtoLCP, ppp.CodeConfigureReject) + n.count(true, ppp.ProtoLCP, ppp.CodeConfigureReject)
				if (cm > 0) != (sm > 0) && rejects == 0 {
					t.Fatal("one end without MP, and no Configure-Reject")
				}
				if (cm > 0) == (sm > 0) && rejects != 0 {
					t.Fatalf("%d Configure-Rejects", rejects)
				}
			})
		}
	}
}

// TestMultilinkShortSeq: the end that asks for short sequence numbers gets
// them (RFC 1990 §5.1.2); the other end sends long ones.
func TestMultilinkShortSeq(t *testing.T) {
	ccfg, scfg := clientConfig(0), serverConfig(ppp.AllMethods)
	ccfg.MRRU, scfg.MRRU, ccfg.ShortSeq = 1614, 1614, true
	n := newNet(t, ccfg, scfg)
	n.up()
	c, s := n.client.Status(), n.server.Status()
	if !c.PeerShortSeq || c.ShortSeq || !s.ShortSeq || s.PeerShortSeq {
		t.Fatalf("short: client sends %v receives %v, server sends %v receives %v", c.ShortSeq, c.PeerShortSeq, s.ShortSeq, s.PeerShortSeq)
	}
	// The server's 12-bit fragments reach the client whole.
	ip := ipPacket(1600)
	for _, fr := range fragments(t, &mp.Fragmenter{Short: true}, ip, 1480) {
		n.client.Input(ppp.ProtoMP, fr)
	}
	n.settle()
	if len(n.cData) != 1 || !bytes.Equal(n.cData[0], ip) {
		t.Fatalf("got %d packets", len(n.cData))
	}
}

// TestMultilinkReassembly hands the client, over the in-memory link, the
// fragments of 1600-byte IPv4 packets in order, out of order, with one
// lost, with duplicates and over the MRRU: whole packets come out, the
// broken ones never.
func TestMultilinkReassembly(t *testing.T) {
	ccfg, scfg := clientConfig(0), serverConfig(ppp.AllMethods)
	ccfg.MRRU, scfg.MRRU = 1614, 1614
	n := newNet(t, ccfg, scfg)
	n.up()
	var f mp.Fragmenter
	a, b, c, d := ipPacket(1600), ipPacket(1000), ipPacket(1614), ipPacket(1615)
	fa, fb := fragments(t, &f, a, 700), fragments(t, &f, b, 700) // 3 and 2 fragments
	fc, fd := fragments(t, &f, c, 700), fragments(t, &f, d, 700) // 3 and 3; d is over the MRRU
	in := [][]byte{
		fa[0], fa[2], fa[1], // out of order
		fb[0], fb[0], fb[1], fb[1], // duplicates
		fc[0], fc[2], // fc[1] lost
		fd[0], fd[1], fd[2], // too big
	}
	e := ipPacket(200)
	in = append(in, fragments(t, &f, e, 700)...)
	// IPCP is sent over the bundle too; LCP never is (RFC 1990 §3).
	lcpInMP := mp.AppendFragment(nil, false, mp.Fragment{Begin: true, End: true, Seq: f.Seq(),
		Data: []byte{0xc0, 0x21, 9, 1, 0, 8, 0, 0, 0, 0}})
	in = append(in, lcpInMP)
	for _, fr := range in {
		n.client.Input(ppp.ProtoMP, fr)
		n.settle()
	}
	want := [][]byte{a, b, e}
	if len(n.cData) != len(want) {
		t.Fatalf("got %d packets, want %d", len(n.cData), len(want))
	}
	for i := range want {
		if !bytes.Equal(n.cData[i], want[i]) {
			t.Fatalf("packet %d differs", i)
		}
	}
	if got := n.count(true, ppp.ProtoLCP, ppp.CodeEchoReply); got != 0 {
		t.Fatalf("answered an Echo-Request that came inside MP: %d replies", got)
	}
	// An end that did not negotiate MP Protocol-Rejects its fragments.
	m := newNet(t, clientConfig(0), serverConfig(ppp.AllMethods))
	m.up()
	m.client.Input(ppp.ProtoMP, fa[0])
	m.settle()
	if m.count(true, ppp.ProtoLCP, ppp.CodeProtocolReject) != 1 {
		t.Fatal("MP without MRRU not Protocol-Rejected")
	}
}

// ipPacket is an IPv4 packet of n bytes (only the version matters here).
func ipPacket(n int) []byte {
	p := make([]byte, n)
	p[0] = 0x45
	for i := 1; i < n; i++ {
		p[i] = byte(i * 7)
	}
	return p
}

// fragments cuts an IPv4 packet into MP fragments for frames of maxFrame
// bytes, returned as they follow the 0x003d Protocol field.
func fragments(t *testing.T, f *mp.Fragmenter, ip []byte, maxFrame int) [][]byte {
	t.Helper()
	off := 2 + mp.LongHeaderLen
	buf := append(make([]byte, off), 0x00, 0x21)
	buf = append(buf, ip...)
	var out [][]byte
	if err := f.Split(buf, off, 0, maxFrame, func(fr []byte) error {
		out = append(out, bytes.Clone(fr[2:]))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}
