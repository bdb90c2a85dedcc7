package ppp

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/crypto/md4" //nolint:staticcheck // RFC 2759 §8.4 HashNtPasswordHash
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParsePacket(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		want    []byte
		wantErr error
	}{
		{name: "empty", in: nil, wantErr: io.ErrUnexpectedEOF},
		{name: "short header", in: []byte{1, 2, 0}, wantErr: io.ErrUnexpectedEOF},
		{name: "length below header", in: []byte{1, 2, 0, 3}, wantErr: ErrBadLength},
		{name: "length past end", in: []byte{1, 2, 0, 8, 0}, wantErr: io.ErrUnexpectedEOF},
		{name: "header only", in: []byte{5, 9, 0, 4}, want: []byte{5, 9, 0, 4}},
		{
			name: "padding dropped",
			in: []byte{
				0x09,       // Code: Echo-Request
				0x01,       // Identifier
				0x00, 0x08, // Length: 8
				0x12, 0x34, 0x56, 0x78, // Magic-Number
				0x00, 0x00, // Ethernet padding past Length
			},
			want: []byte{0x09, 0x01, 0x00, 0x08, 0x12, 0x34, 0x56, 0x78},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePacket(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err == nil && !bytes.Equal(got, tt.want) {
				t.Fatalf("(-want +got):\n- %x\n+ %x", tt.want, got)
			}
		})
	}
}

func TestParseOptions(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		want    Options
		wantErr error
	}{
		{name: "none", in: nil, want: nil},
		{
			name: "pppd LCP request",
			in: []byte{
				0x01, 0x04, 0x05, 0xd4, // MRU 1492
				0x05, 0x06, 0x1a, 0x2b, 0x3c, 0x4d, // Magic-Number
				0x07, 0x02, // PFC, no data
			},
			want: Options{
				{Type: 1, Data: []byte{0x05, 0xd4}},
				{Type: 5, Data: []byte{0x1a, 0x2b, 0x3c, 0x4d}},
				{Type: 7, Data: []byte{}},
			},
		},
		{name: "length 0", in: []byte{0x01, 0x00}, wantErr: ErrBadLength},
		{name: "length 1", in: []byte{0x01, 0x01, 0x00}, wantErr: ErrBadLength},
		{name: "truncated", in: []byte{0x01, 0x04, 0x05}, wantErr: io.ErrUnexpectedEOF},
		{name: "lone type", in: []byte{0x01, 0x04, 0x05, 0xd4, 0x05}, wantErr: io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseOptions(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("(-want +got):\n- %v\n+ %v", tt.want, got)
			}
			b, err := got.MarshalBinary()
			if err != nil || !bytes.Equal(b, tt.in) && len(tt.in) > 0 {
				t.Fatalf("MarshalBinary = %x, %v; want %x", b, err, tt.in)
			}
		})
	}
	if _, err := (Option{Type: 1, Data: make([]byte, 254)}).MarshalTo(make([]byte, 300)); !errors.Is(err, ErrOptionTooLong) {
		t.Errorf("254 octets of data: err = %v, want ErrOptionTooLong", err)
	}
}

func TestPAPCodec(t *testing.T) {
	req := []byte{
		0x01,       // Code: Authenticate-Request
		0x07,       // Identifier
		0x00, 0x0e, // Length: 14
		0x03, 'b', 'o', 'b', // Peer-ID Length, Peer-ID
		0x05, 's', 'e', 'c', 'r', 't', // Passwd-Length, Password
	}
	p, err := ParsePAP(req)
	if err != nil {
		t.Fatal(err)
	}
	want := PAPPacket{Code: PAPAuthRequest, ID: 7, PeerID: []byte("bob"), Password: []byte("secrt")}
	if !reflect.DeepEqual(p, want) {
		t.Fatalf("(-want +got):\n- %+v\n+ %+v", want, p)
	}
	if b, _ := p.MarshalBinary(); !bytes.Equal(b, req) {
		t.Fatalf("MarshalBinary = %x, want %x", b, req)
	}
	for _, bad := range [][]byte{
		{0x01, 0x07, 0x00, 0x05, 0x03},             // Peer-ID cut short
		{0x01, 0x07, 0x00, 0x06, 0x00, 0x01},       // Password cut short
		{0x04, 0x07, 0x00, 0x05, 0x00},             // no such code
		{0x02, 0x07, 0x00, 0x06, 0x05, 'o'},        // message cut short
		{0x01, 0x07, 0x00, 0x05, 0x00, 0x00, 0x00}, // Length ends before Passwd-Length
	} {
		if _, err := ParsePAP(bad); err == nil {
			t.Errorf("ParsePAP(%x) succeeded", bad)
		}
	}
	// An Ack with no Msg-Length octet: an empty message.
	if p, err := ParsePAP([]byte{0x02, 0x01, 0x00, 0x04}); err != nil || p.Code != PAPAuthAck || len(p.Message) != 0 {
		t.Errorf("bare Ack: %+v, %v", p, err)
	}
}

