package ppp

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"rosh/clock"
	"rosh/ppp/mp"
)

// A Session is one PPP link (RFC 1661): LCP, authentication in either
// role, IPCP and keepalive, run by one goroutine — the one that calls Run —
// which selects over received packets, its timers' channels and the owner's
// commands. Timers only post events to it; nothing else touches protocol
// state.
//
// The session knows nothing of PPPoE. It runs over a FrameLink (NewOnLink;
// a rosh/pppoe Session is one), or its owner hands it every PPP packet with
// Input and it sends through the owner's Sender (New). Over PPPoE (RFC 2516
// §7) there is no address, control or FCS field, and the LCP options that
// would configure them are rejected.
//
// The phases of RFC 1661 §3.2:
//
//	Dead ──Run──▶ Establish ──LCP Opened──▶ Authenticate ──both sides done──▶ Network
//	  ▲                │ LCP failed               │ failed                       │ Close, peer's
//	  │                ▼                          ▼                              ▼ Terminate, keepalive
//	  └──────────── Terminate ◀─────────────────────────────────────────────────┘
//
// Authenticate is skipped when neither side asked for authentication.
type Session struct {
	cfg   Config
	tx    Sender
	clock clock.Clock
	rand  io.Reader
	log   *slog.Logger
	mru   int // our MRU, from Config.MRU

	in chan inbound
	// With NewOnLink, the transport's frames and end, selected on
	// directly; nil channels otherwise.
	link     FrameLink
	linkRecv <-chan []byte
	linkDone <-chan struct{}
	cmd      chan *command
	done     chan struct{}
	ran      atomic.Bool

	// Counters, kept with atomics because Input runs on the owner's
	// goroutine; they are not protocol state.
	dropped, malformed, discarded, rejected atomic.Uint64

	mu  sync.Mutex
	pub Status // the last published snapshot

	// Everything below is owned by the session's goroutine (with
	// Start, the one serving it at the time).
	phase Phase
	// hops: Start runs the session, and moves it to a fresh goroutine
	// once IPCP is up; hop: that move is due.
	hops, hop  bool
	lcp        *lcp
	ipcp       *ipcp
	authPeer   authPeer
	authSelf   authSelf
	timers     [numTimers]timerSlot
	lastRx     time.Time
	echoOut    bool      // an LCP Echo-Request went out and nothing came back since
	echoSince  time.Time // when the first of those unanswered echoes went out
	peerName   string
	method     Method
	ipAssigned bool
	upSince    time.Time
	peerTerm   error
	reason     error
	finished   bool
	txbuf      []byte
	// mpIn puts together the MP fragments that reach the session (its
	// owner's fast path takes data packets' fragments); made when the
	// first one comes.
	mpIn *mp.Reassembler
}

// Sender carries PPP packets to the peer: the Protocol field and the
// Information field (RFC 1661 §2), no framing. It is called on the session's
// goroutine; b is valid only during the call.
type Sender interface {
	SendPPP(proto Protocol, b []byte) error
}

// FrameLink is a transport that carries whole PPP frames — the Protocol
// field, then the Information field (RFC 1661 §2) — and hands received ones
// over on a channel. A rosh/pppoe Session is one (RFC 2516 §4: the PPPoE
// payload is exactly that). A session made with NewOnLink selects on Recv
// and Done itself, so no goroutine has to pump frames into Input.
type FrameLink interface {
	// Recv delivers received frames; each goes back with Recycle.
	Recv() <-chan []byte
	Recycle(frame []byte)
	// WritePPP sends one frame; the session calls it on its goroutine
	// and does not keep frame.
	WritePPP(frame []byte) error
	// Done is closed when the transport is gone (PADT, link down). If
	// the FrameLink also has an Err() error method, its answer becomes
	// the session's reason.
	Done() <-chan struct{}
}

// frameSender sends through a FrameLink: the Protocol field, then the
// packet.
type frameSender struct {
	l   FrameLink
	buf []byte
}

func (f *frameSender) SendPPP(p Protocol, b []byte) error {
	f.buf = append(append(f.buf[:0], byte(p>>8), byte(p)), b...)
	return f.l.WritePPP(f.buf)
}

// SenderFunc adapts a function to Sender.
type SenderFunc func(proto Protocol, b []byte) error

// SendPPP calls f.
func (f SenderFunc) SendPPP(proto Protocol, b []byte) error { return f(proto, b) }

// Role is what the session is to its peer. The server (a PPPoE access
// concentrator) demands authentication and assigns the peer's address; the
// client authenticates itself and takes the address it is given.
type Role uint8

// Roles.
const (
	RoleClient Role = iota
	RoleServer
)

func (r Role) String() string {
	if r == RoleServer {
		return "server"
	}
	return "client"
}

