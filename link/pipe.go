package link

import (
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
)

// pipeSerial numbers pipes so that every Pipe gets its own MAC addresses.
var pipeSerial atomic.Uint32

// PipeOption configures Pipe.
type PipeOption func(*pipeConfig)

type pipeConfig struct {
	mtu    int
	queue  int
	macA   net.HardwareAddr
	macB   net.HardwareAddr
	prefix string
}

// WithMTU sets the MTU of both ends (default DefaultMTU).
func WithMTU(mtu int) PipeOption { return func(c *pipeConfig) { c.mtu = mtu } }

// WithQueue sets how many frames each direction buffers before it drops
// (default 256).
func WithQueue(frames int) PipeOption { return func(c *pipeConfig) { c.queue = frames } }

// WithMACs sets the hardware addresses of the two ends.
func WithMACs(a, b net.HardwareAddr) PipeOption {
	return func(c *pipeConfig) { c.macA, c.macB = a, b }
}

// WithName sets the name prefix of the two ends, which are called prefix+"a"
// and prefix+"b" (default "pipe<serial>").
func WithName(prefix string) PipeOption { return func(c *pipeConfig) { c.prefix = prefix } }

// Pipe returns the two ends of an in-memory Ethernet cable. A frame written
// to one end is read from the other. Each direction holds a fixed ring of
// buffers allocated here, so moving a frame never allocates; when a ring is
// full the frame is dropped and counted in the writer's Stats.Drops. The two
// ends have distinct locally administered unicast MAC addresses.
func Pipe(opts ...PipeOption) (a, b Link) {
	serial := pipeSerial.Add(1)
	cfg := pipeConfig{
		mtu:    DefaultMTU,
		queue:  256,
		prefix: fmt.Sprintf("pipe%d", serial),
	}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.mtu < 68 {
		cfg.mtu = 68
	}
	if cfg.queue < 1 {
		cfg.queue = 1
	}
	if cfg.macA == nil {
		cfg.macA = net.HardwareAddr{0x02, 0x52, 0x4f, byte(serial >> 8), byte(serial), 0x0a}
	}
	if cfg.macB == nil {
		cfg.macB = net.HardwareAddr{0x02, 0x52, 0x4f, byte(serial >> 8), byte(serial), 0x0b}
	}
	ab := newPipeQueue(cfg.queue, MaxFrameLen(cfg.mtu))
	ba := newPipeQueue(cfg.queue, MaxFrameLen(cfg.mtu))
	ea := &pipeEnd{name: cfg.prefix + "a", mac: cfg.macA, mtu: cfg.mtu, rx: ba, tx: ab, closed: make(chan struct{})}
	eb := &pipeEnd{name: cfg.prefix + "b", mac: cfg.macB, mtu: cfg.mtu, rx: ab, tx: ba, closed: make(chan struct{})}
	return ea, eb
}

// pipeQueue carries frames in one direction. free holds empty buffers, full
// holds written ones; both have room for every buffer, so neither send
// blocks.
type pipeQueue struct {
	free chan []byte
	full chan []byte
}

func newPipeQueue(n, size int) *pipeQueue {
	q := &pipeQueue{free: make(chan []byte, n), full: make(chan []byte, n)}
	backing := make([]byte, n*size)
	for i := range n {
		q.free <- backing[i*size : (i+1)*size : (i+1)*size]
	}
	return q
}

type pipeEnd struct {
	name      string
	mac       net.HardwareAddr
	mtu       int
	rx, tx    *pipeQueue
	closed    chan struct{}
	closeOnce sync.Once
	stats     counters
}

func (e *pipeEnd) ReadFrame(b []byte) (int, error) {
	select {
	case <-e.closed:
		return 0, ErrClosed
	default:
	}
	select {
	case f := <-e.rx.full:
		n := copy(b, f)
		e.rx.free <- f[:cap(f)]
		if n < len(f) {
			e.stats.errors.Add(1)
			return n, io.ErrShortBuffer
		}
		e.stats.rx(n)
		return n, nil
	case <-e.closed:
		return 0, ErrClosed
	}
}

func (e *pipeEnd) WriteFrame(b []byte) error {
	select {
	case <-e.closed:
		return ErrClosed
	default:
	}
	if err := checkFrame(b, e.mtu); err != nil {
		e.stats.errors.Add(1)
		return err
	}
	var f []byte
	select {
	case f = <-e.tx.free:
	default:
		e.stats.drops.Add(1)
		return nil
	}
	n := copy(f, b)
	e.tx.full <- f[:n]
	e.stats.tx(n)
	return nil
}

func (e *pipeEnd) Name() string                   { return e.name }
func (e *pipeEnd) HardwareAddr() net.HardwareAddr { return e.mac }
func (e *pipeEnd) MTU() int                       { return e.mtu }
func (e *pipeEnd) Stats() Stats                   { return e.stats.snapshot() }

// Close stops this end: its ReadFrame and WriteFrame return ErrClosed. The
// other end keeps working; what it writes is dropped once the ring fills.
func (e *pipeEnd) Close() error {
	e.closeOnce.Do(func() { close(e.closed) })
	return nil
}
