// Package aaa is rosh's RADIUS side: the Access-Request an access
// concentrator sends for each PPP authentication method and what it makes
// of the answer (RFC 2865, RFC 2548's Microsoft attributes for MS-CHAP,
// MikroTik's vendor attributes), accounting (RFC 2866, RFC 2869) with
// retries that outlive a server restart, and the Dynamic Authorization
// listener for Disconnect and CoA requests (RFC 5176). Packets are
// layeh.com/radius's; servers are tried in their configured order.
package aaa

import (
	"context"
	"crypto/hmac"
	"crypto/md5"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"layeh.com/radius"
)

// Server is one /radius entry.
type Server struct {
	Address  netip.Addr
	Secret   string
	AuthPort int // 1812
	AcctPort int // 1813
	// Timeout is how long one try waits for an answer before the request
	// is sent again (RouterOS `timeout`, 300ms).
	Timeout time.Duration
	// Src is the address requests leave from (src-address); unset lets
	// the kernel choose. It is also the NAS-IP-Address.
	Src netip.Addr
}

func (s Server) String() string { return s.Address.String() }

// Tries is how many times a request goes to one server before the next
// server is asked: the first send and two retransmissions of the same
// packet, same Identifier and Authenticator (RFC 2865 §2.5 leaves the
// count to the NAS; RFC 5080 §2.2.1 wants identical retransmissions).
const Tries = 3

// Sentinel errors.
var (
	// ErrNoServer: no enabled /radius entry for ppp.
	ErrNoServer = errors.New("no RADIUS server configured")
	// ErrNoResponse: every server was tried and none answered in time.
	ErrNoResponse = errors.New("RADIUS server not responding")
	// ErrBadResponse: a reply failed its checks (Response Authenticator,
	// Message-Authenticator, a malformed attribute).
	ErrBadResponse = errors.New("bad RADIUS response")
)

// Exchange sends a request to the servers in order until one answers,
// build making the packet for each server (the secret goes into the
// User-Password and the authenticators). acct picks the accounting port.
// The reply is checked (RFC 2865 §3 Response Authenticator, RFC 3579 §3.2
// Message-Authenticator when present) before it is returned with the
// server that gave it; forged, malformed and late replies are dropped.
func Exchange(ctx context.Context, servers []Server, acct bool, build func(Server) (*radius.Packet, error)) (*radius.Packet, Server, error) {
	if len(servers) == 0 {
		return nil, Server{}, ErrNoServer
	}
	var tried []string
	for _, srv := range servers {
		port := srv.AuthPort
		if acct {
			port = srv.AcctPort
		}
		resp, err := exchangeOne(ctx, srv, port, build)
		if err == nil {
			return resp, srv, nil
		}
		var be buildError
		if errors.As(err, &be) {
			return nil, srv, be.err
		}
		if ctx.Err() != nil {
			return nil, srv, ctx.Err()
		}
		tried = append(tried, srv.Address.String())
	}
	return nil, Server{}, fmt.Errorf("%w (tried %s)", ErrNoResponse, strings.Join(tried, ", "))
}

// buildError is a request that could not be made: no server would do
// better.
type buildError struct{ err error }

func (e buildError) Error() string { return e.err.Error() }