// Config configures a Session. Only the fields of the session's role
// matter; zero values mean the RFC defaults.
type Config struct {
	Role Role
	// Name is our name in CHAP Challenges we send (the server's
	// identity).
	Name string

	// Client role. User and Password authenticate us to the peer with a
	// method in Allow (RouterOS `allow`; zero means all four). Asked for
	// a method outside it, we Nak with the strongest method in it.
	User     string
	Password string
	Allow    MethodSet
	// LocalAddr is the address to ask for in IPCP; unset asks the peer
	// to assign one (0.0.0.0).
	LocalAddr netip.Addr
	// RequestDNS asks the peer for DNS servers (RFC 1877; RouterOS
	// `use-peer-dns`).
	RequestDNS bool

	// Server role. Require is the methods we ask the peer to
	// authenticate with, strongest first (RouterOS `authentication`;
	// empty: no authentication); Authenticator judges the answers.
	Require       MethodSet
	Authenticator Authenticator
	// Addresses gives the IPCP addresses for the peer once it has
	// authenticated (its user name; "" without authentication). It is
	// called once per session, on the session's goroutine, when the
	// Network phase begins; an error ends the session with ErrNoAddress.
	Addresses func(peer string) (IPConfig, error)

	// MRU is the largest Information field we accept (RouterOS
	// max-mru); zero means 1500 (RFC 1661 §6.1). Over PPPoE it must be
	// at most 1492 (RFC 2516 §7) unless RFC 4638 was negotiated.
	MRU int
	// MTU caps what we send whatever MRU the peer announces (max-mtu);
	// zero means 1500.
	MTU int
	// MRRU, when set, offers Multilink PPP (RFC 1990) on this one link:
	// LCP asks for this Maximum-Received-Reconstructed-Unit, and takes
	// the peer's MRRU, Short-Sequence-Number-Header-Format and
	// Endpoint-Discriminator options. Zero (RouterOS mrru=disabled)
	// Configure-Rejects them all, and the link runs plain PPP.
	MRRU int
	// ShortSeq asks the peer to send 12-bit sequence numbers (RFC 1990
	// §5.1.2); only with MRRU.
	ShortSeq bool
	// Endpoint is the Endpoint-Discriminator to send with MRRU (RFC
	// 1990 §5.1.3): the Class octet, then the Address; nil sends none.
	Endpoint []byte
	// Keepalive: an LCP Echo-Request goes out once nothing has been
	// received for this long, and the session ends when nothing, echo
	// replies included, has been received for twice this long. Zero
	// disables it.
	Keepalive time.Duration
	// Timing overrides the automaton's RFC 1661 §4.6 defaults.
	Timing Timing

	// OnPacket receives IPv4 packets once IPCP is open, and packets of
	// any protocol AcceptProtocol accepts in the Network phase. It runs on the
	// session's goroutine; b is valid only during the call.
	OnPacket func(proto Protocol, b []byte)
	// AcceptProtocol lets the owner take protocols this stack does not
	// run, instead of Protocol-Rejecting them (RFC 1661 §5.7).
	AcceptProtocol func(proto Protocol) bool
	// OnEvent is told of every phase change, authentication result,
	// IPCP up/down and the session's end. It runs on the session's
	// goroutine and must not block; it may call Close, LowerDown and
	// Status.
	OnEvent func(Event)

	// Clock, Rand and Logger default to real time, crypto/rand and a
	// logger that discards; tests pass a clock.Manual, so that a
	// 30-second keepalive test takes microseconds. Every log record has a "topic" attribute,
	// RouterOS's: ppp, lcp, pap, chap or ipcp; packet traces (pppd
	// style, "send LCP Configure-Request id=1 <mru 1480> <magic …>") are
	// at debug level, phase changes and results at info.
	Clock  clock.Clock
	Rand   io.Reader
	Logger *slog.Logger
}

// EventKind says what an Event reports.
type EventKind uint8

// Event kinds.
const (
	EventPhase         EventKind = iota // the phase changed
	EventAuthenticated                  // authentication succeeded (either role)
	EventAuthFailed                     // authentication failed; Err says why
	EventUp                             // IPCP opened: addresses in Status
	EventDown                           // IPCP went down; the link may renegotiate
	EventDead                           // the session ended; Err says why
)

func (k EventKind) String() string {
	switch k {
	case EventPhase:
		return "phase"
	case EventAuthenticated:
		return "authenticated"
	case EventAuthFailed:
		return "auth-failed"
	case EventUp:
		return "up"
	case EventDown:
		return "down"
	case EventDead:
		return "dead"
	}
	return fmt.Sprintf("event-%d", uint8(k))
}

// Event is what a session tells its owner.
type Event struct {
	Kind   EventKind
	Status Status
	Err    error
}

// Status is a snapshot of a session.
type Status struct {
	Phase Phase
	LCP   State
	IPCP  State
	// Method is the authentication method used, in either direction.
	Method Method
	// PeerName is the user name the peer authenticated with (server
	// role, also set when that failed) or the authenticator's CHAP name
	// (client role).
	PeerName     string
	LocalAddr    netip.Addr
	PeerAddr     netip.Addr
	PrimaryDNS   netip.Addr
	SecondaryDNS netip.Addr
	// MTU is the largest packet we send: the peer's MRU capped by
	// Config.MTU. MRU is the one we announced.
	MTU, MRU              int
	LocalMagic, PeerMagic uint32
	// MP is whether Multilink PPP (RFC 1990) is up on the link: both
	// ends negotiated an MRRU. MRRU is the largest packet we reassemble
	// (ours, as acknowledged), PeerMRRU the largest we may send as
	// fragments (the peer's); each is zero when not negotiated.
	// ShortSeq says we send 12-bit sequence numbers (the peer asked),
	// PeerShortSeq that the peer sends them (we asked).
	MP                     bool
	MRRU, PeerMRRU         int
	ShortSeq, PeerShortSeq bool
	// Since is when IPCP opened (zero while it is not).
	Since time.Time
	// Err is why the session ended, once it has.
	Err error
	// Counters: packets dropped because the session's queue was full,
	// malformed, discarded (not valid in the current phase or state) and
	// Protocol-Rejected.
	Dropped, Malformed, Discarded, Rejected uint64
}

type inbound struct {
	proto Protocol
	buf   *[]byte
}

type cmdKind uint8

const (
	cmdClose cmdKind = iota
	cmdLowerDown
	cmdVerdict // an AsyncAuthenticator decided
)

type command struct {
	kind   cmdKind
	reason string
	// cmdVerdict: the request it answers and the answer.
	req *AuthRequest
	res AuthResult
}

type timerID uint8

const (
	timerLCP timerID = iota
	timerIPCP
	timerAuthPeer
	timerAuthSelf
	timerKeepalive
	numTimers
)

// timerSlot is one of the session's timers, made on first use and Reset
// after; armed says whether its tick is wanted.
type timerSlot struct {
	t     clock.Timer
	c     <-chan time.Time
	armed bool
}

