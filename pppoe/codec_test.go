package pppoe

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"
)

// Addresses used by the fixtures.
var (
	macClient = MAC{0x02, 0xab, 0xcd, 0x00, 0x00, 0x02}
	macAC     = MAC{0x02, 0xab, 0xcd, 0x00, 0x00, 0x01}
)

// pad appends zeros up to the 60-byte Ethernet minimum, as MarshalTo does.
func pad(b []byte) []byte {
	for len(b) < MinFrameLen {
		b = append(b, 0)
	}
	return b
}

// Fixtures, one field a line. Each is what MarshalTo produces for the
// matching Packet in decodeTests, so they double as encoder tests.
var (
	fixturePADI = pad([]byte{
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // Ethernet destination: broadcast
		0x02, 0xab, 0xcd, 0x00, 0x00, 0x02, // Ethernet source: client
		0x88, 0x63, // EtherType: PPPoE discovery
		0x11,       // VER 1, TYPE 1
		0x09,       // CODE: PADI
		0x00, 0x00, // SESSION_ID: 0
		0x00, 0x12, // LENGTH: 18
		0x01, 0x01, 0x00, 0x00, // Service-Name, length 0: any service
		0x01, 0x03, 0x00, 0x04, 0xde, 0xad, 0xbe, 0xef, // Host-Uniq, length 4
		0x01, 0x20, 0x00, 0x02, 0x05, 0xdc, // PPP-Max-Payload, length 2: 1500
	})
	fixturePADO = pad([]byte{
		0x02, 0xab, 0xcd, 0x00, 0x00, 0x02, // destination: client
		0x02, 0xab, 0xcd, 0x00, 0x00, 0x01, // source: access concentrator
		0x88, 0x63, // EtherType: PPPoE discovery
		0x11,       // VER 1, TYPE 1
		0x07,       // CODE: PADO
		0x00, 0x00, // SESSION_ID: 0
		0x00, 0x2a, // LENGTH: 42
		0x01, 0x02, 0x00, 0x08, 'M', 'i', 'k', 'r', 'o', 'T', 'i', 'k', // AC-Name "MikroTik"
		0x01, 0x01, 0x00, 0x04, 's', 'v', 'c', '1', // Service-Name "svc1"
		0x01, 0x04, 0x00, 0x04, 0x01, 0x02, 0x03, 0x04, // AC-Cookie, 4 bytes
		0x01, 0x03, 0x00, 0x04, 0xde, 0xad, 0xbe, 0xef, // Host-Uniq echoed
		0x01, 0x10, 0x00, 0x02, 0x77, 0x88, // Relay-Session-Id, 2 bytes
	})
	fixturePADS = pad([]byte{
		0x02, 0xab, 0xcd, 0x00, 0x00, 0x02, // destination: client
		0x02, 0xab, 0xcd, 0x00, 0x00, 0x01, // source: access concentrator
		0x88, 0x63, // EtherType: PPPoE discovery
		0x11,       // VER 1, TYPE 1
		0x65,       // CODE: PADS
		0x12, 0x34, // SESSION_ID: 0x1234
		0x00, 0x08, // LENGTH: 8
		0x01, 0x01, 0x00, 0x04, 's', 'v', 'c', '1', // Service-Name "svc1"
	})
	fixturePADSError = pad([]byte{
		0x02, 0xab, 0xcd, 0x00, 0x00, 0x02, // destination: client
		0x02, 0xab, 0xcd, 0x00, 0x00, 0x01, // source: access concentrator
		0x88, 0x63, // EtherType: PPPoE discovery
		0x11,       // VER 1, TYPE 1
		0x65,       // CODE: PADS
		0x00, 0x00, // SESSION_ID: 0, refused
		0x00, 0x0c, // LENGTH: 12
		0x01, 0x01, 0x00, 0x00, // Service-Name ""
		0x02, 0x01, 0x00, 0x04, 'n', 'o', 'p', 'e', // Service-Name-Error "nope"
	})
	fixturePADT = pad([]byte{
		0x02, 0xab, 0xcd, 0x00, 0x00, 0x01, // destination: access concentrator
		0x02, 0xab, 0xcd, 0x00, 0x00, 0x02, // source: client
		0x88, 0x63, // EtherType: PPPoE discovery
		0x11,       // VER 1, TYPE 1
		0xa7,       // CODE: PADT
		0x12, 0x34, // SESSION_ID: 0x1234
		0x00, 0x00, // LENGTH: 0, no tags
	})
	fixtureSession = pad([]byte{
		0x02, 0xab, 0xcd, 0x00, 0x00, 0x01, // destination: access concentrator
		0x02, 0xab, 0xcd, 0x00, 0x00, 0x02, // source: client
		0x88, 0x64, // EtherType: PPPoE session
		0x11,       // VER 1, TYPE 1
		0x00,       // CODE: session data
		0x12, 0x34, // SESSION_ID: 0x1234
		0x00, 0x0c, // LENGTH: 12
		0xc0, 0x21, // PPP protocol: LCP
		0x01, 0x01, 0x00, 0x08, // Configure-Request, id 1, length 8
		0x01, 0x04, 0x05, 0xd4, // MRU 1492
		0x05, 0x06, // two bytes of LCP beyond its length: still PPPoE payload
	})
	fixtureTaggedPADI = pad([]byte{
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // destination: broadcast
		0x02, 0xab, 0xcd, 0x00, 0x00, 0x02, // source: client
		0x81, 0x00, // TPID: 802.1Q
		0x20, 0x64, // TCI: PCP 1, VLAN 100
		0x88, 0x63, // EtherType: PPPoE discovery
		0x11,       // VER 1, TYPE 1
		0x09,       // CODE: PADI
		0x00, 0x00, // SESSION_ID: 0
		0x00, 0x04, // LENGTH: 4
		0x01, 0x01, 0x00, 0x00, // Service-Name ""
	})
	fixtureUnknownTag = pad([]byte{
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // destination: broadcast
		0x02, 0xab, 0xcd, 0x00, 0x00, 0x02, // source: client
		0x88, 0x63, // EtherType: PPPoE discovery
		0x11,       // VER 1, TYPE 1
		0x09,       // CODE: PADI
		0x00, 0x00, // SESSION_ID: 0
		0x00, 0x1a, // LENGTH: 26
		0x01, 0x01, 0x00, 0x00, // Service-Name ""
		0x0f, 0xee, 0x00, 0x03, 0xaa, 0xbb, 0xcc, // unknown type 0x0fee, kept as is
		0x01, 0x05, 0x00, 0x07, 0x00, 0x00, 0x0d, 0xe9, 0x01, 0x02, 0x03, // Vendor-Specific: vendor 3561, data
		0x00, 0x00, 0x00, 0x00, // End-Of-List
	})
)

