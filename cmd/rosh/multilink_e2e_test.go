package main

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"rosh/nstest"
)

// TestMultilinkE2E: client and AC with mrru=1614 on a 1500-byte veth bring
// Multilink PPP up on the one link (RFC 1990): monitor shows one active
// link and the MRRU, and a 1600-byte IPv4 packet with DF set crosses the
// tunnel both ways (MTU 1480) as MP fragments — the capture of the veth
// holds MP fragments and no IP fragment.
func TestMultilinkE2E(t *testing.T) {
	start := time.Now()
	pair := nstest.NewPair(t)
	stopCapture := capture(t, pair.Client, pair.ClientIf)
	ac := nstest.StartRosh(t, roshBin, pair.AC)
	ac.Send(seedAC[:3]...)
	ac.Send(seedAC[3] + " mrru=1614")
	cl := nstest.StartRosh(t, roshBin, pair.Client)
	cl.Send(seedClient + " mrru=1614")
	mon := cl.Poll("/interface pppoe-client monitor PPPoE-Out once", "status: connected", 30*time.Second)
	for name, want := range map[string]string{"active-links": "1", "mrru": "1614", "mtu": "1480", "mru": "1480"} {
		if got := field(mon, name); got != want {
			t.Errorf("monitor %s = %q, want %q:\n%s", name, got, want, mon)
		}
	}
	t.Logf("connected after %v", time.Since(start))
	local := field(mon, "local-address")
	if mtu := nstest.Run(t, "ip", "-n", pair.Client, "-o", "link", "show", tunName(t, pair.Client)); !strings.Contains(mtu, "mtu 1614") {
		t.Errorf("client TUN MTU is not the MRRU:\n%s", mtu)
	}
	// 1572 bytes of ICMP data: a 1600-byte packet, DF set (-M do).
	if out, err := nstest.Exec(pair.Client, "ping", "-c", "3", "-i", "0.2", "-W", "2", "-s", "1572", "-M", "do", "10.0.0.1").CombinedOutput(); err != nil {
		t.Errorf("ping -s 1572 -M do 10.0.0.1 from the client: %v\n%s", err, out)
	}
	if out, err := nstest.Exec(pair.AC, "ping", "-c", "3", "-i", "0.2", "-W", "2", "-s", "1572", "-M", "do", local).CombinedOutput(); err != nil {
		t.Errorf("ping -s 1572 -M do %s from the AC: %v\n%s", local, err, out)
	}
	// Bigger than the MRRU: refused by the sender's own kernel (the TUN's
	// MTU is the MRRU), never sent.
	if out, err := nstest.Exec(pair.Client, "ping", "-c", "1", "-W", "1", "-s", "1600", "-M", "do", "10.0.0.1").CombinedOutput(); err == nil {
		t.Errorf("a 1628-byte ping with DF crossed an MRRU of 1614:\n%s", out)
	}
	t.Logf("pings done after %v", time.Since(start))
	file := stopCapture()
	// One pass of tshark (it is slow to start): per frame, MP's B and E
	// bits, IP's More-Fragments bit and offset, and malformed marks.
	out, err := exec.Command("tshark", "-r", file, "-T", "fields", "-E", "occurrence=f",
		"-e", "mp.first", "-e", "mp.last", "-e", "ip.flags.mf", "-e", "ip.frag_offset", "-e", "_ws.malformed").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	set := func(v string) bool { return v == "1" || v == "True" }
	var first, last, ipFrags, malformed int
	for _, l := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		f := strings.Split(l, "\t")
		if len(f) < 5 {
			continue
		}
		if set(f[0]) && !set(f[1]) {
			first++
		}
		if set(f[1]) && !set(f[0]) {
			last++
		}
		if set(f[2]) || (f[3] != "" && f[3] != "0") {
			ipFrags++
		}
		if f[4] != "" {
			malformed++
		}
	}
	// Each 1600-byte packet: two fragments of 801 bytes each way, 12
	// packets.
	t.Logf("veth capture: %d first and %d last MP fragments, %d IP fragments", first, last, ipFrags)
	if first < 12 || last < 12 {
		t.Errorf("%d first and %d last MP fragments on the veth, want 12 each", first, last)
	}
	if ipFrags != 0 {
		t.Errorf("%d IP fragments on the veth", ipFrags)
	}
	if malformed != 0 {
		t.Errorf("%d malformed frames", malformed)
	}
}

