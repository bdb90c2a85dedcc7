package ppp

import (
	"fmt"
	"io"
)

// PAPPacket is a Password Authentication Protocol packet (RFC 1334 §2.2).
// An Authenticate-Request carries PeerID and Password, each behind a
// one-octet length; an Authenticate-Ack or -Nak carries Message behind a
// one-octet length.
//
//	Request:  Code | Identifier | Length | Peer-ID Length | Peer-ID | Passwd-Length | Password
//	Ack/Nak:  Code | Identifier | Length | Msg-Length | Message
type PAPPacket struct {
	Code     Code
	ID       uint8
	PeerID   []byte
	Password []byte
	Message  []byte
}

// ParsePAP decodes a PAP packet. Byte slices alias b. An Ack or Nak with
// no Msg-Length octet at all is taken as an empty message, as some peers
// send it; octets past the last field are ignored.
func ParsePAP(b []byte) (PAPPacket, error) {
	var p PAPPacket
	pkt, err := ParsePacket(b)
	if err != nil {
		return p, err
	}
	p.Code, p.ID = pkt.Code(), pkt.Identifier()
	d := pkt.Data()
	switch p.Code {
	case PAPAuthRequest:
		if p.PeerID, d, err = lengthPrefixed(d); err != nil {
			return p, err
		}
		if p.Password, _, err = lengthPrefixed(d); err != nil {
			return p, err
		}
	case PAPAuthAck, PAPAuthNak:
		if len(d) == 0 {
			return p, nil
		}
		if p.Message, _, err = lengthPrefixed(d); err != nil {
			return p, err
		}
	default:
		return p, fmt.Errorf("%w: PAP code %d", ErrBadValue, p.Code)
	}
	return p, nil
}

// lengthPrefixed splits a one-octet-length-prefixed field off d.
func lengthPrefixed(d []byte) (field, rest []byte, err error) {
	if len(d) < 1 || len(d) < 1+int(d[0]) {
		return nil, nil, io.ErrUnexpectedEOF
	}
	n := 1 + int(d[0])
	return d[1:n:n], d[n:], nil
}

// Len is the packet's size on the wire.
func (p PAPPacket) Len() int {
	if p.Code == PAPAuthRequest {
		return HeaderLen + 1 + len(p.PeerID) + 1 + len(p.Password)
	}
	return HeaderLen + 1 + len(p.Message)
}

// MarshalTo writes the packet to b without allocating.
func (p PAPPacket) MarshalTo(b []byte) (int, error) {
	if len(p.PeerID) > 255 || len(p.Password) > 255 || len(p.Message) > 255 {
		return 0, fmt.Errorf("%w: PAP field longer than 255 octets", ErrBadValue)
	}
	n := p.Len()
	if len(b) < n {
		return 0, io.ErrShortBuffer
	}
	pkt := Packet(b)
	pkt.SetCode(p.Code)
	pkt.SetIdentifier(p.ID)
	pkt.SetLength(n)
	i := HeaderLen
	if p.Code == PAPAuthRequest {
		b[i] = byte(len(p.PeerID))
		i += 1 + copy(b[i+1:], p.PeerID)
		b[i] = byte(len(p.Password))
		i += 1 + copy(b[i+1:], p.Password)
	} else {
		b[i] = byte(len(p.Message))
		i += 1 + copy(b[i+1:], p.Message)
	}
	return i, nil
}

// MarshalBinary returns the packet's wire form.
func (p PAPPacket) MarshalBinary() ([]byte, error) {
	b := make([]byte, p.Len())
	n, err := p.MarshalTo(b)
	return b[:n], err
}
