package main

import (
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"rosh/nstest"
)

// tunName finds the TUN device rosh made in a namespace (the only one).
func tunName(t *testing.T, ns string) string {
	t.Helper()
	out := nstest.Run(t, "ip", "-n", ns, "-o", "link", "show", "type", "tun")
	m := regexp.MustCompile(`^\d+: ([^:@]+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no TUN device in %s:\n%s", ns, out)
	}
	return m[1]
}

// TestDataPlane: routes, iperf3 both ways, MSS clamping seen on a capture,
// and every TUN and route gone when rosh exits.
func TestDataPlane(t *testing.T) {
	pair := nstest.NewPair(t)
	ac := nstest.StartRosh(t, roshBin, pair.AC)
	ac.Send(seedAC...)
	cl := nstest.StartRosh(t, roshBin, pair.Client)
	cl.Send(seedClient, "/interface pppoe-client set PPPoE-Out add-default-route=yes default-route-distance=7")
	cl.Poll("/interface pppoe-client monitor PPPoE-Out once", "status: connected", 30*time.Second)
	clTun, acTun := tunName(t, pair.Client), tunName(t, pair.AC)

	routes := nstest.Run(t, "ip", "-n", pair.Client, "route")
	if !regexp.MustCompile(`default dev ` + regexp.QuoteMeta(clTun) + `.* metric 7`).MatchString(routes) {
		t.Errorf("no default route via %s with metric 7:\n%s", clTun, routes)
	}

	// iperf3 both ways through the tunnel.
	srv := nstest.Exec(pair.AC, "iperf3", "-s", "-1", "-B", "10.0.0.1")
	if err := srv.Start(); err != nil {
		t.Fatalf("iperf3 server: %v", err)
	}
	time.Sleep(300 * time.Millisecond)
	for _, dir := range [][]string{nil, {"-R"}} {
		args := append([]string{"-c", "10.0.0.1", "-t", "2", "-f", "m"}, dir...)
		out, err := nstest.Exec(pair.Client, "iperf3", args...).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "receiver") {
			t.Errorf("iperf3 %v: %v\n%s", dir, err, out)
		} else if m := regexp.MustCompile(`([\d.]+) Mbits/sec.*receiver`).FindStringSubmatch(string(out)); m != nil {
			t.Logf("iperf3 %v through the tunnel: %s Mbit/s", dir, m[1])
		}
		if dir == nil { // the one-shot server ends after one test
			srv.Wait()
			srv = nstest.Exec(pair.AC, "iperf3", "-s", "-1", "-B", "10.0.0.1")
			srv.Start()
			time.Sleep(300 * time.Millisecond)
		}
	}
	srv.Wait()

	// change-tcp-mss: the client's kernel is told to announce MSS 1460
	// (advmss), and the SYN that leaves the tunnel at the AC carries
	// MTU-40 = 1440.
	nstest.Run(t, "ip", "-n", pair.Client, "route", "replace", "10.0.0.1", "dev", clTun, "advmss", "1460")
	pcap := t.TempDir() + "/syn.pcap"
	dump := nstest.Exec(pair.AC, "tcpdump", "-U", "-n", "-i", acTun, "-w", pcap, "tcp[tcpflags] & tcp-syn != 0")
	listening := &nstest.Output{}
	dump.Stderr = listening
	dump.Start()
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(listening.String(), "listening on"); {
		if time.Now().After(deadline) {
			t.Fatalf("tcpdump did not start: %s", listening.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	for range 3 { // SYNs to a closed port; three, in case the machine is slow
		nstest.Exec(pair.Client, "bash", "-c", "exec 3<>/dev/tcp/10.0.0.1/9 ; true").Run()
		time.Sleep(300 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	dump.Process.Signal(syscall.SIGINT)
	dump.Wait()
	out, err := exec.Command("tshark", "-r", pcap, "-T", "fields", "-e", "tcp.options.mss_val").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	mss := strings.Fields(string(out))
	if len(mss) == 0 {
		t.Fatalf("no SYN captured on %s", acTun)
	}
	if mss[0] != "1440" {
		t.Errorf("SYN left the tunnel with MSS %s, want 1440 (MTU 1480 - 40)", mss[0])
	}

	// Removing the client removes its interface and route.
	cl.Send("/interface pppoe-client remove PPPoE-Out")
	deadline := time.Now().Add(10 * time.Second)
	for {
		links := nstest.Run(t, "ip", "-n", pair.Client, "-o", "link", "show", "type", "tun")
		routes := nstest.Run(t, "ip", "-n", pair.Client, "route")
		if links == "" && !strings.Contains(routes, "default") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("client removed but interface or route left:\n%s\n%s", links, routes)
		}
		time.Sleep(100 * time.Millisecond)
	}
	ac.Poll("/ppp active print count-only", "0", 10*time.Second)
	if links := nstest.Run(t, "ip", "-n", pair.AC, "-o", "link", "show", "type", "tun"); links != "" {
		t.Errorf("AC kept a TUN after the session ended:\n%s", links)
	}
}

// TestDialOnDemand: the interface and route exist before dialing, no PADI
// leaves until a packet is sent towards the interface, then the session
// comes up and traffic flows.
func TestDialOnDemand(t *testing.T) {
	pair := nstest.NewPair(t)
	ac := nstest.StartRosh(t, roshBin, pair.AC)
	ac.Send(seedAC...)
	stop := capture(t, pair.Client, pair.ClientIf)
	cl := nstest.StartRosh(t, roshBin, pair.Client)
	cl.Send(seedClient + " dial-on-demand=yes add-default-route=yes")
	cl.Poll("/interface pppoe-client monitor PPPoE-Out once", "dial-on-demand", 10*time.Second)
	tun := tunName(t, pair.Client)
	addrs := nstest.Run(t, "ip", "-n", pair.Client, "addr", "show", tun)
	if !strings.Contains(addrs, "10.112.112.") {
		t.Errorf("placeholder address missing before dialing:\n%s", addrs)
	}
	if routes := nstest.Run(t, "ip", "-n", pair.Client, "route"); !strings.Contains(routes, "default dev "+tun) {
		t.Errorf("no route via the interface before dialing:\n%s", routes)
	}
	time.Sleep(2 * time.Second)
	if out, _ := exec.Command("tshark", "-r", stop(), "-Y", "pppoed").Output(); strings.TrimSpace(string(out)) != "" {
		t.Fatalf("discovery before any traffic:\n%s", out)
	}

	// The first packet dials; ping retries until the session is up.
	out, err := nstest.Exec(pair.Client, "ping", "-c", "1", "-w", "20", "10.0.0.1").CombinedOutput()
	if err != nil {
		t.Fatalf("no reply through the demand-dialed session: %v\n%s", err, out)
	}
	cl.Poll("/interface pppoe-client monitor PPPoE-Out once", "status: connected", 5*time.Second)
}
