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
	"rosh/nstest/impair"
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

// TestLossAndDelay puts 50 subscribers behind a line that loses 20% of
// the frames and delays them 50 ms each way: all come up, retransmissions
// covering the losses, and stay up. Then the line goes dead for
// 3 × keepalive-timeout: every session goes down on both sides and the
// AC's addresses return to the pool; when the line comes back, so do the
// sessions.
func TestLossAndDelay(t *testing.T) {
	const (
		n         = 50
		keepalive = 2 * time.Second
	)
	pair := nstest.NewPair(t, nstest.Impaired())
	ac := subscribersAC(t, pair, n, int(keepalive/time.Second))
	bad := impair.Impairment{Loss: 0.2, Delay: 50 * time.Millisecond}
	pair.Relay.SetBoth(bad)

	e := startEmulator(t, pair, n, keepalive)
	// A round trip is lost 36% of the time, and each loss costs a
	// Restart time of 3 s (RFC 1661 §4.6) or a PADI/PADR timeout: the
	// slowest of 50 sessions takes tens of seconds, as it would with
	// any RFC-timed peer.
	took := waitStats(t, e, 75*time.Second, "all sessions up through 20% loss", func(s emulate.Stats) bool { return s.Up == n })
	st := e.Stats()
	r := e.Report()
	t.Logf("20%% loss, 50 ms delay each way: %d sessions up in %v; setup p50 %v p99 %v; %d attempts failed %v; PADI/PADR sent %d/%d",
		n, took.Round(100*time.Millisecond), r.SetupP50.Round(time.Millisecond), r.SetupP99.Round(time.Millisecond),
		st.Failed, r.Failures, r.PADISent, r.PADRSent)
	if st.Failed != 0 {
		t.Errorf("%d of %d setup attempts failed: retransmissions should bring every session up at the first try", st.Failed, n)
	}
	// A session the AC opened for a PADR whose PADS was lost every
	// time, the client gone back to PADI, ends with LCP's Max-Configure
	// (30 s): until then the AC may count one more.
	waitCount(t, ac, "/ppp active print count-only", n, 35*time.Second)

	// Stay up: three keepalive times of a bad line end no session.
	hold := 3 * keepalive
	time.Sleep(hold)
	if st := e.Stats(); st.Up != n || st.Lost != 0 {
		t.Errorf("after %v on the bad line: %d up, %d lost, want %d and 0", hold, st.Up, st.Lost, n)
	}
	waitCount(t, ac, "/ppp active print count-only", n, 5*time.Second)
	c := pair.Relay.Counters(impair.ACToClient)
	t.Logf("relay ac->client: %d frames, %d dropped (%.1f%%)", c.Received, c.Dropped, 100*float64(c.Dropped)/float64(c.Received))

	// Dead line for 3 × keepalive-timeout: both sides give up within
	// 2 × keepalive-timeout (plus the checks' 100 ms grid).
	pair.Relay.SetBoth(impair.Impairment{Loss: 1})
	cut := time.Now()
	down := waitStats(t, e, 2*keepalive+time.Second, "every CPE noticed the dead line", func(s emulate.Stats) bool { return s.Up == 0 })
	waitCount(t, ac, "/ppp active print count-only", 0, 2*keepalive+2*time.Second-time.Since(cut))
	acDown := time.Since(cut)
	waitCount(t, ac, "/ip pool used print count-only", 0, time.Second)
	t.Logf("line dead: CPEs down after %v, AC empty after %v (keepalive-timeout %v)",
		down.Round(100*time.Millisecond), acDown.Round(100*time.Millisecond), keepalive)
	time.Sleep(time.Until(cut.Add(3 * keepalive)))

	pair.Relay.SetBoth(impair.Impairment{})
	back := waitStats(t, e, 30*time.Second, "every session back after the line came back", func(s emulate.Stats) bool { return s.Up == n })
	waitCount(t, ac, "/ppp active print count-only", n, 35*time.Second)
	t.Logf("line back: %d sessions up again after %v", n, back.Round(100*time.Millisecond))
}
