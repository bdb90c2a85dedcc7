package main

import (
	"bytes"
	"fmt"
	"io"
	"math/rand"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"rosh/menus"
	"rosh/nstest"
)

// served is a `rosh serve` the test started.
type served struct {
	cmd    *exec.Cmd
	out    *nstest.Output
	socket string
	config string
	exited chan struct{}
	err    error
}

// startServe starts `rosh serve` (in namespace ns, or the test's own when
// ns is "") on config and socket, with env added to its environment, and
// waits until it listens.
func startServe(t *testing.T, ns, config, socket string, env ...string) *served {
	t.Helper()
	args := []string{"serve", "--config", config, "--socket", socket}
	d := &served{out: &nstest.Output{}, socket: socket, config: config, exited: make(chan struct{})}
	if ns != "" {
		d.cmd = nstest.Exec(ns, roshBin, args...)
	} else {
		d.cmd = exec.Command(roshBin, args...)
	}
	d.cmd.Stdout, d.cmd.Stderr = d.out, d.out
	d.cmd.Env = append(os.Environ(), env...)
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.err = d.cmd.Wait(); close(d.exited) }()
	t.Cleanup(func() {
		d.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-d.exited:
		case <-time.After(15 * time.Second):
			d.cmd.Process.Kill()
			<-d.exited
		}
		if t.Failed() {
			t.Logf("rosh serve %s wrote:\n%s", config, d.out.String())
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(d.out.String(), "consoles attach on") {
		select {
		case <-d.exited:
			t.Fatalf("rosh serve ended (%v):\n%s", d.err, d.out.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("rosh serve does not listen after 10 s:\n%s", d.out.String())
		}
	}
	return d
}

// stop sends sig and waits for the daemon to end; it returns its exit
// status.
func (d *served) stop(t *testing.T, sig syscall.Signal) int {
	t.Helper()
	d.cmd.Process.Signal(sig)
	select {
	case <-d.exited:
	case <-time.After(20 * time.Second):
		t.Fatalf("rosh serve did not end on %v:\n%s", sig, d.out.String())
	}
	return d.cmd.ProcessState.ExitCode()
}

// console runs `rosh console` on socket with script as its input and
// returns what it printed and its exit status.
func console(t *testing.T, socket, script string) (string, int) {
	t.Helper()
	cmd := exec.Command(roshBin, "console", "--socket", socket)
	cmd.Stdin = strings.NewReader(script)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Run()
	return out.String(), cmd.ProcessState.ExitCode()
}

// pollConsole attaches consoles running line until the output contains want.
func pollConsole(t *testing.T, socket, line, want string, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		out, _ := console(t, socket, line+"\n")
		if strings.Contains(out, want) {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("%q never printed %q within %v; last:\n%s", line, want, timeout, out)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

func goroutines(t *testing.T, socket string) int {
	t.Helper()
	out, _ := console(t, socket, "/system resource print\n")
	n, err := strconv.Atoi(field(out, "goroutines"))
	if err != nil {
		t.Fatalf("/system resource print: %q", out)
	}
	return n
}

// TestServeKeepsSessions is the service issue's acceptance on a namespace
// pair: both routers run `rosh serve` with the seed's configuration, the
// client connects; consoles attach and detach (piped, /quit, and one
// killed with SIGKILL in the middle of an interactive monitor) and the
// session's uptime never resets, the daemon's goroutines return to their
// baseline (Ctrl-C stops a monitor through the socket first); SIGTERM to the AC sends LCP Terminate and PADT and leaves no
// TUN device and no route.
func TestServeKeepsSessions(t *testing.T) {
	pair := nstest.NewPair(t)
	stopCapture := capture(t, pair.AC, pair.ACIf)
	dir := t.TempDir()
	acCfg, clCfg := filepath.Join(dir, "ac.rsc"), filepath.Join(dir, "client.rsc")
	os.WriteFile(acCfg, []byte(strings.Join(seedAC, "\n")+"\n"), 0o600)
	os.WriteFile(clCfg, []byte(seedClient+"\n"), 0o600)
	ac := startServe(t, pair.AC, acCfg, filepath.Join(dir, "ac.sock"))
	cl := startServe(t, pair.Client, clCfg, filepath.Join(dir, "client.sock"))

	const monitor = "/interface pppoe-client monitor PPPoE-Out once"
	pollConsole(t, cl.socket, monitor, "status: connected", 30*time.Second)
	connected := time.Now()
	acMAC := macOf(t, pair.AC, pair.ACIf)

	// The uptime the client's monitor shows, attaching for it.
	var last time.Duration
	checkUptime := func(script string) {
		t.Helper()
		out, code := console(t, cl.socket, script)
		if code != 0 || !strings.Contains(out, "status: connected") {
			t.Fatalf("console (status %d):\n%s", code, out)
		}
		up, err := menus.ParseDuration(field(out, "uptime"))
		if err != nil {
			t.Fatalf("uptime %q: %v", field(out, "uptime"), err)
		}
		if up < last || up+2*time.Second < time.Since(connected) {
			t.Fatalf("uptime %v after %v (last %v): the session was restarted", up, time.Since(connected), last)
		}
		last = up
	}
	checkUptime(monitor + "\n")
	time.Sleep(1100 * time.Millisecond)
	checkUptime(monitor + "\n/quit\n")
	time.Sleep(1100 * time.Millisecond)
	checkUptime("/interface pppoe-client\nmonitor PPPoE-Out once\n")
	if out, _ := console(t, ac.socket, "/ppp active print count-only\n"); strings.TrimSpace(out) != "1" {
		t.Errorf("the AC has %q sessions, want 1", out)
	}

	// A console killed in the middle of a monitor costs the daemon
	// nothing: its goroutine count returns to the baseline (counted, as
	// every count here, with the one console asking).
	baseline := goroutines(t, cl.socket)
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	defer tty.Close()
	pty.Setsize(ptmx, &pty.Winsize{Rows: 40, Cols: 120})
	con := exec.Command(roshBin, "console", "--socket", cl.socket)
	con.Stdin, con.Stdout, con.Stderr = tty, tty, tty
	con.Env = append(os.Environ(), "TERM=xterm")
	con.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := con.Start(); err != nil {
		t.Fatal(err)
	}
	var scr screen
	go io.Copy(&scr, ptmx)
	at := scr.waitFor(t, 0, "[admin@MikroTik] > ")
	ptmx.Write([]byte("/interface pppoe-client monitor PPPoE-Out"))
	time.Sleep(200 * time.Millisecond)
	ptmx.Write([]byte("\r"))
	at = scr.waitFor(t, at, "uptime:")
	at = scr.waitFor(t, at, "uptime:") // a live monitor: a second report
	// Ctrl-C reaches the daemon: the monitor stops, the prompt returns.
	ptmx.Write([]byte("\x03"))
	at = scr.waitFor(t, at, "[admin@MikroTik] > ")
	time.Sleep(200 * time.Millisecond)
	ptmx.Write([]byte("/interface pppoe-client monitor PPPoE-Out"))
	time.Sleep(200 * time.Millisecond)
	ptmx.Write([]byte("\r"))
	at = scr.waitFor(t, at, "uptime:")
	scr.waitFor(t, at, "uptime:")
	during := goroutines(t, cl.socket)
	con.Process.Signal(syscall.SIGKILL)
	con.Wait()
	deadline := time.Now().Add(10 * time.Second)
	n := goroutines(t, cl.socket)
	for ; n > baseline && time.Now().Before(deadline); n = goroutines(t, cl.socket) {
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("daemon goroutines: %d before, %d with a console in monitor, %d after it was killed", baseline, during, n)
	if n > baseline {
		t.Errorf("%d goroutines after the console was killed, baseline %d", n, baseline)
	}
	if during <= baseline {
		t.Errorf("the monitoring console cost no goroutine (%d, baseline %d): the count measures nothing", during, baseline)
	}
	checkUptime(monitor + "\n")

	// SIGTERM: every session ends cleanly, nothing stays behind.
	links := nstest.Run(t, "ip", "-n", pair.AC, "-br", "link")
	routes := nstest.Run(t, "ip", "-n", pair.AC, "route")
	if !strings.Contains(links, "pppoe") || !strings.Contains(routes, "10.0.0.") {
		t.Fatalf("no session TUN device or route on the AC before the stop:\n%s\n%s", links, routes)
	}
	if code := ac.stop(t, syscall.SIGTERM); code != 0 {
		t.Errorf("rosh serve exited %d on SIGTERM:\n%s", code, ac.out.String())
	}
	links = nstest.Run(t, "ip", "-n", pair.AC, "-br", "link")
	routes = nstest.Run(t, "ip", "-n", pair.AC, "route")
	if strings.Contains(links, "pppoe") || strings.Contains(routes, "10.0.0.") {
		t.Errorf("after SIGTERM the AC keeps a TUN device or a route:\n%s\n%s", links, routes)
	}
	if code := cl.stop(t, syscall.SIGTERM); code != 0 {
		t.Errorf("client rosh serve exited %d on SIGTERM", code)
	}
	if l := nstest.Run(t, "ip", "-n", pair.Client, "-br", "link"); strings.Contains(l, "pppoe") {
		t.Errorf("after SIGTERM the client keeps a TUN device:\n%s", l)
	}
	file := stopCapture()
	all, err := exec.Command("tshark", "-r", file, "-Y", "eth.src == "+strings.ToLower(acMAC)+" && (pppoe.code == 0xa7 || (lcp && ppp.code == 5))").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	t.Logf("from the AC after SIGTERM:\n%s", all)
	if !strings.Contains(string(all), "PADT") || !strings.Contains(string(all), "Termination Request") {
		t.Errorf("no LCP Terminate-Request and PADT from the AC on the capture:\n%s", all)
	}
}

// TestServeConsoles: two consoles change the configuration at once, 1,000
// commands each, in the same tables and in menus of their own; the final
// configuration is what the two streams imply, and the file on disk loads
// to it. A piped script reports the same lines and status through the
// daemon as in-process. A second daemon on the same configuration or
// socket is refused; one killed with SIGKILL is replaced by the next.
// systemd hears READY=1 and STOPPING=1 on $NOTIFY_SOCKET; SIGHUP and
// hostile bytes on the socket do not stop the daemon.
func TestServeConsoles(t *testing.T) {
	dir := t.TempDir()
	cfg, sock := filepath.Join(dir, "config.rsc"), filepath.Join(dir, "rosh.sock")
	notifyPath := filepath.Join(dir, "notify.sock")
	notifications, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: notifyPath, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer notifications.Close()
	notified := func() string {
		t.Helper()
		buf := make([]byte, 4096)
		notifications.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, err := notifications.Read(buf)
		if err != nil {
			t.Fatalf("no sd_notify datagram: %v", err)
		}
		return string(buf[:n])
	}
	d := startServe(t, "", cfg, sock, "NOTIFY_SOCKET="+notifyPath)
	if got, want := notified(), fmt.Sprintf("READY=1\nMAINPID=%d", d.cmd.Process.Pid); got != want {
		t.Errorf("sd_notify at start: %q, want %q", got, want)
	}
	d.cmd.Process.Signal(syscall.SIGHUP)

	var a, b strings.Builder
	a.WriteString("/ip pool\n")
	b.WriteString("/ppp secret\n")
	for i := 0; i < 1000; i++ {
		switch {
		case i%10 == 9:
			fmt.Fprintf(&a, "remove a%d\n", i-5)
			fmt.Fprintf(&b, "set b%d password=changed%d\n", i-4, i)
		case i%2 == 0:
			fmt.Fprintf(&a, "add name=a%d ranges=10.1.%d.%d\n", i, i/256, i%256)
			fmt.Fprintf(&b, "/ip pool add name=b%d ranges=10.2.%d.%d\n", i, i/256, i%256)
		default:
			fmt.Fprintf(&a, "/ppp secret add name=a%d password=x\n", i)
			fmt.Fprintf(&b, "add name=b%d password=p%d\n", i, i)
		}
	}
	var wg sync.WaitGroup
	outs := make([]string, 2)
	codes := make([]int, 2)
	start := time.Now()
	for i, s := range []string{a.String(), b.String()} {
		wg.Add(1)
		go func() { defer wg.Done(); outs[i], codes[i] = console(t, sock, s) }()
	}
	wg.Wait()
	t.Logf("2 × 1,000 commands through two consoles at once in %v", time.Since(start))
	for i := range outs {
		if codes[i] != 0 || outs[i] != "" {
			t.Fatalf("stream %d: status %d:\n%s", i, codes[i], outs[i])
		}
	}
	// What the streams imply: the same lines run one after the other in
	// a rosh of its own.
	want := exportLines(t, inProcess(t, filepath.Join(dir, "want.rsc"), a.String()+b.String()+"/export\n"))
	got := exportLines(t, mustConsole(t, sock, "/export\n"))
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("configuration after the two streams differs:\ngot  %d lines\nwant %d lines\n%s", len(got), len(want), diffLines(want, got))
	}

	// A piped script through the daemon: the same output and status as
	// the same script in-process.
	script := "/ip pool print count-only\n/ip pool add name=a0 ranges=10.9.0.1\n/ip pool\nadd nme=x\nprint count-only where name~\"^b\"\n"
	remoteOut, remoteCode := console(t, sock, script)
	localCmd := exec.Command(roshBin, "--config", filepath.Join(dir, "want.rsc"))
	localCmd.Stdin = strings.NewReader(script)
	localOut, _ := localCmd.CombinedOutput()
	if remoteOut != string(localOut) || remoteCode != localCmd.ProcessState.ExitCode() || remoteCode != 1 {
		t.Errorf("script through the daemon (status %d):\n%s\nin-process (status %d):\n%s", remoteCode, remoteOut, localCmd.ProcessState.ExitCode(), localOut)
	}

	// Hostile bytes on the real daemon's socket: junk, a 4 GiB frame, a
	// hello then junk. The daemon and its consoles go on.
	rng := rand.New(rand.NewSource(12))
	for i := 0; i < 10; i++ {
		c, err := net.Dial("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		junk := make([]byte, rng.Intn(8192))
		rng.Read(junk)
		switch i % 3 {
		case 1:
			junk = append([]byte{'X', 0xff, 0xff, 0xff, 0xff}, junk...)
		case 2:
			junk = append([]byte("H\x00\x00\x00\x06rosh1\x00"), junk...)
		}
		c.Write(junk)
		c.Close()
	}
	if out := mustConsole(t, sock, "/ip pool print count-only\n"); strings.TrimSpace(out) == "" {
		t.Errorf("after hostile bytes the daemon answers %q", out)
	}

	// One daemon per configuration and per socket.
	for _, args := range [][]string{{"--config", cfg, "--socket", filepath.Join(dir, "other.sock")}, {"--config", filepath.Join(dir, "other.rsc"), "--socket", sock}} {
		out, err := exec.Command(roshBin, append([]string{"serve"}, args...)...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "another rosh serve") && !strings.Contains(string(out), "already served") {
			t.Errorf("a second rosh serve %v: %v\n%s", args, err, out)
		}
	}
	// `rosh --config FILE` with a daemon serving FILE attaches to it, and
	// so does `rosh` with a daemon on its --socket.
	secrets := strings.TrimSpace(mustConsole(t, sock, "/ppp secret print count-only\n"))
	for _, args := range [][]string{{"--config", cfg}, {"--socket", sock}} {
		attach := exec.Command(roshBin, args...)
		attach.Stdin = strings.NewReader("/ppp secret print count-only\n")
		if out, err := attach.CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != secrets {
			t.Errorf("rosh %v with a daemon: %v %q, want %s", args, err, out, secrets)
		}
	}

	// SIGTERM: the file on disk loads to the same configuration.
	if code := d.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("rosh serve exited %d on SIGTERM", code)
	}
	if got := notified(); got != "STOPPING=1" {
		t.Errorf("sd_notify at stop: %q", got)
	}
	if _, err := os.Stat(sock); err == nil {
		t.Errorf("the socket stays after the daemon stopped")
	}
	if loaded := exportLines(t, inProcess(t, cfg, "/export\n")); strings.Join(loaded, "\n") != strings.Join(got, "\n") {
		t.Errorf("the saved file loads to another configuration:\n%s", diffLines(got, loaded))
	}

	// A daemon killed with SIGKILL leaves its socket file; the next one
	// replaces it, with the configuration as it was.
	d = startServe(t, "", cfg, sock)
	d.stop(t, syscall.SIGKILL)
	if _, err := os.Stat(sock); err != nil {
		t.Fatalf("no stale socket to replace: %v", err)
	}
	startServe(t, "", cfg, sock)
	if again := exportLines(t, mustConsole(t, sock, "/export\n")); strings.Join(again, "\n") != strings.Join(got, "\n") {
		t.Errorf("after a SIGKILL the next daemon has another configuration:\n%s", diffLines(got, again))
	}
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %v, want 0600 (%v)", fi.Mode().Perm(), err)
	}
}

func mustConsole(t *testing.T, socket, script string) string {
	t.Helper()
	out, code := console(t, socket, script)
	if code != 0 {
		t.Fatalf("console %q: status %d\n%s", script, code, out)
	}
	return out
}

// inProcess runs script in a rosh of its own on config.
func inProcess(t *testing.T, config, script string) string {
	t.Helper()
	cmd := exec.Command(roshBin, "--config", config)
	cmd.Stdin = strings.NewReader(script)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("rosh --config %s: %v\n%s", config, err, out)
	}
	return string(out)
}

var exportHeader = regexp.MustCompile(`^# .* by rosh `)

// exportLines is an export without its header, sorted: two consoles'
// adds interleave differently from run to run, the set of lines does not.
func exportLines(t *testing.T, export string) []string {
	var out []string
	for _, l := range strings.Split(export, "\n") {
		if l != "" && !exportHeader.MatchString(l) {
			out = append(out, l)
		}
	}
	if len(out) < 100 {
		t.Fatalf("export of %d lines:\n%s", len(out), export)
	}
	sort.Strings(out)
	return out
}

// diffLines lists the lines only one side has.
func diffLines(want, got []string) string {
	in := func(l []string) map[string]bool {
		m := map[string]bool{}
		for _, x := range l {
			m[x] = true
		}
		return m
	}
	w, g := in(want), in(got)
	var b strings.Builder
	for _, x := range want {
		if !g[x] {
			fmt.Fprintf(&b, "-%s\n", x)
		}
	}
	for _, x := range got {
		if !w[x] {
			fmt.Fprintf(&b, "+%s\n", x)
		}
	}
	return b.String()
}
