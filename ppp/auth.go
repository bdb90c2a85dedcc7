package ppp

import (
	"crypto/md5"
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"strings"
)

// Method is an authentication method (SPEC §4), named as RouterOS names
// them in `allow` and `authentication`.
type Method uint8

// Methods, weakest first.
const (
	MethodNone Method = iota
	PAP               // RFC 1334
	CHAP              // CHAP with MD5, RFC 1994
	MSCHAPv1          // RFC 2433
	MSCHAPv2          // RFC 2759
	numMethods
)

func (m Method) String() string {
	switch m {
	case MethodNone:
		return "none"
	case PAP:
		return "pap"
	case CHAP:
		return "chap"
	case MSCHAPv1:
		return "mschap1"
	case MSCHAPv2:
		return "mschap2"
	}
	return fmt.Sprintf("method-%d", uint8(m))
}

// topic is the RouterOS log topic of the method: pap, chap or mschap.
func (m Method) topic() string {
	switch m {
	case PAP:
		return "pap"
	case MSCHAPv1, MSCHAPv2:
		return "mschap"
	}
	return "chap"
}

// chapAlgorithm is the Algorithm octet of the LCP Authentication-Protocol
// option for a CHAP method (RFC 1994 §3, RFC 2433 §2, RFC 2759 §2).
func (m Method) chapAlgorithm() uint8 {
	switch m {
	case CHAP:
		return CHAPAlgMD5
	case MSCHAPv1:
		return CHAPAlgMSv1
	case MSCHAPv2:
		return CHAPAlgMSv2
	}
	return 0
}

// challengeLen is the size of the Challenge Value the authenticator sends:
// 8 octets for MS-CHAPv1 (RFC 2433 §3), 16 for MS-CHAPv2 (RFC 2759 §3),
// and 16 for CHAP-MD5, where any size would do (RFC 1994 §2.3).
func (m Method) challengeLen() int {
	if m == MSCHAPv1 {
		return 8
	}
	return 16
}

// methodFromOption decodes the data of an LCP Authentication-Protocol
// option (RFC 1661 §6.2): a protocol, then for CHAP an algorithm.
func methodFromOption(d []byte) (Method, bool) {
	switch {
	case len(d) == 2 && Protocol(binary.BigEndian.Uint16(d)) == ProtoPAP:
		return PAP, true
	case len(d) == 3 && Protocol(binary.BigEndian.Uint16(d)) == ProtoCHAP:
		switch d[2] {
		case CHAPAlgMD5:
			return CHAP, true
		case CHAPAlgMSv1:
			return MSCHAPv1, true
		case CHAPAlgMSv2:
			return MSCHAPv2, true
		}
	}
	return MethodNone, false
}

// authOptionString names the method an Authentication-Protocol option asks
// for, known or not.
func authOptionString(d []byte) string {
	if m, ok := methodFromOption(d); ok {
		return m.String()
	}
	if len(d) >= 2 {
		p := Protocol(binary.BigEndian.Uint16(d))
		if p == ProtoCHAP && len(d) == 3 {
			return fmt.Sprintf("chap algorithm %d", d[2])
		}
		return p.String()
	}
	return fmt.Sprintf("%x", d)
}

// appendAuthOption appends an Authentication-Protocol option for m.
func appendAuthOption(b []byte, m Method) []byte {
	if m == PAP {
		return appendOption(b, LCPOptAuthProtocol, byte(ProtoPAP>>8), byte(ProtoPAP&0xff))
	}
	return appendOption(b, LCPOptAuthProtocol, byte(ProtoCHAP>>8), byte(ProtoCHAP&0xff), m.chapAlgorithm())
}

// MethodSet is a set of methods: a client's `allow`, a server's
// `authentication`. The zero set is empty.
type MethodSet uint8

// AllMethods is every method (RouterOS's default for both lists).
const AllMethods = MethodSet(1<<PAP | 1<<CHAP | 1<<MSCHAPv1 | 1<<MSCHAPv2)

// Methods returns the set of the given methods.
func Methods(ms ...Method) MethodSet {
	var s MethodSet
	for _, m := range ms {
		s = s.With(m)
	}
	return s
}

