// Package daemon runs rosh as a service — `rosh serve`: the engine with no
// console, listening on a unix socket — and attaches consoles to it, the
// way birdc talks to BIRD and vtysh to FRR. A console that attaches gets
// the same prompt, completion, ? help, live monitor output and Ctrl-C as
// the terminal of an in-process rosh; detaching leaves every session up.
//
// The socket speaks a small framed protocol. A frame is a kind byte, a
// 4-byte big-endian payload length and the payload:
//
//	console → daemon                       daemon → console
//	H hello "rosh1" flags                  D done: flags, error, prompt
//	X exec: uvarint line number, line      O output bytes
//	C complete: text before the cursor     S suggestions: start, (text, help)…
//	? help: text before the cursor         h help text
//	I interrupt (Ctrl-C)                   B bye: why the daemon ends the console
//
// The daemon answers the hello with a done frame carrying the prompt, then
// every X, C and ? with exactly one D, S or h; output of a command comes
// as O frames before its D. Payloads are bounded (MaxPayload): a longer
// frame ends the connection.
package daemon

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"rosh/shell"
)

// Frame kinds.
const (
	KindHello     byte = 'H'
	KindExec      byte = 'X'
	KindComplete  byte = 'C'
	KindHelp      byte = '?'
	KindInterrupt byte = 'I'
	KindOutput    byte = 'O'
	KindDone      byte = 'D'
	KindSuggest   byte = 'S'
	KindHelpText  byte = 'h'
	KindBye       byte = 'B'
)

// HeaderLen is the frame header: kind and payload length.
const HeaderLen = 5

// MaxPayload bounds a frame's payload: a console line is at most 64 KiB
// (the script reader's bound), output is sent in chunks of MaxOutputChunk.
const MaxPayload = 128 << 10

// MaxOutputChunk is the largest output frame the daemon sends.
const MaxOutputChunk = 32 << 10

// magic opens a hello; a peer speaking anything else is not a console.
const magic = "rosh1"

// Errors of the decoder.
var (
	ErrTooLarge = errors.New("frame larger than the protocol allows")
	ErrBadFrame = errors.New("malformed frame")
)

// Frame is one frame: its kind and payload.
type Frame struct {
	Kind    byte
	Payload []byte
}

// known reports whether k is a kind of the protocol.
func known(k byte) bool {
	switch k {
	case KindHello, KindExec, KindComplete, KindHelp, KindInterrupt,
		KindOutput, KindDone, KindSuggest, KindHelpText, KindBye:
		return true
	}
	return false
}

// ReadFrame reads one frame. An unknown kind or a payload over MaxPayload
// is an error before any of the payload is read: a hostile peer cannot
// make the reader buffer more than MaxPayload.
func ReadFrame(r io.Reader) (Frame, error) {
	var h [HeaderLen]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return Frame{}, err
	}
	if !known(h[0]) {
		return Frame{}, fmt.Errorf("%w: unknown kind %#x", ErrBadFrame, h[0])
	}
	n := binary.BigEndian.Uint32(h[1:])
	if n > MaxPayload {
		return Frame{}, fmt.Errorf("%w: %d bytes", ErrTooLarge, n)
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(r, p); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return Frame{}, err
	}
	return Frame{Kind: h[0], Payload: p}, nil
}

// AppendFrame appends a frame's bytes to b.
func AppendFrame(b []byte, kind byte, payload []byte) []byte {
	b = append(b, kind, 0, 0, 0, 0)
	binary.BigEndian.PutUint32(b[len(b)-4:], uint32(len(payload)))
	return append(b, payload...)
}

