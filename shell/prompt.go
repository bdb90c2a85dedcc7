package shell

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	prompt "github.com/elk-language/go-prompt"
	istrings "github.com/elk-language/go-prompt/strings"
)

// Console is what a person or a script types into: a Shell in this
// process, or a console attached to a `rosh serve` daemon.
type Console interface {
	// Prompt is "[admin@MikroTik] /ppp secret> ".
	Prompt() string
	// Execute runs one line; lineNo is used in error positions.
	Execute(line string, lineNo int) error
	// Complete returns what fits at the end of before, and where the
	// word being completed starts.
	Complete(before string) ([]Suggestion, int)
	// Help is the ? listing for before.
	Help(before string) string
	// Interrupt stops a running monitor, scan or print interval (Ctrl-C).
	Interrupt()
	// Quit reports whether /quit was given.
	Quit() bool
}

// RunInteractive runs the console on the terminal with go-prompt: Tab
// completion, ? help, history, Ctrl-C to clear the line or stop a
// monitor, Ctrl-D or /quit to leave. Errors are written to out. go-prompt
// restores the terminal when it returns.
func RunInteractive(sh Console, out io.Writer) {
	exec := func(line string) {
		// Ctrl-C while a command runs (the terminal is in cooked mode
		// then) interrupts monitor, scan and print interval=.
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGINT)
		done := make(chan struct{})
		go func() {
			select {
			case <-sig:
				sh.Interrupt()
			case <-done:
			}
		}()
		if err := sh.Execute(line, 1); err != nil {
			fmt.Fprintf(out, "%v\n", err)
		}
		signal.Stop(sig)
		close(done)
	}
	help := prompt.ASCIICodeBind{
		ASCIICode: []byte{'?'},
		Fn: func(p *prompt.Prompt) bool {
			text := p.Buffer().Document().TextBeforeCursor()
			if strings.Count(text, `"`)%2 == 1 {
				p.InsertTextMoveCursor("?", false)
				return true
			}
			os.Stdout.WriteString("\r\n" + strings.ReplaceAll(sh.Help(text), "\n", "\r\n"))
			return true
		},
	}
	p := prompt.New(exec,
		prompt.WithPrefixCallback(sh.Prompt),
		prompt.WithCompleter(func(d prompt.Document) ([]prompt.Suggest, istrings.RuneNumber, istrings.RuneNumber) {
			before := d.TextBeforeCursor()
			// The drop-down shows only while a word is being typed; ? lists
			// everything that fits after a space.
			if strings.TrimSpace(before) == "" || strings.HasSuffix(before, " ") {
				return nil, 0, 0
			}
			sugg, start := sh.Complete(before)
			out := make([]prompt.Suggest, len(sugg))
			for i, x := range sugg {
				out[i] = prompt.Suggest{Text: x.Text, Description: x.Help}
			}
			startRunes := istrings.RuneNumber(len([]rune(before[:start])))
			endRunes := istrings.RuneNumber(len([]rune(before)))
			return out, startRunes, endRunes
		}),
		prompt.WithASCIICodeBind(help),
		prompt.WithExitChecker(func(string, bool) bool { return sh.Quit() }),
		prompt.WithTitle("rosh"),
	)
	p.Run()
}
