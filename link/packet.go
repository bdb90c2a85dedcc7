//go:build linux

package link

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// OpenPacket opens the Linux interface ifname for PPPoE with a raw
// AF_PACKET socket of its own, for the data path's speed:
//
//   - received frames land in a ring shared with the kernel
//     (PACKET_RX_RING, TPACKET_V2, packet(7)), which the reader drains
//     without a system call while frames keep coming, and waits on
//     through Go's poller when it is empty;
//   - frames queued with QueueFrame leave together, in one sendmmsg(2),
//     at Flush (WriteFrame sends what is queued, then its frame).
//
// Like OpenPcap it sees only PPPoE (PPPoEFilter, compiled here to a
// classic BPF program: PPPoEProgram), untagged or in one 802.1Q tag,
// and only frames arriving on the interface (PACKET_IGNORE_OUTGOING).
// A frame the kernel received with its VLAN tag taken off is handed over
// with the tag put back, as libpcap does.
func OpenPacket(ifname string) (Link, error) { return OpenPacketWith(ifname, PacketOptions{}) }

// PacketOptions are the settings of OpenPacketWith that OpenPacket leaves
// at their defaults.
type PacketOptions struct {
	// Promiscuous receives frames sent to any MAC (PACKET_MR_PROMISC);
	// see PcapOptions.Promiscuous.
	Promiscuous bool
	// RingSize is the receive ring's size in bytes; 0 is 4 MiB, room
	// for 2048 frames of a 1500-byte MTU: about 5 ms of a sender on the
	// same machine, which a reader that the scheduler put aside for a
	// time slice must be able to catch up on.
	RingSize int
}

// Sizes of the packet link.
const (
	defaultRingSize = 4 << 20
	ringBlockSize   = 64 << 10
	// tpacket2HdrLen is TPACKET2_HDRLEN less the sockaddr_ll: where
	// the sockaddr_ll of a ring frame starts (TPACKET_ALIGN(32)).
	tpacket2HdrLen = 32
	// ringFrameOverhead is what a ring frame holds before the Ethernet
	// header: the tpacket2_hdr and sockaddr_ll, aligned, less the 14
	// bytes the kernel puts the MAC header in (tp_mac = tp_net - 14).
	ringFrameOverhead = 80
	// txSlots is how many frames QueueFrame holds before it sends
	// them itself: a TSO burst of 64 KiB cut for a 1492-byte MTU is 45.
	txSlots = 64
	// maxReadBatch bounds the frames ReadFrames hands over in one call,
	// so that what the handlers batch is flushed regularly under load.
	maxReadBatch = 256
)

// tpacket2_hdr field offsets (linux/if_packet.h).
const (
	tpStatus   = 0
	tpLen      = 4
	tpSnaplen  = 8
	tpMac      = 12
	tpVLANTCI  = 24
	tpVLANTPID = 26
	// sll_pkttype in the sockaddr_ll that follows the header.
	tpPktType = tpacket2HdrLen + 10
)

// PPPoEProgram is PPPoEFilter as a classic BPF program: EtherType 0x8863
// or 0x8864 at offset 12, or 0x8100 there and one of them at offset 16.
// (A tag the kernel has already taken off leaves the inner EtherType at
// 12.)
var PPPoEProgram = []bpf.Instruction{
	bpf.LoadAbsolute{Off: 12, Size: 2},
	bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x8863, SkipTrue: 5},
	bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x8864, SkipTrue: 4},
	bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x8100, SkipFalse: 4},
	bpf.LoadAbsolute{Off: 16, Size: 2},
	bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x8863, SkipTrue: 1},
	bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x8864, SkipFalse: 1},
	bpf.RetConstant{Val: 0x40000},
	bpf.RetConstant{Val: 0},
}

