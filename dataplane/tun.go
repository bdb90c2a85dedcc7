package dataplane

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// MTU bounds: RFC 791 §3.2 has every IPv4 host take 68-byte datagrams;
// a TUN device carries at most 64 KiB.
const (
	MinMTU     = 68
	MaxMTU     = 65535
	DefaultMTU = 1500
	// MaxHeadroom bounds Config.Headroom.
	MaxHeadroom = 256
)

// in6AddrGenModeNone is IN6_ADDR_GEN_MODE_NONE (linux/if_link.h).
const in6AddrGenModeNone = 1

// SendFunc takes one packet read from the interface towards the peer:
// the PPP session's IPv4 send. It runs on the interface's reader
// goroutine, one packet at a time in the order the host sent them, and
// must not keep pkt after it returns (the buffer is reused for the next
// packet). It may write into pkt: with Config.Headroom > 0 the first
// Headroom bytes are the sender's to fill (say, the PPP Protocol field,
// RFC 1661 §2) and the IPv4 packet follows them. An error counts the
// packet as a tx-error; the loop goes on. It must not call the
// Interface's Attach, Detach or Close, which wait for it; Deliver,
// Queue and Flush are fine.
type SendFunc func(pkt []byte) error

// Config describes an interface to Open.
type Config struct {
	// Name is the RouterOS name ("pppoe-out1", "<pppoe-MT-User>"),
	// kept for the engine to show; the device gets KernelName(Name)
	// unless KernelName is set.
	Name string
	// KernelName overrides the device's name (at most 15 characters).
	KernelName string
	// Namespace is the network namespace to make the device in: an
	// `ip netns` name, or a path such as /proc/PID/ns/net. "" is the
	// process's own. Everything the interface does later (addresses,
	// routes, removal) happens in that namespace.
	Namespace string
	// MTU of the device; 0 is DefaultMTU.
	MTU int
	// Local and Peer are the point-to-point addresses to start with
	// (local/32 peer/32): the session's, or Placeholder's for a
	// dial-on-demand client. Both or neither: without them the device
	// has no address until Attach or SetAddrs gives it one.
	Local, Peer netip.Addr
	// ClampMSS is RouterOS's change-tcp-mss: the MSS of every TCP SYN
	// and SYN-ACK crossing the interface, either way, is clamped to
	// MSSForMTU(MTU).
	ClampMSS bool
	// Headroom is how many bytes before each outbound packet the
	// SendFunc receives for its own header, at most MaxHeadroom.
	Headroom int
	// Offload turns on the device's offloads (IFF_VNET_HDR, TSO and
	// checksums over IPv4; see offload.go): the kernel hands over a TCP
	// burst of up to 64 KiB in one read, which the reader cuts into
	// MTU-sized segments for the SendFunc, and Queue joins a stream's
	// segments back for the kernel. Fewer system calls per packet; the
	// session sees the same packets.
	Offload bool
	// SendBatchEnd, if set, is called on the reader goroutine after the
	// packets of one read — one, or a TSO burst's segments — went to the
	// SendFunc: a sender that batches (a Queue on the other side, a
	// sendmmsg) sends now.
	SendBatchEnd func()
	// OnFirstPacket, if set, is called when a packet leaves the host
	// through the interface while no session is attached — once after
	// Open and once after each Detach, until the next Attach. It is the
	// dial-on-demand trigger (SPEC §5: "the first outbound packet
	// dials"). It runs on the reader goroutine and must not block:
	// signal the dialer (a buffered channel, a context) and return; it
	// may call Attach, not Close, which waits for the reader. The
	// packet itself is dropped, as every packet is while detached;
	// TCP's and ping's retries find the session up.
	OnFirstPacket func()
}

// Route is a route through the interface: RouterOS add-default-route
// (Dst 0.0.0.0/0) with default-route-distance as Metric, or one of a
// /ppp secret's routes.
type Route struct {
	Dst netip.Prefix
	// Gateway is optional: a point-to-point device needs none, and a
	// zero Gateway makes a link-scope route ("dev tun metric N").
	Gateway netip.Addr
	// Metric is the route's priority; lower wins.
	Metric int
}

func (r Route) String() string {
	s := r.Dst.String()
	if r.Gateway.IsValid() {
		s += " via " + r.Gateway.String()
	}
	return fmt.Sprintf("%s metric %d", s, r.Metric)
}

