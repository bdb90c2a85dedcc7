// Package mp is the PPP Multilink Protocol (RFC 1990) as rosh uses it: on a
// single link, to carry packets larger than the link's MTU — up to the
// peer's Maximum-Received-Reconstructed-Unit (MRRU) — as numbered fragments
// the peer puts back together.
//
// A Fragmenter cuts one PPP packet into fragments, writing each fragment's
// header in place in front of its data, so nothing is copied; a
// Reassembler takes fragments in the order they arrive and hands whole
// packets on, detecting lost fragments by RFC 1990 §4.1's M rule with a
// small reordering window and a time limit, in bounded memory. Neither
// allocates per packet once warm. Both are owned by one goroutine.
//
// The wire format (RFC 1990 §3), after the PPP Protocol field 0x003d:
//
//	long sequence number format (default):
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|B|E|0|0|0|0|0|0|          sequence number (24 bits)            |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	short sequence number format (negotiated, RFC 1990 §5.1.2):
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|B|E|0|0|  sequence (12 bits)   |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// then the fragment data: a piece of the PPP packet, Protocol field first
// (RFC 1990 §3: packets are encapsulated, not framed, then fragmented).
package mp

import (
	"encoding/binary"
	"io"
)

// Protocol is the PPP Protocol field of a multilink fragment (RFC 1990 §3).
const Protocol = 0x003d

// Header lengths of the two formats (RFC 1990 §3).
const (
	LongHeaderLen  = 4
	ShortHeaderLen = 2
)

// Bits of the first header octet (RFC 1990 §3).
const (
	FlagBegin = 0x80 // B: first fragment of a packet
	FlagEnd   = 0x40 // E: last fragment of a packet
)

// Sequence-number masks of the two formats.
const (
	longSeqMask  = 1<<24 - 1
	shortSeqMask = 1<<12 - 1
)

// HeaderLen is the header length of the format: ShortHeaderLen when short.
func HeaderLen(short bool) int {
	if short {
		return ShortHeaderLen
	}
	return LongHeaderLen
}

// Fragment is one parsed multilink fragment; Data aliases the input.
type Fragment struct {
	Begin, End bool
	Seq        uint32
	Data       []byte
}

// Parse reads a fragment (what follows the Protocol field) in the long or
// the short format. Input shorter than the header is io.ErrUnexpectedEOF.
// The reserved bits are ignored on receipt: RFC 1990 §3 has the sender set
// them to zero and says nothing of a receiver refusing them.
func Parse(b []byte, short bool) (Fragment, error) {
	if short {
		if len(b) < ShortHeaderLen {
			return Fragment{}, io.ErrUnexpectedEOF
		}
		return Fragment{
			Begin: b[0]&FlagBegin != 0,
			End:   b[0]&FlagEnd != 0,
			Seq:   uint32(binary.BigEndian.Uint16(b)) & shortSeqMask,
			Data:  b[ShortHeaderLen:],
		}, nil
	}
	if len(b) < LongHeaderLen {
		return Fragment{}, io.ErrUnexpectedEOF
	}
	return Fragment{
		Begin: b[0]&FlagBegin != 0,
		End:   b[0]&FlagEnd != 0,
		Seq:   binary.BigEndian.Uint32(b) & longSeqMask,
		Data:  b[LongHeaderLen:],
	}, nil
}

// PutHeader writes a fragment header at the start of b, which must hold
// HeaderLen(short) bytes, with the reserved bits zero (RFC 1990 §3).
func PutHeader(b []byte, short, begin, end bool, seq uint32) {
	var flags byte
	if begin {
		flags |= FlagBegin
	}
	if end {
		flags |= FlagEnd
	}
	if short {
		binary.BigEndian.PutUint16(b, uint16(seq&shortSeqMask))
		b[0] |= flags
		return
	}
	binary.BigEndian.PutUint32(b, seq&longSeqMask)
	b[0] = flags
}

// AppendFragment appends a fragment (header, then data) to b.
func AppendFragment(b []byte, short bool, f Fragment) []byte {
	n := len(b)
	b = append(b, 0, 0, 0, 0)[:n+HeaderLen(short)]
	PutHeader(b[n:], short, f.Begin, f.End, f.Seq)
	return append(b, f.Data...)
}

// seqDiff is a − b in the sequence space of the format, as a signed
// distance: positive when a comes after b (serial-number arithmetic over
// 24 or 12 bits).
func seqDiff(a, b uint32, short bool) int32 {
	if short {
		return int32((a-b)<<20) >> 20
	}
	return int32((a-b)<<8) >> 8
}

func seqMask(short bool) uint32 {
	if short {
		return shortSeqMask
	}
	return longSeqMask
}
