// Package ppp is a transport-agnostic PPP stack (RFC 1661): the
// option-negotiation automaton, LCP, authentication in both roles — PAP
// (RFC 1334), CHAP-MD5 (RFC 1994), MS-CHAPv1 (RFC 2433), MS-CHAPv2 (RFC
// 2759) — IPCP with DNS (RFC 1332, RFC 1877), keepalive, and the
// per-session event loop.
//
// # Wiring a session
//
// The owner — for rosh, the PPPoE client or access concentrator — creates
// one Session per PPPoE session once discovery is done, hands it a Sender
// that wraps PPP packets in PPPoE session frames, and runs it on a goroutine
// of its own:
//
//	s, err := ppp.New(ppp.Config{
//		Role:      ppp.RoleClient,
//		User:      "MT-User",
//		Password:  "StrongPass",
//		Allow:     ppp.AllMethods,     // pppoe-client allow=
//		MRU:       1460, MTU: 1460,    // max-mru, max-mtu
//		Keepalive: 10 * time.Second,   // keepalive-timeout
//		RequestDNS: true,              // use-peer-dns
//		OnPacket: func(p ppp.Protocol, b []byte) { tun.Write(b) },
//		OnEvent:  func(e ppp.Event) { /* status, monitor, log */ },
//	}, ppp.SenderFunc(func(p ppp.Protocol, b []byte) error {
//		return pppoeSession.WritePPP(uint16(p), b)
//	}))
//	go func() { reason := s.Run(ctx); /* send PADT, release, redial */ }()
//
// A server-role session sets Role: ppp.RoleServer, Name (the identity put
// in CHAP challenges), Require (the server's `authentication`), an
// Authenticator (PasswordAuthenticator over /ppp secret, or anything that
// checks an AuthRequest) and Addresses, which the session calls once the
// peer has authenticated to get the local address, the peer's address and
// the DNS servers to offer; the owner allocates from its pools there and
// releases when the session ends.
//
// Every PPP packet received on the PPPoE session goes to s.Input(proto,
// payload); a PADT to s.LowerDown(reason); an administrative disconnect to
// s.Close(reason). IPv4 packets from the peer arrive on OnPacket once IPCP
// is open; IPv4 packets to the peer are sent by the owner directly with
// protocol ProtoIPv4 once EventUp arrived, within Status().MTU. OnEvent
// hears of phases, authentication, IPCP up and down, and the end, whose
// error wraps one of the Err* kinds (ErrAuthFailed, ErrKeepalive, …) with a
// reason fit for the log and `monitor`.
//
// Nothing here knows PPPoE. What RFC 2516 §7 requires of PPP over it —
// no ACCM, ACFC or PFC — is what LCP does anyway: those options are
// Configure-Rejected, as are the multilink options until MP is done.
package ppp
