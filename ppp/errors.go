package ppp

import "errors"

// Why a session ended. Session.Run returns, and the EventDead event
// carries, an error wrapping one of these with the detail (for example
// "authentication failed: wrong password"); errors.Is picks the kind.
var (
	// ErrAuthFailed: the credentials were refused — ours by the peer, or
	// the peer's by our Authenticator — or the peer failed MS-CHAPv2's
	// mutual authentication.
	ErrAuthFailed = errors.New("authentication failed")
	// ErrNoCommonAuth: the two ends allow no authentication method in
	// common, or the peer refused to authenticate at all.
	ErrNoCommonAuth = errors.New("no common authentication method")
	// ErrAuthTimeout: the authentication exchange got no answer.
	ErrAuthTimeout = errors.New("authentication timed out")
	// ErrNegotiation: LCP or IPCP did not converge or got no answer.
	ErrNegotiation = errors.New("negotiation failed")
	// ErrPeerTerminated: the peer sent an LCP Terminate-Request.
	ErrPeerTerminated = errors.New("terminated by peer")
	// ErrKeepalive: nothing was received for twice the keepalive time,
	// LCP Echo-Requests included.
	ErrKeepalive = errors.New("keepalive timeout")
	// ErrLoopback: the link carries our own packets back to us (RFC 1661
	// §6.4).
	ErrLoopback = errors.New("loopback detected")
	// ErrNoAddress: no IPv4 address could be assigned or obtained.
	ErrNoAddress = errors.New("no IP address")
	// ErrClosed: the owner closed the session.
	ErrClosed = errors.New("closed")
	// ErrLowerDown: the transport went away (PADT, interface down).
	ErrLowerDown = errors.New("lower layer down")
	// ErrConfig: the Config cannot work.
	ErrConfig = errors.New("ppp: bad config")
	// ErrRunning is returned by a second call to Run.
	ErrRunning = errors.New("ppp: session already run")
)
