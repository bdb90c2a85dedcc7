package mp

import (
	"errors"
	"fmt"
)

// ErrNoRoom is Split's complaint about a buffer without the room in front of
// the packet that the first fragment's headers need.
var ErrNoRoom = errors.New("mp: no room for the fragment headers")

// ErrTooSmall is Split's complaint about a fragment size that leaves no
// room for data.
var ErrTooSmall = errors.New("mp: fragment size too small")

// Fragmenter numbers and cuts the packets one end sends (RFC 1990 §3). Its
// zero value sends the long format from sequence number 0. It is not safe
// for concurrent use: one sender owns it.
type Fragmenter struct {
	// Short sends the 12-bit format; set it when the peer asked for it
	// (RFC 1990 §5.1.2: the option says what its sender receives).
	Short bool
	seq   uint32
}

// Split sends the PPP packet buf[off:] (Protocol field first) as
// fragments of at most maxFrame bytes each — the link's MTU: the 0x003d
// Protocol field, the multilink header and a piece of the packet. Each goes
// to send as buf[s:e], where buf[s:s+room] is free room for the lower
// layer's headers, then the fragment; send must be done with it when it
// returns, since the next fragment's headers overwrite the end of this one's
// data. The pieces are of near-equal size, so that no fragment is a runt.
//
// off must leave room+2+HeaderLen bytes in front of the packet, for the
// first fragment. A packet that fits one fragment still goes out as one,
// with both B and E set.
func (f *Fragmenter) Split(buf []byte, off, room, maxFrame int, send func(frag []byte) error) error {
	hl := 2 + HeaderLen(f.Short)
	if off < room+hl || off > len(buf) {
		return ErrNoRoom
	}
	maxData := maxFrame - hl
	if maxData < 1 {
		return fmt.Errorf("%w: %d", ErrTooSmall, maxFrame)
	}
	pkt := len(buf) - off
	n := max(1, (pkt+maxData-1)/maxData)
	size, extra := pkt/n, pkt%n
	mask := seqMask(f.Short)
	start := off
	for k := range n {
		end := start + size
		if k < extra {
			end++
		}
		h := buf[start-hl : start]
		h[0], h[1] = byte(Protocol>>8), byte(Protocol&0xff)
		PutHeader(h[2:], f.Short, k == 0, k == n-1, f.seq)
		f.seq = (f.seq + 1) & mask
		// The three-index slice keeps a lower layer that pads a short
		// frame in place from writing over the next piece.
		if err := send(buf[start-hl-room : end : end]); err != nil {
			return err
		}
		start = end
	}
	return nil
}

// Seq is the sequence number the next fragment gets.
func (f *Fragmenter) Seq() uint32 { return f.seq }
