package dataplane

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// tunnel is two namespaces, each with an Interface, joined by the test
// itself: what one reads is what the other delivers — the two PPP
// endpoints with the wire in between taken out.
type tunnel struct {
	nsA, nsB string
	a, b     *Interface
}

// newTunnel makes a tunnel: A is 10.77.0.1 with peer 10.77.0.2, B the
// other way round.
func newTunnel(tb testing.TB, cfgA, cfgB Config) *tunnel {
	tb.Helper()
	tn := &tunnel{nsA: newNS(tb), nsB: newNS(tb)}
	cfgA.Namespace, cfgA.Local, cfgA.Peer = tn.nsA, addrA, addrB
	cfgB.Namespace, cfgB.Local, cfgB.Peer = tn.nsB, addrB, addrA
	// With offloads the receiving side queues what one read produced
	// and flushes after it, as the engine's receive loop would after a
	// burst of frames.
	if cfgA.Offload {
		cfgA.SendBatchEnd = func() { tn.b.Flush() }
	}
	if cfgB.Offload {
		cfgB.SendBatchEnd = func() { tn.a.Flush() }
	}
	tn.a, tn.b = openT(tb, cfgA), openT(tb, cfgB)
	if err := tn.a.Attach(tn.b.Queue, netip.Addr{}, netip.Addr{}, 0); err != nil {
		tb.Fatal(err)
	}
	if err := tn.b.Attach(tn.a.Queue, netip.Addr{}, netip.Addr{}, 0); err != nil {
		tb.Fatal(err)
	}
	return tn
}

// listenIn listens on TCP in namespace ns; the socket stays there
// whatever thread uses it later.
func listenIn(tb testing.TB, ns, addr string) net.Listener {
	tb.Helper()
	h, err := openNamespace(ns)
	if err != nil {
		tb.Fatal(err)
	}
	defer h.Close()
	var l net.Listener
	if err := inNamespace(h, func() (err error) { l, err = net.Listen("tcp4", addr); return err }); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { l.Close() })
	return l
}

// dialIn connects over TCP from namespace ns.
func dialIn(tb testing.TB, ns, addr string) net.Conn {
	tb.Helper()
	h, err := openNamespace(ns)
	if err != nil {
		tb.Fatal(err)
	}
	defer h.Close()
	var c net.Conn
	err = inNamespace(h, func() (err error) { c, err = net.DialTimeout("tcp4", addr, 5*time.Second); return err })
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// modes are the two ways an Interface moves packets: one per system
// call, and with the device's offloads.
var modes = []struct {
	name    string
	offload bool
}{{"plain", false}, {"offload", true}}

func TestTunnelPingAndTCP(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) { testTunnelPingAndTCP(t, m.offload) })
	}
}

