package pppoe

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"rosh/link"
)

var update = flag.Bool("update", false, "rewrite the golden pcaps in testdata/pcap")

const goldenDir = "../testdata/pcap"

// goldenPackets is one packet of each kind, as rosh's encoder writes it,
// in the order of a real exchange.
func goldenPackets() []struct {
	name string
	p    Packet
} {
	hostUniq := []byte{0x52, 0x4f, 0x53, 0x48, 0x00, 0x00, 0x00, 0x01}
	cookie := []byte{
		0x00, 0x01, 0x2c, 0x8a, // slot
		0x9b, 0x1e, 0x47, 0x73, 0x2d, 0x95, 0x0c, 0x41, // truncated HMAC
		0x6f, 0x8e, 0x20, 0x3a, 0xd1, 0x55, 0x7c, 0x02,
	}
	relay := []byte{0x00, 0x00, 0x00, 0x2a}
	disc := func(dst, src MAC, code Code, sid uint16, tags ...Tag) Packet {
		return Packet{Ethernet: Ethernet{Dst: dst, Src: src, EtherType: EtherTypeDiscovery}, Code: code, SessionID: sid, Tags: tags}
	}
	return []struct {
		name string
		p    Packet
	}{
		{"padi", disc(Broadcast, macClient, CodePADI, 0,
			Tag{TagServiceName, []byte("pppoeservice")},
			Tag{TagHostUniq, hostUniq},
			Tag{TagPPPMaxPayload, []byte{0x05, 0xdc}},
		)},
		{"pado", disc(macClient, macAC, CodePADO, 0,
			Tag{TagACName, []byte("MikroTik")},
			Tag{TagServiceName, []byte("pppoeservice")},
			Tag{TagACCookie, cookie},
			Tag{TagHostUniq, hostUniq},
			Tag{TagRelaySessionID, relay},
			Tag{TagPPPMaxPayload, []byte{0x05, 0xdc}},
		)},
		{"padr", disc(macAC, macClient, CodePADR, 0,
			Tag{TagServiceName, []byte("pppoeservice")},
			Tag{TagHostUniq, hostUniq},
			Tag{TagPPPMaxPayload, []byte{0x05, 0xdc}},
			Tag{TagACCookie, cookie},
			Tag{TagRelaySessionID, relay},
		)},
		{"pads", disc(macClient, macAC, CodePADS, 0x1234,
			Tag{TagServiceName, []byte("pppoeservice")},
			Tag{TagHostUniq, hostUniq},
			Tag{TagRelaySessionID, relay},
			Tag{TagPPPMaxPayload, []byte{0x05, 0xdc}},
		)},
		{"pads-error", disc(macClient, macAC, CodePADS, 0,
			Tag{TagServiceName, []byte("nosuch")},
			Tag{TagServiceNameError, []byte("service not offered")},
			Tag{TagHostUniq, hostUniq},
		)},
		{"session", Packet{
			Ethernet:  Ethernet{Dst: macAC, Src: macClient, EtherType: EtherTypeSession},
			SessionID: 0x1234,
			Payload: []byte{
				0xc0, 0x21, // LCP
				0x01, 0x01, 0x00, 0x0e, // Configure-Request id 1 length 14
				0x01, 0x04, 0x05, 0xd4, // MRU 1492
				0x05, 0x06, 0x12, 0x34, 0x56, 0x78, // Magic-Number
			},
		}},
		{"padt", disc(macAC, macClient, CodePADT, 0x1234,
			Tag{TagRelaySessionID, relay},
			Tag{TagGenericError, []byte("session closed")},
		)},
	}
}

var goldenTime = time.Date(2026, 11, 25, 19, 0, 0, 0, time.UTC)

func writePcap(t testing.TB, path string, frames [][]byte) {
	t.Helper()
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	for i, f := range frames {
		ci := gopacket.CaptureInfo{Timestamp: goldenTime.Add(time.Duration(i) * time.Millisecond), CaptureLength: len(f), Length: len(f)}
		if err := w.WritePacket(ci, f); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readPcap(t testing.TB, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v (run go test ./pppoe -run Golden -update)", err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	if r.LinkType() != layers.LinkTypeEthernet {
		t.Fatalf("%s: link type %v", path, r.LinkType())
	}
	var frames [][]byte
	for {
		data, _, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return frames
		}
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, data)
	}
}

