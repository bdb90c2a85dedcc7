package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"rosh/emulate"
	"rosh/link"
	"rosh/nstest"
)

// subscribersAC starts a rosh access concentrator in the pair's AC
// namespace for n subscribers user1..userN (password pwI), with the
// given keepalive-timeout in seconds.
func subscribersAC(t *testing.T, pair *nstest.Pair, n, keepalive int) *nstest.Rosh {
	t.Helper()
	ac := nstest.StartRosh(t, roshBin, pair.AC)
	lines := []string{
		"/ip pool add name=subs ranges=10.0.0.2-10.0.3.254",
		"/ppp profile add local-address=10.0.0.1 name=subs remote-address=subs",
		fmt.Sprintf("/interface pppoe-server server add default-profile=subs disabled=no interface=ether3 service-name=isp keepalive-timeout=%d", keepalive),
	}
	for i := 1; i <= n; i++ {
		lines = append(lines, fmt.Sprintf("/ppp secret add name=user%d password=pw%d profile=subs service=pppoe", i, i))
	}
	ac.Send(lines...)
	ac.Poll("/ppp secret print count-only", fmt.Sprint(n), 10*time.Second)
	return ac
}

// startEmulator dials n subscribers from the pair's client side in this
// process: CPEs that keep their session alive with keepalive and redial a
// second after losing it.
func startEmulator(t *testing.T, pair *nstest.Pair, n int, keepalive time.Duration) *emulate.Emulator {
	t.Helper()
	var port *link.Port
	if err := nstest.InNamespace(pair.Client, func() (err error) { port, err = emulate.OpenPort(pair.ClientIf); return }); err != nil {
		t.Fatal(err)
	}
	e, err := emulate.Start(port, emulate.Config{Sessions: n, Rate: 50, UserPattern: "user%d", Password: "pw%d",
		Keepalive: keepalive, Redial: time.Second, SetupTimeout: 75 * time.Second, TeardownTimeout: 5 * time.Second})
	if err != nil {
		port.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		r := e.Stop()
		port.Close()
		if t.Failed() {
			var b strings.Builder
			r.WriteTable(&b)
			t.Logf("emulator:\n%s", b.String())
		}
	})
	return e
}

// waitCount polls a count-only print until it prints want, and fails the
// test after timeout. (Poll matches a substring: "50" is in "150".)
func waitCount(t *testing.T, r *nstest.Rosh, line string, want int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	last := ""
	for time.Now().Before(deadline) {
		mark := r.Out.Len()
		r.Send(line)
		time.Sleep(300 * time.Millisecond)
		out := strings.Fields(r.Out.String()[mark:])
		if len(out) > 0 {
			last = out[len(out)-1]
			if last == fmt.Sprint(want) {
				return
			}
		}
	}
	t.Fatalf("%q printed %q, not %d, for %v", line, last, want, timeout)
}

// waitStats waits for cond on the emulator's stats, failing the test with
// what says after timeout.
func waitStats(t *testing.T, e *emulate.Emulator, timeout time.Duration, what string, cond func(emulate.Stats) bool) time.Duration {
	t.Helper()
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := e.Wait(ctx, cond); err != nil {
		t.Fatalf("%s: not within %v: %+v", what, timeout, e.Stats())
	}
	return time.Since(start)
}
