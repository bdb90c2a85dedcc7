// Package nstest gives tests a private network: two network namespaces
// joined by a veth pair (SPEC §6: "ether3" on the access concentrator's
// side, "ether2" on the client's), and rosh processes running in them,
// driven through their standard input the way a script would drive them.
// Everything is created with unique names and removed at cleanup, whether
// the test passed or not; no host interface is touched.
package nstest

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netns"

	"rosh/link"
	"rosh/nstest/impair"
)

var serial atomic.Int32

// Pair is two namespaces joined by a veth pair.
type Pair struct {
	// AC and Client are the namespaces' names.
	AC, Client string
	// ACIf and ClientIf are the veth ends: ether3 and ether2.
	ACIf, ClientIf string
	// ACMAC and ClientMAC are the ends' addresses if the test fixed them
	// (MACs); nil means the kernel chose them.
	ACMAC, ClientMAC net.HardwareAddr
	// Relay, with Impaired, is the relay between the two sides, in
	// namespace RelayNS; nil otherwise.
	Relay   *impair.Relay
	RelayNS string

	impaired bool
}

// An Option changes how NewPair makes the pair.
type Option func(*Pair)

// MACs gives the veth ends fixed addresses, for a test that checks them on
// the wire.
func MACs(ac, client net.HardwareAddr) Option {
	return func(p *Pair) { p.ACMAC, p.ClientMAC = ac, client }
}

// Impaired puts a third namespace between the two, joined to each by a
// veth pair of its own, with an impair.Relay forwarding frames between
// them: a line whose loss and delay the test sets (Pair.Relay) while it
// runs. The relay's interfaces are "ac" (towards ether3) and "cl"
// (towards ether2); it starts unimpaired and is closed at cleanup.
func Impaired() Option {
	return func(p *Pair) { p.impaired = true }
}

// Run runs a command and fails the test if it fails.
func Run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// NewPair makes the two namespaces and the veth pair between them, with
// loopback up in both, and waits until both ends have carrier. It needs
// root.
func NewPair(t testing.TB, opts ...Option) *Pair {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("this test needs root: it makes network namespaces")
	}
	// The dash keeps pid 12 serial 34 apart from pid 123 serial 4: test
	// processes of several packages (or several checkouts) run at once.
	id := fmt.Sprintf("rn%d-%d", os.Getpid(), serial.Add(1))
	p := &Pair{AC: id + "a", Client: id + "c", ACIf: "ether3", ClientIf: "ether2"}
	for _, o := range opts {
		o(p)
	}
	names := []string{p.AC, p.Client}
	if p.impaired {
		p.RelayNS = id + "r"
		names = append(names, p.RelayNS)
	}
	for _, ns := range names {
		Run(t, "ip", "netns", "add", ns)
		t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
		Run(t, "ip", "-n", ns, "link", "set", "lo", "up")
	}
	if !p.impaired {
		veth(t, p.AC, p.ACIf, p.ACMAC, p.Client, p.ClientIf, p.ClientMAC)
		return p
	}
	veth(t, p.AC, p.ACIf, p.ACMAC, p.RelayNS, "ac", nil)
	veth(t, p.Client, p.ClientIf, p.ClientMAC, p.RelayNS, "cl", nil)
	err := InNamespace(p.RelayNS, func() error {
		var err error
		p.Relay, err = impair.Open("ac", "cl")
		return err
	})
	if err != nil {
		t.Fatalf("starting the relay in %s: %v", p.RelayNS, err)
	}
	// Registered after the namespaces' removal, so it runs before it.
	t.Cleanup(func() { p.Relay.Close() })
	return p
}

// veth makes a veth pair from interface a in namespace nsA (MAC macA, or
// the kernel's choice when nil) to b in nsB, both up with carrier. It is
// made inside nsA with the peer put straight into nsB: the pair never
// exists in the host's namespace.
func veth(t testing.TB, nsA, a string, macA net.HardwareAddr, nsB, b string, macB net.HardwareAddr) {
	t.Helper()
	add := []string{"-n", nsA, "link", "add", a}
	if macA != nil {
		add = append(add, "address", macA.String())
	}
	add = append(add, "type", "veth", "peer", "name", b)
	if macB != nil {
		add = append(add, "address", macB.String())
	}
	Run(t, "ip", append(add, "netns", nsB)...)
	Run(t, "ip", "-n", nsA, "link", "set", a, "up")
	Run(t, "ip", "-n", nsB, "link", "set", b, "up")
	waitCarrier(t, nsA, a)
	waitCarrier(t, nsB, b)
}

// waitCarrier waits for ifname in namespace ns to have carrier (LOWER_UP),
// and fails the test if it has none within 5 s.
func waitCarrier(t testing.TB, ns, ifname string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		out, _ := exec.Command("ip", "-n", ns, "-br", "link", "show", ifname).Output()
		if strings.Contains(string(out), "LOWER_UP") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s in %s has no carrier after 5s: %s", ifname, ns, out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// InNamespace runs fn on an OS thread that has entered namespace ns: a
// socket belongs to the namespace it was made in, so only its opening has
// to run there. The thread is a fresh goroutine's, locked for the
// duration; if it cannot switch back it stays locked, and Go retires it
// with the goroutine.
func InNamespace(ns string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			errc <- err
			return
		}
		defer orig.Close()
		target, err := netns.GetFromName(ns)
		if err != nil {
			errc <- err
			return
		}
		defer target.Close()
		if err := netns.Set(target); err != nil {
			errc <- err
			return
		}
		err = fn()
		if serr := netns.Set(orig); serr != nil {
			errc <- fmt.Errorf("restore netns: %w (after %v)", serr, err)
			return
		}
		runtime.UnlockOSThread()
		errc <- err
	}()
	return <-errc
}

