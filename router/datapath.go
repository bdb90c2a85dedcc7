package router

import (
	"net/netip"
	"sync/atomic"

	"rosh/dataplane"
	"rosh/ppp"
	"rosh/pppoe"
)

// tunHeadroom is the room the TUN reader leaves in front of every
// outbound packet for the Ethernet, PPPoE and PPP headers, which the
// session writes there (pppoe.Session.QueuePPP): a packet goes from the
// TUN to the wire without being copied into another buffer first.
const tunHeadroom = pppoe.FrameHeadroom + 2

// tunOffload turns on the TUN devices' offloads (dataplane.Config.Offload):
// the kernel hands a TCP burst over in one read and takes one back in one
// write, so a session costs a few system calls per 64 KiB instead of one
// per packet. Each device then keeps up to two 64 KiB buffers, touched
// only as far as traffic fills them.
const tunOffload = true

// tunnel is the data plane of one session: its TUN device, attached to the
// PPPoE session while PPP's IPCP is up.
//
// Received IPv4 frames go from the port's reader goroutine straight into
// the TUN (the tunnel is the session's pppoe.Receiver), consecutive TCP
// segments joined (GRO, with offloads) until the port has no more frames
// at hand; other protocols go to the PPP session's goroutine as before.
// Outbound packets are framed in the TUN buffer's headroom and queued on
// the port from the TUN's reader goroutine, and the port sends what a
// read (a whole TSO burst) gave in one system call (SendBatchEnd).
type tunnel struct {
	ifc atomic.Pointer[dataplane.Interface]
	// ps is the PPPoE session attached last: whose receive queue tells
	// onPacket whether more frames are at hand, and whose port
	// sendBatchEnd flushes.
	ps atomic.Pointer[pppoe.Session]
}

// ReceivePPP takes an IPv4 frame from the session on the port's reader
// goroutine (pppoe.Receiver).
func (t *tunnel) ReceivePPP(frame []byte) {
	if ifc := t.ifc.Load(); ifc != nil {
		ifc.Queue(frame[2:])
	}
}

// FlushPPP writes what ReceivePPP held back (pppoe.Receiver).
func (t *tunnel) FlushPPP() {
	if ifc := t.ifc.Load(); ifc != nil {
		ifc.Flush()
	}
}

// sendBatchEnd is the TUN's SendBatchEnd: the frames queued for one read
// leave now.
func (t *tunnel) sendBatchEnd() {
	if ps := t.ps.Load(); ps != nil {
		ps.Flush()
	}
}

// down stops the fast path when IPCP goes down (ppp.EventDown): IPv4
// reaches the PPP session again, which discards it until IPCP is back
// (RFC 1661 §3.5).
func (t *tunnel) down(ps *pppoe.Session) {
	ps.SetReceiver(uint16(ppp.ProtoIPv4), nil)
}

// onPacket is the PPP session's OnPacket: IPv4 that reached the PPP
// session rather than the fast path (before it was set up) goes into the
// TUN. While the session has more frames waiting, consecutive TCP segments
// are held and joined (GRO, with offloads), and written when none is
// left: one write for a burst instead of one per packet.
func (t *tunnel) onPacket(proto ppp.Protocol, b []byte) {
	if proto != ppp.ProtoIPv4 {
		return
	}
	ifc := t.ifc.Load()
	if ifc == nil {
		return
	}
	ifc.Queue(b)
	if ps := t.ps.Load(); ps == nil || len(ps.Recv()) == 0 {
		ifc.Flush()
	}
}

// sendFunc queues a TUN packet (with its headroom) on the PPPoE session.
func sendFunc(ps *pppoe.Session) dataplane.SendFunc {
	return func(pkt []byte) error {
		pkt[pppoe.FrameHeadroom], pkt[pppoe.FrameHeadroom+1] = byte(ppp.ProtoIPv4>>8), byte(ppp.ProtoIPv4)
		return ps.QueuePPP(pkt)
	}
}

// open makes (or, for dial-on-demand, reuses) the TUN and attaches the
// session to it with the negotiated addresses and MTU.
func (t *tunnel) attach(ns, name string, st ppp.Status, clamp bool, ps *pppoe.Session) (*dataplane.Interface, error) {
	ifc := t.ifc.Load()
	if ifc == nil {
		var err error
		ifc, err = dataplane.Open(dataplane.Config{
			Name: name, Namespace: ns, MTU: st.MTU, Local: st.LocalAddr, Peer: st.PeerAddr,
			ClampMSS: clamp, Headroom: tunHeadroom, Offload: tunOffload,
			SendBatchEnd: t.sendBatchEnd,
		})
		if err != nil {
			return nil, err
		}
	}
	ifc.SetClampMSS(clamp)
	if err := ifc.Attach(sendFunc(ps), st.LocalAddr, st.PeerAddr, st.MTU); err != nil {
		ifc.Close()
		return nil, err
	}
	t.ps.Store(ps)
	t.ifc.Store(ifc)
	ps.SetReceiver(uint16(ppp.ProtoIPv4), t)
	return ifc, nil
}

// close removes the TUN (and its routes).
func (t *tunnel) close() {
	if ifc := t.ifc.Swap(nil); ifc != nil {
		ifc.Close()
	}
}

// stats reads the TUN's counters (zero without one).
func (t *tunnel) stats() dataplane.Stats {
	if ifc := t.ifc.Load(); ifc != nil {
		return ifc.Stats()
	}
	return dataplane.Stats{}
}

// kernelName is the TUN's name in the kernel ("" without one).
func (t *tunnel) kernelName() string {
	if ifc := t.ifc.Load(); ifc != nil {
		return ifc.KernelName()
	}
	return ""
}

// defaultRoute is add-default-route's route.
func defaultRoute(metric int) dataplane.Route {
	return dataplane.Route{Dst: netip.MustParsePrefix("0.0.0.0/0"), Metric: metric}
}

func countersOf(s dataplane.Stats) Counters {
	return Counters{
		RxBytes: s.RxBytes, TxBytes: s.TxBytes, RxPackets: s.RxPackets, TxPackets: s.TxPackets,
		RxDrops: s.RxDrops, TxDrops: s.TxDrops,
	}
}