func testTunnelPingAndTCP(t *testing.T, offload bool) {
	checkGoroutines(t)
	// A leaves two bytes before each packet for its sender, as the
	// engine does for the PPP Protocol field.
	tn := newTunnel(t,
		Config{Name: "pppoe-out1", MTU: 1492, ClampMSS: true, Offload: offload, Headroom: 2},
		Config{Name: "<pppoe-MT-User>", MTU: 1492, ClampMSS: true, Offload: offload})

	// What A hands to its session must be what a PPP link carries:
	// whole IPv4 packets within the MTU with their checksums done,
	// whether or not the kernel gave them over as a TSO burst.
	var bad, tcpSegs atomic.Int64
	err := tn.a.Attach(func(frame []byte) error {
		binary.BigEndian.PutUint16(frame, 0x0021) // PPP Protocol: IPv4
		pkt := frame[2:]
		if len(pkt) > 1492 || !validIPv4(pkt) || int(binary.BigEndian.Uint16(pkt[2:])) != len(pkt) {
			bad.Add(1)
		} else if pkt[9] == ipProtoTCP {
			tcpSegs.Add(1)
			if !tcpChecksumOK(pkt) {
				bad.Add(1)
			}
		}
		return tn.b.Queue(pkt)
	}, netip.Addr{}, netip.Addr{}, 0)
	if err != nil {
		t.Fatal(err)
	}

	for _, c := range []*exec.Cmd{
		inNS(tn.nsA, "ping", "-c", "2", "-i", "0.2", "-W", "2", "-s", "1464", "-M", "do", addrB.String()),
		inNS(tn.nsB, "ping", "-c", "2", "-i", "0.2", "-W", "2", addrA.String()),
	} {
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", c.Args, err, out)
		}
	}

	// 16 MiB one way and its digest back, with a real TCP stack at both
	// ends; order and content survive the two readers.
	l := listenIn(t, tn.nsB, addrB.String()+":5001")
	got := make(chan [32]byte, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			close(got)
			return
		}
		defer c.Close()
		h := sha256.New()
		io.Copy(h, c)
		var sum [32]byte
		h.Sum(sum[:0])
		c.Write(sum[:])
		got <- sum
	}()
	data := make([]byte, 16<<20)
	for k := range data {
		data[k] = byte(k*7 + k>>12)
	}
	c := dialIn(t, tn.nsA, addrB.String()+":5001")
	defer c.Close()
	c.SetDeadline(time.Now().Add(60 * time.Second))
	start := time.Now()
	if _, err := c.Write(data); err != nil {
		t.Fatal(err)
	}
	c.(*net.TCPConn).CloseWrite()
	var back [32]byte
	if _, err := io.ReadFull(c, back[:]); err != nil {
		t.Fatalf("reading the digest: %v", err)
	}
	elapsed := time.Since(start)
	if want := sha256.Sum256(data); back != want || <-got != want {
		t.Fatal("the data arrived changed")
	}
	t.Logf("16 MiB through the tunnel in %v: %.2f Gbit/s", elapsed, float64(len(data))*8/elapsed.Seconds()/1e9)
	sa, sb := tn.a.Stats(), tn.b.Stats()
	if sa.TxPackets < uint64(len(data)/1452) || sa.TxPackets != sb.RxPackets || sa.TxBytes != sb.RxBytes || sa.TxErrors+sb.RxErrors+sb.RxDrops != 0 {
		t.Errorf("stats disagree: A %+v, B %+v", sa, sb)
	}
	if n := bad.Load(); n != 0 {
		t.Errorf("A sent %d packets a PPP link cannot carry as they are", n)
	}
	// The kernel's own counters: what it sent into A's device (reads)
	// and what it received from B's (writes). With offloads both are a
	// fraction of the packets the session carried.
	readsA, writesB := kernelStats(t, tn.nsA, tn.a.KernelName()).tx, kernelStats(t, tn.nsB, tn.b.KernelName()).rx
	t.Logf("%d TCP segments carried; the kernel read %d packets from A and wrote %d into B", tcpSegs.Load(), readsA, writesB)
	if offload && (readsA > sa.TxPackets/4 || writesB > sb.RxPackets/4) {
		t.Errorf("offloads not in use: %d packets carried, %d reads, %d writes", sa.TxPackets, readsA, writesB)
	}
	if !offload && (readsA < sa.TxPackets || writesB < sb.RxPackets) {
		t.Errorf("kernel counted %d reads and %d writes for %d packets", readsA, writesB, sa.TxPackets)
	}
}

type linkStats struct{ rx, tx uint64 }

// kernelStats reads a device's packet counters as the kernel keeps them.
func kernelStats(t *testing.T, ns, dev string) linkStats {
	t.Helper()
	var links []struct {
		Stats struct {
			Rx struct{ Packets uint64 } `json:"rx"`
			Tx struct{ Packets uint64 } `json:"tx"`
		} `json:"stats64"`
	}
	if err := json.Unmarshal([]byte(run(t, "ip", "-n", ns, "-s", "-j", "link", "show", "dev", dev)), &links); err != nil || len(links) != 1 {
		t.Fatalf("ip -s -j link show dev %s: %v", dev, err)
	}
	return linkStats{rx: links[0].Stats.Rx.Packets, tx: links[0].Stats.Tx.Packets}
}