// Stats are an interface's counters, from the host's side as RouterOS
// shows them in `/interface print stats`: tx is what the host sent
// towards the peer (read from the device, handed to the SendFunc), rx is
// what came from the peer (Deliver, written to the device).
type Stats struct {
	TxPackets, TxBytes uint64
	// TxDrops: packets read while no session was attached, packets
	// other than IPv4, and packets cut short because the device's MTU
	// was raised behind rosh's back.
	TxDrops uint64
	// TxErrors: packets the SendFunc failed to send.
	TxErrors uint64

	RxPackets, RxBytes uint64
	// RxDrops: packets Deliver refused (not IPv4, interface closed).
	RxDrops uint64
	// RxErrors: packets the device would not take.
	RxErrors uint64
}

// counters is one direction's, padded so the reader's and Deliver's
// callers do not share a cache line.
type counters struct {
	packets, bytes, drops, errors atomic.Uint64
	_                             [32]byte
}

// Interface is a TUN device carrying one PPP session's IPv4 packets: one
// reader goroutine takes what the host routes into it and hands it,
// packet by packet and in order, to the attached session's SendFunc;
// Deliver writes what the session received into it. The device is
// non-persistent: it exists as long as the Interface holds it open, so
// it goes with Close, or with the process if rosh dies.
//
// Every method is safe for concurrent use. The data path (reader loop
// and Deliver) allocates nothing per packet.
type Interface struct {
	name, kname  string
	index        int
	headroom     int
	offload      bool
	onFirst      func()
	sendBatchEnd func()

	nl   *routeHandle // shared by the namespace's devices
	link netlink.Link
	file *os.File
	done chan struct{}
	err  error // why the reader stopped; set before done closes

	mtu   atomic.Int32
	mss   atomic.Uint32
	clamp atomic.Bool

	// mu guards the session side; the reader holds it across each send,
	// so once Detach returns the old SendFunc is not running and will
	// not run again.
	mu    sync.Mutex
	send  SendFunc
	armed bool // OnFirstPacket fires on the next detached packet

	// wmu guards the write side with offloads on: the coalescer and its
	// buffers.
	wmu sync.Mutex
	gro coalescer

	// admin serialises configuration: addresses, MTU, routes, Close.
	admin       sync.Mutex
	local, peer netip.Addr
	routes      []Route
	closed      bool

	tx, rx counters

	// limits are the session's rate limit and byte quotas, nil while it
	// has none: the data path's only cost for an unlimited session is
	// loading this pointer. limMu serialises the setters.
	limits atomic.Pointer[limits]
	limMu  sync.Mutex
	lim    limits     // what the setters published last
	bk     [2]*bucket // rx, tx: made on first use, kept
}

// Open makes the TUN device (IFF_TUN, no packet information, exclusive,
// one queue, non-persistent), turns IPv6 off on it (the session carries
// IPv4), sets its MTU, brings it up, gives it the point-to-point
// addresses and starts the reader (makeTUN says why in that order).
// Nothing is attached: the engine calls Attach when the session's IPCP
// is up. On failure nothing is left behind.
func Open(cfg Config) (*Interface, error) {
	kname := cfg.KernelName
	if kname == "" {
		kname = KernelName(cfg.Name)
	}
	mtu := cfg.MTU
	if mtu == 0 {
		mtu = DefaultMTU
	}
	switch {
	case kname == "" || len(kname) > MaxKernelNameLen || sanitise(kname) != kname:
		return nil, fmt.Errorf("%w: kernel name %q", ErrBadConfig, kname)
	case mtu < MinMTU || mtu > MaxMTU:
		return nil, fmt.Errorf("%w: mtu %d outside %d..%d", ErrBadConfig, mtu, MinMTU, MaxMTU)
	case cfg.Headroom < 0 || cfg.Headroom > MaxHeadroom:
		return nil, fmt.Errorf("%w: headroom %d outside 0..%d", ErrBadConfig, cfg.Headroom, MaxHeadroom)
	}
	local, peer, err := checkAddrs(cfg.Local, cfg.Peer)
	if err != nil {
		return nil, err
	}

	ns, err := openNamespace(cfg.Namespace)
	if err != nil {
		return nil, err
	}
	defer ns.Close()
	h, err := acquireRouteHandle(ns)
	if err != nil {
		return nil, err
	}
	var file *os.File
	var index int
	h.making <- struct{}{}
	err = inNamespace(ns, func() (err error) {
		file, index, err = makeTUN(h, kname, cfg.Offload, mtu, local, peer)
		return err
	})
	<-h.making
	if err != nil {
		releaseRouteHandle(h)
		return nil, err
	}
	i := &Interface{
		name: cfg.Name, kname: kname, index: index, headroom: cfg.Headroom, offload: cfg.Offload,
		onFirst: cfg.OnFirstPacket, sendBatchEnd: cfg.SendBatchEnd,
		nl: h, file: file, done: make(chan struct{}), armed: true,
		link: &netlink.Tuntap{LinkAttrs: netlink.LinkAttrs{Name: kname, Index: index}, Mode: netlink.TUNTAP_MODE_TUN},
	}
	i.gro.write = i.write
	i.storeMTU(mtu)
	i.clamp.Store(cfg.ClampMSS)
	i.local, i.peer = local, peer
	go i.readLoop()
	return i, nil
}

