package ppp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Errors returned by the decoders. Short input is io.ErrUnexpectedEOF.
var (
	// ErrBadLength reports a Length field smaller than the fixed part it
	// must cover (a packet Length below 4, an option Length below 2).
	ErrBadLength = errors.New("ppp: bad length field")
	// ErrOptionTooLong reports an option whose data does not fit the
	// one-octet Length field.
	ErrOptionTooLong = errors.New("ppp: option data longer than 253 octets")
	// ErrBadValue reports a field whose value the protocol does not allow.
	ErrBadValue = errors.New("ppp: bad field value")
)

// Packet is a view over an LCP-style control packet (RFC 1661 §5): the
// layout LCP, IPCP, PAP and CHAP share.
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     Code      |  Identifier   |            Length             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|    Data ...
//	+-+-+-+-+
//
// A Packet returned by ParsePacket is exactly Length octets long; the
// getters then never index out of range.
type Packet []byte

// Offsets and sizes of the control packet header.
const (
	pktCode   = 0
	pktID     = 1
	pktLength = 2
	// HeaderLen is the size of the Code, Identifier and Length fields.
	HeaderLen = 4
)

// ParsePacket checks b's header and returns the packet it holds, without
// the octets past Length (RFC 1661 §5: "Octets outside the range of the
// Length field are treated as padding and are ignored on reception").
func ParsePacket(b []byte) (Packet, error) {
	if len(b) < HeaderLen {
		return nil, io.ErrUnexpectedEOF
	}
	n := int(binary.BigEndian.Uint16(b[pktLength:]))
	if n < HeaderLen {
		return nil, ErrBadLength
	}
	if n > len(b) {
		return nil, io.ErrUnexpectedEOF
	}
	return Packet(b[:n]), nil
}

// Code returns the Code field.
func (p Packet) Code() Code { return Code(p[pktCode]) }

// Identifier returns the Identifier field.
func (p Packet) Identifier() uint8 { return p[pktID] }

// Length returns the Length field.
func (p Packet) Length() int { return int(binary.BigEndian.Uint16(p[pktLength:])) }

// Data returns the octets after the header, up to Length.
func (p Packet) Data() []byte { return p[HeaderLen:p.Length()] }

// SetCode sets the Code field.
func (p Packet) SetCode(c Code) { p[pktCode] = byte(c) }

// SetIdentifier sets the Identifier field.
func (p Packet) SetIdentifier(id uint8) { p[pktID] = id }

// SetLength sets the Length field.
func (p Packet) SetLength(n int) { binary.BigEndian.PutUint16(p[pktLength:], uint16(n)) }

// AppendPacket appends a control packet with the given fields to b.
func AppendPacket(b []byte, code Code, id uint8, data []byte) []byte {
	n := HeaderLen + len(data)
	b = append(b, byte(code), id, byte(n>>8), byte(n))
	return append(b, data...)
}

// Option is one configuration option (RFC 1661 §6): Type, then Data. The
// Length octet is implied by Data. An option of a type this stack does not
// know keeps its bytes, so a Configure-Reject can return it unchanged.
//
//	 0                   1
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     Type      |    Length     |    Data ...
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type Option struct {
	Type uint8
	Data []byte
}

// maxOptionData is the most data an option's one-octet Length can cover.
const maxOptionData = 255 - 2

// Len is the option's size on the wire.
func (o Option) Len() int { return 2 + len(o.Data) }

// MarshalTo writes the option to b without allocating.
func (o Option) MarshalTo(b []byte) (int, error) {
	if len(o.Data) > maxOptionData {
		return 0, ErrOptionTooLong
	}
	if len(b) < o.Len() {
		return 0, io.ErrShortBuffer
	}
	b[0] = o.Type
	b[1] = byte(o.Len())
	return 2 + copy(b[2:], o.Data), nil
}

// Options is an ordered list of options: order is kept, because a
// Configure-Ack echoes the request in order and a Configure-Reject returns
// the rejected options in order (RFC 1661 §5.2, §5.4).
type Options []Option

// nextOption splits the first option off b. It never allocates.
func nextOption(b []byte) (typ uint8, data, raw, rest []byte, err error) {
	if len(b) < 2 {
		return 0, nil, nil, nil, io.ErrUnexpectedEOF
	}
	n := int(b[1])
	if n < 2 {
		return 0, nil, nil, nil, ErrBadLength
	}
	if n > len(b) {
		return 0, nil, nil, nil, io.ErrUnexpectedEOF
	}
	return b[0], b[2:n:n], b[:n:n], b[n:], nil
}