func TestCHAPCodec(t *testing.T) {
	ch := []byte{
		0x01,       // Code: Challenge
		0x2a,       // Identifier
		0x00, 0x0f, // Length: 15
		0x08,                                           // Value-Size
		0x10, 0x2d, 0xb5, 0xdf, 0x08, 0x5d, 0x30, 0x41, // Value
		'a', 'c', // Name
	}
	p, err := ParseCHAP(ch)
	if err != nil {
		t.Fatal(err)
	}
	if p.Code != CHAPChallenge || p.ID != 0x2a || len(p.Value) != 8 || string(p.Name) != "ac" {
		t.Fatalf("got %+v", p)
	}
	if b, _ := p.MarshalBinary(); !bytes.Equal(b, ch) {
		t.Fatalf("MarshalBinary = %x, want %x", b, ch)
	}
	succ := []byte{0x03, 0x2a, 0x00, 0x06, 'o', 'k'}
	if p, err := ParseCHAP(succ); err != nil || p.Code != CHAPSuccess || string(p.Message) != "ok" {
		t.Fatalf("Success: %+v, %v", p, err)
	}
	for _, bad := range [][]byte{
		{0x01, 0x2a, 0x00, 0x05, 0x00},       // empty value
		{0x02, 0x2a, 0x00, 0x06, 0x05, 0x01}, // value cut short
		{0x05, 0x2a, 0x00, 0x04},             // no such code
	} {
		if _, err := ParseCHAP(bad); err == nil {
			t.Errorf("ParseCHAP(%x) succeeded", bad)
		}
	}
}

// TestRFC2433Vectors checks MS-CHAPv1 against RFC 2433 appendix B.2: the
// hash example for the password "MyPw".
func TestRFC2433Vectors(t *testing.T) {
	challenge := unhex(t, "10 2D B5 DF 08 5D 30 41")
	if got, want := unicodePassword("MyPw"), unhex(t, "4D 00 79 00 50 00 77 00"); !bytes.Equal(got, want) {
		t.Errorf("unicode password = %X, want %X", got, want)
	}
	hash := NTPasswordHash("MyPw")
	if want := unhex(t, "FC 15 6A F7 ED CD 6C 0E DD E3 33 7D 42 7F 4E AC"); !bytes.Equal(hash[:], want) {
		t.Errorf("NtPasswordHash = %X, want %X", hash, want)
	}
	resp := MSCHAPv1NTResponse(challenge, "MyPw")
	want := unhex(t, "4E 9D 3C 8F 9C FD 38 5D 5B F4 D3 24 67 91 95 6C A4 C3 51 AB 40 9A 3D 61")
	if !bytes.Equal(resp[:], want) {
		t.Errorf("NtChallengeResponse = %X, want %X", resp, want)
	}
	// The LAN Manager hash of RFC 2433 §A.3, with the sample value RFC
	// 3079's key-derivation examples use for the password "clientPass".
	lm := LMPasswordHash("clientPass")
	if want := unhex(t, "76 A1 52 93 60 96 D7 83 0E 23 90 22 74 04 AF D2"); !bytes.Equal(lm[:], want) {
		t.Errorf("LmPasswordHash = %X, want %X", lm, want)
	}
	// VerifyPassword accepts the vector's response and a wrong password
	// fails it.
	v := make([]byte, msResponseLen)
	MSCHAPv1Response{NTResponse: resp, Flags: msv1UseNT}.MarshalTo(v)
	r := &AuthRequest{Method: MSCHAPv1, User: "u", Challenge: challenge, Response: v}
	if res := VerifyPassword(r, "MyPw"); !res.OK {
		t.Errorf("VerifyPassword(MyPw) = %+v", res)
	}
	if res := VerifyPassword(r, "MyPW"); res.OK || res.Reason != "wrong password" {
		t.Errorf("VerifyPassword(MyPW) = %+v", res)
	}
	// A peer that only sends the LAN Manager response (flag clear).
	lmResp := MSCHAPv1LMResponse(challenge, "MyPw")
	MSCHAPv1Response{LMResponse: lmResp}.MarshalTo(v)
	if res := VerifyPassword(r, "MyPw"); !res.OK {
		t.Errorf("LM-only response: %+v", res)
	}
}

