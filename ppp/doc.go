// Package ppp is a transport-agnostic PPP stack (RFC 1661): the
// option-negotiation automaton, LCP, authentication in both roles — PAP
// (RFC 1334), CHAP-MD5 (RFC 1994), MS-CHAPv1 (RFC 2433), MS-CHAPv2 (RFC
// 2759) — IPCP with DNS (RFC 1332, RFC 1877), keepalive, and the
// per-session event loop.
//
// # Wiring a session
//
// The owner — for rosh, the PPPoE client or access concentrator — creates
// one Session per PPPoE session once discovery is done and runs it on a
// goroutine of its own. A rosh/pppoe Session is a FrameLink, so the PPP
// session reads its frames and watches its end directly:
//
//	s, err := ppp.NewOnLink(ppp.Config{
//		Role:       ppp.RoleClient,
//		User:       "MT-User",
//		Password:   "StrongPass",
//		Allow:      ppp.AllMethods,   // pppoe-client allow=
//		MRU:        1460,             // max-mru, at most pppoeSession.MaxMRU()
//		MTU:        1460,             // max-mtu
//		Keepalive:  10 * time.Second, // keepalive-timeout
//		RequestDNS: true,             // use-peer-dns
//		OnPacket:   func(p ppp.Protocol, b []byte) { tun.Write(b) },
//		OnEvent:    func(e ppp.Event) { /* status, monitor, log */ },
//	}, pppoeSession)
//	go func() {
//		reason := s.Run(ctx)
//		pppoeSession.Close() // PADT, unless the peer's PADT ended it
//		// release, log reason, redial
//	}()
//
// Any other transport gives New a Sender and feeds every received PPP
// packet to s.Input(proto, payload), and a transport's end to
// s.LowerDown(reason). An administrative disconnect is s.Close(reason).
//
// A server-role session sets Role: ppp.RoleServer, Name (the identity put
// in CHAP challenges), Require (the server's `authentication`), an
// Authenticator (PasswordAuthenticator over /ppp secret, or anything that
// checks an AuthRequest) and Addresses, which the session calls once the
// peer has authenticated to get the local address, the peer's address and
// the DNS servers to offer; the owner allocates from its pools there and
// releases when the session ends.
//
// IPv4 packets from the peer arrive on OnPacket once IPCP is open; IPv4
// packets to the peer are the owner's to send (protocol ProtoIPv4, within
// Status().MTU) once EventUp arrived. OnEvent hears of phases,
// authentication, IPCP up and down, and the end, whose error wraps one of
// the Err* kinds (ErrAuthFailed, ErrKeepalive, …) with a reason fit for
// the log and `monitor`.
//
// Nothing here knows PPPoE. What RFC 2516 §7 requires of PPP over it —
// no ACCM, ACFC or PFC — is what LCP does anyway: those options are
// Configure-Rejected, as are the multilink options until MP is done.
package ppp
