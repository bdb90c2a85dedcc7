package dataplane

import (
	"encoding/binary"
	"errors"

	"golang.org/x/sys/unix"
)

// Offloads (Config.Offload): with IFF_VNET_HDR every packet crossing the
// device carries a struct virtio_net_hdr (virtio 1.2 §5.1.6.1), and with
// TUNSETOFFLOAD(TUN_F_CSUM|TUN_F_TSO4) the kernel may hand over a TCP
// stream as one packet of up to 64 KiB (TSO) with its checksum left to
// us, and take one back the same way (GRO). One system call then moves
// what would otherwise take forty-odd, which is most of the cost of a
// TUN data path. The PPP session still carries MTU-sized packets: what
// the kernel gives in one piece is cut here, and what the peer sent in
// pieces is joined here before the kernel sees it.

// vnetHdrLen is sizeof(struct virtio_net_hdr) without num_buffers, the
// size a TUN device uses unless told otherwise (TUNSETVNETHDRSZ).
const vnetHdrLen = 10

// struct virtio_net_hdr: flags, gso_type, then four 16-bit fields in the
// byte order of a legacy virtio device, which for TUN is the host's
// (TUNSETVNETLE/BE unset).
const (
	vnetFlags      = 0
	vnetGSOType    = 1
	vnetHdrLenOff  = 2
	vnetGSOSize    = 4
	vnetCsumStart  = 6
	vnetCsumOffset = 8
)

// vnetHdr is a view over a struct virtio_net_hdr.
type vnetHdr []byte

func (h vnetHdr) flags() uint8         { return h[vnetFlags] }
func (h vnetHdr) gsoType() uint8       { return h[vnetGSOType] }
func (h vnetHdr) gsoSize() int         { return int(binary.NativeEndian.Uint16(h[vnetGSOSize:])) }
func (h vnetHdr) csumStart() int       { return int(binary.NativeEndian.Uint16(h[vnetCsumStart:])) }
func (h vnetHdr) csumOffset() int      { return int(binary.NativeEndian.Uint16(h[vnetCsumOffset:])) }
func (h vnetHdr) setU16(off, v int)    { binary.NativeEndian.PutUint16(h[off:], uint16(v)) }
func (h vnetHdr) clear()               { clear(h[:vnetHdrLen]) }
func (h vnetHdr) setFlags(f, gso byte) { h[vnetFlags], h[vnetGSOType] = f, gso }

// tunOffloads are the offloads asked of the device: checksums and TCP
// segmentation over IPv4. Not TSO6 (no IPv6 here), not ECN (a CWR
// segment is cut by the kernel), not UFO/USO.
const tunOffloads = unix.TUN_F_CSUM | unix.TUN_F_TSO4

// TCP flags the segmentation and coalescing rules name.
const (
	tcpFlagFIN = 0x01
	tcpFlagRST = 0x04
	tcpFlagPSH = 0x08
	tcpFlagACK = 0x10
	tcpFlagCWR = 0x80
	ipv4DF     = 0x4000 // Don't Fragment, in the flags/offset word
	ipv4MF     = 0x2000 // More Fragments
	ipv4MaxLen = 0xffff
	ipv4ID     = 4 // Identification
	ipv4Csum   = 10
)

var errMalformed = errors.New("malformed packet")