// iperf3 across the tunnel, both ways, when it is installed.
func TestTunnelIperf3(t *testing.T) {
	if _, err := exec.LookPath("iperf3"); err != nil {
		t.Skip("iperf3 not installed (make deps)")
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) { testTunnelIperf3(t, m.offload) })
	}
}

func testTunnelIperf3(t *testing.T, offload bool) {
	checkGoroutines(t)
	tn := newTunnel(t,
		Config{Name: "pppoe-out1", MTU: 1492, ClampMSS: true, Offload: offload},
		Config{Name: "<pppoe-MT-User>", MTU: 1492, ClampMSS: true, Offload: offload})
	srv := inNS(tn.nsB, "iperf3", "-s", "--forceflush", "-B", addrB.String(), "-p", "5201")
	out, _ := srv.StdoutPipe()
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	ready := make(chan struct{})
	go func() {
		s := bufio.NewScanner(out)
		for s.Scan() {
			if strings.Contains(s.Text(), "listening") {
				close(ready)
				break
			}
		}
		io.Copy(io.Discard, out)
	}()
	select {
	case <-ready:
	case <-time.After(5 * time.Second):
		t.Fatal("iperf3 server did not start")
	}
	for _, dir := range []struct {
		name string
		args []string
	}{{"A→B", nil}, {"B→A", []string{"-R"}}} {
		args := append([]string{"-c", addrB.String(), "-p", "5201", "-t", "2", "-J"}, dir.args...)
		res, err := inNS(tn.nsA, "iperf3", args...).Output()
		if err != nil {
			t.Fatalf("iperf3 %s: %v\n%s", dir.name, err, res)
		}
		var r struct {
			End struct {
				SumReceived struct {
					BitsPerSecond float64 `json:"bits_per_second"`
				} `json:"sum_received"`
			} `json:"end"`
		}
		if err := json.Unmarshal(res, &r); err != nil {
			t.Fatalf("iperf3 output: %v\n%s", err, res)
		}
		bps := r.End.SumReceived.BitsPerSecond
		t.Logf("iperf3 TCP %s at MTU 1492: %.2f Gbit/s", dir.name, bps/1e9)
		if bps < 50e6 {
			t.Errorf("iperf3 %s: %.0f bit/s, the tunnel is broken", dir.name, bps)
		}
	}
}

// tcpdumpIn captures, in namespace ns on device dev, count TCP segments
// with SYN the device received (what Deliver wrote), printing options
// and checksum verdicts; wait returns the text.
func tcpdumpIn(t *testing.T, ns, dev string, count int) (wait func() string) {
	t.Helper()
	if _, err := exec.LookPath("tcpdump"); err != nil {
		t.Skip("tcpdump not installed (make deps)")
	}
	c := inNS(ns, "tcpdump", "-l", "-nn", "-vv", "-Q", "in", "-i", dev, "-c", fmt.Sprint(count), "tcp[tcpflags] & tcp-syn != 0")
	var stdout bytes.Buffer
	c.Stdout = &stdout
	stderr, _ := c.StderrPipe()
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Process.Kill(); c.Wait() })
	ready := make(chan struct{})
	go func() {
		s := bufio.NewScanner(stderr)
		for s.Scan() {
			if strings.Contains(s.Text(), "listening on") {
				close(ready)
				break
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatal("tcpdump did not start")
	}
	return func() string {
		done := make(chan error, 1)
		go func() { done <- c.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			c.Process.Kill()
			<-done
			t.Errorf("tcpdump captured fewer than %d segments:\n%s", count, stdout.String())
		}
		return stdout.String()
	}
}

// change-tcp-mss on real traffic: A (MTU 1480, clamping) and B (MTU
// 1500, not clamping). Every SYN and SYN-ACK that crosses A arrives with
// MSS 1440, whichever way it goes, and the connections work, so the
// checksums are right (tcpdump agrees).
func TestMSSClampOnTraffic(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) { testMSSClampOnTraffic(t, m.offload) })
	}
}

