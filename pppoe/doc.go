// Package pppoe implements the PPPoE discovery and session framing of
// RFC 2516 with the PPP-Max-Payload tag of RFC 4638: the wire codec, a client
// dialer, an access concentrator and a scanner.
//
// The codec is a header view (Header) and an ordered tag list (Tags) inside a
// Packet that decodes and encodes without allocating. The engines — Client,
// AC and Scan — talk to the wire only through a link.Port, keep their
// protocol state in one owner goroutine each, and take time from an injected
// clock.Clock, so tests drive back-off and delays without waiting.
package pppoe
