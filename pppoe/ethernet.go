package pppoe

import (
	"encoding/binary"
	"io"
	"net"
)

// MAC is an Ethernet address. Unlike net.HardwareAddr it is comparable, so it
// keys maps without allocating.
type MAC [6]byte

// Broadcast is the Ethernet broadcast address PADI is sent to (RFC 2516
// §5.1).
var Broadcast = MAC{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// MACFrom converts a six-byte net.HardwareAddr; ok is false for any other
// length.
func MACFrom(hw net.HardwareAddr) (m MAC, ok bool) {
	if len(hw) != len(m) {
		return m, false
	}
	copy(m[:], hw)
	return m, true
}

// HardwareAddr returns m as a net.HardwareAddr.
func (m MAC) HardwareAddr() net.HardwareAddr {
	hw := make(net.HardwareAddr, len(m))
	copy(hw, m[:])
	return hw
}

// IsMulticast reports whether m is a group address, broadcast included.
func (m MAC) IsMulticast() bool { return m[0]&0x01 != 0 }

// IsZero reports whether m is 00:00:00:00:00:00.
func (m MAC) IsZero() bool { return m == MAC{} }

// String formats m the way RouterOS prints it: 02:AB:CD:00:00:01.
func (m MAC) String() string {
	const hex = "0123456789ABCDEF"
	var b [17]byte
	for i, v := range m {
		if i > 0 {
			b[3*i-1] = ':'
		}
		b[3*i] = hex[v>>4]
		b[3*i+1] = hex[v&0x0f]
	}
	return string(b[:])
}

// Ethernet is an Ethernet II header with an optional IEEE 802.1Q tag:
//
//	destination MAC (6) | source MAC (6) | [0x8100 (2) | TCI (2)] | EtherType (2)
type Ethernet struct {
	Dst, Src  MAC
	Tagged    bool   // an 802.1Q tag is present
	TCI       uint16 // the tag's PCP, DEI and VLAN ID when Tagged
	EtherType uint16
}

// Offsets of the Ethernet header fields.
const (
	ethDstOffset  = 0
	ethSrcOffset  = 6
	ethTypeOffset = 12
	vlanTCIOffset = 14 // in a tagged frame, after the 0x8100 at ethTypeOffset
	// EthernetLen is the length of an untagged Ethernet header.
	EthernetLen = 14
	// VLANTagLen is the length of an 802.1Q tag.
	VLANTagLen = 4
	// MinFrameLen is the shortest Ethernet frame without FCS; MarshalTo
	// pads up to it.
	MinFrameLen = 60
)

// VLANID returns the VLAN identifier of the tag (0 when untagged).
func (e *Ethernet) VLANID() uint16 { return e.TCI & 0x0fff }

// Len returns the encoded length of the header.
func (e *Ethernet) Len() int {
	if e.Tagged {
		return EthernetLen + VLANTagLen
	}
	return EthernetLen
}

// MarshalTo writes the header to b and returns its length; a short b is
// io.ErrShortBuffer.
func (e *Ethernet) MarshalTo(b []byte) (int, error) {
	n := e.Len()
	if len(b) < n {
		return 0, io.ErrShortBuffer
	}
	copy(b[ethDstOffset:], e.Dst[:])
	copy(b[ethSrcOffset:], e.Src[:])
	if e.Tagged {
		binary.BigEndian.PutUint16(b[ethTypeOffset:], EtherTypeVLAN)
		binary.BigEndian.PutUint16(b[vlanTCIOffset:], e.TCI)
	}
	binary.BigEndian.PutUint16(b[n-2:], e.EtherType)
	return n, nil
}

// ParseEthernet decodes the Ethernet header at the start of frame, following
// one 802.1Q tag, and returns it with the payload after it. A frame too short
// for its header is io.ErrUnexpectedEOF.
func ParseEthernet(frame []byte) (Ethernet, []byte, error) {
	var e Ethernet
	if len(frame) < EthernetLen {
		return e, nil, io.ErrUnexpectedEOF
	}
	copy(e.Dst[:], frame[ethDstOffset:])
	copy(e.Src[:], frame[ethSrcOffset:])
	e.EtherType = binary.BigEndian.Uint16(frame[ethTypeOffset:])
	if e.EtherType != EtherTypeVLAN {
		return e, frame[EthernetLen:], nil
	}
	if len(frame) < EthernetLen+VLANTagLen {
		return e, nil, io.ErrUnexpectedEOF
	}
	e.Tagged = true
	e.TCI = binary.BigEndian.Uint16(frame[vlanTCIOffset:])
	e.EtherType = binary.BigEndian.Uint16(frame[vlanTCIOffset+2:])
	return e, frame[EthernetLen+VLANTagLen:], nil
}