// sum adds b to s as a sequence of 16-bit big-endian words, an odd last
// byte padded with zero (RFC 1071 §4.1), without folding. It adds 32 bits
// at a time: modulo 2¹⁶−1 a 32-bit word is the sum of its halves.
func sum(b []byte, s uint64) uint64 {
	for len(b) >= 32 {
		s += uint64(binary.BigEndian.Uint32(b)) + uint64(binary.BigEndian.Uint32(b[4:])) +
			uint64(binary.BigEndian.Uint32(b[8:])) + uint64(binary.BigEndian.Uint32(b[12:])) +
			uint64(binary.BigEndian.Uint32(b[16:])) + uint64(binary.BigEndian.Uint32(b[20:])) +
			uint64(binary.BigEndian.Uint32(b[24:])) + uint64(binary.BigEndian.Uint32(b[28:]))
		b = b[32:]
	}
	for len(b) >= 4 {
		s += uint64(binary.BigEndian.Uint32(b))
		b = b[4:]
	}
	if len(b) >= 2 {
		s += uint64(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint64(b[0]) << 8
	}
	return s
}

// fold folds a sum to 16 bits with end-around carry.
func fold(s uint64) uint16 {
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return uint16(s)
}

// pseudoHeader is the unfolded sum of the IPv4 pseudo-header of a TCP or
// UDP segment of length n (RFC 9293 §3.1, RFC 768).
func pseudoHeader(ip []byte, proto byte, n int) uint64 {
	return sum(ip[ipv4Src:ipv4Src+8], uint64(proto)+uint64(n))
}

// ipv4HeaderChecksum recomputes the checksum of an IPv4 header.
func ipv4HeaderChecksum(ip []byte, ihl int) {
	ip[ipv4Csum], ip[ipv4Csum+1] = 0, 0
	binary.BigEndian.PutUint16(ip[ipv4Csum:], ^fold(sum(ip[:ihl], 0)))
}

// completeChecksum finishes a checksum the kernel left partial
// (VIRTIO_NET_HDR_F_NEEDS_CSUM): the field at start+offset holds the
// folded pseudo-header sum, and the checksum is the complement of the
// sum from start to the end of the packet. A UDP checksum that comes
// out zero is sent as all ones (RFC 768).
func completeChecksum(pkt []byte, start, offset int) bool {
	if start < ipv4MinLen || offset < 0 || start+offset+2 > len(pkt) {
		return false
	}
	c := ^fold(sum(pkt[start:], 0))
	if c == 0 && pkt[ipv4Protocol] == 17 && offset == 6 {
		c = 0xffff
	}
	binary.BigEndian.PutUint16(pkt[start+offset:], c)
	return true
}

// tsoPacket is a TCP/IPv4 packet the kernel handed over whole (gso_type
// TCPV4), to be cut into segments of at most mss bytes of payload the way
// Linux's tcp_gso_segment cuts them: headers copied, the IP
// identification and the sequence number advanced, FIN and PSH only on
// the last segment, CWR only on the first, every checksum computed.
type tsoPacket struct {
	pkt     []byte
	ihl, hl int // IPv4 header length; IPv4 and TCP headers' length
	mss     int
	segs    int
}

func parseTSO(pkt []byte, mss int) (tsoPacket, error) {
	if len(pkt) < ipv4MinLen || pkt[0]>>4 != 4 || pkt[ipv4Protocol] != ipProtoTCP || mss <= 0 {
		return tsoPacket{}, errMalformed
	}
	ihl := int(pkt[0]&0x0f) * 4
	if ihl < ipv4MinLen || ihl+tcpMinLen > len(pkt) || int(binary.BigEndian.Uint16(pkt[ipv4TotalLen:])) != len(pkt) {
		return tsoPacket{}, errMalformed
	}
	if binary.BigEndian.Uint16(pkt[ipv4FragOff:])&(ipv4MF|ipv4FragOffMask) != 0 {
		return tsoPacket{}, errMalformed
	}
	doff := int(pkt[ihl+tcpDataOff]>>4) * 4
	hl := ihl + doff
	if doff < tcpMinLen || hl >= len(pkt) {
		return tsoPacket{}, errMalformed
	}
	n := len(pkt) - hl
	return tsoPacket{pkt: pkt, ihl: ihl, hl: hl, mss: mss, segs: (n + mss - 1) / mss}, nil
}

// segment writes segment k into out, which must hold hl+mss bytes, and
// returns its length.
func (t *tsoPacket) segment(k int, out []byte) int {
	payload := t.pkt[t.hl+k*t.mss : min(t.hl+(k+1)*t.mss, len(t.pkt))]
	n := t.hl + len(payload)
	copy(out, t.pkt[:t.hl])
	copy(out[t.hl:], payload)
	ip, tcp := out[:t.ihl], out[t.ihl:n]
	binary.BigEndian.PutUint16(ip[ipv4TotalLen:], uint16(n))
	binary.BigEndian.PutUint16(ip[ipv4ID:], binary.BigEndian.Uint16(t.pkt[ipv4ID:])+uint16(k))
	ipv4HeaderChecksum(ip, t.ihl)
	seq := binary.BigEndian.Uint32(t.pkt[t.ihl+4:]) + uint32(k*t.mss)
	binary.BigEndian.PutUint32(tcp[4:], seq)
	if k < t.segs-1 {
		tcp[tcpFlags] &^= tcpFlagFIN | tcpFlagPSH
	}
	if k > 0 {
		tcp[tcpFlags] &^= tcpFlagCWR
	}
	tcp[tcpChecksum], tcp[tcpChecksum+1] = 0, 0
	binary.BigEndian.PutUint16(tcp[tcpChecksum:], ^fold(sum(tcp, pseudoHeader(ip, ipProtoTCP, len(tcp)))))
	return n
}

// coalescer joins consecutive TCP segments of one stream into one packet
// for the kernel (GRO), by rules as strict as Linux's tcp_gro_receive:
// IPv4 without options or fragmentation, Don't Fragment set, the same
// addresses, TOS, TTL and ports, identifications and sequence numbers
// that follow on, the same acknowledgment, window and TCP options, only
// ACK (and PSH, which ends the packet) set, every segment of one size
// but the last, which ends it too. Each segment's IP and TCP checksums
// are verified before it joins, so a joined packet (sent with its
// checksum partial, as CHECKSUM_PARTIAL) hides no corruption. Anything
// else ends the held packet and goes through on its own, so order is
// kept.
type coalescer struct {
	// write writes one frame (virtio_net_hdr and packet) to the device
	// and counts the segments and bytes it stands for.
	write func(frame []byte, segs, bytes int) error

	wbuf    []byte // a virtio_net_hdr and a packet written on its own
	buf     []byte // vnetHdrLen + the held packet
	n       int    // length of the held packet; 0 when none
	hl      int    // its IPv4 + TCP header length
	gso     int    // payload of each segment but the last
	last    int    // payload of the last segment
	segs    int
	bytes   int // the segments' own lengths, for the counters
	nextSeq uint32
	nextID  uint16
}

// mergeable reports whether pkt may be held or joined: the shape checks
// and both checksums. It returns the header length.
func mergeable(pkt []byte) (hl int, ok bool) {
	if len(pkt) < ipv4MinLen+tcpMinLen || pkt[0] != 0x45 || pkt[ipv4Protocol] != ipProtoTCP {
		return 0, false
	}
	if binary.BigEndian.Uint16(pkt[ipv4FragOff:]) != ipv4DF || int(binary.BigEndian.Uint16(pkt[ipv4TotalLen:])) != len(pkt) {
		return 0, false
	}
	tcp := pkt[ipv4MinLen:]
	doff := int(tcp[tcpDataOff]>>4) * 4
	if doff < tcpMinLen || ipv4MinLen+doff >= len(pkt) {
		return 0, false
	}
	if f := tcp[tcpFlags]; f&tcpFlagACK == 0 || f&^(tcpFlagACK|tcpFlagPSH) != 0 || tcp[tcpDataOff]&0x0f != 0 {
		return 0, false
	}
	if fold(sum(pkt[:ipv4MinLen], 0)) != 0xffff || fold(sum(tcp, pseudoHeader(pkt, ipProtoTCP, len(tcp)))) != 0xffff {
		return 0, false
	}
	return ipv4MinLen + doff, true
}

// joins reports whether pkt (mergeable, header length hl) continues the
// held packet.
func (c *coalescer) joins(pkt []byte, hl int) bool {
	h := c.buf[vnetHdrLen:]
	n := len(pkt) - hl
	switch {
	case c.full() || hl != c.hl || n > c.gso || c.n+n > ipv4MaxLen:
		return false
	case pkt[1] != h[1] || pkt[8] != h[8] || string(pkt[ipv4Src:ipv4Src+8]) != string(h[ipv4Src:ipv4Src+8]):
		return false // TOS, TTL, addresses
	case binary.BigEndian.Uint16(pkt[ipv4ID:]) != c.nextID:
		return false
	}
	t, ht := pkt[ipv4MinLen:hl], h[ipv4MinLen:hl]
	switch {
	case string(t[0:4]) != string(ht[0:4]) || binary.BigEndian.Uint32(t[4:]) != c.nextSeq:
		return false // ports, sequence
	case string(t[8:tcpFlags]) != string(ht[8:tcpFlags]) || t[tcpFlags]&^tcpFlagPSH != ht[tcpFlags]&^tcpFlagPSH:
		return false // acknowledgment, data offset, flags
	case string(t[14:16]) != string(ht[14:16]) || string(t[18:]) != string(ht[18:]):
		return false // window, urgent pointer, options
	}
	return true
}

// add offers the coalescer one packet. held: it keeps pkt (alone or
// joined to what it held). flushFirst: pkt cannot join what is held, so
// the caller writes the held packet (take) and offers pkt again, and
// order is kept. Neither: the caller writes pkt as it is.
func (c *coalescer) add(pkt []byte) (held, flushFirst bool) {
	hl, ok := mergeable(pkt)
	if !ok {
		return false, c.n > 0
	}
	if c.n > 0 && !c.joins(pkt, hl) {
		return false, true
	}
	n := len(pkt) - hl
	if c.n == 0 {
		if pkt[ipv4MinLen+tcpFlags]&tcpFlagPSH != 0 {
			return false, false // nothing would follow it
		}
		if c.buf == nil {
			c.buf = make([]byte, vnetHdrLen+ipv4MaxLen)
		}
		copy(c.buf[vnetHdrLen:], pkt)
		c.n, c.hl, c.gso, c.last, c.segs, c.bytes = len(pkt), hl, n, n, 1, len(pkt)
	} else {
		copy(c.buf[vnetHdrLen+c.n:], pkt[hl:])
		c.n += n
		c.last = n
		c.segs++
		c.bytes += len(pkt)
		c.buf[vnetHdrLen+ipv4MinLen+tcpFlags] |= pkt[ipv4MinLen+tcpFlags] & tcpFlagPSH
	}
	c.nextSeq = binary.BigEndian.Uint32(pkt[ipv4MinLen+4:]) + uint32(n)
	c.nextID = binary.BigEndian.Uint16(pkt[ipv4ID:]) + 1
	return true, false
}

// full reports whether nothing more can join the held packet: its last
// segment was short or pushed, or another one would not fit.
func (c *coalescer) full() bool {
	return c.n > 0 && (c.last < c.gso || c.buf[vnetHdrLen+ipv4MinLen+tcpFlags]&tcpFlagPSH != 0 || c.n+c.gso > ipv4MaxLen)
}

// take returns the held packet with its virtio_net_hdr, ready to write,
// and how many segments and bytes it stands for; the coalescer is empty
// again. One segment goes as it came; more go as one GSO packet whose
// TCP checksum holds the pseudo-header sum, for the kernel to treat as
// CHECKSUM_PARTIAL.
func (c *coalescer) take() (frame []byte, segs, bytes int) {
	frame = c.buf[:vnetHdrLen+c.n]
	h, pkt := vnetHdr(frame), frame[vnetHdrLen:]
	h.clear()
	if c.segs > 1 {
		binary.BigEndian.PutUint16(pkt[ipv4TotalLen:], uint16(c.n))
		ipv4HeaderChecksum(pkt, ipv4MinLen)
		tcpLen := c.n - ipv4MinLen
		binary.BigEndian.PutUint16(pkt[ipv4MinLen+tcpChecksum:], fold(pseudoHeader(pkt, ipProtoTCP, tcpLen)))
		h.setFlags(unix.VIRTIO_NET_HDR_F_NEEDS_CSUM, unix.VIRTIO_NET_HDR_GSO_TCPV4)
		h.setU16(vnetHdrLenOff, c.hl)
		h.setU16(vnetGSOSize, c.gso)
		h.setU16(vnetCsumStart, ipv4MinLen)
		h.setU16(vnetCsumOffset, tcpChecksum)
	}
	segs, bytes = c.segs, c.bytes
	c.n, c.segs, c.bytes = 0, 0, 0
	return frame, segs, bytes
}

// queue offers pkt: held, or written after what was held. See
// Interface.Queue.
func (c *coalescer) queue(pkt []byte) error {
	var err error
	held, flushFirst := c.add(pkt)
	if flushFirst {
		err = c.flush()
		held, _ = c.add(pkt)
	}
	if !held {
		return errors.Join(err, c.writeBare(pkt))
	}
	if c.full() {
		return errors.Join(err, c.flush())
	}
	return err
}

// deliver writes what is held, then pkt.
func (c *coalescer) deliver(pkt []byte) error {
	return errors.Join(c.flush(), c.writeBare(pkt))
}

// flush writes the held packet, if any.
func (c *coalescer) flush() error {
	if c.n == 0 {
		return nil
	}
	frame, segs, bytes := c.take()
	return c.write(frame, segs, bytes)
}

// writeBare writes one packet behind an empty virtio_net_hdr.
func (c *coalescer) writeBare(pkt []byte) error {
	if need := vnetHdrLen + len(pkt); need > len(c.wbuf) {
		c.wbuf = make([]byte, max(need, vnetHdrLen+DefaultMTU))
	}
	frame := c.wbuf[:vnetHdrLen+len(pkt)]
	vnetHdr(frame).clear()
	copy(frame[vnetHdrLen:], pkt)
	return c.write(frame, 1, len(pkt))
}
