package daemon

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"

	"rosh/shell"
)

func TestMessagesRoundTrip(t *testing.T) {
	for _, d := range []Done{
		{},
		{Failed: true, Err: "bad command name x (line 3 column 1)", Prompt: "[admin@MikroTik] > "},
		{Quit: true, Prompt: "[admin@R1] /ppp secret> "},
	} {
		got, err := ParseDone(d.Marshal())
		if err != nil || got != d {
			t.Errorf("Done %+v: got %+v, %v", d, got, err)
		}
	}
	for _, x := range []Exec{{LineNo: 0, Line: ""}, {LineNo: 1 << 20, Line: "/ip pool add name=p ranges=10.0.0.1"}} {
		got, err := ParseExec(x.Marshal())
		if err != nil || got != x {
			t.Errorf("Exec %+v: got %+v, %v", x, got, err)
		}
	}
	s := Suggestions{Start: 4, List: []shell.Suggestion{{Text: "interface", Help: "interfaces"}, {Text: "ip"}}}
	if got, err := ParseSuggestions(s.Marshal()); err != nil || !reflect.DeepEqual(got, s) {
		t.Errorf("Suggestions: got %+v, %v", got, err)
	}
	for _, h := range []Hello{{}, {Interactive: true}} {
		if got, err := ParseHello(h.Marshal()); err != nil || got != h {
			t.Errorf("Hello %+v: got %+v, %v", h, got, err)
		}
	}
}

func TestReadFrameBad(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, io.EOF},
		{"short header", []byte{'X', 0, 0}, io.ErrUnexpectedEOF},
		{"unknown kind", []byte{'Z', 0, 0, 0, 0}, ErrBadFrame},
		{"too large", []byte{'X', 0, 2, 0, 1}, ErrTooLarge},
		{"4 GiB", []byte{'O', 0xff, 0xff, 0xff, 0xff}, ErrTooLarge},
		{"short payload", []byte{'X', 0, 0, 0, 9, 1, 2}, io.ErrUnexpectedEOF},
	} {
		_, err := ReadFrame(bytes.NewReader(tc.in))
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: err %v, want %v", tc.name, err, tc.want)
		}
	}
	for _, p := range [][]byte{
		nil,                   // no flags byte
		{0, 5, 'a'},           // error string longer than the payload
		{0, 0, 0, 0},          // a byte after the prompt
		{4, 0, 0},             // unknown flag
		{0, 0x80, 0x80, 0x80}, // unterminated uvarint
	} {
		if _, err := ParseDone(p); err == nil {
			t.Errorf("ParseDone(%x) accepted", p)
		}
	}
	if _, err := ParseSuggestions([]byte{0, 0xff, 0xff, 0xff, 0xff, 0x0f}); err == nil {
		t.Error("ParseSuggestions accepted a count of 4 billion in 6 bytes")
	}
	if _, err := ParseHello([]byte("rosh2\x00")); err == nil {
		t.Error("ParseHello accepted another protocol version")
	}
}

// FuzzReadFrame feeds arbitrary bytes to the frame reader and every
// message decoder: no panic, no allocation past MaxPayload, and what
// decodes re-encodes to a payload that decodes to the same message.
func FuzzReadFrame(f *testing.F) {
	f.Add(AppendFrame(nil, KindHello, Hello{Interactive: true}.Marshal()))                  // a console's hello
	f.Add(AppendFrame(nil, KindExec, Exec{LineNo: 3, Line: "/ip pool print"}.Marshal()))    // a line
	f.Add(AppendFrame(nil, KindDone, Done{Failed: true, Err: "x", Prompt: "> "}.Marshal())) // a failed command
	f.Add(AppendFrame(nil, KindSuggest, Suggestions{Start: 1, List: []shell.Suggestion{{Text: "a", Help: "b"}}}.Marshal()))
	f.Add([]byte{'O', 0xff, 0xff, 0xff, 0xff})                  // a length far over the bound
	f.Add([]byte{'S', 0, 0, 0, 3, 0, 0x90, 0x4e})               // a suggestion count larger than the payload
	f.Add(append(AppendFrame(nil, KindInterrupt, nil), 'X', 0)) // a frame, then a cut header
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		for {
			fr, err := ReadFrame(r)
			if err != nil {
				return
			}
			if len(fr.Payload) > MaxPayload {
				t.Fatalf("payload of %d bytes", len(fr.Payload))
			}
			switch fr.Kind {
			case KindHello:
				if h, err := ParseHello(fr.Payload); err == nil {
					if h2, err := ParseHello(h.Marshal()); err != nil || h2 != h {
						t.Fatalf("hello %+v re-decodes as %+v, %v", h, h2, err)
					}
				}
			case KindExec:
				if x, err := ParseExec(fr.Payload); err == nil {
					if x2, err := ParseExec(x.Marshal()); err != nil || x2 != x {
						t.Fatalf("exec %+v re-decodes as %+v, %v", x, x2, err)
					}
				}
			case KindDone:
				if d, err := ParseDone(fr.Payload); err == nil {
					if d2, err := ParseDone(d.Marshal()); err != nil || d2 != d {
						t.Fatalf("done %+v re-decodes as %+v, %v", d, d2, err)
					}
				}
			case KindSuggest:
				if s, err := ParseSuggestions(fr.Payload); err == nil {
					if s2, err := ParseSuggestions(s.Marshal()); err != nil || !reflect.DeepEqual(s2, s) {
						t.Fatalf("suggestions %+v re-decode as %+v, %v", s, s2, err)
					}
				}
			}
		}
	})
}