// OpenPacketWith is OpenPacket with options.
func OpenPacketWith(ifname string, opt PacketOptions) (Link, error) {
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
	// Protocol 0: nothing is received until bind names one, after the
	// filter and the ring are in place.
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("link: %s: socket: %w", ifname, err)
	}
	l := &packetLink{name: ifname, mtu: mtu, ifindex: ifi.Index, txfd: -1}
	l.mac = append(net.HardwareAddr(nil), ifi.HardwareAddr...)
	fail := func(err error) (Link, error) {
		if l.ring != nil {
			unix.Munmap(l.ring)
		}
		if l.txfd >= 0 {
			unix.Close(l.txfd)
		}
		if l.rx != nil {
			l.rx.Close()
		} else {
			unix.Close(fd)
		}
		return nil, fmt.Errorf("link: %s: %w", ifname, err)
	}
	if err := l.setup(fd, opt); err != nil {
		return fail(err)
	}
	// The sending socket is bound to no protocol: it receives nothing.
	if l.txfd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0); err != nil {
		return fail(fmt.Errorf("socket: %w", err))
	}
	if err := unix.Bind(l.txfd, &unix.SockaddrLinklayer{Ifindex: l.ifindex}); err != nil {
		return fail(fmt.Errorf("bind: %w", err))
	}
	// A non-blocking descriptor makes a File the poller waits on.
	l.rx = os.NewFile(uintptr(fd), "packet:"+ifname)
	if l.rc, err = l.rx.SyscallConn(); err != nil {
		return fail(err)
	}
	l.readyFn = l.readyOrFailed
	l.initTx()
	return l, nil
}

func (l *packetLink) setup(fd int, opt PacketOptions) error {
	raw, err := bpf.Assemble(PPPoEProgram)
	if err != nil {
		return err
	}
	filter := make([]unix.SockFilter, len(raw))
	for i, r := range raw {
		filter[i] = unix.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K}
	}
	prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &prog); err != nil {
		return fmt.Errorf("filter: %w", err)
	}
	// Without it (kernels before 4.20) the reader skips its own
	// transmissions by their packet type.
	_ = unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_IGNORE_OUTGOING, 1)
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_VERSION, unix.TPACKET_V2); err != nil {
		return fmt.Errorf("TPACKET_V2: %w", err)
	}
	frameSize := 1 << 11
	for frameSize < ringFrameOverhead+MaxFrameLen(l.mtu)+VLANTagLen {
		frameSize <<= 1
	}
	blockSize := max(ringBlockSize, frameSize)
	size := opt.RingSize
	if size <= 0 {
		size = defaultRingSize
	}
	blocks := max(size/blockSize, 1)
	req := unix.TpacketReq{
		Block_size: uint32(blockSize), Block_nr: uint32(blocks),
		Frame_size: uint32(frameSize), Frame_nr: uint32(blocks * (blockSize / frameSize)),
	}
	if err := unix.SetsockoptTpacketReq(fd, unix.SOL_PACKET, unix.PACKET_RX_RING, &req); err != nil {
		return fmt.Errorf("receive ring: %w", err)
	}
	l.ring, err = unix.Mmap(fd, 0, blocks*blockSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return fmt.Errorf("mapping the ring: %w", err)
	}
	l.frameSize, l.frames = frameSize, int(req.Frame_nr)
	if opt.Promiscuous {
		mreq := unix.PacketMreq{Ifindex: int32(l.ifindex), Type: unix.PACKET_MR_PROMISC}
		if err := unix.SetsockoptPacketMreq(fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, &mreq); err != nil {
			return fmt.Errorf("promiscuous: %w", err)
		}
	}
	sa := unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: l.ifindex}
	if err := unix.Bind(fd, &sa); err != nil {
		return fmt.Errorf("bind: %w", err)
	}
	return nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// packetLink is a Link on two AF_PACKET sockets: one with the receive
