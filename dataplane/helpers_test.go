package dataplane

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

var nsSerial atomic.Int32

// requireRoot fails a test that needs root: these tests make network
// namespaces and TUN devices, and must not pass by skipping.
func requireRoot(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Fatal("this test needs root: it makes network namespaces and TUN devices")
	}
}

// newNS makes a network namespace with a unique name and loopback up,
// and removes it at cleanup whatever the outcome. Nothing in the host's
// namespace is touched.
func newNS(tb testing.TB) string {
	tb.Helper()
	requireRoot(tb)
	name := fmt.Sprintf("dp%d_%d", os.Getpid()%100000, nsSerial.Add(1))
	run(tb, "ip", "netns", "add", name)
	tb.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			tb.Logf("removing namespace %s: %v %s", name, err, out)
		}
	})
	run(tb, "ip", "-n", name, "link", "set", "lo", "up")
	return name
}

// run runs a command and fails the test if it fails.
func run(tb testing.TB, name string, args ...string) string {
	tb.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		tb.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// inNS runs a command in namespace ns.
func inNS(ns, name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", ns, name}, args...)...)
}

// checkGoroutines fails the test if, after the test's cleanups ran,
// more goroutines are left than when it started (wireguard-go's
// goroutine-leak check).
func checkGoroutines(tb testing.TB) {
	tb.Helper()
	before := runtime.NumGoroutine()
	tb.Cleanup(func() {
		deadline := time.Now().Add(3 * time.Second)
		for {
			now := runtime.NumGoroutine()
			if now <= before {
				return
			}
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				tb.Errorf("goroutine leak: %d before, %d after\n%s", before, now, buf)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// openT opens an interface and closes it at cleanup.
func openT(tb testing.TB, cfg Config) *Interface {
	tb.Helper()
	ifc, err := Open(cfg)
	if err != nil {
		tb.Fatalf("Open(%+v): %v", cfg, err)
	}
	tb.Cleanup(func() {
		if err := ifc.Close(); err != nil {
			tb.Errorf("Close %s: %v", ifc.KernelName(), err)
		}
	})
	return ifc
}
