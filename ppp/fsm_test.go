package ppp

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rfc1661Table is the state transition table of RFC 1661 §4.1, as the RFC
// prints it.
const rfc1661Table = `
      | State
      |    0         1         2         3         4         5
Events| Initial   Starting  Closed    Stopped   Closing   Stopping
------+-----------------------------------------------------------
 Up   |    2     irc,scr/6     -         -         -         -
 Down |    -         -         0       tls/1       0         1
 Open |  tls/1       1     irc,scr/6     3r        5r        5r
 Close|    0       tlf/0       2         2         4         4
      |
  TO+ |    -         -         -         -       str/4     str/5
  TO- |    -         -         -         -       tlf/2     tlf/3
      |
 RCR+ |    -         -       sta/2 irc,scr,sca/8   4         5
 RCR- |    -         -       sta/2 irc,scr,scn/6   4         5
 RCA  |    -         -       sta/2     sta/3       4         5
 RCN  |    -         -       sta/2     sta/3       4         5
      |
 RTR  |    -         -       sta/2     sta/3     sta/4     sta/5
 RTA  |    -         -         2         3       tlf/2     tlf/3
      |
 RUC  |    -         -       scj/2     scj/3     scj/4     scj/5
 RXJ+ |    -         -         2         3         4         5
 RXJ- |    -         -       tlf/2     tlf/3     tlf/2     tlf/3
      |
 RXR  |    -         -         2         3         4         5

      | State
      |    6         7         8           9
Events| Req-Sent  Ack-Rcvd  Ack-Sent    Opened
------+-----------------------------------------
 Up   |    -         -         -           -
 Down |    1         1         1         tld/1
 Open |    6         7         8           9r
 Close|irc,str/4 irc,str/4 irc,str/4 tld,irc,str/4
      |
  TO+ |  scr/6     scr/6     scr/8         -
  TO- |  tlf/3p    tlf/3p    tlf/3p        -
      |
 RCR+ |  sca/8   sca,tlu/9   sca/8   tld,scr,sca/8
 RCR- |  scn/6     scn/7     scn/6   tld,scr,scn/6
 RCA  |  irc/7     scr/6x  irc,tlu/9   tld,scr/6x
 RCN  |irc,scr/6   scr/6x  irc,scr/8   tld,scr/6x
      |
 RTR  |  sta/6     sta/6     sta/6   tld,zrc,sta/5
 RTA  |    6         6         8       tld,scr/6
      |
 RUC  |  scj/6     scj/7     scj/8       scj/9
 RXJ+ |    6         6         8           9
 RXJ- |  tlf/3     tlf/3     tlf/3   tld,irc,str/5
      |
 RXR  |    6         7         8         ser/9
`

// parseRFCCell reads a cell such as "irc,scr/6", "3r" or "-".
func parseRFCCell(tok string) (cell, error) {
	if tok == "-" {
		return cell{}, nil
	}
	acts, st := "", tok
	if i := strings.IndexByte(tok, '/'); i >= 0 {
		acts, st = tok[:i], tok[i+1:]
	}
	st = strings.TrimRight(st, "rxp") // the RFC's options, not taken
	n, err := strconv.Atoi(st)
	if err != nil || n < 0 || n >= int(numStates) {
		return cell{}, fmt.Errorf("bad state in %q", tok)
	}
	c := cell{next: State(n), ok: true}
	if acts != "" {
		for i, name := range strings.Split(acts, ",") {
			a := actNone
			for j, an := range actionNames {
				if an == name && j != 0 {
					a = action(j)
				}
			}
			if a == actNone || i >= len(c.acts) {
				return cell{}, fmt.Errorf("bad action %q in %q", name, tok)
			}
			c.acts[i] = a
		}
	}
	return c, nil
}

