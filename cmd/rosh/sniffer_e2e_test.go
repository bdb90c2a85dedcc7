package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rosh/nstest"
)

// tsharkLines is tshark's one-line summary of every frame of a pcap;
// a frame that does not decode is flagged "[Malformed Packet]" in it.
func tsharkLines(t *testing.T, file string) []string {
	t.Helper()
	all, err := exec.Command("tshark", "-r", file).Output()
	if err != nil {
		t.Fatalf("tshark -r %s: %v\n%s", file, err, all)
	}
	lines := strings.Split(strings.TrimSpace(string(all)), "\n")
	for _, l := range lines {
		if strings.Contains(l, "Malformed") {
			t.Errorf("tshark finds a malformed frame in %s: %s", file, l)
		}
	}
	return lines
}

// inOrder checks that each marker is on some frame's line, the first
// frame of each after the first frame of the one before.
func inOrder(t *testing.T, name string, lines []string, markers ...string) {
	t.Helper()
	at := -1
	for _, m := range markers {
		i := -1
		for j := at + 1; j < len(lines); j++ {
			if strings.Contains(lines[j], m) {
				i = j
				break
			}
		}
		if i < 0 {
			t.Errorf("%s: no %q after frame %d:\n%s", name, m, at+1, strings.Join(lines, "\n"))
			return
		}
		at = i
	}
}

// TestSnifferSeedSession: the AC's /tool sniffer captures the seed
// session — discovery, LCP, CHAP, IPCP, pings through the tunnel, the
// end — into a pcap file as it goes and, after stop, saves it again;
// tshark decodes both with no malformed frame and in that order.
// Meanwhile /tool sniffer quick shows the frames live, decoded.
func TestSnifferSeedSession(t *testing.T) {
	pair := nstest.NewPair(t)
	ac := nstest.StartRosh(t, roshBin, pair.AC)
	ac.Send(seedAC...)
	ac.Send("/tool sniffer set filter-interface="+pair.ACIf+" file-name=session.pcap", "/tool sniffer start")
	ac.Poll("/tool sniffer print", "running: yes", 5*time.Second)
	mark := ac.Out.Len()
	ac.Send("/tool sniffer quick interface=" + pair.ACIf + " duration=4")
	time.Sleep(300 * time.Millisecond) // quick is on the tap before the client dials

	cl := nstest.StartRosh(t, roshBin, pair.Client)
	cl.Send(seedClient)
	cl.Poll("/interface pppoe-client monitor PPPoE-Out once", "status: connected", 30*time.Second)
	quick := ac.WaitFor(mark, "IPCP ConfAck", 10*time.Second)
	for _, want := range []string{"INTERFACE", "PADI id=0x0000 <service-name \"pppoeservice\">", "->", "<-", "LCP ConfReq id=0x1 <mru 1480>", "CHAP Challenge"} {
		if !strings.Contains(quick, want) {
			t.Errorf("sniffer quick output lacks %q:\n%s", want, quick)
		}
	}
	if out, err := nstest.Exec(pair.Client, "ping", "-c", "3", "-i", "0.2", "-W", "2", "10.0.0.1").CombinedOutput(); err != nil {
		t.Errorf("ping 10.0.0.1 through the tunnel: %v\n%s", err, out)
	}
	if err := cl.Quit(); err != nil {
		t.Fatalf("client quit: %v", err)
	}
	ac.Poll("/ppp active print count-only", "0", 10*time.Second)
	time.Sleep(3 * time.Second) // quick's duration is over
	ac.Send("/tool sniffer stop", "/tool sniffer save file-name=saved.pcap")
	ac.Poll("/tool sniffer print", "running: no", 5*time.Second)

	dir := filepath.Dir(ac.Config)
	for _, f := range []string{"session.pcap", "saved.pcap"} {
		lines := tsharkLines(t, filepath.Join(dir, f))
		inOrder(t, f, lines, "PADI", "PADO", "PADR", "PADS", "PPP LCP", "PPP CHAP", "PPP IPCP", "ICMP", "Termination Request", "PADT")
	}
}
