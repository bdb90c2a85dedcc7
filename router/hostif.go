package router

import (
	"net"

	"github.com/vishvananda/netlink"
)

// HostInterface is a network interface of the host (or of the network
// namespace rosh runs in), as /interface print lists it.
type HostInterface struct {
	Name    string
	Type    string // "ether", "veth", "loopback", "bridge", "tun" …
	MTU     int
	MAC     net.HardwareAddr
	Running bool
	Index   int
	Stats   netlink.LinkStatistics
}

// ListHostInterfaces reads the interfaces with netlink. An error (no
// netlink, e.g. in a restricted sandbox) yields an empty list.
func ListHostInterfaces() []HostInterface {
	links, err := netlink.LinkList()
	if err != nil {
		return nil
	}
	out := make([]HostInterface, 0, len(links))
	for _, l := range links {
		a := l.Attrs()
		h := HostInterface{
			Name:    a.Name,
			Type:    interfaceType(l),
			MTU:     a.MTU,
			MAC:     a.HardwareAddr,
			Running: a.OperState == netlink.OperUp || (a.Flags&net.FlagUp != 0 && a.OperState == netlink.OperUnknown),
			Index:   a.Index,
		}
		if a.Statistics != nil {
			h.Stats = *a.Statistics
		}
		out = append(out, h)
	}
	return out
}

func interfaceType(l netlink.Link) string {
	switch l.Type() {
	case "device":
		if l.Attrs().Flags&net.FlagLoopback != 0 {
			return "loopback"
		}
		return "ether"
	case "tuntap":
		return "tun"
	default:
		return l.Type()
	}
}
