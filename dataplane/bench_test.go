package dataplane

import (
	"fmt"
	"io"
	"net"
	"os/exec"
	"sync/atomic"
	"testing"
	"time"
)

// echoBench is an Interface whose SendFunc counts the kernel's echo
// replies to requests written with Deliver: one packet through the whole
// data path each way (Deliver → device → kernel → device → reader →
// SendFunc).
type echoBench struct {
	ifc     *Interface
	replies atomic.Int64
	signal  chan struct{}
	req     []byte
	timeout *time.Timer // reused: a fresh time.After would allocate
}

func newEchoBench(tb testing.TB, offload bool) *echoBench {
	tb.Helper()
	e := &echoBench{signal: make(chan struct{}, 1)}
	e.ifc = openT(tb, Config{Name: "bench", Namespace: newNS(tb), MTU: 1500, Local: addrA, Peer: addrB, ClampMSS: true, Offload: offload})
	err := e.ifc.Attach(func(pkt []byte) error {
		if len(pkt) >= 28 && pkt[9] == 1 && pkt[20] == 0 {
			e.replies.Add(1)
			select {
			case e.signal <- struct{}{}:
			default:
			}
		}
		return nil
	}, addrA, addrB, 0)
	if err != nil {
		tb.Fatal(err)
	}
	e.req = icmpEcho(addrB, addrA, 8, 1, 1, make([]byte, 56))
	e.timeout = time.NewTimer(time.Hour)
	return e
}

// roundTrip delivers one request and waits for its reply.
func (e *echoBench) roundTrip(tb testing.TB) {
	want := e.replies.Load() + 1
	if err := e.ifc.Deliver(e.req); err != nil {
		tb.Fatal(err)
	}
	e.timeout.Reset(5 * time.Second)
	for e.replies.Load() < want {
		select {
		case <-e.signal:
		case <-e.timeout.C:
			tb.Fatal("no echo reply")
		}
	}
}

// The data path allocates nothing per packet: Deliver, the kernel's
// reply, the reader and the SendFunc, counted across all goroutines.
func TestZeroAllocsPerPacket(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			e := newEchoBench(t, m.offload)
			for range 10 {
				e.roundTrip(t) // warm up: the reader's buffer, the poller
			}
			if n := testing.AllocsPerRun(500, func() { e.roundTrip(t) }); n != 0 {
				t.Errorf("%.2f allocations per packet round trip, want 0", n)
			}
		})
	}
}

// A rate-limited session's data path allocates nothing per packet
// either: a limit far above the traffic (every packet passes the
// shaper) and byte quotas being counted.
func TestZeroAllocsPerPacketLimited(t *testing.T) {
	rl, _ := ParseRateLimit("10G/10G 20G/20G 5G/5G 1/1")
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			e := newEchoBench(t, m.offload)
			e.ifc.SetRateLimit(rl)
			e.ifc.SetQuota(1<<40, 1<<40, func(bool) { t.Error("quota used up") })
			for range 10 {
				e.roundTrip(t)
			}
			if n := testing.AllocsPerRun(500, func() { e.roundTrip(t) }); n != 0 {
				t.Errorf("%.2f allocations per packet round trip, want 0", n)
			}
			if st, ok := e.ifc.ShaperStats(); !ok || st.Rx.Packets < 500 || st.Tx.Packets < 500 {
				t.Errorf("shaper saw %+v (ok %v), want ≥ 500 packets each way", st, ok)
			}
		})
	}
}

// BenchmarkEchoRoundTrip: one echo request in with Deliver and its reply
// out through the reader, one at a time — the latency of the pump.
func BenchmarkEchoRoundTrip(b *testing.B) {
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			e := newEchoBench(b, m.offload)
			e.roundTrip(b)
			b.ReportAllocs()
			for b.Loop() {
				e.roundTrip(b)
			}
		})
	}
}

// BenchmarkEchoPipelined keeps up to 64 requests in flight: the cost per
// packet of the pump when it is busy (two packets cross the device per
// op).
func BenchmarkEchoPipelined(b *testing.B) {
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) { benchEchoPipelined(b, m.offload) })
	}
}

func benchEchoPipelined(b *testing.B, offload bool) {
	e := newEchoBench(b, offload)
	e.roundTrip(b)
	base := e.replies.Load()
	b.ReportAllocs()
	sent := int64(0)
	for b.Loop() {
		if sent-(e.replies.Load()-base) >= 64 {
			e.timeout.Reset(5 * time.Second)
			for sent-(e.replies.Load()-base) >= 64 {
				select {
				case <-e.signal:
				case <-e.timeout.C:
					b.Fatal("replies stopped")
				}
			}
		}
		if err := e.ifc.Deliver(e.req); err != nil {
			b.Fatal(err)
		}
		sent++
	}
	deadline := time.Now().Add(5 * time.Second)
	for e.replies.Load()-base < sent && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if lost := sent - (e.replies.Load() - base); lost > 0 {
		b.Logf("%d of %d replies lost", lost, sent)
	}
}

