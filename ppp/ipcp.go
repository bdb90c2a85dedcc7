package ppp

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// The IP Control Protocol (RFC 1332) with the DNS extensions of RFC 1877,
// on top of the automaton.
//
// Server role: we request our own address; the peer gets the address the
// owner assigned — a request for 0.0.0.0 or for another address is Nak'd
// with it, and a request without the option gets it appended to a Nak
// (RFC 1332 §3.3); DNS requests are Nak'd with the offered servers, or
// rejected when there are none (RFC 1877 §1).
//
// Client role: we request 0.0.0.0 (or a configured address) and take the
// address a Nak suggests; with RequestDNS we ask for both DNS servers the
// same way. The peer's own address is acknowledged as it comes.
//
// Either role rejects IP-Compression-Protocol (no Van Jacobson here), the
// deprecated IP-Addresses, the NBNS options and anything unknown.

// IPConfig is the IPv4 configuration of a server-role session, as the owner
// assigns it (pool allocation lives with the owner).
type IPConfig struct {
	Local        netip.Addr // our end (profile local-address)
	Peer         netip.Addr // the peer's address (secret, profile or pool)
	PrimaryDNS   netip.Addr // offered when the peer asks (RFC 1877); unset: none
	SecondaryDNS netip.Addr
}

// ipcpOpts is one side's view of the negotiated IPCP options.
type ipcpOpts struct {
	addr, dns1, dns2          uint32
	hasAddr, hasDNS1, hasDNS2 bool
}

type ipcp struct {
	s *Session
	f *fsm

	want ipcpOpts // our next Configure-Request
	got  ipcpOpts // our request as the peer acknowledged it
	peer uint32   // the peer's address as we acknowledged it

	// Server role: what the owner assigned.
	local, remote, dns1, dns2 uint32

	nak, rej []byte
}

func newIPCP(s *Session) *ipcp {
	c := &ipcp{s: s}
	c.f = newFSM("ipcp", ProtoIPCP, timerIPCP, s.cfg.Timing, s, c)
	return c
}

func addr4(a netip.Addr) uint32 {
	if !a.Is4() {
		return 0
	}
	b := a.As4()
	return binary.BigEndian.Uint32(b[:])
}

func netipAddr(v uint32) netip.Addr {
	if v == 0 {
		return netip.Addr{}
	}
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], v)
	return netip.AddrFrom4(b)
}

// assign takes the owner's addresses for a server-role session.
func (c *ipcp) assign(ip IPConfig) {
	c.local, c.remote = addr4(ip.Local), addr4(ip.Peer)
	c.dns1, c.dns2 = addr4(ip.PrimaryDNS), addr4(ip.SecondaryDNS)
}

func (c *ipcp) reset() {
	if c.s.cfg.Role == RoleServer {
		c.want = ipcpOpts{addr: c.local, hasAddr: c.local != 0}
		return
	}
	c.want = ipcpOpts{
		addr:    addr4(c.s.cfg.LocalAddr),
		hasAddr: true,
		hasDNS1: c.s.cfg.RequestDNS,
		hasDNS2: c.s.cfg.RequestDNS,
	}
	// A renegotiation (a Configure-Request in Opened, RFC 1661 §4.3)
	// asks again for what the peer gave us last (RFC 1332 §3.3: the
	// sender states the address it desires) rather than 0.0.0.0, so the
	// peer can acknowledge at once instead of Nak'ing first. On a lossy
	// line each such Nak round was one more chance for the two ends to
	// knock each other out of Opened again, and a renegotiation could go
	// on for a minute.
	if c.got.hasAddr && c.got.addr != 0 && c.s.cfg.LocalAddr == (netip.Addr{}) {
		c.want.addr = c.got.addr
	}
	if c.want.hasDNS1 && c.got.hasDNS1 {
		c.want.dns1 = c.got.dns1
	}
	if c.want.hasDNS2 && c.got.hasDNS2 {
		c.want.dns2 = c.got.dns2
	}
}

func (c *ipcp) appendRequest(b []byte) []byte {
	if c.want.hasAddr {
		b = appendOption32(b, IPCPOptAddress, c.want.addr)
	}
	if c.want.hasDNS1 {
		b = appendOption32(b, IPCPOptPrimaryDNS, c.want.dns1)
	}
	if c.want.hasDNS2 {
		b = appendOption32(b, IPCPOptSecondaryDNS, c.want.dns2)
	}
	return b
}