// Queue sizes: a burst of received packets (Input's; with NewOnLink the
// FrameLink queues them), commands. Commands are rare (a close, a
// verdict) and go by pointer: a queue of command values cost 900 bytes of
// every session, a sixteenth of what an idle one costs an access
// concentrator.
const (
	inQueue       = 256
	onLinkInQueue = 4
	cmdQueue      = 8
)

// bufPool holds the buffers Input copies packets into.
var bufPool = sync.Pool{New: func() any {
	b := make([]byte, 0, 1600)
	return &b
}}

// New checks cfg and returns a session ready to Run.
func New(cfg Config, tx Sender) (*Session, error) { return newSession(cfg, tx, inQueue) }

// newSession is New with the depth of Input's queue. An access
// concentrator holds tens of thousands of sessions, mostly idle, so what a
// session keeps is sized for control traffic: its transmit buffers start
// empty and grow to the largest packet it sends (a few dozen bytes but for
// the odd Echo-Reply), and a session on a FrameLink, which Input serves
// only alongside, queues little there.
func newSession(cfg Config, tx Sender, depth int) (*Session, error) {
	if tx == nil {
		return nil, fmt.Errorf("%w: nil Sender", ErrConfig)
	}
	switch cfg.Role {
	case RoleClient:
		if cfg.Allow == 0 {
			cfg.Allow = AllMethods
		}
	case RoleServer:
		if cfg.Require != 0 && cfg.Authenticator == nil {
			return nil, fmt.Errorf("%w: server requires %s but has no Authenticator", ErrConfig, cfg.Require)
		}
		if cfg.Addresses == nil {
			return nil, fmt.Errorf("%w: server has no Addresses", ErrConfig)
		}
	default:
		return nil, fmt.Errorf("%w: role %d", ErrConfig, cfg.Role)
	}
	if cfg.MRU == 0 {
		cfg.MRU = defaultMRU
	}
	if cfg.MTU == 0 {
		cfg.MTU = defaultMRU
	}
	if cfg.MRU < minMRU || cfg.MRU > 0xffff || cfg.MTU < minMRU || cfg.MTU > 0xffff {
		return nil, fmt.Errorf("%w: MRU %d / MTU %d out of range %d..65535", ErrConfig, cfg.MRU, cfg.MTU, minMRU)
	}
	if cfg.Keepalive < 0 {
		return nil, fmt.Errorf("%w: negative keepalive", ErrConfig)
	}
	if cfg.MRRU != 0 && (cfg.MRRU < minMRRU || cfg.MRRU > 0xffff) {
		return nil, fmt.Errorf("%w: MRRU %d out of range %d..65535", ErrConfig, cfg.MRRU, minMRRU)
	}
	if len(cfg.Endpoint) > 0 && !validEndpoint(cfg.Endpoint) {
		return nil, fmt.Errorf("%w: bad Endpoint-Discriminator %x", ErrConfig, cfg.Endpoint)
	}
	cfg.Timing = cfg.Timing.withDefaults()
	s := &Session{
		cfg:   cfg,
		tx:    tx,
		clock: clock.OrReal(cfg.Clock),
		rand:  cfg.Rand,
		log:   cfg.Logger,
		mru:   cfg.MRU,
		in:    make(chan inbound, depth),
		cmd:   make(chan *command, cmdQueue),
		done:  make(chan struct{}),
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.lcp = newLCP(s)
	s.ipcp = newIPCP(s)
	s.authPeer.s = s
	s.authSelf.s = s
	s.pub = s.snapshot()
	return s, nil
}

// NewOnLink returns a session that runs over l: its Run reads l's frames
// and ends when l does (ErrLowerDown, with l's reason), with no other
// goroutine involved. Input still works alongside, with a short queue.
func NewOnLink(cfg Config, l FrameLink) (*Session, error) {
	if l == nil {
		return nil, fmt.Errorf("%w: nil FrameLink", ErrConfig)
	}
	s, err := newSession(cfg, &frameSender{l: l}, onLinkInQueue)
	if err != nil {
		return nil, err
	}
	s.link, s.linkRecv, s.linkDone = l, l.Recv(), l.Done()
	return s, nil
}

// Run brings the link up and runs it until it ends, returning why (an
// error wrapping one of the Err* kinds). The lower layer — the PPPoE
// session — must be up: Run starts by sending LCP Configure-Requests.
// Cancelling ctx ends the session at once, with one Terminate-Request sent
// if LCP is open; Close ends it gracefully.
func (s *Session) Run(ctx context.Context) error {
	if !s.ran.CompareAndSwap(false, true) {
		return ErrRunning
	}
	s.start()
	s.serve(ctx)
	return s.reason
}

// Start runs the session as Run does but on goroutines of its own, and
// calls end with what Run would have returned once the session is over;
// it returns at once (ErrRunning if the session already runs).
//
// The goroutine serving the session changes once the link is up (IPCP
// opened): bringing a link up takes deep calls — authentication, the
// owner's OnEvent, logging — that grow a goroutine's stack to 8 KiB, and
// Go keeps a grown stack while the goroutine lives, halving it only at a
// garbage collection and only while the goroutine uses under a quarter of
// it. A fresh goroutine starts at 2 KiB. For an access concentrator,
// whose idle subscribers are each a goroutine parked in this loop, that
// is a third of what a session costs. One goroutine serves the session at
// any time; the move is a go statement, so it sees all the old one did.
func (s *Session) Start(ctx context.Context, end func(error)) error {
	if !s.ran.CompareAndSwap(false, true) {
		return ErrRunning
	}
	s.hops = true
	go func() {
		s.start()
		s.serveOn(ctx, end)
	}()
	return nil
}

// serveOn serves the session for Start until it ends or moves on.
func (s *Session) serveOn(ctx context.Context, end func(error)) {
	if !s.serve(ctx) {
		go s.serveOn(ctx, end)
		return
	}
	end(s.reason)
}

// serve handles the session's events until it ends (true) or, run by
// Start, is due to move to a fresh goroutine (false).
func (s *Session) serve(ctx context.Context) bool {
	for !s.finished {
		if s.hop {
			s.hop = false
			return false
		}
		select {
		case <-ctx.Done():
			s.abort(fmt.Errorf("%w: %v", ErrClosed, context.Cause(ctx)))
		case in := <-s.in:
			s.handleInbound(in)
		case f := <-s.linkRecv:
			s.handleFrame(f)
		case <-s.linkDone:
			s.linkGone()
		case <-s.timers[timerLCP].c:
			s.onTimer(timerLCP)
		case <-s.timers[timerIPCP].c:
			s.onTimer(timerIPCP)
		case <-s.timers[timerAuthPeer].c:
			s.onTimer(timerAuthPeer)
		case <-s.timers[timerAuthSelf].c:
			s.onTimer(timerAuthSelf)
		case <-s.timers[timerKeepalive].c:
			s.onTimer(timerKeepalive)
		case c := <-s.cmd:
			s.onCommand(c)
		}
	}
	return true
}

// poll handles one pending input, timer event or command without blocking,
// in that order, and reports whether it did: the tests' way of stepping a
// session without its goroutine.
func (s *Session) poll() bool {
	if s.finished {
		return false
	}
	select {
	case in := <-s.in:
		s.handleInbound(in)
		return true
	case f := <-s.linkRecv:
		s.handleFrame(f)
		return true
	default:
	}
	select {
	case <-s.linkDone:
		s.linkGone()
		return true
	default:
	}
	for id := range s.timers {
		select {
		case <-s.timers[id].c:
			s.onTimer(timerID(id))
			return true
		default:
		}
	}
	select {
	case c := <-s.cmd:
		s.onCommand(c)
		return true
	default:
	}
	return false
}

// Input hands the session one received PPP packet: its protocol and
// information field. It copies b and never blocks: when the session's queue
// is full the packet is dropped and counted. Safe from any goroutine.
func (s *Session) Input(proto Protocol, b []byte) {
	bp := bufPool.Get().(*[]byte)
	*bp = append((*bp)[:0], b...)
	select {
	case <-s.done:
		bufPool.Put(bp)
		return
	default:
	}
	select {
	case s.in <- inbound{proto: proto, buf: bp}:
	default:
		s.dropped.Add(1)
		bufPool.Put(bp)
	}
}

// Close ends the session gracefully: LCP Terminate-Request, then Run
// returns once the peer acknowledges or Max-Terminate requests went
// unanswered. reason goes into the Terminate-Request and the session's
// error (ErrClosed). Safe from any goroutine, OnEvent included.
func (s *Session) Close(reason string) { s.command(&command{kind: cmdClose, reason: reason}) }

// LowerDown tells the session its transport is gone (a PADT, the interface
// went down): it ends at once with ErrLowerDown. Safe from any goroutine.
func (s *Session) LowerDown(reason string) {
	s.command(&command{kind: cmdLowerDown, reason: reason})
}

// post queues a command that must not be lost (a verdict), waiting for
// room unless the session ends first.
func (s *Session) post(c *command) {
	select {
	case s.cmd <- c:
	case <-s.done:
	}
}

func (s *Session) command(c *command) {
	select {
	case s.cmd <- c:
	case <-s.done:
	default: // the queue is full of commands already ending the session
	}
}

// Done is closed when the session has ended.
func (s *Session) Done() <-chan struct{} { return s.done }

// Status returns the latest snapshot. Safe from any goroutine.
func (s *Session) Status() Status {
	s.mu.Lock()
	st := s.pub
	s.mu.Unlock()
	st.Dropped = s.dropped.Load()
	st.Malformed = s.malformed.Load()
	st.Discarded = s.discarded.Load()
	st.Rejected = s.rejected.Load()
	return st
}

func (s *Session) snapshot() Status {
	st := Status{
		Phase:        s.phase,
		LCP:          s.lcp.f.state,
		IPCP:         s.ipcp.f.state,
		Method:       s.method,
		PeerName:     s.peerName,
		LocalAddr:    s.ipcp.localAddr(),
		PeerAddr:     s.ipcp.peerAddr(),
		PrimaryDNS:   netipAddr(s.ipcp.got.dns1),
		SecondaryDNS: netipAddr(s.ipcp.got.dns2),
		MTU:          s.mtu(),
		MRU:          s.mru,
		Since:        s.upSince,
		Err:          s.reason,
	}
	if s.lcp.got.hasMRU {
		st.MRU = int(s.lcp.got.mru)
	}
	if s.lcp.got.hasMagic {
		st.LocalMagic = s.lcp.got.magic
	}
	if s.lcp.his.hasMagic {
		st.PeerMagic = s.lcp.his.magic
	}
	if s.lcp.f.state == StateOpened {
		if s.lcp.got.hasMRRU {
			st.MRRU, st.PeerShortSeq = int(s.lcp.got.mrru), s.lcp.got.shortSeq
		}
		if s.lcp.his.hasMRRU {
			st.PeerMRRU, st.ShortSeq = int(s.lcp.his.mrru), s.lcp.his.shortSeq
		}
		st.MP = st.MRRU > 0 && st.PeerMRRU > 0
	}
	if s.cfg.Role == RoleServer {
		// The server's addresses are the assigned ones.
		st.LocalAddr = netipAddr(s.ipcp.local)
		st.PeerAddr = netipAddr(s.ipcp.remote)
		st.PrimaryDNS = netipAddr(s.ipcp.dns1)
		st.SecondaryDNS = netipAddr(s.ipcp.dns2)
	}
	return st
}

// emit publishes a snapshot and tells the owner.
func (s *Session) emit(kind EventKind, err error) {
	st := s.snapshot()
	s.mu.Lock()
	s.pub = st
	s.mu.Unlock()
	if s.cfg.OnEvent != nil {
		st.Dropped = s.dropped.Load()
		st.Malformed = s.malformed.Load()
		st.Discarded = s.discarded.Load()
		st.Rejected = s.rejected.Load()
		s.cfg.OnEvent(Event{Kind: kind, Status: st, Err: err})
	}
}

func (s *Session) setPhase(p Phase) {
	if s.phase == p {
		return
	}
	s.phase = p
	if s.debugOn() {
		s.log.Debug("phase "+p.String(), "topic", "ppp")
	}
	s.emit(EventPhase, nil)
}

// setReason records why the session ends; the first reason wins.
func (s *Session) setReason(err error) {
	if s.reason == nil && err != nil {
		s.reason = err
	}
}

// start is the lower layer coming up with the link opened (RFC 1661 §3.2,
// Dead to Establish).
func (s *Session) start() {
	s.setPhase(PhaseEstablish)
	s.lcp.f.open()
	s.lcp.f.up()
}

func (s *Session) onCommand(c *command) {
	switch c.kind {
	case cmdClose:
		reason := c.reason
		if reason == "" {
			reason = "administrative close"
		}
		s.setReason(fmt.Errorf("%w: %s", ErrClosed, reason))
		s.terminate(reason)
	case cmdLowerDown:
		s.setReason(s.peerTerm) // as in linkGone
		if c.reason == "" {
			s.setReason(ErrLowerDown)
		} else {
			s.setReason(fmt.Errorf("%w: %s", ErrLowerDown, c.reason))
		}
		s.lowerDown()
	case cmdVerdict:
		s.authPeer.decided(c.req, c.res)
	}
}

// lowerDown is RFC 1661's Down event for LCP, and the session's end: with
// no transport there is no one to terminate with.
func (s *Session) lowerDown() {
	if s.lcp.f.state > StateStarting {
		s.setPhase(PhaseTerminate)
		s.lcp.f.down()
	}
	s.finish()
}

// fail ends the session for err: LCP Close, which sends Terminate-Request
// when the link is negotiating or open.
func (s *Session) fail(err error) {
	s.setReason(err)
	s.terminate(err.Error())
}

func (s *Session) terminate(text string) {
	if s.finished {
		return
	}
	if st := s.lcp.f.state; st == StateInitial || st == StateStarting || st == StateClosed || st == StateStopped {
		s.lcp.f.close(text)
		s.finish()
		return
	}
	s.setPhase(PhaseTerminate)
	s.lcp.f.close(text)
}

// abort ends the session now: one Terminate-Request if LCP is open, no
// waiting for its Ack (keepalive expiry, cancelled context).
func (s *Session) abort(err error) {
	if s.finished {
		return
	}
	s.setReason(err)
	if s.lcp.f.state == StateOpened {
		s.lcp.f.id++
		text := err.Error()
		if len(text) > maxTermData {
			text = text[:maxTermData]
		}
		s.sendControl(ProtoLCP, CodeTerminateRequest, s.lcp.f.id, []byte(text))
	}
	s.finish()
}

// finish is the Dead phase: timers stopped, the owner told, Run returns.
func (s *Session) finish() {
	if s.finished {
		return
	}
	s.finished = true
	for id := range s.timers {
		s.stopTimer(timerID(id))
	}
	if s.reason == nil {
		s.reason = ErrClosed
	}
	s.phase = PhaseDead
	if s.infoOn() {
		s.log.Info("session ended", "topic", "ppp", "reason", s.reason.Error())
	}
	s.emit(EventDead, s.reason)
	close(s.done)
}

// demandsAuth reports whether we authenticate the peer.
func (s *Session) demandsAuth() bool {
	return s.cfg.Role == RoleServer && s.cfg.Require != 0
}

// canAuthenticateSelf reports whether we will authenticate to the peer.
func (s *Session) canAuthenticateSelf() bool {
	return s.cfg.Role == RoleClient && s.cfg.Allow != 0
}

// mtu is the largest Information field we send: the peer's MRU (RFC 1661
// §6.1; 1500 when it did not say) capped by Config.MTU.
func (s *Session) mtu() int {
	m := defaultMRU
	if s.lcp.his.mru != 0 {
		m = int(s.lcp.his.mru)
	}
	return min(m, s.cfg.MTU)
}

// random fills b from Config.Rand.
func (s *Session) random(b []byte) {
	if _, err := io.ReadFull(s.rand, b); err != nil {
		for i := range b {
			b[i] = byte(mrand.Uint32())
		}
	}
}

// newMagic picks a non-zero Magic-Number (RFC 1661 §6.4).
func (s *Session) newMagic() uint32 {
	var b [4]byte
	for range 8 {
		s.random(b[:])
		if m := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]); m != 0 {
			return m
		}
	}
	return mrand.Uint32() | 1
}

