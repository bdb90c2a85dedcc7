package link

import "sync/atomic"

// Inbox is a bounded queue of frame copies from a Port's reader goroutine to
// the one goroutine that owns a protocol state machine. Put copies the frame
// into a buffer taken from a free list (allocated only when the list is
// empty), so a steady flow reuses the same buffers; when the queue is full the
// frame is dropped and counted, and the reader never blocks.
//
// The owner receives from C and should hand each buffer back with Recycle
// once it is done with it; a buffer not recycled is simply left to the
// garbage collector.
type Inbox struct {
	c     chan []byte
	free  chan []byte
	size  int
	drops atomic.Uint64
}

// NewInbox returns an Inbox holding at most depth frames of at most
// frameSize bytes each.
func NewInbox(depth, frameSize int) *Inbox {
	depth = max(depth, 1)
	return &Inbox{
		c:    make(chan []byte, depth),
		free: make(chan []byte, depth),
		size: frameSize,
	}
}

// Fill allocates every buffer the Inbox can hold now, in one block, so that
// its memory is a fixed cost paid up front rather than growing under load
// (up to the same bound). It is meant for queues that face floods.
func (q *Inbox) Fill() {
	n := cap(q.free) - len(q.free)
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
