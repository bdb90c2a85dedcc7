package emulate

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"rosh/link"
	"rosh/ppp"
	"rosh/pppoe"
)

// testAC is a minimal access concentrator for the emulator to dial: a
// pppoe.AC whose sessions run a PPP server with the given methods,
// password rule and a running address counter.
type testAC struct {
	ac    *pppoe.AC
	wg    sync.WaitGroup
	mu    sync.Mutex
	users map[pppoe.MAC]string // who authenticated from which MAC
	ended map[error]int        // how the AC's PPPoE sessions ended
	next  atomic.Uint32
}

func startTestAC(t *testing.T, port *link.Port, require ppp.MethodSet, maxSessions int, password func(user string) (string, error)) *testAC {
	t.Helper()
	a := &testAC{users: map[pppoe.MAC]string{}, ended: map[error]int{}}
	ac, err := pppoe.NewAC(port, pppoe.ACConfig{OnSession: func(ps *pppoe.Session) {
		a.wg.Add(1)
		go a.serve(ps, require, password)
	}})
	if err != nil {
		t.Fatal(err)
	}
	a.ac = ac
	if err := ac.SetService(pppoe.Service{Name: "isp", AcceptEmptyService: true, MaxSessions: maxSessions}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ac.Close(); a.wg.Wait() })
	return a
}

func (a *testAC) serve(ps *pppoe.Session, require ppp.MethodSet, password func(string) (string, error)) {
	defer a.wg.Done()
	var user string
	p, err := ppp.NewOnLink(ppp.Config{
		Role: ppp.RoleServer, Name: "ac", Require: require,
		Authenticator: ppp.AuthenticatorFunc(func(r *ppp.AuthRequest) ppp.AuthResult {
			res := ppp.PasswordAuthenticator(password).Authenticate(r)
			if res.OK {
				user = r.User
			}
			return res
		}),
		Addresses: func(string) (ppp.IPConfig, error) {
			n := a.next.Add(1)
			return ppp.IPConfig{
				Local: netip.AddrFrom4([4]byte{10, 0, 0, 1}),
				Peer:  netip.AddrFrom4([4]byte{10, 1, byte(n >> 8), byte(n)}),
			}, nil
		},
	}, ps)
	if err != nil {
		ps.Close()
		return
	}
	p.Run(context.Background())
	ps.Close()
	a.mu.Lock()
	defer a.mu.Unlock()
	if user != "" {
		a.users[ps.Peer()] = user
	}
	switch err := ps.Err(); {
	case errors.Is(err, pppoe.ErrTerminated):
		a.ended[pppoe.ErrTerminated]++
	default:
		a.ended[err]++
	}
}

// samePassword accepts every user with password "pw".
func samePassword(string) (string, error) { return "pw", nil }

// newNet is a Pipe with a port on each end, room for a burst from every
// subscriber, closed at cleanup.
func newNet(t *testing.T) (ac, em *link.Port) {
	a, b := link.Pipe(link.WithQueue(4096))
	ac, em = link.NewPort(a), link.NewPort(b)
	t.Cleanup(func() { ac.Close(); em.Close() })
	return ac, em
}

