package ppp

import (
	"errors"
	"fmt"
	"time"
)

// The option-negotiation automaton of RFC 1661 §4, one instance per control
// protocol (LCP and IPCP here).
//
// The main paths through it — bringing a layer up, and taking it down from
// either end — are (numbers are the RFC's state numbers, labels are
// event/actions):
//
//	Initial(0) ──Open/tls──▶ Starting(1) ──Up/irc,scr──▶ Req-Sent(6)
//	                                                       │      ▲
//	                                 ┌──RCR+/sca───────────┤      │ RCN/irc,scr
//	                                 ▼                     │RCA   │ TO+/scr
//	                            Ack-Sent(8)                ▼/irc  │
//	                                 │              Ack-Rcvd(7) ──┘
//	                                 │RCA/irc,tlu          │
//	                                 ▼                     │RCR+/sca,tlu
//	                             Opened(9) ◀───────────────┘
//	                              │    │
//	      Close/tld,irc,str ┌─────┘    └─────┐ RTR/tld,zrc,sta
//	                        ▼                ▼
//	                  Closing(4)        Stopping(5)
//	                        │RTA,TO-/tlf     │TO-/tlf
//	                        ▼                ▼
//	                   Closed(2)        Stopped(3)
//
// Every other transition is in the table below, which is the RFC's table
// transcribed as data; fsm_test.go checks it cell by cell against the
// RFC's text.

// State is an RFC 1661 §4.2 automaton state.
type State uint8

// Automaton states, numbered as in RFC 1661 §4.1.
const (
	StateInitial State = iota
	StateStarting
	StateClosed
	StateStopped
	StateClosing
	StateStopping
	StateReqSent
	StateAckRcvd
	StateAckSent
	StateOpened
	numStates
)

var stateNames = [numStates]string{
	"Initial", "Starting", "Closed", "Stopped", "Closing",
	"Stopping", "Req-Sent", "Ack-Rcvd", "Ack-Sent", "Opened",
}

func (s State) String() string {
	if s < numStates {
		return stateNames[s]
	}
	return fmt.Sprintf("state-%d", uint8(s))
}

// event is an RFC 1661 §4.3 event.
type event uint8

const (
	evUp       event = iota // lower layer is Up
	evDown                  // lower layer is Down
	evOpen                  // administrative Open
	evClose                 // administrative Close
	evTOPlus                // Timeout with counter > 0
	evTOMinus               // Timeout with counter expired
	evRCRPlus               // Receive-Configure-Request (Good)
	evRCRMinus              // Receive-Configure-Request (Bad)
	evRCA                   // Receive-Configure-Ack
	evRCN                   // Receive-Configure-Nak/Rej
	evRTR                   // Receive-Terminate-Request
	evRTA                   // Receive-Terminate-Ack
	evRUC                   // Receive-Unknown-Code
	evRXJPlus               // Receive-Code-Reject permitted or Receive-Protocol-Reject
	evRXJMinus              // Receive-Code-Reject catastrophic or Receive-Protocol-Reject
	evRXR                   // Receive-Echo-Request, Echo-Reply or Discard-Request
	numEvents
)

var eventNames = [numEvents]string{
	"Up", "Down", "Open", "Close", "TO+", "TO-", "RCR+", "RCR-",
	"RCA", "RCN", "RTR", "RTA", "RUC", "RXJ+", "RXJ-", "RXR",
}

func (e event) String() string {
	if e < numEvents {
		return eventNames[e]
	}
	return fmt.Sprintf("event-%d", uint8(e))
}

// action is an RFC 1661 §4.4 action.
type action uint8

const (
	actNone action = iota
	tlu            // This-Layer-Up
	tld            // This-Layer-Down
	tls            // This-Layer-Started
	tlf            // This-Layer-Finished
	irc            // Initialize-Restart-Count
	zrc            // Zero-Restart-Count
	scr            // Send-Configure-Request
	sca            // Send-Configure-Ack
	scn            // Send-Configure-Nak/Rej
	str            // Send-Terminate-Request
	sta            // Send-Terminate-Ack
	scj            // Send-Code-Reject
	ser            // Send-Echo-Reply
)