// OpenPcap opens a pcap Link on ifname inside namespace ns from the test's
// own process, and fails the test if it cannot.
func OpenPcap(t testing.TB, ns, ifname string, opt link.PcapOptions) link.Link {
	t.Helper()
	var l link.Link
	err := InNamespace(ns, func() error {
		var err error
		l, err = link.OpenPcapWith(ifname, opt)
		return err
	})
	if err != nil {
		if l != nil {
			l.Close()
		}
		t.Fatalf("OpenPcap(%s in %s): %v", ifname, ns, err)
	}
	return l
}

// Exec returns a command running in namespace ns.
func Exec(ns string, name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", ns, name}, args...)...)
}

// Output collects a process's output for WaitFor.
type Output struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	cond chan struct{}
}

func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	n, err := o.buf.Write(p)
	if o.cond != nil {
		close(o.cond)
		o.cond = nil
	}
	return n, err
}

// String returns everything written so far.
func (o *Output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// Len is how much has been written: a mark for WaitFor.
func (o *Output) Len() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.Len()
}

// waitChange returns a channel closed at the next write.
func (o *Output) waitChange() <-chan struct{} {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.cond == nil {
		o.cond = make(chan struct{})
	}
	return o.cond
}

// Rosh is a rosh process in a namespace, driven through its stdin.
type Rosh struct {
	t   testing.TB
	cmd *exec.Cmd
	in  io.WriteCloser
	Out *Output
	// Config is the configuration file it uses.
	Config string
	exited chan struct{}
	err    error
}

// StartRosh starts bin in namespace ns with a configuration file in a
// temporary directory, plus extra arguments.
func StartRosh(t testing.TB, bin, ns string, args ...string) *Rosh {
	t.Helper()
	cfg := fmt.Sprintf("%s/config.rsc", t.TempDir())
	r := &Rosh{t: t, Out: &Output{}, Config: cfg, exited: make(chan struct{})}
	r.cmd = Exec(ns, bin, append([]string{"--config", cfg}, args...)...)
	r.cmd.Stdout, r.cmd.Stderr = r.Out, r.Out
	var err error
	if r.in, err = r.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.err = r.cmd.Wait(); close(r.exited) }()
	t.Cleanup(func() {
		r.in.Close()
		select {
		case <-r.exited:
		case <-time.After(15 * time.Second):
			r.cmd.Process.Kill()
			<-r.exited
		}
		if t.Failed() {
			t.Logf("rosh in %s wrote:\n%s", ns, r.Out.String())
		}
	})
	return r
}

// Send writes console lines.
func (r *Rosh) Send(lines ...string) {
	for _, l := range lines {
		if _, err := io.WriteString(r.in, l+"\n"); err != nil {
			r.t.Fatalf("writing %q to rosh: %v", l, err)
		}
	}
}

// WaitFor waits until the output written after mark contains want, and
// returns that output.
func (r *Rosh) WaitFor(mark int, want string, timeout time.Duration) string {
	r.t.Helper()
	deadline := time.After(timeout)
	for {
		ch := r.Out.waitChange()
		if s := r.Out.String(); len(s) >= mark && strings.Contains(s[mark:], want) {
			return s[mark:]
		}
		select {
		case <-ch:
		case <-deadline:
			r.t.Fatalf("timed out after %v waiting for %q; output since mark:\n%s", timeout, want, r.Out.String()[mark:])
		case <-r.exited:
			r.t.Fatalf("rosh exited (%v) while waiting for %q; output:\n%s", r.err, want, r.Out.String())
		}
	}
}

// Poll sends line every interval until the output it produces contains
// want; it returns that output.
func (r *Rosh) Poll(line, want string, timeout time.Duration) string {
	r.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		mark := r.Out.Len()
		r.Send(line)
		time.Sleep(200 * time.Millisecond)
		if s := r.Out.String()[mark:]; strings.Contains(s, want) {
			return s
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("%q never printed %q within %v; last output:\n%s", line, want, timeout, r.Out.String()[mark:])
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// Quit ends rosh with /quit and waits for it.
func (r *Rosh) Quit() error {
	r.Send("/quit")
	r.in.Close()
	select {
	case <-r.exited:
		return r.err
	case <-time.After(20 * time.Second):
		return fmt.Errorf("rosh did not quit")
	}
}

// Signal sends sig to rosh (SIGSTOP to freeze it, SIGKILL …). The process
// is `ip netns exec`, which execs rosh, so the pid is rosh's.
func (r *Rosh) Signal(sig syscall.Signal) {
	r.cmd.Process.Signal(sig)
}

// Pid is rosh's process id, for reading its /proc entries.
func (r *Rosh) Pid() int { return r.cmd.Process.Pid }

// Exited is closed when the process has ended.
func (r *Rosh) Exited() <-chan struct{} { return r.exited }
