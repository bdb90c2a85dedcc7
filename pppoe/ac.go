package pppoe

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"rosh/clock"
	"rosh/link"
)

// Service is one service an AC offers on its interface: one
// `/interface pppoe-server server` entry.
type Service struct {
	// Name is the Service-Name. It is matched exactly (SPEC §3).
	Name string
	// MaxSessions caps this service's sessions; 0 is unlimited. While it is
	// reached the service offers nothing (no PADO, RFC 2516 §5.2), and a
	// PADR that comes anyway (its PADO went out before) gets a PADS with
	// AC-System-Error.
	MaxSessions int
	// OneSessionPerHost closes a host's (MAC's) older session of this
	// service when it opens a new one.
	OneSessionPerHost bool
	// PADODelay delays this service's PADOs, so that another AC answers
	// first.
	PADODelay time.Duration
	// AcceptEmptyService answers PADIs (and PADRs) with an empty
	// Service-Name. RouterOS's default is yes.
	AcceptEmptyService bool
}

func (s *Service) offers(requested []byte) bool {
	if len(requested) == 0 {
		return s.AcceptEmptyService
	}
	return string(requested) == s.Name
}

// ACConfig configures an AC.
type ACConfig struct {
	// ACName returns the AC-Name to send, the router's identity; it is
	// asked for every PADO and PADS, so a renamed identity shows at once.
	// nil sends "MikroTik", RouterOS's default identity.
	ACName func() string
	// Clock to take time from; nil is the real clock.
	Clock clock.Clock
	// OnSession is called on the AC's goroutine for every new session,
	// right after its PADS is sent. It must not block; it typically starts the
	// session's PPP goroutine. The session's end shows on its Done channel.
	OnSession func(*Session)
	// OnEvent receives status events; it must not block.
	OnEvent func(Event)
	// Queue is how many discovery frames wait for the AC's goroutine, per
	// class (PADI; PADR and PADT); default 256. When full, frames are
	// dropped and counted.
	Queue int
	// SessionQueue is how many received PPP frames a session buffers
	// (default 32; its buffers are allocated as they are needed).
	SessionQueue int
	// DelayQueue bounds the PADOs waiting out a service's pado-delay
	// (default 1024 per service); more are dropped and counted.
	DelayQueue int
}

// ACStats are an AC's counters.
type ACStats struct {
	PADIReceived, PADOSent   uint64
	PADRReceived, PADSSent   uint64
	PADSErrors               uint64 // PADS sent with an error tag
	PADTReceived, PADTSent   uint64
	PADTIgnored              uint64 // PADT from the wrong MAC for the id
	BadCookie                uint64 // PADR dropped for a missing or invalid AC-Cookie
	UnknownService           uint64 // PADI/PADR for a service not offered
	Malformed                uint64
	QueueDrops               uint64 // discovery frames lost to full queues
	DelayDrops               uint64 // PADOs lost to a full pado-delay queue
	FullService              uint64 // PADOs not sent: the service is at max-sessions
	UnknownSession           uint64 // session frames for no session (dropped)
	WrongMAC                 uint64 // session frames with a known id from the wrong MAC (dropped)
	Sessions                 int    // sessions up now
	SessionsUp, SessionsDown uint64 // since the AC started
}

// AC is a PPPoE access concentrator (RFC 2516 §5) on one interface, with
// any number of services. One AC per interface: it owns the interface's
// session ids.
//
// Frames reach it through one port subscription. Discovery frames wait in
// two bounded queues — PADIs in one, PADRs and PADTs in the other, served
// first — for the AC's single owner goroutine, which holds all protocol
// state: services, sessions, the cookie jar and the session-id allocator.
// Session frames are handed to their Session on the port's reader goroutine
// through a read-mostly index, without passing through the owner.
//
// A PADI costs no per-client state: the PADO's AC-Cookie is a keyed hash
// (see cookie.go), checked when the PADR comes back. Session ids are handed
// out in rising order from a random start, skipping ids in use, so an id is
// not reused until the other 65533 have been.
type AC struct {
	port  *link.Port
	cfg   ACConfig
	clock clock.Clock
	local MAC
	sub   *link.Subscription

	padiQ, ctrlQ *link.Inbox
	quit         chan struct{}
	stopped      chan struct{}
	closeOnce    sync.Once

	postMu sync.Mutex
	posted []func()
	wake   chan struct{}

	// owned by the AC's goroutine
	services   []*acService
	sessions   map[uint16]*acSession
	byHost     map[MAC][]uint16
	nextID     uint16
	jar        cookieJar
	in, out    Packet
	wbuf       []byte
	cookie     [cookieLen]byte
	mpBuf      [2]byte
	delayTimer clock.Timer
	acName     string
	acNameB    []byte

	// session dispatch index, written by the owner, read by the reader
	idxMu sync.RWMutex
	idx   map[uint16]*Session

	padiRx, padoTx, padrRx, padsTx, padsErr          atomic.Uint64
	padtRx, padtTx, padtIgnored, badCookie, unknownS atomic.Uint64
	malformed, delayDrops, unknownSess, wrongMAC     atomic.Uint64
	fullService                                      atomic.Uint64
	nSessions                                        atomic.Int64
	upTotal, downTotal                               atomic.Uint64
}

