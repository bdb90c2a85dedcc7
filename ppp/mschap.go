package ppp

import (
	"crypto/des"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf16"

	"golang.org/x/crypto/md4" //nolint:staticcheck // MS-CHAP is defined over MD4 (RFC 2433 §A.8).
	"layeh.com/radius/rfc2759"
)

// MS-CHAPv1 (RFC 2433) is written here from its appendix A; MS-CHAPv2's
// primitives (RFC 2759 §8) come from layeh.com/radius/rfc2759.

// unicodePassword is the "0-to-256-unicode-char Password" of RFC 2433 §A:
// the password in UTF-16 little-endian, at most 256 characters.
func unicodePassword(password string) []byte {
	u := utf16.Encode([]rune(password))
	if len(u) > 256 {
		u = u[:256]
	}
	b := make([]byte, 2*len(u))
	for i, c := range u {
		b[2*i] = byte(c)
		b[2*i+1] = byte(c >> 8)
	}
	return b
}

// NTPasswordHash is MD4 over the Unicode password (RFC 2433 §A.8, RFC 2759
// §8.3).
func NTPasswordHash(password string) [16]byte {
	h := md4.New()
	h.Write(unicodePassword(password))
	var out [16]byte
	h.Sum(out[:0])
	return out
}

// LMPasswordHash is the LAN Manager hash (RFC 2433 §A.3): the password in
// upper case, padded or cut to 14 octets, each half a DES key encrypting
// the constant "KGS!@#$%" (§A.4 DesHash).
func LMPasswordHash(password string) [16]byte {
	var pw [14]byte
	copy(pw[:], strings.ToUpper(password))
	var out [16]byte
	clear := []byte("KGS!@#$%")
	desEncrypt(out[0:8], pw[0:7], clear)
	desEncrypt(out[8:16], pw[7:14], clear)
	return out
}

// challengeResponse is RFC 2433 §A.5: the 16-octet hash zero-padded to 21
// octets makes three DES keys, each encrypting the 8-octet challenge.
// A challenge shorter than 8 octets is zero-padded.
func challengeResponse(challenge []byte, hash [16]byte) [24]byte {
	var z [21]byte
	copy(z[:], hash[:])
	var c [8]byte
	copy(c[:], challenge)
	var out [24]byte
	desEncrypt(out[0:8], z[0:7], c[:])
	desEncrypt(out[8:16], z[7:14], c[:])
	desEncrypt(out[16:24], z[14:21], c[:])
	return out
}

// desEncrypt is RFC 2433 §A.6 DesEncrypt: key7 is a 56-bit DES key, which
// is spread over eight octets (seven key bits each, the low bit for
// parity, which DES ignores) before encrypting the 8-octet clear block.
func desEncrypt(dst, key7, clear []byte) {
	var k [8]byte
	k[0] = key7[0]
	k[1] = key7[0]<<7 | key7[1]>>1
	k[2] = key7[1]<<6 | key7[2]>>2
	k[3] = key7[2]<<5 | key7[3]>>3
	k[4] = key7[3]<<4 | key7[4]>>4
	k[5] = key7[4]<<3 | key7[5]>>5
	k[6] = key7[5]<<2 | key7[6]>>6
	k[7] = key7[6] << 1
	for i := range k {
		k[i] &^= 1
		if parity(k[i]) == 0 { // odd parity, as DES defines it
			k[i] |= 1
		}
	}
	c, err := des.NewCipher(k[:])
	if err != nil { // only for a key that is not 8 octets
		panic(err)
	}
	c.Encrypt(dst, clear)
}

func parity(b byte) byte {
	b ^= b >> 4
	b ^= b >> 2
	b ^= b >> 1
	return b & 1
}

// MSCHAPv1NTResponse is NtChallengeResponse (RFC 2433 §A.5) for an
// 8-octet challenge.
func MSCHAPv1NTResponse(challenge []byte, password string) [24]byte {
	return challengeResponse(challenge, NTPasswordHash(password))
}

// MSCHAPv1LMResponse is LmChallengeResponse (RFC 2433 §A.1).
func MSCHAPv1LMResponse(challenge []byte, password string) [24]byte {
	return challengeResponse(challenge, LMPasswordHash(password))
}

// msv1UseNT is the Flags bit of an MS-CHAPv1 response saying the NT
// response is to be used (RFC 2433 §4).
const msv1UseNT = 0x01

// msResponseLen is the Value-Size of an MS-CHAP Response, both versions.
const msResponseLen = 49

// MSCHAPv1Response is the Response Value of MS-CHAPv1 (RFC 2433 §4).
type MSCHAPv1Response struct {
	LMResponse [24]byte
	NTResponse [24]byte
	Flags      uint8 // 1: use the NT response
}

