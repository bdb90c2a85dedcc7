// Package dataplane carries a PPP session's IPv4 packets between the host
// and the session (SPEC §5): every session gets a TUN device made with
// netlink — point-to-point addresses, the negotiated MTU, up — and
// packets flow TUN ↔ PPP ↔ PPPoE session frames.
//
// An Interface is one device. Its single reader goroutine reads what the
// host routes into the device and hands each packet, in order, to the
// attached session's SendFunc; Deliver writes what the session received
// into the device. Neither allocates per packet. Counters (packets,
// bytes, drops, errors each way) are read atomically with Stats.
//
// The engine drives it like this (router/ does the wiring):
//
//	// a client: the interface may exist before the session
//	// (dial-on-demand: placeholder addresses, a route, dial on traffic)
//	local, peer := dataplane.Placeholder(n)
//	ifc, err := dataplane.Open(dataplane.Config{
//		Name: "pppoe-out1", MTU: 1480, Local: local, Peer: peer,
//		ClampMSS: true, Headroom: 2, Offload: true,
//		OnFirstPacket: func() { select { case dial <- struct{}{}: default: } },
//	})
//	ifc.AddRoute(dataplane.Route{Dst: netip.MustParsePrefix("0.0.0.0/0"), Metric: distance})
//
//	// IPCP is up (ppp.EventUp): attach the session. With Headroom 2
//	// the first two bytes are the PPP Protocol field (RFC 1661 §2).
//	ifc.Attach(func(pkt []byte) error {
//		binary.BigEndian.PutUint16(pkt, uint16(ppp.ProtoIPv4))
//		return pppoeSession.WritePPP(pkt)
//	}, st.LocalAddr, st.PeerAddr, st.MTU)
//
//	// ppp.Config.OnPacket: IPv4 from the peer
//	OnPacket: func(_ ppp.Protocol, b []byte) { ifc.Deliver(b) }
//
//	// or, to let the kernel take a TCP burst in one piece (GRO), queue
//	// and flush when no more frames are waiting:
//	ifc.Queue(ip)
//	if len(pppoeSession.Recv()) == 0 {
//		ifc.Flush()
//	}
//
//	// rosh's engine (router/datapath.go) batches both ways: Headroom
//	// pppoe.FrameHeadroom+2, so the session frames a packet in place
//	// (pppoeSession.QueuePPP) and SendBatchEnd sends a TSO burst's
//	// segments in one sendmmsg (pppoeSession.Flush); received IPv4
//	// comes straight from the port's reader (pppoeSession.SetReceiver),
//	// ifc.Queue for each frame, ifc.Flush when the port's batch ends.
//
//	// the session ended: keep the interface for the next dial …
//	ifc.Detach()
//	ifc.SetAddrs(dataplane.Placeholder(n))
//	// … or remove it with everything it added
//	ifc.Close()
//
// A server session does the same without the placeholders: Open with
// the session's addresses once IPCP is up, Attach, and Close when it
// ends; its /ppp secret routes go in with AddRoute.
//
// With Config.Offload the device carries a virtio_net_hdr and takes TSO
// and checksum offload: the kernel hands over up to 64 KiB of a TCP
// stream in one read, which the reader cuts into MTU-sized segments
// (as Linux's own GSO would) before the SendFunc sees them, and Queue
// joins consecutive segments from the peer into one write (GRO, by
// rules as strict as Linux's). The session sees the same packets either
// way; the host makes a fraction of the system calls.
//
// change-tcp-mss is ClampMSS applied to both directions: the MSS of TCP
// SYNs and SYN-ACKs is lowered to MTU − 40 (RFC 879, RFC 6691) with the
// checksum updated incrementally (RFC 1624).
//
// Devices are non-persistent (a crash leaves nothing behind) and are
// named KernelName(RouterOS name), at most IFNAMSIZ−1 characters; the
// RouterOS name stays rosh's. Config.Namespace makes a device in another
// network namespace, which the tests use; rosh itself runs in the
// namespace it manages.
package dataplane
