package dataplane

import "errors"

// Errors at the package edge.
var (
	// ErrClosed: the interface was closed, or its device went away.
	ErrClosed = errors.New("dataplane: interface closed")
	// ErrNotIPv4: Deliver was given something that is not an IPv4
	// packet (shorter than a header, or another version).
	ErrNotIPv4 = errors.New("dataplane: not an IPv4 packet")
	// ErrNameInUse: a device of that kernel name exists already.
	ErrNameInUse = errors.New("dataplane: kernel interface name in use")
	// ErrBadConfig: a Config, address, MTU or route Open or a setter
	// cannot use; the wrapping error says which field.
	ErrBadConfig = errors.New("dataplane: bad configuration")
	// ErrQueueFull: a rate-limited session's queue had no room for the
	// packet, which was dropped (and counted).
	ErrQueueFull = errors.New("dataplane: shaper queue full")
)
