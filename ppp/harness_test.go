package ppp_test

import (
	"errors"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rosh/clock"
	"rosh/ppp"
	"rosh/ppp/ppptest"
)

// testNet joins a client and a server session back to back in memory,
// with a manual clock. Sessions are stepped by the test, without their
// goroutines, so every run is the same; a failing test leaves a pcap of the
// exchange behind.
type testNet struct {
	t      testing.TB
	clk    *clock.Manual
	cap    ppptest.Capture // as the client sees it: out = client to server
	client *ppp.Session
	server *ppp.Session
	// cut drops packets: [0] client to server, [1] server to client.
	cut [2]bool
	// drop, when set, drops the packets it returns true for.
	drop func(fromClient bool, p ppp.Protocol, b []byte) bool

	cEvents, sEvents []ppp.Event
	cData, sData     [][]byte
	// countData counts data packets instead of keeping them.
	countData bool
	dataCount int
}

// wire is one direction of the in-memory link.
type wire struct {
	n          *testNet
	fromClient bool
}

func (w *wire) SendPPP(p ppp.Protocol, b []byte) error {
	n := w.n
	n.cap.Add(n.clk.Now(), w.fromClient, p, b)
	if n.drop != nil && n.drop(w.fromClient, p, b) {
		return nil
	}
	if w.fromClient {
		if !n.cut[0] {
			n.server.Input(p, b)
		}
	} else if !n.cut[1] {
		n.client.Input(p, b)
	}
	return nil
}

var (
	serverAddr = netip.MustParseAddr("10.0.0.1")
	clientAddr = netip.MustParseAddr("10.0.0.5")
	dns1       = netip.MustParseAddr("192.0.2.53")
	dns2       = netip.MustParseAddr("192.0.2.54")
)

const (
	testUser     = "MT-User"
	testPassword = "StrongPass"
)

// users is the server's secrets.
func usersAuthenticator(users map[string]string) ppp.Authenticator {
	return ppp.PasswordAuthenticator(func(user string) (string, error) {
		pw, ok := users[user]
		if !ok {
			return "", errors.New("unknown user")
		}
		return pw, nil
	})
}

func serverConfig(require ppp.MethodSet) ppp.Config {
	return ppp.Config{
		Role:          ppp.RoleServer,
		Name:          "MikroTik",
		Require:       require,
		Authenticator: usersAuthenticator(map[string]string{testUser: testPassword}),
		Addresses: func(peer string) (ppp.IPConfig, error) {
			return ppp.IPConfig{Local: serverAddr, Peer: clientAddr, PrimaryDNS: dns1, SecondaryDNS: dns2}, nil
		},
		MRU:       1480,
		MTU:       1480,
		Keepalive: 10 * time.Second,
	}
}

func clientConfig(allow ppp.MethodSet) ppp.Config {
	return ppp.Config{
		Role:       ppp.RoleClient,
		User:       testUser,
		Password:   testPassword,
		Allow:      allow,
		RequestDNS: true,
		MRU:        1460,
		MTU:        1460,
		Keepalive:  10 * time.Second,
	}
}

// seeded is a deterministic Rand.
func seeded(seed byte) *rand.ChaCha8 {
	var s [32]byte
	s[0] = seed
	return rand.NewChaCha8(s)
}

