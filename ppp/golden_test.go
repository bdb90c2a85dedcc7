package ppp_test

import (
	"bytes"
	"encoding/binary"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"rosh/ppp"
)

var update = flag.Bool("update", false, "rewrite the golden pcaps in testdata/")

// goldenSession plays a whole session with method m: bring-up, an echo,
// a CCP Protocol-Reject, the client's Terminate.
func goldenSession(t *testing.T, m ppp.Method) []byte {
	n := newNet(t, clientConfig(ppp.Methods(m)), serverConfig(ppp.AllMethods))
	n.up()
	n.advance(11*time.Second, time.Second)
	n.server.Input(ppp.ProtoCCP, pkt(ppp.CodeConfigureRequest, 1, 0x1a, 0x04, 0x78, 0x00))
	n.settle()
	n.client.Close("user request")
	n.advance(4*time.Second, time.Second)
	if !dead(n.client) || !dead(n.server) {
		t.Fatal("session did not end")
	}
	var b bytes.Buffer
	if err := n.cap.WritePcap(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestGoldenSessions compares whole sessions, one per method, with the
// pcaps in testdata/ (go test -update rewrites them), so a change on the
// wire shows; then replays the golden files through the decoders.
func TestGoldenSessions(t *testing.T) {
	for _, m := range []ppp.Method{ppp.PAP, ppp.CHAP, ppp.MSCHAPv1, ppp.MSCHAPv2} {
		t.Run(m.String(), func(t *testing.T) {
			path := filepath.Join("testdata", "session-"+m.String()+".pcap")
			got := goldenSession(t, m)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("session differs from %s (go test -run TestGoldenSessions -update to accept)", path)
			}
			replay(t, want)
		})
	}
}

// replay decodes every packet of a pcap written by ppptest.Capture.
func replay(t *testing.T, file []byte) {
	t.Helper()
	if len(file) < 24 || binary.LittleEndian.Uint32(file[20:]) != 204 {
		t.Fatal("not a LINKTYPE_PPP_WITH_DIR pcap")
	}
	b := file[24:]
	for i := 1; len(b) > 0; i++ {
		if len(b) < 16 {
			t.Fatalf("packet %d: truncated record header", i)
		}
		n := int(binary.LittleEndian.Uint32(b[8:]))
		if n < 3 || len(b) < 16+n {
			t.Fatalf("packet %d: truncated record", i)
		}
		rec := b[16 : 16+n]
		b = b[16+n:]
		proto := ppp.Protocol(binary.BigEndian.Uint16(rec[1:]))
		info := rec[3:]
		var err error
		switch proto {
		case ppp.ProtoLCP, ppp.ProtoIPCP:
			var p ppp.Packet
			if p, err = ppp.ParsePacket(info); err == nil && p.Code() <= ppp.CodeConfigureReject {
				_, err = ppp.ParseOptions(p.Data())
			}
		case ppp.ProtoPAP:
			_, err = ppp.ParsePAP(info)
		case ppp.ProtoCHAP:
			var c ppp.CHAPPacket
			if c, err = ppp.ParseCHAP(info); err == nil && c.Code == ppp.CHAPResponse && len(c.Value) == 49 {
				_, err = ppp.ParseMSCHAPv2Response(c.Value)
			}
		default:
			t.Errorf("packet %d: unexpected protocol %s", i, proto)
		}
		if err != nil {
			t.Errorf("packet %d (%s): %v", i, proto, err)
		}
	}
}