// TestRFC2759Vectors checks MS-CHAPv2 against RFC 2759 §9.2.
func TestRFC2759Vectors(t *testing.T) {
	const user, password = "User", "clientPass"
	authChallenge := unhex(t, "5B 5D 7C 7D 7B 3F 2F 3E 3C 2C 60 21 32 26 26 28")
	peerChallenge := unhex(t, "21 40 23 24 25 5E 26 2A 28 29 5F 2B 3A 33 7C 7E")
	if got, want := unicodePassword(password), unhex(t, "63 00 6C 00 69 00 65 00 6E 00 74 00 50 00 61 00 73 00 73 00"); !bytes.Equal(got, want) {
		t.Errorf("unicode password = %X, want %X", got, want)
	}
	hash := NTPasswordHash(password)
	if want := unhex(t, "44 EB BA 8D 53 12 B8 D6 11 47 44 11 F5 69 89 AE"); !bytes.Equal(hash[:], want) {
		t.Errorf("PasswordHash = %X, want %X", hash, want)
	}
	h := md4.New()
	h.Write(hash[:])
	if got, want := h.Sum(nil), unhex(t, "41 C0 0C 58 4B D2 D9 1C 40 17 A2 A1 2F A5 9F 3F"); !bytes.Equal(got, want) {
		t.Errorf("PasswordHashHash = %X, want %X", got, want)
	}
	nt, err := MSCHAPv2NTResponse(authChallenge, peerChallenge, user, password)
	if err != nil {
		t.Fatal(err)
	}
	wantNT := unhex(t, "82 30 9E CD 8D 70 8B 5E A0 8F AA 39 81 CD 83 54 42 33 11 4A 3D 85 D6 DF")
	if !bytes.Equal(nt[:], wantNT) {
		t.Errorf("NT-Response = %X, want %X", nt, wantNT)
	}
	s, err := MSCHAPv2AuthenticatorResponse(authChallenge, peerChallenge, nt[:], user, password)
	if err != nil || s != "S=407A5589115FD0D6209F510FE9C04566932CDA56" {
		t.Errorf("AuthenticatorResponse = %q, %v", s, err)
	}
	// A domain prefix does not enter the hash (RFC 2759 §8.2).
	if nt2, _ := MSCHAPv2NTResponse(authChallenge, peerChallenge, `WORKGROUP\User`, password); nt2 != nt {
		t.Errorf("domain\\user gave another NT-Response")
	}
	// VerifyPassword accepts the vector and returns the S= string.
	v := make([]byte, msResponseLen)
	r2 := MSCHAPv2Response{NTResponse: nt}
	copy(r2.PeerChallenge[:], peerChallenge)
	r2.MarshalTo(v)
	r := &AuthRequest{Method: MSCHAPv2, User: user, Challenge: authChallenge, Response: v}
	if res := VerifyPassword(r, password); !res.OK || res.AuthenticatorResponse != s {
		t.Errorf("VerifyPassword = %+v", res)
	}
	if res := VerifyPassword(r, "clientpass"); res.OK {
		t.Errorf("wrong password accepted")
	}
}

func TestCHAPMD5(t *testing.T) {
	// RFC 1994 §4.1: MD5(Identifier || secret || Challenge).
	ch := unhex(t, "0102030405060708090a0b0c0d0e0f10")
	got := chapMD5(0x2a, "secret", ch)
	r := &AuthRequest{Method: CHAP, ID: 0x2a, Challenge: ch, Response: got[:]}
	if res := VerifyPassword(r, "secret"); !res.OK {
		t.Errorf("VerifyPassword = %+v", res)
	}
	r.ID = 0x2b
	if res := VerifyPassword(r, "secret"); res.OK {
		t.Error("another identifier accepted")
	}
}

