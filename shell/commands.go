package shell

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"rosh/menus"
	"rosh/router"
)

// run executes the command in toks[0] at path.
func (s *Shell) run(path string, toks []token) error {
	m := s.tree.Menu(path)
	inv, err := s.parseInvocation(m, path, toks)
	if err != nil {
		return err
	}
	return s.exec(m, path, inv)
}

// exec runs a parsed command: a typed line's (run) and a Request's (Do).
func (s *Shell) exec(m *menus.Menu, path string, inv *invocation) error {
	switch inv.cmd {
	case "..":
		s.cwd = parent(path)
		return nil
	case "quit":
		s.quit = true
		return nil
	case "export":
		return s.export(path, inv)
	case "import":
		return s.importCmd(inv)
	}
	if m == nil {
		return &PosError{Msg: "bad command name " + inv.cmdTok.Raw, Col: inv.cmdTok.Col}
	}
	for _, c := range m.Commands {
		if c.Name == inv.cmd {
			return s.custom(m, c, inv)
		}
	}
	switch inv.cmd {
	case "print":
		return s.print(m, inv)
	case "find":
		// find on its own returns ids to a script; on the console it prints nothing.
		var err error
		s.eng.View(func(c *router.Config) { _, err = s.filterRows(s.ctx(c), m, inv) })
		return err
	case "add":
		return s.update(func(ctx *menus.Ctx) error {
			id, err := m.Add(ctx, inv.args)
			s.added = id
			return err
		})
	case "set":
		if m.Single {
			return s.update(func(ctx *menus.Ctx) error {
				items := ctx.Cfg.Table(m.Path).Items()
				if len(items) == 0 {
					return menus.ErrNoSuchItem
				}
				return m.Set(ctx, []uint32{items[0].ID}, inv.args, inv.unset)
			})
		}
		return s.withRefs(m, inv, func(ctx *menus.Ctx, ids []uint32) error {
			args := without(inv.args, "numbers")
			if len(args) == 0 && len(inv.unset) == 0 {
				return nil
			}
			return m.Set(ctx, ids, args, inv.unset)
		})
	case "remove":
		if m.ReadOnly {
			return s.removeDynamic(m, inv)
		}
		return s.withRefs(m, inv, func(ctx *menus.Ctx, ids []uint32) error { return m.Remove(ctx, ids) })
	case "enable", "disable":
		v := "no"
		if inv.cmd == "disable" {
			v = "yes"
		}
		if m.Prop("disabled") == nil {
			return &PosError{Msg: "bad command name " + inv.cmdTok.Raw, Col: inv.cmdTok.Col}
		}
		return s.withRefs(m, inv, func(ctx *menus.Ctx, ids []uint32) error {
			return m.Set(ctx, ids, map[string]string{"disabled": v}, nil)
		})
	case "comment":
		c, ok := inv.args["comment"]
		if !ok {
			return menus.Errorf("failure: comment must be specified")
		}
		return s.withRefs(m, inv, func(ctx *menus.Ctx, ids []uint32) error {
			if c == "" {
				return m.Set(ctx, ids, nil, []string{"comment"})
			}
			return m.Set(ctx, ids, map[string]string{"comment": c}, nil)
		})
	}
	return &PosError{Msg: "bad command name " + inv.cmdTok.Raw, Col: inv.cmdTok.Col}
}

func without(m map[string]string, k string) map[string]string {
	if _, ok := m[k]; !ok {
		return m
	}
	out := make(map[string]string, len(m))
	for kk, v := range m {
		if kk != k {
			out[kk] = v
		}
	}
	return out
}

// update runs a change under the engine's lock; the menus validate before
// they mutate, so a failed command leaves the configuration as it was.
func (s *Shell) update(fn func(ctx *menus.Ctx) error) error {
	return s.eng.Update(func(c *router.Config) error { return fn(s.ctx(c)) })
}

