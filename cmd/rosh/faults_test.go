package main

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"rosh/emulate"
	"rosh/nstest"
)

// The faults' keepalive-timeout: short, to keep the tests short.
const faultKeepalive = 2 * time.Second

// TestACKilled kills the access concentrator with SIGKILL under 20
// subscribers and starts it again on the same configuration: every CPE
// notices (keepalive, or the PADT of the new AC for a session it does not
// know) and is connected again within 2 × keepalive-timeout + 10 s.
func TestACKilled(t *testing.T) {
	const n = 20
	pair := nstest.NewPair(t)
	ac := subscribersAC(t, pair, n, int(faultKeepalive/time.Second))
	e := startEmulator(t, pair, n, faultKeepalive)
	waitStats(t, e, 20*time.Second, "all up", func(s emulate.Stats) bool { return s.Up == n })
	waitCount(t, ac, "/ppp active print count-only", n, 5*time.Second)

	ac.Signal(syscall.SIGKILL)
	killed := time.Now()
	<-ac.Exited()
	ac2 := nstest.StartRosh(t, roshBin, pair.AC, "--config", ac.Config)
	limit := 2*faultKeepalive + 10*time.Second
	noticed := waitStats(t, e, limit, "every CPE noticed", func(s emulate.Stats) bool { return s.Lost == n })
	waitStats(t, e, limit-time.Since(killed), "every CPE connected again", func(s emulate.Stats) bool { return s.Up == n })
	back := time.Since(killed)
	waitCount(t, ac2, "/ppp active print count-only", n, 5*time.Second)
	r := e.Report()
	t.Logf("AC killed: all %d CPEs noticed within %v (%v), all connected again after %v (limit %v)",
		n, noticed.Round(100*time.Millisecond), r.Losses, back.Round(100*time.Millisecond), limit)
}

// clientPair is a rosh AC and a rosh client on a pair, connected, both
// with the faults' keepalive-timeout.
func clientPair(t *testing.T) (pair *nstest.Pair, ac, cl *nstest.Rosh) {
	t.Helper()
	pair = nstest.NewPair(t)
	ac = nstest.StartRosh(t, roshBin, pair.AC)
	ac.Send(seedAC...)
	ac.Send(fmt.Sprintf("/interface pppoe-server server set 0 keepalive-timeout=%d", int(faultKeepalive/time.Second)))
	cl = nstest.StartRosh(t, roshBin, pair.Client)
	cl.Send(strings.Replace(seedClient, " service-name=pppoeservice", "", 1),
		fmt.Sprintf("/interface pppoe-client set PPPoE-Out keepalive-timeout=%d", int(faultKeepalive/time.Second)))
	cl.Poll("/interface pppoe-client monitor PPPoE-Out once", "status: connected", 20*time.Second)
	waitCount(t, ac, "/ppp active print count-only", 1, 5*time.Second)
	return pair, ac, cl
}

// TestClientKilled kills a client with SIGKILL: no PADT, no Terminate.
// The AC's keepalive reclaims the session and its address within
// 2 × keepalive-timeout + 2 s.
func TestClientKilled(t *testing.T) {
	_, ac, cl := clientPair(t)
	cl.Signal(syscall.SIGKILL)
	killed := time.Now()
	limit := 2*faultKeepalive + 2*time.Second
	waitCount(t, ac, "/ppp active print count-only", 0, limit+time.Second)
	waitCount(t, ac, "/ip pool used print count-only", 0, time.Second)
	took := time.Since(killed)
	t.Logf("client killed: the AC reclaimed the session and its address after %v (limit %v)", took.Round(100*time.Millisecond), limit)
	if took > limit+300*time.Millisecond { // one poll of slack
		t.Errorf("reclaimed after %v, want within %v", took, limit)
	}
}

// TestLinkDownUp takes the client's Ethernet link down and up again: the
// client loses its session and dials again once the link is back.
func TestLinkDownUp(t *testing.T) {
	pair, ac, cl := clientPair(t)
	nstest.Run(t, "ip", "-n", pair.Client, "link", "set", pair.ClientIf, "down")
	down := time.Now()
	// Long enough for both sides' keepalive to end the session.
	time.Sleep(2*faultKeepalive + 2*time.Second)
	waitCount(t, ac, "/ppp active print count-only", 0, 2*time.Second)
	if out := cl.Poll("/interface pppoe-client monitor PPPoE-Out once", "status: ", 2*time.Second); strings.Contains(out, "status: connected") {
		t.Errorf("client still connected with its link down %v:\n%s", time.Since(down), out)
	}
	nstest.Run(t, "ip", "-n", pair.Client, "link", "set", pair.ClientIf, "up")
	up := time.Now()
	cl.Poll("/interface pppoe-client monitor PPPoE-Out once", "status: connected", 20*time.Second)
	waitCount(t, ac, "/ppp active print count-only", 1, 5*time.Second)
	t.Logf("link down/up: the client was connected again %v after the link came back", time.Since(up).Round(100*time.Millisecond))
}

// TestServerChanges changes the pppoe-server server under a connected
// client, the RouterOS way: disable and remove end its sessions at once
// (the client hears a PADT and does not wait for its keepalive), enable
// brings the client back; a changed service-name withdraws the old
// service and so ends its sessions too; a changed default-profile leaves
// the running session alone (what it negotiated stands; the profile is
// read at login, as a /ppp profile change is).
func TestServerChanges(t *testing.T) {
	_, ac, cl := clientPair(t)
	ended := func(what string) time.Duration {
		t.Helper()
		start := time.Now()
		waitCount(t, ac, "/ppp active print count-only", 0, 3*time.Second)
		for {
			out := cl.Poll("/interface pppoe-client monitor PPPoE-Out once", "status: ", 2*time.Second)
			if !strings.Contains(out, "status: connected") {
				break
			}
			if time.Since(start) > faultKeepalive {
				t.Fatalf("%s: the client still connected after %v: told nothing", what, time.Since(start))
			}
		}
		return time.Since(start)
	}
	connected := func() {
		t.Helper()
		cl.Poll("/interface pppoe-client monitor PPPoE-Out once", "status: connected", 20*time.Second)
		waitCount(t, ac, "/ppp active print count-only", 1, 5*time.Second)
	}

	// default-profile: the running session keeps what it negotiated.
	ac.Send("/ip pool add name=other ranges=10.9.0.2-10.9.0.5",
		"/ppp profile add name=other local-address=10.9.0.1 remote-address=other",
		"/interface pppoe-server server set 0 default-profile=other")
	time.Sleep(2 * faultKeepalive)
	if out := ac.Poll("/ppp active print", "MT-User", 2*time.Second); !strings.Contains(out, "10.0.0.") {
		t.Errorf("after set default-profile the running session changed:\n%s", out)
	}
	waitCount(t, ac, "/ppp active print count-only", 1, time.Second)

	ac.Send("/interface pppoe-server server disable 0")
	took := ended("disable")
	t.Logf("disable: session ended, client told, after %v", took.Round(100*time.Millisecond))
	ac.Send("/interface pppoe-server server enable 0")
	connected()

	ac.Send("/interface pppoe-server server set 0 service-name=other-service")
	took = ended("set service-name")
	t.Logf("set service-name: session ended, client told, after %v", took.Round(100*time.Millisecond))
	connected() // the client asks for any service

	ac.Send("/interface pppoe-server server remove 0")
	took = ended("remove")
	t.Logf("remove: session ended, client told, after %v", took.Round(100*time.Millisecond))
	waitCount(t, ac, "/ip pool used print count-only", 0, time.Second)
}
