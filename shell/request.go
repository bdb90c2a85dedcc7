package shell

import (
	"errors"
	"io"
	"strings"

	"rosh/menus"
	"rosh/router"
)

// Request is one console command given as data instead of a typed line:
// what the REST API hands the console, and what any other front end may.
// It runs through the same code as a typed line (exec) — the same argument
// names, value parsing, item references, menus, engine lock and change
// hooks — so a change made this way is validated, applied and saved
// exactly as if it had been typed.
type Request struct {
	// Path is the menu, "/ppp/secret" ("/" for export).
	Path string
	// Command is the command word: print, add, set, remove, enable,
	// disable, comment, export, or a menu's own (monitor, scan).
	Command string
	// Args are name → value, values decoded (what follows name= on the
	// console, without its quotes). "numbers" (or ".id") names the items
	// of set, remove, monitor …; bare words a command takes (once,
	// detail, verbose) are given with an empty value or "true". For print,
	// the other arguments are conditions, as find's name=value.
	Args map[string]string
}

// Result is what a Request produced.
type Result struct {
	// Records are print's rows and monitor's blocks as ordered key/value
	// pairs, the RouterOS API's way (.id first, yes/no as true/false).
	Records [][][2]string
	// Text is whatever else the command printed (export's script).
	Text string
	// ID is the id of the item an add made ("*3").
	ID string
}

// Errors of a Request that a line cannot have.
var (
	// ErrNoSuchMenu: the path names no menu.
	ErrNoSuchMenu = errors.New("no such command or directory")
	// ErrNoSuchCommand: the menu has no such command.
	ErrNoSuchCommand = errors.New("no such command")
)

// UnknownArgError names an argument the command does not take.
type UnknownArgError struct{ Name string }

func (e *UnknownArgError) Error() string { return "unknown parameter " + e.Name }

// Do runs r in a console of its own at r.Path, sharing the engine and
// tree of s (s itself is not changed, so front ends may call Do from
// several goroutines). That console has no print numbering: items are
// named by id (*1) or by name.
func (s *Shell) Do(r Request) (*Result, error) {
	res := &Result{}
	var text strings.Builder
	out := newOutput(&text)
	out.record = func(kv [][2]string) { res.Records = append(res.Records, kv) }
	sub := &Shell{eng: s.eng, tree: s.tree, cwd: r.Path, numbers: map[string][]rowRef{}, out: out, Now: s.Now, fileDir: s.fileDir}
	path := r.Path
	if path == "" {
		path = "/"
	}
	if !sub.isNode(path) {
		return nil, ErrNoSuchMenu
	}
	m := s.tree.Menu(path)
	if _, ok := sub.Commands(path)[r.Command]; !ok || r.Command == "quit" || r.Command == ".." {
		return nil, ErrNoSuchCommand
	}
	inv, err := sub.requestInvocation(m, path, r)
	if err != nil {
		return nil, err
	}
	if r.Command == "print" && m != nil {
		s.eng.View(func(c *router.Config) {
			ctx := sub.ctx(c)
			var rows []*menus.Row
			if rows, err = sub.filterRows(ctx, m, inv); err == nil {
				for _, row := range rows {
					res.Records = append(res.Records, m.Record(ctx, row))
				}
			}
		})
		return res, err
	}
	if err := sub.exec(m, path, inv); err != nil {
		return nil, err
	}
	if r.Command == "add" && sub.added != 0 {
		res.ID = menus.ItemID(sub.added)
	}
	res.Text = text.String()
	return res, nil
}

// requestInvocation builds what parseInvocation builds from a line.
func (s *Shell) requestInvocation(m *menus.Menu, path string, r Request) (*invocation, error) {
	inv := &invocation{cmd: r.Command, cmdTok: token{Raw: r.Command}, args: map[string]string{}, argTok: map[string]token{}, flags: map[string]bool{}}
	sp := s.spec(m, path, r.Command)
	if r.Command == "print" {
		// print's conditions name properties, flags and dynamic/default,
		// as find's do; booleans may be written the API's way.
		sp = s.spec(m, path, "find")
	}
	var custom *menus.Command
	if m != nil {
		for _, c := range m.Commands {
			if c.Name == r.Command {
				custom = c
			}
		}
	}
	for _, k := range menus.SortedPropNames(r.Args) {
		v := r.Args[k]
		if k == ".id" {
			k = "numbers"
		}
		if k == "numbers" {
			if custom != nil && custom.Positional > 0 {
				inv.positional = append(inv.positional, token{Raw: v, decoded: true})
				continue
			}
			if !(sp.positional != 0 || hasString(sp.args, "numbers")) {
				return nil, &UnknownArgError{Name: k}
			}
			inv.args["numbers"] = v
			continue
		}
		if hasString(sp.flags, k) {
			switch strings.ToLower(v) {
			case "", "true", "yes":
				inv.flags[k] = true
			case "false", "no":
			default:
				return nil, menus.Errorf("invalid value for argument %s", k)
			}
			continue
		}
		if r.Command == "print" && m != nil {
			name, ok := match(k, propNames(m))
			if !ok {
				return nil, &UnknownArgError{Name: k}
			}
			if isBoolName(m, name) {
				switch v {
				case "true":
					v = "yes"
				case "false":
					v = "no"
				}
			}
			inv.args[name] = v
			continue
		}
		name, ok := s.resolveArg(m, sp, k)
		if !ok {
			return nil, &UnknownArgError{Name: k}
		}
		inv.args[name] = v
	}
	return inv, nil
}

// isBoolName tells whether a where/find name holds yes/no.
func isBoolName(m *menus.Menu, name string) bool {
	if p := m.Prop(name); p != nil {
		_, ok := p.Type.(menus.Bool)
		return ok
	}
	return true // default, dynamic and the flags
}

func hasString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Template returns a console for front ends to call Do on: it writes
// nowhere and shares s's engine, tree and file store.
func (s *Shell) Template() *Shell {
	return &Shell{eng: s.eng, tree: s.tree, cwd: "/", numbers: map[string][]rowRef{}, out: newOutput(io.Discard), Now: s.Now, fileDir: s.fileDir}
}