// appendString appends a uvarint length and the bytes of s.
func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// reader consumes a payload field by field; the first error sticks.
type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = ErrBadFrame
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) string() string {
	n := r.uvarint()
	if r.err != nil {
		return ""
	}
	if n > uint64(len(r.b)) {
		r.err = ErrBadFrame
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func (r *reader) byte() byte {
	if r.err != nil {
		return 0
	}
	if len(r.b) == 0 {
		r.err = ErrBadFrame
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

// end checks that the payload was consumed exactly.
func (r *reader) end() error {
	if r.err == nil && len(r.b) != 0 {
		r.err = ErrBadFrame
	}
	return r.err
}

// Hello opens a console: whether a person watches it on a terminal
// (monitor and scan then run until Ctrl-C, as on the terminal).
type Hello struct {
	Interactive bool
}

const helloInteractive = 1

// Marshal encodes the hello's payload.
func (h Hello) Marshal() []byte {
	var f byte
	if h.Interactive {
		f |= helloInteractive
	}
	return append([]byte(magic), f)
}

// ParseHello decodes a hello payload.
func ParseHello(p []byte) (Hello, error) {
	if len(p) != len(magic)+1 || string(p[:len(magic)]) != magic {
		return Hello{}, fmt.Errorf("%w: not a rosh console hello", ErrBadFrame)
	}
	if p[len(magic)]&^helloInteractive != 0 {
		return Hello{}, fmt.Errorf("%w: unknown hello flags %#x", ErrBadFrame, p[len(magic)])
	}
	return Hello{Interactive: p[len(magic)]&helloInteractive != 0}, nil
}

// Exec is a line to run, with its line number for error positions.
type Exec struct {
	LineNo int
	Line   string
}

// Marshal encodes the exec's payload.
func (x Exec) Marshal() []byte {
	b := binary.AppendUvarint(nil, uint64(x.LineNo))
	return append(b, x.Line...)
}

// ParseExec decodes an exec payload.
func ParseExec(p []byte) (Exec, error) {
	r := reader{b: p}
	n := r.uvarint()
	if r.err != nil || n > math.MaxInt32 {
		return Exec{}, ErrBadFrame
	}
	return Exec{LineNo: int(n), Line: string(r.b)}, nil
}

// Done ends a command (or answers the hello): whether it failed and why,
// the prompt after it, and whether it was /quit.
type Done struct {
	Failed bool
	Err    string
	Prompt string
	Quit   bool
}

const (
	doneFailed = 1 << iota
	doneQuit
)

// Marshal encodes the done's payload.
func (d Done) Marshal() []byte {
	var f byte
	if d.Failed {
		f |= doneFailed
	}
	if d.Quit {
		f |= doneQuit
	}
	b := appendString([]byte{f}, d.Err)
	return appendString(b, d.Prompt)
}

// ParseDone decodes a done payload.
func ParseDone(p []byte) (Done, error) {
	r := reader{b: p}
	f := r.byte()
	d := Done{Failed: f&doneFailed != 0, Quit: f&doneQuit != 0}
	d.Err = r.string()
	d.Prompt = r.string()
	if err := r.end(); err != nil {
		return Done{}, err
	}
	if f&^(doneFailed|doneQuit) != 0 {
		return Done{}, fmt.Errorf("%w: unknown done flags %#x", ErrBadFrame, f)
	}
	return d, nil
}

// Suggestions answer a completion request.
type Suggestions struct {
	Start int
	List  []shell.Suggestion
}

// Marshal encodes the suggestions' payload.
func (s Suggestions) Marshal() []byte {
	b := binary.AppendUvarint(nil, uint64(s.Start))
	b = binary.AppendUvarint(b, uint64(len(s.List)))
	for _, x := range s.List {
		b = appendString(b, x.Text)
		b = appendString(b, x.Help)
	}
	return b
}

// ParseSuggestions decodes a suggestions payload.
func ParseSuggestions(p []byte) (Suggestions, error) {
	r := reader{b: p}
	start := r.uvarint()
	n := r.uvarint()
	// Each suggestion takes at least two bytes: a count larger than that
	// is a lie, not a reason to allocate.
	if r.err != nil || start > math.MaxInt32 || n > uint64(len(r.b))/2 {
		return Suggestions{}, ErrBadFrame
	}
	s := Suggestions{Start: int(start)}
	for i := uint64(0); i < n; i++ {
		s.List = append(s.List, shell.Suggestion{Text: r.string(), Help: r.string()})
	}
	if err := r.end(); err != nil {
		return Suggestions{}, err
	}
	return s, nil
}