type acService struct {
	Service
	name    []byte
	count   int
	delayed delayQueue
}

// full reports whether the service holds max-sessions sessions.
func (s *acService) full() bool { return s.MaxSessions > 0 && s.count >= s.MaxSessions }

type acSession struct {
	s   *Session
	svc *acService
	// lastPADS is when the PADS was (re)sent; a repeated PADR from the same
	// host with the same Host-Uniq shortly after gets the same PADS again
	// instead of a second session.
	lastPADS time.Time
}

// Reasons sent in error tags (UTF-8, RFC 2516 Appendix A).
var (
	reasonUnknownService = []byte("service not offered")
	reasonMaxSessions    = []byte("max sessions reached")
	reasonNoSessionID    = []byte("no free session id")
)

// recentPADR is how long a repeated PADR is taken as a retransmission: a
// client's whole PADR series (RFC 2516 §7: the timeout doubles — 1, 2, 4,
// 8 s — before it goes back to PADI), so that a PADS lost more than once
// is answered again, not with a second session beside an unused one. (A
// session whose client has sent anything is never taken for one.)
const recentPADR = 16 * time.Second

// NewAC starts an access concentrator on port with no services; add them
// with SetService.
func NewAC(port *link.Port, cfg ACConfig) (*AC, error) {
	ac, err := newAC(port, cfg)
	if err != nil {
		return nil, err
	}
	ac.sub = port.Subscribe(ac.handle)
	go ac.run()
	return ac, nil
}

// newAC builds an AC that is neither subscribed nor running.
func newAC(port *link.Port, cfg ACConfig) (*AC, error) {
	local, ok := MACFrom(port.HardwareAddr())
	if !ok {
		return nil, fmt.Errorf("pppoe: %s: not an Ethernet interface", port.Name())
	}
	if cfg.Queue <= 0 {
		cfg.Queue = 256
	}
	if cfg.SessionQueue <= 0 {
		cfg.SessionQueue = 32
	}
	if cfg.DelayQueue <= 0 {
		cfg.DelayQueue = 1024
	}
	frameLen := link.MaxFrameLen(port.MTU())
	ac := &AC{
		port:     port,
		cfg:      cfg,
		clock:    clock.OrReal(cfg.Clock),
		local:    local,
		padiQ:    link.NewInbox(cfg.Queue, frameLen),
		ctrlQ:    link.NewInbox(cfg.Queue, frameLen),
		quit:     make(chan struct{}),
		stopped:  make(chan struct{}),
		wake:     make(chan struct{}, 1),
		sessions: make(map[uint16]*acSession),
		byHost:   make(map[MAC][]uint16),
		idx:      make(map[uint16]*Session),
		wbuf:     make([]byte, frameLen),
	}
	var r [2]byte
	_, _ = rand.Read(r[:])
	ac.nextID = binary.BigEndian.Uint16(r[:])
	// The discovery queues face floods: their memory is paid here, once.
	ac.padiQ.Fill()
	ac.ctrlQ.Fill()
	ac.in.Tags = make(Tags, 0, 16)
	ac.out.Tags = make(Tags, 0, 16)
	ac.delayTimer = ac.clock.NewTimer(time.Hour)
	ac.delayTimer.Stop()
	return ac, nil
}

