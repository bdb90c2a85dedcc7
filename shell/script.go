package shell

import (
	"bufio"
	"io"
	"strings"
)

// maxLine bounds one console line (a hostile pipe cannot make rosh buffer
// without end).
const maxLine = 64 * 1024

// RunScript executes lines from r as they arrive: each line's output is
// written before the next line is read, so another program can drive rosh
// through a pipe. Blank lines and # comments are skipped; a line ending in
// a backslash continues on the next. Every failing line is reported as
// "line N: <error>"; the number of failed lines is returned. It stops at
// EOF or after /quit.
func (s *Shell) RunScript(r io.Reader, report func(lineNo int, err error)) int {
	if report == nil {
		report = func(n int, err error) { s.out.Printf("line %d: %v\n", n, err) }
	}
	return RunLines(s, r, report)
}

// RunLines is RunScript for any console: a Shell, or a console attached
// to a daemon, whose lines then run in the daemon.
func RunLines(c Console, r io.Reader, report func(lineNo int, err error)) int {
	br := bufio.NewReaderSize(r, 4096)
	failed := 0
	lineNo := 0
	for !c.Quit() {
		line, startLine, err := readLogicalLine(br, &lineNo)
		if line == "" && err != nil {
			break
		}
		if xerr := c.Execute(line, startLine); xerr != nil {
			failed++
			report(startLine, xerr)
		}
		if err != nil {
			break
		}
	}
	return failed
}

// readLogicalLine reads one line, joining backslash continuations.
func readLogicalLine(br *bufio.Reader, lineNo *int) (string, int, error) {
	var b strings.Builder
	start := *lineNo + 1
	for {
		part, err := readLine(br)
		if err != nil && part == "" {
			return b.String(), start, err
		}
		*lineNo++
		part = strings.TrimRight(part, "\r")
		if strings.HasSuffix(part, "\\") && !strings.HasSuffix(part, "\\\\") {
			b.WriteString(strings.TrimSuffix(part, "\\"))
			if err != nil {
				return b.String(), start, err
			}
			continue
		}
		if b.Len() > 0 {
			part = strings.TrimLeft(part, " \t")
		}
		b.WriteString(part)
		return b.String(), start, err
	}
}

// readLine reads up to '\n', keeping at most maxLine bytes of it.
func readLine(br *bufio.Reader) (string, error) {
	var b []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(b) < maxLine {
			n := len(chunk)
			if len(b)+n > maxLine {
				n = maxLine - len(b)
			}
			b = append(b, chunk[:n]...)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		return strings.TrimSuffix(string(b), "\n"), err
	}
}