func testMSSClampOnTraffic(t *testing.T, offload bool) {
	checkGoroutines(t)
	tn := newTunnel(t, Config{Name: "clamp", MTU: 1480, ClampMSS: true, Offload: offload}, Config{Name: "plain", MTU: 1500, Offload: offload})
	// A's SYNs announce 1460 towards B's second address, as if A's MTU
	// were 1500, so that A's own clamp is what lowers them.
	run(t, "ip", "-n", tn.nsB, "addr", "add", "198.51.100.1/32", "dev", "plain")
	run(t, "ip", "-n", tn.nsA, "route", "add", "198.51.100.0/24", "dev", "clamp", "advmss", "1460")

	// The forwarder from B to A notes the MSS of each SYN before and
	// after A.Deliver clamps it in place.
	type seen struct{ before, after uint16 }
	var mu sync.Mutex
	var fromB []seen
	if err := tn.b.Attach(func(pkt []byte) error {
		syn := len(pkt) >= 40 && pkt[9] == ipProtoTCP && pkt[33]&tcpFlagSYN != 0
		var s seen
		if syn {
			s.before, _ = mssOf(pkt)
		}
		err := tn.a.Deliver(pkt)
		if syn {
			s.after, _ = mssOf(pkt)
			if !tcpChecksumOK(pkt) {
				s.after = 0
			}
			mu.Lock()
			fromB = append(fromB, s)
			mu.Unlock()
		}
		return err
	}, netip.Addr{}, netip.Addr{}, 0); err != nil {
		t.Fatal(err)
	}

	capA := tcpdumpIn(t, tn.nsA, "clamp", 2)
	capB := tcpdumpIn(t, tn.nsB, "plain", 2)
	lB := listenIn(t, tn.nsB, "0.0.0.0:5002")
	lA := listenIn(t, tn.nsA, addrA.String()+":5003")
	for _, l := range []net.Listener{lA, lB} {
		go func() {
			if c, err := l.Accept(); err == nil {
				c.Write([]byte("ok"))
				c.Close()
			}
		}()
	}
	for _, d := range []struct{ ns, addr string }{
		{tn.nsA, "198.51.100.1:5002"},      // SYN A→B, SYN-ACK B→A
		{tn.nsB, addrA.String() + ":5003"}, // SYN B→A, SYN-ACK A→B
	} {
		c := dialIn(t, d.ns, d.addr)
		c.SetDeadline(time.Now().Add(5 * time.Second))
		b, err := io.ReadAll(c)
		c.Close()
		if err != nil || string(b) != "ok" {
			t.Fatalf("connection to %s: %q, %v", d.addr, b, err)
		}
	}
	inA, inB := capA(), capB()
	t.Logf("received in A:\n%s\nreceived in B:\n%s", inA, inB)
	for name, text := range map[string]string{"A": inA, "B": inB} {
		if strings.Count(text, "mss 1440") != 2 || strings.Contains(text, "mss 1460") {
			t.Errorf("%s received SYNs with MSS other than 1440:\n%s", name, text)
		}
		if strings.Contains(text, "incorrect") {
			t.Errorf("%s received a bad checksum:\n%s", name, text)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(fromB) != 2 {
		t.Fatalf("B forwarded %d SYNs, want 2: %v", len(fromB), fromB)
	}
	for _, s := range fromB {
		if s.before != 1460 || s.after != 1440 {
			t.Errorf("SYN from B: MSS %d before A.Deliver, %d after (0: bad checksum); want 1460 → 1440", s.before, s.after)
		}
	}
}