// TestTransitionTable checks the table, row by row, against the RFC's.
func TestTransitionTable(t *testing.T) {
	seen := map[[2]int]bool{}
	var states []State
	for _, line := range strings.Split(rfc1661Table, "\n") {
		head, rest, ok := strings.Cut(line, "|")
		head = strings.TrimSpace(head)
		if !ok || head == "" || head == "Events" || strings.HasPrefix(head, "---") {
			fields := strings.Fields(rest)
			if ok && head == "" && len(fields) > 0 && fields[0] != "State" {
				// The row of state numbers starts a half of the table.
				states = states[:0]
				for _, f := range fields {
					n, _ := strconv.Atoi(f)
					states = append(states, State(n))
				}
			}
			continue
		}
		ev := event(255)
		for i, name := range eventNames {
			if name == head {
				ev = event(i)
			}
		}
		if ev == 255 {
			t.Fatalf("unknown event %q", head)
		}
		toks := strings.Fields(rest)
		if len(toks) != len(states) {
			t.Fatalf("%s: %d cells for %d states", head, len(toks), len(states))
		}
		for i, tok := range toks {
			want, err := parseRFCCell(tok)
			if err != nil {
				t.Fatal(err)
			}
			st := states[i]
			seen[[2]int{int(ev), int(st)}] = true
			got := transitions[ev][st]
			if got != want {
				t.Errorf("%s in %s: table has %s, RFC 1661 has %q", ev, st, cellString(got), tok)
			}
		}
	}
	if len(seen) != int(numEvents)*int(numStates) {
		t.Fatalf("RFC table covered %d cells, want %d", len(seen), int(numEvents)*int(numStates))
	}
}

func cellString(c cell) string {
	if !c.ok {
		return "-"
	}
	if c.acts[0] == actNone {
		return strconv.Itoa(int(c.next))
	}
	return fmt.Sprintf("%s/%d", actionList(c.acts), c.next)
}

// fsmRecorder is a host and a layer that record what the automaton does.
type fsmRecorder struct {
	log    []string
	sent   []Code
	timers int // running timers (0 or 1)
	fails  []error
	f      *fsm
	// reply to the next Configure-Request
	ack bool
}

func (r *fsmRecorder) sendControl(p Protocol, code Code, id uint8, data []byte) {
	r.sent = append(r.sent, code)
}
func (r *fsmRecorder) startTimer(timerID, time.Duration) { r.timers = 1 }
func (r *fsmRecorder) stopTimer(timerID)                 { r.timers = 0 }
func (r *fsmRecorder) fail(err error)                    { r.fails = append(r.fails, err) }
func (r *fsmRecorder) debugOn() bool                     { return false }
func (r *fsmRecorder) debugf(string, string, ...any)     {}

func (r *fsmRecorder) reset()                        { r.log = append(r.log, "reset") }
func (r *fsmRecorder) appendRequest(b []byte) []byte { return appendOption16(b, 1, 1500) }
func (r *fsmRecorder) checkRequest(req, out []byte, rejectNaks bool) (Code, []byte) {
	if r.ack {
		return CodeConfigureAck, append(out, req...)
	}
	if rejectNaks {
		return CodeConfigureReject, append(out, req...)
	}
	return CodeConfigureNak, append(out, req...)
}
func (r *fsmRecorder) gotAck([]byte)              {}
func (r *fsmRecorder) gotNak([]byte) error        { return nil }
func (r *fsmRecorder) gotReject([]byte) error     { return nil }
func (r *fsmRecorder) up()                        { r.log = append(r.log, "tlu") }
func (r *fsmRecorder) down()                      { r.log = append(r.log, "tld") }
func (r *fsmRecorder) started()                   { r.log = append(r.log, "tls") }
func (r *fsmRecorder) finished()                  { r.log = append(r.log, "tlf") }
func (r *fsmRecorder) peerTerminated([]byte)      {}
func (r *fsmRecorder) other(Packet) (event, bool) { return evRUC, true }
func (r *fsmRecorder) ser(Packet)                 { r.log = append(r.log, "ser") }
func (r *fsmRecorder) count(s string) (n int) {
	if name, ok := strings.CutPrefix(s, "send "); ok {
		for _, c := range r.sent {
			if c.String() == name {
				n++
			}
		}
		return n
	}
	for _, l := range r.log {
		if l == s {
			n++
		}
	}
	return n
}

