package main

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"rosh/nstest"
)

// TestEmulateSubscribers runs `rosh emulate` with 200 MS-CHAPv2
// subscribers against a rosh access concentrator over a veth pair: every
// one comes up with a distinct MAC, holds, and is hung up at the end, and
// the summary says so. The AC gives each session a TUN, or none with
// ROSH_NO_SERVER_TUN (the control plane alone, as `make bench` runs it).
func TestEmulateSubscribers(t *testing.T) {
	for _, tun := range []bool{true, false} {
		t.Run(fmt.Sprintf("tun=%v", tun), func(t *testing.T) { testEmulate(t, tun) })
	}
}

func testEmulate(t *testing.T, tun bool) {
	const n = 200
	if !tun {
		t.Setenv("ROSH_NO_SERVER_TUN", "1")
	}
	pair := nstest.NewPair(t)
	ac := nstest.StartRosh(t, roshBin, pair.AC)
	lines := []string{
		"/ip pool add name=subs ranges=10.0.0.2-10.0.3.254",
		"/ppp profile add local-address=10.0.0.1 name=subs remote-address=subs",
		"/interface pppoe-server server add default-profile=subs disabled=no interface=ether3 service-name=isp authentication=mschap2",
	}
	for i := 1; i <= n; i++ {
		lines = append(lines, fmt.Sprintf("/ppp secret add name=user%d password=pw%d profile=subs service=pppoe", i, i))
	}
	ac.Send(lines...)
	ac.Poll("/ppp secret print count-only", fmt.Sprint(n), 10*time.Second)

	var out bytes.Buffer
	em := nstest.Exec(pair.Client, roshBin, "emulate", "--interface", "ether2", "--sessions", fmt.Sprint(n),
		"--rate", "1000", "--user-pattern", "user%d", "--password", "pw%d", "--auth", "mschap2",
		"--keepalive", "0", "--timeout", "10s", "--hold", "3s")
	em.Stdout, em.Stderr = &out, &out
	start := time.Now()
	if err := em.Start(); err != nil {
		t.Fatal(err)
	}
	ac.Poll("/ppp active print count-only", fmt.Sprint(n), 15*time.Second)
	tuns := strings.Count(nstest.Run(t, "ip", "-n", pair.AC, "-o", "link", "show", "type", "tun"), "\n")
	if want := map[bool]int{true: n, false: 0}[tun]; tuns != want {
		t.Errorf("the AC has %d TUN devices with %d sessions up, want %d", tuns, n, want)
	}
	if err := em.Wait(); err != nil {
		t.Fatalf("rosh emulate: %v\n%s", err, out.String())
	}
	t.Logf("rosh emulate took %v:\n%s", time.Since(start), out.String())
	for _, want := range []string{
		fmt.Sprintf(`established +%d \(100.0%%\)`, n),
		`failed +0 \(0.0%\)`,
		`lost while up +0\n`,
		`teardown rate +\d+ sessions/s`,
	} {
		if !regexp.MustCompile(want).Match(out.Bytes()) {
			t.Errorf("summary does not match %q", want)
		}
	}
	// Every subscriber was a host of its own: the AC saw n MACs.
	ac.Poll("/ppp active print count-only", "0", 10*time.Second)
	macs := map[string]bool{}
	for _, l := range strings.Split(ac.Poll("/log print where message~\"connected from\"", "connected from", 5*time.Second), "\n") {
		if i := strings.Index(l, "connected from "); i >= 0 {
			if f := strings.Fields(l[i+len("connected from "):]); len(f) > 0 {
				macs[strings.TrimSuffix(f[0], ",")] = true
			}
		}
	}
	if len(macs) != n {
		t.Errorf("the AC logged %d distinct MACs connecting, want %d", len(macs), n)
	}
}
