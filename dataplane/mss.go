package dataplane

import (
	"encoding/binary"
	"math/bits"
)

// Offsets and values of the IPv4 (RFC 791 §3.1) and TCP (RFC 9293 §3.1)
// fields the clamp reads.
const (
	ipv4MinLen      = 20     // IPv4 header without options
	ipv4TotalLen    = 2      // Total Length, 16 bits
	ipv4FragOff     = 6      // Flags (3 bits) and Fragment Offset (13 bits)
	ipv4FragOffMask = 0x1fff // the Fragment Offset bits
	ipv4Protocol    = 9      // Protocol
	ipv4Src         = 12     // Source Address
	ipProtoTCP      = 6      // RFC 790 assigned number for TCP

	tcpMinLen   = 20 // TCP header without options
	tcpDataOff  = 12 // Data Offset in the high nibble, in 32-bit words
	tcpFlags    = 13 // CWR ECE URG ACK PSH RST SYN FIN
	tcpChecksum = 16 // Checksum, 16 bits
	tcpFlagSYN  = 0x02

	tcpOptEOL    = 0 // End of Option List (RFC 9293 §3.2)
	tcpOptNOP    = 1 // No-Operation
	tcpOptMSS    = 2 // Maximum Segment Size
	tcpOptMSSLen = 4 // kind, length and a 16-bit value

	// mssOverhead is what RFC 879 §1 and RFC 6691 §2 take off the MTU
	// for an IPv4 MSS: the fixed 20-byte IP and 20-byte TCP headers,
	// never their options.
	mssOverhead = ipv4MinLen + tcpMinLen
)

// MSSForMTU is the largest MSS a SYN may announce across a link of the
// given MTU: MTU − 40 (RFC 879 §1, RFC 6691 §2). It is what RouterOS's
// change-tcp-mss clamps to. An MTU too small to carry a TCP segment
// gives 0, which ClampMSS treats as "leave alone".
func MSSForMTU(mtu int) uint16 {
	if mtu <= mssOverhead {
		return 0
	}
	return uint16(min(mtu-mssOverhead, 0xffff))
}

// ClampMSS lowers the Maximum Segment Size option (RFC 9293 §3.7.1) of an
// IPv4 TCP segment with SYN set — a SYN or a SYN-ACK — to max when it
// announces more, and reports whether it changed pkt. The TCP checksum is
// updated incrementally (RFC 1624 §3, eqn. 3), so the rest of the segment
// is never read; an MSS that sits at an odd offset (after a single NOP,
// say) is summed byte-swapped, as RFC 1071 §2(B) allows.
//
// It works in place and never allocates. Anything it does not understand
// is left alone: another IP version, a protocol other than TCP, a
// fragment other than the first (only that one holds the TCP header), a
// segment without SYN, a header or option list cut short, an option with
// a bad length (the scan stops there), or max == 0.
func ClampMSS(pkt []byte, max uint16) bool {
	if max == 0 || len(pkt) < ipv4MinLen || pkt[0]>>4 != 4 {
		return false
	}
	ihl := int(pkt[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(pkt[ipv4TotalLen:]))
	if ihl < ipv4MinLen || total < ihl || total > len(pkt) {
		return false
	}
	if pkt[ipv4Protocol] != ipProtoTCP || binary.BigEndian.Uint16(pkt[ipv4FragOff:])&ipv4FragOffMask != 0 {
		return false
	}
	tcp := pkt[ihl:total]
	if len(tcp) < tcpMinLen || tcp[tcpFlags]&tcpFlagSYN == 0 {
		return false
	}
	doff := int(tcp[tcpDataOff]>>4) * 4
	if doff < tcpMinLen || doff > len(tcp) {
		return false
	}
	changed := false
	for i := tcpMinLen; i < doff; {
		kind := tcp[i]
		if kind == tcpOptEOL {
			break
		}
		if kind == tcpOptNOP {
			i++
			continue
		}
		if i+1 >= doff {
			break
		}
		n := int(tcp[i+1])
		if n < 2 || i+n > doff {
			break
		}
		if kind == tcpOptMSS && n == tcpOptMSSLen {
			at := i + 2
			old := binary.BigEndian.Uint16(tcp[at:])
			if old > max {
				binary.BigEndian.PutUint16(tcp[at:], max)
				o, m := old, max
				if at&1 == 1 {
					// The value straddles two 16-bit words of the
					// checksum: its bytes count swapped.
					o, m = bits.ReverseBytes16(o), bits.ReverseBytes16(m)
				}
				sum := checksumReplace(binary.BigEndian.Uint16(tcp[tcpChecksum:]), o, m)
				binary.BigEndian.PutUint16(tcp[tcpChecksum:], sum)
				changed = true
			}
		}
		i += n
	}
	return changed
}

// checksumReplace is RFC 1624 §3 eqn. 3: the Internet checksum hc of a
// message in which one 16-bit word changes from old to new becomes
// ~(~hc + ~old + new), in one's complement arithmetic.
func checksumReplace(hc, old, new uint16) uint16 {
	s := uint32(^hc) + uint32(^old) + uint32(new)
	s = s&0xffff + s>>16
	s = s&0xffff + s>>16
	return ^uint16(s)
}
