package aaa

import (
	"context"
	"crypto/hmac"
	"crypto/md5"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"layeh.com/radius"

	"rosh/ppp"
)

// signReply adds a Message-Authenticator to an encoded reply to req and
// recomputes its Response Authenticator (RFC 3579 §3.2, RFC 2865 §3).
func signReply(b, req []byte, ok bool) []byte {
	b = append(b, attrMessageAuthenticator, 18)
	b = append(b, make([]byte, 16)...)
	b[2], b[3] = byte(len(b)>>8), byte(len(b))
	c := append([]byte(nil), b...)
	copy(c[4:20], req[4:20])
	m := hmac.New(md5.New, fuzzSecret)
	m.Write(c)
	sum := m.Sum(nil)
	if !ok {
		sum[0] ^= 1
	}
	copy(b[len(b)-16:], sum)
	h := md5.New()
	h.Write(b[:4])
	h.Write(req[4:20])
	h.Write(b[20:])
	h.Write(fuzzSecret)
	copy(b[4:20], h.Sum(nil))
	return b
}

// TestCheckResponse: a reply is taken only with the request's Identifier,
// the right Response Authenticator and, when present, the right
// Message-Authenticator.
func TestCheckResponse(t *testing.T) {
	req := fuzzRequest(t)
	good := encodeReply(t, Reply{Accept: true, Group: "gold"}, req)
	if _, err := CheckResponse(good, req, fuzzSecret); err != nil {
		t.Fatalf("good reply: %v", err)
	}
	forged := append([]byte(nil), good...)
	forged[len(forged)-1] ^= 1 // an attribute changed in transit
	otherID := append([]byte(nil), good...)
	otherID[1]++
	for name, b := range map[string][]byte{
		"forged":              forged,
		"other identifier":    otherID,
		"wrong secret":        encodeReplyWith(t, req, []byte("other")),
		"bad msg-auth":        signReply(append([]byte(nil), good...), req, false),
		"short":               good[:19],
		"length past the end": append(append([]byte(nil), good[:2]...), append([]byte{0xff, 0xff}, good[4:]...)...),
	} {
		if _, err := CheckResponse(b, req, fuzzSecret); !errors.Is(err, ErrBadResponse) {
			t.Errorf("%s: err %v, want ErrBadResponse", name, err)
		}
	}
	if _, err := CheckResponse(signReply(append([]byte(nil), good...), req, true), req, fuzzSecret); err != nil {
		t.Errorf("good Message-Authenticator: %v", err)
	}
}

func encodeReplyWith(t *testing.T, req, secret []byte) []byte {
	p := &radius.Packet{Code: radius.CodeAccessAccept, Identifier: req[1], Secret: secret}
	copy(p.Authenticator[:], req[4:20])
	b, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestExchangeDropsForged: a forged answer that arrives first is dropped
// and the genuine one that follows is taken; a server that never answers
// gets Tries identical requests, timeout apart.
func TestExchangeDropsForged(t *testing.T) {
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	port := conn.LocalAddr().(*net.UDPAddr).Port
	srv := Server{Address: netip.MustParseAddr("127.0.0.1"), Secret: string(fuzzSecret), AuthPort: port, Timeout: 200 * time.Millisecond}
	r := &ppp.AuthRequest{Method: ppp.PAP, User: "MT-User", Password: "StrongPass"}
	build := func(s Server) (*radius.Packet, error) {
		return NewAccessRequest([]byte(s.Secret), NAS{Identifier: "MikroTik"}, Port{}, r)
	}

	got := make(chan [][]byte, 1)
	go func() {
		var reqs [][]byte
		buf := make([]byte, 4096)
		for {
			conn.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
			n, from, err := conn.ReadFromUDP(buf)
			if err != nil {
				got <- reqs
				return
			}
			req := append([]byte(nil), buf[:n]...)
			reqs = append(reqs, req)
			if len(reqs) == 1 {
				forged := encodeReplyWith(t, req, []byte("attacker"))
				conn.WriteToUDP(forged, from)
				conn.WriteToUDP(encodeReplyWith(t, req, fuzzSecret), from)
			}
		}
	}()
	resp, _, err := Exchange(context.Background(), []Server{srv}, false, build)
	if err != nil || resp.Code != radius.CodeAccessAccept {
		t.Fatalf("Exchange: %v, %v", resp, err)
	}

	// Now silence: three identical requests, then ErrNoResponse.
	<-got
	go func() {
		var reqs [][]byte
		buf := make([]byte, 4096)
		for {
			conn.SetReadDeadline(time.Now().Add(time.Second))
			n, _, err := conn.ReadFromUDP(buf)
			if err != nil {
				got <- reqs
				return
			}
			reqs = append(reqs, append([]byte(nil), buf[:n]...))
		}
	}()
	start := time.Now()
	_, _, err = Exchange(context.Background(), []Server{srv}, false, build)
	if !errors.Is(err, ErrNoResponse) {
		t.Fatalf("err %v, want ErrNoResponse", err)
	}
	if d := time.Since(start); d < 600*time.Millisecond || d > 1500*time.Millisecond {
		t.Errorf("gave up after %v, want %d tries of 200ms", d, Tries)
	}
	reqs := <-got
	if len(reqs) != Tries {
		t.Fatalf("%d requests sent, want %d", len(reqs), Tries)
	}
	for _, q := range reqs[1:] {
		if string(q) != string(reqs[0]) {
			t.Errorf("a retransmission differs from the first request (RFC 5080 §2.2.1)")
		}
	}
}
