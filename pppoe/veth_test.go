//go:build linux

package pppoe

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/vishvananda/netns"

	"rosh/link"
	"rosh/nstest"
)

// newVethNet joins an AC-side port and a client-side port by a veth pair
// between two network namespaces made for the test (nstest.NewPair):
// "ether3" in the AC's namespace with MAC 02:ab:cd:00:00:01, "ether2" in the
// client's with 02:ab:cd:00:00:02, as in SPEC §6.
func newVethNet(t testing.TB) *testNet { return newVethNetCapture(t, true) }

// newVethNetCapture is newVethNet, with the AC side recorded for a failure
// dump only if capture is set (a flood would fill memory with it).
func newVethNetCapture(t testing.TB, capture bool) *testNet {
	t.Helper()
	p := nstest.NewPair(t, nstest.MACs(
		net.HardwareAddr{0x02, 0xab, 0xcd, 0, 0, 1},
		net.HardwareAddr{0x02, 0xab, 0xcd, 0, 0, 2}))
	return newTestNet(t, openPcapIn(t, p.AC, p.ACIf), openPcapIn(t, p.Client, p.ClientIf), capture)
}

// openPcapIn opens a pcap Link on ifname inside the named namespace. The
// socket belongs to the namespace it was made in, so only the opening runs
// there, on a goroutine locked to its OS thread; if the thread cannot be
// switched back it is left locked, and Go retires it with the goroutine.
func openPcapIn(t testing.TB, ns, ifname string) link.Link {
	t.Helper()
	type result struct {
		l   link.Link
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			ch <- result{nil, err}
			return
		}
		defer orig.Close()
		target, err := netns.GetFromName(ns)
		if err != nil {
			ch <- result{nil, err}
			return
		}
		defer target.Close()
		if err := netns.Set(target); err != nil {
			ch <- result{nil, err}
			return
		}
		l, err := link.OpenPcap(ifname)
		if err := netns.Set(orig); err != nil {
			if l != nil {
				l.Close()
			}
			ch <- result{nil, fmt.Errorf("restore netns: %w", err)}
			return // thread stays locked and dies with this goroutine
		}
		runtime.UnlockOSThread()
		ch <- result{l, err}
	}()
	r := <-ch
	if r.err != nil {
		t.Fatalf("OpenPcap(%s in %s): %v", ifname, ns, r.err)
	}
	return r.l
}

func TestPcapLinkVeth(t *testing.T) {
	checkLeaks(t)
	n := newVethNet(t)
	if n.acMAC != (MAC{0x02, 0xab, 0xcd, 0, 0, 1}) || n.acPort.MTU() != 1500 || n.acPort.Name() != "ether3" {
		t.Errorf("link %s MAC %v MTU %d", n.acPort.Name(), n.acMAC, n.acPort.MTU())
	}
	raw := newRawPeer(t, n.acPort, nil)
	// The BPF filter passes PPPoE, also 802.1Q-tagged, and nothing else.
	ipv4 := make([]byte, 60)
	copy(ipv4, []byte{0x02, 0xab, 0xcd, 0, 0, 1, 0x02, 0xab, 0xcd, 0, 0, 2, 0x08, 0x00, 0x45})
	if err := n.clPort.WriteFrame(ipv4); err != nil {
		t.Fatal(err)
	}
	padi := discovery(Broadcast, n.clMAC, CodePADI, 0, tagStr(TagServiceName, "x"))
	padi.Tagged, padi.TCI = true, 7
	b, _ := padi.MarshalBinary()
	if err := n.clPort.WriteFrame(b); err != nil {
		t.Fatal(err)
	}
	got := raw.expect(t, CodePADI)
	if !got.Tagged || got.VLANID() != 7 || got.Src != n.clMAC {
		t.Errorf("received %v", got)
	}
	raw.expectNothing(t, 100*time.Millisecond)
	if st := n.acPort.Stats(); st.Link.RxFrames != 1 {
		t.Errorf("AC link read %d frames, want only the PADI", st.Link.RxFrames)
	}
	// Our own transmissions are not read back.
	if err := n.acPort.WriteFrame(b); err != nil {
		t.Fatal(err)
	}
	raw.expectNothing(t, 100*time.Millisecond)
}

func TestDiscoveryVeth(t *testing.T) {
	checkLeaks(t)
	n := newVethNet(t)
	runDiscovery(t, n.acPort, n.clPort)
}

// SPEC §6 / issue acceptance: `scan ether2` lists pppoeservice with the
// AC's MAC and MikroTik, and a second server on the same interface as a
// second row.
func TestScanVeth(t *testing.T) {
	checkLeaks(t)
	n := newVethNet(t)
	startAC(t, n.acPort, ACConfig{ACName: func() string { return "MikroTik" }},
		Service{Name: "pppoeservice", AcceptEmptyService: true},
		Service{Name: "second", AcceptEmptyService: true})
	rows, err := Scan(context.Background(), n.clPort, ScanConfig{Duration: 1500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	want := []ScanResult{
		{Service: "pppoeservice", MAC: MAC{0x02, 0xab, 0xcd, 0, 0, 1}, ACName: "MikroTik"},
		{Service: "second", MAC: MAC{0x02, 0xab, 0xcd, 0, 0, 1}, ACName: "MikroTik"},
	}
	if len(rows) != 2 || rows[0] != want[0] || rows[1] != want[1] {
		t.Errorf("scan rows %+v, want %+v", rows, want)
	}
}
