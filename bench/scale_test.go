//go:build scale

// Package bench is `make bench`'s scale run: a rosh access concentrator in
// one network namespace, the subscriber emulator (package emulate, what
// `rosh emulate` runs) in this process on the other end of a veth pair,
// and one table of every figure, all measured in the same run on this
// machine, with the micro-benchmarks `make bench` ran just before
// summarised under them.
//
//	go test -tags scale -run TestScale ./bench -args -micro FILE
//
// It needs root (namespaces), takes a few minutes, and stops by itself:
// every wait is bounded. The AC and the emulator share the machine's
// CPUs, so the setup rates are what the two together reach.
package bench

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"text/tabwriter"
	"time"

	"rosh/emulate"
	"rosh/link"
	"rosh/nstest"
	"rosh/ppp"
	"rosh/pppoe"
)

var (
	microFile = flag.String("micro", "", "output of `go test -bench` to summarise in the table")
	sizesFlag = flag.String("sizes", "1000,10000", "subscriber counts to set up; the last also gets the idle measurements")
	rateFlag  = flag.Float64("rate", 0, "subscribers started per second (0: as fast as -pending allows)")
	pendFlag  = flag.Int("pending", 256, "most subscribers in setup at once: the emulator offers what the AC takes")
	idleFlag  = flag.Duration("idle", 20*time.Second, "window over which the AC's keepalive CPU is measured")
	onlyFlag  = flag.String("only", "", `run only the variants whose name contains this ("PAP, no TUN")`)
	profDir   = flag.String("profile", os.Getenv("ROSH_BENCH_PROFILE"), "directory for CPU profiles of the AC and the emulator, one per run, and the AC's heap profiles before and with the sessions up")
)

// keepalive is the AC's keepalive-timeout in the runs: an LCP echo per
// idle session every 10 s, RouterOS's default.
const keepalive = 10

// Targets of issue 6, on 2 cores.
const (
	targetSetup      = 2000 // sessions/s without TUN
	targetSetupTUN   = 500  // with a TUN per session
	targetRSS        = 16 << 10
	targetKeepalive  = 0.05 // of one core, 10,000 idle sessions
	targetConcurrent = 10000
)

// variant is one way of running the AC.
type variant struct {
	auth string // the server's authentication=, and the subscribers' allow=
	tun  bool   // a TUN per session (the default); without, ROSH_NO_SERVER_TUN
}

func (v variant) String() string {
	name := map[string]string{"pap": "PAP", "mschap2": "MS-CHAPv2"}[v.auth]
	if v.tun {
		return name + ", TUN per session"
	}
	return name + ", no TUN"
}

// result is what one run measured.
type result struct {
	v          variant
	n          int
	setup      emulate.Report // at the end of the setup
	acCPU      float64        // AC CPU-seconds during the setup
	emuCPU     float64        // the emulator's (this process's)
	tunReady   time.Duration  // from the first PADI until every session up has its TUN
	up         int            // sessions up 2 s after the setup
	lost       map[string]int // sessions ended by then, by reason
	rss        float64        // AC resident bytes per session up
	rssIdle    float64        // the same after the keepalive window (idle)
	goroutines float64        // per session up
	fds        float64        // open files per session up
	idle       bool           // the keepalive figures were measured
	keepCPU    float64        // fraction of one core
	keepWindow time.Duration
	keepLost   int
	teardown   time.Duration // AC /quit to the last session's end
	downUp     int           // sessions up at /quit
	padtIn     int           // of them, ended by the AC's PADT
}

func TestScale(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the scale run needs root: it makes network namespaces")
	}
	bin := filepath.Join(t.TempDir(), "rosh")
	if out, err := exec.Command("go", "build", "-o", bin, "rosh/cmd/rosh").CombinedOutput(); err != nil {
		t.Fatalf("building rosh: %v\n%s", err, out)
	}
	if *profDir != "" {
		if err := os.MkdirAll(*profDir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var sizes []int
	for _, s := range strings.Split(*sizesFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			t.Fatalf("-sizes %q", *sizesFlag)
		}
		sizes = append(sizes, n)
	}
	biggest := sizes[len(sizes)-1]
	started := time.Now()
	var results []result
	idleDone := map[bool]bool{} // by data plane
	for _, tun := range []bool{false, true} {
		for _, auth := range []string{"pap", "mschap2"} {
			v := variant{auth: auth, tun: tun}
			if !strings.Contains(v.String(), *onlyFlag) {
				continue
			}
			for _, n := range sizes {
				t.Run(fmt.Sprintf("%s-%d", strings.ReplaceAll(v.String(), " ", ""), n), func(t *testing.T) {
					// Keepalive does not depend on the method: measured once per
					// data plane, on the biggest run.
					idle := n == biggest && !idleDone[tun]
					idleDone[tun] = idleDone[tun] || idle
					results = append(results, runScale(t, bin, v, n, idle))
				})
			}
		}
	}
	micro := microBenchmarks(t, *microFile)
	printTable(os.Stdout, results, micro, time.Since(started))
}