// Name is the RouterOS name the interface was opened with.
func (i *Interface) Name() string { return i.name }

// KernelName is the device's name, as `ip link` shows it.
func (i *Interface) KernelName() string { return i.kname }

// Index is the device's interface index.
func (i *Interface) Index() int { return i.index }

// MTU is the device's MTU as last set through the Interface.
func (i *Interface) MTU() int { return int(i.mtu.Load()) }

// Addrs are the point-to-point addresses the device carries (zero if
// none).
func (i *Interface) Addrs() (local, peer netip.Addr) {
	i.admin.Lock()
	defer i.admin.Unlock()
	return i.local, i.peer
}

// Attached reports whether a session's SendFunc is attached.
func (i *Interface) Attached() bool {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.send != nil
}

// Done is closed when the reader has stopped: after Close, or when the
// device went away under it (deleted with `ip link del`), which Err
// then reports.
func (i *Interface) Done() <-chan struct{} { return i.done }

// Err is why the reader stopped on its own; nil while it runs and after
// Close.
func (i *Interface) Err() error {
	select {
	case <-i.done:
		return i.err
	default:
		return nil
	}
}

// Stats reads the counters; each is read atomically.
func (i *Interface) Stats() Stats {
	return Stats{
		TxPackets: i.tx.packets.Load(), TxBytes: i.tx.bytes.Load(),
		TxDrops: i.tx.drops.Load(), TxErrors: i.tx.errors.Load(),
		RxPackets: i.rx.packets.Load(), RxBytes: i.rx.bytes.Load(),
		RxDrops: i.rx.drops.Load(), RxErrors: i.rx.errors.Load(),
	}
}

// SetClampMSS turns change-tcp-mss on or off.
func (i *Interface) SetClampMSS(on bool) { i.clamp.Store(on) }

// Attach connects a session: outbound packets go to send from now on,
// and the device takes the session's MTU and addresses (the ones IPCP
// negotiated, RFC 1332 §3.3), replacing what it had — a dial-on-demand
// client's placeholders, or the previous session's. A zero mtu or zero
// addresses leave those as they are. Routes the Interface added survive.
// On error nothing is attached.
func (i *Interface) Attach(send SendFunc, local, peer netip.Addr, mtu int) error {
	if send == nil {
		return fmt.Errorf("%w: nil SendFunc", ErrBadConfig)
	}
	i.admin.Lock()
	defer i.admin.Unlock()
	if i.closed {
		return ErrClosed
	}
	if mtu != 0 {
		if err := i.setMTULocked(mtu); err != nil {
			return err
		}
	}
	if local.IsValid() || peer.IsValid() {
		if err := i.setAddrsLocked(local, peer); err != nil {
			return err
		}
	}
	i.mu.Lock()
	i.send, i.armed = send, false
	i.mu.Unlock()
	return nil
}

// Detach disconnects the session: once it returns, the SendFunc given
// to Attach is not running and will not be called again. Outbound
// packets are dropped (and counted) until the next Attach, and the next
// one fires OnFirstPacket. Addresses, MTU and routes stay: a
// dial-on-demand client puts its placeholders back with SetAddrs, or
// the engine Closes the interface.
func (i *Interface) Detach() {
	i.mu.Lock()
	i.send, i.armed = nil, true
	i.mu.Unlock()
}