// Has reports whether m is in the set.
func (s MethodSet) Has(m Method) bool {
	return m > MethodNone && m < numMethods && s&(1<<m) != 0
}

// With returns the set plus m.
func (s MethodSet) With(m Method) MethodSet {
	if m > MethodNone && m < numMethods {
		s |= 1 << m
	}
	return s
}

// Without returns the set less m.
func (s MethodSet) Without(m Method) MethodSet { return s &^ (1 << m) }

// Strongest returns the strongest method in the set — mschap2, mschap1,
// chap, pap in that order — or MethodNone for the empty set.
func (s MethodSet) Strongest() Method {
	for m := numMethods - 1; m > MethodNone; m-- {
		if s.Has(m) {
			return m
		}
	}
	return MethodNone
}

// List returns the methods strongest first.
func (s MethodSet) List() []Method {
	var l []Method
	for m := numMethods - 1; m > MethodNone; m-- {
		if s.Has(m) {
			l = append(l, m)
		}
	}
	return l
}

// String lists the set weakest first, comma separated, as RouterOS prints
// `authentication=pap,chap,mschap1,mschap2`.
func (s MethodSet) String() string {
	var parts []string
	for m := PAP; m < numMethods; m++ {
		if s.Has(m) {
			parts = append(parts, m.String())
		}
	}
	return strings.Join(parts, ",")
}

// ParseMethodSet parses a comma-separated list of method names (pap, chap,
// mschap1, mschap2), in any order.
func ParseMethodSet(list string) (MethodSet, error) {
	var s MethodSet
	if strings.TrimSpace(list) == "" {
		return 0, nil
	}
	for _, name := range strings.Split(list, ",") {
		m, err := ParseMethod(strings.TrimSpace(name))
		if err != nil {
			return 0, err
		}
		s = s.With(m)
	}
	return s, nil
}

// ParseMethod parses one method name.
func ParseMethod(name string) (Method, error) {
	for m := PAP; m < numMethods; m++ {
		if name == m.String() {
			return m, nil
		}
	}
	return MethodNone, fmt.Errorf("%w: unknown authentication method %q", ErrBadValue, name)
}

// AuthRequest is a peer's claim to be User, as the authenticator sees it.
type AuthRequest struct {
	Method Method
	User   string
	// Password is the PAP Passwd field (RFC 1334 §2.2.1).
	Password string
	// ID, Challenge and Response are the CHAP exchange (RFC 1994 §4.1):
	// the Identifier, the Challenge Value we sent, and the Response
	// Value: 16 octets for CHAP-MD5, 49 for MS-CHAPv1 (RFC 2433 §4) and
	// MS-CHAPv2 (RFC 2759 §4).
	ID        uint8
	Challenge []byte
	Response  []byte
}

// AuthResult is an Authenticator's verdict.
type AuthResult struct {
	OK bool
	// Reason says why not, for the log and the session's error; it is
	// never sent to the peer ("wrong password", "unknown user", "secret
	// disabled").
	Reason string
	// Message is text for the peer: the PAP Ack/Nak message, the CHAP
	// Success/Failure message, the M= of MS-CHAPv2.
	Message string
	// AuthenticatorResponse is the "S=" string that proves to an
	// MS-CHAPv2 peer that we know its password (RFC 2759 §8.7); required
	// when OK for MS-CHAPv2.
	AuthenticatorResponse string
	// MSCHAPError is the E= code of an MS-CHAP Failure (RFC 2759 §6);
	// zero means 691, ERROR_AUTHENTICATION_FAILURE.
	MSCHAPError int
}

// Authenticator verifies a peer's credentials (the server role). It is
// called on the session's goroutine and should answer quickly.
type Authenticator interface {
	Authenticate(r *AuthRequest) AuthResult
}

