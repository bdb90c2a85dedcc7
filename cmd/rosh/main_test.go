package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

var roshBin string

// TestMain builds the rosh binary once; the tests run it as a person or a
// script would.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "rosh-bin")
	if err != nil {
		panic(err)
	}
	roshBin = filepath.Join(dir, "rosh")
	if out, err := exec.Command("go", "build", "-o", roshBin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building rosh: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// screen collects what rosh writes to the terminal.
type screen struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *screen) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *screen) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

var ansi = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][0-9A-Za-z]|\x1b[=>]`)

// waitFor waits until the screen text after offset `from` contains want.
func (s *screen) waitFor(t *testing.T, from int, want string) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		text := s.String()
		if from <= len(text) {
			plain := ansi.ReplaceAllString(text[from:], "")
			if strings.Contains(plain, want) {
				return len(text)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %q; screen:\n%q", want, ansi.ReplaceAllString(s.String()[from:], ""))
	return 0
}

// TestInteractiveTerminal drives rosh on a real pseudo-terminal: Tab
// completes /int to /interface, ? lists the menu's commands, Ctrl-D leaves
// with the terminal restored.
func TestInteractiveTerminal(t *testing.T) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	defer tty.Close()
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 40, Cols: 120}); err != nil {
		t.Fatal(err)
	}
	before, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(roshBin, "--config", filepath.Join(t.TempDir(), "config.rsc"))
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.Env = append(os.Environ(), "TERM=xterm")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	var scr screen
	go io.Copy(&scr, ptmx)

	type_ := func(s string) { ptmx.Write([]byte(s)) }
	at := scr.waitFor(t, 0, "[admin@MikroTik] > ")

	// Keys are sent one at a time, as typed: go-prompt reads a burst of
	// bytes as one key.
	type_("/int")
	at = scr.waitFor(t, at, "/int")
	time.Sleep(100 * time.Millisecond)
	type_("\t")
	at = scr.waitFor(t, at, "> /interface")
	time.Sleep(100 * time.Millisecond)
	type_("\r")
	at = scr.waitFor(t, at, "[admin@MikroTik] /interface> ")

	time.Sleep(100 * time.Millisecond)
	type_("?")
	help := scr.waitFor(t, at, "pppoe-client")
	for _, want := range []string{"print", "export", "pppoe-server", "PPPoE client interfaces"} {
		if !strings.Contains(ansi.ReplaceAllString(scr.String()[at:help], ""), want) {
			t.Errorf("? help lacks %q: %q", want, ansi.ReplaceAllString(scr.String()[at:help], ""))
		}
	}
	time.Sleep(100 * time.Millisecond)

	type_("\x04") // Ctrl-D on an empty line
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("rosh exited with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("rosh did not exit on Ctrl-D; screen:\n%q", scr.String())
	}
	after, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	const modes = unix.ECHO | unix.ICANON | unix.ISIG
	if before.Lflag&modes != after.Lflag&modes || before.Iflag != after.Iflag || before.Oflag != after.Oflag {
		t.Errorf("terminal not restored: lflag %#x -> %#x, iflag %#x -> %#x, oflag %#x -> %#x",
			before.Lflag, after.Lflag, before.Iflag, after.Iflag, before.Oflag, after.Oflag)
	}
}

// kill9Changes is 1,000 configuration changes — adds, sets and removes of
// /ip pool entries — and the /ip pool section of the export after each
// prefix of them: states[k] is the state after the first k changes.
func kill9Changes() (cmds []string, states []string) {
	type pool struct{ name, ranges string }
	var model []pool
	export := func() string {
		var b strings.Builder
		for _, p := range model {
			fmt.Fprintf(&b, "add name=%s ranges=%s\n", p.name, p.ranges)
		}
		return b.String()
	}
	states = append(states, export())
	for i := range 1000 {
		switch {
		case i%4 == 3 && len(model) >= 2:
			j := (i * 7) % len(model)
			model[j].ranges = fmt.Sprintf("10.200.%d.%d", i/256, i%256)
			cmds = append(cmds, fmt.Sprintf("/ip pool set %s ranges=%s", model[j].name, model[j].ranges))
		case i%9 == 8 && len(model) >= 3:
			j := (i * 5) % len(model)
			cmds = append(cmds, "/ip pool remove "+model[j].name)
			model = append(model[:j], model[j+1:]...)
		default:
			p := pool{fmt.Sprintf("p%d", i), fmt.Sprintf("10.%d.%d.1", i/256, i%256)}
			model = append(model, p)
			cmds = append(cmds, fmt.Sprintf("/ip pool add name=%s ranges=%s", p.name, p.ranges))
		}
		states = append(states, export())
	}
	return cmds, states
}

// poolSection is the "add" lines of the /ip pool section of an export.
func poolSection(export string) string {
	var b strings.Builder
	in := false
	for _, l := range strings.Split(export, "\n") {
		switch {
		case strings.HasPrefix(l, "/"):
			in = l == "/ip pool"
		case in && strings.HasPrefix(l, "add "):
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// TestKill9DuringChanges kills rosh with SIGKILL in the middle of 1,000
// rapid changes (adds, sets and removes), several times at different
// moments: the configuration file must always load, and what it loads
// must be exactly the state after some prefix of the changes — not a
// mix, not a torn entry, not a change without the ones before it.
func TestKill9DuringChanges(t *testing.T) {
	cmds, states := kill9Changes()
	cfg := filepath.Join(t.TempDir(), "config.rsc")
	for round, delay := range []time.Duration{0, 2 * time.Millisecond, 10 * time.Millisecond, 40 * time.Millisecond, 150 * time.Millisecond} {
		os.Remove(cfg)
		cmd := exec.Command(roshBin, "--config", cfg)
		in, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdout = io.Discard
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() {
			for _, c := range cmds {
				if _, err := io.WriteString(in, c+"\n"); err != nil {
					return
				}
			}
		}()
		// The moment counts from the first save, not from the start of
		// the process, so that every round kills in the middle of it.
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			if _, err := os.Stat(cfg); err == nil {
				break
			}
		}
		time.Sleep(delay)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()

		check := exec.Command(roshBin, "--config", cfg)
		check.Stdin = strings.NewReader("/export\n")
		var out, errOut bytes.Buffer
		check.Stdout, check.Stderr = &out, &errOut
		if err := check.Run(); err != nil || errOut.Len() > 0 {
			t.Fatalf("round %d: configuration does not load after kill -9: %v %s", round, err, errOut.String())
		}
		got := poolSection(out.String())
		prefix := -1
		for k := len(states) - 1; k >= 0; k-- {
			if states[k] == got {
				prefix = k
				break
			}
		}
		if prefix < 0 {
			t.Fatalf("round %d: the loaded configuration is the state after no prefix of the changes:\n%s", round, got)
		}
		t.Logf("round %d: killed %v after the first save: the file holds the state after the first %d of 1000 changes", round, delay, prefix)
	}
}

func TestVersion(t *testing.T) {
	out, err := exec.Command(roshBin, "version").Output()
	if err != nil || !strings.HasPrefix(string(out), "rosh ") {
		t.Fatalf("rosh version: %q %v", out, err)
	}
}

// TestLab drives `rosh lab` on a pseudo-terminal as a newcomer would: the
// seed's client line, monitor until connected, Ctrl-D; no namespace stays.
func TestLab(t *testing.T) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	defer tty.Close()
	pty.Setsize(ptmx, &pty.Winsize{Rows: 40, Cols: 200})
	prefix := fmt.Sprintf("rosh-lab-t%d", os.Getpid())
	cmd := exec.Command(roshBin, "lab")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.Env = append(os.Environ(), "TERM=xterm", "ROSH_LAB_PREFIX="+prefix)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		exec.Command("ip", "netns", "del", prefix+"-ac").Run()
		exec.Command("ip", "netns", "del", prefix+"-client").Run()
	})
	var scr screen
	go io.Copy(&scr, ptmx)
	at := scr.waitFor(t, 0, "[admin@MikroTik] > ")
	ptmx.Write([]byte("/interface pppoe-client add interface=ether2 password=StrongPass service-name=pppoeservice name=PPPoE-Out disabled=no user=MT-User"))
	time.Sleep(200 * time.Millisecond)
	ptmx.Write([]byte("\r"))
	at = scr.waitFor(t, at, "[admin@MikroTik] > ")
	deadline := time.Now().Add(30 * time.Second)
	for {
		time.Sleep(500 * time.Millisecond)
		ptmx.Write([]byte("/interface pppoe-client monitor PPPoE-Out once"))
		time.Sleep(200 * time.Millisecond)
		ptmx.Write([]byte("\r"))
		next := scr.waitFor(t, at, "status:")
		time.Sleep(100 * time.Millisecond)
		if strings.Contains(ansi.ReplaceAllString(scr.String()[at:], ""), "status: connected") {
			break
		}
		at = next
		if time.Now().After(deadline) {
			t.Fatalf("lab client never connected; screen:\n%s", ansi.ReplaceAllString(scr.String(), ""))
		}
	}
	time.Sleep(200 * time.Millisecond)
	ptmx.Write([]byte("\x04"))
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("rosh lab exited with %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("rosh lab did not exit on Ctrl-D")
	}
	out, _ := exec.Command("ip", "netns", "list").Output()
	if strings.Contains(string(out), prefix) {
		t.Errorf("lab namespaces left behind:\n%s", out)
	}
}
