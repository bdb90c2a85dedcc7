package pppoe

import (
	"errors"
	"fmt"
)

// Errors of the codec.
var (
	// ErrNotPPPoE: the frame's EtherType is neither 0x8863 nor 0x8864.
	ErrNotPPPoE = errors.New("pppoe: not a PPPoE frame")
	// ErrBadVersion: VER or TYPE is not 1 (RFC 2516 §4).
	ErrBadVersion = errors.New("pppoe: bad version or type")
	// ErrBadCode: a session-stage frame whose CODE is not 0 (RFC 2516 §6).
	ErrBadCode = errors.New("pppoe: bad code")
	// ErrBadTag: a tag whose length breaks its definition (End-Of-List with
	// a value, PPP-Max-Payload not two bytes, a value over 65535 bytes).
	ErrBadTag = errors.New("pppoe: malformed tag")
	// ErrTooLong: a payload that does not fit the LENGTH field or the link.
	ErrTooLong = errors.New("pppoe: payload too long")
)

// Errors of discovery and sessions.
var (
	// ErrServiceName is what a PeerError carrying Service-Name-Error is.
	ErrServiceName = errors.New("service name error")
	// ErrACSystem is what a PeerError carrying AC-System-Error is.
	ErrACSystem = errors.New("access concentrator system error")
	// ErrGeneric is what a PeerError carrying Generic-Error is.
	ErrGeneric = errors.New("generic error")
	// ErrTimeout: the client gave up waiting for a PADO (PADIAttempts).
	ErrTimeout = errors.New("pppoe: no access concentrator answered")
	// ErrTerminated: the session ended by a PADT from the peer (RFC 2516 §5.5).
	ErrTerminated = errors.New("pppoe: session terminated by peer (PADT)")
	// ErrClosed: the session or engine was closed locally.
	ErrClosed = errors.New("pppoe: closed")
	// ErrReplaced: one-session-per-host closed this session because the same
	// host opened a new one.
	ErrReplaced = errors.New("pppoe: session replaced by a new one from the same host")
	// ErrServiceRemoved: the service this session belonged to was removed.
	ErrServiceRemoved = errors.New("pppoe: service removed")
	// ErrLinkDown: the interface under the session went away.
	ErrLinkDown = errors.New("pppoe: link down")
)

// PeerError is an error tag received from the peer (RFC 2516 Appendix A):
// Service-Name-Error, AC-System-Error or Generic-Error, with the UTF-8 reason
// it carried. errors.Is matches it against ErrServiceName, ErrACSystem and
// ErrGeneric.
type PeerError struct {
	Tag    TagType
	Reason string
	Peer   MAC
}

func (e *PeerError) Error() string {
	var kind error = ErrGeneric
	switch e.Tag {
	case TagServiceNameError:
		kind = ErrServiceName
	case TagACSystemError:
		kind = ErrACSystem
	}
	if e.Reason == "" {
		return fmt.Sprintf("%v from %v", kind, e.Peer)
	}
	return fmt.Sprintf("%v from %v: %s", kind, e.Peer, e.Reason)
}

// Is makes errors.Is(err, ErrServiceName) and its siblings work.
func (e *PeerError) Is(target error) bool {
	switch target {
	case ErrServiceName:
		return e.Tag == TagServiceNameError
	case ErrACSystem:
		return e.Tag == TagACSystemError
	case ErrGeneric:
		return e.Tag == TagGenericError
	}
	return false
}
