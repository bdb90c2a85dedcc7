package dataplane

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// readLoop is the interface's one reader: it reads each packet the host
// routes into the device and hands it to the session, in order, reusing
// its buffers. With offloads a read may be a whole TCP burst, cut here
// into segments.
func (i *Interface) readLoop() {
	defer close(i.done)
	h, vh := i.headroom, i.vnetLen()
	size := h + max(i.MTU(), DefaultMTU)
	if vh > 0 {
		size = h + vh + ipv4MaxLen
	}
	buf := make([]byte, size)
	var seg []byte // segments of a TSO packet, headroom first
	for {
		if need := h + vh + i.MTU(); need > len(buf) {
			buf = make([]byte, need)
		}
		n, err := i.file.Read(buf[h:])
		if err != nil {
			if !errors.Is(err, os.ErrClosed) {
				i.err = fmt.Errorf("dataplane: reading %s: %w", i.kname, err)
			}
			return
		}
		if n > len(buf)-h {
			// The kernel reports a packet's whole length even when
			// the buffer held only its start: the MTU was raised
			// behind our back. Drop it; the next one fits.
			i.tx.drops.Add(1)
			buf = make([]byte, h+n)
			continue
		}
		if n < vh+1 || buf[h+vh]>>4 != 4 {
			// PPP here carries IPv4 only (IPCP, RFC 1332); anything
			// else the host sends this way has nowhere to go.
			i.tx.drops.Add(1)
			continue
		}
		pkt := buf[h+vh : h+n]
		if vh > 0 {
			vnet := vnetHdr(buf[h : h+vh])
			switch vnet.gsoType() {
			case unix.VIRTIO_NET_HDR_GSO_NONE:
				if vnet.flags()&unix.VIRTIO_NET_HDR_F_NEEDS_CSUM != 0 && !completeChecksum(pkt, vnet.csumStart(), vnet.csumOffset()) {
					i.tx.drops.Add(1)
					continue
				}
			case unix.VIRTIO_NET_HDR_GSO_TCPV4:
				t, err := parseTSO(pkt, vnet.gsoSize())
				if err != nil {
					i.tx.drops.Add(1)
					continue
				}
				if need := h + t.hl + t.mss; need > len(seg) {
					seg = make([]byte, need)
				}
				for k := range t.segs {
					sn := t.segment(k, seg[h:])
					i.forward(seg[:h+sn], sn)
				}
				i.batchEnd()
				continue
			default:
				i.tx.drops.Add(1)
				continue
			}
		}
		if i.clamp.Load() {
			ClampMSS(pkt, uint16(i.mss.Load()))
		}
		// The headroom is the vh+h bytes before the packet: the
		// virtio_net_hdr, read already, is the sender's to overwrite.
		i.forward(buf[vh:h+n], n-vh)
		i.batchEnd()
	}
}

func (i *Interface) vnetLen() int {
	if i.offload {
		return vnetHdrLen
	}
	return 0
}

func (i *Interface) batchEnd() {
	if i.sendBatchEnd != nil {
		i.sendBatchEnd()
	}
}

// forward hands one packet (n bytes of IP after the headroom) to the
// attached session, or drops it and, the first time, asks for one.
func (i *Interface) forward(pkt []byte, n int) {
	if l := i.limits.Load(); l != nil && l.tx != nil && l.tx.offer(pkt, n, nanotime()) != pass {
		return // queued or dropped: the shaper counts it
	}
	i.sendNow(pkt, n)
}

// sendNow is forward past the shaper.
func (i *Interface) sendNow(pkt []byte, n int) {
	i.mu.Lock()
	send := i.send
	if send == nil {
		fire := i.armed && i.onFirst != nil
		i.armed = false
		i.mu.Unlock()
		i.tx.drops.Add(1)
		if fire {
			i.onFirst()
		}
		return
	}
	err := send(pkt)
	i.mu.Unlock()
	if err != nil {
		i.tx.errors.Add(1)
		return
	}
	i.tx.packets.Add(1)
	if b := i.tx.bytes.Add(uint64(n)); i.limits.Load() != nil {
		i.checkQuota(true, b)
	}
}

