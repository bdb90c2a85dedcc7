package pppoe

import (
	"encoding/binary"
	"io"
)

// Header is a view of the PPPoE header and what follows it (RFC 2516 §4):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  VER  | TYPE  |      CODE     |          SESSION_ID           |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|            LENGTH             |           payload             ~
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// The getters and setters expect at least HeaderLen bytes; ParseHeader
// checks that, and that LENGTH fits, before a view is used.
type Header []byte

// Offsets and sizes of the PPPoE header fields.
const (
	verTypeOffset   = 0
	codeOffset      = 1
	sessionIDOffset = 2
	lengthOffset    = 4

	// HeaderLen is the length of the PPPoE header.
	HeaderLen = 6
	// VerType is the VER and TYPE nibbles RFC 2516 §4 requires: both 1.
	VerType = 0x11
	// MaxPayload is the PPP payload a 1500-byte Ethernet MTU leaves
	// (RFC 2516 §7): 1500 - HeaderLen - 2 bytes of PPP protocol.
	MaxPayload = 1492
)

// ParseHeader checks that b starts with a valid PPPoE header whose LENGTH
// fits in b and returns the view of the header and its payload, without any
// bytes past LENGTH (Ethernet padding). A short b or LENGTH reaching past the
// end of b is io.ErrUnexpectedEOF; a VER or TYPE other than 1 is
// ErrBadVersion.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < HeaderLen {
		return nil, io.ErrUnexpectedEOF
	}
	h := Header(b)
	if b[verTypeOffset] != VerType {
		return nil, ErrBadVersion
	}
	n := HeaderLen + int(h.PayloadLength())
	if n > len(b) {
		return nil, io.ErrUnexpectedEOF
	}
	return h[:n:n], nil
}

// Version returns the VER field.
func (h Header) Version() uint8 { return h[verTypeOffset] >> 4 }

// Type returns the TYPE field.
func (h Header) Type() uint8 { return h[verTypeOffset] & 0x0f }

// Code returns the CODE field.
func (h Header) Code() Code { return Code(h[codeOffset]) }

// SessionID returns the SESSION_ID field.
func (h Header) SessionID() uint16 { return binary.BigEndian.Uint16(h[sessionIDOffset:]) }

// PayloadLength returns the LENGTH field: the length of the payload, not
// counting the header.
func (h Header) PayloadLength() uint16 { return binary.BigEndian.Uint16(h[lengthOffset:]) }

// Payload returns the bytes after the header. On a view returned by
// ParseHeader they are exactly LENGTH bytes.
func (h Header) Payload() []byte { return h[HeaderLen:] }

// SetVerType sets VER and TYPE to 1 (RFC 2516 §4).
func (h Header) SetVerType() { h[verTypeOffset] = VerType }

// SetCode sets the CODE field.
func (h Header) SetCode(c Code) { h[codeOffset] = byte(c) }

// SetSessionID sets the SESSION_ID field.
func (h Header) SetSessionID(id uint16) { binary.BigEndian.PutUint16(h[sessionIDOffset:], id) }

// SetPayloadLength sets the LENGTH field.
func (h Header) SetPayloadLength(n uint16) { binary.BigEndian.PutUint16(h[lengthOffset:], n) }
