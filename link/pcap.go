package link

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/gopacket/gopacket/pcap"
)

// PPPoEFilter is the BPF program OpenPcap installs: PPPoE discovery
// (0x8863) and session (0x8864) frames, untagged or inside one 802.1Q tag.
// It uses "ether proto" rather than the pppoed/pppoes keywords because
// "pppoes" moves the offsets of everything after it.
const PPPoEFilter = "ether proto 0x8863 or ether proto 0x8864 or " +
	"(vlan and (ether proto 0x8863 or ether proto 0x8864))"

// pcapReadTimeout bounds how long a read waits in libpcap before it looks
// again at whether the handle was closed.
const pcapReadTimeout = 200 * time.Millisecond

// PcapOptions are the settings of OpenPcapWith that OpenPcap leaves at
// their defaults.
type PcapOptions struct {
	// Promiscuous receives frames sent to any MAC, not only the
	// interface's own and broadcast: what a subscriber emulator needs,
	// whose hosts have MACs the interface does not (on a veth the kernel
	// hands those frames up anyway; a real NIC filters them out).
	Promiscuous bool
	// BufferSize is the kernel ring's size in bytes; 0 keeps libpcap's
	// default (2 MiB), which a burst from thousands of sessions can fill.
	BufferSize int
}

// OpenPcap opens the Linux interface ifname for PPPoE: a pcap handle in
// immediate mode that sees only frames arriving on the interface (not the
// ones it sends), filtered by PPPoEFilter. The MAC address and MTU are read
// from the interface when it is opened.
func OpenPcap(ifname string) (Link, error) { return OpenPcapWith(ifname, PcapOptions{}) }

// OpenPcapWith is OpenPcap with options.
func OpenPcapWith(ifname string, opt PcapOptions) (Link, error) {
	ifi, err := net.InterfaceByName(ifname)
	if err != nil {
		return nil, fmt.Errorf("link: %s: %w", ifname, err)
	}
	if len(ifi.HardwareAddr) != 6 {
		return nil, fmt.Errorf("link: %s: not an Ethernet interface", ifname)
	}
	mtu := ifi.MTU
	if mtu <= 0 {
		mtu = DefaultMTU
	}
	ih, err := pcap.NewInactiveHandle(ifname)
	if err != nil {
		return nil, fmt.Errorf("link: %s: %w", ifname, err)
	}
	defer ih.CleanUp()
	snap := max(MaxFrameLen(mtu)+64, 2048)
	sets := []func() error{
		func() error { return ih.SetSnapLen(snap) },
		func() error { return ih.SetPromisc(opt.Promiscuous) },
		func() error { return ih.SetImmediateMode(true) },
		func() error { return ih.SetTimeout(pcapReadTimeout) },
	}
	if opt.BufferSize > 0 {
		sets = append(sets, func() error { return ih.SetBufferSize(opt.BufferSize) })
	}
	for _, set := range sets {
		if err := set(); err != nil {
			return nil, fmt.Errorf("link: %s: %w", ifname, err)
		}
	}
	h, err := ih.Activate()
	if err != nil {
		return nil, fmt.Errorf("link: %s: activate: %w", ifname, err)
	}
	if err := h.SetDirection(pcap.DirectionIn); err != nil {
		h.Close()
		return nil, fmt.Errorf("link: %s: direction: %w", ifname, err)
	}
	if err := h.SetBPFFilter(PPPoEFilter); err != nil {
		h.Close()
		return nil, fmt.Errorf("link: %s: filter: %w", ifname, err)
	}
	hw := make(net.HardwareAddr, 6)
	copy(hw, ifi.HardwareAddr)
	return &pcapLink{name: ifname, mac: hw, mtu: mtu, h: h}, nil
}

type pcapLink struct {
	name string
	mac  net.HardwareAddr
	mtu  int
	h    *pcap.Handle

	readMu sync.Mutex // the zero-copy buffer is valid until the next read
	// mu guards closed against writes racing Close. Writes share it:
	// pcap_sendpacket is one send(2) on the socket, and thousands of
	// sessions writing at once must not queue behind each other's
	// system calls.
	mu     sync.RWMutex
	closed bool
	stats  counters
}

func (l *pcapLink) ReadFrame(b []byte) (int, error) {
	l.readMu.Lock()
	defer l.readMu.Unlock()
	for {
		data, _, err := l.h.ZeroCopyReadPacketData()
		switch {
		case err == nil:
			n := copy(b, data)
			if n < len(data) {
				l.stats.errors.Add(1)
				return n, io.ErrShortBuffer
			}
			l.stats.rx(n)
			return n, nil
		case errors.Is(err, pcap.NextErrorTimeoutExpired):
			if l.isClosed() {
				return 0, ErrClosed
			}
		case errors.Is(err, io.EOF):
			return 0, ErrClosed
		default:
			if l.isClosed() {
				return 0, ErrClosed
			}
			l.stats.errors.Add(1)
			return 0, fmt.Errorf("link: %s: read: %w", l.name, err)
		}
	}
}

func (l *pcapLink) isClosed() bool {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.closed
}

func (l *pcapLink) WriteFrame(b []byte) error {
	if err := checkFrame(b, l.mtu); err != nil {
		l.stats.errors.Add(1)
		return err
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return ErrClosed
	}
	if err := l.h.WritePacketData(b); err != nil {
		l.stats.errors.Add(1)
		return fmt.Errorf("link: %s: write: %w", l.name, err)
	}
	l.stats.tx(len(b))
	return nil
}

func (l *pcapLink) Name() string                   { return l.name }
func (l *pcapLink) HardwareAddr() net.HardwareAddr { return l.mac }
func (l *pcapLink) MTU() int                       { return l.mtu }

func (l *pcapLink) Stats() Stats {
	s := l.stats.snapshot()
	l.mu.RLock()
	defer l.mu.RUnlock()
	if !l.closed {
		if ps, err := l.h.Stats(); err == nil {
			s.Drops += uint64(ps.PacketsDropped) + uint64(ps.PacketsIfDropped)
		}
	}
	return s
}

// Close stops the handle; a ReadFrame blocked in libpcap returns ErrClosed.
func (l *pcapLink) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	l.mu.Unlock()
	// Handle.Close breaks the read loop and waits for the reader to leave.
	l.h.Close()
	return nil
}