// ParseMSCHAPv1Response decodes a 49-octet Response Value.
func ParseMSCHAPv1Response(v []byte) (MSCHAPv1Response, error) {
	var r MSCHAPv1Response
	if len(v) < msResponseLen {
		return r, io.ErrUnexpectedEOF
	}
	if len(v) > msResponseLen {
		return r, fmt.Errorf("%w: MS-CHAPv1 response of %d octets", ErrBadValue, len(v))
	}
	copy(r.LMResponse[:], v[0:24])
	copy(r.NTResponse[:], v[24:48])
	r.Flags = v[48]
	return r, nil
}

// Len is the Value-Size: 49.
func (r MSCHAPv1Response) Len() int { return msResponseLen }

// MarshalTo writes the Response Value without allocating.
func (r MSCHAPv1Response) MarshalTo(b []byte) (int, error) {
	if len(b) < msResponseLen {
		return 0, io.ErrShortBuffer
	}
	copy(b[0:24], r.LMResponse[:])
	copy(b[24:48], r.NTResponse[:])
	b[48] = r.Flags
	return msResponseLen, nil
}

// MSCHAPv2Response is the Response Value of MS-CHAPv2 (RFC 2759 §4).
type MSCHAPv2Response struct {
	PeerChallenge [16]byte
	Reserved      [8]byte // zero
	NTResponse    [24]byte
	Flags         uint8 // zero
}

// ParseMSCHAPv2Response decodes a 49-octet Response Value.
func ParseMSCHAPv2Response(v []byte) (MSCHAPv2Response, error) {
	var r MSCHAPv2Response
	if len(v) < msResponseLen {
		return r, io.ErrUnexpectedEOF
	}
	if len(v) > msResponseLen {
		return r, fmt.Errorf("%w: MS-CHAPv2 response of %d octets", ErrBadValue, len(v))
	}
	copy(r.PeerChallenge[:], v[0:16])
	copy(r.Reserved[:], v[16:24])
	copy(r.NTResponse[:], v[24:48])
	r.Flags = v[48]
	return r, nil
}

// Len is the Value-Size: 49.
func (r MSCHAPv2Response) Len() int { return msResponseLen }

// MarshalTo writes the Response Value without allocating.
func (r MSCHAPv2Response) MarshalTo(b []byte) (int, error) {
	if len(b) < msResponseLen {
		return 0, io.ErrShortBuffer
	}
	copy(b[0:16], r.PeerChallenge[:])
	copy(b[16:24], r.Reserved[:])
	copy(b[24:48], r.NTResponse[:])
	b[48] = r.Flags
	return msResponseLen, nil
}

// challengeUser is the UserName that enters MS-CHAPv2's ChallengeHash:
// the name without any prepended domain (RFC 2759 §8.2).
func challengeUser(user string) string {
	if i := strings.LastIndexByte(user, '\\'); i >= 0 {
		return user[i+1:]
	}
	return user
}

// MSCHAPv2NTResponse is GenerateNTResponse (RFC 2759 §8.1).
func MSCHAPv2NTResponse(authChallenge, peerChallenge []byte, user, password string) ([24]byte, error) {
	var out [24]byte
	r, err := rfc2759.GenerateNTResponse(authChallenge, peerChallenge, []byte(challengeUser(user)), []byte(password))
	if err != nil {
		return out, fmt.Errorf("ppp: MS-CHAPv2 password: %w", err)
	}
	copy(out[:], r)
	return out, nil
}

// MSCHAPv2AuthenticatorResponse is GenerateAuthenticatorResponse (RFC
// 2759 §8.7): "S=" and 40 upper-case hex digits.
func MSCHAPv2AuthenticatorResponse(authChallenge, peerChallenge, ntResponse []byte, user, password string) (string, error) {
	s, err := rfc2759.GenerateAuthenticatorResponse(authChallenge, peerChallenge, ntResponse, []byte(challengeUser(user)), []byte(password))
	if err != nil {
		return "", fmt.Errorf("ppp: MS-CHAPv2 password: %w", err)
	}
	return s, nil
}

// MSCHAPFailure is the Message of an MS-CHAP Failure packet (RFC 2759 §6,
// RFC 2433 §5): "E=691 R=0 C=<challenge> V=3 M=<text>". Fields absent from
// the message are zero.
type MSCHAPFailure struct {
	Error     int    // E=: the Windows error code, 691 for a wrong password
	Retry     bool   // R=1: the peer may retry
	Challenge []byte // C=: the next challenge, 16 octets in MS-CHAPv2
	Version   int    // V=: the password-change protocol version
	Message   string // M=: text to show the user; runs to the end
}

