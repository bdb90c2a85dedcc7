package router

import (
	"testing"

	"rosh/ppp"
)

// TestLocalVerdictSameForUnknownUser: a user name with no secret and a
// wrong password get the peer the same answer (PAP Nak or CHAP Failure
// text, MS-CHAP error); only the Reason, for the log, differs. Before, an
// unknown user's "authentication failed" against a wrong password's
// "Authentication failed" told a prober which names exist.
func TestLocalVerdictSameForUnknownUser(t *testing.T) {
	d := &Desired{Secrets: map[string][]SecretSpec{"alice": {{Name: "alice", Password: "right", Service: "any"}}}}
	mac := "02:00:00:00:00:01"
	for _, m := range []ppp.Method{ppp.PAP, ppp.CHAP, ppp.MSCHAPv1, ppp.MSCHAPv2} {
		verdict := func(user string) ppp.AuthResult {
			req := &ppp.AuthRequest{Method: m, User: user, Password: "wrong", ID: 1, Challenge: make([]byte, 16)}
			switch m {
			case ppp.CHAP:
				req.Response = make([]byte, 16)
			case ppp.MSCHAPv1, ppp.MSCHAPv2:
				req.Response = make([]byte, 49)
				if m == ppp.MSCHAPv1 {
					req.Response[48] = 1 // use the NT response (RFC 2433 §4)
					req.Challenge = req.Challenge[:8]
				}
			}
			sec, why := secretFor(d, user, mac)
			return localVerdict(req, sec, why)
		}
		unknown, wrong := verdict("mallory"), verdict("alice")
		if unknown.OK || wrong.OK {
			t.Fatalf("%s: a login succeeded: %+v %+v", m, unknown, wrong)
		}
		if unknown.Message != wrong.Message || unknown.MSCHAPError != wrong.MSCHAPError {
			t.Errorf("%s: the peer can tell an unknown user (%q, E=%d) from a wrong password (%q, E=%d)",
				m, unknown.Message, unknown.MSCHAPError, wrong.Message, wrong.MSCHAPError)
		}
		if unknown.Reason != "no such user" || wrong.Reason != "wrong password" {
			t.Errorf("%s: reasons %q and %q, want the precise ones for the log", m, unknown.Reason, wrong.Reason)
		}
	}
}