// Timers: one per slot, made on first use, Reset while it runs, let go
// when stopped. An idle session so keeps its keepalive timer alone, not
// the four it negotiated with, nor a select case (and its sudog) for each
// of them. A tick that arrives for a slot no longer armed is ignored.

func (s *Session) startTimer(id timerID, d time.Duration) {
	t := &s.timers[id]
	if t.t == nil {
		t.t = s.clock.NewTimer(d)
		t.c = t.t.C()
	} else {
		t.t.Reset(d)
	}
	t.armed = true
}

func (s *Session) stopTimer(id timerID) {
	t := &s.timers[id]
	if t.t != nil {
		t.t.Stop()
		t.t, t.c = nil, nil
	}
	t.armed = false
}

func (s *Session) onTimer(id timerID) {
	t := &s.timers[id]
	if !t.armed {
		return
	}
	t.armed = false
	switch id {
	case timerLCP:
		s.lcp.f.timeout()
	case timerIPCP:
		s.ipcp.f.timeout()
	case timerAuthPeer:
		s.authPeer.timeout()
	case timerAuthSelf:
		s.authSelf.timeout()
	case timerKeepalive:
		s.keepalive()
	}
}

// Keepalive, after RouterOS's keepalive-timeout: once nothing has been
// received for the keepalive time, Echo-Requests until an answer, and the
// end once nothing has been received for twice the keepalive time and the
// first echo has been out for one. RouterOS documents one echo a second;
// rosh sends twenty within that keepalive time (echoEvery), at most one a
// second, so that a short keepalive is no more fragile than a long one.
// Then a line that loses one frame in five does not end a session: all
// twenty round trips would have to fail (0.36^20 at 20% each way). Ten,
// with the checks' grid making them fewer, gave up about once in 3,000
// keepalive times; two, RouterOS's count at keepalive-timeout=2, once in
// eight. When an echo is out, the first frame back moves the next check
// to a whole keepalive time later: the repeats are for echoes that got no
// answer, and an answered one needs no wake-up for them.
//
// The checks fall on a grid of keepaliveGrid shared by every session, a
// little late rather than early: an access concentrator with 10,000
// sessions then wakes ten times a second for a hundred of them, and their
// echoes leave, and the answers come back, in bursts that one wake of
// each goroutine handles, instead of waking for each session on its own
// (in a virtual machine, each wake-up of a thread is most of the cost).