var actionNames = [...]string{"", "tlu", "tld", "tls", "tlf", "irc", "zrc", "scr", "sca", "scn", "str", "sta", "scj", "ser"}

func (a action) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return fmt.Sprintf("action-%d", uint8(a))
}

// cell is one entry of the transition table: the actions, in order, and the
// next state. A cell whose ok is false is the RFC's "-": the event cannot
// happen in that state.
type cell struct {
	acts [3]action
	next State
	ok   bool
}

// to builds a cell; it reads like the RFC's "irc,scr/6".
func to(next State, acts ...action) cell {
	c := cell{next: next, ok: true}
	copy(c.acts[:], acts)
	return c
}

// transitions is the state transition table of RFC 1661 §4.1, indexed
// [event][state]. The RFC's options r (restart), x (crossed connection) and
// p (passive) are not taken: an Open in a closing state does not restart,
// and a timeout ends the layer.
var transitions = [numEvents][numStates]cell{
	evUp: {
		StateInitial:  to(StateClosed),
		StateStarting: to(StateReqSent, irc, scr),
	},
	evDown: {
		StateClosed:   to(StateInitial),
		StateStopped:  to(StateStarting, tls),
		StateClosing:  to(StateInitial),
		StateStopping: to(StateStarting),
		StateReqSent:  to(StateStarting),
		StateAckRcvd:  to(StateStarting),
		StateAckSent:  to(StateStarting),
		StateOpened:   to(StateStarting, tld),
	},
	evOpen: {
		StateInitial:  to(StateStarting, tls),
		StateStarting: to(StateStarting),
		StateClosed:   to(StateReqSent, irc, scr),
		StateStopped:  to(StateStopped),
		StateClosing:  to(StateStopping),
		StateStopping: to(StateStopping),
		StateReqSent:  to(StateReqSent),
		StateAckRcvd:  to(StateAckRcvd),
		StateAckSent:  to(StateAckSent),
		StateOpened:   to(StateOpened),
	},
	evClose: {
		StateInitial:  to(StateInitial),
		StateStarting: to(StateInitial, tlf),
		StateClosed:   to(StateClosed),
		StateStopped:  to(StateClosed),
		StateClosing:  to(StateClosing),
		StateStopping: to(StateClosing),
		StateReqSent:  to(StateClosing, irc, str),
		StateAckRcvd:  to(StateClosing, irc, str),
		StateAckSent:  to(StateClosing, irc, str),
		StateOpened:   to(StateClosing, tld, irc, str),
	},
	evTOPlus: {
		StateClosing:  to(StateClosing, str),
		StateStopping: to(StateStopping, str),
		StateReqSent:  to(StateReqSent, scr),
		StateAckRcvd:  to(StateReqSent, scr),
		StateAckSent:  to(StateAckSent, scr),
	},
	evTOMinus: {
		StateClosing:  to(StateClosed, tlf),
		StateStopping: to(StateStopped, tlf),
		StateReqSent:  to(StateStopped, tlf),
		StateAckRcvd:  to(StateStopped, tlf),
		StateAckSent:  to(StateStopped, tlf),
	},
	evRCRPlus: {
		StateClosed:   to(StateClosed, sta),
		StateStopped:  to(StateAckSent, irc, scr, sca),
		StateClosing:  to(StateClosing),
		StateStopping: to(StateStopping),
		StateReqSent:  to(StateAckSent, sca),
		StateAckRcvd:  to(StateOpened, sca, tlu),
		StateAckSent:  to(StateAckSent, sca),
		StateOpened:   to(StateAckSent, tld, scr, sca),
	},
	evRCRMinus: {
		StateClosed:   to(StateClosed, sta),
		StateStopped:  to(StateReqSent, irc, scr, scn),
		StateClosing:  to(StateClosing),
		StateStopping: to(StateStopping),
		StateReqSent:  to(StateReqSent, scn),
		StateAckRcvd:  to(StateAckRcvd, scn),
		StateAckSent:  to(StateReqSent, scn),
		StateOpened:   to(StateReqSent, tld, scr, scn),
	},
	evRCA: {
		StateClosed:   to(StateClosed, sta),
		StateStopped:  to(StateStopped, sta),
		StateClosing:  to(StateClosing),
		StateStopping: to(StateStopping),
		StateReqSent:  to(StateAckRcvd, irc),
		StateAckRcvd:  to(StateReqSent, scr),
		StateAckSent:  to(StateOpened, irc, tlu),
		StateOpened:   to(StateReqSent, tld, scr),
	},
	evRCN: {
		StateClosed:   to(StateClosed, sta),
		StateStopped:  to(StateStopped, sta),
		StateClosing:  to(StateClosing),
		StateStopping: to(StateStopping),
		StateReqSent:  to(StateReqSent, irc, scr),
		StateAckRcvd:  to(StateReqSent, scr),
		StateAckSent:  to(StateAckSent, irc, scr),
		StateOpened:   to(StateReqSent, tld, scr),
	},
	evRTR: {
		StateClosed:   to(StateClosed, sta),
		StateStopped:  to(StateStopped, sta),
		StateClosing:  to(StateClosing, sta),
		StateStopping: to(StateStopping, sta),
		StateReqSent:  to(StateReqSent, sta),
		StateAckRcvd:  to(StateReqSent, sta),
		StateAckSent:  to(StateReqSent, sta),
		StateOpened:   to(StateStopping, tld, zrc, sta),
	},
	evRTA: {
		StateClosed:   to(StateClosed),
		StateStopped:  to(StateStopped),
		StateClosing:  to(StateClosed, tlf),
		StateStopping: to(StateStopped, tlf),
		StateReqSent:  to(StateReqSent),
		StateAckRcvd:  to(StateReqSent),
		StateAckSent:  to(StateAckSent),
		StateOpened:   to(StateReqSent, tld, scr),
	},
	evRUC: {
		StateClosed:   to(StateClosed, scj),
		StateStopped:  to(StateStopped, scj),
		StateClosing:  to(StateClosing, scj),
		StateStopping: to(StateStopping, scj),
		StateReqSent:  to(StateReqSent, scj),
		StateAckRcvd:  to(StateAckRcvd, scj),
		StateAckSent:  to(StateAckSent, scj),
		StateOpened:   to(StateOpened, scj),
	},
	evRXJPlus: {
		StateClosed:   to(StateClosed),
		StateStopped:  to(StateStopped),
		StateClosing:  to(StateClosing),
		StateStopping: to(StateStopping),
		StateReqSent:  to(StateReqSent),
		StateAckRcvd:  to(StateReqSent),
		StateAckSent:  to(StateAckSent),
		StateOpened:   to(StateOpened),
	},
	evRXJMinus: {
		StateClosed:   to(StateClosed, tlf),
		StateStopped:  to(StateStopped, tlf),
		StateClosing:  to(StateClosed, tlf),
		StateStopping: to(StateStopped, tlf),
		StateReqSent:  to(StateStopped, tlf),
		StateAckRcvd:  to(StateStopped, tlf),
		StateAckSent:  to(StateStopped, tlf),
		StateOpened:   to(StateStopping, tld, irc, str),
	},
	evRXR: {
		StateClosed:   to(StateClosed),
		StateStopped:  to(StateStopped),
		StateClosing:  to(StateClosing),
		StateStopping: to(StateStopping),
		StateReqSent:  to(StateReqSent),
		StateAckRcvd:  to(StateAckRcvd),
		StateAckSent:  to(StateAckSent),
		StateOpened:   to(StateOpened, ser),
	},
}