func newRecorder() *fsmRecorder {
	r := &fsmRecorder{}
	r.f = newFSM("test", ProtoLCP, timerLCP, Timing{}, r, r)
	return r
}

// pkt builds a control packet.
func pkt(code Code, id uint8, data ...byte) Packet {
	return Packet(AppendPacket(nil, code, id, data))
}

// TestFSMCounters checks the RFC 1661 §4.6 counters: Max-Configure
// Configure-Requests before giving up, Max-Terminate Terminate-Requests.
func TestFSMCounters(t *testing.T) {
	r := newRecorder()
	r.f.open()
	r.f.up()
	for i := 0; i < 20 && r.f.state != StateStopped; i++ {
		r.f.timeout()
	}
	if got := r.count("send Configure-Request"); got != DefaultMaxConfigure {
		t.Errorf("sent %d Configure-Requests, want %d", got, DefaultMaxConfigure)
	}
	if r.f.state != StateStopped || r.count("tlf") != 1 || r.f.why == nil {
		t.Errorf("after Max-Configure: state %s, log %v, why %v", r.f.state, r.log, r.f.why)
	}
	if r.timers != 0 {
		t.Error("restart timer still running in Stopped")
	}

	// Bring it up, then Close: Max-Terminate Terminate-Requests.
	r = newRecorder()
	r.ack = true
	r.f.open()
	r.f.up()
	r.f.input(pkt(CodeConfigureAck, r.f.reqID, r.f.req...))
	r.f.input(pkt(CodeConfigureRequest, 7, 1, 4, 5, 0xdc))
	if r.f.state != StateOpened || r.count("tlu") != 1 {
		t.Fatalf("state %s, log %v; want Opened after tlu", r.f.state, r.log)
	}
	r.f.close("bye")
	for i := 0; i < 10 && r.f.state == StateClosing; i++ {
		r.f.timeout()
	}
	if got := r.count("send Terminate-Request"); got != DefaultMaxTerminate {
		t.Errorf("sent %d Terminate-Requests, want %d", got, DefaultMaxTerminate)
	}
	if r.f.state != StateClosed || r.count("tlf") != 1 || r.count("tld") != 1 {
		t.Errorf("after Max-Terminate: state %s, log %v", r.f.state, r.log)
	}
}

// TestFSMMaxFailure checks that after Max-Failure Configure-Naks the
// automaton asks the layer to reject instead (RFC 1661 §4.6).
func TestFSMMaxFailure(t *testing.T) {
	r := newRecorder()
	r.f.open()
	r.f.up()
	for i := range 8 {
		r.f.input(pkt(CodeConfigureRequest, uint8(i), 1, 4, 0, byte(10+i)))
	}
	if n := r.count("send Configure-Nak"); n != DefaultMaxFailure {
		t.Errorf("%d Configure-Naks before rejecting, want %d", n, DefaultMaxFailure)
	}
	if n := r.count("send Configure-Reject"); n != 8-DefaultMaxFailure {
		t.Errorf("%d Configure-Rejects, want %d", n, 8-DefaultMaxFailure)
	}
}

