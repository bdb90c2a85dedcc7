package pppoe

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Tag is one discovery TAG (RFC 2516 §4, Appendix A):
//
//	TAG_TYPE (2) | TAG_LENGTH (2) | TAG_VALUE (TAG_LENGTH)
//
// A decoded Tag's Value aliases the frame it came from. Tags of a type rosh
// does not know are kept as they are, byte for byte.
type Tag struct {
	Type  TagType
	Value []byte
}

// tagHeaderLen is the length of TAG_TYPE plus TAG_LENGTH.
const tagHeaderLen = 4

// Len returns the encoded length of t.
func (t Tag) Len() int { return tagHeaderLen + len(t.Value) }

// MarshalTo writes t to b. A value longer than 65535 bytes is ErrBadTag, a
// short b io.ErrShortBuffer.
func (t Tag) MarshalTo(b []byte) (int, error) {
	if len(t.Value) > 0xffff {
		return 0, ErrBadTag
	}
	n := t.Len()
	if len(b) < n {
		return 0, io.ErrShortBuffer
	}
	binary.BigEndian.PutUint16(b[0:], uint16(t.Type))
	binary.BigEndian.PutUint16(b[2:], uint16(len(t.Value)))
	copy(b[tagHeaderLen:], t.Value)
	return n, nil
}

// String shows the value as text for the tags RFC 2516 defines as UTF-8
// strings, as a number for PPP-Max-Payload, and in hex otherwise.
func (t Tag) String() string {
	switch t.Type {
	case TagServiceName, TagACName, TagServiceNameError, TagACSystemError, TagGenericError:
		if utf8.Valid(t.Value) {
			return fmt.Sprintf("%v=%q", t.Type, t.Value)
		}
	case TagPPPMaxPayload:
		if len(t.Value) == 2 {
			return fmt.Sprintf("%v=%d", t.Type, binary.BigEndian.Uint16(t.Value))
		}
	case TagEndOfList:
		return t.Type.String()
	}
	return fmt.Sprintf("%v=%x", t.Type, t.Value)
}

// Tags is the ordered list of tags of a discovery packet. Order matters:
// RFC 2516 §5.2 asks for the PADI's Service-Name first among a PADO's
// Service-Names, and tags are echoed as they came.
type Tags []Tag

// Len returns the encoded length of ts.
func (ts Tags) Len() int {
	n := 0
	for _, t := range ts {
		n += t.Len()
	}
	return n
}

// MarshalTo writes every tag of ts to b, in order, and returns the number of
// bytes written. It does not allocate.
func (ts Tags) MarshalTo(b []byte) (int, error) {
	off := 0
	for _, t := range ts {
		n, err := t.MarshalTo(b[off:])
		if err != nil {
			return off, err
		}
		off += n
	}
	return off, nil
}

// ParseTags decodes the tags of a discovery payload and appends them to dst,
// reusing its capacity; the values alias b. Decoding stops after an
// End-Of-List tag (RFC 2516 Appendix A), which is kept in the list; what
// follows it is ignored. A tag reaching past the end of b is
// io.ErrUnexpectedEOF; an End-Of-List with a non-zero length is ErrBadTag.
// On error the tags decoded so far are returned with it.
func ParseTags(dst Tags, b []byte) (Tags, error) {
	for len(b) > 0 {
		if len(b) < tagHeaderLen {
			return dst, io.ErrUnexpectedEOF
		}
		typ := TagType(binary.BigEndian.Uint16(b[0:]))
		n := int(binary.BigEndian.Uint16(b[2:]))
		if len(b) < tagHeaderLen+n {
			return dst, io.ErrUnexpectedEOF
		}
		if typ == TagEndOfList {
			if n != 0 {
				return dst, ErrBadTag
			}
			return append(dst, Tag{Type: TagEndOfList}), nil
		}
		dst = append(dst, Tag{Type: typ, Value: b[tagHeaderLen : tagHeaderLen+n : tagHeaderLen+n]})
		b = b[tagHeaderLen+n:]
	}
	return dst, nil
}

// Find returns the first tag of type t.
func (ts Tags) Find(t TagType) (Tag, bool) {
	for _, tag := range ts {
		if tag.Type == t {
			return tag, true
		}
	}
	return Tag{}, false
}

// Value returns the value of the first tag of type t.
func (ts Tags) Value(t TagType) ([]byte, bool) {
	tag, ok := ts.Find(t)
	return tag.Value, ok
}

// Count returns how many tags of type t there are.
func (ts Tags) Count(t TagType) int {
	n := 0
	for _, tag := range ts {
		if tag.Type == t {
			n++
		}
	}
	return n
}

// HasService reports whether a Service-Name tag carries exactly name.
func (ts Tags) HasService(name string) bool {
	for _, tag := range ts {
		if tag.Type == TagServiceName && string(tag.Value) == name {
			return true
		}
	}
	return false
}

// PPPMaxPayload returns the value of the PPP-Max-Payload tag (RFC 4638 §4),
// 0 when there is none. A value that is not two bytes long is ErrBadTag.
func (ts Tags) PPPMaxPayload() (uint16, error) {
	v, ok := ts.Value(TagPPPMaxPayload)
	if !ok {
		return 0, nil
	}
	if len(v) != 2 {
		return 0, ErrBadTag
	}
	return binary.BigEndian.Uint16(v), nil
}

// Err returns the first error tag (Service-Name-Error, AC-System-Error,
// Generic-Error; RFC 2516 Appendix A) as a *PeerError from peer, or nil.
func (ts Tags) Err(peer MAC) error {
	for _, tag := range ts {
		if tag.Type.IsError() {
			return &PeerError{Tag: tag.Type, Reason: string(tag.Value), Peer: peer}
		}
	}
	return nil
}

// Equal reports whether ts and o hold the same tags in the same order.
func (ts Tags) Equal(o Tags) bool {
	if len(ts) != len(o) {
		return false
	}
	for i := range ts {
		if ts[i].Type != o[i].Type || !bytes.Equal(ts[i].Value, o[i].Value) {
			return false
		}
	}
	return true
}

func (ts Tags) String() string {
	var sb strings.Builder
	for i, t := range ts {
		if i > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(t.String())
	}
	return sb.String()
}

// findTag returns the value of the first tag of type t in a raw discovery
// payload without building a Tags slice. It stops quietly at malformed
// input; the full decoder reports it later.
func findTag(b []byte, t TagType) ([]byte, bool) {
	for len(b) >= tagHeaderLen {
		typ := TagType(binary.BigEndian.Uint16(b[0:]))
		n := int(binary.BigEndian.Uint16(b[2:]))
		if len(b) < tagHeaderLen+n || typ == TagEndOfList {
			return nil, false
		}
		if typ == t {
			return b[tagHeaderLen : tagHeaderLen+n], true
		}
		b = b[tagHeaderLen+n:]
	}
	return nil, false
}

// Uint16Value returns the two-byte big-endian encoding of v, for
// PPP-Max-Payload.
func Uint16Value(v uint16) []byte { return []byte{byte(v >> 8), byte(v)} }