// timerRuns reports whether the restart timer runs in s (RFC 1661 §4.2:
// Closing, Stopping, Req-Sent, Ack-Rcvd and Ack-Sent).
func timerRuns(s State) bool {
	return s >= StateClosing && s <= StateAckSent
}

// negotiating reports whether s is one of the states that exchange
// Configure packets.
func negotiating(s State) bool {
	return s >= StateReqSent && s <= StateAckSent
}

// RFC 1661 §4.6 defaults.
const (
	DefaultRestart      = 3 * time.Second
	DefaultMaxConfigure = 10
	DefaultMaxTerminate = 2
	DefaultMaxFailure   = 5
)

// Timing holds the automaton's counters and timer (RFC 1661 §4.6). Zero
// fields take the RFC's defaults.
type Timing struct {
	Restart      time.Duration // Restart timer
	MaxConfigure int           // Configure-Requests sent without an answer
	MaxTerminate int           // Terminate-Requests sent without an answer
	MaxFailure   int           // Configure-Naks sent without a Configure-Ack
}

func (t Timing) withDefaults() Timing {
	if t.Restart <= 0 {
		t.Restart = DefaultRestart
	}
	if t.MaxConfigure <= 0 {
		t.MaxConfigure = DefaultMaxConfigure
	}
	if t.MaxTerminate <= 0 {
		t.MaxTerminate = DefaultMaxTerminate
	}
	if t.MaxFailure <= 0 {
		t.MaxFailure = DefaultMaxFailure
	}
	return t
}

