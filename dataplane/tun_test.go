package dataplane

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	addrA = netip.MustParseAddr("10.77.0.1")
	addrB = netip.MustParseAddr("10.77.0.2")
)

func TestOpenAddressesRoutesClose(t *testing.T) {
	checkGoroutines(t)
	ns := newNS(t)
	ifc, err := Open(Config{Name: "<pppoe-MT-User>", Namespace: ns, MTU: 1480, Local: addrA, Peer: addrB})
	if err != nil {
		t.Fatal(err)
	}
	defer ifc.Close()
	k := ifc.KernelName()
	if k != "pppoe-MT-User" {
		t.Errorf("kernel name %q, want pppoe-MT-User", k)
	}
	link := run(t, "ip", "-n", ns, "-d", "link", "show", "dev", k)
	for _, want := range []string{"mtu 1480", "UP", "tun type tun pi off vnet_hdr off"} {
		if !strings.Contains(link, want) {
			t.Errorf("ip link: no %q in\n%s", want, link)
		}
	}
	addr := run(t, "ip", "-n", ns, "-4", "addr", "show", "dev", k)
	if !strings.Contains(addr, "inet 10.77.0.1 peer 10.77.0.2/32") {
		t.Errorf("ip addr: no point-to-point address in\n%s", addr)
	}
	// The session carries IPv4 only: IPv6 is off on the device, so it
	// has no link-local address and no IPv6 routes (each one made every
	// later device's setup slower).
	if v6 := run(t, "ip", "-n", ns, "-6", "addr", "show", "dev", k); strings.TrimSpace(v6) != "" {
		t.Errorf("ip -6 addr: want nothing, got\n%s", v6)
	}
	if v6 := run(t, "ip", "-n", ns, "-6", "route", "show", "table", "all", "dev", k); strings.TrimSpace(v6) != "" {
		t.Errorf("ip -6 route: want nothing through the device, got\n%s", v6)
	}
	if off := run(t, "ip", "netns", "exec", ns, "sysctl", "-n", "net.ipv6.conf."+k+".disable_ipv6"); strings.TrimSpace(off) != "1" {
		t.Errorf("disable_ipv6 = %q, want 1", off)
	}

	def := Route{Dst: netip.MustParsePrefix("0.0.0.0/0"), Metric: 7}
	secret := Route{Dst: netip.MustParsePrefix("192.0.2.77/24"), Metric: 1}
	viaPeer := Route{Dst: netip.MustParsePrefix("198.51.100.0/24"), Gateway: addrB, Metric: 3}
	for _, r := range []Route{def, secret, viaPeer} {
		if err := ifc.AddRoute(r); err != nil {
			t.Fatalf("AddRoute(%v): %v", r, err)
		}
	}
	if err := ifc.AddRoute(def); err == nil {
		t.Error("adding the default route twice succeeded")
	}
	routes := run(t, "ip", "-n", ns, "-4", "route", "show")
	for _, want := range []string{
		"default dev " + k + " scope link metric 7",
		"192.0.2.0/24 dev " + k + " scope link metric 1",
		"198.51.100.0/24 via 10.77.0.2 dev " + k + " metric 3",
	} {
		if !strings.Contains(routes, want) {
			t.Errorf("ip route: no %q in\n%s", want, routes)
		}
	}
	if err := ifc.DelRoute(secret); err != nil {
		t.Fatal(err)
	}
	if routes := run(t, "ip", "-n", ns, "-4", "route", "show"); strings.Contains(routes, "192.0.2.0/24") {
		t.Errorf("route still there after DelRoute:\n%s", routes)
	}
	if got := ifc.Routes(); len(got) != 2 {
		t.Errorf("Routes() = %v, want the default and the gateway route", got)
	}

	if err := ifc.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if out, err := exec.Command("ip", "-n", ns, "link", "show", "dev", k).CombinedOutput(); err == nil {
		t.Errorf("device still there after Close:\n%s", out)
	}
	if routes := run(t, "ip", "-n", ns, "-4", "route", "show"); strings.TrimSpace(routes) != "" {
		t.Errorf("routes left after Close:\n%s", routes)
	}
	select {
	case <-ifc.Done():
	default:
		t.Error("reader still running after Close")
	}
	if err := ifc.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := ifc.AddRoute(def); !errors.Is(err, ErrClosed) {
		t.Errorf("AddRoute after Close: %v, want ErrClosed", err)
	}
	if err := ifc.Deliver(icmpEcho(addrB, addrA, 8, 1, 1, nil)); !errors.Is(err, ErrClosed) {
		t.Errorf("Deliver after Close: %v, want ErrClosed", err)
	}
}

