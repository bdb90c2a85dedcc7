package pppoe

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// EventKind says what an Event reports.
type EventKind uint8

// Event kinds.
const (
	EventDialing     EventKind = iota // client: PADI sent (Attempt counts them)
	EventOffer                        // client: PADO accepted
	EventRequest                      // client: PADR sent (Attempt counts them)
	EventSessionUp                    // PADS sent or received: the session exists
	EventSessionDown                  // session ended; Err says why
	EventError                        // discovery failed; Err says why (a *PeerError, ErrTimeout, ...)
	EventIgnored                      // a frame was ignored and counted; Err says why (debug level)
)

func (k EventKind) String() string {
	switch k {
	case EventDialing:
		return "dialing"
	case EventOffer:
		return "offer"
	case EventRequest:
		return "request"
	case EventSessionUp:
		return "session-up"
	case EventSessionDown:
		return "session-down"
	case EventError:
		return "error"
	case EventIgnored:
		return "ignored"
	}
	return fmt.Sprintf("EventKind(%d)", uint8(k))
}

// Event is a status report from a Client, Session or AC, for the log and for
// `monitor`. Callbacks receive it on the reporting engine's goroutine (or
// the port's reader goroutine for frames a session ignores) and must not
// block.
type Event struct {
	Time      time.Time
	Kind      EventKind
	Interface string
	Peer      MAC    // the other end, when known
	Session   uint16 // SESSION_ID, when there is one
	Service   string
	ACName    string
	Attempt   int
	Err       error
}

func (e Event) String() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s: %v", e.Interface, e.Kind)
	if !e.Peer.IsZero() {
		fmt.Fprintf(&sb, " peer %v", e.Peer)
	}
	if e.Session != 0 {
		fmt.Fprintf(&sb, " session %#04x", e.Session)
	}
	if e.Service != "" {
		fmt.Fprintf(&sb, " service %q", e.Service)
	}
	if e.ACName != "" {
		fmt.Fprintf(&sb, " ac-name %q", e.ACName)
	}
	if e.Attempt > 0 {
		fmt.Fprintf(&sb, " attempt %d", e.Attempt)
	}
	if e.Err != nil {
		fmt.Fprintf(&sb, ": %v", e.Err)
	}
	return sb.String()
}

// Reasons for EventIgnored, counted in the engines' stats.
var (
	// ErrHostUniq: a PADO or PADS whose Host-Uniq is not ours.
	ErrHostUniq = errors.New("Host-Uniq does not match")
	// ErrOfferMismatch: a PADO whose AC-Name or Service-Name does not match
	// the client's configuration, or that lacks them.
	ErrOfferMismatch = errors.New("PADO does not match ac-name/service-name")
	// ErrWrongPeer: a PADS from another MAC than the PADO we answered.
	ErrWrongPeer = errors.New("from an unexpected MAC")
	// ErrBadCookie: a PADR without a valid AC-Cookie for its sender.
	ErrBadCookie = errors.New("PADR without a valid AC-Cookie")
	// ErrSpoofedPADT: a PADT whose MAC or SESSION_ID does not match.
	ErrSpoofedPADT = errors.New("PADT from the wrong MAC or with the wrong session id")
	// ErrMalformed: a frame that does not decode or breaks RFC 2516 §5.
	ErrMalformed = errors.New("malformed discovery packet")
	// ErrMaxSessions: the service is at its max-sessions.
	ErrMaxSessions = errors.New("max-sessions reached")
	// ErrUnknownService: the PADR names a service this AC does not offer.
	ErrUnknownService = errors.New("service not offered")
	// ErrNoSessionID: all 65534 session ids are in use.
	ErrNoSessionID = errors.New("no free session id")
)
