package main

import (
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"rosh/nstest"
)

// radiusUsers is the seed's secret moved into FreeRADIUS's users file,
// and a user for each Access-Accept attribute the tests check.
const radiusUsers = `MT-User Cleartext-Password := "StrongPass"
	Class = "seed-class", Acct-Interim-Interval = 1
fixed Cleartext-Password := "pw"
	Framed-IP-Address = 10.0.0.77, Framed-Route = "192.168.77.0/24 0.0.0.0 5", Framed-IP-Netmask = 255.255.255.255
pooled Cleartext-Password := "pw"
	Framed-Pool = "radius-pool"
golden Cleartext-Password := "pw"
	Mikrotik-Group = "gold", Mikrotik-Rate-Limit = "3M/4M"
short Cleartext-Password := "pw"
	Session-Timeout = 3
idle Cleartext-Password := "pw"
	Idle-Timeout = 2
`

// radiusAC is the seed's access concentrator without its local secret,
// asking FreeRADIUS on its loopback instead.
var radiusAC = []string{
	"/ip pool add name=pppoe-pool ranges=10.0.0.2-10.0.0.5",
	"/ip pool add name=radius-pool ranges=10.0.9.2-10.0.9.9",
	"/ip pool add name=gold-pool ranges=10.0.8.2-10.0.8.9",
	"/ppp profile add local-address=10.0.0.1 name=for-pppoe remote-address=pppoe-pool",
	"/ppp profile add local-address=10.0.0.1 name=gold remote-address=gold-pool rate-limit=1M/1M",
	"/radius add service=ppp address=127.0.0.1 secret=testing123",
	"/radius incoming set accept=yes",
	"/ppp aaa set use-radius=yes",
	"/interface pppoe-server server add default-profile=for-pppoe disabled=no interface=ether3 service-name=pppoeservice",
}

// radiusLab is a rosh AC and a rosh client over a veth pair, with
// FreeRADIUS on the AC's loopback.
type radiusLab struct {
	t      *testing.T
	pair   *nstest.Pair
	ac, cl *nstest.Rosh
	fr     *nstest.FreeRADIUS
}

func newRadiusLab(t *testing.T) *radiusLab {
	pair := nstest.NewPair(t)
	fr := nstest.StartFreeRADIUS(t, pair.AC, nstest.RadiusConfig{
		Listen: "127.0.0.1", AuthPort: 1812, AcctPort: 1813, Clients: "127.0.0.0/8", Secret: "testing123",
		Users: radiusUsers, Debug: true,
	})
	ac := nstest.StartRosh(t, roshBin, pair.AC)
	ac.Send(radiusAC...)
	cl := nstest.StartRosh(t, roshBin, pair.Client)
	cl.Send("/interface pppoe-client add interface=ether2 service-name=pppoeservice name=PPPoE-Out disabled=yes user=MT-User password=StrongPass")
	return &radiusLab{t: t, pair: pair, ac: ac, cl: cl, fr: fr}
}

// dial (re)starts the client as user with one method and waits for the
// monitor to show it connected; it returns the monitor's output.
func (l *radiusLab) dial(user, password, method string) string {
	l.t.Helper()
	// From a client that is down, so that the monitor cannot show the
	// previous session.
	l.cl.Send("/interface pppoe-client set PPPoE-Out disabled=yes")
	l.ac.Poll("/ppp active print count-only", "0", 10*time.Second)
	l.cl.Send(fmt.Sprintf("/interface pppoe-client set PPPoE-Out user=%s password=%s allow=%s disabled=no", user, password, method))
	return l.cl.Poll("/interface pppoe-client monitor PPPoE-Out once", "status: connected", 20*time.Second)
}

// hangUp disables the client and waits until the AC has no session.
func (l *radiusLab) hangUp() {
	l.t.Helper()
	l.cl.Send("/interface pppoe-client set PPPoE-Out disabled=yes")
	l.ac.Poll("/ppp active print count-only", "0", 10*time.Second)
}