// keepaliveGrid is the spacing of the keepalive checks: a tenth of a
// second, against keepalive times of seconds.
const keepaliveGrid = 100 * time.Millisecond

// echoEvery is how often an unanswered keepalive repeats its Echo-Request:
// twenty times within the keepalive time, at most once a second, on the
// checks' grid (a multiple of it, so no rounding thins them out).
func echoEvery(k time.Duration) time.Duration {
	return max(min(time.Second, k/20).Truncate(keepaliveGrid), keepaliveGrid)
}

func (s *Session) startKeepalive() {
	if s.cfg.Keepalive <= 0 {
		return
	}
	s.lastRx = s.clock.Now()
	s.echoOut = false
	s.startKeepaliveTimer(s.lastRx, s.cfg.Keepalive)
}

// startKeepaliveTimer arms the keepalive check for d after now, put off to
// the next point of the grid.
func (s *Session) startKeepaliveTimer(now time.Time, d time.Duration) {
	if r := now.Add(d).UnixNano() % int64(keepaliveGrid); r > 0 {
		d += keepaliveGrid - time.Duration(r)
	}
	s.startTimer(timerKeepalive, d)
}

func (s *Session) keepalive() {
	k := s.cfg.Keepalive
	now := s.clock.Now()
	idle := now.Sub(s.lastRx)
	var next time.Duration
	switch {
	case idle >= 2*k && s.echoOut && now.Sub(s.echoSince) >= k:
		s.abort(fmt.Errorf("%w: nothing received for %v, LCP echo unanswered", ErrKeepalive, idle))
		return
	case idle >= k:
		// Silence alone never ends the link: the peer is asked first
		// and given a keepalive time to answer. A session whose
		// goroutine was held (its TUN made while the kernel was busy
		// with thousands of others, a host suspended) wakes to a long
		// silence it did not ask about.
		if !s.echoOut {
			s.echoOut, s.echoSince = true, now
		}
		s.lcp.sendEcho()
		next = min(echoEvery(k), s.echoSince.Add(k).Sub(now))
	default:
		next = k - idle
	}
	s.startKeepaliveTimer(now, max(next, time.Millisecond))
}