func newNet(t testing.TB, ccfg, scfg ppp.Config) *testNet {
	t.Helper()
	n := &testNet{t: t, clk: clock.NewManual(ppptest.Epoch)}
	ccfg.Clock, scfg.Clock = n.clk, n.clk
	if ccfg.Rand == nil {
		ccfg.Rand = seeded(1)
	}
	if scfg.Rand == nil {
		scfg.Rand = seeded(2)
	}
	if os.Getenv("PPP_DEBUG") != "" {
		h := slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})
		ccfg.Logger = slog.New(h).With("side", "client")
		scfg.Logger = slog.New(h).With("side", "server")
	}
	ccfg.OnEvent = func(e ppp.Event) { n.cEvents = append(n.cEvents, e) }
	scfg.OnEvent = func(e ppp.Event) { n.sEvents = append(n.sEvents, e) }
	ccfg.OnPacket = func(p ppp.Protocol, b []byte) {
		if n.countData {
			n.dataCount++
			return
		}
		n.cData = append(n.cData, append([]byte(nil), b...))
	}
	scfg.OnPacket = func(p ppp.Protocol, b []byte) { n.sData = append(n.sData, append([]byte(nil), b...)) }
	var err error
	if n.client, err = ppp.New(ccfg, &wire{n: n, fromClient: true}); err != nil {
		t.Fatal(err)
	}
	if n.server, err = ppp.New(scfg, &wire{n: n}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dumpOnFailure(t, &n.cap) })
	return n
}

// dumpOnFailure writes the capture of a failed test where Wireshark can
// open it.
func dumpOnFailure(t testing.TB, c *ppptest.Capture) {
	if !t.Failed() || c.Len() == 0 {
		return
	}
	name := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())
	path := filepath.Join(os.TempDir(), "ppp-"+name+".pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Logf("pcap: %v", err)
		return
	}
	defer f.Close()
	if err := c.WritePcap(f); err != nil {
		t.Logf("pcap: %v", err)
		return
	}
	t.Logf("packets of the failed exchange: %s", path)
}

// start begins both sessions and lets them talk until quiet.
func (n *testNet) start() {
	n.client.Begin()
	n.server.Begin()
	n.settle()
}

// settle steps both sessions until neither has anything to do.
func (n *testNet) settle() {
	for range 100000 {
		progress := false
		for n.client.Poll() {
			progress = true
		}
		for n.server.Poll() {
			progress = true
		}
		if !progress {
			return
		}
	}
	n.t.Fatal("sessions never settled")
}

// advance moves the clock in steps, letting the sessions act after each
// and at every timer deadline on the way, so that ticks are handled in the
// order they fall due.
func (n *testNet) advance(d, step time.Duration) {
	for elapsed := time.Duration(0); elapsed < d; elapsed += step {
		stepClock(n.clk, step, n.settle)
	}
}

// stepClock advances clk by d, calling settle at each timer deadline.
func stepClock(clk *clock.Manual, d time.Duration, settle func()) {
	for d > 0 {
		next, ok := clk.NextDeadline()
		if !ok || next > d {
			clk.Advance(d)
			settle()
			return
		}
		clk.Advance(next)
		settle()
		d -= next
	}
}

func dead(s *ppp.Session) bool {
	select {
	case <-s.Done():
		return true
	default:
		return false
	}
}

// up brings the pair up and checks that both reached the Network phase.
func (n *testNet) up() {
	n.t.Helper()
	n.start()
	for _, s := range []*ppp.Session{n.client, n.server} {
		if st := s.Status(); st.Phase != ppp.PhaseNetwork || st.IPCP != ppp.StateOpened {
			n.t.Fatalf("not up: phase %s, LCP %s, IPCP %s, err %v", st.Phase, st.LCP, st.IPCP, st.Err)
		}
	}
}

// loseFromServer loses the first k packets of proto with code that the
// server sends.
func (n *testNet) loseFromServer(proto ppp.Protocol, code ppp.Code, k int) {
	n.drop = func(fromClient bool, p ppp.Protocol, b []byte) bool {
		if !fromClient && p == proto && len(b) > 0 && ppp.Code(b[0]) == code && k > 0 {
			k--
			return true
		}
		return false
	}
}

// checkOpened reports either session not in the Network phase with IPCP
// Opened, or ended with an error.
func (n *testNet) checkOpened() {
	n.t.Helper()
	for _, s := range []*ppp.Session{n.client, n.server} {
		if st := s.Status(); st.Phase != ppp.PhaseNetwork || st.IPCP != ppp.StateOpened || st.Err != nil {
			n.t.Errorf("not up: phase %v IPCP %v err %v", st.Phase, st.IPCP, st.Err)
		}
	}
}

