// Package ppptest has what tests of PPP sessions need besides a manual
// clock (rosh/clock): the time it starts at, and a capture of the packets
// exchanged that writes a pcap Wireshark opens.
package ppptest

import (
	"encoding/binary"
	"io"
	"slices"
	"sync"
	"time"

	"rosh/ppp"
)

// Epoch is where the manual clock of a PPP test starts:
// clock.NewManual(ppptest.Epoch).
var Epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Capture records PPP packets as they pass, for a pcap to read when a test
// fails. Safe for concurrent use.
type Capture struct {
	mu      sync.Mutex
	packets []packet
}

type packet struct {
	t     time.Time
	out   bool
	proto ppp.Protocol
	b     []byte
}

// Add records one packet: out is true for a packet the capturing side
// sent, false for one it received.
func (c *Capture) Add(t time.Time, out bool, proto ppp.Protocol, b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.packets = append(c.packets, packet{t: t, out: out, proto: proto, b: slices.Clone(b)})
}

// Len returns the number of packets recorded.
func (c *Capture) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.packets)
}

// linkTypePPPWithDir is LINKTYPE_PPP_WITH_DIR: a direction octet (0 in,
// 1 out), then the PPP Protocol field and the Information field.
const linkTypePPPWithDir = 204

// WritePcap writes the packets as a classic pcap file.
func (c *Capture) WritePcap(w io.Writer) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var hdr [24]byte
	binary.LittleEndian.PutUint32(hdr[0:], 0xa1b2c3d4) // magic, microseconds
	binary.LittleEndian.PutUint16(hdr[4:], 2)          // version 2.4
	binary.LittleEndian.PutUint16(hdr[6:], 4)
	binary.LittleEndian.PutUint32(hdr[16:], 65535) // snaplen
	binary.LittleEndian.PutUint32(hdr[20:], linkTypePPPWithDir)
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	for _, p := range c.packets {
		n := 1 + 2 + len(p.b)
		var rec [16 + 3]byte
		binary.LittleEndian.PutUint32(rec[0:], uint32(p.t.Unix()))
		binary.LittleEndian.PutUint32(rec[4:], uint32(p.t.Nanosecond()/1000))
		binary.LittleEndian.PutUint32(rec[8:], uint32(n))
		binary.LittleEndian.PutUint32(rec[12:], uint32(n))
		if p.out {
			rec[16] = 1
		}
		binary.BigEndian.PutUint16(rec[17:], uint16(p.proto))
		if _, err := w.Write(rec[:]); err != nil {
			return err
		}
		if _, err := w.Write(p.b); err != nil {
			return err
		}
	}
	return nil
}
