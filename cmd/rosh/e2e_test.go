package main

import (
	"net/netip"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"rosh/nstest"
)

// seedAC is SPEC §6's access concentrator configuration.
var seedAC = []string{
	"/ip pool add name=pppoe-pool ranges=10.0.0.2-10.0.0.5",
	"/ppp profile add local-address=10.0.0.1 name=for-pppoe remote-address=pppoe-pool",
	"/ppp secret add name=MT-User password=StrongPass profile=for-pppoe service=pppoe",
	"/interface pppoe-server server add default-profile=for-pppoe disabled=no interface=ether3 service-name=pppoeservice",
}

const seedClient = "/interface pppoe-client add interface=ether2 password=StrongPass service-name=pppoeservice name=PPPoE-Out disabled=no user=MT-User"

func macOf(t *testing.T, ns, ifname string) string {
	out := nstest.Run(t, "ip", "-n", ns, "-br", "link", "show", ifname)
	f := strings.Fields(out)
	if len(f) < 3 {
		t.Fatalf("ip link: %q", out)
	}
	return strings.ToUpper(f[2])
}

var field = func(out, name string) string {
	m := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(name) + `: (.*)$`).FindStringSubmatch(out)
	if m == nil {
		return ""
	}
	return strings.TrimSpace(m[1])
}

// capture records a namespace's interface with tcpdump until the test
// ends; the returned function stops it and returns the pcap's path.
func capture(t *testing.T, ns, ifname string) func() string {
	file := filepath.Join(t.TempDir(), "capture.pcap")
	cmd := nstest.Exec(ns, "tcpdump", "-U", "-n", "-i", ifname, "-w", file)
	if err := cmd.Start(); err != nil {
		t.Fatalf("tcpdump: %v", err)
	}
	time.Sleep(500 * time.Millisecond) // let tcpdump attach before traffic starts
	stopped := false
	stop := func() string {
		if !stopped {
			stopped = true
			// tcpdump drops what is still in its capture ring when it is
			// interrupted: give it a moment to write the last frames.
			time.Sleep(time.Second)
			cmd.Process.Signal(syscall.SIGINT)
			cmd.Wait()
		}
		return file
	}
	t.Cleanup(func() { stop() })
	return stop
}

// TestSeedScenario is SPEC §6 with two rosh processes in two namespaces:
// scan lists both services of the AC, the client connects, monitor and
// /ppp active agree on the address, the capture decodes cleanly, and the
// address returns to the pool when the client leaves.
func TestSeedScenario(t *testing.T) {
	pair := nstest.NewPair(t)
	stopCapture := capture(t, pair.AC, pair.ACIf)
	ac := nstest.StartRosh(t, roshBin, pair.AC)
	ac.Send(seedAC...)
	ac.Send("/interface pppoe-server server add disabled=no interface=ether3 service-name=other")
	cl := nstest.StartRosh(t, roshBin, pair.Client)
	acMAC, clMAC := macOf(t, pair.AC, pair.ACIf), macOf(t, pair.Client, pair.ClientIf)

	// Scanner: one row per service of the AC.
	// A scan takes its whole duration; the next one is sent only after the
	// previous printed its table, so scans never queue up behind each other.
	var scan string
	for try := 0; try < 5 && !strings.Contains(scan, "other"); try++ {
		mark := cl.Out.Len()
		cl.Send("/interface pppoe-client scan ether2 duration=2")
		scan = cl.WaitFor(mark, "MAC-ADDRESS", 20*time.Second)
		time.Sleep(100 * time.Millisecond)
		scan = cl.Out.String()[mark:]
	}
	for _, want := range []string{"pppoeservice", "other", acMAC, "MikroTik", "MAC-ADDRESS"} {
		if !strings.Contains(scan, want) {
			t.Errorf("scan output lacks %q:\n%s", want, scan)
		}
	}

	cl.Send(seedClient)
	mon := cl.Poll("/interface pppoe-client monitor PPPoE-Out once", "status: connected", 30*time.Second)
	local, err := netip.ParseAddr(field(mon, "local-address"))
	if err != nil || local.Less(netip.MustParseAddr("10.0.0.2")) || netip.MustParseAddr("10.0.0.5").Less(local) {
		t.Errorf("local-address %q not in 10.0.0.2-10.0.0.5:\n%s", field(mon, "local-address"), mon)
	}
	if got := field(mon, "remote-address"); got != "10.0.0.1" {
		t.Errorf("remote-address = %q, want 10.0.0.1", got)
	}
	for name, want := range map[string]string{"ac-name": "MikroTik", "ac-mac": acMAC, "service-name": "pppoeservice", "mtu": "1480", "mru": "1480", "active-links": "1"} {
		if got := field(mon, name); got != want {
			t.Errorf("monitor %s = %q, want %q", name, got, want)
		}
	}
	active := ac.Poll("/ppp active print", "MT-User", 10*time.Second)
	if !strings.Contains(active, clMAC) || !strings.Contains(active, local.String()) || !strings.Contains(active, "pppoe") {
		t.Errorf("/ppp active does not show MT-User with %s from %s:\n%s", local, clMAC, active)
	}
	ac.Poll("/interface pppoe-server print", "<pppoe-MT-User>", 5*time.Second)

	// Traffic flows through the tunnel both ways (SPEC §6).
	if out, err := nstest.Exec(pair.Client, "ping", "-c", "3", "-i", "0.2", "-W", "2", "10.0.0.1").CombinedOutput(); err != nil {
		t.Errorf("ping 10.0.0.1 from the client: %v\n%s", err, out)
	}
	if out, err := nstest.Exec(pair.AC, "ping", "-c", "3", "-i", "0.2", "-W", "2", local.String()).CombinedOutput(); err != nil {
		t.Errorf("ping %s from the AC: %v\n%s", local, err, out)
	}
	ac.Poll("/ip pool used print", local.String(), 5*time.Second)
	print := cl.Poll("/interface pppoe-client print", "PPPoE-Out", 5*time.Second)
	if !regexp.MustCompile(`(?m)^ 0 +R +name="PPPoE-Out"`).MatchString(print) {
		t.Errorf("client not flagged R (running):\n%s", print)
	}

	// The client leaves: LCP Terminate and PADT; the AC frees the address.
	if err := cl.Quit(); err != nil {
		t.Fatalf("client quit: %v", err)
	}
	ac.Poll("/ppp active print count-only", "0", 10*time.Second)
	ac.Poll("/ip pool used print count-only", "0", 5*time.Second)

	// Every frame of the session decodes in Wireshark's dissectors.
	file := stopCapture()
	out, err := exec.Command("tshark", "-r", file, "-Y", "_ws.malformed").Output()
	if err != nil {
		t.Fatalf("tshark: %v\n%s", err, out)
	}
	if s := strings.TrimSpace(string(out)); s != "" {
		t.Errorf("tshark finds malformed frames:\n%s", s)
	}
	all, _ := exec.Command("tshark", "-r", file).Output()
	// The client closes gracefully: the AC's Terminate-Ack comes before
	// the client's PADT (RFC 1661 §3.7).
	if ack, padt := strings.Index(string(all), "Termination Ack"), strings.LastIndex(string(all), "PADT"); ack < 0 || padt < ack {
		t.Errorf("no Terminate-Ack before the PADT:\n%s", all)
	}
	for _, want := range []string{"PADI", "PADO", "PADR", "PADS", "PADT", "Configuration Request", "Challenge", "Success", "IPCP", "Termination Request"} {
		if !strings.Contains(string(all), want) {
			t.Errorf("capture lacks %q:\n%s", want, all)
		}
	}
}

