package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"rosh/nstest"
)

// TestRadiusTwoACs is the scale-out story: two rosh access concentrators
// on one access segment, pado-delay 0 and 100, sharing one FreeRADIUS for
// users and accounting. The first 50 subscribers take the undelayed AC's
// offer (a few may go to the other if the first answers late); 50 more, told to prefer the second AC (ac-name, as a
// subscriber steered by its CPE would be), come up there while the first
// 50 hold. Each AC hands out addresses from its own range of the pool
// RADIUS names (Framed-Pool), so the 100 addresses are unique across the
// boxes, and the one detail file holds a Start and a Stop for every
// session.
func TestRadiusTwoACs(t *testing.T) {
	const half = 50
	seg := nstest.NewSegment(t, map[string]string{"ac1": "ether3", "ac2": "ether3", "subs": "ether2"})
	nstest.Run(t, "ip", "-n", seg.Bridge, "addr", "add", "10.99.0.254/24", "dev", "br0")
	var users strings.Builder
	for i := 1; i <= 2*half; i++ {
		fmt.Fprintf(&users, "user%d Cleartext-Password := \"pw%d\"\n\tFramed-Pool = \"subs\"\n", i, i)
	}
	fr := nstest.StartFreeRADIUS(t, seg.Bridge, nstest.RadiusConfig{
		Listen: "10.99.0.254", AuthPort: 1812, AcctPort: 1813, Clients: "10.99.0.0/24", Secret: "testing123",
		Users: users.String(),
	})
	acs := map[string]*nstest.Rosh{}
	for i, name := range []string{"ac1", "ac2"} {
		ns := seg.NS[name]
		nstest.Run(t, "ip", "-n", ns, "addr", "add", fmt.Sprintf("10.99.0.%d/24", i+1), "dev", "ether3")
		ac := nstest.StartRosh(t, roshBin, ns)
		ac.Send(
			"/system identity set name="+name,
			fmt.Sprintf("/ip pool add name=subs ranges=10.%d.0.2-10.%d.0.254", i+1, i+1),
			fmt.Sprintf("/ppp profile add local-address=10.%d.0.1 name=subs remote-address=subs", i+1),
			// 100 logins in a burst on a loaded 2-core machine: give
			// the server more than RouterOS's 300ms default.
			"/radius add service=ppp address=10.99.0.254 secret=testing123 timeout=2s",
			"/ppp aaa set use-radius=yes",
			fmt.Sprintf("/interface pppoe-server server add default-profile=subs disabled=no interface=ether3 service-name=isp authentication=mschap2 pado-delay=%d", 100*i),
		)
		ac.Poll("/interface pppoe-server server print count-only", "1", 5*time.Second)
		acs[name] = ac
	}

	// Both emulators hold their sessions until told to hang up (SIGINT),
	// however long the loaded machine takes to bring the second half up.
	emulate := func(first int, acName, macBase string) (*exec.Cmd, *bytes.Buffer) {
		var out bytes.Buffer
		args := []string{"emulate", "--interface", "ether2", "--sessions", fmt.Sprint(half), "--first", fmt.Sprint(first),
			"--rate", "200", "--user-pattern", "user%d", "--password", "pw%d", "--auth", "mschap2",
			"--keepalive", "0", "--timeout", "30s", "--hold", "-1s", "--mac-base", macBase}
		if acName != "" {
			args = append(args, "--ac-name", acName)
		}
		em := nstest.Exec(seg.NS["subs"], roshBin, args...)
		em.Stdout, em.Stderr = &out, &out
		if err := em.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if em.ProcessState == nil {
				em.Process.Signal(os.Interrupt)
				em.Wait()
			}
			if t.Failed() {
				t.Logf("rosh emulate --first %d wrote:\n%s", first, out.String())
			}
		})
		return em, &out
	}
	first, out1 := emulate(1, "", "02:00:00:01:00:00")
	t.Cleanup(func() {
		if t.Failed() {
			for name, ac := range acs {
				t.Logf("%s's log:\n%s", name, ac.Poll(`/log print where message~"fail|RADIUS|radius|interface|disconnected|error" or topics~"error"`, "", 5*time.Second))
			}
		}
	})
	// Up means accounted: a Start is sent when the session is connected.
	waitStarts := func(n int) {
		deadline := time.Now().Add(60 * time.Second)
		for {
			k := 0
			for _, r := range detailRecords(fr.DetailText()) {
				if r["Acct-Status-Type"] == "Start" {
					k++
				}
			}
			if k >= n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d sessions accounted up within 60s, want %d", k, n)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	waitStarts(half)
	second, out2 := emulate(half+1, "ac2", "02:00:00:02:00:00")
	waitStarts(2 * half)

	// 100 sessions up at once, addresses unique across both boxes.
	addrs := map[string]string{}
	for name, ac := range acs {
		for _, a := range regexp.MustCompile(`10\.[12]\.0\.\d+`).FindAllString(ac.Poll("/ppp active print", "user", 5*time.Second), -1) {
			if other, dup := addrs[a]; dup {
				t.Errorf("%s handed out %s, which %s has too", name, a, other)
			}
			addrs[a] = name
		}
	}
	if len(addrs) != 2*half {
		t.Errorf("%d distinct addresses up across the ACs, want %d", len(addrs), 2*half)
	}
	// The undelayed AC took the subscribers free to choose, but for any
	// whose PADI it answered more than pado-delay late on a loaded
	// machine: those went to the other AC, as pado-delay means them to.
	per := map[string]int{}
	for _, name := range addrs {
		per[name]++
	}
	t.Logf("sessions per AC: %v", per)
	if per["ac1"] < half/2 || per["ac2"] < half {
		t.Errorf("sessions per AC %v: the undelayed AC should take most of the first %d, the other all %d steered to it", per, half, half)
	}
	for i, em := range []*exec.Cmd{first, second} {
		em.Process.Signal(os.Interrupt)
		if err := em.Wait(); err != nil {
			t.Fatalf("rosh emulate %d: %v\n%s", i+1, err, []*bytes.Buffer{out1, out2}[i])
		}
	}
	for i, out := range []*bytes.Buffer{out1, out2} {
		if !regexp.MustCompile(fmt.Sprintf(`established +%d \(100.0%%\)`, half)).Match(out.Bytes()) {
			t.Errorf("emulator %d:\n%s", i+1, out)
		}
	}

	// Accounting for all of them in the one detail file: a Start and a
	// Stop per session, from both NASes.
	deadline := time.Now().Add(15 * time.Second)
	for {
		starts, stops := map[string]bool{}, map[string]bool{}
		nas := map[string]int{}
		for _, r := range detailRecords(fr.DetailText()) {
			switch r["Acct-Status-Type"] {
			case "Start":
				starts[r["User-Name"]] = true
				nas[r["NAS-Identifier"]]++
			case "Stop":
				stops[r["User-Name"]] = true
			}
		}
		if len(starts) == 2*half && len(stops) == 2*half {
			if nas["ac1"] != per["ac1"] || nas["ac2"] != per["ac2"] {
				t.Errorf("Start records by NAS %v, sessions by AC %v", nas, per)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("detail file has Starts for %d users and Stops for %d, want %d each", len(starts), len(stops), 2*half)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
