package dataplane

import (
	"fmt"
	"runtime"
	"strings"

	"github.com/vishvananda/netns"
)

// openNamespace opens a network namespace by name (one of `ip netns`'s,
// under /run/netns) or, if it holds a '/', by path (/proc/PID/ns/net).
// "" is the caller's own namespace, returned as netns.None().
func openNamespace(name string) (netns.NsHandle, error) {
	if name == "" {
		return netns.None(), nil
	}
	var h netns.NsHandle
	var err error
	if strings.Contains(name, "/") {
		h, err = netns.GetFromPath(name)
	} else {
		h, err = netns.GetFromName(name)
	}
	if err != nil {
		return netns.None(), fmt.Errorf("dataplane: network namespace %s: %w", name, err)
	}
	return h, nil
}

// inNamespace runs fn on an OS thread that has entered namespace ns, for
// the one thing netlink sockets cannot do from afar: a TUN device is made
// in the namespace of the thread that opens /dev/net/tun. The thread is a
// fresh goroutine's, locked for the duration; if it cannot return to its
// own namespace it is left locked, so the runtime ends it with the
// goroutine instead of reusing it somewhere else. netns.None() runs fn
// where the caller is.
func inNamespace(ns netns.NsHandle, fn func() error) error {
	if !ns.IsOpen() {
		return fn()
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("dataplane: current network namespace: %w", err)
			return
		}
		defer orig.Close()
		if err := netns.Set(ns); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("dataplane: entering network namespace: %w", err)
			return
		}
		err = fn()
		if netns.Set(orig) == nil {
			runtime.UnlockOSThread()
		}
		errc <- err
	}()
	return <-errc
}