// maxTermData bounds the text of a Terminate-Request: well within the
// smallest MRU (minMRU).
const maxTermData = 100

// errDiscard marks a received packet that is invalid for the automaton and
// is silently discarded (RFC 1661 §5.2–5.4: a reply whose Identifier or
// options do not match the request).
var errDiscard = errors.New("discarded")

// layer is what a control protocol built on the automaton supplies: its
// options and the This-Layer-* actions.
type layer interface {
	// reset starts a negotiation afresh: every option back to what the
	// configuration asks for.
	reset()
	// appendRequest appends the options of our next Configure-Request.
	appendRequest(b []byte) []byte
	// checkRequest examines a peer's Configure-Request options and
	// appends the options of the reply to out: the request itself for a
	// Configure-Ack, the suggested values for a Configure-Nak, the
	// offending options unchanged for a Configure-Reject (RFC 1661
	// §5.2–5.4). With rejectNaks (Max-Failure reached, §4.6) options that
	// would be Nak'd are rejected instead.
	checkRequest(req, out []byte, rejectNaks bool) (Code, []byte)
	// gotAck records the options of our request the peer acknowledged.
	gotAck(opts []byte)
	// gotNak and gotReject adjust the next request (RFC 1661 §5.3, §5.4).
	// An error wrapping errDiscard drops the packet; any other error
	// fails the link.
	gotNak(opts []byte) error
	gotReject(opts []byte) error
	up()
	down()
	started()
	finished()
	// peerTerminated sees the data of a received Terminate-Request.
	peerTerminated(data []byte)
	// other classifies the codes beyond 7; ok false drops the packet.
	other(p Packet) (ev event, ok bool)
	// ser answers an Echo-Request (LCP only).
	ser(p Packet)
}

// fsmHost is what the automaton needs from the session that owns it.
type fsmHost interface {
	sendControl(p Protocol, code Code, id uint8, data []byte)
	startTimer(id timerID, d time.Duration)
	stopTimer(id timerID)
	fail(err error)
	debugOn() bool
	debugf(topic, format string, args ...any)
}

// fsm is one instance of the automaton.
type fsm struct {
	name   string
	proto  Protocol
	timer  timerID
	timing Timing
	host   fsmHost
	l      layer

	state    State
	restart  int   // Restart counter
	failures int   // Configure-Naks sent since the last Configure-Ack
	id       uint8 // Identifier of the last packet we originated
	reqID    uint8 // Identifier of our outstanding Configure-Request
	answered bool  // our outstanding Configure-Request has had its reply
	req      []byte
	// naked is the options of the last Configure-Request we Nak'd, and
	// repeats how many times since it came again unchanged (nakFailure).
	naked     []byte
	haveNaked bool
	repeats   int
	// why is the reason a timeout ended the layer, for finished().
	why error

	// The packet being processed, for sca, scn, sta, scj and ser.
	rx        Packet
	reply     []byte
	replyCode Code
	termData  []byte
}

func newFSM(name string, proto Protocol, timer timerID, t Timing, host fsmHost, l layer) *fsm {
	return &fsm{
		name:   name,
		proto:  proto,
		timer:  timer,
		timing: t.withDefaults(),
		host:   host,
		l:      l,
		// req and reply grow to what the layer sends (a dozen or two
		// bytes) on first use, and are reused after.
	}
}

