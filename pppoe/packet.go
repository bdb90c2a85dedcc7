package pppoe

import (
	"fmt"
	"io"
)

// Packet is one PPPoE frame: the Ethernet header, the PPPoE header fields,
// and either the tags (discovery stage, EtherType 0x8863, RFC 2516 §5) or
// the PPP payload (session stage, EtherType 0x8864, RFC 2516 §6).
//
// Decode fills a Packet in place, reusing the capacity of Tags, and leaves
// Tag values and Payload aliasing the frame, so decoding a frame does not
// allocate once Tags has grown. MarshalTo writes into a caller's buffer and
// does not allocate either.
type Packet struct {
	Ethernet
	Code      Code
	SessionID uint16
	Tags      Tags   // discovery stage only
	Payload   []byte // session stage only: PPP protocol field and data
}

// IsDiscovery reports whether p is a discovery-stage packet.
func (p *Packet) IsDiscovery() bool { return p.EtherType == EtherTypeDiscovery }

// Decode parses frame into p. A frame with another EtherType is
// ErrNotPPPoE; a session-stage frame whose CODE is not 0 is ErrBadCode
// (RFC 2516 §6); short frames and lengths reaching past the frame are
// io.ErrUnexpectedEOF; malformed tags are ErrBadTag. Bytes past the PPPoE
// LENGTH (Ethernet padding) are ignored.
func (p *Packet) Decode(frame []byte) error {
	p.Tags = p.Tags[:0]
	p.Payload = nil
	eth, rest, err := ParseEthernet(frame)
	if err != nil {
		return err
	}
	p.Ethernet = eth
	if eth.EtherType != EtherTypeDiscovery && eth.EtherType != EtherTypeSession {
		return ErrNotPPPoE
	}
	h, err := ParseHeader(rest)
	if err != nil {
		return err
	}
	p.Code = h.Code()
	p.SessionID = h.SessionID()
	if eth.EtherType == EtherTypeSession {
		if p.Code != CodeSession {
			return ErrBadCode
		}
		p.Payload = h.Payload()
		return nil
	}
	p.Tags, err = ParseTags(p.Tags, h.Payload())
	return err
}

// payloadLen is the PPPoE LENGTH of p.
func (p *Packet) payloadLen() int {
	if p.EtherType == EtherTypeSession {
		return len(p.Payload)
	}
	return p.Tags.Len()
}

// Len returns the encoded length of p, padding to MinFrameLen included.
func (p *Packet) Len() int {
	return max(p.Ethernet.Len()+HeaderLen+p.payloadLen(), MinFrameLen)
}

// MarshalTo encodes p into b and returns the frame's length. Frames shorter
// than MinFrameLen are padded with zeros. A PPPoE payload longer than 65535
// bytes is ErrTooLong, an EtherType that is not PPPoE ErrNotPPPoE, a short b
// io.ErrShortBuffer.
func (p *Packet) MarshalTo(b []byte) (int, error) {
	if p.EtherType != EtherTypeDiscovery && p.EtherType != EtherTypeSession {
		return 0, ErrNotPPPoE
	}
	pl := p.payloadLen()
	if pl > 0xffff {
		return 0, ErrTooLong
	}
	total := p.Len()
	if len(b) < total {
		return 0, io.ErrShortBuffer
	}
	off, err := p.Ethernet.MarshalTo(b)
	if err != nil {
		return 0, err
	}
	h := Header(b[off : off+HeaderLen])
	h.SetVerType()
	h.SetCode(p.Code)
	h.SetSessionID(p.SessionID)
	h.SetPayloadLength(uint16(pl))
	off += HeaderLen
	if p.EtherType == EtherTypeSession {
		off += copy(b[off:], p.Payload)
	} else {
		n, err := p.Tags.MarshalTo(b[off:])
		if err != nil {
			return 0, err
		}
		off += n
	}
	clear(b[off:total])
	return total, nil
}

// MarshalBinary returns p encoded in a new slice.
func (p *Packet) MarshalBinary() ([]byte, error) {
	b := make([]byte, p.Len())
	n, err := p.MarshalTo(b)
	if err != nil {
		return nil, err
	}
	return b[:n], nil
}

func (p *Packet) String() string {
	vlan := ""
	if p.Tagged {
		vlan = fmt.Sprintf(" vlan %d", p.VLANID())
	}
	if p.EtherType == EtherTypeSession {
		return fmt.Sprintf("%v > %v%s session id %#04x len %d", p.Src, p.Dst, vlan, p.SessionID, len(p.Payload))
	}
	return fmt.Sprintf("%v > %v%s %v id %#04x [%v]", p.Src, p.Dst, vlan, p.Code, p.SessionID, p.Tags)
}
