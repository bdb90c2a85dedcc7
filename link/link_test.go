package link

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// frame returns a minimal Ethernet frame: dst, src, EtherType, payload.
func frame(dst, src byte, etherType uint16, payload ...byte) []byte {
	b := []byte{
		0x02, 0, 0, 0, 0, dst, // destination
		0x02, 0, 0, 0, 0, src, // source
		byte(etherType >> 8), byte(etherType), // EtherType
	}
	return append(b, payload...)
}

func TestPipe(t *testing.T) {
	a, b := Pipe(WithMTU(1400), WithQueue(4))
	defer a.Close()
	defer b.Close()
	if bytes.Equal(a.HardwareAddr(), b.HardwareAddr()) {
		t.Fatalf("both ends have MAC %v", a.HardwareAddr())
	}
	for _, hw := range [][]byte{a.HardwareAddr(), b.HardwareAddr()} {
		if hw[0]&0x02 == 0 || hw[0]&0x01 != 0 {
			t.Errorf("MAC %x is not locally administered unicast", hw)
		}
	}
	if a.MTU() != 1400 {
		t.Errorf("MTU = %d, want 1400", a.MTU())
	}

	f := frame(2, 1, 0x8863, 1, 2, 3)
	if err := a.WriteFrame(f); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 2000)
	n, err := b.ReadFrame(buf)
	if err != nil || !bytes.Equal(buf[:n], f) {
		t.Fatalf("ReadFrame = % x, %v; want % x", buf[:n], err, f)
	}

	// Four frames fill the queue, the fifth is dropped and counted.
	for range 5 {
		if err := a.WriteFrame(f); err != nil {
			t.Fatal(err)
		}
	}
	if s := a.Stats(); s.TxFrames != 5 || s.Drops != 1 {
		t.Errorf("writer stats = %+v, want 5 sent, 1 drop", s)
	}

	// Too short, too long.
	if err := a.WriteFrame(f[:10]); !errors.Is(err, ErrFrameTooShort) {
		t.Errorf("short frame: %v", err)
	}
	if err := a.WriteFrame(make([]byte, MaxFrameLen(1400)+1)); !errors.Is(err, ErrFrameTooLarge) {
		t.Errorf("long frame: %v", err)
	}
	// A short read buffer is reported.
	if _, err := b.ReadFrame(make([]byte, 4)); !errors.Is(err, io.ErrShortBuffer) {
		t.Errorf("short buffer: %v", err)
	}

	// Close unblocks a reader.
	done := make(chan error)
	go func() {
		for {
			if _, err := b.ReadFrame(buf); err != nil {
				done <- err
				return
			}
		}
	}()
	time.Sleep(10 * time.Millisecond)
	b.Close()
	select {
	case err := <-done:
		if !errors.Is(err, ErrClosed) {
			t.Errorf("ReadFrame after Close = %v, want ErrClosed", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("ReadFrame did not return after Close")
	}
	if err := b.WriteFrame(f); !errors.Is(err, ErrClosed) {
		t.Errorf("WriteFrame after Close = %v", err)
	}
}

func TestPipeAllocs(t *testing.T) {
	a, b := Pipe()
	defer a.Close()
	defer b.Close()
	f := frame(2, 1, 0x8864, make([]byte, 100)...)
	buf := make([]byte, 1600)
	allocs := testing.AllocsPerRun(1000, func() {
		_ = a.WriteFrame(f)
		_, _ = b.ReadFrame(buf)
	})
	if allocs != 0 {
		t.Errorf("%v allocs per frame, want 0", allocs)
	}
}

func TestPortDemux(t *testing.T) {
	a, b := Pipe()
	p := NewPort(b)
	defer a.Close()

	var mu sync.Mutex
	got := map[string][]byte{}
	byDst := func(name string, dst byte) Handler {
		return func(f []byte) bool {
			if f[5] != dst {
				return false
			}
			mu.Lock()
			got[name] = append(got[name], f[14])
			mu.Unlock()
			return true
		}
	}
	s1 := p.Subscribe(byDst("one", 1))
	p.Subscribe(byDst("two", 2))
	p.Subscribe(byDst("also-two", 2))

	_ = a.WriteFrame(frame(1, 9, 0x8863, 'a'))
	_ = a.WriteFrame(frame(2, 9, 0x8863, 'b'))
	_ = a.WriteFrame(frame(3, 9, 0x8863, 'c')) // nobody's
	waitFor(t, func() bool { return p.Stats().Link.RxFrames == 3 })
	s1.Cancel()
	s1.Cancel()                                // twice is fine
	_ = a.WriteFrame(frame(1, 9, 0x8863, 'd')) // one has gone: unmatched
	waitFor(t, func() bool { return p.Stats().Link.RxFrames == 4 })

	mu.Lock()
	want := "map[also-two:[98] one:[97] two:[98]]"
	if s := fmt.Sprint(got); s != want {
		t.Errorf("delivered %s, want %s", s, want)
	}
	mu.Unlock()
	if st := p.Stats(); st.Unmatched != 2 || st.Subscribers != 2 {
		t.Errorf("stats = %+v, want 2 unmatched, 2 subscribers", st)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Done():
	default:
		t.Fatal("reader still running after Close")
	}
	if err := p.WriteFrame(frame(1, 2, 0x8863)); !errors.Is(err, ErrClosed) {
		t.Errorf("WriteFrame after Close = %v", err)
	}
}

// SubscribeDst handlers see only frames for their MAC, before the
// handlers that see everything; cancelling one (from inside it, too)
// leaves the others of the same MAC, and OnDown reaches them all.
func TestPortSubscribeDst(t *testing.T) {
	a, b := Pipe()
	p := NewPort(b)
	defer a.Close()

	var mu sync.Mutex
	var order []string
	record := func(name string, accept bool) Handler {
		return func(f []byte) bool {
			mu.Lock()
			order = append(order, fmt.Sprintf("%s:%c", name, f[14]))
			mu.Unlock()
			return accept
		}
	}
	dst := func(b byte) [6]byte { return [6]byte{0x02, 0, 0, 0, 0, b} }
	p.Subscribe(record("all", false))
	var self *Subscription
	self = p.SubscribeDst(dst(1), func(f []byte) bool {
		record("one-once", true)(f)
		self.Cancel()
		return true
	})
	p.SubscribeDst(dst(1), record("one", true))
	downs := 0
	p.SubscribeDst(dst(2), record("two", false)).OnDown(func() { downs++ })

	_ = a.WriteFrame(frame(1, 9, 0x8863, 'a'))
	_ = a.WriteFrame(frame(1, 9, 0x8863, 'b'))
	_ = a.WriteFrame(frame(2, 9, 0x8863, 'c')) // keyed, not accepted
	_ = a.WriteFrame(frame(3, 9, 0x8863, 'd')) // nobody's MAC
	waitFor(t, func() bool { return p.Stats().Link.RxFrames == 4 })

	mu.Lock()
	want := "[one-once:a one:a all:a one:b all:b two:c all:c all:d]"
	if s := fmt.Sprint(order); s != want {
		t.Errorf("handlers ran %s, want %s", s, want)
	}
	mu.Unlock()
	if st := p.Stats(); st.Unmatched != 2 || st.Subscribers != 3 {
		t.Errorf("stats = %+v, want 2 unmatched, 3 subscribers", st)
	}
	p.Close()
	if downs != 1 {
		t.Errorf("OnDown of a SubscribeDst handler ran %d times, want 1", downs)
	}
}

func TestCancelInsideHandler(t *testing.T) {
	a, b := Pipe()
	p := NewPort(b)
	defer p.Close()
	defer a.Close()
	var n atomic.Int32
	var s *Subscription
	s = p.Subscribe(func([]byte) bool {
		n.Add(1)
		s.Cancel()
		return true
	})
	_ = a.WriteFrame(frame(1, 2, 0x8863))
	_ = a.WriteFrame(frame(1, 2, 0x8863))
	waitFor(t, func() bool { return p.Stats().Link.RxFrames == 2 })
	if n.Load() != 1 {
		t.Errorf("handler ran %d times, want 1", n.Load())
	}
}

func TestInbox(t *testing.T) {
	q := NewInbox(2, 64)
	if !q.Put([]byte{1}) || !q.Put([]byte{2}) {
		t.Fatal("Put into an empty inbox failed")
	}
	if q.Put([]byte{3}) {
		t.Error("Put into a full inbox succeeded")
	}
	if q.Put(make([]byte, 65)) {
		t.Error("Put of an oversized frame succeeded")
	}
	if q.Drops() != 2 {
		t.Errorf("Drops = %d, want 2", q.Drops())
	}
	b := <-q.C()
	if !bytes.Equal(b, []byte{1}) {
		t.Errorf("first frame % x", b)
	}
	q.Recycle(b)
	b = <-q.C()
	q.Recycle(b)
	allocs := testing.AllocsPerRun(100, func() {
		q.Put([]byte{4, 5})
		q.Recycle(<-q.C())
	})
	if allocs != 0 {
		t.Errorf("%v allocs per Put with recycling, want 0", allocs)
	}

	// Inboxes of one frame size share their spare buffers: what one
	// recycles, another fills without allocating.
	a, b2 := NewInbox(4, 77), NewInbox(4, 77)
	a.Put([]byte{1})
	a.Recycle(<-a.C())
	allocs = testing.AllocsPerRun(100, func() {
		b2.Put([]byte{6})
		a.Recycle(<-b2.C())
	})
	if allocs != 0 {
		t.Errorf("%v allocs per Put with another inbox recycling, want 0", allocs)
	}

	// A filled inbox never allocates, even when nothing is recycled.
	f := NewInbox(8, 64)
	f.Fill()
	allocs = testing.AllocsPerRun(8, func() {
		f.Put([]byte{1})
	})
	if allocs != 0 {
		t.Errorf("%v allocs per Put on a filled inbox, want 0", allocs)
	}
}

func TestRegistry(t *testing.T) {
	opened := map[string]int{}
	var peers []Link
	r := NewRegistry(func(name string) (Link, error) {
		if name == "missing" {
			return nil, errors.New("no such interface")
		}
		opened[name]++
		a, b := Pipe(WithName(name))
		peers = append(peers, b)
		return a, nil
	})
	p1, err := r.Acquire("ether2")
	if err != nil {
		t.Fatal(err)
	}
	p2, _ := r.Acquire("ether2")
	p3, _ := r.Acquire("ether3")
	if p1 != p2 || p1 == p3 {
		t.Fatal("Acquire did not share per name")
	}
	if _, err := r.Acquire("missing"); err == nil {
		t.Error("Acquire of a missing interface succeeded")
	}
	if r.Refs("ether2") != 2 || opened["ether2"] != 1 {
		t.Errorf("refs %d, opened %d", r.Refs("ether2"), opened["ether2"])
	}
	if err := r.Release(p1); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p1.Done():
		t.Fatal("port closed while still acquired")
	default:
	}
	if err := r.Release(p2); err != nil {
		t.Fatal(err)
	}
	<-p1.Done()
	if err := r.Release(p1); !errors.Is(err, ErrNotAcquired) && err != nil {
		t.Errorf("third Release = %v", err)
	}
	if fmt.Sprint(r.Names()) != "[ether3]" {
		t.Errorf("Names = %v", r.Names())
	}
	_ = r.Release(p3)
	for _, l := range peers {
		l.Close()
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5s")
		}
		time.Sleep(time.Millisecond)
	}
}

