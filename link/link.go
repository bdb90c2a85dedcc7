// Package link moves whole Ethernet frames between rosh and a network
// interface.
//
// A Link is one interface: an AF_PACKET socket with a receive ring and
// batched sends (OpenPacket, what Open and the Default registry use), a
// gopacket pcap handle (OpenPcap; ROSH_LINK=pcap makes Open use it), or one
// end of an in-memory pair for tests (Pipe). A Port puts a
// single reader goroutine on a Link and hands every frame it reads to the
// subscribers whose handler accepts it, so several PPPoE clients and servers
// can share one interface. A Registry opens each interface once and counts
// its users.
//
// Frames are Ethernet II frames without the FCS: destination MAC, source
// MAC, optional 802.1Q tag, EtherType, payload.
package link

import (
	"errors"
	"net"
	"sync/atomic"
)

// Frame sizes, in bytes.
const (
	// EthernetHeaderLen is the length of an untagged Ethernet II header.
	EthernetHeaderLen = 14
	// VLANTagLen is the length of one IEEE 802.1Q tag.
	VLANTagLen = 4
	// MinFrameLen is the shortest Ethernet frame without FCS (64 - 4).
	MinFrameLen = 60
	// DefaultMTU is the MTU of a Pipe unless WithMTU says otherwise.
	DefaultMTU = 1500
)

// MaxFrameLen is the longest frame, without FCS, that a link with the given
// MTU carries: the payload, the Ethernet header and one 802.1Q tag.
func MaxFrameLen(mtu int) int { return mtu + EthernetHeaderLen + VLANTagLen }

var (
	// ErrClosed is returned by every method of a Link or Port after Close.
	ErrClosed = errors.New("link: closed")
	// ErrFrameTooLarge is returned by WriteFrame for a frame longer than
	// MaxFrameLen(MTU()).
	ErrFrameTooLarge = errors.New("link: frame larger than the MTU allows")
	// ErrFrameTooShort is returned by WriteFrame for a frame shorter than an
	// Ethernet header.
	ErrFrameTooShort = errors.New("link: frame shorter than an Ethernet header")
	// ErrInterfaceGone is returned by ReadFrame (and ReadFrames) of a
	// Link whose interface was removed.
	ErrInterfaceGone = errors.New("link: the interface is gone")
	// ErrNotAcquired is returned by Registry.Release for a Port it did not
	// hand out or that was already released by all its users.
	ErrNotAcquired = errors.New("link: port not acquired")
)

// Link reads and writes whole Ethernet frames on one interface.
//
// ReadFrame blocks until a frame arrives and copies it into b; it returns
// the frame's length, io.ErrShortBuffer (with the truncated length) when b
// is too small, or ErrClosed once Close has been called. Only one goroutine
// should read at a time. WriteFrame sends one frame and may be called from
// several goroutines at once; it does not retain b. A frame the link had to
// drop (a full queue, a peer that is gone) is not an error: it is counted in
// Stats.Drops, as a wire would lose it.
type Link interface {
	ReadFrame(b []byte) (int, error)
	WriteFrame(b []byte) error
	Name() string
	HardwareAddr() net.HardwareAddr
	MTU() int
	Stats() Stats
	Close() error
}

// A BatchReader is a Link that can hand over every frame it has at hand
// in one call: ReadFrames blocks until a frame arrives, then calls fn
// with each frame available, in order, and returns. frame is valid only
// during the call. A Port reads such a Link this way and tells its
// handlers when a batch ends (Port.AtBatchEnd).
type BatchReader interface {
	ReadFrames(fn func(frame []byte)) error
}

// A BatchWriter is a Link that can send several frames in one go:
// QueueFrame copies a frame to send at the next Flush (or sooner, when
// its queue is full), WriteFrame sends what is queued before its own
// frame, and Flush sends everything queued. All three are safe for
// concurrent use and keep the order of the calls.
type BatchWriter interface {
	QueueFrame(b []byte) error
	Flush() error
}

// Stats are a link's counters since it was opened.
type Stats struct {
	RxFrames uint64 // frames returned by ReadFrame
	RxBytes  uint64
	TxFrames uint64 // frames accepted by WriteFrame and sent
	TxBytes  uint64
	Drops    uint64 // frames lost: queue full, peer gone
	Errors   uint64 // frames refused: too short, too long, I/O errors
}

// counters is the lock-free form of Stats shared by the implementations.
type counters struct {
	rxFrames, rxBytes, txFrames, txBytes, drops, errors atomic.Uint64
}

func (c *counters) rx(n int) {
	c.rxFrames.Add(1)
	c.rxBytes.Add(uint64(n))
}

func (c *counters) tx(n int) {
	c.txFrames.Add(1)
	c.txBytes.Add(uint64(n))
}

func (c *counters) snapshot() Stats {
	return Stats{
		RxFrames: c.rxFrames.Load(),
		RxBytes:  c.rxBytes.Load(),
		TxFrames: c.txFrames.Load(),
		TxBytes:  c.txBytes.Load(),
		Drops:    c.drops.Load(),
		Errors:   c.errors.Load(),
	}
}

// checkFrame validates the length of a frame about to be written.
func checkFrame(b []byte, mtu int) error {
	if len(b) < EthernetHeaderLen {
		return ErrFrameTooShort
	}
	if len(b) > MaxFrameLen(mtu) {
		return ErrFrameTooLarge
	}
	return nil
}
