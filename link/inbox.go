package link

import (
	"sync"
	"sync/atomic"
)

// Inbox is a bounded queue of frame copies from a Port's reader goroutine to
// the one goroutine that owns a protocol state machine. Put copies the frame
// into a buffer taken from a free list (allocated only when the list is
// empty), so a steady flow reuses the same buffers; when the queue is full the
// frame is dropped and counted, and the reader never blocks.
//
// The free list is shared by every Inbox of the same frame size, and
// bounded (spareBuffers): an access concentrator has an Inbox per session,
// tens of thousands of them mostly idle, and a buffer belongs to whichever
// session has a frame in it, not to each session that once had one. An
// Inbox that faces floods keeps buffers of its own instead (Fill).
//
// The owner receives from C and should hand each buffer back with Recycle
// once it is done with it; a buffer not recycled is simply left to the
// garbage collector.
type Inbox struct {
	c     chan []byte
	free  chan []byte // the Inbox's own buffers, after Fill; else spares
	size  int
	drops atomic.Uint64
}

// spareBuffers bounds the shared free list of each frame size: enough for
// every frame in flight in a busy engine, at 1.5 MiB for Ethernet frames.
const spareBuffers = 1024

// spares holds the shared free lists, by frame size.
var spares sync.Map // int → chan []byte

func sparesOf(size int) chan []byte {
	if c, ok := spares.Load(size); ok {
		return c.(chan []byte)
	}
	c, _ := spares.LoadOrStore(size, make(chan []byte, spareBuffers))
	return c.(chan []byte)
}

// NewInbox returns an Inbox holding at most depth frames of at most
// frameSize bytes each.
func NewInbox(depth, frameSize int) *Inbox {
	depth = max(depth, 1)
	return &Inbox{
		c:    make(chan []byte, depth),
		free: sparesOf(frameSize),
		size: frameSize,
	}
}

// Fill gives the Inbox buffers of its own, as many as it holds frames,
// allocated in one block, so that its memory is a fixed cost paid up front
// rather than growing under load, and a flood on it neither drains the
// shared free list nor allocates. It is meant for queues that face floods,
// and is called before the Inbox is used.
func (q *Inbox) Fill() {
	n := cap(q.c)
	q.free = make(chan []byte, n)
	block := make([]byte, n*q.size)
	for i := range n {
		select {
		case q.free <- block[i*q.size : (i+1)*q.size : (i+1)*q.size]:
		default:
			return
		}
	}
}

// Put queues a copy of frame. It reports false, and counts a drop, when the
// queue is full or frame is longer than the Inbox's frame size. Put never
// blocks and is meant to be called by one producer.
func (q *Inbox) Put(frame []byte) bool {
	if len(frame) > q.size || len(q.c) == cap(q.c) {
		q.drops.Add(1)
		return false
	}
	var b []byte
	select {
	case b = <-q.free:
	default:
		b = make([]byte, q.size)
	}
	n := copy(b[:cap(b)], frame)
	select {
	case q.c <- b[:n]:
		return true
	default:
		q.Recycle(b)
		q.drops.Add(1)
		return false
	}
}

// C is the queue the owner goroutine receives from.
func (q *Inbox) C() <-chan []byte { return q.c }

// Recycle returns a buffer received from C to the free list.
func (q *Inbox) Recycle(b []byte) {
	if cap(b) != q.size {
		return
	}
	select {
	case q.free <- b[:cap(b)]:
	default:
	}
}

// FrameSize is the longest frame the Inbox holds.
func (q *Inbox) FrameSize() int { return q.size }

// Drops returns how many frames Put refused.
func (q *Inbox) Drops() uint64 { return q.drops.Load() }

// Len returns the number of frames waiting.
func (q *Inbox) Len() int { return len(q.c) }