// TestMultilinkMatrix: client mrru set or not × server mrru set or not, on
// the same two rosh processes: every pairing reaches connected and pings
// through; monitor shows the MRRU only when both ends set it.
func TestMultilinkMatrix(t *testing.T) {
	pair := nstest.NewPair(t)
	ac := nstest.StartRosh(t, roshBin, pair.AC)
	ac.Send(seedAC...)
	cl := nstest.StartRosh(t, roshBin, pair.Client)
	cl.Send(strings.Replace(seedClient, "disabled=no", "disabled=yes", 1))
	for _, c := range []string{"disabled", "1614"} {
		for _, s := range []string{"disabled", "1600"} {
			t.Run(fmt.Sprintf("client=%s/server=%s", c, s), func(t *testing.T) {
				ac.Send("/interface pppoe-server server set 0 mrru=" + s)
				cl.Send("/interface pppoe-client set PPPoE-Out mrru="+c, "/interface pppoe-client enable PPPoE-Out")
				defer func() {
					cl.Send("/interface pppoe-client disable PPPoE-Out")
					ac.Poll("/ppp active print count-only", "0", 10*time.Second)
				}()
				mon := cl.Poll("/interface pppoe-client monitor PPPoE-Out once", "status: connected", 30*time.Second)
				want := ""
				if c != "disabled" && s != "disabled" {
					want = c
				}
				if got := field(mon, "mrru"); got != want {
					t.Errorf("monitor mrru = %q, want %q:\n%s", got, want, mon)
				}
				args := []string{"-c", "2", "-i", "0.2", "-W", "2", "10.0.0.1"}
				if want != "" {
					args = append([]string{"-s", "1572", "-M", "do"}, args...)
				}
				if out, err := nstest.Exec(pair.Client, "ping", args...).CombinedOutput(); err != nil {
					t.Errorf("ping %v: %v\n%s", args, err, out)
				}
			})
		}
	}
}

// TestRFC4638: on a veth with MTU 1508 the client asks for, and the AC
// grants, PPP-Max-Payload 1500 (RFC 4638), and both negotiate MRU/MTU
// 1500; a 1500-byte packet with DF set crosses. On the same link with
// max-mtu/max-mru 1492 on the client nothing above 1492 is asked for.
func TestRFC4638(t *testing.T) {
	pair := nstest.NewPair(t)
	for _, ns := range [][2]string{{pair.AC, pair.ACIf}, {pair.Client, pair.ClientIf}} {
		nstest.Run(t, "ip", "-n", ns[0], "link", "set", ns[1], "mtu", "1508")
	}
	stopCapture := capture(t, pair.Client, pair.ClientIf)
	ac := nstest.StartRosh(t, roshBin, pair.AC)
	ac.Send(seedAC...)
	cl := nstest.StartRosh(t, roshBin, pair.Client)
	cl.Send(seedClient)
	mon := cl.Poll("/interface pppoe-client monitor PPPoE-Out once", "status: connected", 30*time.Second)
	for name, want := range map[string]string{"mtu": "1500", "mru": "1500"} {
		if got := field(mon, name); got != want {
			t.Errorf("monitor %s = %q, want %q:\n%s", name, got, want, mon)
		}
	}
	if out := ac.Poll("/interface pppoe-server print", "<pppoe-MT-User>", 10*time.Second); !strings.Contains(out, "1500") {
		t.Errorf("the AC's session is not at 1500:\n%s", out)
	}
	if out, err := nstest.Exec(pair.Client, "ping", "-c", "2", "-i", "0.2", "-W", "2", "-s", "1472", "-M", "do", "10.0.0.1").CombinedOutput(); err != nil {
		t.Errorf("ping -s 1472 -M do: %v\n%s", err, out)
	}
	file := stopCapture()
	out, err := exec.Command("tshark", "-r", file, "-Y", "pppoed", "-T", "fields", "-e", "pppoe.code", "-e", "pppoed.tags.max_payload").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	got := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if f := strings.Fields(l); len(f) == 2 {
			got[f[0]] = f[1]
		}
	}
	// PADI 0x09, PADO 0x07, PADR 0x19, PADS 0x65: each carries 1500
	// (tshark prints the value's bytes).
	for _, code := range []string{"0x09", "0x07", "0x19", "0x65"} {
		if got[code] != "05dc" {
			t.Errorf("discovery code %s PPP-Max-Payload %q, want 1500 (all: %v)", code, got[code], got)
		}
	}

	// max-mtu/max-mru 1492 on the client: no PPP-Max-Payload, so the
	// AC's auto MRU is its interface MTU less 20 (1488), and the client's
	// MRU 1492 (RFC 2516 §7's most).
	cl.Send("/interface pppoe-client set PPPoE-Out max-mtu=1492 max-mru=1492")
	mon = cl.Poll("/interface pppoe-client monitor PPPoE-Out once", "mru: 1492", 30*time.Second)
	if got := field(mon, "mtu"); got != "1488" {
		t.Errorf("mtu %q with max-mtu=1492 against an AC on auto, want 1488:\n%s", got, mon)
	}
}
