package nstest

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// Segment is one Ethernet segment: a bridge in a namespace of its own,
// and a namespace per member, each joined to the bridge by a veth whose
// member end is named as asked (ether3 for an AC, ether2 for a client).
type Segment struct {
	// Bridge is the bridge's namespace; its device is br0.
	Bridge string
	// NS maps a member's name to its namespace.
	NS map[string]string
}

// NewSegment makes the bridge and one namespace per member (name →
// interface name), all removed at cleanup. It needs root.
func NewSegment(t testing.TB, members map[string]string) *Segment {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("this test needs root: it makes network namespaces")
	}
	id := fmt.Sprintf("rs%d-%d", os.Getpid(), serial.Add(1))
	s := &Segment{Bridge: id + "b", NS: map[string]string{}}
	mk := func(ns string) {
		Run(t, "ip", "netns", "add", ns)
		t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
		Run(t, "ip", "-n", ns, "link", "set", "lo", "up")
	}
	mk(s.Bridge)
	Run(t, "ip", "-n", s.Bridge, "link", "add", "br0", "type", "bridge")
	Run(t, "ip", "-n", s.Bridge, "link", "set", "br0", "up")
	i := 0
	for name, ifname := range members {
		i++
		ns := fmt.Sprintf("%s%d", id, i)
		mk(ns)
		s.NS[name] = ns
		port := fmt.Sprintf("p%d", i)
		Run(t, "ip", "-n", s.Bridge, "link", "add", port, "type", "veth", "peer", "name", ifname, "netns", ns)
		Run(t, "ip", "-n", s.Bridge, "link", "set", port, "master", "br0", "up")
		Run(t, "ip", "-n", ns, "link", "set", ifname, "up")
		waitCarrier(t, ns, ifname)
	}
	return s
}