// Receiving.

func (s *Session) handleInbound(in inbound) {
	s.receive(in.proto, *in.buf)
	if cap(*in.buf) <= maxPooled {
		bufPool.Put(in.buf)
	}
}

// maxPooled keeps an odd giant packet's buffer out of the pool.
const maxPooled = 4096

// handleFrame takes a frame from the FrameLink apart: a two-octet Protocol
// field, or one octet if the peer compresses it anyway (RFC 1661 §6.5:
// an odd first octet); Protocol values are odd, with an even high octet
// (§2).
func (s *Session) handleFrame(f []byte) {
	defer s.link.Recycle(f)
	if proto, info, ok := SplitProtocol(f); ok {
		s.receive(proto, info)
	} else {
		s.malformed.Add(1)
		s.log.Debug("frame without a valid Protocol field", "topic", "ppp", "len", len(f))
	}
}

// linkGone is the FrameLink's end: the lower layer is down (RFC 1661 §4.3
// Down), and with it the session.
func (s *Session) linkGone() {
	err := ErrLowerDown
	if e, ok := s.link.(interface{ Err() error }); ok && e.Err() != nil {
		err = fmt.Errorf("%w: %v", ErrLowerDown, e.Err())
	}
	// A peer that sent Terminate-Request first takes the PPPoE session
	// down right after (RFC 2516 §5.5): its reason is the session's.
	s.setReason(s.peerTerm)
	s.setReason(err)
	s.lowerDown()
}

// receive dispatches one packet by protocol and phase (RFC 1661 §3.4–3.5:
// before the Network phase only LCP and, while authenticating, the
// authentication protocols get through; unknown protocols are
// Protocol-Rejected once the link is open).
func (s *Session) receive(proto Protocol, b []byte) {
	if s.finished {
		return
	}
	if s.cfg.Keepalive > 0 {
		s.lastRx = s.clock.Now()
		if s.echoOut && s.timers[timerKeepalive].armed {
			s.echoOut = false
			s.startKeepaliveTimer(s.lastRx, s.cfg.Keepalive)
		}
	}
	switch proto {
	case ProtoIPv4:
		if s.ipcp.f.state == StateOpened && s.cfg.OnPacket != nil {
			s.cfg.OnPacket(proto, b)
			return
		}
		s.discard(proto, "IPCP is not open")
		return
	case ProtoLCP:
		if p, ok := s.parse(proto, b); ok {
			s.lcp.f.input(p)
			if s.peerTerm != nil && negotiating(s.lcp.f.state) && !s.finished {
				// RFC 1661 §4.1 keeps negotiating after a
				// Terminate-Request in these states (sta/6). A
				// peer that sends one has given the session up,
				// and over PPPoE it is gone: so are we.
				s.lcpFinished(nil)
			}
		}
		return
	}
	switch s.phase {
	case PhaseNetwork:
	case PhaseAuthenticate:
		if proto != ProtoPAP && proto != ProtoCHAP {
			if proto == ProtoIPCP {
				s.authSelf.peerInNetworkPhase()
			}
			s.discard(proto, "authenticating")
			return
		}
	default:
		s.discard(proto, "phase "+s.phase.String())
		return
	}
	switch proto {
	case ProtoPAP, ProtoCHAP:
		if p, ok := s.parse(proto, b); ok {
			s.authInput(proto, p)
		}
	case ProtoIPCP:
		if p, ok := s.parse(proto, b); ok {
			s.ipcp.f.input(p)
		}
	case ProtoMP:
		if !s.lcp.got.hasMRRU {
			s.rejected.Add(1)
			s.lcp.sendProtocolReject(proto, b)
			return
		}
		s.mpInput(b)
	default:
		if s.cfg.AcceptProtocol != nil && s.cfg.AcceptProtocol(proto) {
			if s.cfg.OnPacket != nil {
				s.cfg.OnPacket(proto, b)
			}
			return
		}
		s.rejected.Add(1)
		s.log.Debug("protocol rejected", "topic", "lcp", "proto", proto.String())
		s.lcp.sendProtocolReject(proto, b)
	}
}