// fixturePADR is the request that answers fixturePADO.
var fixturePADR = pad([]byte{
	0x02, 0xab, 0xcd, 0x00, 0x00, 0x01, // destination: access concentrator
	0x02, 0xab, 0xcd, 0x00, 0x00, 0x02, // source: client
	0x88, 0x63, // EtherType: PPPoE discovery
	0x11,       // VER 1, TYPE 1
	0x19,       // CODE: PADR
	0x00, 0x00, // SESSION_ID: 0
	0x00, 0x24, // LENGTH: 36
	0x01, 0x01, 0x00, 0x04, 's', 'v', 'c', '1', // Service-Name "svc1"
	0x01, 0x03, 0x00, 0x04, 0xde, 0xad, 0xbe, 0xef, // Host-Uniq
	0x01, 0x04, 0x00, 0x04, 0x01, 0x02, 0x03, 0x04, // AC-Cookie echoed
	0x01, 0x10, 0x00, 0x02, 0x77, 0x88, // Relay-Session-Id echoed
	0x01, 0x20, 0x00, 0x02, 0x05, 0xdc, // PPP-Max-Payload: 1500
})

var decodeTests = []struct {
	name string
	in   []byte
	want Packet
}{
	{
		name: "PADI",
		in:   fixturePADI,
		want: Packet{
			Ethernet: Ethernet{Dst: Broadcast, Src: macClient, EtherType: EtherTypeDiscovery},
			Code:     CodePADI,
			Tags: Tags{
				{Type: TagServiceName, Value: []byte{}},
				{Type: TagHostUniq, Value: []byte{0xde, 0xad, 0xbe, 0xef}},
				{Type: TagPPPMaxPayload, Value: []byte{0x05, 0xdc}},
			},
		},
	},
	{
		name: "PADO",
		in:   fixturePADO,
		want: Packet{
			Ethernet: Ethernet{Dst: macClient, Src: macAC, EtherType: EtherTypeDiscovery},
			Code:     CodePADO,
			Tags: Tags{
				{Type: TagACName, Value: []byte("MikroTik")},
				{Type: TagServiceName, Value: []byte("svc1")},
				{Type: TagACCookie, Value: []byte{1, 2, 3, 4}},
				{Type: TagHostUniq, Value: []byte{0xde, 0xad, 0xbe, 0xef}},
				{Type: TagRelaySessionID, Value: []byte{0x77, 0x88}},
			},
		},
	},
	{
		name: "PADR",
		in:   fixturePADR,
		want: Packet{
			Ethernet: Ethernet{Dst: macAC, Src: macClient, EtherType: EtherTypeDiscovery},
			Code:     CodePADR,
			Tags: Tags{
				{Type: TagServiceName, Value: []byte("svc1")},
				{Type: TagHostUniq, Value: []byte{0xde, 0xad, 0xbe, 0xef}},
				{Type: TagACCookie, Value: []byte{1, 2, 3, 4}},
				{Type: TagRelaySessionID, Value: []byte{0x77, 0x88}},
				{Type: TagPPPMaxPayload, Value: []byte{0x05, 0xdc}},
			},
		},
	},
	{
		name: "PADS",
		in:   fixturePADS,
		want: Packet{
			Ethernet:  Ethernet{Dst: macClient, Src: macAC, EtherType: EtherTypeDiscovery},
			Code:      CodePADS,
			SessionID: 0x1234,
			Tags:      Tags{{Type: TagServiceName, Value: []byte("svc1")}},
		},
	},
	{
		name: "PADS Service-Name-Error",
		in:   fixturePADSError,
		want: Packet{
			Ethernet: Ethernet{Dst: macClient, Src: macAC, EtherType: EtherTypeDiscovery},
			Code:     CodePADS,
			Tags: Tags{
				{Type: TagServiceName, Value: []byte{}},
				{Type: TagServiceNameError, Value: []byte("nope")},
			},
		},
	},
	{
		name: "PADT",
		in:   fixturePADT,
		want: Packet{
			Ethernet:  Ethernet{Dst: macAC, Src: macClient, EtherType: EtherTypeDiscovery},
			Code:      CodePADT,
			SessionID: 0x1234,
		},
	},
	{
		name: "session",
		in:   fixtureSession,
		want: Packet{
			Ethernet:  Ethernet{Dst: macAC, Src: macClient, EtherType: EtherTypeSession},
			Code:      CodeSession,
			SessionID: 0x1234,
			Payload:   []byte{0xc0, 0x21, 0x01, 0x01, 0x00, 0x08, 0x01, 0x04, 0x05, 0xd4, 0x05, 0x06},
		},
	},
	{
		name: "802.1Q PADI",
		in:   fixtureTaggedPADI,
		want: Packet{
			Ethernet: Ethernet{Dst: Broadcast, Src: macClient, Tagged: true, TCI: 0x2064, EtherType: EtherTypeDiscovery},
			Code:     CodePADI,
			Tags:     Tags{{Type: TagServiceName, Value: []byte{}}},
		},
	},
	{
		name: "unknown tag, Vendor-Specific, End-Of-List",
		in:   fixtureUnknownTag,
		want: Packet{
			Ethernet: Ethernet{Dst: Broadcast, Src: macClient, EtherType: EtherTypeDiscovery},
			Code:     CodePADI,
			Tags: Tags{
				{Type: TagServiceName, Value: []byte{}},
				{Type: 0x0fee, Value: []byte{0xaa, 0xbb, 0xcc}},
				{Type: TagVendorSpecific, Value: []byte{0x00, 0x00, 0x0d, 0xe9, 0x01, 0x02, 0x03}},
				{Type: TagEndOfList},
			},
		},
	},
}