func TestOpenErrors(t *testing.T) {
	checkGoroutines(t)
	ns := newNS(t)
	for _, tc := range []struct {
		name string
		cfg  Config
		want error
	}{
		{"mtu too small", Config{Name: "x", Namespace: ns, MTU: 40}, ErrBadConfig},
		{"kernel name too long", Config{KernelName: "a-very-long-kernel-name", Namespace: ns}, ErrBadConfig},
		{"kernel name with slash", Config{KernelName: "a/b", Namespace: ns}, ErrBadConfig},
		{"local without peer", Config{Name: "x", Namespace: ns, Local: addrA}, ErrBadConfig},
		{"ipv6 peer", Config{Name: "x", Namespace: ns, Local: addrA, Peer: netip.MustParseAddr("fe80::1")}, ErrBadConfig},
		{"headroom", Config{Name: "x", Namespace: ns, Headroom: 1000}, ErrBadConfig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if ifc, err := Open(tc.cfg); !errors.Is(err, tc.want) {
				if ifc != nil {
					ifc.Close()
				}
				t.Errorf("Open: %v, want %v", err, tc.want)
			}
		})
	}
	t.Run("name in use", func(t *testing.T) {
		openT(t, Config{Name: "pppoe-a", Namespace: ns})
		ifc, err := Open(Config{Name: "<pppoe-a>", Namespace: ns})
		if !errors.Is(err, ErrNameInUse) {
			if ifc != nil {
				ifc.Close()
			}
			t.Errorf("second Open of the same kernel name: %v, want ErrNameInUse", err)
		}
		run(t, "ip", "-n", ns, "link", "add", "ether1", "type", "veth", "peer", "name", "ether1p")
		if ifc, err := Open(Config{Name: "ether1", Namespace: ns}); !errors.Is(err, ErrNameInUse) {
			if ifc != nil {
				ifc.Close()
			}
			t.Errorf("Open over a veth device: %v, want ErrNameInUse", err)
		}
		if out := run(t, "ip", "-n", ns, "-d", "link", "show", "ether1"); !strings.Contains(out, "veth") {
			t.Errorf("the veth device was disturbed:\n%s", out)
		}
	})
	t.Run("no such namespace", func(t *testing.T) {
		if _, err := Open(Config{Name: "x", Namespace: "no-such-ns-rosh"}); err == nil {
			t.Error("Open in a missing namespace succeeded")
		}
	})
}

// capture is a SendFunc that keeps copies of what it is given.
type capture struct {
	mu   sync.Mutex
	pkts [][]byte
	ch   chan []byte
}

func newCapture() *capture { return &capture{ch: make(chan []byte, 64)} }

func (c *capture) send(pkt []byte) error {
	p := append([]byte(nil), pkt...)
	select {
	case c.ch <- p:
	default:
	}
	return nil
}

// next waits for a packet that match accepts.
func (c *capture) next(t *testing.T, match func([]byte) bool) []byte {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case p := <-c.ch:
			if match(p) {
				return p
			}
		case <-deadline:
			t.Fatal("no matching packet came out of the interface")
			return nil
		}
	}
}

func isICMP(typ byte) func([]byte) bool {
	return func(p []byte) bool { return len(p) >= 28 && p[9] == 1 && p[20] == typ }
}

// The kernel answers an echo request written with Deliver, and the reply
// comes out of the reader, whole and with valid checksums.
func TestDeliverEchoReply(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) { testDeliverEchoReply(t, m.offload) })
	}
}

func testDeliverEchoReply(t *testing.T, offload bool) {
	checkGoroutines(t)
	ns := newNS(t)
	c := newCapture()
	ifc := openT(t, Config{Name: "PPPoE-Out", Namespace: ns, MTU: 1480, Local: addrA, Peer: addrB, Offload: offload})
	if err := ifc.Attach(c.send, netip.Addr{}, netip.Addr{}, 0); err != nil {
		t.Fatal(err)
	}
	payload := []byte("rosh dataplane echo 0123456789")
	req := icmpEcho(addrB, addrA, 8, 0x4242, 7, payload)
	if err := ifc.Deliver(req); err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	rep := c.next(t, isICMP(0))
	if !validIPv4(rep) {
		t.Errorf("reply's IP header checksum is wrong: % x", rep[:20])
	}
	if checksum(rep[20:], 0) != 0 {
		t.Errorf("reply's ICMP checksum is wrong: % x", rep[20:])
	}
	if src, dst := netip.AddrFrom4([4]byte(rep[12:16])), netip.AddrFrom4([4]byte(rep[16:20])); src != addrA || dst != addrB {
		t.Errorf("reply %v → %v, want %v → %v", src, dst, addrA, addrB)
	}
	if id, seq := binary.BigEndian.Uint16(rep[24:]), binary.BigEndian.Uint16(rep[26:]); id != 0x4242 || seq != 7 || !bytes.Equal(rep[28:], payload) {
		t.Errorf("reply id %#x seq %d payload %q", id, seq, rep[28:])
	}
	st := ifc.Stats()
	if st.RxPackets != 1 || st.RxBytes != uint64(len(req)) || st.TxPackets < 1 || st.TxBytes < uint64(len(rep)) {
		t.Errorf("stats %+v", st)
	}
	if err := ifc.Deliver([]byte{0x60, 0, 0}); !errors.Is(err, ErrNotIPv4) {
		t.Errorf("Deliver(IPv6 scrap) = %v, want ErrNotIPv4", err)
	}
	if st := ifc.Stats(); st.RxDrops != 1 {
		t.Errorf("rx drops %d, want 1", st.RxDrops)
	}
}