// MS-CHAP error codes (RFC 2759 §6).
const (
	MSCHAPErrRestrictedLogonHours = 646
	MSCHAPErrAccountDisabled      = 647
	MSCHAPErrPasswordExpired      = 648
	MSCHAPErrNoDialinPermission   = 649
	MSCHAPErrAuthenticationFailed = 691
	MSCHAPErrChangingPassword     = 709
)

// msErrorText explains an MS-CHAP error code.
func msErrorText(code int) string {
	switch code {
	case MSCHAPErrRestrictedLogonHours:
		return "restricted logon hours"
	case MSCHAPErrAccountDisabled:
		return "account disabled"
	case MSCHAPErrPasswordExpired:
		return "password expired"
	case MSCHAPErrNoDialinPermission:
		return "no dial-in permission"
	case MSCHAPErrAuthenticationFailed:
		return "wrong user name or password"
	case MSCHAPErrChangingPassword:
		return "error changing password"
	}
	return "error " + strconv.Itoa(code)
}

// ParseMSCHAPFailure decodes a Failure message. It needs at least E=.
func ParseMSCHAPFailure(msg string) (MSCHAPFailure, error) {
	var f MSCHAPFailure
	seenE := false
	rest := msg
	for rest != "" {
		rest = strings.TrimLeft(rest, " ")
		if rest == "" {
			break
		}
		if strings.HasPrefix(rest, "M=") {
			f.Message = rest[2:]
			break
		}
		field := rest
		if i := strings.IndexByte(rest, ' '); i >= 0 {
			field, rest = rest[:i], rest[i+1:]
		} else {
			rest = ""
		}
		if len(field) < 2 || field[1] != '=' {
			return f, fmt.Errorf("%w: MS-CHAP failure field %q", ErrBadValue, field)
		}
		v := field[2:]
		var err error
		switch field[0] {
		case 'E':
			f.Error, err = strconv.Atoi(v)
			seenE = err == nil
		case 'R':
			switch v {
			case "0":
				f.Retry = false
			case "1":
				f.Retry = true
			default:
				err = ErrBadValue
			}
		case 'C':
			f.Challenge, err = hex.DecodeString(v)
		case 'V':
			f.Version, err = strconv.Atoi(v)
		default:
			err = ErrBadValue
		}
		if err != nil || f.Error < 0 || f.Version < 0 {
			return f, fmt.Errorf("%w: MS-CHAP failure field %q", ErrBadValue, field)
		}
	}
	if !seenE {
		return f, fmt.Errorf("%w: MS-CHAP failure without E=", ErrBadValue)
	}
	return f, nil
}

// String encodes the message: E and R always, C, V and M when set.
func (f MSCHAPFailure) String() string {
	var sb strings.Builder
	sb.WriteString("E=")
	sb.WriteString(strconv.Itoa(f.Error))
	if f.Retry {
		sb.WriteString(" R=1")
	} else {
		sb.WriteString(" R=0")
	}
	if len(f.Challenge) > 0 {
		sb.WriteString(" C=")
		sb.WriteString(strings.ToUpper(hex.EncodeToString(f.Challenge)))
	}
	if f.Version != 0 {
		sb.WriteString(" V=")
		sb.WriteString(strconv.Itoa(f.Version))
	}
	if f.Message != "" {
		sb.WriteString(" M=")
		sb.WriteString(f.Message)
	}
	return sb.String()
}

// ParseMSCHAPv2Success splits the Message of an MS-CHAPv2 Success packet,
// "S=<40 hex digits> M=<text>" (RFC 2759 §5), into the authenticator
// response ("S=…", as MSCHAPv2AuthenticatorResponse returns it) and the
// text.
func ParseMSCHAPv2Success(msg string) (authResponse, text string, err error) {
	const n = 2 + 40
	if len(msg) < n || !strings.HasPrefix(msg, "S=") {
		return "", "", fmt.Errorf("%w: MS-CHAPv2 success message without S=", ErrBadValue)
	}
	if _, err := hex.DecodeString(msg[2:n]); err != nil {
		return "", "", fmt.Errorf("%w: MS-CHAPv2 authenticator response %q", ErrBadValue, msg[:n])
	}
	rest := strings.TrimLeft(msg[n:], " ")
	if rest != "" && !strings.HasPrefix(rest, "M=") {
		return "", "", fmt.Errorf("%w: MS-CHAPv2 success message %q", ErrBadValue, msg)
	}
	return strings.ToUpper(msg[:n]), strings.TrimPrefix(rest, "M="), nil
}