func packetDiff(want, got *Packet) string {
	if want.Ethernet == got.Ethernet && want.Code == got.Code && want.SessionID == got.SessionID &&
		want.Tags.Equal(got.Tags) && bytes.Equal(want.Payload, got.Payload) {
		return ""
	}
	return fmt.Sprintf("-%v\n+%v", want, got)
}

func TestDecode(t *testing.T) {
	for _, tt := range decodeTests {
		t.Run(tt.name, func(t *testing.T) {
			var got Packet
			if err := got.Decode(tt.in); err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if d := packetDiff(&tt.want, &got); d != "" {
				t.Errorf("Decode mismatch (-want +got):\n%s", d)
			}
		})
	}
}

func TestMarshal(t *testing.T) {
	for _, tt := range decodeTests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.want.MarshalBinary()
			if err != nil {
				t.Fatalf("MarshalBinary: %v", err)
			}
			if !bytes.Equal(got, tt.in) {
				t.Errorf("MarshalBinary mismatch (-want +got):\n-% x\n+% x", tt.in, got)
			}
			if n := tt.want.Len(); n != len(got) {
				t.Errorf("Len() = %d, encoded %d bytes", n, len(got))
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		wantErr error
	}{
		{
			name:    "empty",
			in:      nil,
			wantErr: io.ErrUnexpectedEOF,
		},
		{
			name:    "six bytes",
			in:      []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
			wantErr: io.ErrUnexpectedEOF,
		},
		{
			name: "IPv4 frame",
			in: []byte{
				0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // destination
				0x02, 0xab, 0xcd, 0x00, 0x00, 0x02, // source
				0x08, 0x00, // EtherType: IPv4
				0x45, 0x00, // the start of an IPv4 header
			},
			wantErr: ErrNotPPPoE,
		},
		{
			name: "802.1Q tag cut short",
			in: []byte{
				0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // destination
				0x02, 0xab, 0xcd, 0x00, 0x00, 0x02, // source
				0x81, 0x00, // TPID: 802.1Q
				0x00, // half a TCI
			},
			wantErr: io.ErrUnexpectedEOF,
		},
		{
			name: "PPPoE header cut short",
			in: []byte{
				0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // destination
				0x02, 0xab, 0xcd, 0x00, 0x00, 0x02, // source
				0x88, 0x63, // EtherType: discovery
				0x11, 0x09, 0x00, 0x00, 0x00, // five of six header bytes
			},
			wantErr: io.ErrUnexpectedEOF,
		},
		{
			name: "LENGTH past the frame",
			in: []byte{
				0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // destination
				0x02, 0xab, 0xcd, 0x00, 0x00, 0x02, // source
				0x88, 0x63, // EtherType: discovery
				0x11,       // VER 1, TYPE 1
				0x09,       // PADI
				0x00, 0x00, // SESSION_ID 0
				0xff, 0xff, // LENGTH: 65535, a lie
				0x01, 0x01, 0x00, 0x00, // Service-Name ""
			},
			wantErr: io.ErrUnexpectedEOF,
		},
		{
			name: "tag length past LENGTH",
			in: []byte{
				0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // destination
				0x02, 0xab, 0xcd, 0x00, 0x00, 0x02, // source
				0x88, 0x63, // EtherType: discovery
				0x11,       // VER 1, TYPE 1
				0x09,       // PADI
				0x00, 0x00, // SESSION_ID 0
				0x00, 0x06, // LENGTH: 6
				0x01, 0x01, 0x00, 0x10, 'a', 'b', // Service-Name claiming 16 bytes, 2 present
				0x00, 0x00, 0x00, 0x00, // padding outside LENGTH must not be read as value
			},
			wantErr: io.ErrUnexpectedEOF,
		},
		{
			name: "three bytes of a tag header",
			in: []byte{
				0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // destination
				0x02, 0xab, 0xcd, 0x00, 0x00, 0x02, // source
				0x88, 0x63, // EtherType: discovery
				0x11,       // VER 1, TYPE 1
				0x09,       // PADI
				0x00, 0x00, // SESSION_ID 0
				0x00, 0x03, // LENGTH: 3
				0x01, 0x01, 0x00, // TAG_TYPE and half a TAG_LENGTH
			},
			wantErr: io.ErrUnexpectedEOF,
		},
		{
			name: "version 2",
			in: []byte{
				0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // destination
				0x02, 0xab, 0xcd, 0x00, 0x00, 0x02, // source
				0x88, 0x63, // EtherType: discovery
				0x21,       // VER 2, TYPE 1
				0x09,       // PADI
				0x00, 0x00, // SESSION_ID 0
				0x00, 0x00, // LENGTH 0
			},
			wantErr: ErrBadVersion,
		},
		{
			name: "End-Of-List with a value",
			in: []byte{
				0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // destination
				0x02, 0xab, 0xcd, 0x00, 0x00, 0x02, // source
				0x88, 0x63, // EtherType: discovery
				0x11,       // VER 1, TYPE 1
				0x09,       // PADI
				0x00, 0x00, // SESSION_ID 0
				0x00, 0x05, // LENGTH 5
				0x00, 0x00, 0x00, 0x01, 0x00, // End-Of-List, length 1
			},
			wantErr: ErrBadTag,
		},
		{
			name: "session frame with a discovery code",
			in: []byte{
				0x02, 0xab, 0xcd, 0x00, 0x00, 0x01, // destination
				0x02, 0xab, 0xcd, 0x00, 0x00, 0x02, // source
				0x88, 0x64, // EtherType: session
				0x11,       // VER 1, TYPE 1
				0xa7,       // CODE: PADT, not allowed in the session stage
				0x00, 0x01, // SESSION_ID 1
				0x00, 0x00, // LENGTH 0
			},
			wantErr: ErrBadCode,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p Packet
			err := p.Decode(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("Decode error = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestMarshalErrors(t *testing.T) {
	big := make([]byte, 0x10000)
	tests := []struct {
		name    string
		p       Packet
		buf     int
		wantErr error
	}{
		{
			name:    "not PPPoE",
			p:       Packet{Ethernet: Ethernet{EtherType: 0x0800}},
			buf:     100,
			wantErr: ErrNotPPPoE,
		},
		{
			name:    "short buffer",
			p:       Packet{Ethernet: Ethernet{EtherType: EtherTypeDiscovery}, Code: CodePADI},
			buf:     59,
			wantErr: io.ErrShortBuffer,
		},
		{
			name:    "tag over 65535 bytes",
			p:       Packet{Ethernet: Ethernet{EtherType: EtherTypeDiscovery}, Code: CodePADI, Tags: Tags{{Type: TagHostUniq, Value: big}}},
			buf:     0x20000,
			wantErr: ErrTooLong,
		},
		{
			name:    "session payload over 65535 bytes",
			p:       Packet{Ethernet: Ethernet{EtherType: EtherTypeSession}, Payload: big},
			buf:     0x20000,
			wantErr: ErrTooLong,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.p.MarshalTo(make([]byte, tt.buf))
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("MarshalTo error = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestTagHelpers(t *testing.T) {
	var p Packet
	if err := p.Decode(fixturePADI); err != nil {
		t.Fatal(err)
	}
	if mp, err := p.Tags.PPPMaxPayload(); err != nil || mp != 1500 {
		t.Errorf("PPPMaxPayload() = %d, %v; want 1500, nil", mp, err)
	}
	if !p.Tags.HasService("") || p.Tags.HasService("x") {
		t.Errorf("HasService wrong on %v", p.Tags)
	}
	if v, ok := findTag(fixturePADI[EthernetLen+HeaderLen:], TagHostUniq); !ok || !bytes.Equal(v, []byte{0xde, 0xad, 0xbe, 0xef}) {
		t.Errorf("findTag(Host-Uniq) = %x, %v", v, ok)
	}
	bad := Tags{{Type: TagPPPMaxPayload, Value: []byte{1}}}
	if _, err := bad.PPPMaxPayload(); !errors.Is(err, ErrBadTag) {
		t.Errorf("one-byte PPP-Max-Payload: err = %v, want ErrBadTag", err)
	}

	if err := p.Decode(fixturePADSError); err != nil {
		t.Fatal(err)
	}
	err := p.Tags.Err(p.Src)
	if !errors.Is(err, ErrServiceName) || errors.Is(err, ErrACSystem) {
		t.Errorf("Err() = %v, want a Service-Name-Error", err)
	}
	var pe *PeerError
	if !errors.As(err, &pe) || pe.Reason != "nope" || pe.Peer != macAC {
		t.Errorf("Err() = %#v", err)
	}
}

func TestStrings(t *testing.T) {
	tests := []struct{ got, want string }{
		{CodePADI.String(), "PADI"},
		{CodePADO.String(), "PADO"},
		{CodePADR.String(), "PADR"},
		{CodePADS.String(), "PADS"},
		{CodePADT.String(), "PADT"},
		{CodeSession.String(), "Session"},
		{Code(0x42).String(), "Code(0x42)"},
		{TagRelaySessionID.String(), "Relay-Session-Id"},
		{TagPPPMaxPayload.String(), "PPP-Max-Payload"},
		{TagType(0x0fee).String(), "Tag(0x0fee)"},
		{macAC.String(), "02:AB:CD:00:00:01"},
		{Tag{Type: TagACName, Value: []byte("MikroTik")}.String(), `AC-Name="MikroTik"`},
		{Tag{Type: TagPPPMaxPayload, Value: []byte{5, 0xdc}}.String(), "PPP-Max-Payload=1500"},
		{Tag{Type: TagACCookie, Value: []byte{1, 2}}.String(), "AC-Cookie=0102"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

// TestDecodeAllocs pins the hot path: decoding into a reused Packet does
// not allocate.
func TestDecodeAllocs(t *testing.T) {
	var p Packet
	p.Tags = make(Tags, 0, 16)
	buf := make([]byte, 1518)
	for _, tt := range decodeTests {
		allocs := testing.AllocsPerRun(100, func() {
			if err := p.Decode(tt.in); err != nil {
				t.Fatal(err)
			}
			if _, err := p.MarshalTo(buf); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocs per decode+encode, want 0", tt.name, allocs)
		}
	}
}
