package ppp

import (
	"fmt"
	"io"
)

// CHAPPacket is a CHAP packet (RFC 1994 §4), the framing MS-CHAP shares
// (RFC 2433 §3–5, RFC 2759 §3–6). A Challenge or Response carries Value
// behind a one-octet Value-Size, then Name to the end of the packet; a
// Success or Failure carries Message to the end of the packet.
//
//	Challenge/Response: Code | Identifier | Length | Value-Size | Value | Name
//	Success/Failure:    Code | Identifier | Length | Message
type CHAPPacket struct {
	Code    Code
	ID      uint8
	Value   []byte
	Name    []byte
	Message []byte
}

// ParseCHAP decodes a CHAP packet. Byte slices alias b.
func ParseCHAP(b []byte) (CHAPPacket, error) {
	var p CHAPPacket
	pkt, err := ParsePacket(b)
	if err != nil {
		return p, err
	}
	p.Code, p.ID = pkt.Code(), pkt.Identifier()
	d := pkt.Data()
	switch p.Code {
	case CHAPChallenge, CHAPResponse:
		if p.Value, p.Name, err = lengthPrefixed(d); err != nil {
			return p, err
		}
		if len(p.Value) == 0 {
			// RFC 1994 §4.1: "The Value-Size field is one octet and
			// indicates the length of the Value field"; an empty value
			// cannot be a challenge or a hash.
			return p, fmt.Errorf("%w: empty CHAP value", ErrBadValue)
		}
	case CHAPSuccess, CHAPFailure:
		p.Message = d
	default:
		return p, fmt.Errorf("%w: CHAP code %d", ErrBadValue, p.Code)
	}
	return p, nil
}

// Len is the packet's size on the wire.
func (p CHAPPacket) Len() int {
	if p.Code == CHAPChallenge || p.Code == CHAPResponse {
		return HeaderLen + 1 + len(p.Value) + len(p.Name)
	}
	return HeaderLen + len(p.Message)
}

// MarshalTo writes the packet to b without allocating.
func (p CHAPPacket) MarshalTo(b []byte) (int, error) {
	n := p.Len()
	if len(p.Value) > 255 || n > 0xffff {
		return 0, fmt.Errorf("%w: CHAP field too long", ErrBadValue)
	}
	if len(b) < n {
		return 0, io.ErrShortBuffer
	}
	pkt := Packet(b)
	pkt.SetCode(p.Code)
	pkt.SetIdentifier(p.ID)
	pkt.SetLength(n)
	i := HeaderLen
	if p.Code == CHAPChallenge || p.Code == CHAPResponse {
		b[i] = byte(len(p.Value))
		i += 1 + copy(b[i+1:], p.Value)
		i += copy(b[i:], p.Name)
	} else {
		i += copy(b[i:], p.Message)
	}
	return i, nil
}

// MarshalBinary returns the packet's wire form.
func (p CHAPPacket) MarshalBinary() ([]byte, error) {
	b := make([]byte, p.Len())
	n, err := p.MarshalTo(b)
	return b[:n], err
}
