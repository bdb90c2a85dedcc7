//go:build linux

// Package impair is a frame relay that loses and delays frames, for tests
// of what rosh does on a bad line. The kernel the tests run on has no
// netem qdisc, so the impairment is done in user space: the relay sits in
// a network namespace of its own between two veth pairs (nstest.Impaired
// makes them), reads every frame arriving on one interface from a raw
// AF_PACKET socket, and writes it out of the other — unless it drops it —
// after the direction's delay.
//
// Each direction has its own loss and delay, changed at any time with Set;
// a frame is judged by the setting in force when it arrives. Frames of one
// direction leave in the order they came (a delay change does not reorder
// them), as on a wire.
package impair

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Direction is one way through the relay.
type Direction int

// The two directions: from the access concentrator's side (interface A of
// Open) to the client's (interface B), and back.
const (
	ACToClient Direction = iota
	ClientToAC
)

func (d Direction) String() string {
	if d == ACToClient {
		return "ac->client"
	}
	return "client->ac"
}

// Impairment is what happens to the frames of one direction.
type Impairment struct {
	// Loss is the share of frames dropped, 0 to 1, each frame drawn on
	// its own (Bernoulli loss, netem's "loss random").
	Loss float64
	// Delay holds every frame that long before it leaves.
	Delay time.Duration
}

// Counters are one direction's frame counts since Open.
type Counters struct {
	Received  uint64 // frames read from the incoming interface
	Dropped   uint64 // dropped on purpose (Loss)
	Forwarded uint64 // written to the outgoing interface
	// Overflow counts frames lost because the delay queue was full or
	// the outgoing socket failed: the relay's own losses, which a test
	// that counts on exact figures should see at zero.
	Overflow uint64
}

// queueLen bounds the frames held back by a delay, per direction: 50 ms of
// a few thousand frames a second fits many times over.
const queueLen = 8192

// Relay forwards frames both ways between two interfaces; Open starts one.
type Relay struct {
	dirs [2]*direction
	wg   sync.WaitGroup
	once sync.Once
}

type direction struct {
	in, out *socket
	mu      sync.Mutex
	imp     Impairment
	rng     *rand.Rand
	queue   chan held

	received, dropped, forwarded, overflow atomic.Uint64
}

// held is a frame waiting for its time to leave.
type held struct {
	frame []byte
	due   time.Time
}

// socket is a raw packet socket bound to one interface, read and written
// through Go's poller, so that Close wakes a blocked reader.
type socket struct {
	f       *os.File
	rc      syscall.RawConn
	ifindex int
}

// Open starts a relay between interfaces a (the access concentrator's
// side) and b (the client's) of the current network namespace — call it
// on a thread in the relay's namespace (nstest.InNamespace); the sockets
// stay there whatever thread reads them later. Both directions start
// unimpaired. Close stops it.
func Open(a, b string) (*Relay, error) {
	sa, err := openSocket(a)
	if err != nil {
		return nil, err
	}
	sb, err := openSocket(b)
	if err != nil {
		sa.f.Close()
		return nil, err
	}
	r := &Relay{}
	for i, pair := range [2][2]*socket{{sa, sb}, {sb, sa}} {
		r.dirs[i] = &direction{in: pair[0], out: pair[1], queue: make(chan held, queueLen),
			rng: rand.New(rand.NewPCG(rand.Uint64(), uint64(i)))}
	}
	for _, d := range r.dirs {
		r.wg.Add(2)
		go func() { defer r.wg.Done(); d.read() }()
		go func() { defer r.wg.Done(); d.write() }()
	}
	return r, nil
}