// ring, which the reader waits on through Go's poller, and one that only
// sends, in batches.
//
// The sending socket is blocking and stays out of the poller on purpose:
// a descriptor in the poller has its epoll entry on the socket's wait
// queue for good, and the kernel then runs a wake-up for every sent
// frame it frees (sock_def_write_space), which on a busy link costs more
// than the sending.
type packetLink struct {
	name    string
	mac     net.HardwareAddr
	mtu     int
	ifindex int
	rx      *os.File // the receiving socket, with the ring
	rc      syscall.RawConn
	txfd    int
	closed  atomic.Bool

	// The receive side belongs to whoever holds readMu: the ring's
	// frames from next on are the kernel's until their status says
	// TP_STATUS_USER, and go back to it once read.
	readMu    sync.Mutex
	ring      []byte
	frameSize int
	frames    int
	next      int
	vlanBuf   []byte // a frame with the tag the kernel took off put back
	gone      bool   // the interface was removed
	down      bool   // the interface went down; not up since
	wakes     int    // calls of readyOrFailed in this wait
	sockErr   unix.Errno
	readyFn   func(fd uintptr) bool

	// The send side: frames copied into slots of stage, sent by one
	// sendmmsg. txMu guards it all.
	txMu     sync.Mutex
	stage    []byte
	slotSize int
	iov      []unix.Iovec
	msgs     []unix.Mmsghdr
	queued   int

	stats       counters
	kernelDrops atomic.Uint64 // PACKET_STATISTICS tp_drops, summed (each read resets it)
}

func (l *packetLink) initTx() {
	l.slotSize = (MaxFrameLen(l.mtu) + 63) &^ 63
	l.stage = make([]byte, txSlots*l.slotSize)
	l.iov = make([]unix.Iovec, txSlots)
	l.msgs = make([]unix.Mmsghdr, txSlots)
	for i := range l.msgs {
		l.iov[i].Base = &l.stage[i*l.slotSize]
		l.msgs[i].Hdr.Iov = &l.iov[i]
		l.msgs[i].Hdr.Iovlen = 1
	}
}

// status is the ring frame i's tp_status, read as the kernel publishes
// it.
func (l *packetLink) status(i int) *uint32 {
	return (*uint32)(unsafe.Pointer(&l.ring[i*l.frameSize+tpStatus]))
}

// readyOrFailed is the poller's test of whether to wait: a frame in the
// ring, or else, when the poller woke the reader for nothing (the first
// look comes before any wait), an error on the socket. The poller reports
// an error together with writability as plain readiness, so the socket's
// error is read here, which clears it.
func (l *packetLink) readyOrFailed(fd uintptr) bool {
	if l.ready() {
		return true
	}
	if l.wakes++; l.wakes == 1 {
		return false
	}
	e, err := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_ERROR)
	if err != nil || e == 0 {
		return false
	}
	l.sockErr = unix.Errno(e)
	return true
}

// ready reports whether the next ring frame is ours.
func (l *packetLink) ready() bool {
	return atomic.LoadUint32(l.status(l.next))&unix.TP_STATUS_USER != 0
}

// wait blocks until the next ring frame is ours, or the link is closed.
// A frame that arrives between the look at the ring and the wait is not
// missed: the poller keeps the readiness the kernel signalled for it.
//
// The kernel reports an interface going down as an error on the socket
// (ENETDOWN), once; wait returns it. While the interface is down it waits
// with a deadline, to notice the interface being removed (the kernel says
// nothing more then: the socket is merely bound to no interface any more);
// from then on every call fails with ErrInterfaceGone, so that the Port
// gives up and its users hear that the link is gone.
func (l *packetLink) wait() error {
	for {
		if l.closed.Load() {
			return ErrClosed
		}
		if l.gone {
			l.stats.errors.Add(1)
			return fmt.Errorf("link: %s: %w", l.name, ErrInterfaceGone)
		}
		if l.ready() {
			return l.up()
		}
		if l.down {
			l.rx.SetReadDeadline(time.Now().Add(downRecheck))
		}
		l.wakes, l.sockErr = 0, 0
		err := l.rc.Read(l.readyFn)
		switch {
		case l.closed.Load() || errors.Is(err, os.ErrClosed):
			return ErrClosed
		case errors.Is(err, os.ErrDeadlineExceeded):
			l.rc.Control(l.checkGone)
			continue
		case err == nil && l.sockErr == 0:
			return l.up()
		}
		l.stats.errors.Add(1)
		if err == nil {
			err = l.sockErr
			l.down = true
			l.rc.Control(l.checkGone)
		}
		if l.gone {
			return fmt.Errorf("link: %s: %w", l.name, ErrInterfaceGone)
		}
		return fmt.Errorf("link: %s: read: %w", l.name, err)
	}
}

