// Package shell is the RouterOS console: it splits a line into words,
// walks menu paths, resolves item references, parses print/where/find, and
// runs the commands of the menus package. It reads lines from go-prompt on
// a terminal and from a plain reader otherwise. It imports no protocol.
package shell

import (
	"fmt"
	"strconv"
	"strings"
)

// PosError is an error at a column of the line, printed the RouterOS way:
// "bad command name adx (line 1 column 10)".
type PosError struct {
	Msg  string
	Line int
	Col  int // 1-based
}

func (e *PosError) Error() string {
	return fmt.Sprintf("%s (line %d column %d)", e.Msg, e.Line, e.Col)
}

// token is one word of a console line. Raw keeps quotes and brackets;
// Col is the 1-based column of its first character.
type token struct {
	Raw string
	Col int
	// decoded: Raw is a value already (a Request's), not console text.
	decoded bool
}

// lex splits a line into words. Quotes and [brackets] may contain spaces.
// A '#' at the start of a word begins a comment.
func lex(line string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(line) {
		c := line[i]
		if c == ' ' || c == '\t' || c == '\r' {
			i++
			continue
		}
		if c == '#' {
			break
		}
		start := i
		depth := 0
		for i < len(line) {
			c = line[i]
			if depth == 0 && (c == ' ' || c == '\t' || c == '\r') {
				break
			}
			switch c {
			case '"':
				end, err := skipQuoted(line, i)
				if err != nil {
					return nil, err
				}
				i = end
				continue
			case '[':
				depth++
			case ']':
				depth--
				if depth < 0 {
					return nil, &PosError{Msg: "syntax error", Col: i + 1}
				}
			}
			i++
		}
		if depth != 0 {
			return nil, &PosError{Msg: "syntax error", Col: start + 1}
		}
		toks = append(toks, token{Raw: line[start:i], Col: start + 1})
	}
	return toks, nil
}

// skipQuoted returns the index just past the closing quote of the string
// starting at line[i] == '"'.
func skipQuoted(line string, i int) (int, error) {
	for j := i + 1; j < len(line); j++ {
		switch line[j] {
		case '\\':
			j++
		case '"':
			return j + 1, nil
		}
	}
	return 0, &PosError{Msg: "syntax error", Col: i + 1}
}

// splitKV splits "name=value" at the first '=' outside quotes/brackets.
func splitKV(raw string) (key, val string, ok bool) {
	depth := 0
	for i := 0; i < len(raw); i++ {
		switch raw[i] {
		case '"':
			if j, err := skipQuoted(raw, i); err == nil {
				i = j - 1
			}
		case '[':
			depth++
		case ']':
			depth--
		case '=':
			if depth == 0 && i > 0 {
				return raw[:i], raw[i+1:], true
			}
		}
	}
	return raw, "", false
}

// unquote turns a raw value into its string: quoted parts lose their quotes
// and escapes are decoded (\" \\ \$ \? \n \r \t \_ and \HH hex).
func unquote(raw string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '"' {
			b.WriteByte(c)
			continue
		}
		i++
		for ; i < len(raw) && raw[i] != '"'; i++ {
			if raw[i] != '\\' {
				b.WriteByte(raw[i])
				continue
			}
			i++
			if i >= len(raw) {
				return "", fmt.Errorf("syntax error")
			}
			switch e := raw[i]; e {
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case '_':
				b.WriteByte(' ')
			case 'a':
				b.WriteByte(7)
			case 'b':
				b.WriteByte(8)
			case 'f':
				b.WriteByte(12)
			case 'v':
				b.WriteByte(11)
			default:
				if i+1 < len(raw) && isHex(e) && isHex(raw[i+1]) {
					n, _ := strconv.ParseUint(raw[i:i+2], 16, 8)
					b.WriteByte(byte(n))
					i++
				} else {
					b.WriteByte(e)
				}
			}
		}
		if i >= len(raw) {
			return "", fmt.Errorf("syntax error")
		}
	}
	return b.String(), nil
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}