// TestKeepaliveFrozenPeer freezes one side with SIGSTOP: the other ends
// the session within 2 × keepalive-timeout + 2 s, and the AC's address
// goes back to the pool. Then the same with the roles swapped.
func TestKeepaliveFrozenPeer(t *testing.T) {
	const keepalive = 2 * time.Second
	limit := 2*keepalive + 2*time.Second
	for _, frozen := range []string{"client", "ac"} {
		t.Run("frozen-"+frozen, func(t *testing.T) {
			pair := nstest.NewPair(t)
			ac := nstest.StartRosh(t, roshBin, pair.AC)
			ac.Send(seedAC...)
			ac.Send("/interface pppoe-server server set 0 keepalive-timeout=2")
			cl := nstest.StartRosh(t, roshBin, pair.Client)
			cl.Send(seedClient, "/interface pppoe-client set PPPoE-Out keepalive-timeout=2")
			cl.Poll("/interface pppoe-client monitor PPPoE-Out once", "status: connected", 30*time.Second)
			ac.Poll("/ppp active print count-only", "1", 5*time.Second)

			victim, watcher := cl, ac
			if frozen == "ac" {
				victim, watcher = ac, cl
			}
			victim.Signal(syscall.SIGSTOP)
			defer victim.Signal(syscall.SIGCONT)
			start := time.Now()
			if frozen == "client" {
				watcher.Poll("/ppp active print count-only", "0", limit+3*time.Second)
				watcher.Poll("/ip pool used print count-only", "0", 2*time.Second)
			} else {
				watcher.Poll("/interface pppoe-client monitor PPPoE-Out once", "status: ", time.Second)
				for {
					mark := watcher.Out.Len()
					watcher.Send("/interface pppoe-client monitor PPPoE-Out once")
					time.Sleep(200 * time.Millisecond)
					if !strings.Contains(watcher.Out.String()[mark:], "connected\n") || strings.Contains(watcher.Out.String()[mark:], "disconnected") || strings.Contains(watcher.Out.String()[mark:], "dialing") {
						break
					}
					if time.Since(start) > limit+3*time.Second {
						t.Fatalf("client still connected %v after the AC froze", time.Since(start))
					}
				}
			}
			took := time.Since(start)
			t.Logf("%s frozen: session ended after %v (limit %v)", frozen, took.Round(100*time.Millisecond), limit)
			if took > limit+time.Second { // one poll interval of slack
				t.Errorf("session ended after %v, want within %v", took, limit)
			}
		})
	}
}
