package link

import (
	"bytes"
	"sync"
	"testing"
	"time"
)

// batchLink is a Pipe end that reads in batches (BatchReader) and queues
// what it sends (BatchWriter), recording both.
type batchLink struct {
	Link
	batches chan [][]byte

	mu      sync.Mutex
	queued  [][]byte
	flushed [][][]byte // what each Flush sent
}

func (l *batchLink) ReadFrames(fn func([]byte)) error {
	b, ok := <-l.batches
	if !ok {
		return ErrClosed
	}
	for _, f := range b {
		fn(f)
	}
	return nil
}

func (l *batchLink) QueueFrame(b []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.queued = append(l.queued, bytes.Clone(b))
	return nil
}

func (l *batchLink) Flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.flushed = append(l.flushed, l.queued)
	l.queued = nil
	return nil
}

func (l *batchLink) Close() error {
	close(l.batches)
	return l.Link.Close()
}

// TestPortBatches: a Port reads a BatchReader a batch at a time and runs
// the AtBatchEnd hooks once the whole batch was offered; on any other Link
// every frame is a batch. QueueFrame and Flush reach a BatchWriter, and
// are WriteFrame and nothing on a Link without batching.
func TestPortBatches(t *testing.T) {
	a, b := Pipe()
	defer b.Close()
	bl := &batchLink{Link: a, batches: make(chan [][]byte)}
	p := NewPort(bl)
	defer p.Close()

	var mu sync.Mutex
	var log []string
	ends := 0
	end := func() {
		mu.Lock()
		ends++
		log = append(log, "end")
		mu.Unlock()
	}
	armed := false // touched on the reader goroutine only
	p.Subscribe(func(f []byte) bool {
		mu.Lock()
		log = append(log, string(f[EthernetHeaderLen:]))
		mu.Unlock()
		if !armed {
			armed = true
			p.AtBatchEnd(func() { armed = false; end() })
		}
		return true
	})
	bl.batches <- [][]byte{frame(1, 2, 0x8864, 'a'), frame(1, 2, 0x8864, 'b'), frame(1, 2, 0x8864, 'c')}
	bl.batches <- [][]byte{frame(1, 2, 0x8864, 'd')}
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return ends == 2 })
	mu.Lock()
	if got := bytes.Join(func() (out [][]byte) {
		for _, s := range log {
			out = append(out, []byte(s))
		}
		return out
	}(), []byte(" ")); string(got) != "a b c end d end" {
		t.Errorf("offered and ended: %q, want %q", got, "a b c end d end")
	}
	mu.Unlock()

	for _, c := range []byte("xy") {
		if err := p.QueueFrame(frame(2, 1, 0x8864, c)); err != nil {
			t.Fatal(err)
		}
	}
	p.Flush()
	bl.mu.Lock()
	if len(bl.flushed) != 1 || len(bl.flushed[0]) != 2 || bl.flushed[0][1][EthernetHeaderLen] != 'y' {
		t.Errorf("flushed %q", bl.flushed)
	}
	bl.mu.Unlock()

	// A Pipe has no batching: QueueFrame sends at once, every frame
	// read ends a batch.
	c, d := Pipe()
	pc, pd := NewPort(c), NewPort(d)
	defer pc.Close()
	defer pd.Close()
	got := make(chan string, 4)
	pd.Subscribe(func(f []byte) bool {
		s := string(f[EthernetHeaderLen:])
		pd.AtBatchEnd(func() { got <- "end " + s })
		return true
	})
	pc.QueueFrame(frame(2, 1, 0x8864, 'p'))
	pc.QueueFrame(frame(2, 1, 0x8864, 'q'))
	for _, want := range []string{"end p", "end q"} {
		select {
		case g := <-got:
			if g != want {
				t.Errorf("got %q, want %q", g, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no %q", want)
		}
	}
	if err := pc.Flush(); err != nil {
		t.Errorf("Flush on a Pipe: %v", err)
	}
}