// ping in the namespace goes out through the interface to the SendFunc,
// which answers it as the peer would.
func TestPingFromNamespace(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) { testPingFromNamespace(t, m.offload) })
	}
}

func testPingFromNamespace(t *testing.T, offload bool) {
	checkGoroutines(t)
	ns := newNS(t)
	var ifc *Interface
	var seen sync.Map
	ifc = openT(t, Config{Name: "ping-out", Namespace: ns, MTU: 1492, Local: addrA, Peer: addrB, Offload: offload})
	err := ifc.Attach(func(pkt []byte) error {
		seen.Store(string(pkt[12:20]), true)
		if echoResponder(pkt) {
			return ifc.Deliver(pkt)
		}
		return nil
	}, netip.Addr{}, netip.Addr{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	out, err := inNS(ns, "ping", "-c", "3", "-i", "0.2", "-W", "2", "-s", "1400", addrB.String()).CombinedOutput()
	if err != nil {
		t.Fatalf("ping: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "3 received") {
		t.Errorf("ping:\n%s", out)
	}
	if _, ok := seen.Load(string(append(addrA.AsSlice(), addrB.AsSlice()...))); !ok {
		t.Error("the SendFunc never saw a packet from local to peer")
	}
	if st := ifc.Stats(); st.TxPackets < 3 || st.RxPackets < 3 {
		t.Errorf("stats %+v", st)
	}
}

// A device deleted behind the Interface's back stops the reader with an
// error; Close still cleans up.
func TestDeviceDeletedUnderneath(t *testing.T) {
	checkGoroutines(t)
	ns := newNS(t)
	ifc := openT(t, Config{Name: "gone", Namespace: ns, Local: addrA, Peer: addrB})
	run(t, "ip", "-n", ns, "link", "del", "gone")
	select {
	case <-ifc.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("reader did not stop when the device was deleted")
	}
	if ifc.Err() == nil {
		t.Error("Err() = nil after the device went away")
	}
}

// Close unblocks an idle reader and leaves neither goroutines nor
// devices nor file descriptors behind, for many interfaces at once; while
// open, each costs one descriptor, its device's (the namespace's devices
// share one netlink socket), so 10,000 sessions fit a 20,000 limit.
func TestCloseMany(t *testing.T) {
	checkGoroutines(t)
	ns := newNS(t)
	before := openFDs(t)
	var ifcs []*Interface
	for n := range 20 {
		local, peer := Placeholder(n)
		ifc, err := Open(Config{Name: "<pppoe-subscriber-" + string(rune('a'+n)) + ">", Namespace: ns, Local: local, Peer: peer})
		if err != nil {
			t.Fatal(err)
		}
		ifcs = append(ifcs, ifc)
	}
	if out := run(t, "ip", "-n", ns, "-br", "link"); strings.Count(out, "pppoe-su-") != 20 {
		t.Errorf("want 20 devices:\n%s", out)
	}
	// One netlink socket for the namespace, one device file each.
	if n := openFDs(t) - before; n != 20+1 {
		t.Errorf("20 open interfaces hold %d file descriptors, want 21", n)
	}
	for _, ifc := range ifcs {
		if err := ifc.Close(); err != nil {
			t.Error(err)
		}
	}
	if out := run(t, "ip", "-n", ns, "-br", "link"); strings.Contains(out, "pppoe") {
		t.Errorf("devices left:\n%s", out)
	}
	if n := openFDs(t) - before; n != 0 {
		t.Errorf("%d file descriptors left open", n)
	}
}

// openFDs counts the process's open file descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// With Offload the device has a virtio_net_hdr and offers the kernel TSO
// and checksum offload.
func TestOpenOffload(t *testing.T) {
	checkGoroutines(t)
	ns := newNS(t)
	ifc := openT(t, Config{Name: "pppoe-out1", Namespace: ns, MTU: 1492, Local: addrA, Peer: addrB, Offload: true})
	if out := run(t, "ip", "-n", ns, "-d", "link", "show", "dev", ifc.KernelName()); !strings.Contains(out, "vnet_hdr on") {
		t.Errorf("no vnet_hdr:\n%s", out)
	}
	if _, err := exec.LookPath("ethtool"); err != nil {
		return
	}
	out, err := inNS(ns, "ethtool", "-k", ifc.KernelName()).CombinedOutput()
	if err != nil {
		t.Fatalf("ethtool: %v\n%s", err, out)
	}
	for _, want := range []string{"tx-tcp-segmentation: on", "tx-checksumming: on", "tx-tcp6-segmentation: off"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("ethtool -k: no %q in\n%s", want, out)
		}
	}
}
