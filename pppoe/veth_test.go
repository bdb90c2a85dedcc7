//go:build linux

package pppoe

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

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
	return newVethNetWith(t, vethLinks[0].open, capture)
}

// vethLinks are the kinds of Link the veth tests run over: the AF_PACKET
// link the engine uses, and pcap.
var vethLinks = []struct {
	name string
	open func(t testing.TB, ns, ifname string) link.Link
}{
	{"packet", openPacket},
	{"pcap", func(t testing.TB, ns, ifname string) link.Link {
		return nstest.OpenPcap(t, ns, ifname, link.PcapOptions{})
	}},
}

// openPacket opens an AF_PACKET Link on ifname inside namespace ns.
func openPacket(t testing.TB, ns, ifname string) link.Link {
	t.Helper()
	var l link.Link
	if err := nstest.InNamespace(ns, func() (err error) { l, err = link.OpenPacket(ifname); return err }); err != nil {
		t.Fatalf("OpenPacket(%s in %s): %v", ifname, ns, err)
	}
	return l
}

func newVethNetWith(t testing.TB, open func(t testing.TB, ns, ifname string) link.Link, capture bool) *testNet {
	t.Helper()
	p := nstest.NewPair(t, nstest.MACs(
		net.HardwareAddr{0x02, 0xab, 0xcd, 0, 0, 1},
		net.HardwareAddr{0x02, 0xab, 0xcd, 0, 0, 2}))
	return newTestNet(t, open(t, p.AC, p.ACIf), open(t, p.Client, p.ClientIf), capture)
}

// TestLinkVeth: each kind of Link on a veth pair passes PPPoE, tagged or
// not, and nothing else, and does not read back what it sends.
func TestLinkVeth(t *testing.T) {
	for _, kind := range vethLinks {
		t.Run(kind.name, func(t *testing.T) {
			checkLeaks(t)
			testLinkVeth(t, newVethNetWith(t, kind.open, true))
		})
	}
}

func testLinkVeth(t *testing.T, n *testNet) {
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
	for _, kind := range vethLinks {
		t.Run(kind.name, func(t *testing.T) {
			checkLeaks(t)
			n := newVethNetWith(t, kind.open, true)
			runDiscovery(t, n.acPort, n.clPort)
		})
	}
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

// TestLinkVethRemoved: when the interface is deleted under a Port, the
// Port stops (with an error) and a session on it ends with ErrLinkDown;
// taking the interface down and up again does not stop it.
func TestLinkVethRemoved(t *testing.T) {
	for _, kind := range vethLinks {
		t.Run(kind.name, func(t *testing.T) {
			checkLeaks(t)
			p := nstest.NewPair(t)
			n := newTestNet(t, kind.open(t, p.AC, p.ACIf), kind.open(t, p.Client, p.ClientIf), false)
			cl, _ := sessionPair(t, n)

			nstest.Run(t, "ip", "-n", p.Client, "link", "set", p.ClientIf, "down")
			nstest.Run(t, "ip", "-n", p.Client, "link", "set", p.ClientIf, "up")
			time.Sleep(1500 * time.Millisecond) // longer than a Port bears errors
			select {
			case <-n.clPort.Done():
				t.Fatalf("the Port stopped after the interface went down and up: %v", n.clPort.Err())
			default:
			}

			nstest.Run(t, "ip", "-n", p.Client, "link", "del", p.ClientIf)
			select {
			case <-n.clPort.Done():
			case <-time.After(10 * time.Second):
				t.Fatal("the Port still reads a deleted interface")
			}
			if n.clPort.Err() == nil {
				t.Error("the Port stopped without saying why")
			}
			if err := waitDone(t, cl); !errors.Is(err, ErrLinkDown) {
				t.Errorf("session ended with %v, want ErrLinkDown", err)
			}
		})
	}
}