// event runs one event through the table. The state changes before the
// actions run, so an action whose consequences post a further event (a
// tlu that fails authentication at once, say) sees the new state; in every
// cell tld comes first and tlu and tlf come last, so this ordering is the
// RFC's.
func (f *fsm) event(ev event) {
	c := transitions[ev][f.state]
	if !c.ok {
		f.host.debugf(f.name, "%s cannot happen in %s; ignored", ev, f.state)
		return
	}
	from := f.state
	f.state = c.next
	if timerRuns(from) && !timerRuns(c.next) {
		f.host.stopTimer(f.timer)
	}
	if f.host.debugOn() {
		f.host.debugf(f.name, "%s in %s → %s %v", ev, from, c.next, actionList(c.acts))
	}
	for _, a := range c.acts {
		if a == actNone {
			break
		}
		f.do(a, from, c.next)
	}
}

type actionList [3]action

func (l actionList) String() string {
	s := ""
	for _, a := range l {
		if a == actNone {
			break
		}
		if s != "" {
			s += ","
		}
		s += a.String()
	}
	return s
}

func (f *fsm) do(a action, from, next State) {
	switch a {
	case tlu:
		f.l.up()
	case tld:
		f.l.down()
	case tls:
		f.l.started()
	case tlf:
		f.l.finished()
	case irc:
		// RFC 1661 §4.4: Max-Terminate before a Terminate-Request,
		// Max-Configure before a Configure-Request.
		if next == StateClosing || next == StateStopping {
			f.restart = f.timing.MaxTerminate
		} else {
			f.restart = f.timing.MaxConfigure
		}
	case zrc:
		f.restart = 0
		f.host.startTimer(f.timer, f.timing.Restart)
	case scr:
		f.sendConfigureRequest(from)
	case sca, scn:
		if f.replyCode == CodeConfigureAck {
			f.failures = 0
			f.haveNaked = false
		} else if f.replyCode == CodeConfigureNak {
			f.nakFailure()
		}
		f.host.sendControl(f.proto, f.replyCode, f.rx.Identifier(), f.reply)
	case str:
		f.id++
		f.host.sendControl(f.proto, CodeTerminateRequest, f.id, f.termData)
		f.restart--
		f.host.startTimer(f.timer, f.timing.Restart)
	case sta:
		var id uint8
		if f.rx != nil {
			id = f.rx.Identifier()
		}
		f.host.sendControl(f.proto, CodeTerminateAck, id, nil)
	case scj:
		// RFC 1661 §5.6: the rejected packet, truncated by sendControl
		// to the peer's MRU.
		f.id++
		f.host.sendControl(f.proto, CodeCodeReject, f.id, f.rx)
	case ser:
		f.l.ser(f.rx)
	}
}

// nakFailure counts a Configure-Nak against Max-Failure (RFC 1661 §4.6:
// Naks sent without an Ack, "before assuming that the configuration is not
// converging"), unless it answers a request identical to the one we
// Nak'd last: that is the peer's retransmission, our Nak lost on the way
// (the peer's Restart timer, §4.6), which says the line loses frames, not
// that the peer will not take our values. Without it five Naks lost in a
// row turned the server's Nak of the peer's IP-Address into a Reject, and
// a peer that needs an address from us had to give up the link. A peer
// that ignores our Nak and repeats itself is still bounded: past
// Max-Configure repeats, each counts.
func (f *fsm) nakFailure() {
	req := f.rx.Data()
	if f.haveNaked && string(req) == string(f.naked) {
		if f.repeats < f.timing.MaxConfigure {
			f.repeats++
			return
		}
	} else {
		f.naked = append(f.naked[:0], req...)
		f.haveNaked, f.repeats = true, 0
	}
	f.failures++
}

