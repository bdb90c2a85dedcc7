package router

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"rosh/link"
	"rosh/ppp"
	"rosh/pppoe"
)

// SnifferConfig is /tool sniffer: which frames to keep and where.
type SnifferConfig struct {
	// Interfaces are the interfaces to capture on (filter-interface);
	// empty: every interface rosh uses.
	Interfaces []string
	// MACs keep only frames from or to one of them
	// (filter-mac-address); empty: all.
	MACs []net.HardwareAddr
	// FileName, if set, is the pcap file frames are written to as they
	// come, up to FileLimit bytes (file-limit).
	FileName  string
	FileLimit int64
	// MemoryLimit bounds the frames kept for save (memory-limit); the
	// oldest go first.
	MemoryLimit int64
}

// SniffedFrame is one captured frame.
type SniffedFrame struct {
	Time      time.Time
	Interface string
	Dir       link.Direction
	Data      []byte
}

// Sniffing is the packet sniffer of a running engine (the Runtime's).
type Sniffing interface {
	// SnifferStart starts the /tool sniffer capture (a running one is
	// stopped first).
	SnifferStart(cfg SnifferConfig) error
	// SnifferStop stops it; its frames stay for SnifferSave.
	SnifferStop() error
	// SnifferSave writes the frames of the last capture to a pcap file.
	SnifferSave(path string) error
	// SnifferRunning reports whether the capture runs, and how many
	// frames it has taken.
	SnifferRunning() (bool, uint64)
	// SnifferQuick shows every frame on the interfaces as it comes,
	// until stop is closed or d has passed (0: until stop).
	SnifferQuick(cfg SnifferConfig, d time.Duration, stop <-chan struct{}, fn func(SniffedFrame)) error
}

// Defaults of /tool sniffer (RouterOS's).
const (
	DefaultSnifferMemoryLimit = 100 << 10
	DefaultSnifferFileLimit   = 1000 << 10
	pcapSnapLen               = 65535
)

// sniffer is one capture: /tool sniffer start's, or a quick one.
type sniffer struct {
	cfg   SnifferConfig
	since time.Time

	mu        sync.Mutex
	frames    []SniffedFrame
	memBytes  int64
	count     uint64
	file      *os.File
	pw        *pcapgo.Writer
	fileBytes int64
	live      func(SniffedFrame)
}

func (s *sniffer) wants(port string, frame []byte) bool {
	if len(s.cfg.Interfaces) > 0 && !slices.Contains(s.cfg.Interfaces, port) {
		return false
	}
	if len(s.cfg.MACs) > 0 {
		if len(frame) < 12 {
			return false
		}
		for _, m := range s.cfg.MACs {
			if bytes.Equal(frame[:6], m) || bytes.Equal(frame[6:12], m) {
				return true
			}
		}
		return false
	}
	return true
}

// capture takes one frame: it runs on the goroutine that read or sent
// it, copies it, and never blocks on more than the sniffer's own lock.
func (s *sniffer) capture(port string, dir link.Direction, frame []byte) {
	if !s.wants(port, frame) {
		return
	}
	f := SniffedFrame{Time: time.Now(), Interface: port, Dir: dir, Data: bytes.Clone(frame)}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count++
	if s.live != nil {
		s.live(f)
		return
	}
	if s.pw != nil && s.fileBytes+int64(len(frame))+16 <= s.cfg.FileLimit {
		if err := s.pw.WritePacket(captureInfo(f), f.Data); err == nil {
			s.fileBytes += int64(len(frame)) + 16
		}
	}
	s.frames = append(s.frames, f)
	s.memBytes += int64(len(f.Data))
	for s.memBytes > s.cfg.MemoryLimit && len(s.frames) > 0 {
		s.memBytes -= int64(len(s.frames[0].Data))
		s.frames = s.frames[1:]
	}
}

func captureInfo(f SniffedFrame) gopacket.CaptureInfo {
	return gopacket.CaptureInfo{Timestamp: f.Time, CaptureLength: len(f.Data), Length: len(f.Data), InterfaceIndex: 0}
}

// writePcap writes frames as a pcap file (link type Ethernet) that
// Wireshark and tshark open.
func writePcap(w io.Writer, frames []SniffedFrame) error {
	pw := pcapgo.NewWriterNanos(w)
	if err := pw.WriteFileHeader(pcapSnapLen, layers.LinkTypeEthernet); err != nil {
		return err
	}
	for _, f := range frames {
		if err := pw.WritePacket(captureInfo(f), f.Data); err != nil {
			return err
		}
	}
	return nil
}

func (s *sniffer) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.file == nil {
		return nil
	}
	err := s.file.Close()
	s.file, s.pw = nil, nil
	return err
}

// addSniffer puts a capture on the interfaces' tap.
func (r *Runtime) addSniffer(s *sniffer) {
	r.snMu.Lock()
	r.sniffers = append(slices.Clone(r.sniffers), s)
	r.snMu.Unlock()
	r.updateTap()
}

func (r *Runtime) removeSniffer(s *sniffer) {
	r.snMu.Lock()
	r.sniffers = slices.DeleteFunc(slices.Clone(r.sniffers), func(x *sniffer) bool { return x == s })
	r.snMu.Unlock()
	r.updateTap()
}

// holdInterfaces opens the interfaces a capture names, so that it sees
// their frames even where no client or server runs; release gives them
// back.
func (r *Runtime) holdInterfaces(names []string) (release func(), err error) {
	var held []*link.Port
	release = func() {
		for _, p := range held {
			r.ports.Release(p)
		}
	}
	for _, n := range names {
		p, err := r.ports.Acquire(n)
		if err != nil {
			release()
			return nil, fmt.Errorf("failure: can not open %s: %v", n, err)
		}
		held = append(held, p)
	}
	return release, nil
}

