package dataplane

import (
	"encoding/binary"
	"net/netip"
)

// Packet building: just enough IPv4, ICMP and TCP for the tests.

// checksum is the Internet checksum (RFC 1071) of b, folded with an
// initial sum.
func checksum(b []byte, initial uint32) uint16 {
	s := initial
	for len(b) >= 2 {
		s += uint32(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint32(b[0]) << 8
	}
	for s > 0xffff {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

// ipv4 writes a 20-byte header (no options) for a payload of n bytes.
func ipv4(proto byte, src, dst netip.Addr, n int) []byte {
	h := make([]byte, 20, 20+n)
	h[0] = 0x45 // version 4, IHL 5
	binary.BigEndian.PutUint16(h[2:], uint16(20+n))
	binary.BigEndian.PutUint16(h[4:], 0x1234) // identification
	h[6] = 0x40                               // don't fragment
	h[8] = 64                                 // TTL
	h[9] = proto
	s, d := src.As4(), dst.As4()
	copy(h[12:], s[:])
	copy(h[16:], d[:])
	binary.BigEndian.PutUint16(h[10:], checksum(h, 0))
	return h
}

// icmpEcho is an ICMP echo request (type 8) or reply (type 0), RFC 792.
func icmpEcho(src, dst netip.Addr, typ byte, id, seq uint16, payload []byte) []byte {
	m := make([]byte, 8+len(payload))
	m[0] = typ
	binary.BigEndian.PutUint16(m[4:], id)
	binary.BigEndian.PutUint16(m[6:], seq)
	copy(m[8:], payload)
	binary.BigEndian.PutUint16(m[2:], checksum(m, 0))
	return append(ipv4(1, src, dst, len(m)), m...)
}

// echoResponder answers, in place, an ICMP echo request in pkt with the
// reply the peer would send, and reports whether it did. Swapping the
// addresses keeps the IP checksum; type 8 → 0 changes one ICMP word.
func echoResponder(pkt []byte) bool {
	if len(pkt) < 28 || pkt[0] != 0x45 || pkt[9] != 1 || pkt[20] != 8 {
		return false
	}
	var a [4]byte
	copy(a[:], pkt[12:16])
	copy(pkt[12:16], pkt[16:20])
	copy(pkt[16:20], a[:])
	pkt[20] = 0
	binary.BigEndian.PutUint16(pkt[22:], checksumReplace(binary.BigEndian.Uint16(pkt[22:]), 0x0800, 0x0000))
	return true
}

// validIPv4 reports whether an IPv4 header's checksum is right.
func validIPv4(pkt []byte) bool {
	ihl := int(pkt[0]&0x0f) * 4
	return len(pkt) >= ihl && checksum(pkt[:ihl], 0) == 0
}

// tcpChecksumOK reports whether the TCP checksum of an unfragmented IPv4
// segment is right, over the pseudo-header (RFC 9293 §3.1).
func tcpChecksumOK(pkt []byte) bool {
	ihl := int(pkt[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(pkt[2:]))
	return checksum(pkt[ihl:total], pseudoSum(pkt, total-ihl)) == 0
}

// pseudoSum is the unfolded sum of the TCP pseudo-header.
func pseudoSum(pkt []byte, tcpLen int) uint32 {
	var s uint32
	for k := 12; k < 20; k += 2 {
		s += uint32(binary.BigEndian.Uint16(pkt[k:]))
	}
	return s + ipProtoTCP + uint32(tcpLen)
}

// mssOf returns the first MSS option of a TCP SYN in an IPv4 packet.
func mssOf(pkt []byte) (uint16, bool) {
	ihl := int(pkt[0]&0x0f) * 4
	tcp := pkt[ihl:]
	doff := int(tcp[12]>>4) * 4
	for k := 20; k < doff; {
		switch tcp[k] {
		case tcpOptEOL:
			return 0, false
		case tcpOptNOP:
			k++
			continue
		}
		if k+1 >= doff || tcp[k+1] < 2 {
			return 0, false
		}
		if tcp[k] == tcpOptMSS && tcp[k+1] == 4 {
			return binary.BigEndian.Uint16(tcp[k+2:]), true
		}
		k += int(tcp[k+1])
	}
	return 0, false
}
