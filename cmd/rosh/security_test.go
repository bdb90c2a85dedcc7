package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"rosh/emulate"
	"rosh/link"
	"rosh/nstest"
	"rosh/ppp"
	"rosh/pppoe"
)

// clientPort opens the client namespace's end of the veth from the test
// process, promiscuous so that frames for the emulated MACs come up.
func clientPort(t *testing.T, pair *nstest.Pair) *link.Port {
	return nsPort(t, pair.Client, pair.ClientIf)
}

// nsPort opens ifname in namespace ns from the test process, promiscuous.
func nsPort(t *testing.T, ns, ifname string) *link.Port {
	l := nstest.OpenPcap(t, ns, ifname, link.PcapOptions{Promiscuous: true})
	p := link.NewPort(l)
	t.Cleanup(func() { p.Close() })
	return p
}

// login is one subscriber's attempt with rosh's own client engine (the
// emulator with one subscriber) from mac: how long it took to come up, or
// why it did not. The session is hung up at once.
func login(t *testing.T, port *link.Port, mac pppoe.MAC, password string) (time.Duration, string) {
	e, err := emulate.Start(port, emulate.Config{
		Sessions: 1, BaseMAC: mac, UserPattern: "MT-User", Password: password, Allow: ppp.MethodSet(0),
		ServiceName: "pppoeservice", SetupTimeout: 10 * time.Second, TeardownTimeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	e.Wait(ctx, func(s emulate.Stats) bool { return s.Settled(1) })
	rep := e.Stop()
	if rep.Established == 1 {
		return rep.SetupMax, ""
	}
	for why := range rep.Failures {
		return 0, why
	}
	return 0, "no outcome"
}

// TestAuthBackoff: one MAC hammers the AC with a wrong password while
// another logs in. The hammering MAC's failures are slowed down by the
// per-host back-off (1 s after the third failure in a row, then 2 s, 4 s
// …), its attempts in between refused without a password check, each
// logged; the other MAC comes up as fast as it did before the hammering.
func TestAuthBackoff(t *testing.T) {
	pair := nstest.NewPair(t)
	ac := nstest.StartRosh(t, roshBin, pair.AC)
	ac.Send(seedAC...)
	ac.Poll("/interface pppoe-server server print count-only", "1", 5*time.Second)
	port := clientPort(t, pair)
	good, bad := pppoe.MAC{0x02, 0, 0, 0, 0x0a, 0x01}, pppoe.MAC{0x02, 0, 0, 0, 0x0b, 0x01}

	var base time.Duration
	for range 3 { // the first login also waits for the AC to be ready
		d, why := login(t, port, good, "StrongPass")
		if why == "" {
			base = d
		}
	}
	if base == 0 {
		t.Fatal("the good subscriber does not come up before any hammering")
	}

	const hammer = 8 * time.Second
	var attempts int
	var wg sync.WaitGroup
	wg.Add(1)
	start := time.Now()
	go func() {
		defer wg.Done()
		for time.Since(start) < hammer {
			if _, why := login(t, port, bad, "guess"); why == "" {
				t.Error("the wrong password was taken")
			}
			attempts++
			time.Sleep(50 * time.Millisecond) // 20 a second: the log's 1,000 lines hold them all
		}
	}()
	time.Sleep(3 * time.Second) // the bad MAC is shut out by now
	during, why := login(t, port, good, "StrongPass")
	wg.Wait()
	t.Logf("good subscriber up in %v before the hammering, %v during it; the bad MAC tried %d times in %v",
		base.Round(time.Millisecond), during.Round(time.Millisecond), attempts, hammer)
	if why != "" {
		t.Fatalf("the good subscriber failed during the hammering: %s", why)
	}
	if during > base+time.Second || during > 2*time.Second {
		t.Errorf("the good subscriber took %v during the hammering, %v before", during, base)
	}

	log := ac.Poll(`/log print where message~"02:00:00:00:0B:01"`, "refused", 5*time.Second)
	badMAC := "02:00:00:00:0B:01"
	failed := regexp.MustCompile(`login failed: user MT-User from `+badMAC).FindAllString(log, -1)
	refusals := regexp.MustCompile(`login refused: user MT-User from `+badMAC).FindAllString(log, -1)
	var refused int
	for _, m := range regexp.MustCompile(`and (\d+) refused unchecked`).FindAllStringSubmatch(log, -1) {
		n, _ := strconv.Atoi(m[1])
		refused += n
	}
	t.Logf("the bad MAC: %d logins checked and failed, %d refused unchecked, %d refusal lines logged", len(failed), refused, len(refusals))
	// In 8 s: 3 free failures, then one after 1 s, 2 s and 4 s shut out.
	if len(failed) < 3 || len(failed) > 6 {
		t.Errorf("%d failed logins checked in %v, want 3..6 with the back-off:\n%s", len(failed), hammer, log)
	}
	// Each shut-out window logs its first refusal only; the failure
	// that ends it counts the others.
	if refused == 0 || len(refusals) > len(failed) {
		t.Errorf("%d attempts, %d failed, %d refused, %d refusal lines:\n%s", attempts, len(failed), refused, len(refusals), log)
	}
	for i, wait := range []string{"1s", "2s"} {
		if want := regexp.MustCompile(fmt.Sprintf(`%s: %d failed logins in a row( \(and \d+ refused unchecked\))?: logins from it refused for %s`, badMAC, i+3, wait)); !want.MatchString(log) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	if all := ac.Poll("/log print", "connected from", time.Second); strings.Contains(all, "refused: user MT-User from 02:00:00:00:0A:01") {
		t.Errorf("the good subscriber was refused:\n%s", all)
	}
}

// waitLines sends line until its output holds want at least n times.
func waitLines(t *testing.T, r *nstest.Rosh, line, want string, n int, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		mark := r.Out.Len()
		r.Send(line)
		time.Sleep(300 * time.Millisecond)
		out := r.Out.String()[mark:]
		if strings.Count(out, want) >= n {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("%q printed %q %d times in %v, want %d:\n%s", line, want, strings.Count(out, want), timeout, n, out)
		}
	}
}

// TestPasswordsNotLogged logs in with a wrong password and then the right
// one with each method, rosh against rosh, and looks for either password
// in everything both wrote: their logs and their output.
func TestPasswordsNotLogged(t *testing.T) {
	pair := nstest.NewPair(t)
	ac := nstest.StartRosh(t, roshBin, pair.AC)
	cl := nstest.StartRosh(t, roshBin, pair.Client)
	// The packet trace too: no password in it either.
	ac.Send("/system logging add topics=debug")
	cl.Send("/system logging add topics=debug")
	const right = "R1ght-Pass-7q"
	ac.Send(
		"/ip pool add name=pppoe-pool ranges=10.0.0.2-10.0.0.5",
		"/ppp profile add local-address=10.0.0.1 name=for-pppoe remote-address=pppoe-pool",
		"/ppp secret add name=MT-User password="+right+" profile=for-pppoe service=pppoe",
		"/interface pppoe-server server add default-profile=for-pppoe disabled=no interface=ether3 service-name=pppoeservice",
	)
	var secrets []string
	for i, m := range []string{"pap", "chap", "mschap1", "mschap2"} {
		wrong := "Wr0ng-" + m + "-Pass-3x"
		secrets = append(secrets, wrong)
		ac.Send("/interface pppoe-server server set 0 authentication=" + m)
		if i == 0 {
			cl.Send("/interface pppoe-client add interface=ether2 service-name=pppoeservice name=out user=MT-User allow=" + m + " password=" + wrong + " disabled=no")
		} else {
			cl.Send("/interface pppoe-client set out allow=" + m + " password=" + wrong + " disabled=no")
		}
		waitLines(t, ac, "/log print", m+": wrong password", 1, 30*time.Second)
		cl.Send("/interface pppoe-client set out password=" + right)
		cl.Poll("/interface pppoe-client monitor out once", "status: connected", 30*time.Second)
		cl.Send("/interface pppoe-client set out disabled=yes")
		ac.Poll("/ppp active print count-only", "0", 10*time.Second)
		cl.Send("/interface pppoe-client set out disabled=no")
		cl.Poll("/interface pppoe-client monitor out once", "status: connected", 30*time.Second)
		cl.Send("/interface pppoe-client set out disabled=yes")
		ac.Poll("/ppp active print count-only", "0", 10*time.Second)
	}
	secrets = append(secrets, right)
	acLog := ac.Poll("/log print", "connected", 5*time.Second)
	cl.Poll("/log print", "connected", 5*time.Second) // both logs end up in the outputs searched
	for _, want := range []string{"pap", "chap", "mschap1", "mschap2"} {
		if !strings.Contains(acLog, "auth "+want) {
			t.Errorf("the AC's log shows no %s login:\n%s", want, acLog)
		}
	}
	for name, text := range map[string]string{"AC": ac.Out.String(), "client": cl.Out.String()} {
		for _, pw := range secrets {
			if strings.Contains(text, pw) {
				t.Errorf("the %s's output holds the password %q", name, pw)
			}
		}
	}
}

// mustMAC parses a MAC as macOf prints it.
func mustMAC(t *testing.T, s string) pppoe.MAC {
	hw, err := net.ParseMAC(s)
	m, ok := pppoe.MACFrom(hw)
	if err != nil || !ok {
		t.Fatalf("MAC %q: %v", s, err)
	}
	return m
}

func marshal(t *testing.T, p *pppoe.Packet) []byte {
	b, err := p.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSpoofedFramesIgnored: with a session up between two rosh routers,
// a third host sends each side raw frames carrying the session's id — an
// LCP Terminate-Request, an IPCP Configure-Request, an IPv4 packet and a
// PADT — from its own MAC. Neither side ends or changes the session; both
// count the frames in their logs. Then the client redials while the third
// host answers it with forged PADOs and PADSes that do not carry its
// Host-Uniq: it ignores them, counts them, and connects to the real AC.
func TestSpoofedFramesIgnored(t *testing.T) {
	pair := nstest.NewPair(t)
	ac := nstest.StartRosh(t, roshBin, pair.AC)
	// The drop counters are logged at pppoe,debug.
	ac.Send("/system logging add topics=pppoe,debug,!packet")
	ac.Send(seedAC...)
	cl := nstest.StartRosh(t, roshBin, pair.Client)
	cl.Send("/system logging add topics=pppoe,debug,!packet")
	cl.Send(seedClient)
	cl.Poll("/interface pppoe-client monitor PPPoE-Out once", "status: connected", 30*time.Second)
	detail := ac.Poll("/ppp active print detail", "session-id=", 10*time.Second)
	m := regexp.MustCompile(`session-id=0x([0-9A-F]+)`).FindStringSubmatch(detail)
	if m == nil {
		t.Fatalf("no session-id in /ppp active:\n%s", detail)
	}
	id64, _ := strconv.ParseUint(m[1], 16, 16)
	id := uint16(id64)
	acMAC, clMAC := mustMAC(t, macOf(t, pair.AC, pair.ACIf)), mustMAC(t, macOf(t, pair.Client, pair.ClientIf))
	evil := pppoe.MAC{0x02, 0x66, 0x66, 0x66, 0x66, 0x66}
	// A frame for the AC goes out of the client's end of the veth, one
	// for the client out of the AC's end.
	toAC, toClient := clientPort(t, pair), nsPort(t, pair.AC, pair.ACIf)
	sender := map[pppoe.MAC]*link.Port{acMAC: toAC, clMAC: toClient}

	session := func(dst pppoe.MAC, proto ...byte) []byte {
		return marshal(t, &pppoe.Packet{Ethernet: pppoe.Ethernet{Dst: dst, Src: evil, EtherType: pppoe.EtherTypeSession},
			Code: pppoe.CodeSession, SessionID: id, Payload: proto})
	}
	padt := func(dst pppoe.MAC) []byte {
		return marshal(t, &pppoe.Packet{Ethernet: pppoe.Ethernet{Dst: dst, Src: evil, EtherType: pppoe.EtherTypeDiscovery},
			Code: pppoe.CodePADT, SessionID: id, Tags: pppoe.Tags{{Type: pppoe.TagGenericError, Value: []byte("spoofed")}}})
	}
	for _, dst := range []pppoe.MAC{acMAC, clMAC} {
		for _, f := range [][]byte{
			session(dst, 0xc0, 0x21, 5, 0x42, 0, 4),                           // LCP Terminate-Request
			session(dst, 0x80, 0x21, 1, 0x42, 0, 10, 3, 6, 10, 9, 9, 9),       // IPCP Configure-Request
			session(dst, 0x00, 0x21, 0x45, 0, 0, 20, 0, 0, 0, 0, 64, 1, 0, 0), // IPv4
			padt(dst),
		} {
			if err := sender[dst].WriteFrame(f); err != nil {
				t.Fatal(err)
			}
		}
	}
	acLog := waitLines(t, ac, "/log print", "dropped 3 session frames from a MAC not the session's (total 3), 1 PADTs from a MAC not the session's (total 1)", 1, 5*time.Second)
	clLog := waitLines(t, cl, "/log print", "dropped 3 session frames from a MAC not the access concentrator's (total 3), 1 PADTs from a MAC not the access concentrator's (total 1)", 1, 5*time.Second)
	if strings.Contains(acLog, "disconnected") || strings.Contains(clLog, "disconnected") {
		t.Errorf("the session ended:\nAC:\n%s\nclient:\n%s", acLog, clLog)
	}
	if again := ac.Poll("/ppp active print detail", "session-id=", 5*time.Second); !strings.Contains(again, "session-id=0x"+m[1]) {
		t.Errorf("the session changed:\n%s", again)
	}
	cl.Poll("/interface pppoe-client monitor PPPoE-Out once", "status: connected", time.Second)

	// Forged offers: while the client redials, the third host answers its
	// MAC with a PADO and a PADS every 5 ms, with a Host-Uniq not its own.
	stop := make(chan struct{})
	done := make(chan int)
	go func() {
		tags := pppoe.Tags{{Type: pppoe.TagServiceName, Value: []byte("pppoeservice")}, {Type: pppoe.TagACName, Value: []byte("evil")},
			{Type: pppoe.TagHostUniq, Value: []byte("not-yours")}, {Type: pppoe.TagACCookie, Value: []byte("0123456789abcdef0123")}}
		pado := marshal(t, &pppoe.Packet{Ethernet: pppoe.Ethernet{Dst: clMAC, Src: evil, EtherType: pppoe.EtherTypeDiscovery}, Code: pppoe.CodePADO, Tags: tags})
		pads := marshal(t, &pppoe.Packet{Ethernet: pppoe.Ethernet{Dst: clMAC, Src: evil, EtherType: pppoe.EtherTypeDiscovery}, Code: pppoe.CodePADS, SessionID: 0x6666, Tags: tags})
		n := 0
		for {
			select {
			case <-stop:
				done <- n
				return
			case <-time.After(5 * time.Millisecond):
			}
			toClient.WriteFrame(pado)
			toClient.WriteFrame(pads)
			n += 2
		}
	}()
	// The real AC stops serving for a while, so the client dials with
	// nothing but forged answers around.
	cl.Send("/interface pppoe-client set PPPoE-Out disabled=yes")
	ac.Poll("/ppp active print count-only", "0", 10*time.Second)
	ac.Send("/interface pppoe-server server disable 0")
	cl.Send("/interface pppoe-client set PPPoE-Out disabled=no")
	clLog = waitLines(t, cl, "/log print", "PADOs/PADSes with a foreign Host-Uniq", 1, 10*time.Second)
	if st := field(cl.Poll("/interface pppoe-client monitor PPPoE-Out once", "status:", 5*time.Second), "status"); st == "connected" {
		t.Errorf("the client connected with only forged offers around")
	}
	ac.Send("/interface pppoe-server server enable 0")
	mon := cl.Poll("/interface pppoe-client monitor PPPoE-Out once", "status: connected", 30*time.Second)
	close(stop)
	forged := <-done
	if got := field(mon, "ac-mac"); got != strings.ToUpper(acMAC.String()) {
		t.Errorf("connected to %s, not the AC %s:\n%s", got, acMAC, mon)
	}
	if got := field(mon, "ac-name"); got != "MikroTik" {
		t.Errorf("ac-name %q:\n%s", got, mon)
	}
	t.Logf("%d forged PADOs/PADSes sent; the client's log says:\n%s", forged,
		strings.Join(regexp.MustCompile(`.*dropped.*`).FindAllString(clLog, -1), "\n"))
}

// rss is the resident set of process pid, in bytes.
func rss(t *testing.T, pid int) uint64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`VmRSS:\s+(\d+) kB`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no VmRSS in /proc/%d/status", pid)
	}
	kb, _ := strconv.ParseUint(string(m[1]), 10, 64)
	return kb << 10
}

// TestDiscoveryFlood: 20 subscribers are up with 2 s keepalives on both
// sides when a third host floods the AC for 10 s with PADIs from random
// MACs at 20,000 a second, and PADRs with forged AC-Cookies at 2,000 a
// second. No subscriber loses its session, a new one comes up within 2 s
// in the middle of the flood, the forged PADRs are counted and cost no
// session, and the AC's resident memory stays flat (RFC 2516 §5.2's
// AC-Cookie: the AC keeps no state for a PADI or a PADR it did not issue
// a cookie for).
func TestDiscoveryFlood(t *testing.T) {
	const (
		subscribers = 20
		padiRate    = 20_000
		padrRate    = 2_000
		flood       = 10 * time.Second
		rssLimit    = 16 << 20
	)
	pair := nstest.NewPair(t)
	ac := nstest.StartRosh(t, roshBin, pair.AC)
	ac.Send(
		"/system logging add topics=pppoe,debug,!packet", // the drop counters
		"/ip pool add name=subs ranges=10.0.0.2-10.0.0.250",
		"/ppp profile add local-address=10.0.0.1 name=subs remote-address=subs",
		"/ppp secret add name=MT-User password=StrongPass profile=subs service=pppoe",
		"/interface pppoe-server server add default-profile=subs disabled=no interface=ether3 service-name=pppoeservice keepalive-timeout=2",
	)
	ac.Poll("/interface pppoe-server server print count-only", "1", 5*time.Second)
	port := clientPort(t, pair)
	acMAC := mustMAC(t, macOf(t, pair.AC, pair.ACIf))

	subs, err := emulate.Start(port, emulate.Config{
		Sessions: subscribers, BaseMAC: pppoe.MAC{0x02, 0, 0, 0x5b, 0, 1}, UserPattern: "MT-User", Password: "StrongPass",
		ServiceName: "pppoeservice", Keepalive: 2 * time.Second, SetupTimeout: 20 * time.Second, TeardownTimeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := subs.Wait(ctx, func(s emulate.Stats) bool { return s.Settled(subscribers) }); err != nil || subs.Stats().Up != subscribers {
		t.Fatalf("%d of %d subscribers up (%v)", subs.Stats().Up, subscribers, err)
	}
	defer subs.Stop()
	ac.Poll("/ppp active print count-only", fmt.Sprint(subscribers), 5*time.Second)
	time.Sleep(2 * time.Second) // a keepalive round, then the baseline
	before := rss(t, ac.Pid())

	// The flood, paced per millisecond: PADIs from random MACs, and PADRs
	// from random MACs echoing a cookie of the AC's size that it never
	// made.
	padi := marshal(t, &pppoe.Packet{Ethernet: pppoe.Ethernet{Dst: pppoe.Broadcast, EtherType: pppoe.EtherTypeDiscovery},
		Code: pppoe.CodePADI, Tags: pppoe.Tags{{Type: pppoe.TagServiceName}, {Type: pppoe.TagHostUniq, Value: []byte("flood")}}})
	padr := marshal(t, &pppoe.Packet{Ethernet: pppoe.Ethernet{Dst: acMAC, EtherType: pppoe.EtherTypeDiscovery},
		Code: pppoe.CodePADR, Tags: pppoe.Tags{{Type: pppoe.TagServiceName, Value: []byte("pppoeservice")},
			{Type: pppoe.TagHostUniq, Value: []byte("flood")}, {Type: pppoe.TagACCookie, Value: make([]byte, 20)}}})
	cookie := len(padr) - 20
	var sentPADI, sentPADR int
	var peak uint64
	floodDone := make(chan time.Duration)
	go func() {
		rng := rand.New(rand.NewPCG(7, 7))
		start := time.Now()
		randomSrc := func(f []byte) {
			binary.BigEndian.PutUint32(f[6:], rng.Uint32())
			binary.BigEndian.PutUint16(f[10:], uint16(rng.Uint32()))
			f[6] = f[6]&0xfc | 0x02 // locally administered unicast
		}
		for ms := 0; time.Since(start) < flood; ms++ {
			// What is due by now, so a late wake-up is caught up on.
			due := time.Since(start).Seconds()
			for range int(due*padiRate) - sentPADI {
				randomSrc(padi)
				if port.WriteFrame(padi) == nil {
					sentPADI++
				}
			}
			for range int(due*padrRate) - sentPADR {
				randomSrc(padr)
				binary.BigEndian.PutUint64(padr[cookie:], rng.Uint64())
				if port.WriteFrame(padr) == nil {
					sentPADR++
				}
			}
			if ms%500 == 0 {
				peak = max(peak, rss(t, ac.Pid()))
			}
			if wait := time.Until(start.Add(time.Duration(ms+1) * time.Millisecond)); wait > 0 {
				time.Sleep(wait)
			}
		}
		floodDone <- time.Since(start)
	}()
	time.Sleep(3 * time.Second)
	newcomer, why := login(t, port, pppoe.MAC{0x02, 0, 0, 0x5c, 0, 1}, "StrongPass")
	took := <-floodDone
	time.Sleep(time.Second) // the AC drains its queues
	after := rss(t, ac.Pid())
	st := subs.Stats()
	log := waitLines(t, ac, "/log print", "PADRs with a missing or forged AC-Cookie", 1, 5*time.Second)
	var badCookies int
	for _, m := range regexp.MustCompile(`dropped (\d+) PADRs with a missing or forged AC-Cookie`).FindAllStringSubmatch(log, -1) {
		n, _ := strconv.Atoi(m[1])
		badCookies += n
	}
	var queueDrops int
	for _, m := range regexp.MustCompile(`dropped (?:.*, )?(\d+) discovery frames to full queues`).FindAllStringSubmatch(log, -1) {
		n, _ := strconv.Atoi(m[1])
		queueDrops += n
	}
	t.Logf("flood: %d PADIs (%.0f/s) and %d forged PADRs (%.0f/s) in %v; the AC dropped %d PADRs for their cookie, %d discovery frames to its full queues",
		sentPADI, float64(sentPADI)/took.Seconds(), sentPADR, float64(sentPADR)/took.Seconds(), took.Round(time.Millisecond), badCookies, queueDrops)
	t.Logf("AC RSS before %.1f MiB, peak %.1f MiB, after %.1f MiB; newcomer up in %v during the flood; %d/%d subscribers up, %d lost",
		float64(before)/(1<<20), float64(peak)/(1<<20), float64(after)/(1<<20), newcomer.Round(time.Millisecond), st.Up, subscribers, st.Lost)

	if why != "" {
		t.Errorf("a new subscriber could not log in during the flood: %s", why)
	} else if newcomer > 2*time.Second {
		t.Errorf("a new subscriber took %v to come up during the flood, want < 2s", newcomer)
	}
	if st.Lost != 0 || st.Up != subscribers {
		t.Errorf("%d subscribers lost their session during the flood, %d up", st.Lost, st.Up)
	}
	if growth := int64(max(after, peak)) - int64(before); growth > rssLimit {
		t.Errorf("the AC's RSS grew by %.1f MiB over the flood (limit %d MiB)", float64(growth)/(1<<20), rssLimit>>20)
	}
	if sentPADI < padiRate*int(flood/time.Second)/2 {
		t.Errorf("only %d PADIs sent in %v: the test did not flood", sentPADI, took)
	}
	if badCookies < sentPADR/2 {
		t.Errorf("the AC counted %d forged PADRs of %d sent", badCookies, sentPADR)
	}
	if n := ac.Poll("/ppp active print count-only", "", time.Second); !strings.Contains(n, fmt.Sprint(subscribers)) {
		t.Errorf("/ppp active after the flood: %s, want %d (the newcomer hung up)", n, subscribers)
	}
}
