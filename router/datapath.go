package router

import (
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"rosh/dataplane"
	"rosh/ppp"
	"rosh/ppp/mp"
	"rosh/pppoe"
)

// tunHeadroom is the room the TUN reader leaves in front of every
// outbound packet for the Ethernet, PPPoE and PPP headers, which the
// session writes there (pppoe.Session.QueuePPP): a packet goes from the
// TUN to the wire without being copied into another buffer first. With
// Multilink PPP up, the first fragment's MP Protocol field and header go
// there too (mpRoom), and each later fragment's in the data already sent.
const tunHeadroom = pppoe.FrameHeadroom + mpRoom + 2

// mpRoom is what a multilink fragment puts in front of its data: the
// 0x003d Protocol field and the long header (RFC 1990 §3).
const mpRoom = 2 + mp.LongHeaderLen

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
	// control takes the packets other than IPv4 that come out of MP
	// reassembly (IPCP over the bundle): the PPP session's Input.
	control atomic.Pointer[func(ppp.Protocol, []byte)]

	// With Multilink PPP up: tx fragments what the TUN sends (its
	// reader goroutine, under the interface's lock), rx reassembles
	// what the port's reader takes; both nil otherwise. mpMu guards
	// the swap of rx against that reader.
	tx   atomic.Pointer[mpTx]
	mpMu sync.Mutex
	rx   *mp.Reassembler
	mpst atomic.Pointer[mp.Reassembler] // rx, for Stats
	// quotaSet: the byte quotas were given (once per session).
	quotaSet atomic.Bool
}

// mpTx is the sending half of MP: the peer's MRU, above which a packet
// goes as fragments, and the fragmenter that numbers them.
type mpTx struct {
	linkMTU int
	f       mp.Fragmenter
}

// ReceivePPP takes an IPv4 frame, or with MP up a multilink fragment,
// from the session on the port's reader goroutine (pppoe.Receiver).
func (t *tunnel) ReceivePPP(frame []byte) {
	if frame[1] == byte(mp.Protocol) {
		t.mpMu.Lock()
		if t.rx != nil {
			t.rx.Input(frame[2:], time.Now())
		}
		t.mpMu.Unlock()
		return
	}
	if ifc := t.ifc.Load(); ifc != nil {
		ifc.Queue(frame[2:])
	}
}

// mpDeliver takes a packet MP reassembly made: IPv4 into the TUN, the
// rest (an NCP sent over the bundle, RFC 1990 §3) to the PPP session.
func (t *tunnel) mpDeliver(pkt []byte) {
	proto, info, ok := ppp.SplitProtocol(pkt)
	if !ok {
		return
	}
	if proto == ppp.ProtoIPv4 {
		if ifc := t.ifc.Load(); ifc != nil {
			ifc.Queue(info)
		}
		return
	}
	if c := t.control.Load(); c != nil {
		(*c)(proto, info)
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
	t.tx.Store(nil)
	t.mpMu.Lock()
	t.rx = nil
	t.mpMu.Unlock()
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

// sendFunc queues a TUN packet (with its headroom) on the PPPoE session:
// as one frame, or, with MP up and the packet over the peer's MRU, as
// multilink fragments (RFC 1990 §3). A packet that fits goes without the
// multilink header, which a member link may do; the peer accepts both.
func (t *tunnel) sendFunc(ps *pppoe.Session) dataplane.SendFunc {
	const ip = tunHeadroom // where the IP packet starts
	queue := ps.QueuePPP   // one method value, not one per packet
	return func(pkt []byte) error {
		pkt[ip-2], pkt[ip-1] = byte(ppp.ProtoIPv4>>8), byte(ppp.ProtoIPv4)
		if tx := t.tx.Load(); tx != nil && len(pkt)-ip > tx.linkMTU {
			return tx.f.Split(pkt, ip-2, pppoe.FrameHeadroom, tx.linkMTU, queue)
		}
		return ps.QueuePPP(pkt[mpRoom:])
	}
}

// setControl makes p the taker of what MP reassembly makes that is not
// IPv4.
func (t *tunnel) setControl(p *ppp.Session) {
	f := p.Input
	t.control.Store(&f)
}

// tunMTU is the TUN's MTU: the link's, or with MP up the peer's MRRU — the
// largest packet it puts back together (RFC 1990 §5.1.1).
func tunMTU(st ppp.Status) int {
	if st.MP {
		return st.PeerMRRU
	}
	return st.MTU
}

// open makes (or, for dial-on-demand, reuses) the TUN and attaches the
// session to it with the negotiated addresses and MTU.
func (t *tunnel) attach(ns, name string, st ppp.Status, clamp bool, ps *pppoe.Session) (*dataplane.Interface, error) {
	ifc := t.ifc.Load()
	if ifc == nil {
		var err error
		ifc, err = dataplane.Open(dataplane.Config{
			Name: name, Namespace: ns, MTU: tunMTU(st), Local: st.LocalAddr, Peer: st.PeerAddr,
			ClampMSS: clamp, Headroom: tunHeadroom, Offload: tunOffload,
			SendBatchEnd: t.sendBatchEnd,
		})
		if err != nil {
			return nil, err
		}
	}
	ifc.SetClampMSS(clamp)
	if st.MP {
		t.tx.Store(&mpTx{linkMTU: st.MTU, f: mp.Fragmenter{Short: st.ShortSeq}})
		// Fragments are taken up to what the PPPoE session carries, not
		// just our MRU: Linux's ppp_generic sizes them by its PPPoE
		// channel (1492), whatever MRU LCP settled on.
		rx := mp.NewReassembler(mp.ReassemblerConfig{MRRU: st.MRRU, Short: st.PeerShortSeq, MaxFragment: max(st.MRU, ps.MaxMRU())}, t.mpDeliver)
		t.mpMu.Lock()
		t.rx = rx
		t.mpMu.Unlock()
		t.mpst.Store(rx)
	} else {
		t.tx.Store(nil)
	}
	if err := ifc.Attach(t.sendFunc(ps), st.LocalAddr, st.PeerAddr, tunMTU(st)); err != nil {
		ifc.Close()
		return nil, err
	}
	t.ps.Store(ps)
	t.ifc.Store(ifc)
	if st.MP {
		ps.SetReceiver(uint16(ppp.ProtoIPv4), t, mp.Protocol)
	} else {
		ps.SetReceiver(uint16(ppp.ProtoIPv4), t)
	}
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

// setRateLimit shapes the session to rl (zero: no limit); an unchanged
// limit is left alone, so that its burst average keeps running.
func (t *tunnel) setRateLimit(rl dataplane.RateLimit) {
	if ifc := t.ifc.Load(); ifc != nil && ifc.RateLimit() != rl {
		ifc.SetRateLimit(rl)
	}
}

// setQuota sets the byte quotas (0: none) once: a quota counts from when
// the session came up.
func (t *tunnel) setQuota(in, out uint64, used func(out bool)) {
	ifc := t.ifc.Load()
	if ifc == nil || (in == 0 && out == 0) || !t.quotaSet.CompareAndSwap(false, true) {
		return
	}
	ifc.SetQuota(in, out, used)
}

// shaping is the limit in force and its queue's counters (zero without
// a limit).
func (t *tunnel) shaping() (dataplane.RateLimit, dataplane.ShaperStats) {
	ifc := t.ifc.Load()
	if ifc == nil {
		return dataplane.RateLimit{}, dataplane.ShaperStats{}
	}
	st, _ := ifc.ShaperStats()
	return ifc.RateLimit(), st
}
