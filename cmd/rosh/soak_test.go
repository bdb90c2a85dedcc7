//go:build soak

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"rosh/emulate"
	"rosh/nstest"
)

// footprint is what the soak watches of the access concentrator.
type footprint struct {
	goroutines, fds, tuns int
	rss                   float64 // MiB
}

func (f footprint) String() string {
	return fmt.Sprintf("goroutines %d, fds %d, TUN devices %d, RSS %.1f MiB", f.goroutines, f.fds, f.tuns, f.rss)
}

func measure(t *testing.T, pair *nstest.Pair, ac *nstest.Rosh) footprint {
	t.Helper()
	var f footprint
	mark := ac.Out.Len()
	ac.Send("/system resource print")
	out := ac.WaitFor(mark, "process-memory:", 10*time.Second)
	if m := regexp.MustCompile(`goroutines: (\d+)`).FindStringSubmatch(out); m != nil {
		f.goroutines, _ = strconv.Atoi(m[1])
	}
	if fds, err := os.ReadDir(filepath.Join("/proc", strconv.Itoa(ac.Pid()), "fd")); err == nil {
		f.fds = len(fds)
	}
	f.tuns = strings.Count(nstest.Run(t, "ip", "-n", pair.AC, "-o", "link", "show", "type", "tun"), "\n")
	if st, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(ac.Pid()), "status")); err == nil {
		if m := regexp.MustCompile(`VmRSS:\s+(\d+) kB`).FindSubmatch(st); m != nil {
			kb, _ := strconv.Atoi(string(m[1]))
			f.rss = float64(kb) / 1024
		}
	}
	return f
}

// TestSoak (make soak; SOAK=10m by default) holds 1,000 subscribers on a
// rosh access concentrator for SOAK, hanging up a random 10% of them every
// minute (they dial again a second later, as CPEs do). Between the start
// of the hold and its end, with the same 1,000 sessions up, the AC's
// goroutines, file descriptors and TUN devices must be the same and its
// memory must not have grown past noise; once everyone has hung up, the
// goroutines, descriptors and TUN devices must be back to what they were
// before the first session.
func TestSoak(t *testing.T) {
	const n = 1000
	dur := 10 * time.Minute
	if s := os.Getenv("SOAK"); s != "" {
		var err error
		if dur, err = time.ParseDuration(s); err != nil {
			t.Fatalf("SOAK=%q: %v", s, err)
		}
	}
	pair := nstest.NewPair(t)
	ac := subscribersAC(t, pair, n, 10)
	time.Sleep(2 * time.Second)
	empty := measure(t, pair, ac)
	t.Logf("before any session: %v", empty)

	e := startEmulator(t, pair, n, 10*time.Second)
	waitStats(t, e, 3*time.Minute, "all up", func(s emulate.Stats) bool { return s.Up == n })
	waitCount(t, ac, "/ppp active print count-only", n, 30*time.Second)
	time.Sleep(10 * time.Second)
	start := measure(t, pair, ac)
	t.Logf("%d sessions up, start of the hold: %v", n, start)

	began := time.Now()
	churned, minUp := 0, n
	tick := time.NewTicker(10 * time.Second)
	defer tick.Stop()
	nextChurn := began.Add(time.Minute)
	for time.Since(began) < dur {
		<-tick.C
		if time.Now().After(nextChurn) {
			churned += e.Hangup(n / 10)
			nextChurn = nextChurn.Add(time.Minute)
		}
		st := e.Stats()
		minUp = min(minUp, st.Up)
		t.Logf("%v: up %d, hung up %d, lost %d, failed attempts %d", time.Since(began).Round(time.Second), st.Up, st.HungUp, st.Lost, st.Failed)
	}
	waitStats(t, e, 2*time.Minute, "all up at the end of the hold", func(s emulate.Stats) bool { return s.Up == n && s.HungUp == churned })
	waitCount(t, ac, "/ppp active print count-only", n, 30*time.Second)
	time.Sleep(10 * time.Second)
	end := measure(t, pair, ac)
	st := e.Stats()
	t.Logf("%d sessions up, end of the hold (%v, %d hung up and back): %v", n, dur, churned, end)
	if st.Lost != 0 {
		t.Errorf("%d sessions lost during the hold", st.Lost)
	}
	if end.goroutines > start.goroutines+10 || end.fds > start.fds+5 || end.tuns != start.tuns || end.rss > start.rss*1.15+10 {
		t.Errorf("the AC grew over the hold: start %v, end %v", start, end)
	}

	e.Stop()
	waitCount(t, ac, "/ppp active print count-only", 0, time.Minute)
	time.Sleep(10 * time.Second)
	after := measure(t, pair, ac)
	t.Logf("after everyone hung up: %v", after)
	if after.goroutines > empty.goroutines+2 || after.fds > empty.fds+2 || after.tuns != empty.tuns {
		t.Errorf("the AC did not return to its baseline: before %v, after %v", empty, after)
	}
	t.Logf("soak %v, %d sessions, %d churned (%d a minute), fewest up at a check %d:\n"+
		"  %-22s %10s %6s %6s %10s\n  %-22s %10d %6d %6d %10.1f\n  %-22s %10d %6d %6d %10.1f\n  %-22s %10d %6d %6d %10.1f\n  %-22s %10d %6d %6d %10.1f",
		dur, n, churned, n/10, minUp,
		"", "goroutines", "fds", "TUNs", "RSS MiB",
		"before any session", empty.goroutines, empty.fds, empty.tuns, empty.rss,
		"hold start", start.goroutines, start.fds, start.tuns, start.rss,
		"hold end", end.goroutines, end.fds, end.tuns, end.rss,
		"after all hung up", after.goroutines, after.fds, after.tuns, after.rss)
}