// TestFSMMaxFailureRepeats: the same request again is the peer's
// retransmission, our Nak lost: it does not count towards Max-Failure,
// until it has come Max-Configure times (a peer that ignores our Naks).
// Five Naks lost in a row, on a 20%-loss line, had the server reject
// the IP-Address it was offering.
func TestFSMMaxFailureRepeats(t *testing.T) {
	r := newRecorder()
	r.f.open()
	r.f.up()
	want := 1 + DefaultMaxConfigure + DefaultMaxFailure - 1
	for i := range want + 2 {
		r.f.input(pkt(CodeConfigureRequest, uint8(i), 1, 4, 0, 10))
	}
	if n := r.count("send Configure-Nak"); n != want {
		t.Errorf("%d Configure-Naks before rejecting, want %d", n, want)
	}
	if n := r.count("send Configure-Reject"); n != 2 {
		t.Errorf("%d Configure-Rejects, want 2", n)
	}
}

// TestFSMZeroRestartCount checks the peer's Terminate-Request in Opened:
// sta, then one restart interval in Stopping, then tlf (RFC 1661 §4.4 zrc).
func TestFSMZeroRestartCount(t *testing.T) {
	r := newRecorder()
	r.ack = true
	r.f.open()
	r.f.up()
	r.f.input(pkt(CodeConfigureAck, r.f.reqID, r.f.req...))
	r.f.input(pkt(CodeConfigureRequest, 1))
	r.f.input(pkt(CodeTerminateRequest, 9))
	if r.f.state != StateStopping || r.count("send Terminate-Ack") != 1 || r.timers != 1 {
		t.Fatalf("state %s, log %v, timers %d", r.f.state, r.log, r.timers)
	}
	r.f.timeout()
	if r.f.state != StateStopped || r.count("tlf") != 1 || r.count("send Terminate-Request") != 0 {
		t.Errorf("state %s, log %v", r.f.state, r.log)
	}
}

// TestFSMDiscardsStrayReplies checks RFC 1661 §5.2–5.4: an Ack with the
// wrong identifier or options, or a second reply, is discarded.
func TestFSMDiscardsStrayReplies(t *testing.T) {
	r := newRecorder()
	r.f.open()
	r.f.up()
	r.f.input(pkt(CodeConfigureAck, r.f.reqID+1, r.f.req...))
	r.f.input(pkt(CodeConfigureAck, r.f.reqID, 1, 4, 0, 1))
	if r.f.state != StateReqSent {
		t.Fatalf("stray Ack moved the automaton to %s", r.f.state)
	}
	r.f.input(pkt(CodeConfigureAck, r.f.reqID, r.f.req...))
	if r.f.state != StateAckRcvd {
		t.Fatalf("valid Ack: state %s, want Ack-Rcvd", r.f.state)
	}
	r.f.input(pkt(CodeConfigureAck, r.f.reqID, r.f.req...))
	if r.f.state != StateAckRcvd {
		t.Fatalf("duplicate Ack: state %s, want Ack-Rcvd", r.f.state)
	}
	// An unknown code is Code-Rejected (RUC → scj).
	r.f.input(pkt(Code(42), 1))
	if r.count("send Code-Reject") != 1 {
		t.Errorf("unknown code: log %v", r.log)
	}
}

// BenchmarkFSMEvent measures one trip round the automaton: Open, Up,
// RCR+, RCA, Close, RTA.
func BenchmarkFSMEvent(b *testing.B) {
	r := newRecorder()
	r.ack = true
	req := pkt(CodeConfigureRequest, 1, 1, 4, 5, 0xd4)
	b.ReportAllocs()
	for b.Loop() {
		r.log, r.sent = r.log[:0], r.sent[:0]
		r.f.state = StateInitial
		r.f.open()
		r.f.up()
		r.f.input(req)
		r.f.input(pkt2(CodeConfigureAck, r.f.reqID, r.f.req))
		r.f.close("")
		r.f.input(termAck)
	}
}

var (
	termAck = pkt(CodeTerminateAck, 1)
	ackBuf  = make([]byte, 64)
)

// pkt2 builds an Ack in a reused buffer.
func pkt2(code Code, id uint8, data []byte) Packet {
	return Packet(AppendPacket(ackBuf[:0], code, id, data))
}