// count returns how many captured packets match.
func (n *testNet) count(fromClient bool, proto ppp.Protocol, code ppp.Code) int {
	return countPackets(&n.cap, fromClient, proto, code)
}

func countPackets(c *ppptest.Capture, out bool, proto ppp.Protocol, code ppp.Code) int {
	k := 0
	for _, p := range packets(c) {
		if p.out == out && p.proto == proto && len(p.b) > 0 && ppp.Code(p.b[0]) == code {
			k++
		}
	}
	return k
}

type capPacket struct {
	out   bool
	proto ppp.Protocol
	b     []byte
}

// packets reads a capture back through its pcap form.
func packets(c *ppptest.Capture) []capPacket {
	var sb strings.Builder
	c.WritePcap(&sb)
	b := []byte(sb.String())[24:]
	var out []capPacket
	for len(b) >= 16 {
		n := int(b[8]) | int(b[9])<<8 | int(b[10])<<16 | int(b[11])<<24
		rec := b[16 : 16+n]
		out = append(out, capPacket{out: rec[0] == 1, proto: ppp.Protocol(uint16(rec[1])<<8 | uint16(rec[2])), b: rec[3:]})
		b = b[16+n:]
	}
	return out
}

// recorder is a Sender that keeps what a lone session sends.
type recorder struct {
	sent []capPacket
}

func (r *recorder) SendPPP(p ppp.Protocol, b []byte) error {
	r.sent = append(r.sent, capPacket{out: true, proto: p, b: append([]byte(nil), b...)})
	return nil
}

// last returns the last packet sent of a protocol.
func (r *recorder) last(p ppp.Protocol) []byte {
	for i := len(r.sent) - 1; i >= 0; i-- {
		if r.sent[i].proto == p {
			return r.sent[i].b
		}
	}
	return nil
}

func (r *recorder) reset() { r.sent = r.sent[:0] }

// lone is one session driven by hand: the test plays the peer.
type lone struct {
	t   testing.TB
	clk *clock.Manual
	s   *ppp.Session
	rec *recorder
	ev  []ppp.Event
}

func newLone(t testing.TB, cfg ppp.Config) *lone {
	l := &lone{t: t, clk: clock.NewManual(ppptest.Epoch), rec: &recorder{}}
	cfg.Clock = l.clk
	if cfg.Rand == nil {
		cfg.Rand = seeded(3)
	}
	cfg.OnEvent = func(e ppp.Event) { l.ev = append(l.ev, e) }
	var err error
	if l.s, err = ppp.New(cfg, l.rec); err != nil {
		t.Fatal(err)
	}
	l.s.Begin()
	l.settle()
	return l
}

func (l *lone) settle() {
	for l.s.Poll() {
	}
}

// feed hands the session a packet and lets it answer.
func (l *lone) feed(p ppp.Protocol, b []byte) {
	l.s.Input(p, b)
	l.settle()
}

// pkt builds a control packet.
func pkt(code ppp.Code, id uint8, data ...byte) []byte {
	return ppp.AppendPacket(nil, code, id, data)
}

// openLCP plays a peer that acknowledges the session's Configure-Request
// and sends its own, acknowledged.
func (l *lone) openLCP(peerOpts ...byte) {
	l.t.Helper()
	req := l.rec.last(ppp.ProtoLCP)
	p, err := ppp.ParsePacket(req)
	if err != nil || p.Code() != ppp.CodeConfigureRequest {
		l.t.Fatalf("no LCP Configure-Request sent: %x", req)
	}
	l.feed(ppp.ProtoLCP, pkt(ppp.CodeConfigureAck, p.Identifier(), p.Data()...))
	l.feed(ppp.ProtoLCP, pkt(ppp.CodeConfigureRequest, 1, peerOpts...))
	if st := l.s.Status(); st.LCP != ppp.StateOpened {
		l.t.Fatalf("LCP %s, want Opened (sent %x)", st.LCP, l.rec.last(ppp.ProtoLCP))
	}
}