// withRefs resolves the item references of a command (positional words or
// numbers=) and runs fn on their ids.
func (s *Shell) withRefs(m *menus.Menu, inv *invocation, fn func(ctx *menus.Ctx, ids []uint32) error) error {
	ref, ok := inv.args["numbers"]
	if len(inv.positional) > 0 {
		parts := make([]string, 0, len(inv.positional))
		for _, t := range inv.positional {
			v, err := s.value(m, m.Path, t.Raw, t.Col)
			if err != nil {
				return err
			}
			parts = append(parts, v)
		}
		ref, ok = strings.Join(parts, ","), true
	}
	if !ok {
		return menus.Errorf("failure: no items given (numbers)")
	}
	return s.update(func(ctx *menus.Ctx) error {
		if ref == "" { // [find] matched nothing: nothing to do
			return nil
		}
		ids, err := ctx.ResolveRefs(m, ref)
		if err != nil {
			return err
		}
		return fn(ctx, ids)
	})
}

func (s *Shell) removeDynamic(m *menus.Menu, inv *invocation) error {
	refs := inv.positional
	if n, ok := inv.args["numbers"]; ok && len(refs) == 0 {
		// numbers= carries decoded references (a Request's .id).
		for _, part := range strings.Split(n, ",") {
			refs = append(refs, token{Raw: part, decoded: true})
		}
	}
	if m.RemoveDynamic == nil || len(refs) == 0 {
		return &PosError{Msg: "bad command name " + inv.cmdTok.Raw, Col: inv.cmdTok.Col}
	}
	var targets []*menus.Row
	for _, t := range refs {
		if strings.HasPrefix(t.Raw, "[") && !t.decoded {
			rows, err := s.findRows(m.Path, t.Raw, t.Col)
			if err != nil {
				return err
			}
			targets = append(targets, rows...)
			continue
		}
		var err error
		s.eng.View(func(c *router.Config) {
			ctx := s.ctx(c)
			var refs []rowRef
			refs, err = s.resolveRefs(ctx, m, t.Raw)
			if err != nil {
				return
			}
			rows := m.Rows(ctx)
			for _, r := range refs {
				found := false
				for _, row := range rows {
					if refOf(row) == r {
						targets = append(targets, row)
						found = true
					}
				}
				if !found {
					err = menus.ErrNoSuchItem
					return
				}
			}
		})
		if err != nil {
			return err
		}
	}
	for _, r := range targets {
		if err := m.RemoveDynamic(nil, r); err != nil {
			return err
		}
	}
	return nil
}

func (s *Shell) custom(m *menus.Menu, c *menus.Command, inv *invocation) error {
	if len(inv.positional) < c.Positional {
		return menus.Errorf("failure: %s needs %d argument(s)", c.Name, c.Positional)
	}
	mi := &menus.Invocation{Args: inv.args, Flags: inv.flags, Out: s.out}
	for _, t := range inv.positional {
		if t.decoded {
			mi.Positional = append(mi.Positional, t.Raw)
			continue
		}
		v, err := s.value(m, m.Path, t.Raw, t.Col)
		if err != nil {
			return err
		}
		mi.Positional = append(mi.Positional, v)
	}
	ctx := s.ctx(nil)
	return c.Run(ctx, mi)
}

// print prints a menu's rows, once or (on a terminal, with interval=)
// repeatedly until Ctrl-C.
func (s *Shell) print(m *menus.Menu, inv *invocation) error {
	interval := time.Duration(0)
	if v, ok := inv.args["interval"]; ok {
		d, err := menus.ParseDuration(v)
		if err != nil || d <= 0 {
			return menus.Errorf("invalid value for argument interval")
		}
		interval = d
	}
	opt := menus.PrintOptions{Detail: inv.flags["detail"], Terse: inv.flags["terse"], Stats: inv.flags["stats"]}
	if pl, ok := inv.args["proplist"]; ok {
		opt.Props = strings.Split(pl, ",")
	}
	if inv.flags["follow"] || inv.flags["follow-only"] {
		return s.follow(m, inv, opt)
	}
	for {
		var err error
		s.eng.View(func(c *router.Config) {
			ctx := s.ctx(c)
			var rows []*menus.Row
			rows, err = s.filterRows(ctx, m, inv)
			if err != nil {
				return
			}
			if inv.flags["count-only"] {
				s.out.Printf("%d\n", len(rows))
				return
			}
			// Numbers count every row of the menu, so that a filtered print
			// still numbers items the way "set N" will find them.
			all := refsOf(m.Rows(ctx))
			numbers := make([]int, len(rows))
			for i, r := range rows {
				numbers[i] = indexOf(all, refOf(r))
			}
			s.numbers[m.Path] = all
			m.PrintRows(s.out, rows, numbers, opt)
		})
		if err != nil || interval == 0 || !s.out.Interactive() {
			return err
		}
		select {
		case <-s.out.Stop():
			return nil
		case <-time.After(interval):
		}
	}
}