// downRecheck is how often a reader waiting on an interface that went
// down looks whether it was removed.
const downRecheck = 500 * time.Millisecond

// up leaves the down state once frames arrive again.
func (l *packetLink) up() error {
	if l.down {
		l.down = false
		l.rx.SetReadDeadline(time.Time{})
	}
	return nil
}

// checkGone notes whether the socket is still bound to its interface.
func (l *packetLink) checkGone(fd uintptr) {
	if sa, err := unix.Getsockname(int(fd)); err == nil {
		if ll, ok := sa.(*unix.SockaddrLinklayer); ok && ll.Ifindex != l.ifindex {
			l.gone = true
		}
	}
}

// take returns the frame in ring slot l.next (nil for one to skip); the
// slot is the caller's until release.
func (l *packetLink) take() []byte {
	f := l.ring[l.next*l.frameSize : (l.next+1)*l.frameSize]
	st := atomic.LoadUint32(l.status(l.next))
	if f[tpPktType] == unix.PACKET_OUTGOING {
		return nil
	}
	mac := int(binary.NativeEndian.Uint16(f[tpMac:]))
	snap := int(binary.NativeEndian.Uint32(f[tpSnaplen:]))
	if snap != int(binary.NativeEndian.Uint32(f[tpLen:])) || mac+snap > len(f) || snap < EthernetHeaderLen {
		l.stats.errors.Add(1) // longer than the ring's frames: the MTU grew
		return nil
	}
	data := f[mac : mac+snap]
	if st&unix.TP_STATUS_VLAN_VALID == 0 {
		return data
	}
	tpid := uint16(0x8100)
	if st&unix.TP_STATUS_VLAN_TPID_VALID != 0 {
		tpid = binary.NativeEndian.Uint16(f[tpVLANTPID:])
	}
	if need := snap + VLANTagLen; len(l.vlanBuf) < need {
		l.vlanBuf = make([]byte, max(need, MaxFrameLen(l.mtu)+VLANTagLen))
	}
	b := l.vlanBuf[:snap+VLANTagLen]
	copy(b, data[:12])
	binary.BigEndian.PutUint16(b[12:], tpid)
	binary.BigEndian.PutUint16(b[14:], binary.NativeEndian.Uint16(f[tpVLANTCI:]))
	copy(b[16:], data[12:])
	return b
}

// advance hands ring slot l.next back to the kernel and moves on.
func (l *packetLink) advance() {
	atomic.StoreUint32(l.status(l.next), unix.TP_STATUS_KERNEL)
	if l.next++; l.next == l.frames {
		l.next = 0
	}
}

func (l *packetLink) ReadFrame(b []byte) (int, error) {
	l.readMu.Lock()
	defer l.readMu.Unlock()
	for {
		if err := l.wait(); err != nil {
			return 0, err
		}
		data := l.take()
		if data == nil {
			l.advance()
			continue
		}
		n := copy(b, data)
		l.advance()
		if n < len(data) {
			l.stats.errors.Add(1)
			return n, io.ErrShortBuffer
		}
		l.stats.rx(n)
		return n, nil
	}
}

// ReadFrames waits for a frame, then calls fn with every frame the ring
// holds (up to a bound), in order, straight from the ring: frame is
// valid only during the call.
func (l *packetLink) ReadFrames(fn func(frame []byte)) error {
	l.readMu.Lock()
	defer l.readMu.Unlock()
	if err := l.wait(); err != nil {
		return err
	}
	for k := 0; k < maxReadBatch && l.ready(); k++ {
		if data := l.take(); data != nil {
			l.stats.rx(len(data))
			fn(data)
		}
		l.advance()
	}
	return nil
}