// mpInput reassembles a multilink fragment (RFC 1990 §3) and hands what
// it makes up to receive: an NCP packet or data sent over the bundle, which
// on one link may come with or without the multilink header.
func (s *Session) mpInput(b []byte) {
	if s.mpIn == nil {
		s.mpIn = mp.NewReassembler(mp.ReassemblerConfig{
			MRRU:  int(s.lcp.got.mrru),
			Short: s.lcp.got.shortSeq,
			// Be liberal: a peer may size fragments by its link,
			// not by our MRU (Linux's ppp_generic does).
			MaxFragment: max(s.mru, defaultMRU),
		}, s.mpDeliver)
	}
	s.mpIn.Input(b, s.clock.Now())
}

// mpDeliver takes a reassembled packet apart like handleFrame. The link's
// own protocols — LCP, authentication, MP itself — never travel over the
// bundle (RFC 1990 §3: they are per link) and are discarded.
func (s *Session) mpDeliver(pkt []byte) {
	proto, info, ok := SplitProtocol(pkt)
	switch {
	case !ok:
		s.malformed.Add(1)
	case proto == ProtoMP || proto == ProtoLCP || proto == ProtoPAP || proto == ProtoCHAP:
		s.discard(proto, "per-link protocol inside MP")
	default:
		s.receive(proto, info)
	}
}

// SplitProtocol reads the Protocol field at the start of a PPP packet: two
// octets, or one if it was compressed (RFC 1661 §6.5: an odd first octet;
// Protocol values are odd, with an even high octet, §2).
func SplitProtocol(b []byte) (Protocol, []byte, bool) {
	switch {
	case len(b) >= 1 && b[0]&1 == 1:
		return Protocol(b[0]), b[1:], true
	case len(b) >= 2 && b[1]&1 == 1:
		return Protocol(b[0])<<8 | Protocol(b[1]), b[2:], true
	}
	return 0, nil, false
}

func (s *Session) parse(proto Protocol, b []byte) (Packet, bool) {
	p, err := ParsePacket(b)
	if err != nil {
		s.malformed.Add(1)
		s.log.Debug("malformed packet", "topic", topicOf(proto), "proto", proto.String(), "err", err, "len", len(b))
		return nil, false
	}
	if s.debugOn() {
		s.log.Debug("rcvd ["+TracePacket(proto, p)+"]", "topic", s.topicOf(proto), "packet", true)
	}
	return p, true
}

func (s *Session) discard(proto Protocol, why string) {
	s.discarded.Add(1)
	if s.debugOn() {
		s.log.Debug("discarded", "topic", topicOf(proto), "proto", proto.String(), "why", why)
	}
}

// Sending.

// sendControl sends an LCP-style packet. Never more than the peer's MRU
// (RFC 1661 §6.1): Code-Reject, Protocol-Reject and Echo-Reply are cut to
// fit (§5.6–5.8), anything else too large is not sent.
func (s *Session) sendControl(p Protocol, code Code, id uint8, data []byte) {
	if max := s.mtu() - HeaderLen; len(data) > max {
		switch {
		case p == ProtoLCP && (code == CodeCodeReject || code == CodeProtocolReject || code == CodeEchoReply),
			p == ProtoIPCP && code == CodeCodeReject:
			data = data[:max]
		default:
			s.log.Warn("packet larger than the peer's MRU not sent", "topic", topicOf(p), "proto", p.String(), "code", code.String(), "len", HeaderLen+len(data))
			return
		}
	}
	s.txbuf = AppendPacket(s.txbuf[:0], code, id, data)
	s.send(p, s.txbuf)
}

func (s *Session) send(p Protocol, b []byte) {
	if s.debugOn() {
		s.log.Debug("sent ["+TracePacket(p, b)+"]", "topic", s.topicOf(p), "packet", true)
	}
	if err := s.tx.SendPPP(p, b); err != nil {
		s.log.Debug("send failed", "topic", topicOf(p), "proto", p.String(), "err", err)
	}
}

// debugOn and infoOn guard the log calls on the way of every session:
// with the usual discarding logger, a record is neither built nor its
// arguments computed, and the goroutine's stack does not grow into
// slog's deep frames (growing it is a copy, per session).
func (s *Session) debugOn() bool { return s.log.Enabled(context.Background(), slog.LevelDebug) }

func (s *Session) infoOn() bool { return s.log.Enabled(context.Background(), slog.LevelInfo) }

func (s *Session) debugf(topic, format string, args ...any) {
	if s.debugOn() {
		s.log.Debug(fmt.Sprintf(format, args...), "topic", topic)
	}
}