// SnifferStart implements Sniffing.
func (r *Runtime) SnifferStart(cfg SnifferConfig) error {
	if cfg.MemoryLimit <= 0 {
		cfg.MemoryLimit = DefaultSnifferMemoryLimit
	}
	if cfg.FileLimit <= 0 {
		cfg.FileLimit = DefaultSnifferFileLimit
	}
	s := &sniffer{cfg: cfg, since: time.Now()}
	if cfg.FileName != "" {
		f, err := os.OpenFile(cfg.FileName, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		if err != nil {
			return fmt.Errorf("failure: could not create %s: %v", cfg.FileName, errors.Unwrap(err))
		}
		s.file, s.pw = f, pcapgo.NewWriterNanos(f)
		if err := s.pw.WriteFileHeader(pcapSnapLen, layers.LinkTypeEthernet); err != nil {
			f.Close()
			return err
		}
		s.fileBytes = 24
	}
	release, err := r.holdInterfaces(cfg.Interfaces)
	if err != nil {
		s.close()
		return err
	}
	r.SnifferStop()
	r.snMu.Lock()
	r.capture, r.captureRelease = s, release
	r.snMu.Unlock()
	r.addSniffer(s)
	r.log.Add("system,info", "sniffer started")
	return nil
}

// SnifferStop implements Sniffing.
func (r *Runtime) SnifferStop() error {
	r.snMu.Lock()
	s, release := r.capture, r.captureRelease
	r.captureRelease = nil
	r.snMu.Unlock()
	if release == nil {
		return nil
	}
	r.removeSniffer(s)
	release()
	r.log.Add("system,info", "sniffer stopped")
	return s.close()
}

// SnifferRunning implements Sniffing.
func (r *Runtime) SnifferRunning() (bool, uint64) {
	r.snMu.Lock()
	s, running := r.capture, r.captureRelease != nil
	r.snMu.Unlock()
	if s == nil {
		return false, 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return running, s.count
}

// SnifferSave implements Sniffing.
func (r *Runtime) SnifferSave(path string) error {
	r.snMu.Lock()
	s := r.capture
	r.snMu.Unlock()
	var frames []SniffedFrame
	if s != nil {
		s.mu.Lock()
		frames = slices.Clone(s.frames)
		s.mu.Unlock()
	}
	var buf bytes.Buffer
	if err := writePcap(&buf, frames); err != nil {
		return err
	}
	if err := WriteFileAtomic(path, buf.Bytes(), 0o600); err != nil {
		return fmt.Errorf("failure: could not write %s: %v", path, errors.Unwrap(err))
	}
	return nil
}

// SnifferQuick implements Sniffing.
func (r *Runtime) SnifferQuick(cfg SnifferConfig, d time.Duration, stop <-chan struct{}, fn func(SniffedFrame)) error {
	release, err := r.holdInterfaces(cfg.Interfaces)
	if err != nil {
		return err
	}
	defer release()
	frames := make(chan SniffedFrame, 256)
	s := &sniffer{cfg: cfg, since: time.Now(), live: func(f SniffedFrame) {
		select {
		case frames <- f:
		default: // a console that cannot keep up loses lines, not packets
		}
	}}
	r.addSniffer(s)
	defer r.removeSniffer(s)
	var timeout <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	for {
		select {
		case f := <-frames:
			fn(f)
		case <-stop:
			return nil
		case <-timeout:
			for {
				select {
				case f := <-frames:
					fn(f)
				default:
					return nil
				}
			}
		}
	}
}

// DescribeFrame is a one-line summary of a frame for /tool sniffer
// quick: the PPPoE discovery frame with its tags, the PPP packet decoded
// as the debug trace shows it, or the IPv4 packet's addresses and
// protocol.
func DescribeFrame(frame []byte) string {
	if s, ok := pppoe.TraceDiscovery(frame); ok {
		return s
	}
	var p pppoe.Packet
	if err := p.Decode(frame); err != nil {
		if len(frame) >= 14 {
			return fmt.Sprintf("ethertype 0x%02x%02x len=%d", frame[12], frame[13], len(frame))
		}
		return fmt.Sprintf("malformed len=%d", len(frame))
	}
	pl := p.Payload
	var proto ppp.Protocol
	switch {
	case len(pl) >= 1 && pl[0]&1 == 1:
		proto, pl = ppp.Protocol(pl[0]), pl[1:]
	case len(pl) >= 2:
		proto, pl = ppp.Protocol(pl[0])<<8|ppp.Protocol(pl[1]), pl[2:]
	default:
		return fmt.Sprintf("PPPoE session id=0x%04x malformed", p.SessionID)
	}
	head := fmt.Sprintf("PPPoE id=0x%04x ", p.SessionID)
	if proto == ppp.ProtoIPv4 {
		pkt := gopacket.NewPacket(pl, layers.LayerTypeIPv4, gopacket.DecodeOptions{Lazy: true, NoCopy: true})
		if ip, ok := pkt.Layer(layers.LayerTypeIPv4).(*layers.IPv4); ok {
			return head + fmt.Sprintf("IP %v > %v %s len=%d", ip.SrcIP, ip.DstIP, strings.ToLower(ip.Protocol.String()), ip.Length)
		}
	}
	return head + ppp.TracePacket(proto, pl)
}