// exchangeOne sends the request to one server Tries times, Timeout apart,
// and returns the first reply that passes CheckResponse. The request is
// built once the socket is bound, so that without a src-address the
// NAS-IP-Address is the address the kernel chose for this server (RFC
// 2865 §5.4: the NAS's address, which the server may check against the
// source).
func exchangeOne(ctx context.Context, srv Server, port int, build func(Server) (*radius.Packet, error)) (*radius.Packet, error) {
	timeout := srv.Timeout
	if timeout <= 0 {
		timeout = 300 * time.Millisecond
	}
	var d net.Dialer
	if srv.Src.IsValid() {
		d.LocalAddr = &net.UDPAddr{IP: srv.Src.AsSlice()}
	}
	conn, err := d.DialContext(ctx, "udp", net.JoinHostPort(srv.Address.String(), strconv.Itoa(port)))
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if !srv.Src.IsValid() {
		if a, ok := netip.AddrFromSlice(conn.LocalAddr().(*net.UDPAddr).IP); ok {
			srv.Src = a.Unmap()
		}
	}
	req, err := build(srv)
	if err != nil {
		return nil, buildError{err}
	}
	wire, err := req.Encode()
	if err != nil {
		return nil, buildError{err}
	}
	deadline := time.Now().Add(time.Duration(Tries) * timeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	var buf [radius.MaxPacketLength]byte
	for try := 0; try < Tries; try++ {
		if _, err := conn.Write(wire); err != nil {
			return nil, err
		}
		next := time.Now().Add(timeout)
		if next.After(deadline) {
			next = deadline
		}
		conn.SetReadDeadline(next)
		for {
			n, err := conn.Read(buf[:])
			if err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					break // retransmit
				}
				// ICMP port unreachable surfaces here: the server is
				// down; wait out the try as if it had not answered, so
				// that a server restarting in the meantime still gets
				// its retransmissions.
				time.Sleep(time.Until(next))
				break
			}
			resp, err := CheckResponse(buf[:n], wire, req.Secret)
			if err != nil {
				continue // forged or stale: keep waiting (RFC 2865 §3)
			}
			return resp, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	return nil, ErrNoResponse
}

// CheckResponse parses a reply to the request req (as sent) and checks
// that it answers it: same Identifier, a Response Authenticator of
// MD5(Code+ID+Length+RequestAuth+Attributes+Secret) (RFC 2865 §3,
// RFC 2866 §3, RFC 5176 §2.3), and, when the reply carries one, a valid
// Message-Authenticator (RFC 3579 §3.2).
func CheckResponse(b, req, secret []byte) (*radius.Packet, error) {
	if len(req) < 20 {
		return nil, fmt.Errorf("%w: request too short", ErrBadResponse)
	}
	p, err := radius.Parse(b, secret)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadResponse, err)
	}
	if p.Identifier != req[1] {
		return nil, fmt.Errorf("%w: identifier %d, want %d", ErrBadResponse, p.Identifier, req[1])
	}
	if !radius.IsAuthenticResponse(b, req, secret) {
		return nil, fmt.Errorf("%w: wrong Response Authenticator", ErrBadResponse)
	}
	if err := checkMessageAuthenticator(b[:int(b[2])<<8|int(b[3])], req[4:20], secret); err != nil {
		return nil, err
	}
	return p, nil
}

// attrMessageAuthenticator is RFC 3579 §3.2's Message-Authenticator (80).
const attrMessageAuthenticator = 80

// checkMessageAuthenticator verifies the Message-Authenticator of a
// packet, if it has one: HMAC-MD5 keyed with the secret over the packet
// with the attribute's value zeroed and, in a response, the Request
// Authenticator in the Authenticator field (RFC 3579 §3.2). auth is that
// authenticator (nil keeps the packet's own: a request).
func checkMessageAuthenticator(b, auth, secret []byte) error {
	off := -1
	for i := 20; i+2 <= len(b); {
		l := int(b[i+1])
		if l < 2 || i+l > len(b) {
			return fmt.Errorf("%w: malformed attribute", ErrBadResponse)
		}
		if b[i] == attrMessageAuthenticator {
			if l != 18 || off >= 0 {
				return fmt.Errorf("%w: malformed Message-Authenticator", ErrBadResponse)
			}
			off = i + 2
		}
		i += l
	}
	if off < 0 {
		return nil
	}
	c := append([]byte(nil), b...)
	if auth != nil {
		copy(c[4:20], auth)
	}
	clear(c[off : off+16])
	m := hmac.New(md5.New, secret)
	m.Write(c)
	if !hmac.Equal(m.Sum(nil), b[off:off+16]) {
		return fmt.Errorf("%w: wrong Message-Authenticator", ErrBadResponse)
	}
	return nil
}

// signAccessRequest adds a Message-Authenticator to an Access-Request
// (RFC 3579 §3.2: HMAC-MD5 over the packet with the attribute zeroed; the
// Request Authenticator is sent as it is, so the HMAC covers it). RFC 2869
// §5.14 demands it only with EAP; it costs one hash and lets the server
// reject forged requests whatever the method.
func signAccessRequest(p *radius.Packet) error {
	ma := make(radius.Attribute, 16)
	p.Add(attrMessageAuthenticator, ma)
	b, err := p.MarshalBinary()
	if err != nil {
		return err
	}
	m := hmac.New(md5.New, p.Secret)
	m.Write(b)
	copy(ma, m.Sum(nil))
	return nil
}
