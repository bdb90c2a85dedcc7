package link

import (
	"io"
	"net"
	"sync"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Capture wraps l so that every frame read from or written to it is also
// appended to w as a pcap record (link type Ethernet), which Wireshark and
// tshark open. The pcap file header is written first. Records carry the wall
// clock time; write errors on w are ignored so a capture never breaks the
// link. Close closes l, not w.
func Capture(l Link, w io.Writer) (Link, error) {
	pw := pcapgo.NewWriterNanos(w)
	if err := pw.WriteFileHeader(uint32(MaxFrameLen(l.MTU())), layers.LinkTypeEthernet); err != nil {
		return nil, err
	}
	return &captureLink{l: l, w: pw}, nil
}

type captureLink struct {
	l  Link
	mu sync.Mutex
	w  *pcapgo.Writer
}

func (c *captureLink) record(b []byte) {
	ci := gopacket.CaptureInfo{Timestamp: time.Now(), CaptureLength: len(b), Length: len(b)}
	c.mu.Lock()
	defer c.mu.Unlock()
	_ = c.w.WritePacket(ci, b)
}

func (c *captureLink) ReadFrame(b []byte) (int, error) {
	n, err := c.l.ReadFrame(b)
	if err == nil {
		c.record(b[:n])
	}
	return n, err
}

func (c *captureLink) WriteFrame(b []byte) error {
	err := c.l.WriteFrame(b)
	if err == nil {
		c.record(b)
	}
	return err
}

func (c *captureLink) Name() string                   { return c.l.Name() }
func (c *captureLink) HardwareAddr() net.HardwareAddr { return c.l.HardwareAddr() }
func (c *captureLink) MTU() int                       { return c.l.MTU() }
func (c *captureLink) Stats() Stats                   { return c.l.Stats() }
func (c *captureLink) Close() error                   { return c.l.Close() }
