//go:build linux

package pppoe

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vishvananda/netns"

	"rosh/link"
)

var vethSerial atomic.Int32

// vethNet is a veth pair between two network namespaces made for one test:
// "ether3" in the AC's namespace, "ether2" in the client's, as in SPEC §6.
// Nothing outside the two namespaces is touched, and both are deleted at
// cleanup, which also removes the veth pair, whether the test passed or not.
type vethNet struct {
	acNS, clNS     string
	acPort, clPort *link.Port
	acMAC, clMAC   MAC
}

func ipCmd(t testing.TB, args ...string) {
	t.Helper()
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func newVethNet(t testing.TB) *vethNet { return newVethNetCapture(t, true) }

// newVethNetCapture is newVethNet, with the AC side recorded for a failure
// dump only if capture is set (a flood would fill memory with it).
func newVethNetCapture(t testing.TB, capture bool) *vethNet {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("veth tests need root (network namespaces)")
	}
	id := fmt.Sprintf("rt%d%d", os.Getpid(), vethSerial.Add(1))
	n := &vethNet{acNS: id + "a", clNS: id + "b"}
	ipCmd(t, "netns", "add", n.acNS)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", n.acNS).Run() })
	ipCmd(t, "netns", "add", n.clNS)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", n.clNS).Run() })
	// Made inside the AC's namespace, the peer placed straight into the
	// client's: the pair never exists in the host namespace.
	ipCmd(t, "-n", n.acNS, "link", "add", "ether3", "address", "02:ab:cd:00:00:01",
		"type", "veth", "peer", "name", "ether2", "address", "02:ab:cd:00:00:02", "netns", n.clNS)
	ipCmd(t, "-n", n.acNS, "link", "set", "ether3", "up")
	ipCmd(t, "-n", n.clNS, "link", "set", "ether2", "up")
	for _, ns := range []string{n.acNS, n.clNS} {
		waitFor(t, ns+" link up", func() bool {
			out, _ := exec.Command("ip", "-n", ns, "-br", "link").Output()
			return strings.Contains(string(out), "LOWER_UP") && !strings.Contains(string(out), "NO-CARRIER")
		})
	}

	acLink := openPcapIn(t, n.acNS, "ether3")
	if capture {
		acLink = dumpOnFailure(t, acLink)
	}
	clLink := openPcapIn(t, n.clNS, "ether2")
	n.acPort, n.clPort = link.NewPort(acLink), link.NewPort(clLink)
	n.acMAC, _ = MACFrom(acLink.HardwareAddr())
	n.clMAC, _ = MACFrom(clLink.HardwareAddr())
	t.Cleanup(func() {
		n.acPort.Close()
		n.clPort.Close()
	})
	return n
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