func (c *ipcp) checkRequest(req, out []byte, rejectNaks bool) (Code, []byte) {
	server := c.s.cfg.Role == RoleServer
	nak, rej := c.nak[:0], c.rej[:0]
	var peer uint32
	sawAddr := false
	var seen [256]bool
	for b := req; len(b) > 0; {
		t, d, raw, rest, err := nextOption(b)
		if err != nil {
			break
		}
		b = rest
		dup := seen[t]
		seen[t] = true
		nakWith := func(typ uint8, v uint32) {
			if rejectNaks {
				rej = append(rej, raw...)
			} else {
				nak = appendOption32(nak, typ, v)
			}
		}
		switch {
		case dup || len(d) != 4:
			rej = append(rej, raw...)
		case t == IPCPOptAddress:
			sawAddr = true
			v := binary.BigEndian.Uint32(d)
			switch {
			case server && c.remote == 0:
				rej = append(rej, raw...)
			case server && v != c.remote:
				nakWith(t, c.remote)
			case !server && v == 0:
				// The peer wants an address from us; we have none
				// to give.
				rej = append(rej, raw...)
			default:
				peer = v
			}
		case (t == IPCPOptPrimaryDNS || t == IPCPOptSecondaryDNS) && server:
			offer := c.dns1
			if t == IPCPOptSecondaryDNS {
				offer = c.dns2
			}
			switch v := binary.BigEndian.Uint32(d); {
			case offer == 0:
				rej = append(rej, raw...)
			case v != offer:
				nakWith(t, offer)
			}
		default:
			rej = append(rej, raw...)
		}
	}
	if server && !sawAddr && c.remote != 0 && !rejectNaks {
		// RFC 1332 §3.3: the peer did not ask for an address; tell it
		// the one it has.
		nak = appendOption32(nak, IPCPOptAddress, c.remote)
	}
	c.nak, c.rej = nak, rej
	switch {
	case len(rej) > 0:
		return CodeConfigureReject, append(out, rej...)
	case len(nak) > 0:
		return CodeConfigureNak, append(out, nak...)
	}
	c.peer = peer
	return CodeConfigureAck, append(out, req...)
}

func (c *ipcp) gotAck([]byte) { c.got = c.want }

func (c *ipcp) gotNak(opts []byte) error {
	server := c.s.cfg.Role == RoleServer
	for b := opts; len(b) > 0; {
		t, d, _, rest, err := nextOption(b)
		if err != nil {
			return fmt.Errorf("%w: malformed options: %v", errDiscard, err)
		}
		b = rest
		if len(d) != 4 || server {
			// The server's address is its own to choose.
			continue
		}
		v := binary.BigEndian.Uint32(d)
		switch t {
		case IPCPOptAddress:
			if v != 0 {
				c.want.addr, c.want.hasAddr = v, true
			}
		case IPCPOptPrimaryDNS:
			if c.want.hasDNS1 {
				c.want.dns1 = v
			}
		case IPCPOptSecondaryDNS:
			if c.want.hasDNS2 {
				c.want.dns2 = v
			}
		}
	}
	return nil
}

func (c *ipcp) gotReject(opts []byte) error {
	if err := rejectMatchesRequest(opts, c.f.req); err != nil {
		return err
	}
	for b := opts; len(b) > 0; {
		t, _, _, rest, _ := nextOption(b)
		b = rest
		switch t {
		case IPCPOptAddress:
			if c.s.cfg.Role != RoleServer {
				return fmt.Errorf("%w: peer rejected the IP-Address option", ErrNoAddress)
			}
			c.want.hasAddr = false
		case IPCPOptPrimaryDNS:
			c.want.hasDNS1 = false
		case IPCPOptSecondaryDNS:
			c.want.hasDNS2 = false
		}
	}
	return nil
}

func (c *ipcp) up()                        { c.s.ipcpUp() }
func (c *ipcp) down()                      { c.s.ipcpDown() }
func (c *ipcp) started()                   {}
func (c *ipcp) finished()                  { c.s.ipcpFinished(c.f.why) }
func (c *ipcp) peerTerminated([]byte)      {}
func (c *ipcp) ser(Packet)                 {}
func (c *ipcp) other(Packet) (event, bool) { return evRUC, true }

// localAddr and peerAddr are the negotiated addresses.
func (c *ipcp) localAddr() netip.Addr {
	if c.got.hasAddr {
		return netipAddr(c.got.addr)
	}
	return netip.Addr{}
}

func (c *ipcp) peerAddr() netip.Addr { return netipAddr(c.peer) }
