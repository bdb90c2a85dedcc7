package pppoe

import (
	"strings"
	"testing"
)

func TestTraceDiscovery(t *testing.T) {
	padi := []byte{
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // dst broadcast
		0x02, 0xab, 0xcd, 0x00, 0x00, 0x02, // src
		0x88, 0x63, // discovery
		0x11, 0x09, 0x00, 0x00, // ver/type, PADI, session 0
		0x00, 0x0c, // length 12
		0x01, 0x01, 0x00, 0x00, // Service-Name ""
		0x01, 0x03, 0x00, 0x04, 0xde, 0xad, 0xbe, 0xef, // Host-Uniq
	}
	got, ok := TraceDiscovery(padi)
	want := `PADI id=0x0000 02:AB:CD:00:00:02 > FF:FF:FF:FF:FF:FF <service-name ""> <host-uniq deadbeef>`
	if !ok || got != want {
		t.Errorf("TraceDiscovery = %q, %v; want %q", got, ok, want)
	}
	session := append([]byte(nil), padi...)
	session[13] = 0x64
	if _, ok := TraceDiscovery(session); ok {
		t.Error("a session frame traced as discovery")
	}
	if s, ok := TraceDiscovery(padi[:16]); !ok || !strings.Contains(s, "malformed") {
		t.Errorf("short discovery frame: %q, %v", s, ok)
	}
}

// FuzzTraceDiscovery: any frame renders as one line or is refused.
func FuzzTraceDiscovery(f *testing.F) {
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x88, 0x63, 0x11, 0x09, 0, 0, 0, 4, 1, 1, 0, 0}) // PADI, empty Service-Name
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x88, 0x63, 0x11, 0x09, 0, 0, 0, 9})             // length past the end
	f.Add([]byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x81, 0, 0, 5, 0x88, 0x63, 0x11, 0xa7, 0, 1, 0, 0})                // VLAN-tagged PADT
	f.Fuzz(func(t *testing.T, b []byte) {
		if s, ok := TraceDiscovery(b); ok && strings.ContainsAny(s, "\n\r") {
			t.Fatalf("two lines: %q", s)
		}
	})
}
