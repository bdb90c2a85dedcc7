package ppp_test

import (
	"errors"
	"testing"
	"time"

	"rosh/ppp"
)

// asyncAuth is an AsyncAuthenticator that holds every request until the
// test releases it: a RADIUS server that takes its time.
type asyncAuth struct {
	inner ppp.Authenticator
	held  []func()
}

func (a *asyncAuth) Authenticate(r *ppp.AuthRequest) ppp.AuthResult { return a.inner.Authenticate(r) }

func (a *asyncAuth) StartAuthenticate(r *ppp.AuthRequest, verdict func(ppp.AuthResult)) (ppp.AuthResult, bool) {
	res := a.inner.Authenticate(r)
	a.held = append(a.held, func() { verdict(res) })
	return ppp.AuthResult{}, false
}

// TestAsyncAuthenticator: with an AsyncAuthenticator the session waits for
// the verdict without answering, drops the peer's retransmitted requests
// meanwhile and does not repeat its Challenge, then answers as a
// synchronous Authenticator would; a wrong password still fails.
func TestAsyncAuthenticator(t *testing.T) {
	for _, m := range []ppp.Method{ppp.PAP, ppp.CHAP, ppp.MSCHAPv1, ppp.MSCHAPv2} {
		for _, good := range []bool{true, false} {
			name := m.String() + "/good"
			if !good {
				name = m.String() + "/wrong"
			}
			t.Run(name, func(t *testing.T) {
				sc := serverConfig(ppp.Methods(m))
				a := &asyncAuth{inner: sc.Authenticator}
				sc.Authenticator = a
				cc := clientConfig(ppp.Methods(m))
				if !good {
					cc.Password = "WrongPass"
				}
				n := newNet(t, cc, sc)
				n.start()
				// 5 s: the PAP peer retransmits; a CHAP authenticator
				// would repeat its Challenge after 3 s.
				n.advance(5*time.Second, time.Second)
				if len(a.held) != 1 {
					t.Fatalf("%d requests reached the authenticator, want 1", len(a.held))
				}
				if k := n.count(false, ppp.ProtoCHAP, ppp.CHAPChallenge); m != ppp.PAP && k != 1 {
					t.Errorf("%d Challenges while the verdict was pending, want 1", k)
				}
				if n.count(false, ppp.ProtoPAP, ppp.PAPAuthAck)+n.count(false, ppp.ProtoPAP, ppp.PAPAuthNak)+
					n.count(false, ppp.ProtoCHAP, ppp.CHAPSuccess)+n.count(false, ppp.ProtoCHAP, ppp.CHAPFailure) != 0 {
					t.Fatal("the authenticator answered before the verdict")
				}
				a.held[0]()
				n.settle()
				n.advance(5*time.Second, time.Second)
				c, s := n.client.Status(), n.server.Status()
				if good {
					if c.Phase != ppp.PhaseNetwork || s.Phase != ppp.PhaseNetwork || s.Method != m {
						t.Fatalf("phases %s/%s, method %s, errors %v / %v", c.Phase, s.Phase, s.Method, c.Err, s.Err)
					}
					return
				}
				if !dead(n.server) || !errors.Is(s.Err, ppp.ErrAuthFailed) || !errors.Is(c.Err, ppp.ErrAuthFailed) {
					t.Fatalf("wrong password: server %v, client %v", s.Err, c.Err)
				}
			})
		}
	}
}

// TestAsyncVerdictAfterEnd: a verdict that comes after the session ended
// is dropped, and its sender does not block.
func TestAsyncVerdictAfterEnd(t *testing.T) {
	sc := serverConfig(ppp.Methods(ppp.PAP))
	a := &asyncAuth{inner: sc.Authenticator}
	sc.Authenticator = a
	n := newNet(t, clientConfig(ppp.Methods(ppp.PAP)), sc)
	n.start()
	if len(a.held) != 1 {
		t.Fatalf("%d requests, want 1", len(a.held))
	}
	n.server.Close("test")
	n.settle()
	n.advance(10*time.Second, time.Second)
	if !dead(n.server) {
		t.Fatal("server did not end")
	}
	done := make(chan struct{})
	go func() { a.held[0](); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the late verdict blocked its sender")
	}
}
