// Package lab builds the newcomer's lab that `make run` opens: two network
// namespaces joined by a veth pair — ether3 on an access concentrator,
// ether2 on a client router — a rosh AC running SPEC §6's server lines,
// and the console of the client router, where the seed's client line is
// typed. Both routers run as daemons (`rosh serve`) and the newcomer's
// console attaches to the client router's. Leaving the console removes
// everything; a lab left behind by a killed run is removed on the next
// start.
package lab

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Names of the lab's interfaces.
const (
	ACInterface     = "ether3"
	ClientInterface = "ether2"
)

// Names of the lab's namespaces: rosh-lab-ac and rosh-lab-client, unless
// ROSH_LAB_PREFIX names another prefix, which lets tests of several
// checkouts run a lab each at the same time.
var (
	ACNamespace     = labPrefix() + "-ac"
	ClientNamespace = labPrefix() + "-client"
)

func labPrefix() string {
	if p := os.Getenv("ROSH_LAB_PREFIX"); p != "" {
		return p
	}
	return "rosh-lab"
}

// ACConfig is the access concentrator's configuration: the seed's server
// example (SPEC §6).
var ACConfig = []string{
	"/ip pool add name=pppoe-pool ranges=10.0.0.2-10.0.0.5",
	"/ppp profile add local-address=10.0.0.1 name=for-pppoe remote-address=pppoe-pool",
	"/ppp secret add name=MT-User password=StrongPass profile=for-pppoe service=pppoe",
	"/interface pppoe-server server add default-profile=for-pppoe disabled=no interface=ether3 service-name=pppoeservice",
}

// Banner is what the newcomer reads before the client's prompt.
const Banner = `rosh lab: an access concentrator (namespace %s, interface ether3) runs the
seed's server configuration. This console is the client router (namespace %s,
interface ether2). Dial it with the seed's client line:

  /interface pppoe-client add interface=ether2 password=StrongPass service-name=pppoeservice name=PPPoE-Out disabled=no user=MT-User
  /interface pppoe-client monitor PPPoE-Out

then, in another terminal: ip netns exec %s ping 10.0.0.1
Both routers run as daemons (rosh serve); the AC's console: %s console --socket %s
/quit or Ctrl-D leaves the lab and removes it.

`

// ErrNotRoot is returned when the lab cannot make namespaces.
var ErrNotRoot = errors.New("rosh lab makes network namespaces and needs root: run it with sudo (sudo make run)")

// Options configure a lab run.
type Options struct {
	// Rosh is the rosh binary to run in the namespaces.
	Rosh string
	// Dir holds the routers' configuration files (a temporary one if empty).
	Dir string
	// Stdin, Stdout, Stderr are the newcomer's terminal.
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

func ip(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// Clean removes the lab's namespaces (and with them the veth pair and
// anything a killed run left inside).
func Clean() {
	for _, ns := range []string{ACNamespace, ClientNamespace} {
		// Processes still in the namespace (a killed run's AC) go first.
		if out, err := exec.Command("ip", "netns", "pids", ns).Output(); err == nil {
			for _, pid := range strings.Fields(string(out)) {
				var p int
				fmt.Sscan(pid, &p)
				if p > 0 {
					syscall.Kill(p, syscall.SIGKILL)
				}
			}
		}
		exec.Command("ip", "netns", "del", ns).Run()
	}
}

// Setup makes the namespaces and the veth pair.
func Setup() error {
	Clean()
	steps := [][]string{
		{"netns", "add", ACNamespace},
		{"netns", "add", ClientNamespace},
		{"-n", ACNamespace, "link", "set", "lo", "up"},
		{"-n", ClientNamespace, "link", "set", "lo", "up"},
		{"-n", ACNamespace, "link", "add", ACInterface, "type", "veth", "peer", "name", ClientInterface, "netns", ClientNamespace},
		{"-n", ACNamespace, "link", "set", ACInterface, "up"},
		{"-n", ClientNamespace, "link", "set", ClientInterface, "up"},
	}
	for _, s := range steps {
		if err := ip(s...); err != nil {
			Clean()
			return err
		}
	}
	return nil
}

// startDaemon runs `rosh serve` in namespace ns with its configuration
// and log in opt.Dir, and waits until consoles can attach. stop ends it
// with SIGTERM — its sessions end cleanly (LCP Terminate, PADT) — and
// waits for it.
func startDaemon(opt Options, ns, name, socket string) (stop func(), err error) {
	cmd := exec.Command("ip", "netns", "exec", ns, opt.Rosh, "serve", "--config", filepath.Join(opt.Dir, name+".rsc"), "--socket", socket)
	logf, err := os.Create(filepath.Join(opt.Dir, name+".log"))
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); logf.Close(); close(done) }()
	stop = func() {
		// ip netns exec execs rosh: the pid is rosh's.
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if c, err := net.Dial("unix", socket); err == nil {
			c.Close()
			return stop, nil
		}
		select {
		case <-done:
			log, _ := os.ReadFile(filepath.Join(opt.Dir, name+".log"))
			return nil, fmt.Errorf("rosh serve ended: %s", strings.TrimSpace(string(log)))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			return nil, errors.New("rosh serve did not listen within 10 s")
		}
	}
}

// Run builds the lab, runs the client's console until it ends, and
// removes the lab.
func Run(opt Options) error {
	if os.Geteuid() != 0 {
		return ErrNotRoot
	}
	if opt.Dir == "" {
		d, err := os.MkdirTemp("", "rosh-lab")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		opt.Dir = d
	}
	if err := Setup(); err != nil {
		return err
	}
	defer Clean()

	acConf := strings.Join(append([]string{"/system identity set name=MikroTik"}, ACConfig...), "\n") + "\n"
	if err := os.WriteFile(filepath.Join(opt.Dir, "ac.rsc"), []byte(acConf), 0o600); err != nil {
		return err
	}
	acSock, clSock := filepath.Join(opt.Dir, "ac.sock"), filepath.Join(opt.Dir, "client.sock")
	stopAC, err := startDaemon(opt, ACNamespace, "ac", acSock)
	if err != nil {
		return fmt.Errorf("starting the access concentrator: %w", err)
	}
	defer stopAC()
	stopClient, err := startDaemon(opt, ClientNamespace, "client", clSock)
	if err != nil {
		return fmt.Errorf("starting the client router: %w", err)
	}
	defer stopClient()

	fmt.Fprintf(opt.Stdout, Banner, ACNamespace, ClientNamespace, ClientNamespace, opt.Rosh, acSock)
	cl := exec.Command(opt.Rosh, "console", "--socket", clSock)
	cl.Stdin, cl.Stdout, cl.Stderr = opt.Stdin, opt.Stdout, opt.Stderr
	if err := cl.Run(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			return fmt.Errorf("client console: %w", err)
		}
	}
	return nil
}