// Deliver writes one IPv4 packet received from the peer into the device,
// for the host to route, before it returns (after any packet Queue
// holds). With change-tcp-mss on it clamps a SYN's MSS first, in pkt
// itself: the caller's buffer must be writable, and is not kept after
// Deliver returns. It is safe to call from any goroutine (the PPP
// session's, typically) and allocates nothing unless it fails.
func (i *Interface) Deliver(pkt []byte) error {
	if l := i.limits.Load(); l != nil && l.rx != nil {
		return i.shapeIn(l.rx, pkt, false)
	}
	return i.deliverNow(pkt)
}

// deliverNow is Deliver past the shaper.
func (i *Interface) deliverNow(pkt []byte) error {
	if err := i.prepare(pkt); err != nil {
		return err
	}
	if !i.offload {
		return i.write(pkt, 1, len(pkt))
	}
	i.wmu.Lock()
	defer i.wmu.Unlock()
	return i.gro.deliver(pkt)
}

// Queue is Deliver for a caller that has several packets at once — the
// PPP session's receive loop with frames waiting: with offloads on, it
// may hold consecutive segments of a TCP stream to give them to the
// kernel as one (GRO; see coalescer for the rules), and the caller calls
// Flush when it has nothing more at hand. Anything that cannot be joined
// is written at once, after what was held, so order is kept. Without
// offloads it is Deliver. Like Deliver it may clamp pkt in place and does
// not keep it.
func (i *Interface) Queue(pkt []byte) error {
	if l := i.limits.Load(); l != nil && l.rx != nil {
		return i.shapeIn(l.rx, pkt, true)
	}
	return i.queueNow(pkt)
}

// shapeIn passes pkt through the rx shaper: on at once (Queue or
// Deliver), or later from the scheduler, or dropped (ErrQueueFull).
func (i *Interface) shapeIn(b *bucket, pkt []byte, queue bool) error {
	if len(pkt) < ipv4MinLen || pkt[0]>>4 != 4 {
		i.rx.drops.Add(1)
		return ErrNotIPv4
	}
	switch b.offer(pkt, len(pkt), nanotime()) {
	case pass:
		if queue {
			return i.queueNow(pkt)
		}
		return i.deliverNow(pkt)
	case dropped:
		return ErrQueueFull
	}
	return nil
}

// queueNow is Queue past the shaper.
func (i *Interface) queueNow(pkt []byte) error {
	if !i.offload {
		return i.deliverNow(pkt)
	}
	if err := i.prepare(pkt); err != nil {
		return err
	}
	i.wmu.Lock()
	defer i.wmu.Unlock()
	return i.gro.queue(pkt)
}

// Flush writes what Queue holds.
func (i *Interface) Flush() error {
	if !i.offload {
		return nil
	}
	i.wmu.Lock()
	defer i.wmu.Unlock()
	return i.gro.flush()
}

// prepare checks that pkt is IPv4 and clamps its MSS if asked to.
func (i *Interface) prepare(pkt []byte) error {
	if len(pkt) < ipv4MinLen || pkt[0]>>4 != 4 {
		i.rx.drops.Add(1)
		return ErrNotIPv4
	}
	if i.clamp.Load() {
		ClampMSS(pkt, uint16(i.mss.Load()))
	}
	return nil
}

// write writes one frame to the device and counts the packets it holds.
func (i *Interface) write(frame []byte, segs, bytes int) error {
	if _, err := i.file.Write(frame); err != nil {
		if errors.Is(err, os.ErrClosed) {
			i.rx.drops.Add(uint64(segs))
			return ErrClosed
		}
		i.rx.errors.Add(uint64(segs))
		return fmt.Errorf("dataplane: writing to %s: %w", i.kname, err)
	}
	i.rx.packets.Add(uint64(segs))
	if b := i.rx.bytes.Add(uint64(bytes)); i.limits.Load() != nil {
		i.checkQuota(false, b)
	}
	return nil
}