// TestGoldenPcaps checks the encoder against the golden pcaps and replays
// them through the decoder. -update rewrites them from the encoder.
func TestGoldenPcaps(t *testing.T) {
	var all [][]byte
	for _, g := range goldenPackets() {
		t.Run(g.name, func(t *testing.T) {
			frame, err := g.p.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, frame)
			path := filepath.Join(goldenDir, g.name+".pcap")
			if *update {
				writePcap(t, path, [][]byte{frame})
			}
			frames := readPcap(t, path)
			if len(frames) != 1 {
				t.Fatalf("%s holds %d frames, want 1", path, len(frames))
			}
			if !bytes.Equal(frames[0], frame) {
				t.Errorf("encoder output differs from %s (-want +got):\n-% x\n+% x", path, frames[0], frame)
			}
			var p Packet
			if err := p.Decode(frames[0]); err != nil {
				t.Fatalf("Decode(%s): %v", path, err)
			}
			if d := packetDiff(&g.p, &p); d != "" {
				t.Errorf("Decode(%s) mismatch (-want +got):\n%s", path, d)
			}
		})
	}
	path := filepath.Join(goldenDir, "discovery.pcap")
	if *update {
		writePcap(t, path, all)
	}
	got := readPcap(t, path)
	if len(got) != len(all) {
		t.Fatalf("%s holds %d frames, want %d", path, len(got), len(all))
	}
	for i := range all {
		if !bytes.Equal(got[i], all[i]) {
			t.Errorf("%s frame %d differs from the encoder's", path, i+1)
		}
	}
}

// captureExchange records on the AC side every frame of a client ↔ AC run
// that exercises every kind rosh sends: PADI, PADO (plain, delayed, for an
// empty service, 802.1Q), PADR, PADS (ok and refused), session frames both
// ways, PADT from both sides, and a scan.
func captureExchange(t *testing.T, path string) int {
	var mu sync.Mutex
	var buf bytes.Buffer
	a, b := link.Pipe(link.WithMTU(1508))
	ca, err := link.Capture(a, lockedWriter{&mu, &buf})
	if err != nil {
		t.Fatal(err)
	}
	acPort, clPort := link.NewPort(ca), link.NewPort(b)
	defer acPort.Close()
	defer clPort.Close()
	acMAC, _ := MACFrom(a.HardwareAddr())
	clMAC, _ := MACFrom(b.HardwareAddr())

	up := make(chan *Session, 4)
	ac := startAC(t, acPort, ACConfig{OnSession: func(s *Session) { up <- s }},
		Service{Name: "pppoeservice", AcceptEmptyService: true, MaxSessions: 2},
		Service{Name: "slow", AcceptEmptyService: true, PADODelay: 10 * time.Millisecond})
	defer ac.Close()

	s, err := dial(t, newClient(t, clPort, ClientConfig{ServiceName: "pppoeservice", MaxPayload: 1500}))
	if err != nil {
		t.Fatal(err)
	}
	as := <-up
	lcp := []byte{0xc0, 0x21, 0x01, 0x01, 0x00, 0x0e, 0x01, 0x04, 0x05, 0xdc, 0x05, 0x06, 0x12, 0x34, 0x56, 0x78}
	_ = s.WritePPP(lcp)
	lcp[6+4+4] = 0x9a // another magic number
	_ = as.WritePPP(lcp)
	<-s.Recv()
	<-as.Recv()
	s2, err := dial(t, newClient(t, clPort, ClientConfig{}))
	if err != nil {
		t.Fatal(err)
	}
	<-up
	// max-sessions reached: no PADO (RFC 2516 §5.2).
	if _, err := dial(t, newClient(t, clPort, ClientConfig{ServiceName: "pppoeservice", PADIAttempts: 1, PADITimeout: 200 * time.Millisecond})); !errors.Is(err, ErrTimeout) {
		t.Errorf("third Dial: %v, want no offer", err)
	}
	if _, err := Scan(context.Background(), clPort, ScanConfig{Duration: 50 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	// Service-Name-Error and an 802.1Q PADI/PADO.
	raw := newRawPeer(t, clPort, func(p *Packet) bool { return p.IsDiscovery() && p.Dst == clMAC && p.Code != CodePADT })
	raw.send(t, discovery(acMAC, clMAC, CodePADR, 0, tagStr(TagServiceName, "nosuch")))
	raw.expect(t, CodePADS)
	padi := discovery(Broadcast, clMAC, CodePADI, 0, tagStr(TagServiceName, "slow"))
	padi.Tagged, padi.TCI = true, 100
	raw.send(t, padi)
	raw.expect(t, CodePADO)
	// PADT from the client, then from the AC.
	s.Close()
	waitDone(t, as)
	ac.Close()
	waitDone(t, s2)

	acPort.Close()
	mu.Lock()
	defer mu.Unlock()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return len(readPcap(t, path))
}

// tsharkFields runs tshark over path and returns, per frame, the fields
// asked for, tab-separated.
func tsharkFields(t *testing.T, tshark, path string, args ...string) []string {
	t.Helper()
	cmd := exec.Command(tshark, append([]string{"-n", "-r", path, "-T", "fields", "-E", "occurrence=f"}, args...)...)
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("tshark on %s: %v\n%s", path, err, ee.Stderr)
		}
		t.Fatalf("tshark on %s: %v", path, err)
	}
	return strings.Split(strings.TrimRight(string(out), "\n"), "\n")
}