func (f *fsm) sendConfigureRequest(from State) {
	if !negotiating(from) {
		// A new negotiation rather than a retransmission or an answer
		// to a Nak: start from the configured options.
		f.l.reset()
		f.failures = 0
		f.haveNaked = false
	}
	f.req = f.l.appendRequest(f.req[:0])
	f.id++
	f.reqID = f.id
	f.answered = false
	f.host.sendControl(f.proto, CodeConfigureRequest, f.reqID, f.req)
	f.restart--
	f.host.startTimer(f.timer, f.timing.Restart)
}

// restartCount initializes the Restart counter (irc) while a negotiation
// is under way: the owner has learnt that the Configure-Requests sent so
// far could not have been answered.
func (f *fsm) restartCount() {
	if negotiating(f.state) {
		f.restart = f.timing.MaxConfigure
	}
}

// open, close, up and down are the administrative and lower-layer events.
func (f *fsm) open() { f.event(evOpen) }
func (f *fsm) up()   { f.event(evUp) }
func (f *fsm) down() { f.event(evDown) }

// close is the Close event; reason goes in the Terminate-Request's data,
// cut so that the packet fits any MRU.
func (f *fsm) close(reason string) {
	if len(reason) > maxTermData {
		reason = reason[:maxTermData]
	}
	f.termData = append(f.termData[:0], reason...)
	f.event(evClose)
}

// timeout is the Restart timer's expiry (RFC 1661 §4.3 TO+ and TO-).
func (f *fsm) timeout() {
	if !timerRuns(f.state) {
		return
	}
	if f.restart > 0 {
		f.event(evTOPlus)
		return
	}
	if negotiating(f.state) {
		f.why = fmt.Errorf("%w: %s: no answer to %d Configure-Requests", ErrNegotiation, f.name, f.timing.MaxConfigure)
	}
	f.event(evTOMinus)
}

// input runs a received packet of the automaton's protocol (RFC 1661 §5).
// p has passed ParsePacket.
func (f *fsm) input(p Packet) {
	f.rx = p
	defer func() { f.rx = nil }()
	data := p.Data()
	switch p.Code() {
	case CodeConfigureRequest:
		if err := checkOptions(data); err != nil {
			f.host.debugf(f.name, "malformed Configure-Request: %v", err)
			return
		}
		rejectNaks := f.failures >= f.timing.MaxFailure
		f.replyCode, f.reply = f.l.checkRequest(data, f.reply[:0], rejectNaks)
		if f.replyCode == CodeConfigureAck {
			f.event(evRCRPlus)
		} else {
			f.event(evRCRMinus)
		}
	case CodeConfigureAck, CodeConfigureNak, CodeConfigureReject:
		if f.state >= StateReqSent { // Req-Sent, Ack-Rcvd, Ack-Sent, Opened
			if p.Identifier() != f.reqID || f.answered {
				f.host.debugf(f.name, "%s id %d does not answer our request id %d; discarded", p.Code(), p.Identifier(), f.reqID)
				return
			}
			var err error
			switch p.Code() {
			case CodeConfigureAck:
				if string(data) != string(f.req) {
					err = fmt.Errorf("%w: Configure-Ack options differ from our request", errDiscard)
				} else {
					f.l.gotAck(data)
				}
			case CodeConfigureNak:
				err = f.l.gotNak(data)
			default:
				err = f.l.gotReject(data)
			}
			if err != nil {
				if errors.Is(err, errDiscard) {
					f.host.debugf(f.name, "%s: %v", p.Code(), err)
				} else {
					f.host.fail(err)
				}
				return
			}
			f.answered = true
		}
		if p.Code() == CodeConfigureAck {
			f.event(evRCA)
		} else {
			f.event(evRCN)
		}
	case CodeTerminateRequest:
		f.l.peerTerminated(data)
		f.event(evRTR)
	case CodeTerminateAck:
		f.event(evRTA)
	case CodeCodeReject:
		if len(data) == 0 {
			return
		}
		// RFC 1661 §5.6: rejecting a code the automaton needs is
		// catastrophic; anything beyond it is not.
		if c := Code(data[0]); c >= CodeConfigureRequest && c <= CodeCodeReject {
			f.event(evRXJMinus)
		} else {
			f.event(evRXJPlus)
		}
	default:
		if ev, ok := f.l.other(p); ok {
			f.event(ev)
		}
	}
}