// inRange reports whether the monitor's local-address is in lo-hi.
func inRange(mon, lo, hi string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(field(mon, "local-address"))
	if err != nil {
		return a, false
	}
	return a, !a.Less(netip.MustParseAddr(lo)) && !netip.MustParseAddr(hi).Less(a)
}

// detailRecords splits FreeRADIUS's detail file into records (attribute
// maps), each with its "Acct-Status-Type".
func detailRecords(text string) []map[string]string {
	var recs []map[string]string
	for _, block := range strings.Split(text, "\n\n") {
		rec := map[string]string{}
		for _, line := range strings.Split(block, "\n") {
			k, v, ok := strings.Cut(strings.TrimSpace(line), " = ")
			if ok {
				rec[k] = strings.Trim(v, `"`)
			}
		}
		if len(rec) > 0 {
			recs = append(recs, rec)
		}
	}
	return recs
}

// waitRecord waits for a detail record matching all of want.
// Only records written after the mark (a length of the file) count.
func (l *radiusLab) waitRecord(fr *nstest.FreeRADIUS, mark int, want map[string]string, timeout time.Duration) map[string]string {
	l.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		text := fr.DetailText()
		if len(text) < mark {
			mark = 0
		}
		for _, r := range detailRecords(text[mark:]) {
			ok := true
			for k, v := range want {
				if r[k] != v {
					ok = false
					break
				}
			}
			if ok {
				return r
			}
		}
		if time.Now().After(deadline) {
			l.t.Fatalf("no accounting record with %v within %v; detail file:\n%s", want, timeout, fr.DetailText())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRadius is issue 9's acceptance against one FreeRADIUS, reused by
// every subtest: the seed's user connects with each method, a wrong
// password is rejected with the server's Reply-Message in the AC's log,
// the Access-Accept decides address and profile, Session-Timeout ends the
// session, accounting counts ping traffic exactly, and radclient's
// Disconnect and CoA act on a running session.
func TestRadius(t *testing.T) {
	l := newRadiusLab(t)

	t.Run("methods", func(t *testing.T) {
		l.t = t
		for _, m := range []string{"pap", "chap", "mschap1", "mschap2"} {
			mon := l.dial("MT-User", "StrongPass", m)
			if a, ok := inRange(mon, "10.0.0.2", "10.0.0.5"); !ok {
				t.Errorf("%s: address %v not from pppoe-pool", m, a)
			}
			l.ac.Poll(`/log print where message~"auth `+m+`"`, "MT-User connected", 5*time.Second)
			active := l.ac.Poll("/ppp active print", "MT-User", 5*time.Second)
			if !regexp.MustCompile(`(?m)^ *0 +R +MT-User`).MatchString(active) {
				t.Errorf("%s: /ppp active does not flag the session R (radius):\n%s", m, active)
			}
			l.hangUp()
		}
	})

	t.Run("latency-metric", func(t *testing.T) {
		// Each of the four logins above was one Access-Request answered:
		// the Prometheus endpoint's latency histogram counted them.
		l.t = t
		l.ac.Send("/ip service set metrics port=19436 disabled=no")
		var text string
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			out, err := nstest.Exec(l.pair.AC, "curl", "-sf", "-m", "5", "http://127.0.0.1:19436/metrics").Output()
			if text = string(out); err == nil {
				break
			}
		}
		if !strings.Contains(text, `rosh_radius_request_duration_seconds_count{kind="access"} 4`+"\n") ||
			!strings.Contains(text, `rosh_radius_request_duration_seconds_bucket{kind="access",le="+Inf"} 4`+"\n") {
			t.Errorf("the RADIUS latency histogram does not count 4 Access-Requests:\n%s", text)
		}
		l.ac.Send("/ip service set metrics disabled=yes")
	})

	t.Run("wrong-password", func(t *testing.T) {
		l.t = t
		l.cl.Send("/interface pppoe-client set PPPoE-Out user=MT-User password=WrongPass allow=mschap2 disabled=no")
		l.ac.Poll(`/log print where message~"login failed"`, "rejected by RADIUS server 127.0.0.1: wrong user name or password", 15*time.Second)
		if mon := l.cl.Poll("/interface pppoe-client monitor PPPoE-Out once", "status:", 5*time.Second); strings.Contains(mon, "status: connected") {
			t.Errorf("connected with a wrong password:\n%s", mon)
		}
		l.cl.Send("/interface pppoe-client set PPPoE-Out disabled=yes")
	})

	t.Run("framed-ip-address", func(t *testing.T) {
		l.t = t
		mon := l.dial("fixed", "pw", "chap")
		if got := field(mon, "local-address"); got != "10.0.0.77" {
			t.Errorf("address %q, want Framed-IP-Address 10.0.0.77", got)
		}
		// Framed-Route: the subscriber's network is routed into its
		// session.
		if out := nstest.Run(t, "ip", "-n", l.pair.AC, "route", "show", "192.168.77.0/24"); !strings.Contains(out, "metric 5") {
			t.Errorf("no route 192.168.77.0/24 metric 5 into the session: %q", out)
		}
		l.hangUp()
	})

	t.Run("framed-pool", func(t *testing.T) {
		l.t = t
		mon := l.dial("pooled", "pw", "pap")
		if a, ok := inRange(mon, "10.0.9.2", "10.0.9.9"); !ok {
			t.Errorf("address %v not from Framed-Pool radius-pool", a)
		}
		l.hangUp()
	})

	t.Run("mikrotik-group", func(t *testing.T) {
		l.t = t
		mon := l.dial("golden", "pw", "mschap2")
		if a, ok := inRange(mon, "10.0.8.2", "10.0.8.9"); !ok {
			t.Errorf("address %v not from profile gold's pool", a)
		}
		// The Access-Accept's Mikrotik-Rate-Limit shapes the session,
		// over profile gold's 1M/1M.
		l.ac.Poll("/queue simple print", "max-limit=3M/4M", 5*time.Second)
		l.hangUp()
	})

	t.Run("session-timeout", func(t *testing.T) {
		l.t = t
		mark := len(l.fr.DetailText())
		l.dial("short", "pw", "pap")
		stop := l.waitRecord(l.fr, mark, map[string]string{"User-Name": "short", "Acct-Status-Type": "Stop"}, 10*time.Second)
		if stop["Acct-Terminate-Cause"] != "Session-Timeout" || stop["Acct-Session-Time"] != "3" {
			t.Errorf("Stop record: cause %q, session time %q; want Session-Timeout after 3 s", stop["Acct-Terminate-Cause"], stop["Acct-Session-Time"])
		}
		l.cl.Send("/interface pppoe-client set PPPoE-Out disabled=yes")
		l.ac.Poll("/ppp active print count-only", "0", 10*time.Second)
	})

	t.Run("idle-timeout", func(t *testing.T) {
		l.t = t
		mark := len(l.fr.DetailText())
		l.dial("idle", "pw", "chap")
		stop := l.waitRecord(l.fr, mark, map[string]string{"User-Name": "idle", "Acct-Status-Type": "Stop"}, 10*time.Second)
		if stop["Acct-Terminate-Cause"] != "Idle-Timeout" {
			t.Errorf("Stop cause %q, want Idle-Timeout", stop["Acct-Terminate-Cause"])
		}
		if s, _ := strconv.Atoi(stop["Acct-Session-Time"]); s < 2 || s > 4 {
			t.Errorf("idle session lasted %d s, want about 2", s)
		}
		l.cl.Send("/interface pppoe-client set PPPoE-Out disabled=yes")
		l.ac.Poll("/ppp active print count-only", "0", 10*time.Second)
	})

	t.Run("accounting", func(t *testing.T) {
		l.t = t
		mark := len(l.fr.DetailText())
		mon := l.dial("MT-User", "StrongPass", "mschap2")
		addr := field(mon, "local-address")
		start := l.waitRecord(l.fr, mark, map[string]string{"User-Name": "MT-User", "Acct-Status-Type": "Start", "Framed-IP-Address": addr}, 5*time.Second)
		id := start["Acct-Session-Id"]
		if start["Class"] != "0x"+fmt.Sprintf("%x", "seed-class") && start["Class"] != "seed-class" {
			t.Errorf("Start record's Class %q, want seed-class echoed", start["Class"])
		}
		if start["NAS-IP-Address"] != "127.0.0.1" {
			t.Errorf("NAS-IP-Address %q, want the address requests leave from, 127.0.0.1", start["NAS-IP-Address"])
		}
		for _, k := range []string{"NAS-Identifier", "NAS-Port", "Calling-Station-Id", "Called-Station-Id"} {
			if start[k] == "" {
				t.Errorf("Start record lacks %s:\n%v", k, start)
			}
		}
		const n = 7
		if out, err := nstest.Exec(l.pair.Client, "ping", "-c", fmt.Sprint(n), "-i", "0.2", "-W", "2", "10.0.0.1").CombinedOutput(); err != nil {
			t.Fatalf("ping: %v\n%s", err, out)
		}
		l.waitRecord(l.fr, mark, map[string]string{"Acct-Session-Id": id, "Acct-Status-Type": "Interim-Update", "Acct-Input-Packets": fmt.Sprint(n)}, 5*time.Second)
		l.hangUp()
		stop := l.waitRecord(l.fr, mark, map[string]string{"Acct-Session-Id": id, "Acct-Status-Type": "Stop"}, 5*time.Second)
		// 84 octets an echo (20 IP + 8 ICMP + 56 data), n each way.
		want := map[string]string{
			"Acct-Input-Packets": fmt.Sprint(n), "Acct-Output-Packets": fmt.Sprint(n),
			"Acct-Input-Octets": fmt.Sprint(84 * n), "Acct-Output-Octets": fmt.Sprint(84 * n),
			"Acct-Input-Gigawords": "0", "Acct-Terminate-Cause": "User-Request",
		}
		for k, v := range want {
			if stop[k] != v {
				t.Errorf("Stop %s = %q, want %q", k, stop[k], v)
			}
		}
	})

	t.Run("disconnect", func(t *testing.T) {
		l.t = t
		mark := len(l.fr.DetailText())
		mon := l.dial("MT-User", "StrongPass", "chap")
		start := l.waitRecord(l.fr, mark, map[string]string{"User-Name": "MT-User", "Acct-Status-Type": "Start", "Framed-IP-Address": field(mon, "local-address")}, 5*time.Second)
		id := start["Acct-Session-Id"]
		// A session that does not exist: NAK, Session-Context-Not-Found.
		out, _ := nstest.Radclient(l.pair.AC, "127.0.0.1:3799", "disconnect", "testing123", `Acct-Session-Id = "nosuch"`)
		if !strings.Contains(out, "Disconnect-NAK") || !strings.Contains(out, "Session-Context-Not-Found") {
			t.Errorf("disconnect of no session:\n%s", out)
		}
		// A wrong secret: silently dropped (RFC 5176 §3.5).
		if out, err := nstest.Radclient(l.pair.AC, "127.0.0.1:3799", "disconnect", "wrongsecret", `Acct-Session-Id = "`+id+`"`); err == nil || strings.Contains(out, "Received") {
			t.Errorf("a request with the wrong secret was answered:\n%s", out)
		}
		began := time.Now()
		out, err := nstest.Radclient(l.pair.AC, "127.0.0.1:3799", "disconnect", "testing123", `Acct-Session-Id = "`+id+`"`)
		if err != nil || !strings.Contains(out, "Disconnect-ACK") {
			t.Fatalf("disconnect: %v\n%s", err, out)
		}
		stop := l.waitRecord(l.fr, mark, map[string]string{"Acct-Session-Id": id, "Acct-Status-Type": "Stop"}, 5*time.Second)
		if took := time.Since(began); took > time.Second {
			t.Errorf("the session ended %v after the Disconnect-Request, want within 1 s", took)
		}
		if stop["Acct-Terminate-Cause"] != "Admin-Reset" {
			t.Errorf("Stop cause %q, want Admin-Reset", stop["Acct-Terminate-Cause"])
		}
		l.cl.Send("/interface pppoe-client set PPPoE-Out disabled=yes")
		l.ac.Poll("/ppp active print count-only", "0", 10*time.Second)
	})

	t.Run("coa-session-timeout", func(t *testing.T) {
		l.t = t
		mark := len(l.fr.DetailText())
		mon := l.dial("MT-User", "StrongPass", "pap")
		addr := field(mon, "local-address")
		start := l.waitRecord(l.fr, mark, map[string]string{"User-Name": "MT-User", "Acct-Status-Type": "Start", "Framed-IP-Address": addr}, 5*time.Second)
		out, err := nstest.Radclient(l.pair.AC, "127.0.0.1:3799", "coa", "testing123", "Framed-IP-Address = "+addr, "Session-Timeout = 2", `Mikrotik-Rate-Limit = "1M/2M"`)
		if err != nil || !strings.Contains(out, "CoA-ACK") {
			t.Fatalf("coa: %v\n%s", err, out)
		}
		// The CoA's rate limit shapes the running session (it ends 2 s
		// after the CoA).
		l.ac.Poll("/queue simple print", "max-limit=1M/2M", 1500*time.Millisecond)
		stop := l.waitRecord(l.fr, mark, map[string]string{"Acct-Session-Id": start["Acct-Session-Id"], "Acct-Status-Type": "Stop"}, 6*time.Second)
		if stop["Acct-Terminate-Cause"] != "Session-Timeout" {
			t.Errorf("Stop cause %q, want Session-Timeout from the CoA", stop["Acct-Terminate-Cause"])
		}
		if s, _ := strconv.Atoi(stop["Acct-Session-Time"]); s > 5 {
			t.Errorf("session lasted %d s after a CoA of Session-Timeout 2", s)
		}
		l.cl.Send("/interface pppoe-client set PPPoE-Out disabled=yes")
		l.ac.Poll("/ppp active print count-only", "0", 10*time.Second)
	})

	// A Stop record made while the server is down arrives once it is
	// back (RFC 2866 §2: retried until acknowledged).
	t.Run("accounting-survives-restart", func(t *testing.T) {
		l.t = t
		mark := len(l.fr.DetailText())
		mon := l.dial("MT-User", "StrongPass", "pap")
		start := l.waitRecord(l.fr, mark, map[string]string{"User-Name": "MT-User", "Acct-Status-Type": "Start", "Framed-IP-Address": field(mon, "local-address")}, 5*time.Second)
		l.fr.Stop()
		l.hangUp()
		time.Sleep(2 * time.Second) // a few failed rounds
		l.fr.Start()
		l.waitRecord(l.fr, mark, map[string]string{"Acct-Session-Id": start["Acct-Session-Id"], "Acct-Status-Type": "Stop"}, 10*time.Second)
	})

	t.Run("failover", func(t *testing.T) {
		l.t = t
		second := nstest.StartFreeRADIUS(t, l.pair.AC, nstest.RadiusConfig{
			Listen: "127.0.0.2", AuthPort: 1812, AcctPort: 1813, Clients: "127.0.0.0/8", Secret: "second",
			Users: radiusUsers,
		})
		l.ac.Send("/radius add service=ppp address=127.0.0.2 secret=second",
			"/ppp secret add name=local password=localpw profile=for-pppoe service=pppoe")
		l.fr.Stop()
		mon := l.dial("MT-User", "StrongPass", "mschap2")
		l.waitRecord(second, 0, map[string]string{"User-Name": "MT-User", "Acct-Status-Type": "Start", "Framed-IP-Address": field(mon, "local-address")}, 5*time.Second)
		l.hangUp()

		// No server at all: the local secret still connects, a RADIUS
		// user fails with the reason in the log.
		second.Stop()
		l.dial("local", "localpw", "mschap2")
		l.hangUp()
		l.cl.Send("/interface pppoe-client set PPPoE-Out user=MT-User password=StrongPass allow=pap disabled=no")
		l.ac.Poll(`/log print where message~"login failed"`, "RADIUS server not responding (tried 127.0.0.1, 127.0.0.2)", 20*time.Second)
		l.cl.Poll("/interface pppoe-client monitor PPPoE-Out once", "RADIUS server not responding", 10*time.Second)
		l.cl.Send("/interface pppoe-client set PPPoE-Out disabled=yes")
	})
}
