package dataplane

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"syscall"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// makeTUN makes the device and sets it up in as few steps under the
// kernel's RTNL lock as it takes, and without a netlink round trip: an
// access concentrator with a TUN per session sets sessions up no faster
// than this. It runs on a thread in the device's namespace
// (inNamespace): /dev/net/tun, the interface ioctls and /proc/sys/net all
// act on the caller's namespace.
//
//   - TUNSETIFF with IFF_TUN_EXCL makes the device, or fails with EBUSY
//     if the name is taken: no lookup goes first;
//   - the index comes from SIOCGIFINDEX, a hash lookup outside RTNL;
//   - IPv6 is disabled on the device while it is down, so addrconf never
//     gives it routes: each device's ff00::/8 route went into one list
//     that every later insertion walked, and each MTU change and up
//     walked the namespace's whole IPv6 routing table, so the setup
//     rate fell with the number of devices (~450/s at 1,000, ~100/s at
//     10,000);
//   - MTU and up go by ioctl on a datagram socket, then the address by
//     one netlink request on a socket of its own, read into a small
//     buffer. The address goes last: an access concentrator gives every
//     session the same local address, so each device adds one more
//     local route for it to a list the kernel walks on every insertion
//     and removal (fib_table_insert): once after up, instead of before
//     up and again when it goes up (the ioctls SIOCSIFADDR and
//     SIOCSIFDSTADDR took four walks).
//
// On failure nothing is left: the device goes with its file.
func makeTUN(h *routeHandle, kname string, offload bool, mtu int, local, peer netip.Addr) (*os.File, int, error) {
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, 0, fmt.Errorf("dataplane: creating TUN %s: %w", kname, err)
	}
	ok := false
	defer func() {
		if !ok {
			unix.Close(fd)
		}
	}()
	ifr, err := unix.NewIfreq(kname)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: kernel name %q: %v", ErrBadConfig, kname, err)
	}
	flags := uint16(unix.IFF_TUN | unix.IFF_NO_PI | unix.IFF_TUN_EXCL)
	if offload {
		flags |= unix.IFF_VNET_HDR
	}
	ifr.SetUint16(flags)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
		if errors.Is(err, unix.EBUSY) {
			// The name is taken (IFF_TUN_EXCL); say by what.
			if l, lerr := h.LinkByName(kname); lerr == nil {
				return nil, 0, fmt.Errorf("%w: %s (a %s device)", ErrNameInUse, kname, l.Type())
			}
			return nil, 0, fmt.Errorf("%w: %s", ErrNameInUse, kname)
		}
		return nil, 0, fmt.Errorf("dataplane: creating TUN %s: %w", kname, err)
	}
	if offload {
		if err := unix.IoctlSetInt(fd, unix.TUNSETOFFLOAD, tunOffloads); err != nil {
			return nil, 0, fmt.Errorf("dataplane: %s offloads: %w", kname, err)
		}
	}
	sock, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, 0, fmt.Errorf("dataplane: %s: %w", kname, err)
	}
	defer unix.Close(sock)
	d := devIoctl{sock: sock, name: kname}
	index, err := d.index()
	if err != nil {
		return nil, 0, fmt.Errorf("dataplane: finding TUN %s: %w", kname, err)
	}
	if !disableIPv6(kname) {
		// No writable /proc/sys: at least no link-local address, hence
		// no router or multicast listener chatter the session could
		// not carry. Without IPv6 in the kernel this fails too, which
		// is as good.
		_ = h.LinkSetIP6AddrGenMode(&netlink.Tuntap{LinkAttrs: netlink.LinkAttrs{Name: kname, Index: index}}, in6AddrGenModeNone)
	}
	if err := d.setMTU(mtu); err != nil {
		return nil, 0, fmt.Errorf("dataplane: %s mtu %d: %w", kname, mtu, err)
	}
	if err := d.up(); err != nil {
		return nil, 0, fmt.Errorf("dataplane: %s up: %w", kname, err)
	}
	if local.IsValid() {
		if err := addP2P(index, local, peer); err != nil {
			return nil, 0, fmt.Errorf("dataplane: %s address %s peer %s: %w", kname, local, peer, err)
		}
	}
	// Go's poller can take the device only once TUNSETIFF made it
	// pollable (golang/go#30426): non-blocking now, the os.File last.
	if err := unix.SetNonblock(fd, true); err != nil {
		return nil, 0, fmt.Errorf("dataplane: %s: %w", kname, err)
	}
	ok = true
	return os.NewFile(uintptr(fd), "/dev/net/tun"), index, nil
}

