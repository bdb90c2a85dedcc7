package dataplane

import (
	"fmt"
	"runtime"
	"strings"
	"sync"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
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

// Every Interface of one namespace shares a single NETLINK_ROUTE socket:
// a handle of its own per device cost three sockets (netlink's default
// opens route, xfrm and netfilter ones), so an access concentrator with a
// TUN per session ran out of file descriptors at 5,000 sessions under a
// 20,000 limit. A shared socket is safe: netlink locks it for each
// request and its reply.
var routeHandles = struct {
	sync.Mutex
	byNS map[string]*routeHandle
}{byNS: map[string]*routeHandle{}}

type routeHandle struct {
	*netlink.Handle
	key  string
	refs int
	// making bounds how many devices of the namespace are being made, or
	// removed, at once. The kernel makes them one at a time under RTNL anyway; a
	// thread waiting there is an OS thread blocked, which Go replaces
	// with a new one, so thousands of sessions coming up together left
	// the AC with thousands of threads (and the load average at 1,000+).
	// A few in flight keep both cores busy.
	making chan struct{}
}

// maxMaking is routeHandle.making's bound: more gained nothing on two
// cores (3,000 devices: 2 or 4 at once as fast as 16, less CPU).
const maxMaking = 4

// acquireRouteHandle returns the shared netlink handle of namespace ns,
// opening it on first use; release it with releaseRouteHandle. The key is
// the namespace's identity (device and inode), not its name, so a name
// deleted and made again never reaches the old namespace's socket.
func acquireRouteHandle(ns netns.NsHandle) (*routeHandle, error) {
	key := ""
	if ns.IsOpen() {
		key = ns.UniqueId()
	}
	routeHandles.Lock()
	defer routeHandles.Unlock()
	if h := routeHandles.byNS[key]; h != nil {
		h.refs++
		return h, nil
	}
	nh, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("dataplane: netlink: %w", err)
	}
	h := &routeHandle{Handle: nh, key: key, refs: 1, making: make(chan struct{}, maxMaking)}
	routeHandles.byNS[key] = h
	return h, nil
}

// releaseRouteHandle drops one reference to h and closes its socket with
// the last one.
func releaseRouteHandle(h *routeHandle) {
	routeHandles.Lock()
	defer routeHandles.Unlock()
	if h.refs--; h.refs == 0 {
		delete(routeHandles.byNS, h.key)
		h.Handle.Close()
	}
}