// handle is the AC's port handler, on the reader goroutine. It sorts
// discovery frames into the two queues and hands session frames to their
// session; it neither decodes tags nor touches owner state.
func (ac *AC) handle(frame []byte) bool {
	eth, rest, err := ParseEthernet(frame)
	if err != nil || len(rest) < HeaderLen {
		return false
	}
	switch eth.EtherType {
	case EtherTypeDiscovery:
		switch Code(rest[codeOffset]) {
		case CodePADI:
			if eth.Dst != Broadcast && eth.Dst != ac.local {
				return false
			}
			ac.padiQ.Put(frame)
			return true
		case CodePADR, CodePADT:
			if eth.Dst != ac.local {
				return false
			}
			ac.ctrlQ.Put(frame)
			return true
		}
		return false
	case EtherTypeSession:
		if eth.Dst != ac.local {
			return false
		}
		h, err := ParseHeader(rest)
		if err != nil || h.Code() != CodeSession {
			ac.malformed.Add(1)
			return true
		}
		ac.idxMu.RLock()
		s := ac.idx[h.SessionID()]
		ac.idxMu.RUnlock()
		switch {
		case s == nil:
			ac.unknownSess.Add(1)
		case s.info.Peer != eth.Src:
			ac.wrongMAC.Add(1)
			s.wrongMAC.Add(1)
		default:
			s.deliver(h.Payload())
		}
		return true
	}
	return false
}

func (ac *AC) run() {
	defer close(ac.stopped)
	for {
		// PADR and PADT first, so a PADI flood cannot starve the clients
		// that already have an offer.
		select {
		case b := <-ac.ctrlQ.C():
			ac.input(b)
			ac.ctrlQ.Recycle(b)
			continue
		default:
		}
		select {
		case b := <-ac.ctrlQ.C():
			ac.input(b)
			ac.ctrlQ.Recycle(b)
		case b := <-ac.padiQ.C():
			ac.input(b)
			ac.padiQ.Recycle(b)
		case <-ac.delayTimer.C():
			ac.flushDelayed()
		case <-ac.wake:
			ac.runPosted()
		case <-ac.port.Done():
			ac.shutdown(ErrLinkDown)
			return
		case <-ac.quit:
			ac.runPosted()
			ac.shutdown(ErrClosed)
			return
		}
	}
}

// post queues fn to run on the AC's goroutine. It never blocks, so it may be
// called from the AC's own callbacks.
func (ac *AC) post(fn func()) {
	ac.postMu.Lock()
	ac.posted = append(ac.posted, fn)
	ac.postMu.Unlock()
	select {
	case ac.wake <- struct{}{}:
	default:
	}
}

func (ac *AC) runPosted() {
	ac.postMu.Lock()
	fns := ac.posted
	ac.posted = nil
	ac.postMu.Unlock()
	for _, fn := range fns {
		fn()
	}
}

// do runs fn on the AC's goroutine and waits for it. It must not be called
// from that goroutine (OnSession, OnEvent).
func (ac *AC) do(fn func()) error {
	done := make(chan struct{})
	ac.post(func() { fn(); close(done) })
	select {
	case <-done:
		return nil
	case <-ac.stopped:
		return ErrClosed
	}
}

// SetService adds a service, or replaces the one with the same name.
// Lowering MaxSessions does not drop sessions already up.
func (ac *AC) SetService(s Service) error {
	return ac.do(func() {
		for _, old := range ac.services {
			if old.Name == s.Name {
				old.Service = s
				return
			}
		}
		ac.services = append(ac.services, &acService{Service: s, name: []byte(s.Name)})
	})
}

// RemoveService removes the named service and ends its sessions with PADT.
func (ac *AC) RemoveService(name string) error {
	return ac.do(func() {
		i := slices.IndexFunc(ac.services, func(s *acService) bool { return s.Name == name })
		if i < 0 {
			return
		}
		svc := ac.services[i]
		ac.services = slices.Delete(ac.services, i, i+1)
		for _, as := range ac.sortedSessions() {
			if as.svc == svc {
				ac.endSession(as, ErrServiceRemoved, true)
			}
		}
	})
}

// Services returns the services offered, in the order they were added.
func (ac *AC) Services() []Service {
	var out []Service
	_ = ac.do(func() {
		for _, s := range ac.services {
			out = append(out, s.Service)
		}
	})
	return out
}

// Sessions returns the sessions up, ordered by id.
func (ac *AC) Sessions() []SessionInfo {
	var out []SessionInfo
	_ = ac.do(func() {
		for _, as := range ac.sortedSessions() {
			out = append(out, as.s.info)
		}
	})
	return out
}