// devIoctl configures a device through the interface ioctls
// (netdevice(7)) on a socket of its namespace.
type devIoctl struct {
	sock int
	name string
}

func (d devIoctl) do(req uint, set func(*unix.Ifreq) error) (*unix.Ifreq, error) {
	ifr, err := unix.NewIfreq(d.name)
	if err != nil {
		return nil, err
	}
	if set != nil {
		if err := set(ifr); err != nil {
			return nil, err
		}
	}
	return ifr, unix.IoctlIfreq(d.sock, req, ifr)
}

func (d devIoctl) index() (int, error) {
	ifr, err := d.do(unix.SIOCGIFINDEX, nil)
	if err != nil {
		return 0, err
	}
	return int(ifr.Uint32()), nil
}

func (d devIoctl) setMTU(mtu int) error {
	_, err := d.do(unix.SIOCSIFMTU, func(ifr *unix.Ifreq) error { ifr.SetUint32(uint32(mtu)); return nil })
	return err
}

// up sets IFF_UP; SIOCSIFFLAGS sets all the flags, hence the read first.
func (d devIoctl) up() error {
	ifr, err := d.do(unix.SIOCGIFFLAGS, nil)
	if err != nil {
		return err
	}
	flags := ifr.Uint16()
	_, err = d.do(unix.SIOCSIFFLAGS, func(ifr *unix.Ifreq) error { ifr.SetUint16(flags | unix.IFF_UP); return nil })
	return err
}

// disableIPv6 turns IPv6 off on a device of the caller's namespace,
// reporting whether it could.
func disableIPv6(kname string) bool {
	f, err := os.OpenFile("/proc/sys/net/ipv6/conf/"+kname+"/disable_ipv6", os.O_WRONLY, 0)
	if err != nil {
		return false
	}
	_, err = f.Write([]byte("1\n"))
	return f.Close() == nil && err == nil
}

// addP2P gives device index local/32 with peer/32 (`ip addr add LOCAL
// peer PEER/32`) with one RTM_NEWADDR on a netlink socket of the
// caller's namespace.
func addP2P(index int, local, peer netip.Addr) error {
	s, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return err
	}
	defer unix.Close(s)
	l, p := local.As4(), peer.As4()
	req := nl.NewNetlinkRequest(unix.RTM_NEWADDR, unix.NLM_F_CREATE|unix.NLM_F_EXCL|unix.NLM_F_ACK)
	msg := nl.NewIfAddrmsg(unix.AF_INET)
	msg.Prefixlen, msg.Index = 32, uint32(index)
	req.AddData(msg)
	req.AddData(nl.NewRtAttr(unix.IFA_LOCAL, l[:]))
	req.AddData(nl.NewRtAttr(unix.IFA_ADDRESS, p[:]))
	if err := unix.Sendto(s, req.Serialize(), 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return err
	}
	// The kernel handles the request within sendto; its answer is an
	// NLMSG_ERROR carrying 0 or an errno, and the request's header.
	var buf [512]byte
	for {
		n, _, err := unix.Recvfrom(s, buf[:], 0)
		if err != nil {
			return err
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if m.Header.Seq != req.Seq || m.Header.Type != unix.NLMSG_ERROR {
				continue
			}
			if len(m.Data) < 4 {
				return fmt.Errorf("short netlink answer")
			}
			if errno := int32(binary.NativeEndian.Uint32(m.Data)); errno != 0 {
				return syscall.Errno(-errno)
			}
			return nil
		}
	}
}