func openSocket(ifname string) (*socket, error) {
	ifi, err := net.InterfaceByName(ifname)
	if err != nil {
		return nil, fmt.Errorf("impair: %s: %w", ifname, err)
	}
	proto := int(htons(unix.ETH_P_ALL))
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, proto)
	if err != nil {
		return nil, fmt.Errorf("impair: %s: socket: %w", ifname, err)
	}
	fail := func(what string, err error) (*socket, error) {
		unix.Close(fd)
		return nil, fmt.Errorf("impair: %s: %s: %w", ifname, what, err)
	}
	// The frames this socket writes come back to it as outgoing ones:
	// they must not be relayed again (the reader also checks the packet
	// type, for kernels without the option).
	_ = unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_IGNORE_OUTGOING, 1)
	// Frames for any MAC: the relay is a wire, not a host.
	mreq := unix.PacketMreq{Ifindex: int32(ifi.Index), Type: unix.PACKET_MR_PROMISC}
	if err := unix.SetsockoptPacketMreq(fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, &mreq); err != nil {
		return fail("promiscuous", err)
	}
	// A burst of a thousand subscribers' answers must not overflow it.
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 8<<20)
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifi.Index}); err != nil {
		return fail("bind", err)
	}
	s := &socket{f: os.NewFile(uintptr(fd), "impair:"+ifname), ifindex: ifi.Index}
	if s.rc, err = s.f.SyscallConn(); err != nil {
		s.f.Close()
		return nil, err
	}
	return s, nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// Set changes one direction's impairment; frames already held keep the
// delay they were given.
func (r *Relay) Set(d Direction, imp Impairment) {
	dir := r.dirs[d]
	dir.mu.Lock()
	dir.imp = imp
	dir.mu.Unlock()
}

// SetBoth gives both directions the same impairment.
func (r *Relay) SetBoth(imp Impairment) {
	r.Set(ACToClient, imp)
	r.Set(ClientToAC, imp)
}

// Counters returns one direction's counts.
func (r *Relay) Counters(d Direction) Counters {
	dir := r.dirs[d]
	return Counters{Received: dir.received.Load(), Dropped: dir.dropped.Load(),
		Forwarded: dir.forwarded.Load(), Overflow: dir.overflow.Load()}
}

// Close stops the relay and waits for its goroutines.
func (r *Relay) Close() error {
	r.once.Do(func() {
		for _, d := range r.dirs {
			d.in.f.Close() // wakes the reader, which closes the queue
		}
		r.wg.Wait()
		for _, d := range r.dirs {
			d.out.f.Close()
		}
	})
	return nil
}

// read takes frames off the incoming socket, drops the unlucky ones and
// queues the rest with their time to leave.
func (d *direction) read() {
	defer close(d.queue)
	buf := make([]byte, 65536)
	for {
		var n int
		var from unix.Sockaddr
		var rerr error
		err := d.in.rc.Read(func(fd uintptr) bool {
			n, from, rerr = unix.Recvfrom(int(fd), buf, 0)
			return rerr != unix.EAGAIN
		})
		if err == nil {
			err = rerr
		}
		if err != nil {
			if errors.Is(err, os.ErrClosed) || errors.Is(err, unix.EBADF) {
				return
			}
			if errors.Is(err, unix.ENETDOWN) || errors.Is(err, unix.EINTR) {
				continue // the interface went down a moment: a wire loses the frame
			}
			return
		}
		if ll, ok := from.(*unix.SockaddrLinklayer); ok && ll.Pkttype == unix.PACKET_OUTGOING {
			continue
		}
		d.received.Add(1)
		d.mu.Lock()
		imp := d.imp
		lost := imp.Loss > 0 && d.rng.Float64() < imp.Loss
		d.mu.Unlock()
		if lost {
			d.dropped.Add(1)
			continue
		}
		h := held{frame: append([]byte(nil), buf[:n]...), due: time.Now().Add(imp.Delay)}
		select {
		case d.queue <- h:
		default:
			d.overflow.Add(1)
		}
	}
}

// write sends the queued frames, each at its time, in order.
func (d *direction) write() {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	to := &unix.SockaddrLinklayer{Ifindex: d.out.ifindex}
	for h := range d.queue {
		if wait := time.Until(h.due); wait > 0 {
			timer.Reset(wait)
			<-timer.C
		}
		var werr error
		err := d.out.rc.Write(func(fd uintptr) bool {
			werr = unix.Sendto(int(fd), h.frame, 0, to)
			return werr != unix.EAGAIN
		})
		if err == nil {
			err = werr
		}
		if err != nil {
			d.overflow.Add(1) // closed, or the interface is down: lost
			continue
		}
		d.forwarded.Add(1)
	}
}