// Session returns the session with the given id.
func (ac *AC) Session(id uint16) (*Session, bool) {
	ac.idxMu.RLock()
	defer ac.idxMu.RUnlock()
	s, ok := ac.idx[id]
	return s, ok
}

// Stats returns the AC's counters.
func (ac *AC) Stats() ACStats {
	return ACStats{
		PADIReceived:   ac.padiRx.Load(),
		PADOSent:       ac.padoTx.Load(),
		PADRReceived:   ac.padrRx.Load(),
		PADSSent:       ac.padsTx.Load(),
		PADSErrors:     ac.padsErr.Load(),
		PADTReceived:   ac.padtRx.Load(),
		PADTSent:       ac.padtTx.Load(),
		PADTIgnored:    ac.padtIgnored.Load(),
		BadCookie:      ac.badCookie.Load(),
		UnknownService: ac.unknownS.Load(),
		Malformed:      ac.malformed.Load(),
		QueueDrops:     ac.padiQ.Drops() + ac.ctrlQ.Drops(),
		DelayDrops:     ac.delayDrops.Load(),
		FullService:    ac.fullService.Load(),
		UnknownSession: ac.unknownSess.Load(),
		WrongMAC:       ac.wrongMAC.Load(),
		Sessions:       int(ac.nSessions.Load()),
		SessionsUp:     ac.upTotal.Load(),
		SessionsDown:   ac.downTotal.Load(),
	}
}

// Close ends every session with a PADT, stops the AC's goroutine and
// unsubscribes from the port. It does not close the port.
func (ac *AC) Close() error {
	ac.closeOnce.Do(func() { close(ac.quit) })
	<-ac.stopped
	return nil
}

// Done is closed when the AC has stopped (Close, or its link went down).
func (ac *AC) Done() <-chan struct{} { return ac.stopped }

func (ac *AC) shutdown(reason error) {
	ac.sub.Cancel()
	ac.delayTimer.Stop()
	for _, as := range ac.sortedSessions() {
		ac.endSession(as, reason, reason != ErrLinkDown)
	}
}