// SetMTU changes the device's MTU, and with it the MSS clamp.
func (i *Interface) SetMTU(mtu int) error {
	i.admin.Lock()
	defer i.admin.Unlock()
	if i.closed {
		return ErrClosed
	}
	return i.setMTULocked(mtu)
}

func (i *Interface) setMTULocked(mtu int) error {
	if mtu < MinMTU || mtu > MaxMTU {
		return fmt.Errorf("%w: mtu %d outside %d..%d", ErrBadConfig, mtu, MinMTU, MaxMTU)
	}
	if mtu == i.MTU() {
		return nil
	}
	if err := i.nl.LinkSetMTU(i.link, mtu); err != nil {
		return fmt.Errorf("dataplane: %s mtu %d: %w", i.kname, mtu, err)
	}
	i.storeMTU(mtu)
	return nil
}

func (i *Interface) storeMTU(mtu int) {
	i.mtu.Store(int32(mtu))
	i.mss.Store(uint32(MSSForMTU(mtu)))
}

// SetAddrs replaces the device's point-to-point addresses (local/32
// peer/32). The new pair is added before the old one is removed, so the
// device is never without an address and the kernel keeps its routes;
// when the two pairs share the peer (the new one would be the old one's
// secondary, and leave with it) the old goes first. Either way every
// route the Interface added is put back if the kernel dropped it.
// Zero addresses remove the pair.
func (i *Interface) SetAddrs(local, peer netip.Addr) error {
	i.admin.Lock()
	defer i.admin.Unlock()
	if i.closed {
		return ErrClosed
	}
	return i.setAddrsLocked(local, peer)
}

func (i *Interface) setAddrsLocked(local, peer netip.Addr) error {
	local, peer, err := checkAddrs(local, peer)
	if err != nil {
		return err
	}
	if local == i.local && peer == i.peer {
		return nil
	}
	if i.local.IsValid() && peer == i.peer {
		if err := i.delAddr(i.local, i.peer); err != nil {
			return err
		}
		i.local, i.peer = netip.Addr{}, netip.Addr{}
	}
	if local.IsValid() {
		if err := i.nl.AddrAdd(i.link, p2pAddr(local, peer)); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("dataplane: %s address %s peer %s: %w", i.kname, local, peer, err)
		}
	}
	if i.local.IsValid() {
		if err := i.delAddr(i.local, i.peer); err != nil {
			return err
		}
	}
	i.local, i.peer = local, peer
	for _, r := range i.routes {
		if err := i.nl.RouteAdd(i.nlRoute(r)); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("dataplane: %s restoring route %s: %w", i.kname, r, err)
		}
	}
	return nil
}

func (i *Interface) delAddr(local, peer netip.Addr) error {
	err := i.nl.AddrDel(i.link, p2pAddr(local, peer))
	if err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) {
		return fmt.Errorf("dataplane: %s removing address %s peer %s: %w", i.kname, local, peer, err)
	}
	return nil
}

// AddRoute adds a route through the device and remembers it: it is
// restored across address changes and removed by DelRoute or Close. A
// route that exists already (this one, or another's with the same
// destination and metric) is an error wrapping unix.EEXIST.
func (i *Interface) AddRoute(r Route) error {
	if err := checkRoute(r); err != nil {
		return err
	}
	r.Dst = r.Dst.Masked()
	i.admin.Lock()
	defer i.admin.Unlock()
	if i.closed {
		return ErrClosed
	}
	if err := i.nl.RouteAdd(i.nlRoute(r)); err != nil {
		return fmt.Errorf("dataplane: %s route %s: %w", i.kname, r, err)
	}
	i.routes = append(i.routes, r)
	return nil
}

// DelRoute removes a route AddRoute added. A route that is not there
// any more (the kernel dropped it) is not an error.
func (i *Interface) DelRoute(r Route) error {
	if err := checkRoute(r); err != nil {
		return err
	}
	r.Dst = r.Dst.Masked()
	i.admin.Lock()
	defer i.admin.Unlock()
	if i.closed {
		return ErrClosed
	}
	for k, have := range i.routes {
		if have == r {
			i.routes = append(i.routes[:k], i.routes[k+1:]...)
			break
		}
	}
	return i.delRoute(r)
}

func (i *Interface) delRoute(r Route) error {
	err := i.nl.RouteDel(i.nlRoute(r))
	if err != nil && !errors.Is(err, unix.ESRCH) && !errors.Is(err, unix.ENODEV) {
		return fmt.Errorf("dataplane: %s removing route %s: %w", i.kname, r, err)
	}
	return nil
}

