package dataplane

import (
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// SPEC §5 dial-on-demand: the interface and a default route via the
// 10.112.112.x placeholder exist before dialing; the first outbound
// packet dials; the session's addresses replace the placeholders and the
// route stays; after the session the placeholders come back and the
// next packet dials again.
func TestDialOnDemand(t *testing.T) {
	checkGoroutines(t)
	ns := newNS(t)
	placeLocal, placePeer := Placeholder(3)
	dial := make(chan struct{}, 8)
	var fired atomic.Int32
	ifc := openT(t, Config{
		Name: "pppoe-out1", Namespace: ns, MTU: 1480, Local: placeLocal, Peer: placePeer, ClampMSS: true,
		OnFirstPacket: func() {
			fired.Add(1)
			select {
			case dial <- struct{}{}:
			default:
			}
		},
	})
	k := ifc.KernelName()
	def := Route{Dst: netip.MustParsePrefix("0.0.0.0/0"), Metric: 1}
	if err := ifc.AddRoute(def); err != nil {
		t.Fatal(err)
	}
	defRoute := "default dev " + k + " scope link metric 1"
	expect := func(what string, args []string, want, notWant string) {
		t.Helper()
		out := run(t, "ip", append([]string{"-n", ns, "-4"}, args...)...)
		if want != "" && !strings.Contains(out, want) {
			t.Errorf("%s: no %q in\n%s", what, want, out)
		}
		if notWant != "" && strings.Contains(out, notWant) {
			t.Errorf("%s: %q still in\n%s", what, notWant, out)
		}
	}
	placeAddr := "inet " + placeLocal.String() + " peer " + placePeer.String() + "/32"
	expect("before dialing", []string{"addr", "show", "dev", k}, placeAddr, "")
	expect("before dialing", []string{"route"}, defRoute, "")

	time.Sleep(100 * time.Millisecond)
	if fired.Load() != 0 {
		t.Fatal("OnFirstPacket fired before any packet was sent")
	}
	// Three packets towards the internet: the first dials, all three
	// are dropped, the dial is asked for once.
	if out, err := inNS(ns, "ping", "-c", "3", "-i", "0.2", "-W", "1", "192.0.2.9").CombinedOutput(); err == nil {
		t.Fatalf("ping answered with no session attached:\n%s", out)
	}
	select {
	case <-dial:
	case <-time.After(2 * time.Second):
		t.Fatal("OnFirstPacket did not fire")
	}
	if n := fired.Load(); n != 1 {
		t.Errorf("OnFirstPacket fired %d times, want 1", n)
	}
	if st := ifc.Stats(); st.TxDrops < 3 || st.TxPackets != 0 {
		t.Errorf("stats while detached %+v, want ≥ 3 tx drops and no tx packets", st)
	}

	// The session is up: its addresses replace the placeholders.
	var sent atomic.Int64
	send := func(pkt []byte) error {
		sent.Add(1)
		if echoResponder(pkt) {
			return ifc.Deliver(pkt)
		}
		return nil
	}
	if err := ifc.Attach(send, addrA, addrB, 1460); err != nil {
		t.Fatal(err)
	}
	if ifc.MTU() != 1460 {
		t.Errorf("MTU %d after Attach, want 1460", ifc.MTU())
	}
	expect("attached", []string{"addr", "show", "dev", k}, "inet 10.77.0.1 peer 10.77.0.2/32", placeLocal.String())
	expect("attached", []string{"route"}, defRoute, "")
	expect("attached", []string{"link", "show", "dev", k}, "mtu 1460", "")
	for _, dst := range []string{"192.0.2.9", addrB.String()} {
		if out, err := inNS(ns, "ping", "-c", "1", "-W", "2", dst).CombinedOutput(); err != nil {
			t.Errorf("ping %s through the session: %v\n%s", dst, err, out)
		}
	}

	// A new session with the same peer and another local address: the
	// old pair goes first (the new one would be its secondary), the
	// route is put back.
	if err := ifc.Attach(send, netip.MustParseAddr("10.77.0.9"), addrB, 0); err != nil {
		t.Fatal(err)
	}
	expect("same peer", []string{"addr", "show", "dev", k}, "inet 10.77.0.9 peer 10.77.0.2/32", "10.77.0.1")
	expect("same peer", []string{"route"}, defRoute, "")
	if l, p := ifc.Addrs(); l != netip.MustParseAddr("10.77.0.9") || p != addrB {
		t.Errorf("Addrs() = %v, %v", l, p)
	}

	// The session ends: the SendFunc is not called any more, the
	// placeholders return, the next packet dials again.
	ifc.Detach()
	before := sent.Load()
	if err := ifc.SetAddrs(placeLocal, placePeer); err != nil {
		t.Fatal(err)
	}
	expect("detached", []string{"addr", "show", "dev", k}, placeAddr, "10.77.0.9")
	expect("detached", []string{"route"}, defRoute, "")
	if out, err := inNS(ns, "ping", "-c", "2", "-i", "0.2", "-W", "1", "192.0.2.9").CombinedOutput(); err == nil {
		t.Fatalf("ping answered after Detach:\n%s", out)
	}
	select {
	case <-dial:
	case <-time.After(2 * time.Second):
		t.Fatal("OnFirstPacket did not fire again after Detach")
	}
	if n := fired.Load(); n != 2 {
		t.Errorf("OnFirstPacket fired %d times in all, want 2", n)
	}
	if sent.Load() != before {
		t.Errorf("the detached SendFunc was called %d more times", sent.Load()-before)
	}
	if ifc.Attached() {
		t.Error("Attached() after Detach")
	}
}