// TestTsharkNoMalformed runs Wireshark's dissectors over the golden frames
// and over a live exchange: every frame must dissect as PPPoE, and none may
// be malformed or raise an error-level expert item. A deliberately broken
// control frame proves the check can fail. tshark is required, not
// optional: `make test` installs it.
func TestTsharkNoMalformed(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Fatalf("tshark not found (apt-get install tshark; make test installs it): %v", err)
	}
	dir := t.TempDir()
	live := filepath.Join(dir, "exchange.pcap")
	liveFrames := captureExchange(t, live)
	if liveFrames < 15 {
		t.Fatalf("captured only %d frames", liveFrames)
	}
	// The control: a PADO whose tag claims more bytes than LENGTH holds.
	control := filepath.Join(dir, "control.pcap")
	bad := bytes.Clone(fixturePADO)
	bad[EthernetLen+HeaderLen+3] = 0x40 // AC-Name TAG_LENGTH 64
	writePcap(t, control, [][]byte{bad})

	// Each frame: number, PPPoE code, malformed?, highest expert severity.
	fields := []string{"-e", "frame.number", "-e", "pppoe.code", "-e", "_ws.malformed", "-e", "_ws.expert.severity"}
	check := func(path string, want int) (malformed int) {
		lines := tsharkFields(t, tshark, path, fields...)
		if len(lines) != want {
			t.Errorf("%s: tshark read %d frames, want %d", filepath.Base(path), len(lines), want)
		}
		for _, l := range lines {
			f := strings.Split(l, "\t")
			for len(f) < 4 {
				f = append(f, "")
			}
			if f[1] == "" {
				t.Errorf("%s frame %s: not dissected as PPPoE", filepath.Base(path), f[0])
			}
			// Expert severities: 0x00800000 warning, 0x01000000 error.
			sev, _ := strconv.ParseUint(strings.TrimPrefix(f[3], "0x"), 16, 32)
			if f[2] != "" || sev >= 0x01000000 {
				malformed++
				if path != control {
					detail, _ := exec.Command(tshark, "-n", "-r", path, "-V", "-Y", "frame.number == "+f[0]).Output()
					t.Errorf("%s frame %s is malformed:\n%s", filepath.Base(path), f[0], detail)
				}
			}
		}
		return malformed
	}
	if check(control, 1) != 1 {
		t.Fatal("tshark did not flag the malformed control frame: the check is blind")
	}
	check(filepath.Join(goldenDir, "discovery.pcap"), len(goldenPackets()))
	check(live, liveFrames)

	// The live exchange holds every code rosh sends.
	seen := map[string]bool{}
	for _, l := range tsharkFields(t, tshark, live, "-e", "pppoe.code") {
		seen[l] = true
	}
	for _, c := range []Code{CodeSession, CodePADI, CodePADO, CodePADR, CodePADS, CodePADT} {
		if !seen[fmt.Sprintf("%#02x", uint8(c))] && !seen[fmt.Sprintf("0x%02x", uint8(c))] {
			t.Errorf("live capture has no %v (codes seen %v)", c, seen)
		}
	}
}
