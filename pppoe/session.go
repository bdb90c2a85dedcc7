package pppoe

import (
	"encoding/binary"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"rosh/link"
)

// SessionInfo describes an established PPPoE session. It is fixed when the
// PADS is sent or received.
type SessionInfo struct {
	ID         uint16
	Interface  string
	Local      MAC // our MAC
	Peer       MAC // the AC's MAC on a client, the client's MAC on an AC
	Service    string
	ACName     string
	HostUniq   []byte
	RelayID    []byte // Relay-Session-Id echoed during discovery, if any
	MaxPayload uint16 // PPP-Max-Payload agreed (RFC 4638), 0 if none
	Tagged     bool   // the session runs inside an 802.1Q tag
	TCI        uint16
	Started    time.Time
}

// SessionStats are a session's counters.
type SessionStats struct {
	RxFrames, RxBytes uint64 // PPP frames received and queued for Recv
	TxFrames, TxBytes uint64 // PPP frames sent
	Drops             uint64 // received frames lost because Recv was not drained
	WrongMAC          uint64 // session frames with our id from another MAC (dropped)
	PADTIgnored       uint64 // PADTs naming this session from the wrong MAC, or from the peer with the wrong id
}

// Session is one PPPoE session (RFC 2516 §6): PPP frames to and from one
// peer under one SESSION_ID. The PPP layer reads frames from Recv, writes
// with WritePPP, and watches Done.
//
// A Session ends once, for one reason (Err): a PADT from the peer
// (ErrTerminated), Close (ErrClosed), the AC replacing or dropping it
// (ErrReplaced, ErrServiceRemoved), or the link going down (ErrLinkDown).
// Whenever rosh ends a session it sends a PADT (RFC 2516 §5.5).
type Session struct {
	info SessionInfo
	port *link.Port
	eth  Ethernet // header of the frames we send
	in   *link.Inbox

	done    chan struct{}
	endOnce sync.Once
	err     error // written before done is closed

	// close is how Close ends the session: on a client it sends the PADT
	// itself, on an AC it asks the AC's owner goroutine to.
	close   func(s *Session)
	onEnd   func(reason error) // runs before Done is closed: counters, events
	onEvent func(Event)
	sub     atomic.Pointer[link.Subscription] // client sessions only

	rxFrames, rxBytes, txFrames, txBytes atomic.Uint64
	wrongMAC, padtIgnored                atomic.Uint64

	// rcv takes the frames of one PPP protocol on the port's reader
	// goroutine (SetReceiver). The reader alone touches batchRcv, the
	// receiver it owes a FlushPPP at the end of the port's batch, and
	// endBatch, the method value it registers for that.
	rcv      atomic.Pointer[receiver]
	batchRcv Receiver
	endBatch func()
}

// A Receiver takes a session's frames of one PPP protocol straight from
// the port's reader goroutine (Session.SetReceiver): ReceivePPP gets each
// frame, protocol field first, in order, and must neither block nor keep
// it (it may change it); FlushPPP follows once the port has no more
// frames at hand, so a receiver may hold a few back to pass them on
// together (a TUN device's GRO).
type Receiver interface {
	ReceivePPP(frame []byte)
	FlushPPP()
}

type receiver struct {
	proto, also uint16 // also: a second protocol, or 0
	r           Receiver
}

func (rc *receiver) takes(proto uint16) bool {
	return proto == rc.proto || (proto == rc.also && rc.also != 0)
}

func newSession(port *link.Port, info SessionInfo, depth int, onEvent func(Event)) *Session {
	s := &Session{
		info:    info,
		port:    port,
		in:      link.NewInbox(depth, link.MaxFrameLen(port.MTU())),
		done:    make(chan struct{}),
		onEvent: onEvent,
	}
	s.eth = Ethernet{Dst: info.Peer, Src: info.Local, Tagged: info.Tagged, TCI: info.TCI, EtherType: EtherTypeSession}
	s.endBatch = s.flushReceiver
	return s
}

// SetReceiver hands the session's frames whose PPP Protocol field is proto
// to r, on the port's reader goroutine, instead of queueing them for Recv;
// a nil r queues them for Recv again. It is the data plane's way around a
// hand-off per packet to the PPP session's goroutine: IPv4 goes straight
// to its TUN device while LCP, IPCP and the rest still reach the PPP
// session through Recv. Only a protocol field of two octets matches
// (RFC 2516 §7 rules out its compression).
//
// also names a second protocol for r, at most one: the data plane takes
// Multilink fragments (RFC 1990) along with IPv4.
func (s *Session) SetReceiver(proto uint16, r Receiver, also ...uint16) {
	if r == nil {
		s.rcv.Store(nil)
		return
	}
	rc := &receiver{proto: proto, r: r}
	if len(also) > 0 {
		rc.also = also[0]
	}
	s.rcv.Store(rc)
}

// flushReceiver runs at the end of a port batch in which the receiver
// took frames.
func (s *Session) flushReceiver() {
	r := s.batchRcv
	s.batchRcv = nil
	if r != nil {
		r.FlushPPP()
	}
}

// Info returns the session's fixed description.
func (s *Session) Info() SessionInfo { return s.info }

// ID returns the SESSION_ID.
func (s *Session) ID() uint16 { return s.info.ID }

// Peer returns the peer's MAC.
func (s *Session) Peer() MAC { return s.info.Peer }

// Port returns the port the session runs on.
func (s *Session) Port() *link.Port { return s.port }

// MaxMRU returns the largest PPP MRU the session carries: the agreed
// PPP-Max-Payload (RFC 4638) or else 1492 (RFC 2516 §7), never more than the
// link MTU less the PPPoE header and the PPP protocol field.
func (s *Session) MaxMRU() int {
	limit := s.port.MTU() - HeaderLen - 2
	if s.info.MaxPayload > 0 {
		return min(int(s.info.MaxPayload), limit)
	}
	return min(MaxPayload, limit)
}

// Recv delivers the PPP frames of the session (protocol field first), with
// Ethernet padding removed. Hand each buffer back with Recycle.
func (s *Session) Recv() <-chan []byte { return s.in.C() }

// Recycle returns a buffer received from Recv.
func (s *Session) Recycle(b []byte) { s.in.Recycle(b) }

// Done is closed when the session has ended.
func (s *Session) Done() <-chan struct{} { return s.done }

// Err returns why the session ended, nil while it is up.
func (s *Session) Err() error {
	select {
	case <-s.done:
		return s.err
	default:
		return nil
	}
}

// Close ends the session and sends a PADT to the peer. It is safe to call
// more than once and from any goroutine.
func (s *Session) Close() error {
	select {
	case <-s.done:
		return nil
	default:
	}
	s.close(s)
	return nil
}

// Stats returns the session's counters.
func (s *Session) Stats() SessionStats {
	return SessionStats{
		RxFrames:    s.rxFrames.Load(),
		RxBytes:     s.rxBytes.Load(),
		TxFrames:    s.txFrames.Load(),
		TxBytes:     s.txBytes.Load(),
		Drops:       s.in.Drops(),
		WrongMAC:    s.wrongMAC.Load(),
		PADTIgnored: s.padtIgnored.Load(),
	}
}

// framePool holds the buffers WritePPP builds frames in.
var framePool = sync.Pool{New: func() any { b := make([]byte, 0, 9216); return &b }}

// WritePPP sends one PPP frame (protocol field first) in a session frame.
// It is safe for concurrent use and does not allocate. A frame longer than
// MaxMRU plus the two-byte protocol field is ErrTooLong; after the session
// has ended it returns ErrClosed.
func (s *Session) WritePPP(ppp []byte) error {
	select {
	case <-s.done:
		return ErrClosed
	default:
	}
	hl := s.eth.Len()
	n := hl + HeaderLen + len(ppp)
	// The MTU bounds what follows the Ethernet header (and its tag, if any).
	if n > hl+s.port.MTU() {
		return ErrTooLong
	}
	bp := framePool.Get().(*[]byte)
	defer framePool.Put(bp)
	if cap(*bp) < max(n, MinFrameLen) {
		*bp = make([]byte, 0, max(n, MinFrameLen))
	}
	b := (*bp)[:max(n, MinFrameLen)]
	_, _ = s.eth.MarshalTo(b)
	h := Header(b[hl:])
	h.SetVerType()
	h.SetCode(CodeSession)
	h.SetSessionID(s.info.ID)
	h.SetPayloadLength(uint16(len(ppp)))
	copy(b[hl+HeaderLen:], ppp)
	clear(b[n:])
	if err := s.port.WriteFrame(b); err != nil {
		return err
	}
	s.txFrames.Add(1)
	s.txBytes.Add(uint64(len(ppp)))
	return nil
}

// FrameHeadroom is the room QueuePPP needs in front of a PPP frame for the
// headers it writes there: Ethernet with an 802.1Q tag, and PPPoE.
const FrameHeadroom = EthernetLen + VLANTagLen + HeaderLen