// failingLink fails every read, like a pcap handle on a removed interface.
type failingLink struct {
	Link
	closed chan struct{}
	once   sync.Once
}

func (f *failingLink) ReadFrame([]byte) (int, error) {
	select {
	case <-f.closed:
		return 0, ErrClosed
	default:
		return 0, errors.New("the interface disappeared")
	}
}

func (f *failingLink) Close() error {
	f.once.Do(func() { close(f.closed) })
	return nil
}

func TestPortGivesUpOnFailingLink(t *testing.T) {
	a, b := Pipe()
	defer b.Close()
	fl := &failingLink{Link: a, closed: make(chan struct{})}
	p := NewPort(fl)
	var down, cancelledDown atomic.Int32
	p.Subscribe(func([]byte) bool { return false }).OnDown(func() { down.Add(1) })
	p.Subscribe(func([]byte) bool { return false }).OnDown(func() { cancelledDown.Add(1) }).Cancel()
	select {
	case <-p.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("Port kept reading a failing link")
	}
	if p.Err() == nil || down.Load() != 1 || cancelledDown.Load() != 0 {
		t.Errorf("Err %v, OnDown ran %d times, cancelled hook %d times", p.Err(), down.Load(), cancelledDown.Load())
	}
	if st := p.Stats(); st.ReadErrors != maxReadErrors {
		t.Errorf("ReadErrors = %d, want %d", st.ReadErrors, maxReadErrors)
	}
	// Subscribing to a dead port reports it down at once.
	p.Subscribe(func([]byte) bool { return false }).OnDown(func() { down.Add(1) })
	if down.Load() != 2 {
		t.Error("OnDown on a stopped port did not run")
	}
	if err := p.WriteFrame(frame(1, 2, 0x8863)); !errors.Is(err, ErrClosed) {
		t.Errorf("WriteFrame on a dead port = %v", err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
}