// checkLeaks fails the test if a subscriber or session goroutine is still
// running after the test's other cleanups. Call it first.
func checkLeaks(t *testing.T) {
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for {
			buf := make([]byte, 1<<20)
			stacks := string(buf[:runtime.Stack(buf, true)])
			n := strings.Count(stacks, "rosh/emulate.(*Emulator)") + strings.Count(stacks, "rosh/ppp.(*Session).Run")
			if n == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("%d emulator goroutines still running:\n%s", n, stacks)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

func settle(t *testing.T, e *Emulator, n int) Stats {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := e.Wait(ctx, func(s Stats) bool { return s.Settled(n) }); err != nil {
		t.Fatalf("not settled: %+v", e.Stats())
	}
	return e.Stats()
}

// Every method brings up every subscriber, each a host of its own to the
// AC with its own user name; Stop takes them all down with a PADT each.
func TestEmulateMethods(t *testing.T) {
	for _, m := range []ppp.Method{ppp.PAP, ppp.CHAP, ppp.MSCHAPv2} {
		t.Run(m.String(), func(t *testing.T) {
			checkLeaks(t)
			acPort, emPort := newNet(t)
			ac := startTestAC(t, acPort, ppp.Methods(m), 0, samePassword)
			const n = 40
			e, err := Start(emPort, Config{Sessions: n, Rate: 2000, UserPattern: "user%d", Password: "pw",
				Allow: ppp.Methods(m), BaseMAC: pppoe.MAC{0x02, 0xee, 0, 0, 0, 0xf0}})
			if err != nil {
				t.Fatal(err)
			}
			if st := settle(t, e, n); st.Established != n || st.Up != n {
				t.Fatalf("stats %+v, want %d up", st, n)
			}
			if got := ac.ac.Stats().Sessions; got != n {
				t.Errorf("AC has %d sessions, want %d", got, n)
			}
			r := e.Stop()
			if r.Established != n || r.Failed != 0 || r.Lost != 0 || r.Teardown <= 0 || r.SetupRate <= 0 {
				t.Errorf("report %+v", r)
			}
			// Stop returns once the PADTs are sent; the AC reads them after.
			for deadline := time.Now().Add(5 * time.Second); ac.ac.Stats().Sessions > 0 && time.Now().Before(deadline); {
				time.Sleep(time.Millisecond)
			}
			ac.ac.Close()
			ac.wg.Wait()
			if len(ac.users) != n {
				t.Fatalf("%d hosts authenticated, want %d", len(ac.users), n)
			}
			// MACs count up from the base, user names from user1.
			for i := range n {
				mac := pppoe.MAC{0x02, 0xee, 0, 0, byte((0xf0 + i) >> 8), byte(0xf0 + i)}
				if u := ac.users[mac]; u != fmt.Sprintf("user%d", i+1) {
					t.Errorf("host %v authenticated as %q, want user%d", mac, u, i+1)
				}
			}
			if ac.ended[pppoe.ErrTerminated] != n {
				t.Errorf("AC sessions ended %v, want %d by PADT", ac.ended, n)
			}
		})
	}
}

// Failures are counted by reason: refused logins and the AC's
// max-sessions each get their own line.
func TestEmulateFailureReasons(t *testing.T) {
	checkLeaks(t)
	acPort, emPort := newNet(t)
	startTestAC(t, acPort, ppp.Methods(ppp.MSCHAPv2), 0, func(user string) (string, error) {
		switch user {
		case "u13":
			return "", errors.New("no such user")
		case "u7":
			return "other", nil
		}
		return "pw" + strings.TrimPrefix(user, "u"), nil
	})
	const n = 20
	e, err := Start(emPort, Config{Sessions: n, UserPattern: "u%d", Password: "pw%d", First: 3})
	if err != nil {
		t.Fatal(err)
	}
	settle(t, e, n)
	r := e.Stop()
	if want := map[string]int{"authentication failed": 2}; fmt.Sprint(r.Failures) != fmt.Sprint(want) || r.Established != n-2 {
		t.Errorf("established %d, failures %v; want %d and %v", r.Established, r.Failures, n-2, want)
	}

	// max-sessions 15: a subscriber whose PADI came after the 15th
	// session gets no PADO (RFC 2516 §5.2) and times out; one whose PADO
	// came before but whose PADR came after is refused with the AC's
	// reason.
	acPort, emPort = newNet(t)
	startTestAC(t, acPort, ppp.Methods(ppp.PAP), 15, samePassword)
	e, err = Start(emPort, Config{Sessions: n, Password: "pw", SetupTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	settle(t, e, n)
	r = e.Stop()
	refused, timedOut := r.Failures["PADS AC-System-Error"], r.Failures["setup timed out"]
	t.Logf("max-sessions 15: %d refused, %d timed out", refused, timedOut)
	if r.Established != 15 || refused+timedOut != 5 || len(r.Failures) > 2 {
		t.Errorf("established %d, failures %v; want 15 and 5 refused or timed out", r.Established, r.Failures)
	}
	var out strings.Builder
	r.WriteTable(&out)
	// The AC's own words come with the count.
	if refused > 0 && (!strings.Contains(out.String(), fmt.Sprintf("failures: PADS AC-System-Error  %d, e.g. ", refused)) || !strings.Contains(out.String(), "max sessions reached")) {
		t.Errorf("table lacks the AC-System-Error count with the AC's reason:\n%s", out.String())
	}
}

// An AC that shuts down takes every session down with a PADT; the
// emulator counts them lost, and Ended reports when the last went.
func TestEmulateACShutdown(t *testing.T) {
	checkLeaks(t)
	acPort, emPort := newNet(t)
	ac := startTestAC(t, acPort, ppp.Methods(ppp.PAP), 0, samePassword)
	const n = 30
	e, err := Start(emPort, Config{Sessions: n, UserPattern: "user%d", Password: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	settle(t, e, n)
	closed := time.Now()
	ac.ac.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	last, err := e.Ended(ctx)
	if err != nil {
		t.Fatalf("sessions still up: %+v", e.Stats())
	}
	if last.Before(closed) {
		t.Errorf("last session ended %v before the AC closed", closed.Sub(last))
	}
	r := e.Stop()
	if r.Lost != n || r.PADTReceived != n || r.Losses["PADT from peer"] != n || r.Teardown != 0 {
		t.Errorf("report %+v, want %d lost to a PADT and no teardown of our own", r, n)
	}
}

// With no AC, every subscriber gives up at its setup timeout; Stop during
// setup ends the ones still dialing without waiting for theirs.
func TestEmulateTimeoutAndStop(t *testing.T) {
	checkLeaks(t)
	_, emPort := newNet(t)
	e, err := Start(emPort, Config{Sessions: 5, SetupTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	settle(t, e, 5)
	if r := e.Stop(); r.Failures["setup timed out"] != 5 {
		t.Errorf("failures %v, want 5 timeouts", r.Failures)
	}

	e, err = Start(emPort, Config{Sessions: 1000, Rate: 100})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	r := e.Stop()
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Stop during setup took %v", d)
	}
	if st := e.Stats(); st.Ended != 1000 || r.Failures["stopped before up"] != st.Started {
		t.Errorf("after Stop: %+v, failures %v", st, r.Failures)
	}
}

// MaxPending lets only that many subscribers be in setup at once: with no
// AC to answer, they time out two by two.
func TestEmulateMaxPending(t *testing.T) {
	checkLeaks(t)
	_, emPort := newNet(t)
	start := time.Now()
	e, err := Start(emPort, Config{Sessions: 6, MaxPending: 2, SetupTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if st := e.Stats(); st.Started != 2 {
		t.Errorf("%d started with 2 pending allowed", st.Started)
	}
	settle(t, e, 6)
	if d := time.Since(start); d < 600*time.Millisecond {
		t.Errorf("6 subscribers, 2 at a time, 200 ms each, settled in %v", d)
	}
	if r := e.Stop(); r.Failures["setup timed out"] != 6 {
		t.Errorf("failures %v", r.Failures)
	}
}

func TestEmulateConfigChecks(t *testing.T) {
	_, emPort := newNet(t)
	for _, cfg := range []Config{
		{Sessions: 0},
		{Sessions: 1, Rate: -1},
		{Sessions: 1, MaxPending: -1},
		{Sessions: 1, UserPattern: "%d-%d"},
		{Sessions: 2, BaseMAC: pppoe.MAC{0x02, 0xff, 0xff, 0xff, 0xff, 0xff}}, // the second would be 03:…
		{Sessions: 1, BaseMAC: pppoe.MAC{0x03, 0, 0, 0, 0, 1}},
	} {
		if e, err := Start(emPort, cfg); err == nil {
			e.Stop()
			t.Errorf("Start(%+v) accepted", cfg)
		}
	}
}

// Run holds the sessions for Hold, reports progress, then tears down.
func TestRunHold(t *testing.T) {
	checkLeaks(t)
	acPort, emPort := newNet(t)
	startTestAC(t, acPort, ppp.Methods(ppp.CHAP), 0, samePassword)
	var ticks atomic.Int32
	start := time.Now()
	r, err := Run(context.Background(), emPort, Config{Sessions: 10, Rate: 100, Password: "pw", Hold: 1200 * time.Millisecond},
		func(Stats) { ticks.Add(1) })
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 1200*time.Millisecond {
		t.Errorf("Run returned after %v, before the hold was over", d)
	}
	if r.Established != 10 || r.Teardown <= 0 || ticks.Load() < 1 {
		t.Errorf("report %+v, %d progress ticks", r, ticks.Load())
	}
}

// With Redial, Hangup's churn is made good: the subscribers hung up dial
// again and the count of sessions up returns to where it was; none of it
// counts as lost.
func TestEmulateHangupRedial(t *testing.T) {
	checkLeaks(t)
	acPort, emPort := newNet(t)
	ac := startTestAC(t, acPort, ppp.Methods(ppp.PAP), 0, samePassword)
	const n = 30
	e, err := Start(emPort, Config{Sessions: n, Password: "pw", Redial: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := e.Wait(ctx, func(s Stats) bool { return s.Up == n }); err != nil {
		t.Fatalf("not all up: %+v", e.Stats())
	}
	if got := e.Hangup(10); got != 10 {
		t.Fatalf("Hangup(10) closed %d", got)
	}
	if err := e.Wait(ctx, func(s Stats) bool { return s.HungUp == 10 && s.Up == n && s.Established == n+10 }); err != nil {
		t.Fatalf("churn not made good: %+v", e.Stats())
	}
	if got := ac.ac.Stats().Sessions; got != n {
		t.Errorf("AC has %d sessions, want %d", got, n)
	}
	r := e.Stop()
	if r.Lost != 0 || r.Failed != 0 {
		t.Errorf("report %+v: want nothing lost or failed", r)
	}
}