func TestMSCHAPMessages(t *testing.T) {
	tests := []struct {
		in      string
		want    MSCHAPFailure
		wantErr bool
	}{
		{in: "E=691 R=0", want: MSCHAPFailure{Error: 691}},
		{
			in:   "E=691 R=1 C=0102030405060708090A0B0C0D0E0F10 V=3 M=Authentication failure, try again",
			want: MSCHAPFailure{Error: 691, Retry: true, Challenge: unhex(t, "0102030405060708090A0B0C0D0E0F10"), Version: 3, Message: "Authentication failure, try again"},
		},
		{in: "E=648 R=0 V=3", want: MSCHAPFailure{Error: 648, Version: 3}},
		{in: "R=0", wantErr: true},
		{in: "E=x R=0", wantErr: true},
		{in: "E=691 R=2", wantErr: true},
		{in: "E=691 Q=1", wantErr: true},
		{in: "E=691 C=zz", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseMSCHAPFailure(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("%q: err = %v", tt.in, err)
			continue
		}
		if err == nil && !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q: (-want +got):\n- %+v\n+ %+v", tt.in, tt.want, got)
		}
		if err == nil && got.String() != tt.in {
			t.Errorf("%q: String() = %q", tt.in, got.String())
		}
	}
	s, text, err := ParseMSCHAPv2Success("S=407A5589115FD0D6209F510FE9C04566932CDA56 M=Access granted")
	if err != nil || s != "S=407A5589115FD0D6209F510FE9C04566932CDA56" || text != "Access granted" {
		t.Errorf("success: %q %q %v", s, text, err)
	}
	for _, bad := range []string{"", "S=12", "M=hello", "S=407A5589115FD0D6209F510FE9C04566932CDAZZ", "S=407A5589115FD0D6209F510FE9C04566932CDA56 X"} {
		if _, _, err := ParseMSCHAPv2Success(bad); err == nil {
			t.Errorf("ParseMSCHAPv2Success(%q) succeeded", bad)
		}
	}
}

func TestMethodSet(t *testing.T) {
	s, err := ParseMethodSet("mschap2,mschap1,chap,pap")
	if err != nil || s != AllMethods {
		t.Fatalf("ParseMethodSet = %v, %v", s, err)
	}
	if s.String() != "pap,chap,mschap1,mschap2" {
		t.Errorf("String = %q", s.String())
	}
	if got := Methods(PAP, MSCHAPv1).List(); !reflect.DeepEqual(got, []Method{MSCHAPv1, PAP}) {
		t.Errorf("List = %v", got)
	}
	if Methods(PAP, CHAP).Strongest() != CHAP || MethodSet(0).Strongest() != MethodNone {
		t.Error("Strongest")
	}
	if _, err := ParseMethodSet("pap,eap"); err == nil {
		t.Error("eap accepted")
	}
}

// BenchmarkParseOptions decodes a typical pppd LCP Configure-Request.
func BenchmarkParseOptions(b *testing.B) {
	opts := []byte{1, 4, 5, 0xd4, 3, 5, 0xc2, 0x23, 0x81, 5, 6, 1, 2, 3, 4, 7, 2, 8, 2}
	b.ReportAllocs()
	for b.Loop() {
		if err := checkOptions(opts); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParsePAP(b *testing.B) {
	p, _ := PAPPacket{Code: PAPAuthRequest, ID: 1, PeerID: []byte("MT-User"), Password: []byte("StrongPass")}.MarshalBinary()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParsePAP(p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseCHAP(b *testing.B) {
	p, _ := CHAPPacket{Code: CHAPResponse, ID: 1, Value: make([]byte, 49), Name: []byte("MT-User")}.MarshalBinary()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseCHAP(p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshalCHAP(b *testing.B) {
	p := CHAPPacket{Code: CHAPResponse, ID: 1, Value: make([]byte, 49), Name: []byte("MT-User")}
	buf := make([]byte, 128)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.MarshalTo(buf); err != nil {
			b.Fatal(err)
		}
	}
}
