package aaa

import (
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"layeh.com/radius"

	"rosh/nstest"
	"rosh/ppp"
)

// freePort returns a UDP port nobody listens on on loopback now.
func freePort(t testing.TB) int {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// startServer runs FreeRADIUS on loopback with the seed's user.
func startServer(t testing.TB, debug bool) (*nstest.FreeRADIUS, Server) {
	auth, acct := freePort(t), freePort(t)
	fr := nstest.StartFreeRADIUS(t, "", nstest.RadiusConfig{
		Listen: "127.0.0.1", AuthPort: auth, AcctPort: acct, Clients: "127.0.0.0/8", Secret: "testing123",
		Users: "MT-User Cleartext-Password := \"StrongPass\"\n\tMikrotik-Group = \"gold\", Class = \"c1\"\n",
		Debug: debug,
	})
	return fr, Server{Address: netip.MustParseAddr("127.0.0.1"), Secret: "testing123", AuthPort: auth, AcctPort: acct, Timeout: 300 * time.Millisecond}
}

// authRequest is what a PPP peer with password would send for m.
func authRequest(t testing.TB, m ppp.Method, password string) *ppp.AuthRequest {
	r := &ppp.AuthRequest{Method: m, User: "MT-User", ID: 9}
	switch m {
	case ppp.PAP:
		r.Password = password
	case ppp.CHAP:
		r.Challenge = []byte("0123456789abcdef")
		h := md5.Sum(append(append([]byte{r.ID}, password...), r.Challenge...))
		r.Response = h[:]
	case ppp.MSCHAPv1:
		r.Challenge = []byte("01234567")
		nt := ppp.MSCHAPv1NTResponse(r.Challenge, password)
		r.Response = append(append(make([]byte, 24), nt[:]...), 1) // LM zero, NT, flags: use NT
	case ppp.MSCHAPv2:
		r.Challenge = []byte("0123456789abcdef")
		peer := []byte("fedcba9876543210")
		nt, err := ppp.MSCHAPv2NTResponse(r.Challenge, peer, r.User, password)
		if err != nil {
			t.Fatal(err)
		}
		r.Response = append(append(append(append([]byte(nil), peer...), make([]byte, 8)...), nt[:]...), 0)
	}
	return r
}

func authenticate(ctx context.Context, srvs []Server, r *ppp.AuthRequest) (Reply, error) {
	resp, _, err := Exchange(ctx, srvs, false, func(s Server) (*radius.Packet, error) {
		return NewAccessRequest([]byte(s.Secret), NAS{Identifier: "MikroTik"}, Port{Number: 1, SessionID: "81000001"}, r)
	})
	if err != nil {
		return Reply{}, err
	}
	return DecodeReply(resp)
}

// TestFreeRADIUS: every method's Access-Request is understood by a real
// FreeRADIUS, a wrong password is rejected with its Reply-Message, the
// MS-CHAPv2 authenticator response is the one the peer expects, a dead
// first server is skipped, a wrong secret gets no accepted answer, and an
// Accounting-Request is acknowledged.
func TestFreeRADIUS(t *testing.T) {
	_, srv := startServer(t, false)
	ctx := context.Background()
	for _, m := range []ppp.Method{ppp.PAP, ppp.CHAP, ppp.MSCHAPv1, ppp.MSCHAPv2} {
		for _, pw := range []string{"StrongPass", "WrongPass"} {
			t.Run(m.String()+"/"+pw, func(t *testing.T) {
				r := authRequest(t, m, pw)
				rep, err := authenticate(ctx, []Server{srv}, r)
				if err != nil {
					t.Fatal(err)
				}
				if rep.Accept != (pw == "StrongPass") {
					t.Fatalf("accept=%v with %s", rep.Accept, pw)
				}
				if !rep.Accept {
					return
				}
				if rep.Group != "gold" || len(rep.Class) != 1 || string(rep.Class[0]) != "c1" {
					t.Errorf("reply %+v, want Mikrotik-Group gold and Class c1", rep)
				}
				if m == ppp.MSCHAPv2 {
					want, _ := ppp.MSCHAPv2AuthenticatorResponse(r.Challenge, r.Response[:16], r.Response[24:48], r.User, pw)
					if rep.MSCHAP2Success != want {
						t.Errorf("MS-CHAP2-Success %q, want %q", rep.MSCHAP2Success, want)
					}
				}
			})
		}
	}

	t.Run("failover", func(t *testing.T) {
		dead := srv
		dead.AuthPort = freePort(t)
		dead.Timeout = 100 * time.Millisecond
		start := time.Now()
		rep, err := authenticate(ctx, []Server{dead, srv}, authRequest(t, ppp.PAP, "StrongPass"))
		if err != nil || !rep.Accept {
			t.Fatalf("second server: %+v, %v", rep, err)
		}
		if d := time.Since(start); d < 300*time.Millisecond || d > 2*time.Second {
			t.Errorf("failover took %v, want 3 tries of 100ms first", d)
		}
	})

	t.Run("wrong-secret", func(t *testing.T) {
		bad := srv
		bad.Secret = "nottheone"
		bad.Timeout = 100 * time.Millisecond
		_, err := authenticate(ctx, []Server{bad}, authRequest(t, ppp.PAP, "StrongPass"))
		if !errors.Is(err, ErrNoResponse) || !strings.Contains(err.Error(), "tried 127.0.0.1") {
			t.Fatalf("err %v, want %v", err, ErrNoResponse)
		}
	})

	t.Run("accounting", func(t *testing.T) {
		var a Accounting
		a.Servers = func() []Server { return []Server{srv} }
		defer a.Close()
		for _, st := range []Status{Start, Interim, Stop} {
			a.Send(&Record{Status: st, NAS: NAS{Identifier: "MikroTik"}, Port: Port{SessionID: "81000001"}, User: "MT-User",
				Time: time.Now(), InOctets: 5<<32 + 7, Cause: CauseUserRequest})
		}
		if !a.Flush(5 * time.Second) {
			t.Fatalf("%d records not acknowledged", a.Pending())
		}
	})
}

// BenchmarkAuthFreeRADIUS is authentications per second against a
// FreeRADIUS on loopback: MS-CHAPv2 Access-Requests from 8 goroutines,
// each a full exchange on its own socket as the AC makes them.
func BenchmarkAuthFreeRADIUS(b *testing.B) {
	_, srv := startServer(b, false)
	srv.Timeout = time.Second
	r := authRequest(b, ppp.MSCHAPv2, "StrongPass")
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rep, err := authenticate(context.Background(), []Server{srv}, r)
			if err != nil || !rep.Accept {
				panic(fmt.Sprintf("auth: %+v %v", rep, err))
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "auths/s")
}