// BenchmarkTunnelTCP: one TCP stream from namespace A to namespace B
// across two Interfaces joined back to back (each reader delivers into
// the other device), at MTU 1492 with change-tcp-mss on. Reports Gbit/s.
//
// limit=10G puts a rate limit far above what the tunnel carries on A's
// sending side and B's receiving side (SetRateLimit): the cost of the
// shaper's bookkeeping on a session it never has to hold back, to compare
// with limit=none.
func BenchmarkTunnelTCP(b *testing.B) {
	tenG, _ := ParseRateLimit("10G/10G")
	for _, offload := range []bool{false, true} {
		for _, lim := range []string{"none", "10G"} {
			b.Run(fmt.Sprintf("offload=%v/limit=%s", offload, lim), func(b *testing.B) {
				tn := newTunnel(b,
					Config{Name: "pppoe-out1", MTU: 1492, ClampMSS: true, Offload: offload},
					Config{Name: "<pppoe-MT-User>", MTU: 1492, ClampMSS: true, Offload: offload})
				if lim != "none" {
					tn.a.SetRateLimit(tenG)
					tn.b.SetRateLimit(tenG)
				}
				benchTCP(b, tn.nsA, tn.nsB, addrB.String())
			})
		}
	}
}

// BenchmarkVethTCP is the baseline: the same stream over a bare veth
// pair between two namespaces at MTU 1492, segmentation and checksum
// offloads off (as a TUN has none).
func BenchmarkVethTCP(b *testing.B) {
	nsA, nsB := newNS(b), newNS(b)
	run(b, "ip", "-n", nsA, "link", "add", "va", "type", "veth", "peer", "name", "vb", "netns", nsB)
	for _, s := range []struct{ ns, dev, addr string }{{nsA, "va", "10.78.0.1/24"}, {nsB, "vb", "10.78.0.2/24"}} {
		run(b, "ip", "-n", s.ns, "link", "set", s.dev, "mtu", "1492", "up")
		run(b, "ip", "-n", s.ns, "addr", "add", s.addr, "dev", s.dev)
		if _, err := exec.LookPath("ethtool"); err == nil {
			inNS(s.ns, "ethtool", "-K", s.dev, "tso", "off", "gso", "off", "gro", "off", "tx", "off", "rx", "off").Run()
		}
	}
	benchTCP(b, nsA, nsB, "10.78.0.2")
}

// benchTCP streams b.N 64 KiB writes from nsA to dst in nsB.
func benchTCP(b *testing.B, nsA, nsB, dst string) {
	const chunk = 64 << 10
	l := listenIn(b, nsB, dst+":5004")
	got := make(chan int64, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			got <- -1
			return
		}
		n, _ := io.Copy(io.Discard, c)
		c.Close()
		got <- n
	}()
	c := dialIn(b, nsA, dst+":5004")
	defer c.Close()
	buf := make([]byte, chunk)
	b.SetBytes(chunk)
	start := time.Now()
	for b.Loop() {
		if _, err := c.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
	c.(*net.TCPConn).CloseWrite()
	n := <-got
	elapsed := time.Since(start)
	if want := int64(b.N) * chunk; n != want {
		b.Fatalf("received %d bytes, sent %d", n, want)
	}
	b.ReportMetric(float64(n)*8/elapsed.Seconds()/1e9, "Gbit/s")
}

// BenchmarkOpenClose makes and removes TUN devices in one namespace from
// many goroutines at once, as an access concentrator does when thousands
// of subscribers come back together: what a TUN adds to a session's
// setup. Each op is one Open and one Close; 1,000 devices stay open
// throughout, so the kernel works with a populated device table.
func BenchmarkOpenClose(b *testing.B) {
	ns := newNS(b)
	for n := range 1000 {
		local, peer := Placeholder(n)
		openT(b, Config{Name: fmt.Sprintf("<pppoe-idle-%d>", n), Namespace: ns, Local: local, Peer: peer, Offload: true})
	}
	var seq, opening, closing atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := int(seq.Add(1))
			local, peer := Placeholder(n)
			t0 := time.Now()
			ifc, err := Open(Config{Name: fmt.Sprintf("<pppoe-b-%d>", n), Namespace: ns, MTU: 1480, Local: local, Peer: peer, Offload: true})
			if err != nil {
				b.Error(err)
				return
			}
			t1 := time.Now()
			if err := ifc.Close(); err != nil {
				b.Error(err)
			}
			opening.Add(int64(t1.Sub(t0)))
			closing.Add(int64(time.Since(t1)))
		}
	})
	// What each took, waiting included: the close is mostly the
	// kernel's (device unregistration waits for RCU), and other
	// processes' RTNL holders delay both.
	b.ReportMetric(float64(opening.Load())/float64(b.N)/1e6, "open-ms")
	b.ReportMetric(float64(closing.Load())/float64(b.N)/1e6, "close-ms")
}
