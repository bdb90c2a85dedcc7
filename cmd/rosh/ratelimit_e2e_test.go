package main

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"rosh/nstest"
)

// rateSeconds is how long each shaped iperf3 run lasts. The issue asks
// for 10 s; 5 s hold the same figures (the bucket's first 0.1 s of
// tokens is 2 % of 5 s at 10 Mbit/s) and keep make test short.
const rateSeconds = 5

// TestRateLimit is issue 10's acceptance over veth with real iperf3, in
// the seed's scenario with rate-limit on the profile:
//   - 10M/20M: from the client 10 Mbit/s, towards it 20 Mbit/s, ±10 %;
//     the session's dynamic queue in /queue simple;
//   - set on the profile of the running session: the new limit holds
//     within a second, no reconnect;
//   - 10M/10M 20M/20M 8M/8M 8/8: the first seconds near 20 Mbit/s, then
//     10 (iperf3's per-second intervals);
//   - limit-bytes-out=1000000: the session ends after about 1 MB towards
//     the client, the reason in the AC's log and the client's monitor.
func TestRateLimit(t *testing.T) {
	pair := nstest.NewPair(t)
	ac := nstest.StartRosh(t, roshBin, pair.AC)
	ac.Send(seedAC[0], seedAC[1]+" rate-limit=10M/20M")
	ac.Send(seedAC[2:]...)
	cl := nstest.StartRosh(t, roshBin, pair.Client)
	cl.Send(seedClient)
	cl.Poll("/interface pppoe-client monitor PPPoE-Out once", "status: connected", 30*time.Second)

	q := ac.Poll("/queue simple print", "max-limit=10M/20M", 5*time.Second)
	for _, want := range []string{`name="<pppoe-MT-User>"`, "limit-at=10M/20M", "burst-limit=0/0", "priority=8/8"} {
		if !strings.Contains(q, want) {
			t.Errorf("/queue simple print lacks %s:\n%s", want, q)
		}
	}
	if !regexp.MustCompile(`\bD\b.*target=10\.0\.0\.\d+/32`).MatchString(q) {
		t.Errorf("no dynamic queue targeting the session's address:\n%s", q)
	}

	up := iperfRun(t, pair.AC, pair.Client, "10.0.0.1", rateSeconds, false)
	down := iperfRun(t, pair.AC, pair.Client, "10.0.0.1", rateSeconds, true)
	t.Logf("rate-limit=10M/20M: %.2f Mbit/s from the client, %.2f towards it (%d s each)", up.bps/1e6, down.bps/1e6, rateSeconds)
	if !within(up.bps, 10e6, 0.1) || !within(down.bps, 20e6, 0.1) {
		t.Errorf("rate-limit=10M/20M: %.2f Mbit/s up (want 10 ± 10 %%), %.2f down (want 20 ± 10 %%)", up.bps/1e6, down.bps/1e6)
	}
	q = ac.Poll("/queue simple print", "max-limit", 5*time.Second)
	if m := regexp.MustCompile(`bytes=(\d+)/(\d+)`).FindStringSubmatch(q); m == nil || atoi(m[1]) < 5_000_000 || atoi(m[2]) < 10_000_000 {
		t.Errorf("the queue's bytes do not show the traffic:\n%s", q)
	}

	// set on the profile: iperf3 towards the client at 20M, the limit
	// lowered to 5M about 2 s in; from a second after that, 5M.
	setAt := make(chan time.Time, 1)
	go func() {
		time.Sleep(2 * time.Second)
		ac.Send("/ppp profile set for-pppoe rate-limit=5M/5M")
		setAt <- time.Now()
	}()
	start := time.Now()
	res := iperfRun(t, pair.AC, pair.Client, "10.0.0.1", 6, true)
	set := (<-setAt).Sub(start).Seconds()
	t.Logf("profile set to 5M/5M %.1f s into the run; per second: %s", set, mbps(res.intervals))
	// iperf3 starts its clock after it connected (≥ 0.2 s after start):
	// interval k begins at least k s after start. The last interval is
	// left out: the sender stops during it.
	for k, v := range res.intervals[:len(res.intervals)-1] {
		switch {
		case float64(k+1) < set-0.5 && k > 0 && !within(v, 20e6, 0.15):
			t.Errorf("before the set, second %d: %.2f Mbit/s, want 20", k, v/1e6)
		case float64(k) >= set+1 && !within(v, 5e6, 0.15):
			t.Errorf("more than a second after the set, second %d: %.2f Mbit/s, want 5", k, v/1e6)
		}
	}
	if out := ac.Poll("/ppp active print count-only", "1", 5*time.Second); !strings.Contains(out, "1") {
		t.Errorf("the session did not stay up")
	}

	// Burst: 20M while the 8 s average stays below 8M (the first 3.2 s
	// at 20M), then 10M.
	ac.Send(`/ppp profile set for-pppoe rate-limit="10M/10M 20M/20M 8M/8M 8/8"`)
	q = ac.Poll("/queue simple print", "burst-limit=20M/20M", 5*time.Second)
	for _, want := range []string{"max-limit=10M/10M", "burst-threshold=8M/8M", "burst-time=8s/8s"} {
		if !strings.Contains(q, want) {
			t.Errorf("/queue simple print lacks %s:\n%s", want, q)
		}
	}
	res = iperfRun(t, pair.AC, pair.Client, "10.0.0.1", 8, true)
	t.Logf("10M/10M 20M/20M 8M/8M 8/8, per second: %s", mbps(res.intervals))
	if len(res.intervals) < 8 {
		t.Fatalf("iperf3 gave %d intervals", len(res.intervals))
	}
	if b := mean(res.intervals[:3]); !within(b, 20e6, 0.15) {
		t.Errorf("first 3 s: %.2f Mbit/s, want near 20 (burst)", b/1e6)
	}
	if s := mean(res.intervals[5:7]); !within(s, 10e6, 0.1) {
		t.Errorf("seconds 5-7: %.2f Mbit/s, want 10 (burst over)", s/1e6)
	}

	// limit-bytes-out: applies from the next session.
	ac.Send("/ppp profile set for-pppoe rate-limit=20M/20M", "/ppp secret set MT-User limit-bytes-out=1000000", "/ppp active remove [find]")
	cl.Poll("/interface pppoe-client monitor PPPoE-Out once", "administratively disconnected", 10*time.Second)
	cl.Poll("/interface pppoe-client monitor PPPoE-Out once", "status: connected", 30*time.Second)
	srv := nstest.Exec(pair.AC, "iperf3", "-s", "-1", "-B", "10.0.0.1")
	if err := srv.Start(); err != nil {
		t.Fatalf("iperf3 server: %v", err)
	}
	defer func() { srv.Process.Kill(); srv.Wait() }()
	time.Sleep(300 * time.Millisecond)
	client := nstest.Exec(pair.Client, "timeout", "15", "iperf3", "-c", "10.0.0.1", "-R", "-t", "5")
	if err := client.Start(); err != nil {
		t.Fatalf("iperf3: %v", err)
	}
	defer func() { client.Process.Kill(); client.Wait() }()
	cl.Poll("/interface pppoe-client monitor PPPoE-Out once", "limit-bytes-out reached", 15*time.Second)
	log := ac.Poll("/log print", "limit-bytes-out reached", 5*time.Second)
	m := regexp.MustCompile(`limit-bytes-out reached \((\d+) bytes\)`).FindStringSubmatch(log)
	if m == nil {
		t.Fatalf("no byte count in the AC's log:\n%s", log)
	}
	if n := atoi(m[1]); n < 1_000_000 || n > 1_100_000 {
		t.Errorf("session ended after %d bytes towards the client, want about 1000000", n)
	}
	if !strings.Contains(log, "disconnected") {
		t.Errorf("the AC's log does not show the session ending:\n%s", log)
	}
}

func within(got, want, tol float64) bool { return got >= want*(1-tol) && got <= want*(1+tol) }

func mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

func mbps(v []float64) string {
	var b strings.Builder
	for _, x := range v {
		fmt.Fprintf(&b, "%.1f ", x/1e6)
	}
	return b.String()
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }
