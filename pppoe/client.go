package pppoe

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"rosh/clock"
	"rosh/link"
)

// Client discovery timing. RFC 2516 §7 asks a host to resend PADI and PADR
// after a timeout, doubling it each time, and to go back to PADI after some
// PADR retries; it leaves the numbers to the implementation. rosh starts at
// one second (pppd starts at five, which makes a lost first PADI cost a
// user five seconds) and caps the PADI interval at 8 s; PADR is tried four
// times (1+2+4+8 s) before discovery starts over. The cap was 16 s: on a
// line that loses one frame in five each way (a PADI/PADO round trip lost
// 36% of the time), one host in 1,250 then spent over a minute in
// discovery, one in 20,000 with 8 s (a simulation of the schedule); a
// host without an access concentrator sends one PADI every 8 s.
const (
	DefaultPADITimeout    = time.Second
	DefaultPADIMaxTimeout = 8 * time.Second
	DefaultPADRTimeout    = time.Second
	DefaultPADRAttempts   = 4
	hostUniqLen           = 8
)

// ClientConfig configures the discovery half of a pppoe-client.
type ClientConfig struct {
	// ServiceName is requested in the PADI; empty asks for any service and
	// takes the one the chosen PADO names.
	ServiceName string
	// ACName, if set, ignores PADOs from access concentrators of another
	// name.
	ACName string
	// HostUniq is sent in PADI and PADR and must come back in PADO and
	// PADS (RFC 2516 Appendix A). Empty: 8 random bytes chosen by NewClient.
	HostUniq []byte
	// MaxPayload, above 1492, asks for that PPP-Max-Payload (RFC 4638).
	MaxPayload uint16
	// LocalMAC is the source MAC of the client's frames, and the
	// destination it answers to; zero is the port's own. A subscriber
	// emulator gives each of its hosts one of their own, and opens the
	// port promiscuous so their frames come up.
	LocalMAC MAC
	// Clock to take time from; nil is the real clock.
	Clock clock.Clock
	// PADITimeout, PADIMaxTimeout, PADRTimeout and PADRAttempts override
	// the defaults above when non-zero.
	PADITimeout    time.Duration
	PADIMaxTimeout time.Duration
	PADRTimeout    time.Duration
	PADRAttempts   int
	// PADIAttempts makes Dial give up with ErrTimeout after that many
	// PADIs without an acceptable PADO; 0 keeps dialing until ctx ends.
	PADIAttempts int
	// SessionQueue is how many received PPP frames a session buffers
	// (default 32; its buffers are allocated as they are needed).
	SessionQueue int
	// OnEvent, if set, receives status events: dialing, offers, errors with
	// their reason, session up/down, ignored frames.
	OnEvent func(Event)
}

// ClientStats are a Client's discovery counters.
type ClientStats struct {
	PADISent, PADRSent       uint64
	PADOReceived             uint64 // PADOs for us, accepted or not
	PADOIgnored              uint64 // not matching ac-name/service-name, malformed, or late
	PADSReceived             uint64
	WrongHostUniq            uint64 // PADO/PADS for our MAC with another Host-Uniq
	Errors                   uint64 // PADS with an error tag, PADO with one
	SessionsUp, SessionsDown uint64
}

// Client is the discovery side of a PPPoE client (RFC 2516 §5.1–5.4) on one
// port. Dial runs discovery and returns a Session; several Clients may share
// a port, each recognising its own PADO and PADS by its Host-Uniq.
type Client struct {
	port     *link.Port
	cfg      ClientConfig
	clock    clock.Clock
	local    MAC
	hostUniq []byte

	padiSent, padrSent, padoRx, padoIgnored, padsRx atomic.Uint64
	wrongHostUniq, errors, up, down                 atomic.Uint64
}

// NewClient returns a Client on port.
func NewClient(port *link.Port, cfg ClientConfig) (*Client, error) {
	local, ok := MACFrom(port.HardwareAddr())
	if !ok {
		return nil, fmt.Errorf("pppoe: %s: not an Ethernet interface", port.Name())
	}
	if !cfg.LocalMAC.IsZero() {
		if cfg.LocalMAC.IsMulticast() {
			return nil, fmt.Errorf("pppoe: local MAC %v is not unicast", cfg.LocalMAC)
		}
		local = cfg.LocalMAC
	}
	c := &Client{port: port, cfg: cfg, clock: clock.OrReal(cfg.Clock), local: local}
	if len(cfg.HostUniq) > 0 {
		c.hostUniq = bytes.Clone(cfg.HostUniq)
	} else {
		c.hostUniq = make([]byte, hostUniqLen)
		if _, err := rand.Read(c.hostUniq); err != nil {
			return nil, err
		}
	}
	if c.cfg.PADITimeout <= 0 {
		c.cfg.PADITimeout = DefaultPADITimeout
	}
	if c.cfg.PADIMaxTimeout <= 0 {
		c.cfg.PADIMaxTimeout = DefaultPADIMaxTimeout
	}
	if c.cfg.PADRTimeout <= 0 {
		c.cfg.PADRTimeout = DefaultPADRTimeout
	}
	if c.cfg.PADRAttempts <= 0 {
		c.cfg.PADRAttempts = DefaultPADRAttempts
	}
	if c.cfg.SessionQueue <= 0 {
		c.cfg.SessionQueue = 32
	}
	return c, nil
}

// HostUniq returns the Host-Uniq the client sends.
func (c *Client) HostUniq() []byte { return bytes.Clone(c.hostUniq) }

// Stats returns the client's counters.
func (c *Client) Stats() ClientStats {
	return ClientStats{
		PADISent:      c.padiSent.Load(),
		PADRSent:      c.padrSent.Load(),
		PADOReceived:  c.padoRx.Load(),
		PADOIgnored:   c.padoIgnored.Load(),
		PADSReceived:  c.padsRx.Load(),
		WrongHostUniq: c.wrongHostUniq.Load(),
		Errors:        c.errors.Load(),
		SessionsUp:    c.up.Load(),
		SessionsDown:  c.down.Load(),
	}
}

// clientSub is what a Dial's port subscription works with. The one
// subscription serves discovery and then the session it opens: an AC sends
// its LCP Configure-Request right after the PADS, usually before the
// dialer's goroutine has read the PADS, and a second subscription made only
// then would lose that frame to a 3-second LCP restart.
type clientSub struct {
	sub  *link.Subscription
	disc atomic.Pointer[link.Inbox] // PADO and PADS for the dialer; nil after the handover
	// Session frames and PADTs that come before the handover wait in
	// early, under mu, which the handover holds while it delivers them:
	// nothing is lost or reordered.
	mu      sync.Mutex
	early   *link.Inbox
	session atomic.Pointer[Session] // set by the handover
}

// earlyFrames is how many frames may come between the PADS and the
// handover: the AC's first LCP packets.
const earlyFrames = 8

// match is the client's port handler. Until the handover: PADO and PADS
// sent to our MAC carrying our Host-Uniq go to the dialer; anything else
// with our MAC and a discovery code for a client is a foreign Host-Uniq and
// counted; session frames and PADTs for our MAC are kept for the handover.
// After it, frames are the session's (sessionInput).
func (c *Client) match(cs *clientSub) link.Handler {
	return func(frame []byte) bool {
		if s := cs.session.Load(); s != nil {
			return c.sessionInput(s, frame)
		}
		eth, rest, err := ParseEthernet(frame)
		if err != nil || eth.Dst != c.local || len(rest) < HeaderLen {
			return false
		}
		code := Code(rest[codeOffset])
		if eth.EtherType == EtherTypeSession || (eth.EtherType == EtherTypeDiscovery && code == CodePADT) {
			cs.mu.Lock()
			defer cs.mu.Unlock()
			if s := cs.session.Load(); s != nil {
				return c.sessionInput(s, frame)
			}
			return cs.early.Put(frame)
		}
		if eth.EtherType != EtherTypeDiscovery || (code != CodePADO && code != CodePADS) {
			return false
		}
		h, err := ParseHeader(rest)
		if err != nil {
			return false
		}
		if hu, ok := findTag(h.Payload(), TagHostUniq); !ok || !bytes.Equal(hu, c.hostUniq) {
			c.wrongHostUniq.Add(1)
			return false
		}
		inbox := cs.disc.Load()
		if inbox == nil {
			return false
		}
		inbox.Put(frame)
		return true
	}
}

// handover gives the subscription to s: the frames that came early are
// delivered first, in order, then every later one goes straight to it.
// The discovery buffers are let go, so a long session does not keep them.
func (cs *clientSub) handover(c *Client, s *Session) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	for {
		select {
		case f := <-cs.early.C():
			c.sessionInput(s, f)
			cs.early.Recycle(f)
			continue
		default:
		}
		break
	}
	cs.session.Store(s)
	cs.disc.Store(nil)
	cs.early = nil
}

// dialer is the state of one Dial, owned by the goroutine running it.
type dialer struct {
	c       *Client
	ctx     context.Context
	cs      *clientSub
	inbox   *link.Inbox
	timer   clock.Timer
	pkt     Packet
	buf     []byte
	attempt int // PADIs sent since the last PADO was taken

	// the offer being requested
	requesting bool
	acMAC      MAC
	acName     string
	service    string
	cookie     []byte
	relay      []byte
	eth        Ethernet
	padrTries  int
	timeout    time.Duration
}

// Dial runs PPPoE discovery: PADI (broadcast, resent with exponential
// back-off), the first PADO that matches ac-name and service-name, PADR
// echoing its AC-Cookie and Relay-Session-Id (resent likewise, then back to
// PADI), and PADS. It returns the Session the PADS opened, a *PeerError when
// the PADS carries Service-Name-Error, AC-System-Error or Generic-Error,
// ErrTimeout after PADIAttempts, or ctx's error. The caller's goroutine is
// the owner of discovery; the engine redials after a pause on any error.
func (c *Client) Dial(ctx context.Context) (*Session, error) {
	d := &dialer{
		c:       c,
		ctx:     ctx,
		inbox:   link.NewInbox(32, link.MaxFrameLen(c.port.MTU())),
		buf:     make([]byte, link.MaxFrameLen(c.port.MTU())),
		timeout: c.cfg.PADITimeout,
	}
	d.cs = newClientSub(d.inbox)
	d.cs.sub = c.port.SubscribeDst(c.local, c.match(d.cs))
	defer func() {
		if d.cs.session.Load() == nil {
			d.cs.sub.Cancel()
		}
	}()
	d.timer = c.clock.NewTimer(d.timeout)
	defer d.timer.Stop()
	if err := d.sendPADI(); err != nil {
		return nil, err
	}
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-c.port.Done():
			return nil, ErrLinkDown
		case <-d.timer.C():
			if err := d.onTimeout(); err != nil {
				c.event(Event{Kind: EventError, Err: err})
				return nil, err
			}
		case frame := <-d.inbox.C():
			s, err := d.input(frame)
			d.inbox.Recycle(frame)
			if err != nil {
				c.errors.Add(1)
				c.event(Event{Kind: EventError, Peer: d.acMAC, ACName: d.acName, Service: d.service, Err: err})
				return nil, err
			}
			if s != nil {
				return s, nil
			}
		}
	}
}

func newClientSub(disc *link.Inbox) *clientSub {
	cs := &clientSub{early: link.NewInbox(earlyFrames, disc.FrameSize())}
	cs.disc.Store(disc)
	return cs
}

func (c *Client) event(e Event) {
	if c.cfg.OnEvent != nil {
		e.Time = c.clock.Now()
		e.Interface = c.port.Name()
		c.cfg.OnEvent(e)
	}
}

// onTimeout resends PADI or PADR with a doubled timeout.
func (d *dialer) onTimeout() error {
	c := d.c
	d.timeout = min(d.timeout*2, c.cfg.PADIMaxTimeout)
	if d.requesting {
		d.padrTries++
		if d.padrTries < c.cfg.PADRAttempts {
			return d.sendPADR()
		}
		// RFC 2516 §7: after some PADR retries, start over with PADI.
		d.requesting = false
		d.timeout = c.cfg.PADITimeout
		d.attempt = 0
		return d.sendPADI()
	}
	if c.cfg.PADIAttempts > 0 && d.attempt >= c.cfg.PADIAttempts {
		return ErrTimeout
	}
	return d.sendPADI()
}

// write arms the timer, then sends: a test that sees the frame knows the
// timer is already waiting.
func (d *dialer) write(p *Packet) error {
	n, err := p.MarshalTo(d.buf)
	if err != nil {
		return err
	}
	d.timer.Reset(d.timeout)
	if err := d.c.port.WriteFrame(d.buf[:n]); err != nil {
		if errors.Is(err, link.ErrClosed) {
			return ErrLinkDown
		}
		return err
	}
	return nil
}

func (d *dialer) baseTags(service string) []Tag {
	c := d.c
	tags := append(d.pkt.Tags[:0],
		Tag{Type: TagServiceName, Value: []byte(service)},
		Tag{Type: TagHostUniq, Value: c.hostUniq},
	)
	if c.cfg.MaxPayload > MaxPayload {
		tags = append(tags, Tag{Type: TagPPPMaxPayload, Value: Uint16Value(c.cfg.MaxPayload)})
	}
	return tags
}

// sendPADI broadcasts a PADI (RFC 2516 §5.1): exactly one Service-Name, our
// Host-Uniq, and PPP-Max-Payload when asked for.
func (d *dialer) sendPADI() error {
	c := d.c
	d.attempt++
	p := Packet{
		Ethernet: Ethernet{Dst: Broadcast, Src: c.local, EtherType: EtherTypeDiscovery},
		Code:     CodePADI,
		Tags:     d.baseTags(c.cfg.ServiceName),
	}
	if err := d.write(&p); err != nil {
		return err
	}
	c.padiSent.Add(1)
	c.event(Event{Kind: EventDialing, Service: c.cfg.ServiceName, Attempt: d.attempt})
	return nil
}

// sendPADR unicasts a PADR to the chosen AC (RFC 2516 §5.3): the service,
// Host-Uniq, and the AC-Cookie and Relay-Session-Id of its PADO echoed.
func (d *dialer) sendPADR() error {
	c := d.c
	p := Packet{Ethernet: d.eth, Code: CodePADR, Tags: d.baseTags(d.service)}
	if d.cookie != nil {
		p.Tags = append(p.Tags, Tag{Type: TagACCookie, Value: d.cookie})
	}
	if d.relay != nil {
		p.Tags = append(p.Tags, Tag{Type: TagRelaySessionID, Value: d.relay})
	}
	if err := d.write(&p); err != nil {
		return err
	}
	c.padrSent.Add(1)
	c.event(Event{Kind: EventRequest, Peer: d.acMAC, ACName: d.acName, Service: d.service, Attempt: d.padrTries + 1})
	return nil
}

// input handles one PADO or PADS. It returns a Session when discovery is
// done, an error when it failed, or neither to keep waiting.
func (d *dialer) input(frame []byte) (*Session, error) {
	c := d.c
	p := &d.pkt
	if err := p.Decode(frame); err != nil {
		c.padoIgnored.Add(1)
		c.event(Event{Kind: EventIgnored, Err: fmt.Errorf("%w: %w", ErrMalformed, err)})
		return nil, nil
	}
	switch p.Code {
	case CodePADO:
		c.padoRx.Add(1)
		if d.requesting {
			// A second offer while we wait for the first AC: ignore it.
			c.padoIgnored.Add(1)
			return nil, nil
		}
		return nil, d.onPADO()
	case CodePADS:
		c.padsRx.Add(1)
		return d.onPADS()
	}
	return nil, nil
}

// onPADO takes the offer if it is acceptable (RFC 2516 §5.2): unicast from a
// unicast MAC, SESSION_ID 0, an AC-Name, a Service-Name, no error tag, and
// matching the configured ac-name and service-name.
func (d *dialer) onPADO() error {
	c := d.c
	p := &d.pkt
	if p.SessionID != 0 || p.Src.IsMulticast() || p.Src.IsZero() {
		return d.ignorePADO(ErrMalformed)
	}
	if err := p.Tags.Err(p.Src); err != nil {
		c.errors.Add(1)
		return d.ignorePADO(err)
	}
	acName, ok := p.Tags.Value(TagACName)
	if !ok || p.Tags.Count(TagServiceName) == 0 {
		return d.ignorePADO(ErrMalformed)
	}
	if c.cfg.ACName != "" && string(acName) != c.cfg.ACName {
		return d.ignorePADO(ErrOfferMismatch)
	}
	service := c.cfg.ServiceName
	if service != "" {
		if !p.Tags.HasService(service) {
			return d.ignorePADO(ErrOfferMismatch)
		}
	} else {
		// Any service will do: take the first one the AC names (RFC 2516
		// §5.2 lists our empty request first, then what it offers).
		for _, t := range p.Tags {
			if t.Type == TagServiceName && len(t.Value) > 0 {
				service = string(t.Value)
				break
			}
		}
	}
	d.requesting = true
	d.acMAC = p.Src
	d.acName = string(acName)
	d.service = service
	d.cookie = nil
	if v, ok := p.Tags.Value(TagACCookie); ok {
		d.cookie = bytes.Clone(v)
	}
	d.relay = nil
	if v, ok := p.Tags.Value(TagRelaySessionID); ok {
		d.relay = bytes.Clone(v)
	}
	d.eth = Ethernet{Dst: p.Src, Src: c.local, Tagged: p.Tagged, TCI: p.TCI, EtherType: EtherTypeDiscovery}
	d.padrTries = 0
	d.timeout = c.cfg.PADRTimeout
	c.event(Event{Kind: EventOffer, Peer: d.acMAC, ACName: d.acName, Service: service})
	return d.sendPADR()
}