// follow prints the rows of a menu that grows (/log), then every new one
// as it comes, until Ctrl-C; follow-only skips the rows already there.
func (s *Shell) follow(m *menus.Menu, inv *invocation, opt menus.PrintOptions) error {
	if m.Follow == nil {
		return menus.Errorf("failure: follow is not supported here")
	}
	var last uint64
	first := true
	for {
		var err error
		var changed <-chan struct{}
		s.eng.View(func(c *router.Config) {
			ctx := s.ctx(c)
			changed = m.Follow(ctx)
			var rows, fresh []*menus.Row
			if rows, err = s.filterRows(ctx, m, inv); err != nil {
				return
			}
			for _, r := range rows {
				seq, _ := strconv.ParseUint(r.Values[".seq"], 10, 64)
				if seq > last {
					if !(first && inv.flags["follow-only"]) {
						fresh = append(fresh, r)
					}
					last = seq
				}
			}
			m.PrintRows(s.out, fresh, make([]int, len(fresh)), opt)
		})
		if err != nil {
			return err
		}
		first = false
		select {
		case <-s.out.Stop():
			return nil
		case <-changed:
		}
	}
}

func indexOf(refs []rowRef, r rowRef) int {
	for i, x := range refs {
		if x == r {
			return i
		}
	}
	return -1
}

// ExportText renders the configuration script with its header comment.
func (s *Shell) ExportText(path string, opt menus.ExportOptions) string {
	var body string
	s.eng.View(func(c *router.Config) { body = s.tree.Export(c, path, opt) })
	return fmt.Sprintf("# %s by rosh %s\n", s.Now().Format("2006-01-02 15:04:05"), Version) + body
}

func (s *Shell) export(path string, inv *invocation) error {
	opt := menus.ExportOptions{Verbose: inv.flags["verbose"], ShowSensitive: inv.flags["show-sensitive"]}
	text := s.ExportText(path, opt)
	if f, ok := inv.args["file"]; ok {
		if f == "" {
			return menus.Errorf("invalid value for argument file")
		}
		if !strings.HasSuffix(f, ".rsc") {
			f += ".rsc"
		}
		p, err := s.filePath(f)
		if err != nil {
			return err
		}
		if err := router.WriteFileAtomic(p, []byte(text), 0o600); err != nil {
			return menus.Errorf("failure: could not write %s: %v", f, errors.Unwrap(err))
		}
		return nil
	}
	s.out.Printf("%s", text)
	return nil
}

// importCmd runs a script file line by line, from the root menu; every
// failing line is reported and the command fails if any did.
func (s *Shell) importCmd(inv *invocation) error {
	name, ok := inv.args["file-name"]
	if !ok {
		name, ok = inv.args["file"]
	}
	if !ok || name == "" {
		return menus.Errorf("failure: file-name must be specified")
	}
	if s.importDepth > 8 {
		return menus.Errorf("failure: imports nested too deep")
	}
	data, err := s.readFile(name)
	if err != nil && !strings.HasSuffix(name, ".rsc") {
		data, err = s.readFile(name + ".rsc")
	}
	if err != nil {
		var me *menus.Error
		if errors.As(err, &me) {
			return err
		}
		if os.IsNotExist(err) {
			return menus.Errorf("failure: no such file %s", name)
		}
		return menus.Errorf("failure: %v", err)
	}
	sub := &Shell{eng: s.eng, tree: s.tree, cwd: "/", numbers: map[string][]rowRef{}, out: s.out, Now: s.Now, importDepth: s.importDepth + 1, fileDir: s.fileDir}
	failed := sub.RunScript(strings.NewReader(string(data)), nil)
	if failed > 0 {
		return menus.Errorf("failure: %d line(s) of %s failed", failed, name)
	}
	s.out.Printf("Script file loaded and executed successfully\n")
	return nil
}
