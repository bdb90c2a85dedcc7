//go:build interop

package interop

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"rosh/nstest"
)

// peer is one run of pppd-server.sh or pppd-client.sh: a qemu guest with
// pppd bridged onto a veth end in a namespace. The script owns the TAP,
// the bridge and qemu; peer owns the script, and stops it at cleanup
// whatever happened to the test.
type peer struct {
	t       *testing.T
	role    string // "server" or "client"
	cmd     *exec.Cmd
	Out     *nstest.Output // the script's stdout and stderr
	Console string         // the guest's console log: pppd's debug packet dump
	rundir  string
	exited  chan struct{}
	err     error
	started time.Time
}

// startPeer runs script (pppd-server.sh or pppd-client.sh) in namespace
// ns on iface with args. Its console log goes to dir.
func startPeer(t *testing.T, role, ns, iface, dir string, args ...string) *peer {
	t.Helper()
	script := filepath.Join(peersDir, "pppd-"+role+".sh")
	p := &peer{t: t, role: role, Out: &nstest.Output{}, Console: filepath.Join(dir, "pppd-"+role+"-console.log"), exited: make(chan struct{})}
	// RUNDIR holds the initrd copy, the control FIFOs and qemu.pid; it is
	// ours, so that a qemu left behind can always be found and killed.
	rundir, err := os.MkdirTemp(runRoot, role+"-")
	if err != nil {
		t.Fatal(err)
	}
	p.rundir = rundir
	p.cmd = exec.Command("bash", append([]string{script, ns, iface, "--log", p.Console}, args...)...)
	p.cmd.Env = append(os.Environ(), "RUNDIR="+rundir)
	p.cmd.Stdout, p.cmd.Stderr = p.Out, p.Out
	// Its own process group: a last-resort SIGKILL reaches qemu too.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	t.Logf("%s: %s", role, strings.Join(p.cmd.Args, " "))
	p.started = time.Now()
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		p.Stop()
		// The script's own lines (not the guest's console): timings.
		var lines []string
		for _, l := range strings.Split(p.Out.String(), "\n") {
			if strings.HasPrefix(l, "["+role+"] ") && !strings.Contains(l, "guest console log") {
				lines = append(lines, l)
			}
		}
		t.Logf("pppd-%s.sh: %.1fs in all\n%s", role, time.Since(p.started).Seconds(), strings.Join(lines, "\n"))
		if t.Failed() {
			t.Logf("pppd-%s.sh wrote:\n%s", role, p.Out.String())
			if b, err := os.ReadFile(p.Console); err == nil {
				t.Logf("guest console log %s:\n%s", p.Console, b)
			}
		}
		os.RemoveAll(rundir)
	})
	return p
}

// WaitFor waits until the script's output matches re and returns the
// submatches; it fails the test if the script exits first or time runs out.
func (p *peer) WaitFor(re *regexp.Regexp, timeout time.Duration) []string {
	p.t.Helper()
	deadline := time.After(timeout)
	for {
		if m := re.FindStringSubmatch(p.Out.String()); m != nil {
			return m
		}
		select {
		case <-p.exited:
			if m := re.FindStringSubmatch(p.Out.String()); m != nil {
				return m
			}
			p.t.Fatalf("pppd-%s.sh exited (%v) before printing %q", p.role, p.err, re)
		case <-deadline:
			p.t.Fatalf("pppd-%s.sh did not print %q within %v", p.role, re, timeout)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Wait waits for the script to end by itself and returns its exit code.
func (p *peer) Wait(timeout time.Duration) int {
	p.t.Helper()
	select {
	case <-p.exited:
	case <-time.After(timeout):
		p.t.Fatalf("pppd-%s.sh still running after %v", p.role, timeout)
	}
	return p.cmd.ProcessState.ExitCode()
}

// Stop ends the script gracefully (SIGTERM: pppd terminates its sessions
// with LCP Terminate-Request, the guest powers off, TAP and bridge go)
// and, if it does not end, kills its process group and its qemu.
func (p *peer) Stop() int {
	select {
	case <-p.exited:
	default:
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(30 * time.Second):
			p.t.Logf("pppd-%s.sh ignored SIGTERM for 30 s: killing its process group", p.role)
			syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.exited
		}
	}
	// The script kills qemu itself; make sure, by the pid it recorded.
	if b, err := os.ReadFile(filepath.Join(p.rundir, "qemu.pid")); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 0 {
			if syscall.Kill(pid, 0) == nil && isQemu(pid) {
				p.t.Logf("qemu %d outlived pppd-%s.sh: killing it", pid, p.role)
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
	return p.cmd.ProcessState.ExitCode()
}

func isQemu(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return err == nil && strings.Contains(string(b), "qemu-system")
}

// ConsoleLog is the guest's console so far, carriage returns removed.
func (p *peer) ConsoleLog() string {
	b, _ := os.ReadFile(p.Console)
	return strings.ReplaceAll(string(b), "\r", "")
}

// WaitConsole waits until the console log matches re.
func (p *peer) WaitConsole(re *regexp.Regexp, timeout time.Duration) []string {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if m := re.FindStringSubmatch(p.ConsoleLog()); m != nil {
			return m
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("guest console never matched %q within %v", re, timeout)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// capture records iface in ns with tcpdump into file until the test ends;
// the returned function stops it early.
func capture(t *testing.T, ns, iface, file string) func() {
	// Immediate mode: without it frames still in the kernel's capture
	// ring when tcpdump is stopped are lost (the end of a session).
	cmd := nstest.Exec(ns, "tcpdump", "--immediate-mode", "-U", "-n", "-s", "0", "-i", iface, "-w", file)
	if err := cmd.Start(); err != nil {
		t.Fatalf("tcpdump: %v", err)
	}
	time.Sleep(300 * time.Millisecond) // let tcpdump attach
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cmd.Process.Signal(syscall.SIGINT)
			cmd.Wait()
		}
	}
	t.Cleanup(stop)
	return stop
}

// checkPcap fails the test if tshark finds a malformed frame in file.
func checkPcap(t *testing.T, file string) string {
	t.Helper()
	out, err := exec.Command("tshark", "-r", file, "-Y", "_ws.malformed").Output()
	if err != nil {
		t.Errorf("tshark -r %s: %v\n%s", file, err, out)
		return ""
	}
	if s := strings.TrimSpace(string(out)); s != "" {
		t.Errorf("tshark finds malformed frames in %s:\n%s", file, s)
	}
	all, _ := exec.Command("tshark", "-r", file).Output()
	return string(all)
}

// macOf is iface's MAC address in ns, upper case as RouterOS prints it.
func macOf(t *testing.T, ns, iface string) string {
	t.Helper()
	f := strings.Fields(nstest.Run(t, "ip", "-n", ns, "-br", "link", "show", iface))
	if len(f) < 3 {
		t.Fatalf("ip link show %s: %v", iface, f)
	}
	return strings.ToUpper(f[2])
}

// field is a "name: value" line of monitor's output.
func field(out, name string) string {
	m := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(name) + `: (.*)$`).FindStringSubmatch(out)
	if m == nil {
		return ""
	}
	return strings.TrimSpace(m[1])
}