// checkOptions reports whether b is a well-formed sequence of options.
func checkOptions(b []byte) error {
	for len(b) > 0 {
		var err error
		if _, _, _, b, err = nextOption(b); err != nil {
			return err
		}
	}
	return nil
}

// ParseOptions decodes the options in a Configure-* packet's Data. The
// options' Data alias b.
func ParseOptions(b []byte) (Options, error) {
	var os Options
	for off := 0; len(b) > 0; {
		t, data, raw, rest, err := nextOption(b)
		if err != nil {
			return nil, fmt.Errorf("ppp: option at offset %d: %w", off, err)
		}
		os = append(os, Option{Type: t, Data: data})
		off += len(raw)
		b = rest
	}
	return os, nil
}

// Len is the options' size on the wire.
func (os Options) Len() int {
	n := 0
	for _, o := range os {
		n += o.Len()
	}
	return n
}

// MarshalTo writes the options to b in order without allocating.
func (os Options) MarshalTo(b []byte) (int, error) {
	n := 0
	for _, o := range os {
		m, err := o.MarshalTo(b[n:])
		if err != nil {
			return n, err
		}
		n += m
	}
	return n, nil
}

// MarshalBinary returns the options' wire form.
func (os Options) MarshalBinary() ([]byte, error) {
	b := make([]byte, os.Len())
	n, err := os.MarshalTo(b)
	return b[:n], err
}

// appendOption appends one option with the given data.
func appendOption(b []byte, t uint8, data ...byte) []byte {
	b = append(b, t, byte(2+len(data)))
	return append(b, data...)
}

func appendOption16(b []byte, t uint8, v uint16) []byte {
	return append(b, t, 4, byte(v>>8), byte(v))
}

func appendOption32(b []byte, t uint8, v uint32) []byte {
	return append(b, t, 6, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

// optionsString renders options for debug logs, using names for the types
// the protocol knows.
func optionsString(p Protocol, b []byte) string {
	var sb strings.Builder
	for len(b) > 0 {
		t, data, _, rest, err := nextOption(b)
		if err != nil {
			fmt.Fprintf(&sb, " <malformed %x>", b)
			break
		}
		sb.WriteString(" <")
		sb.WriteString(optionString(p, t, data))
		sb.WriteString(">")
		b = rest
	}
	return strings.TrimPrefix(sb.String(), " ")
}

func optionString(p Protocol, t uint8, d []byte) string {
	switch p {
	case ProtoLCP:
		switch {
		case t == LCPOptMRU && len(d) == 2:
			return fmt.Sprintf("mru %d", binary.BigEndian.Uint16(d))
		case t == LCPOptMagic && len(d) == 4:
			return fmt.Sprintf("magic 0x%08x", binary.BigEndian.Uint32(d))
		case t == LCPOptAuthProtocol:
			if m, ok := methodFromOption(d); ok {
				return "auth " + m.String()
			}
		case t == LCPOptACCM:
			return fmt.Sprintf("asyncmap %x", d)
		case t == LCPOptPFC && len(d) == 0:
			return "pcomp"
		case t == LCPOptACFC && len(d) == 0:
			return "accomp"
		case t == LCPOptMRRU && len(d) == 2:
			return fmt.Sprintf("mrru %d", binary.BigEndian.Uint16(d))
		case t == LCPOptShortSeq && len(d) == 0:
			return "ssnhf"
		case t == LCPOptEndpoint:
			return fmt.Sprintf("endpoint %x", d)
		}
	case ProtoIPCP:
		if len(d) == 4 {
			switch t {
			case IPCPOptAddress:
				return fmt.Sprintf("addr %d.%d.%d.%d", d[0], d[1], d[2], d[3])
			case IPCPOptPrimaryDNS:
				return fmt.Sprintf("ms-dns1 %d.%d.%d.%d", d[0], d[1], d[2], d[3])
			case IPCPOptSecondaryDNS:
				return fmt.Sprintf("ms-dns2 %d.%d.%d.%d", d[0], d[1], d[2], d[3])
			}
		}
		if t == IPCPOptCompression {
			return fmt.Sprintf("compress %x", d)
		}
	}
	return fmt.Sprintf("option-%d %x", t, d)
}