func (ac *AC) sortedSessions() []*acSession {
	ids := make([]uint16, 0, len(ac.sessions))
	for id := range ac.sessions {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	out := make([]*acSession, len(ids))
	for i, id := range ids {
		out[i] = ac.sessions[id]
	}
	return out
}

func (ac *AC) event(e Event) {
	if ac.cfg.OnEvent != nil {
		e.Time = ac.clock.Now()
		e.Interface = ac.port.Name()
		ac.cfg.OnEvent(e)
	}
}

// acNameBytes returns the current AC-Name without allocating while it does
// not change.
func (ac *AC) acNameBytes() []byte {
	name := "MikroTik"
	if ac.cfg.ACName != nil {
		name = ac.cfg.ACName()
	}
	if name != ac.acName || ac.acNameB == nil {
		ac.acName = name
		ac.acNameB = []byte(name)
	}
	return ac.acNameB
}

// input handles one discovery frame on the owner goroutine.
func (ac *AC) input(frame []byte) {
	p := &ac.in
	if err := p.Decode(frame); err != nil {
		ac.malformed.Add(1)
		return
	}
	switch p.Code {
	case CodePADI:
		ac.padiRx.Add(1)
		ac.onPADI()
	case CodePADR:
		ac.padrRx.Add(1)
		ac.onPADR()
	case CodePADT:
		ac.padtRx.Add(1)
		ac.onPADT()
	}
}

// discoveryFrom holds what a PADI or PADR asks for.
type discoveryFrom struct {
	service    []byte
	hostUniq   []byte
	hasUniq    bool
	relay      []byte
	hasRelay   bool
	maxPayload uint16 // what the AC can grant, 0 if not asked
}

// parseRequest checks the rules shared by PADI and PADR (RFC 2516 §5.1,
// §5.3): SESSION_ID 0, a unicast source, exactly one Service-Name.
func (ac *AC) parseRequest() (discoveryFrom, bool) {
	p := &ac.in
	var r discoveryFrom
	if p.SessionID != 0 || p.Src.IsMulticast() || p.Src.IsZero() || p.Tags.Count(TagServiceName) != 1 {
		ac.malformed.Add(1)
		return r, false
	}
	r.service, _ = p.Tags.Value(TagServiceName)
	r.hostUniq, r.hasUniq = p.Tags.Value(TagHostUniq)
	r.relay, r.hasRelay = p.Tags.Value(TagRelaySessionID)
	// RFC 4638: grant what was asked, up to what the link carries.
	if mp, err := p.Tags.PPPMaxPayload(); err == nil && mp > MaxPayload {
		limit := ac.port.MTU() - HeaderLen - 2
		if limit > MaxPayload {
			r.maxPayload = uint16(min(int(mp), limit))
		}
	}
	return r, true
}

// reply starts ac.out as the answer to ac.in: same VLAN tag, to its sender.
func (ac *AC) reply(code Code, sessionID uint16) *Packet {
	q := &ac.out
	q.Ethernet = Ethernet{Dst: ac.in.Src, Src: ac.local, Tagged: ac.in.Tagged, TCI: ac.in.TCI, EtherType: EtherTypeDiscovery}
	q.Code = code
	q.SessionID = sessionID
	q.Tags = q.Tags[:0]
	q.Payload = nil
	return q
}

// echo appends the tags RFC 2516 asks an AC to return as they came:
// Host-Uniq and Relay-Session-Id, then PPP-Max-Payload (RFC 4638).
func (ac *AC) echo(q *Packet, r *discoveryFrom) {
	if r.hasUniq {
		q.Tags = append(q.Tags, Tag{Type: TagHostUniq, Value: r.hostUniq})
	}
	if r.hasRelay {
		q.Tags = append(q.Tags, Tag{Type: TagRelaySessionID, Value: r.relay})
	}
}

func (ac *AC) appendMaxPayload(q *Packet, mp uint16) {
	if mp > 0 {
		binary.BigEndian.PutUint16(ac.mpBuf[:], mp)
		q.Tags = append(q.Tags, Tag{Type: TagPPPMaxPayload, Value: ac.mpBuf[:]})
	}
}

func (ac *AC) send(q *Packet) bool {
	n, err := q.MarshalTo(ac.wbuf)
	if err != nil {
		ac.malformed.Add(1)
		return false
	}
	return ac.port.WriteFrame(ac.wbuf[:n]) == nil
}

// onPADI answers with one PADO per service that matches (RFC 2516 §5.2):
// AC-Name, the Service-Name of the PADI, the service's own name when the
// PADI asked for any, a fresh AC-Cookie, and the echoed tags. A PADI for a
// service not offered gets no answer, as §5.2 requires.
func (ac *AC) onPADI() {
	r, ok := ac.parseRequest()
	if !ok {
		return
	}
	now := ac.clock.Now()
	answered := false
	for _, svc := range ac.services {
		if !svc.offers(r.service) {
			continue
		}
		answered = true
		if svc.full() {
			// "If the Access Concentrator can not serve the PADI it
			// MUST NOT respond with a PADO" (RFC 2516 §5.2): the host
			// then takes another AC's offer, or asks again later.
			ac.fullService.Add(1)
			continue
		}
		q := ac.reply(CodePADO, 0)
		q.Tags = append(q.Tags,
			Tag{Type: TagACName, Value: ac.acNameBytes()},
			Tag{Type: TagServiceName, Value: r.service},
		)
		if len(r.service) == 0 {
			q.Tags = append(q.Tags, Tag{Type: TagServiceName, Value: svc.name})
		}
		cookie := ac.jar.make(ac.cookie[:0], now, ac.in.Src, svc.name)
		q.Tags = append(q.Tags, Tag{Type: TagACCookie, Value: cookie})
		ac.echo(q, &r)
		ac.appendMaxPayload(q, r.maxPayload)
		if svc.PADODelay > 0 {
			ac.delay(svc, q, now.Add(svc.PADODelay))
			continue
		}
		if ac.send(q) {
			ac.padoTx.Add(1)
		}
	}
	if !answered {
		ac.unknownS.Add(1)
	}
}

// onPADR opens a session (RFC 2516 §5.4) or refuses with an error PADS.
func (ac *AC) onPADR() {
	r, ok := ac.parseRequest()
	if !ok {
		return
	}
	p := &ac.in
	now := ac.clock.Now()
	cookie, _ := p.Tags.Value(TagACCookie)

	// The service: an exact name, or for an empty name any service that
	// accepts one and made this client's cookie.
	var svc *acService
	candidates := 0
	for _, s := range ac.services {
		if !s.offers(r.service) {
			continue
		}
		candidates++
		if ac.jar.verify(cookie, now, p.Src, s.name) {
			svc = s
			break
		}
	}
	if candidates == 0 {
		ac.unknownS.Add(1)
		ac.refuse(&r, TagServiceNameError, reasonUnknownService, ErrUnknownService)
		return
	}
	if svc == nil {
		ac.badCookie.Add(1)
		if ac.cfg.OnEvent != nil { // a PADR flood must not allocate
			ac.event(Event{Kind: EventIgnored, Peer: p.Src, Service: string(r.service), Err: ErrBadCookie})
		}
		return
	}

	// A retransmitted PADR (our PADS was lost) gets the same PADS again.
	for _, id := range ac.byHost[p.Src] {
		as := ac.sessions[id]
		if as.svc == svc && bytes.Equal(as.s.info.HostUniq, r.hostUniq) &&
			now.Sub(as.lastPADS) < recentPADR && as.s.rxFrames.Load() == 0 {
			as.lastPADS = now
			ac.sendPADS(as.s, &r)
			return
		}
	}

	if svc.OneSessionPerHost {
		for _, id := range slices.Clone(ac.byHost[p.Src]) {
			if as := ac.sessions[id]; as.svc == svc {
				ac.endSession(as, ErrReplaced, true)
			}
		}
	}
	if svc.full() {
		ac.refuse(&r, TagACSystemError, reasonMaxSessions, ErrMaxSessions)
		return
	}
	id, ok := ac.allocID()
	if !ok {
		ac.refuse(&r, TagACSystemError, reasonNoSessionID, ErrNoSessionID)
		return
	}

	info := SessionInfo{
		ID:         id,
		Interface:  ac.port.Name(),
		Local:      ac.local,
		Peer:       p.Src,
		Service:    svc.Name,
		ACName:     string(ac.acNameBytes()),
		HostUniq:   bytes.Clone(r.hostUniq),
		RelayID:    bytes.Clone(r.relay),
		MaxPayload: r.maxPayload,
		Tagged:     p.Tagged,
		TCI:        p.TCI,
		Started:    now,
	}
	s := newSession(ac.port, info, ac.cfg.SessionQueue, ac.cfg.OnEvent)
	as := &acSession{s: s, svc: svc, lastPADS: now}
	s.close = func(s *Session) {
		// Ended at once for the caller; the AC's goroutine removes it and
		// sends the PADT. If the AC has stopped, shutdown already did.
		s.end(ErrClosed)
		ac.post(func() {
			if cur, ok := ac.sessions[s.info.ID]; ok && cur.s == s {
				ac.endSession(cur, ErrClosed, true)
			}
		})
	}
	ac.sessions[id] = as
	ac.byHost[p.Src] = append(ac.byHost[p.Src], id)
	svc.count++
	ac.idxMu.Lock()
	ac.idx[id] = s
	ac.idxMu.Unlock()
	ac.nSessions.Add(1)
	ac.upTotal.Add(1)
	// The PADS first: the session's PPP goroutine, started by
	// OnSession, sends its LCP Configure-Request at once, and a client
	// drops session frames that come before its PADS (RFC 2516 §5.4:
	// the session begins when the PADS is received), then waits out a
	// restart timer. Frames that come back already are queued.
	ac.sendPADS(s, &r)
	if ac.cfg.OnSession != nil {
		ac.cfg.OnSession(s)
	}
	ac.event(Event{Kind: EventSessionUp, Peer: p.Src, Session: id, Service: svc.Name})
}

func (ac *AC) sendPADS(s *Session, r *discoveryFrom) {
	q := ac.reply(CodePADS, s.info.ID)
	q.Tags = append(q.Tags, Tag{Type: TagServiceName, Value: r.service})
	ac.echo(q, r)
	ac.appendMaxPayload(q, s.info.MaxPayload)
	if ac.send(q) {
		ac.padsTx.Add(1)
	}
}

// refuse answers a PADR with a PADS carrying SESSION_ID 0 and an error tag
// (RFC 2516 §5.4).
func (ac *AC) refuse(r *discoveryFrom, tag TagType, reason []byte, why error) {
	q := ac.reply(CodePADS, 0)
	q.Tags = append(q.Tags,
		Tag{Type: TagServiceName, Value: r.service},
		Tag{Type: tag, Value: reason},
	)
	ac.echo(q, r)
	if ac.send(q) {
		ac.padsErr.Add(1)
	}
	ac.event(Event{Kind: EventError, Peer: ac.in.Src, Service: string(r.service), Err: why})
}

// onPADT ends the session it names if it comes from the session's peer
// (RFC 2516 §5.5); otherwise it is ignored and counted.
func (ac *AC) onPADT() {
	p := &ac.in
	as, ok := ac.sessions[p.SessionID]
	if !ok || as.s.info.Peer != p.Src {
		ac.padtIgnored.Add(1)
		if ok {
			as.s.padtIgnored.Add(1)
		}
		ac.event(Event{Kind: EventIgnored, Peer: p.Src, Session: p.SessionID, Err: ErrSpoofedPADT})
		return
	}
	ac.endSession(as, ErrTerminated, false)
}

// endSession removes a session and, unless the peer ended it, sends PADT.
func (ac *AC) endSession(as *acSession, reason error, sendPADT bool) {
	s := as.s
	id := s.info.ID
	if ac.sessions[id] != as {
		return
	}
	delete(ac.sessions, id)
	ids := slices.DeleteFunc(ac.byHost[s.info.Peer], func(x uint16) bool { return x == id })
	if len(ids) == 0 {
		delete(ac.byHost, s.info.Peer)
	} else {
		ac.byHost[s.info.Peer] = ids
	}
	as.svc.count--
	ac.idxMu.Lock()
	delete(ac.idx, id)
	ac.idxMu.Unlock()
	ac.nSessions.Add(-1)
	ac.downTotal.Add(1)
	if sendPADT && s.sendPADT(ac.wbuf) == nil {
		ac.padtTx.Add(1)
	}
	ac.event(Event{Kind: EventSessionDown, Peer: s.info.Peer, Session: id, Service: s.info.Service, Err: reason})
	s.end(reason)
}

// allocID returns the next free session id after the last one given out;
// 0 and 0xffff are never used (RFC 2516 §4).
func (ac *AC) allocID() (uint16, bool) {
	for range 0x10000 {
		ac.nextID++
		id := ac.nextID
		if id == 0 || id == 0xffff {
			continue
		}
		if _, used := ac.sessions[id]; !used {
			return id, true
		}
	}
	return 0, false
}

// delayQueue is a bounded ring of PADOs waiting out a pado-delay. All
// entries of a service have the same delay, so arrival order is due order.
// Frames are copied into per-slot buffers that are kept and reused, so the
// ring's memory is bounded by its size, not by how many hosts asked.
type delayQueue struct {
	due   []time.Time
	frame [][]byte
	head  int
	n     int
}

func (q *delayQueue) push(limit int, due time.Time, frame []byte) bool {
	if q.due == nil {
		q.due = make([]time.Time, limit)
		q.frame = make([][]byte, limit)
	}
	if q.n == len(q.due) {
		return false
	}
	i := (q.head + q.n) % len(q.due)
	q.due[i] = due
	q.frame[i] = append(q.frame[i][:0], frame...)
	q.n++
	return true
}

func (q *delayQueue) peek() (time.Time, []byte, bool) {
	if q.n == 0 {
		return time.Time{}, nil, false
	}
	return q.due[q.head], q.frame[q.head], true
}

func (q *delayQueue) pop() {
	q.head = (q.head + 1) % len(q.due)
	q.n--
}

func (ac *AC) delay(svc *acService, q *Packet, due time.Time) {
	n, err := q.MarshalTo(ac.wbuf)
	if err != nil {
		ac.malformed.Add(1)
		return
	}
	if !svc.delayed.push(ac.cfg.DelayQueue, due, ac.wbuf[:n]) {
		ac.delayDrops.Add(1)
		return
	}
	ac.armDelay()
}

// armDelay sets the delay timer for the earliest waiting PADO.
func (ac *AC) armDelay() {
	var first time.Time
	for _, svc := range ac.services {
		if due, _, ok := svc.delayed.peek(); ok && (first.IsZero() || due.Before(first)) {
			first = due
		}
	}
	if first.IsZero() {
		ac.delayTimer.Stop()
		return
	}
	ac.delayTimer.Reset(max(first.Sub(ac.clock.Now()), 0))
}

// flushDelayed sends every PADO whose delay has passed.
func (ac *AC) flushDelayed() {
	now := ac.clock.Now()
	for _, svc := range ac.services {
		for {
			due, frame, ok := svc.delayed.peek()
			if !ok || due.After(now) {
				break
			}
			if ac.port.WriteFrame(frame) == nil {
				ac.padoTx.Add(1)
			}
			svc.delayed.pop()
		}
	}
	ac.armDelay()
}