// QueuePPP sends one PPP frame like WritePPP, with two differences made
// for the data path. The frame is built in place: buf is FrameHeadroom
// bytes of room, then the PPP frame (protocol field first), and the
// headers go into that room, so nothing is copied on the way. And it is
// queued on the port (link.Port.QueueFrame) for the next Flush: a sender
// with several frames at hand — a TSO burst cut into segments — sends
// them all with one system call on a link that batches. It does not keep
// buf. It is safe for concurrent use and does not allocate.
func (s *Session) QueuePPP(buf []byte) error {
	select {
	case <-s.done:
		return ErrClosed
	default:
	}
	if len(buf) < FrameHeadroom {
		return io.ErrShortBuffer
	}
	hl := s.eth.Len()
	frame := buf[FrameHeadroom-HeaderLen-hl:]
	n := len(buf) - FrameHeadroom
	if len(frame) > hl+s.port.MTU() {
		return ErrTooLong
	}
	_, _ = s.eth.MarshalTo(frame)
	h := Header(frame[hl:])
	h.SetVerType()
	h.SetCode(CodeSession)
	h.SetSessionID(s.info.ID)
	h.SetPayloadLength(uint16(n))
	if len(frame) < MinFrameLen {
		if cap(frame) < MinFrameLen {
			// No room to pad in place: send it the copying way, after
			// what is queued.
			s.port.Flush()
			return s.WritePPP(buf[FrameHeadroom:])
		}
		frame = frame[:MinFrameLen]
		clear(frame[hl+HeaderLen+n:])
	}
	if err := s.port.QueueFrame(frame); err != nil {
		return err
	}
	s.txFrames.Add(1)
	s.txBytes.Add(uint64(n))
	return nil
}

// Flush sends the frames QueuePPP queued on the session's port (those of
// every session on it).
func (s *Session) Flush() error { return s.port.Flush() }

// deliver hands the PPP payload of a session frame to the Receiver, or
// queues it for Recv. It runs on the port's reader goroutine.
func (s *Session) deliver(ppp []byte) {
	if rc := s.rcv.Load(); rc != nil && len(ppp) >= 2 && rc.takes(binary.BigEndian.Uint16(ppp)) {
		s.rxFrames.Add(1)
		s.rxBytes.Add(uint64(len(ppp)))
		if s.batchRcv != rc.r {
			if s.batchRcv != nil {
				s.batchRcv.FlushPPP()
			} else {
				s.port.AtBatchEnd(s.endBatch)
			}
			s.batchRcv = rc.r
		}
		rc.r.ReceivePPP(ppp)
		return
	}
	if s.in.Put(ppp) {
		s.rxFrames.Add(1)
		s.rxBytes.Add(uint64(len(ppp)))
	}
}

// end marks the session ended for reason; it reports whether this call did
// it. onEnd has run by the time Done is closed, so whoever wakes on Done
// sees the counters and events of the end.
func (s *Session) end(reason error) bool {
	ended := false
	s.endOnce.Do(func() {
		s.err = reason
		if s.onEnd != nil {
			s.onEnd(reason)
		}
		close(s.done)
		if sub := s.sub.Load(); sub != nil {
			sub.Cancel()
		}
		ended = true
	})
	return ended
}

// setSub records the session's port subscription; the reader may already
// have ended the session, in which case it is cancelled here.
func (s *Session) setSub(sub *link.Subscription) {
	s.sub.Store(sub)
	select {
	case <-s.done:
		sub.Cancel()
	default:
	}
}

// sendPADT sends a PADT for the session (RFC 2516 §5.5), echoing the
// Relay-Session-Id if discovery carried one. buf may be nil.
func (s *Session) sendPADT(buf []byte) error {
	var tags [1]Tag
	p := Packet{
		Ethernet:  s.eth,
		Code:      CodePADT,
		SessionID: s.info.ID,
	}
	p.EtherType = EtherTypeDiscovery
	if len(s.info.RelayID) > 0 {
		tags[0] = Tag{Type: TagRelaySessionID, Value: s.info.RelayID}
		p.Tags = tags[:]
	}
	if len(buf) < p.Len() {
		buf = make([]byte, p.Len())
	}
	n, err := p.MarshalTo(buf)
	if err != nil {
		return err
	}
	return s.port.WriteFrame(buf[:n])
}

func (s *Session) event(e Event) {
	if s.onEvent != nil {
		e.Session = s.info.ID
		if e.Peer.IsZero() {
			e.Peer = s.info.Peer
		}
		e.Service = s.info.Service
		s.onEvent(e)
	}
}
