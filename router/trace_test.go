package router_test

import (
	"flag"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

var updateTrace = flag.Bool("update", false, "rewrite testdata/trace/*.golden")

// seedAC and seedClient are the seed's quick example (SPEC §6), with
// the debug trace of packets turned on.
var (
	seedAC = []string{
		"/system logging add topics=debug,packet",
		"/ip pool add name=pppoe-pool ranges=10.0.0.2-10.0.0.5",
		"/ppp profile add local-address=10.0.0.1 name=for-pppoe remote-address=pppoe-pool",
		"/ppp secret add name=MT-User password=StrongPass profile=for-pppoe service=pppoe",
		"/interface pppoe-server server add default-profile=for-pppoe disabled=no interface=ether3 service-name=pppoeservice",
	}
	seedClient = "/interface pppoe-client add interface=ether2 password=%s service-name=pppoeservice name=PPPoE-Out disabled=no user=MT-User allow=%s"
)

// traceMasks hide what changes from run to run: magic numbers,
// Host-Uniq, AC-Cookie, CHAP challenges and responses, session ids.
var traceMasks = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`magic[ =]0x[0-9a-f]+`), "magic 0xMAGIC"},
	{regexp.MustCompile(`<(host-uniq|ac-cookie) [0-9a-f]+>`), "<$1 XX>"},
	{regexp.MustCompile(`<[0-9a-f]{16,}>, name`), "<VALUE>, name"},
	{regexp.MustCompile(`(PAD[SRT]) id=0x[0-9a-f]{4}`), "$1 id=0xSESS"},
	{regexp.MustCompile(`S=[0-9A-F]{40}`), "S=AUTHENTICATOR"},
}

// packetTrace returns a box's debug,packet lines, masked.
func packetTrace(b *box) []string {
	var out []string
	for _, e := range b.eng.Log.Entries() {
		if !strings.Contains(","+strings.Join(e.Topics, ",")+",", ",packet,") {
			continue
		}
		line := strings.Join(e.Topics, ",") + " " + e.Message
		for _, m := range traceMasks {
			line = m.re.ReplaceAllString(line, m.with)
		}
		out = append(out, line)
	}
	return out
}

// direction keeps the lines of one direction: what a box sent, and what
// it received, are each in a fixed order; how the two interleave depends
// on the scheduler.
func direction(lines []string, dir string) []string {
	var out []string
	for _, l := range lines {
		if strings.Contains(l, ": "+dir+" [") {
			out = append(out, l)
		}
	}
	return out
}

// checkTrace compares a trace with its golden file, direction by
// direction (go test ./router -run Trace -update rewrites it).
func checkTrace(t *testing.T, name string, ac, cl []string) {
	t.Helper()
	path := "../testdata/trace/" + name + ".golden"
	text := "# access concentrator (ether3)\n" + strings.Join(ac, "\n") + "\n# client (PPPoE-Out on ether2)\n" + strings.Join(cl, "\n") + "\n"
	if *updateTrace {
		os.MkdirAll("../testdata/trace", 0o755)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.SplitN(string(data), "# client (PPPoE-Out on ether2)\n", 2)
	if len(parts) != 2 {
		t.Fatalf("%s: no client section", path)
	}
	wantAC := strings.Split(strings.TrimSpace(strings.TrimPrefix(parts[0], "# access concentrator (ether3)\n")), "\n")
	wantCl := strings.Split(strings.TrimSpace(parts[1]), "\n")
	for _, c := range []struct {
		role      string
		got, want []string
	}{{"AC", ac, wantAC}, {"client", cl, wantCl}} {
		for _, dir := range []string{"sent", "rcvd"} {
			g, w := direction(c.got, dir), direction(c.want, dir)
			if strings.Join(g, "\n") != strings.Join(w, "\n") {
				t.Errorf("%s %s lines differ from %s\ngot:\n%s\nwant:\n%s", c.role, dir, path, strings.Join(g, "\n"), strings.Join(w, "\n"))
			}
		}
	}
}

// TestTraceSeedSession: with topics=debug,packet, the whole seed session
// — discovery, LCP, authentication, IPCP, the client's disconnect — is
// logged packet by packet on both sides, decoded pppd-style, and the
// password appears nowhere.
func TestTraceSeedSession(t *testing.T) {
	for _, auth := range []string{"mschap2", "pap"} {
		t.Run(auth, func(t *testing.T) {
			ac, cl := pair(t)
			ac.run(t, seedAC...)
			cl.run(t, "/system logging add topics=debug,packet")
			time.Sleep(100 * time.Millisecond) // the rules reach the log
			cl.run(t, fmt.Sprintf(seedClient, "StrongPass", auth))
			st := waitSettled(t, cl, clientIDs(cl), 20*time.Second)
			for _, s := range st {
				if s.Status != "connected" {
					t.Fatalf("client %s: %s", s.Status, s.LastError)
				}
			}
			cl.run(t, "/interface pppoe-client disable PPPoE-Out")
			waitFor(t, "the AC's session to end", 10*time.Second, func() bool {
				return len(ac.eng.Live().ActiveSessions()) == 0 && strings.Contains(ac.logText(), "rcvd [PADT")
			})
			a, c := packetTrace(ac), packetTrace(cl)
			if all := ac.logText() + cl.logText(); strings.Contains(all, "StrongPass") {
				t.Errorf("password in the log:\n%s", all)
			}
			checkTrace(t, "seed_"+auth, a, c)
		})
	}
}

// TestTraceFailedLogin: a wrong PAP password shows as the AuthReq with
// the password hidden and the AC's AuthNak, and the login failure.
func TestTraceFailedLogin(t *testing.T) {
	ac, cl := pair(t)
	ac.run(t, seedAC...)
	cl.run(t, "/system logging add topics=debug,packet")
	time.Sleep(100 * time.Millisecond)
	cl.run(t, fmt.Sprintf(seedClient, "WrongPass", "pap"))
	waitSettled(t, cl, clientIDs(cl), 20*time.Second)
	waitFor(t, "the AC's AuthNak", 10*time.Second, func() bool { return strings.Contains(ac.logText(), "sent [PAP AuthNak") })
	log := ac.logText() + cl.logText()
	t.Logf("AC:\n%s\nclient:\n%s", ac.logText(), cl.logText())
	for _, want := range []string{
		`<pppoe-02:AB:CD:00:00:02>: rcvd [PAP AuthReq id=0x1 user="MT-User" password=<hidden>]`,
		`login failed: user MT-User from 02:AB:CD:00:00:02, pap: wrong password`,
		`PPPoE-Out: rcvd [PAP AuthNak id=0x1`,
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, "WrongPass") {
		t.Errorf("password in the log:\n%s", log)
	}
}