// runScale brings n subscribers up against a fresh AC, measures it, then
// has the AC quit and times the teardown.
func runScale(t *testing.T, bin string, v variant, n int, idle bool) result {
	res := result{v: v, n: n}
	pair := nstest.NewPair(t)
	if *profDir != "" {
		t.Setenv("ROSH_CPUPROFILE", filepath.Join(*profDir, fmt.Sprintf("ac-%s-tun=%v-%d.pprof", v.auth, v.tun, n)))
		t.Setenv("ROSH_HEAPPROFILE", filepath.Join(*profDir, "heap.pprof"))
	}
	if !v.tun {
		t.Setenv("ROSH_NO_SERVER_TUN", "1")
	}
	ac := nstest.StartRosh(t, bin, pair.AC)
	lines := []string{
		"/ip pool add name=subs ranges=10.64.0.1-10.64.255.254",
		"/ppp profile add local-address=10.63.255.254 name=subs remote-address=subs",
	}
	for i := 1; i <= n; i++ {
		lines = append(lines, fmt.Sprintf("/ppp secret add name=user%d password=pw%d profile=subs service=pppoe", i, i))
	}
	lines = append(lines, fmt.Sprintf("/interface pppoe-server server add default-profile=subs disabled=no interface=%s "+
		"service-name=isp authentication=%s keepalive-timeout=%d", pair.ACIf, v.auth, keepalive))
	ac.Send(lines...)
	ac.Poll("/ppp secret print count-only", strconv.Itoa(n), 60*time.Second)

	var port *link.Port
	if err := nstest.InNamespace(pair.Client, func() (err error) { port, err = emulate.OpenPort(pair.ClientIf); return err }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { port.Close() })
	waitOffer(t, port)
	time.Sleep(time.Second) // the configuration's garbage collected
	pid := ac.Pid()
	rss0, g0, fd0 := rss(t, pid), goroutines(t, ac), openFiles(pid)
	heap0, stacks0 := heapProfile(t, pid, fmt.Sprintf("ac-heap-%s-tun=%v-0.pprof", v.auth, v.tun))
	cpu0, self0 := cpuTicks(t, pid), cpuTicks(t, os.Getpid())
	stopProfile := profile(t, fmt.Sprintf("emulator-%s-tun=%v-%d.pprof", v.auth, v.tun, n))

	allow, _ := ppp.ParseMethodSet(v.auth)
	t0 := time.Now()
	e, err := emulate.Start(port, emulate.Config{
		Sessions: n, Rate: *rateFlag, MaxPending: *pendFlag, UserPattern: "user%d", Password: "pw%d", Allow: allow,
		Keepalive:    0, // the AC drives keepalive; the emulator answers
		SetupTimeout: 60 * time.Second, TeardownTimeout: 30 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := e.Wait(ctx, func(s emulate.Stats) bool { return s.Settled(n) }); err != nil {
		t.Fatalf("setup not settled: %+v", e.Stats())
	}
	res.setup = e.Report()
	r := &res.setup
	if v.tun {
		// A subscriber is up when IPCP is; its TUN on the AC may come
		// later (made off the session's goroutine). The setup is over
		// when the AC counts every session active, each with its TUN.
		for activeCount(t, ac) < r.Established && time.Since(t0) < 5*time.Minute {
			time.Sleep(100 * time.Millisecond)
		}
		res.tunReady = time.Since(t0)
	}
	res.acCPU = float64(cpuTicks(t, pid)-cpu0) / clockTicks
	res.emuCPU = float64(cpuTicks(t, os.Getpid())-self0) / clockTicks
	stopProfile()
	t.Logf("setup: %d up in %v, CPU-s AC %.2f emulator %.2f; PADI %d PADR %d sent; PADS p50 %v p99 %v; up p50 %v p99 %v",
		r.Established, r.SetupTime.Round(time.Millisecond), res.acCPU, res.emuCPU, r.PADISent, r.PADRSent,
		r.DiscoveryP50.Round(time.Millisecond), r.DiscoveryP99.Round(time.Millisecond), r.SetupP50.Round(time.Millisecond), r.SetupP99.Round(time.Millisecond))
	// Failures and losses are figures of the table, not errors of the run.
	if r.Established != n {
		t.Logf("%d of %d sessions established; failures %v", r.Established, n, r.Failures)
	}

	time.Sleep(2 * time.Second) // the last setups' garbage collected
	res.up = e.Stats().Up
	if lost := e.Report(); lost.Lost > 0 {
		res.lost = lost.Losses
		t.Logf("%d sessions lost right after coming up: %v", lost.Lost, lost.Losses)
	}
	if res.up > 0 {
		per := float64(res.up)
		res.rss = float64(int64(rss(t, pid))-int64(rss0)) / per
		res.goroutines = float64(goroutines(t, ac)-g0) / per
		res.fds = float64(openFiles(pid)-fd0) / per
	}
	// go tool pprof -base ac-heap-…-0.pprof ac-heap-…-N.pprof: what the
	// sessions hold.
	if heap, stacks := heapProfile(t, pid, fmt.Sprintf("ac-heap-%s-tun=%v-%d.pprof", v.auth, v.tun, n)); heap > 0 && res.up > 0 {
		t.Logf("after a GC, per session up: heap in use %.1f KiB, goroutine stacks %.1f KiB",
			float64(heap-heap0)/float64(res.up)/1024, float64(stacks-stacks0)/float64(res.up)/1024)
	}

	if idle {
		// Every session's echo timer has fired once by now; measure the
		// next rounds with nothing else going on.
		time.Sleep(time.Until(e.Report().LastUp.Add(keepalive * time.Second)))
		lost0 := e.Stats().Lost
		c0, w0 := cpuTicks(t, pid), time.Now()
		time.Sleep(*idleFlag)
		res.keepWindow = time.Since(w0)
		res.keepCPU = float64(cpuTicks(t, pid)-c0) / clockTicks / res.keepWindow.Seconds()
		res.keepLost = e.Stats().Lost - lost0
		res.idle = true
		// Keepalive runs paths setup did not: what the sessions hold
		// once each has sent and answered echoes.
		if up := e.Stats().Up; up > 0 {
			res.rssIdle = float64(int64(rss(t, pid))-int64(rss0)) / float64(up)
			if heap, stacks := heapProfile(t, pid, fmt.Sprintf("ac-heap-%s-tun=%v-%d-idle.pprof", v.auth, v.tun, n)); heap > 0 {
				t.Logf("after the keepalive window and a GC, per session up: heap in use %.1f KiB, goroutine stacks %.1f KiB",
					float64(heap-heap0)/float64(up)/1024, float64(stacks-stacks0)/float64(up)/1024)
			}
		}
		if res.keepLost > 0 {
			t.Logf("%d sessions lost while idle; all losses so far: %v", res.keepLost, e.Report().Losses)
			mark := ac.Out.Len()
			ac.Send("/log print")
			out := ac.WaitFor(mark, "] > ", 30*time.Second)
			lines := strings.Split(out, "\n")
			t.Logf("the AC's log ends:\n%s", strings.Join(lines[max(0, len(lines)-25):], "\n"))
		}
	}

	// Teardown: the AC quits; it ends every session (LCP Terminate, then
	// PADT) and the emulator sees each go.
	res.downUp = e.Stats().Up
	quit := time.Now()
	ac.Send("/quit")
	last, err := e.Ended(ctx)
	if err != nil {
		t.Fatalf("sessions still up after the AC quit: %+v", e.Stats())
	}
	res.teardown = last.Sub(quit)
	res.padtIn = e.Stop().PADTReceived
	t.Logf("teardown: %d sessions in %v, %d by the AC's PADT", res.downUp, res.teardown.Round(time.Millisecond), res.padtIn)
	return res
}

// profile starts a CPU profile of this process (the emulator) into
// -profile's directory, if set; the function returned stops it.
func profile(t *testing.T, name string) func() {
	if *profDir == "" {
		return func() {}
	}
	f, err := os.Create(filepath.Join(*profDir, name))
	if err != nil {
		t.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		t.Fatal(err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }
}

// heapProfile has the AC write a heap profile (ROSH_HEAPPROFILE, on
// SIGUSR1) and moves it to name in -profile's directory, if set. It
// returns the AC's heap in use and goroutine stacks, in bytes, after the
// garbage collection the profile starts with (zero without -profile).
func heapProfile(t *testing.T, pid int, name string) (heap, stacks int64) {
	if *profDir == "" {
		return 0, 0
	}
	path := filepath.Join(*profDir, "heap.pprof")
	os.Remove(path)
	os.Remove(path + ".txt")
	if err := syscall.Kill(pid, syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if _, err := os.Stat(path); err == nil { // path.txt is written first
			os.Rename(path+".txt", filepath.Join(*profDir, name+".txt"))
			os.Rename(path, filepath.Join(*profDir, name))
			text, _ := os.ReadFile(filepath.Join(*profDir, name+".txt"))
			if m := regexp.MustCompile(`(?m)^# HeapInuse = (\d+)$`).FindSubmatch(text); m != nil {
				heap, _ = strconv.ParseInt(string(m[1]), 10, 64)
			}
			if m := regexp.MustCompile(`(?m)^# Stack = (\d+) /`).FindSubmatch(text); m != nil {
				stacks, _ = strconv.ParseInt(string(m[1]), 10, 64)
			}
			return heap, stacks
		}
	}
	t.Fatal("the AC wrote no heap profile within 30 s")
	return 0, 0
}

// waitOffer waits until the AC answers a PADI, so the setup clock starts
// with the AC ready.
func waitOffer(t *testing.T, port *link.Port) {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		res, _ := pppoe.Scan(context.Background(), port, pppoe.ScanConfig{Duration: 300 * time.Millisecond})
		if len(res) > 0 {
			return
		}
	}
	t.Fatal("the AC offered no service within 20 s")
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's CPU times.
const clockTicks = 100

// cpuTicks is the process's user plus system time, in clock ticks.
func cpuTicks(t *testing.T, pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// The command name, in parentheses, may hold spaces: count after it.
	f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return utime + stime
}

// rss is the process's resident set in bytes.
func rss(t *testing.T, pid int) uint64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^VmRSS:\s+(\d+) kB`).FindSubmatch(data)
	if m == nil {
		t.Fatalf("no VmRSS in /proc/%d/status", pid)
	}
	kb, _ := strconv.ParseUint(string(m[1]), 10, 64)
	return kb << 10
}

// openFiles counts the process's file descriptors: a TUN device and the
// sockets its data plane keeps are per session, against RLIMIT_NOFILE.
func openFiles(pid int) int {
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	return len(fds)
}

// activeCount asks the AC how many sessions are active: /ppp active
// print count-only (the count is one line).
func activeCount(t *testing.T, ac *nstest.Rosh) int {
	return askNumber(t, ac, "/ppp active print count-only", "\n", `(?m)^\s*(\d+)\s*$`, 30*time.Second)
}

// goroutines asks the AC: /system resource print.
func goroutines(t *testing.T, ac *nstest.Rosh) int {
	return askNumber(t, ac, "/system resource print", "process-memory:", `goroutines: (\d+)`, 10*time.Second)
}

// askNumber sends line to the AC, waits for its output to hold done, and
// returns the number pattern's first group finds there.
func askNumber(t *testing.T, ac *nstest.Rosh, line, done, pattern string, timeout time.Duration) int {
	mark := ac.Out.Len()
	ac.Send(line)
	out := ac.WaitFor(mark, done, timeout)
	m := regexp.MustCompile(pattern).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("%s: no %s in:\n%s", line, pattern, out)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// row is one line of the table; met is nil when the figure has no target.
type row struct {
	figure, value, target string
	met                   *bool
}

func printTable(out io.Writer, results []result, micro []row, took time.Duration) {
	var rows []row
	check := func(ok bool) *bool { return &ok }
	for _, r := range results {
		target, want := fmt.Sprintf(">= %d/s", targetSetup), float64(targetSetup)
		if r.v.tun {
			target, want = fmt.Sprintf(">= %d/s", targetSetupTUN), float64(targetSetupTUN)
		}
		s := r.setup
		rate, took, what := s.SetupRate, s.SetupTime, "up"
		if r.v.tun {
			rate, took, what = float64(s.Established)/r.tunReady.Seconds(), r.tunReady, "up with their TUNs"
		}
		val := fmt.Sprintf("%.0f/s: %d/%d %s in %v, each p50 %v p99 %v; CPU-s AC %.1f, emulator %.1f",
			rate, s.Established, r.n, what, took.Round(10*time.Millisecond), s.SetupP50.Round(time.Millisecond),
			s.SetupP99.Round(time.Millisecond), r.acCPU, r.emuCPU)
		if s.Failed > 0 {
			val += fmt.Sprintf("; failed %v", s.Failures)
		}
		if resent := s.PADISent + s.PADRSent - 2*r.n; resent > 0 {
			val += fmt.Sprintf("; %d PADI/PADR resent", resent)
		}
		rows = append(rows, row{fmt.Sprintf("setup rate, %s, %d", r.v, r.n), val, target, check(rate >= want)})
	}
	for _, r := range results {
		if r.n < targetConcurrent && len(results) > 1 {
			continue
		}
		held := fmt.Sprintf("%d of %d", r.up, r.n)
		if len(r.lost) > 0 {
			held += fmt.Sprintf(", the others ended by the AC right after coming up (%v)", r.lost)
		}
		rows = append(rows, row{fmt.Sprintf("sessions held by one AC, %s", r.v), held, strconv.Itoa(targetConcurrent), check(r.up >= targetConcurrent)})
		var rssOK *bool
		if !r.v.tun {
			rssOK = check(max(r.rss, r.rssIdle) <= targetRSS)
		}
		mem := fmt.Sprintf("%.1f KiB", r.rss/1024)
		if r.idle {
			mem += fmt.Sprintf(", %.1f KiB after the keepalive window", r.rssIdle/1024)
		}
		rows = append(rows,
			row{fmt.Sprintf("AC resident memory per session, %s", r.v), mem, "<= 16 KiB without TUN", rssOK},
			row{fmt.Sprintf("AC goroutines per session, %s", r.v), fmt.Sprintf("%.2f", r.goroutines), "", nil},
			row{fmt.Sprintf("AC open files per session, %s", r.v), fmt.Sprintf("%.2f", r.fds), "", nil})
		if r.idle {
			rows = append(rows, row{fmt.Sprintf("AC CPU on keepalive, %d idle sessions, %ds, %s", r.up, keepalive, r.v),
				fmt.Sprintf("%.2f%% of one core over %v, %d sessions lost", 100*r.keepCPU, r.keepWindow.Round(time.Second), r.keepLost),
				"< 5%", check(r.keepCPU < targetKeepalive)})
		}
		rows = append(rows, row{fmt.Sprintf("teardown on AC /quit, %s", r.v),
			fmt.Sprintf("%d sessions in %v (%.0f/s) to the last one's end; %d by the AC's PADT, the rest by the subscriber's after LCP Terminate",
				r.downUp, r.teardown.Round(time.Millisecond), float64(r.downUp)/r.teardown.Seconds(), r.padtIn), "", nil})
	}
	rows = append(rows, micro...)

	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "\nrosh scale benchmark: %d CPUs (%s), %s, %s, %v\n", runtime.NumCPU(), cpuModel(), runtime.Version(),
		time.Now().Format("2006-01-02 15:04"), took.Round(time.Second))
	fmt.Fprintf(w, "AC: a rosh process in a network namespace. Subscribers: package emulate (rosh emulate), in the test process, "+
		"on the other end of a veth, at most %d in setup at once. Both share the CPUs.\n\n", *pendFlag)
	fmt.Fprintln(w, "FIGURE\tVALUE\tTARGET\t")
	for _, r := range rows {
		mark := ""
		if r.met != nil {
			mark = map[bool]string{true: "met", false: "MISSED"}[*r.met]
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", r.figure, r.value, r.target, mark)
	}
	w.Flush()
}

func cpuModel() string {
	data, _ := os.ReadFile("/proc/cpuinfo")
	if m := regexp.MustCompile(`(?m)^model name\s*:\s*(.+)$`).FindSubmatch(data); m != nil {
		return string(m[1])
	}
	return runtime.GOARCH
}

// microBenchmarks summarises `go test -bench -benchmem` output: a row per
// benchmark with its package, ns/op, allocs/op and whatever throughput it
// reports (MB/s, Gbit/s …). A package that failed fails the test, so
// `make bench` does too.
func microBenchmarks(t *testing.T, path string) []row {
	if path == "" {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		t.Errorf("micro-benchmarks: %v", err)
		return nil
	}
	defer f.Close()
	var rows []row
	pkg := ""
	line := regexp.MustCompile(`^(Benchmark\S+?)(-\d+)?\s+\d+\s+(.*)$`)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, "pkg: "):
			pkg = strings.TrimPrefix(strings.TrimPrefix(l, "pkg: "), "rosh/")
		case strings.HasPrefix(l, "FAIL"), strings.HasPrefix(l, "--- FAIL"):
			t.Errorf("micro-benchmarks: %s", l)
			rows = append(rows, row{"micro-benchmarks FAILED", l, "", nil})
		default:
			m := line.FindStringSubmatch(l)
			if m == nil {
				continue
			}
			fields := strings.Fields(m[3])
			var parts []string
			for i := 0; i+1 < len(fields); i += 2 {
				if fields[i+1] != "B/op" { // allocs/op says enough
					parts = append(parts, fields[i]+" "+fields[i+1])
				}
			}
			rows = append(rows, row{pkg + " " + strings.TrimPrefix(m[1], "Benchmark"), strings.Join(parts, ", "), "", nil})
		}
	}
	return rows
}