// AsyncAuthenticator is an Authenticator that may need the network to
// decide (a RADIUS server): the session must not stop serving its link —
// LCP echoes, a Terminate-Request, a PADT — while it waits.
//
// StartAuthenticate either decides at once (done true, res the verdict:
// a local secret) or returns done false and later calls verdict exactly
// once, from any goroutine. While a verdict is pending the authenticator
// sends nothing: a retransmitted PAP Authenticate-Request or CHAP Response
// is dropped (RFC 1334 §2.2.1 and RFC 1994 §4.1 let the peer retransmit;
// the answer comes when the verdict does) and the Challenge is not
// repeated. An AsyncAuthenticator must call verdict within bounded time
// (its servers' timeouts); the session keeps the exchange open until then.
type AsyncAuthenticator interface {
	Authenticator
	StartAuthenticate(r *AuthRequest, verdict func(AuthResult)) (res AuthResult, done bool)
}

// AuthenticatorFunc adapts a function to Authenticator.
type AuthenticatorFunc func(r *AuthRequest) AuthResult

// Authenticate calls f.
func (f AuthenticatorFunc) Authenticate(r *AuthRequest) AuthResult { return f(r) }

// PasswordAuthenticator checks every method against a plaintext password
// that lookup finds for the user name. An error from lookup refuses the
// user, its text becoming the reason ("unknown user", "secret disabled").
func PasswordAuthenticator(lookup func(user string) (password string, err error)) Authenticator {
	return AuthenticatorFunc(func(r *AuthRequest) AuthResult {
		pw, err := lookup(r.User)
		if err != nil {
			return AuthResult{Reason: err.Error()}
		}
		return VerifyPassword(r, pw)
	})
}

// VerifyPassword checks r against the user's plaintext password: PAP by
// comparison (RFC 1334), CHAP by MD5 (RFC 1994 §2.2), MS-CHAPv1 by its NT
// response or, failing that flag, its LAN Manager response (RFC 2433 §A),
// MS-CHAPv2 by its NT-Response, computing the authenticator response
// (RFC 2759 §8).
func VerifyPassword(r *AuthRequest, password string) AuthResult {
	wrong := AuthResult{Reason: "wrong password"}
	switch r.Method {
	case PAP:
		if subtle.ConstantTimeCompare([]byte(r.Password), []byte(password)) == 1 {
			return AuthResult{OK: true}
		}
		return wrong
	case CHAP:
		want := chapMD5(r.ID, password, r.Challenge)
		if subtle.ConstantTimeCompare(r.Response, want[:]) == 1 {
			return AuthResult{OK: true}
		}
		return wrong
	case MSCHAPv1:
		resp, err := ParseMSCHAPv1Response(r.Response)
		if err != nil || len(r.Challenge) != 8 {
			return AuthResult{Reason: "malformed MS-CHAPv1 response"}
		}
		var want [24]byte
		got := resp.NTResponse
		if resp.Flags&msv1UseNT != 0 {
			want = MSCHAPv1NTResponse(r.Challenge, password)
		} else {
			want = MSCHAPv1LMResponse(r.Challenge, password)
			got = resp.LMResponse
		}
		if subtle.ConstantTimeCompare(got[:], want[:]) == 1 {
			return AuthResult{OK: true}
		}
		return wrong
	case MSCHAPv2:
		resp, err := ParseMSCHAPv2Response(r.Response)
		if err != nil || len(r.Challenge) != 16 {
			return AuthResult{Reason: "malformed MS-CHAPv2 response"}
		}
		want, err := MSCHAPv2NTResponse(r.Challenge, resp.PeerChallenge[:], r.User, password)
		if err != nil {
			return AuthResult{Reason: err.Error()}
		}
		if subtle.ConstantTimeCompare(resp.NTResponse[:], want[:]) != 1 {
			return wrong
		}
		s, err := MSCHAPv2AuthenticatorResponse(r.Challenge, resp.PeerChallenge[:], resp.NTResponse[:], r.User, password)
		if err != nil {
			return AuthResult{Reason: err.Error()}
		}
		return AuthResult{OK: true, AuthenticatorResponse: s}
	}
	return AuthResult{Reason: "unsupported method " + r.Method.String()}
}

// chapMD5 is the CHAP-MD5 Response Value: MD5 over the Identifier, the
// secret and the Challenge Value (RFC 1994 §4.1).
func chapMD5(id uint8, secret string, challenge []byte) [16]byte {
	h := md5.New()
	h.Write([]byte{id})
	h.Write([]byte(secret))
	h.Write(challenge)
	var out [16]byte
	h.Sum(out[:0])
	return out
}