// Routes are the routes the Interface added and has not removed.
func (i *Interface) Routes() []Route {
	i.admin.Lock()
	defer i.admin.Unlock()
	return append([]Route(nil), i.routes...)
}

func (i *Interface) nlRoute(r Route) *netlink.Route {
	nr := &netlink.Route{
		LinkIndex: i.index,
		Family:    netlink.FAMILY_V4,
		Dst:       &net.IPNet{IP: r.Dst.Addr().AsSlice(), Mask: net.CIDRMask(r.Dst.Bits(), 32)},
		Priority:  r.Metric,
		Scope:     netlink.SCOPE_LINK,
	}
	if r.Gateway.IsValid() {
		nr.Gw = r.Gateway.AsSlice()
		nr.Scope = netlink.SCOPE_UNIVERSE
	}
	return nr
}

// Close detaches the session, removes the routes the Interface added,
// stops the reader and removes the device (closing its only file does;
// if anything else holds it, it is deleted). It waits for the reader to
// end. Closing twice is harmless.
func (i *Interface) Close() error {
	i.admin.Lock()
	if i.closed {
		i.admin.Unlock()
		<-i.done
		return nil
	}
	i.closed = true
	var errs []error
	for _, r := range i.routes {
		if err := i.delRoute(r); err != nil {
			errs = append(errs, err)
		}
	}
	i.routes = nil
	i.admin.Unlock()

	i.mu.Lock()
	i.send, i.armed = nil, false
	i.mu.Unlock()
	// The last close of the file unregisters the device, under RTNL:
	// bounded like Open's making, or an AC whose sessions all end at
	// once blocks thousands of OS threads there.
	i.nl.making <- struct{}{}
	if err := i.file.Close(); err != nil {
		errs = append(errs, fmt.Errorf("dataplane: closing %s: %w", i.kname, err))
	}
	<-i.done
	<-i.nl.making
	if err := i.removeDevice(); err != nil {
		errs = append(errs, err)
	}
	releaseRouteHandle(i.nl)
	return errors.Join(errs...)
}

// removeDevice deletes the device if it outlived its file: a
// non-persistent TUN goes with its last file, unless someone else has
// it open.
func (i *Interface) removeDevice() error {
	l, err := i.nl.LinkByName(i.kname)
	if err != nil {
		return nil
	}
	if _, ok := l.(*netlink.Tuntap); !ok || (i.index != 0 && l.Attrs().Index != i.index) {
		return nil
	}
	if err := i.nl.LinkDel(l); err != nil && !errors.Is(err, unix.ENODEV) {
		return fmt.Errorf("dataplane: deleting %s: %w", i.kname, err)
	}
	return nil
}

// checkAddrs accepts two IPv4 addresses (IPv4-mapped IPv6 ones are
// unmapped) or none.
func checkAddrs(local, peer netip.Addr) (netip.Addr, netip.Addr, error) {
	local, peer = local.Unmap(), peer.Unmap()
	switch {
	case !local.IsValid() && !peer.IsValid():
		return local, peer, nil
	case !local.Is4() || !peer.Is4():
		return local, peer, fmt.Errorf("%w: point-to-point addresses %v and %v must both be IPv4", ErrBadConfig, local, peer)
	}
	return local, peer, nil
}

func checkRoute(r Route) error {
	switch {
	case !r.Dst.IsValid() || !r.Dst.Addr().Is4():
		return fmt.Errorf("%w: route destination %v is not an IPv4 prefix", ErrBadConfig, r.Dst)
	case r.Gateway.IsValid() && !r.Gateway.Is4():
		return fmt.Errorf("%w: route gateway %v is not IPv4", ErrBadConfig, r.Gateway)
	case r.Metric < 0:
		return fmt.Errorf("%w: route metric %d", ErrBadConfig, r.Metric)
	}
	return nil
}

// p2pAddr is local/32 with peer/32: `ip addr add LOCAL peer PEER/32`.
func p2pAddr(local, peer netip.Addr) *netlink.Addr {
	return &netlink.Addr{
		IPNet: &net.IPNet{IP: local.AsSlice(), Mask: net.CIDRMask(32, 32)},
		Peer:  &net.IPNet{IP: peer.AsSlice(), Mask: net.CIDRMask(32, 32)},
	}
}
