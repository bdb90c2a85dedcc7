package router_test

import (
	"encoding/binary"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"rosh/link"
	"rosh/nstest"
	"rosh/router"
)

// TestIPCPRenegotiationKeepsSession: an IPCP Configure-Request reaching the
// AC once the session is up (on a lossy line, the subscriber's retransmission
// after our Configure-Ack was lost) makes IPCP renegotiate (RFC 1661 §4.3).
// That is not a new session: it stays in /ppp active with its uptime, and
// is not logged or counted as connected again. Before, its uptime began
// anew and the log said "connected" twice; while it renegotiated it was
// missing from /ppp active (TestLossAndDelay saw 49 of 50 on the AC).
func TestIPCPRenegotiationKeepsSession(t *testing.T) {
	acMAC, clMAC := net.HardwareAddr{2, 0xab, 0xcd, 0, 0, 1}, net.HardwareAddr{2, 0xab, 0xcd, 0, 0, 2}
	a, b := link.Pipe(link.WithQueue(4096), link.WithMACs(acMAC, clMAC))
	ns := nstest.NewPair(t)
	ac, cl := newBox(t, "ether3", a, ns.AC), newBox(t, "ether2", b, ns.Client)
	ac.run(t,
		"/ip pool add name=pool ranges=10.0.0.2-10.0.0.9",
		"/ppp profile add name=p local-address=10.0.0.1 remote-address=pool",
		"/ppp secret add name=reneg password=pw profile=p",
		"/interface pppoe-server server add interface=ether3 disabled=no")
	cl.run(t, "/interface pppoe-client add interface=ether2 user=reneg password=pw disabled=no")
	var s router.ActiveSession
	waitFor(t, "the session up on the AC", 10*time.Second, func() bool {
		list := ac.eng.Live().ActiveSessions()
		if len(list) == 1 {
			s = list[0]
		}
		return len(list) == 1
	})
	time.Sleep(2500 * time.Millisecond)

	// The subscriber's Configure-Request again, as if retransmitted: its
	// own address, on its session, from its MAC.
	addr := netip.MustParseAddr(s.Address).As4()
	frame := append([]byte{}, acMAC...)
	frame = append(frame, clMAC...)
	frame = append(frame, 0x88, 0x64, 0x11, 0x00, 0, 0, 0, 12, 0x80, 0x21, 1, 0x99, 0, 10, 3, 6)
	frame = append(frame, addr[:]...)
	binary.BigEndian.PutUint16(frame[16:], s.SessionID)
	for len(frame) < 60 {
		frame = append(frame, 0)
	}
	if err := b.WriteFrame(frame); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(1500 * time.Millisecond)
	for time.Now().Before(deadline) {
		list := ac.eng.Live().ActiveSessions()
		if len(list) != 1 {
			t.Fatalf("%d sessions in /ppp active during the renegotiation, want 1", len(list))
		}
		if list[0].Uptime < 2*time.Second {
			t.Fatalf("uptime %v after the renegotiation: it began anew", list[0].Uptime)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := strings.Count(ac.logText(), "reneg connected from"); n != 1 {
		t.Errorf("%d \"connected\" lines for one session, want 1:\n%s", n, ac.logText())
	}
	if !strings.Contains(ac.logText(), "IPCP renegotiated") {
		t.Errorf("no renegotiation in the AC's log:\n%s", ac.logText())
	}
}