func (d *dialer) ignorePADO(reason error) error {
	d.c.padoIgnored.Add(1)
	d.c.event(Event{Kind: EventIgnored, Peer: d.pkt.Src, Err: reason})
	return nil
}

// onPADS opens the session, or fails discovery when the AC refuses
// (RFC 2516 §5.4: an error tag, or SESSION_ID 0).
func (d *dialer) onPADS() (*Session, error) {
	c := d.c
	p := &d.pkt
	if !d.requesting || p.Src != d.acMAC {
		c.event(Event{Kind: EventIgnored, Peer: p.Src, Err: ErrWrongPeer})
		return nil, nil
	}
	if err := p.Tags.Err(p.Src); err != nil {
		return nil, err
	}
	if p.SessionID == 0 || p.SessionID == 0xffff {
		return nil, &PeerError{Tag: TagGenericError, Reason: fmt.Sprintf("PADS with session id %#04x", p.SessionID), Peer: p.Src}
	}
	var maxPayload uint16
	if c.cfg.MaxPayload > MaxPayload {
		if mp, err := p.Tags.PPPMaxPayload(); err == nil && mp >= MaxPayload {
			maxPayload = min(mp, c.cfg.MaxPayload)
		}
	}
	info := SessionInfo{
		ID:         p.SessionID,
		Interface:  c.port.Name(),
		Local:      c.local,
		Peer:       d.acMAC,
		Service:    d.service,
		ACName:     d.acName,
		HostUniq:   bytes.Clone(c.hostUniq),
		RelayID:    d.relay,
		MaxPayload: maxPayload,
		Tagged:     d.eth.Tagged,
		TCI:        d.eth.TCI,
		Started:    c.clock.Now(),
	}
	s := newSession(c.port, info, c.cfg.SessionQueue, c.cfg.OnEvent)
	s.close = c.closeSession
	s.onEnd = func(reason error) {
		c.down.Add(1)
		s.event(Event{Time: c.clock.Now(), Kind: EventSessionDown, Interface: c.port.Name(), Err: reason})
	}
	s.setSub(d.cs.sub.OnDown(func() { s.end(ErrLinkDown) }))
	d.cs.handover(c, s)
	c.up.Add(1)
	c.event(Event{Kind: EventSessionUp, Peer: info.Peer, Session: info.ID, Service: info.Service, ACName: info.ACName})
	return s, nil
}

// closeSession sends the PADT for a client session and ends it.
func (c *Client) closeSession(s *Session) {
	if s.end(ErrClosed) {
		_ = s.sendPADT(nil)
	}
}

// sessionInput is a client session's share of the port handler. Session
// frames with our id from the AC go to Recv; with our id from another MAC
// they are dropped and counted. A PADT ends the session only when both its
// MAC and its id are the session's (RFC 2516 §5.5); a PADT that has one but
// not the other is ignored and counted.
func (c *Client) sessionInput(s *Session, frame []byte) bool {
	eth, rest, err := ParseEthernet(frame)
	if err != nil || eth.Dst != s.info.Local {
		return false
	}
	h, err := ParseHeader(rest)
	if err != nil {
		return false
	}
	sameID, samePeer := h.SessionID() == s.info.ID, eth.Src == s.info.Peer
	switch eth.EtherType {
	case EtherTypeSession:
		if !sameID || h.Code() != CodeSession {
			return false
		}
		if !samePeer {
			s.wrongMAC.Add(1)
			return true
		}
		s.deliver(h.Payload())
		return true
	case EtherTypeDiscovery:
		if h.Code() != CodePADT || (!sameID && !samePeer) {
			return false
		}
		if sameID && samePeer {
			s.end(ErrTerminated)
			return true
		}
		s.padtIgnored.Add(1)
		s.event(Event{Time: c.clock.Now(), Kind: EventIgnored, Interface: c.port.Name(), Peer: eth.Src, Err: ErrSpoofedPADT})
		return true
	}
	return false
}