// topicOf is topicOf(p), but mschap for CHAP packets when the method in
// use is MS-CHAP (v1 or v2).
func (s *Session) topicOf(p Protocol) string {
	if p == ProtoCHAP {
		for _, m := range []Method{s.authPeer.method, s.authSelf.method} {
			if m == MSCHAPv1 || m == MSCHAPv2 {
				return "mschap"
			}
		}
	}
	return topicOf(p)
}

// topicOf is the RouterOS log topic of a protocol's messages.
func topicOf(p Protocol) string {
	switch p {
	case ProtoLCP:
		return "lcp"
	case ProtoPAP:
		return "pap"
	case ProtoCHAP:
		return "chap"
	case ProtoIPCP:
		return "ipcp"
	}
	return "ppp"
}

// Layer callbacks.

func (s *Session) lcpUp() {
	if s.infoOn() {
		s.log.Info("LCP opened", "topic", "lcp", "mtu", s.mtu(), "mru", s.snapshot().MRU)
	}
	peerAuth, selfAuth := s.lcp.got.auth, s.lcp.his.auth
	if peerAuth == MethodNone && selfAuth == MethodNone {
		s.networkPhase()
		return
	}
	s.setPhase(PhaseAuthenticate)
	if peerAuth != MethodNone {
		s.authPeer.begin(peerAuth)
	}
	if selfAuth != MethodNone && !s.finished {
		s.authSelf.begin(selfAuth)
	}
}

func (s *Session) lcpDown() {
	if s.ipcp.f.state > StateStarting {
		s.ipcp.f.down()
	}
	s.authPeer.stop()
	s.authSelf.stop()
	s.stopTimer(timerKeepalive)
	s.mpIn = nil // the next negotiation may bring other MP options
	if s.phase != PhaseTerminate && !s.finished {
		s.setPhase(PhaseEstablish)
	}
}

func (s *Session) lcpFinished(why error) {
	if s.reason == nil && !s.lcp.everOpened && len(s.lcp.nakedAuth) > 0 {
		s.reason = fmt.Errorf("%w: peer asked for %s; we allow %s", ErrNoCommonAuth, s.lcp.askedAuth(), s.cfg.Allow)
	}
	s.setReason(s.peerTerm)
	s.setReason(why)
	s.setReason(fmt.Errorf("%w: LCP finished", ErrNegotiation))
	s.finish()
}

func (s *Session) peerTerminated(data []byte) {
	if msg := printable(data); msg != "" {
		s.peerTerm = fmt.Errorf("%w: %s", ErrPeerTerminated, msg)
	} else {
		s.peerTerm = ErrPeerTerminated
	}
	if s.lcp.f.state == StateOpened {
		s.setPhase(PhaseTerminate)
	}
}

// printable keeps the text of a Terminate-Request, if it is text.
func printable(b []byte) string {
	if len(b) > 128 {
		b = b[:128]
	}
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return ""
		}
	}
	return strings.TrimSpace(string(b))
}

// authDone moves to the Network phase once both directions of
// authentication are through (RFC 1661 §3.5).
func (s *Session) authDone() {
	if s.phase == PhaseAuthenticate && s.authPeer.finished() && s.authSelf.finished() {
		s.networkPhase()
	}
}

func (s *Session) networkPhase() {
	if s.finished {
		return
	}
	if s.cfg.Role == RoleServer && !s.ipAssigned {
		ip, err := s.cfg.Addresses(s.peerName)
		if err == nil && !ip.Peer.Is4() {
			err = errors.New("no peer address assigned")
		}
		if err != nil {
			s.fail(fmt.Errorf("%w: %v", ErrNoAddress, err))
			return
		}
		s.ipcp.assign(ip)
		s.ipAssigned = true
	}
	s.setPhase(PhaseNetwork)
	// Keepalive begins here, not at LCP's tlu: our LCP can be Opened
	// while the peer's is still in Ack-Sent, our last Configure-Ack lost,
	// and the peer rightly leaves Echo-Requests unanswered until its
	// Restart timer resends (RFC 1661 §4.3, §5.8) — a keepalive shorter
	// than that timer would end a session that is about to come up.
	// Before this point the Restart timer with Max-Configure, and the
	// authentication timeout, bound each phase; from here, the peer has
	// authenticated or been authenticated, so its LCP is Opened.
	s.startKeepalive()
	if s.ipcp.f.state == StateInitial {
		s.ipcp.f.open()
	}
	s.ipcp.f.up()
}

func (s *Session) ipcpUp() {
	if s.cfg.Role == RoleClient && s.ipcp.got.addr == 0 {
		s.fail(fmt.Errorf("%w: peer acknowledged 0.0.0.0", ErrNoAddress))
		return
	}
	s.upSince = s.clock.Now()
	st := s.snapshot()
	if s.infoOn() {
		s.log.Info("IPCP opened", "topic", "ipcp", "local", st.LocalAddr, "remote", st.PeerAddr)
	}
	s.emit(EventUp, nil)
	s.hop = s.hops // the link is up: serve it from a fresh stack (Start)
}

func (s *Session) ipcpDown() {
	s.upSince = time.Time{}
	s.emit(EventDown, nil)
}

func (s *Session) ipcpFinished(why error) {
	if s.finished {
		return
	}
	if why == nil {
		why = fmt.Errorf("%w: IPCP closed", ErrNegotiation)
	}
	s.fail(why)
}

// protocolRejected is told of a Protocol-Reject (RFC 1661 §5.7): stop
// sending that protocol. Without IPCP or authentication there is no link.
func (s *Session) protocolRejected(proto Protocol) {
	s.log.Debug("peer rejected protocol", "topic", "lcp", "proto", proto.String())
	switch proto {
	case ProtoIPCP:
		if s.ipcp.f.state >= StateClosed {
			s.setReason(fmt.Errorf("%w: peer rejected IPCP", ErrNegotiation))
			s.ipcp.f.event(evRXJMinus)
		}
	case ProtoPAP, ProtoCHAP:
		if s.phase == PhaseAuthenticate {
			s.fail(fmt.Errorf("%w: peer rejected %s", ErrNoCommonAuth, proto))
		}
	}
}