// QueueFrame copies b into the next send slot; Flush (or WriteFrame, or
// a full queue) sends it. A frame shorter than MinFrameLen is padded with
// zeros.
func (l *packetLink) QueueFrame(b []byte) error {
	if err := checkFrame(b, l.mtu); err != nil {
		l.stats.errors.Add(1)
		return err
	}
	l.txMu.Lock()
	defer l.txMu.Unlock()
	if l.closed.Load() {
		return ErrClosed
	}
	var err error
	if l.queued == txSlots {
		err = l.flushLocked()
	}
	l.queueLocked(b)
	return err
}

func (l *packetLink) queueLocked(b []byte) {
	slot := l.stage[l.queued*l.slotSize : (l.queued+1)*l.slotSize]
	n := copy(slot, b)
	if n < MinFrameLen {
		clear(slot[n:MinFrameLen])
		n = MinFrameLen
	}
	l.iov[l.queued].SetLen(n)
	l.queued++
}

// Flush sends every queued frame.
func (l *packetLink) Flush() error {
	l.txMu.Lock()
	defer l.txMu.Unlock()
	if l.closed.Load() {
		l.queued = 0
		return ErrClosed
	}
	return l.flushLocked()
}

func (l *packetLink) WriteFrame(b []byte) error {
	if err := checkFrame(b, l.mtu); err != nil {
		l.stats.errors.Add(1)
		return err
	}
	l.txMu.Lock()
	defer l.txMu.Unlock()
	if l.closed.Load() {
		return ErrClosed
	}
	if l.queued == txSlots {
		l.flushLocked()
	}
	l.queueLocked(b)
	return l.flushLocked()
}

// flushLocked sends the queued frames, in order, with as few sendmmsg
// calls as the kernel lets it. A frame the kernel refuses is counted and
// skipped; the first such error is returned.
func (l *packetLink) flushLocked() error {
	var first error
	for sent := 0; sent < l.queued; {
		n, _, e := unix.Syscall6(unix.SYS_SENDMMSG, uintptr(l.txfd), uintptr(unsafe.Pointer(&l.msgs[sent])), uintptr(l.queued-sent), 0, 0, 0)
		switch e {
		case 0:
			for _, m := range l.msgs[sent : sent+int(n)] {
				l.stats.tx(int(m.Len))
			}
			sent += int(n)
		case unix.EINTR:
		default:
			// The first frame failed: count it and go on with the rest.
			l.stats.errors.Add(1)
			if first == nil {
				first = fmt.Errorf("link: %s: write: %w", l.name, e)
			}
			sent++
		}
	}
	l.queued = 0
	return first
}

func (l *packetLink) Name() string                   { return l.name }
func (l *packetLink) HardwareAddr() net.HardwareAddr { return l.mac }
func (l *packetLink) MTU() int                       { return l.mtu }

func (l *packetLink) Stats() Stats {
	if !l.closed.Load() {
		l.rc.Control(func(fd uintptr) {
			if st, err := unix.GetsockoptTpacketStats(int(fd), unix.SOL_PACKET, unix.PACKET_STATISTICS); err == nil {
				l.kernelDrops.Add(uint64(st.Drops))
			}
		})
	}
	s := l.stats.snapshot()
	s.Drops += l.kernelDrops.Load()
	return s
}

// Close closes the receiving socket, which wakes a reader waiting on it,
// and releases the ring and the sending socket once the reader and any
// writer have let go of them.
func (l *packetLink) Close() error {
	if l.closed.Swap(true) {
		return nil
	}
	err := l.rx.Close()
	l.readMu.Lock()
	unix.Munmap(l.ring)
	l.ring = nil
	l.readMu.Unlock()
	l.txMu.Lock()
	unix.Close(l.txfd)
	l.txMu.Unlock()
	return err
}
