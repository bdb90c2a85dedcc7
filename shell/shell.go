package shell

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"rosh/menus"
	"rosh/router"
)

// Version is rosh's version, written in export headers.
var Version = "0.1.0"

// Shell is one console: its current menu, the numbering of its last print
// in each menu, and where it writes.
type Shell struct {
	eng  *router.Engine
	tree *menus.Tree
	cwd  string
	// numbers maps a menu path to the rows of the last print, so that
	// "set 0" means the first row printed.
	numbers map[string][]rowRef
	out     *output
	// Now is the clock for export headers.
	Now func() time.Time
	// quit is set by /quit.
	quit bool
	// importDepth guards against scripts importing themselves.
	importDepth int
	// fileDir holds the files of export file= and import file=.
	fileDir string
	// added is the id of the item the last add made (a Request's answer).
	added uint32
}

// rowRef identifies a printed row: a configuration item by id, or a
// dynamic row by its values' identity.
type rowRef struct {
	id  uint32
	dyn string
}

// New returns a console at the root menu writing to w.
func New(eng *router.Engine, tree *menus.Tree, w io.Writer) *Shell {
	return &Shell{eng: eng, tree: tree, cwd: "/", numbers: map[string][]rowRef{}, out: newOutput(w), Now: time.Now, fileDir: "."}
}

// output adapts a writer to menus.Output.
type output struct {
	mu          sync.Mutex
	w           io.Writer
	interactive bool
	stop        chan struct{}
	// closed: Close was called; stop stays closed.
	closed bool
	// record, when set, takes key/value blocks as data (a Request's).
	record func(kv [][2]string)
}

func newOutput(w io.Writer) *output { return &output{w: w, stop: make(chan struct{})} }

func (o *output) Printf(format string, args ...any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	fmt.Fprintf(o.w, format, args...)
}
func (o *output) Interactive() bool { return o.interactive }

// Write writes p under the output's lock, between whole Printf calls.
func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.w.Write(p)
}

func (o *output) Stop() <-chan struct{} {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.stop
}

// Record hands a key/value block to a Request's collector; false when the
// output is a console, which prints it.
func (o *output) Record(kv [][2]string) bool {
	if o.record == nil {
		return false
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.record(kv)
	return true
}

// SetInteractive marks the console as watched by a person on a terminal.
func (s *Shell) SetInteractive(b bool) { s.out.interactive = b }

// Interrupt stops a running monitor/scan/print interval (Ctrl-C).
func (s *Shell) Interrupt() {
	s.out.mu.Lock()
	defer s.out.mu.Unlock()
	if s.out.closed {
		return
	}
	close(s.out.stop)
	s.out.stop = make(chan struct{})
}

// Close stops the running command, if any, and every one after it at
// once: the console's person is gone (a socket console that vanished).
func (s *Shell) Close() {
	s.out.mu.Lock()
	defer s.out.mu.Unlock()
	if !s.out.closed {
		s.out.closed = true
		close(s.out.stop)
	}
}

// Quit reports whether /quit was given.
func (s *Shell) Quit() bool { return s.quit }

// Cwd is the current menu path ("/ppp/secret").
func (s *Shell) Cwd() string { return s.cwd }

// Prompt is "[admin@MikroTik] /ppp secret> ".
func (s *Shell) Prompt() string {
	var id string
	s.eng.View(func(c *router.Config) { id = menus.Identity(c) })
	p := "/"
	if s.cwd != "/" {
		p = menus.MenuHeader(s.cwd)
	}
	if p == "/" {
		return fmt.Sprintf("[admin@%s] > ", id)
	}
	return fmt.Sprintf("[admin@%s] %s> ", id, p)
}

// Item commands every configuration menu has, with their help.
var itemCommands = map[string]string{
	"add":     "create a new item",
	"set":     "change item properties",
	"remove":  "remove items",
	"print":   "print the items",
	"enable":  "enable items",
	"disable": "disable items",
	"find":    "find items by value",
	"comment": "set the comment of items",
	"export":  "print a script that recreates the configuration",
	"edit":    "edit a value of an item",
}

// globalCommands work in every menu.
var globalCommands = map[string]string{
	"export": "print a script that recreates the configuration",
	"import": "run a script file",
	"quit":   "leave the console",
	"..":     "go up one menu",
}

// Commands lists the commands available in a menu with one-line help.
func (s *Shell) Commands(path string) map[string]string {
	out := map[string]string{}
	for k, v := range globalCommands {
		if k == "import" && path != "/" {
			continue
		}
		out[k] = v
	}
	m := s.tree.Menu(path)
	if m == nil {
		return out
	}
	switch {
	case m.Single:
		out["set"], out["print"] = itemCommands["set"], itemCommands["print"]
	case m.ReadOnly:
		out["print"], out["find"] = itemCommands["print"], itemCommands["find"]
		if m.RemoveDynamic != nil {
			out["remove"] = "disconnect sessions"
		}
	case m.Items:
		for k, v := range itemCommands {
			if k != "edit" {
				out[k] = v
			}
		}
	}
	for _, c := range m.Commands {
		out[c.Name] = c.Help
	}
	return out
}

// isNode tells whether path is a menu or a directory of menus.
func (s *Shell) isNode(path string) bool {
	return path == "/" || s.tree.Menu(path) != nil || len(s.tree.Children(path)) > 0
}

func joinPath(dir, name string) string {
	if dir == "/" {
		return "/" + name
	}
	return dir + "/" + name
}

func parent(p string) string {
	if p == "/" {
		return "/"
	}
	d := filepath.Dir(p)
	return d
}

// match resolves a word against candidates: exact match, else a unique
// prefix. ok is false when none or several match.
func match(word string, cands []string) (string, bool) {
	var found []string
	for _, c := range cands {
		if c == word {
			return c, true
		}
		if strings.HasPrefix(c, word) {
			found = append(found, c)
		}
	}
	if len(found) == 1 {
		return found[0], true
	}
	return "", false
}

// Execute runs one console line. lineNo is used in error positions.
func (s *Shell) Execute(line string, lineNo int) (err error) {
	defer func() {
		var pe *PosError
		if errors.As(err, &pe) {
			pe.Line = lineNo
		}
	}()
	toks, err := lex(line)
	if err != nil {
		return err
	}
	if len(toks) == 0 {
		return nil
	}
	path, rest, err := s.walk(toks)
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		if !s.isNode(path) {
			return &PosError{Msg: "bad command name", Col: toks[0].Col}
		}
		s.cwd = path
		return nil
	}
	return s.run(path, rest)
}

// walk consumes the path words at the start of a line and returns the
// menu they lead to and the remaining words.
func (s *Shell) walk(toks []token) (string, []token, error) {
	path := s.cwd
	i := 0
	for ; i < len(toks); i++ {
		raw := toks[i].Raw
		if strings.ContainsAny(raw, "=[\"") {
			break
		}
		segs := []string{raw}
		if strings.Contains(raw, "/") {
			if strings.HasPrefix(raw, "/") {
				if i != 0 {
					break
				}
				path = "/"
			}
			segs = strings.Split(strings.Trim(raw, "/"), "/")
			if raw == "/" {
				segs = nil
			}
		}
		next := path
		ok := true
		for _, seg := range segs {
			if seg == ".." {
				next = parent(next)
				continue
			}
			if seg == "" {
				continue
			}
			child, found := s.resolveChild(next, seg)
			if !found {
				ok = false
				break
			}
			next = joinPath(next, child)
		}
		if !ok {
			if len(segs) > 1 || strings.HasPrefix(raw, "/") && len(segs) > 0 {
				// "/ppp/secrett": a path word that leads nowhere.
				if len(segs) > 1 || !s.isCommandWord(path, segs[0]) {
					return "", nil, &PosError{Msg: "bad command name " + lastSeg(segs), Col: toks[i].Col}
				}
				return path, append([]token{{Raw: segs[0], Col: toks[i].Col + 1}}, toks[i+1:]...), nil
			}
			break
		}
		path = next
	}
	return path, toks[i:], nil
}

func lastSeg(segs []string) string {
	if len(segs) == 0 {
		return ""
	}
	return segs[len(segs)-1]
}

func (s *Shell) isCommandWord(path, w string) bool {
	_, ok := s.Commands(path)[w]
	return ok
}

// resolveChild matches a word against the child menus of path; a word that
// is exactly a command name of path is not a child.
func (s *Shell) resolveChild(path, word string) (string, bool) {
	children := s.tree.Children(path)
	for _, c := range children {
		if c == word {
			return c, true
		}
	}
	if _, isCmd := s.Commands(path)[word]; isCmd {
		return "", false
	}
	cands := append([]string{}, children...)
	for c := range s.Commands(path) {
		cands = append(cands, c)
	}
	m, ok := match(word, cands)
	if !ok {
		return "", false
	}
	for _, c := range children {
		if c == m {
			return c, true
		}
	}
	return "", false
}

// invocation is a parsed command line after the command word.
type invocation struct {
	cmd        string
	cmdTok     token
	positional []token
	args       map[string]string // raw values keyed by resolved name
	argTok     map[string]token
	unset      []string
	flags      map[string]bool
	where      string
	whereCol   int
}

// commandSpec says which words a command accepts.
type commandSpec struct {
	flags []string
	args  []string
	// props: the command takes the menu's properties as arguments.
	props bool
	// positional: how many unnamed words it takes (-1: any).
	positional int
	where      bool
}

func (s *Shell) spec(m *menus.Menu, path, cmd string) commandSpec {
	switch cmd {
	case "add":
		return commandSpec{props: true, args: []string{"copy-from"}}
	case "set":
		if m != nil && m.Single {
			return commandSpec{props: true}
		}
		return commandSpec{props: true, positional: 1, args: []string{"numbers"}}
	case "remove", "enable", "disable":
		return commandSpec{positional: -1, args: []string{"numbers"}}
	case "comment":
		return commandSpec{positional: 1, args: []string{"numbers", "comment"}}
	case "print":
		return commandSpec{flags: []string{"detail", "terse", "count-only", "brief", "stats", "without-paging", "follow", "follow-only", "value-list"},
			args: []string{"interval", "proplist", "file"}, where: true, positional: 0}
	case "find":
		return commandSpec{props: true, where: true, args: []string{"default", "dynamic", "disabled", "invalid", "running"}}
	case "export":
		return commandSpec{flags: []string{"compact", "verbose", "terse", "show-sensitive", "hide-sensitive"}, args: []string{"file"}}
	case "import":
		return commandSpec{args: []string{"file-name", "file", "verbose"}}
	case "quit", "..":
		return commandSpec{}
	}
	if m != nil {
		for _, c := range m.Commands {
			if c.Name == cmd {
				return commandSpec{flags: c.Flags, args: c.Args, positional: c.Positional}
			}
		}
	}
	return commandSpec{}
}

func (s *Shell) parseInvocation(m *menus.Menu, path string, toks []token) (*invocation, error) {
	cmds := s.Commands(path)
	names := make([]string, 0, len(cmds))
	for k := range cmds {
		names = append(names, k)
	}
	cmd, ok := match(toks[0].Raw, names)
	if !ok {
		return nil, &PosError{Msg: "bad command name " + toks[0].Raw, Col: toks[0].Col}
	}
	inv := &invocation{cmd: cmd, cmdTok: toks[0], args: map[string]string{}, argTok: map[string]token{}, flags: map[string]bool{}}
	sp := s.spec(m, path, cmd)
	for i := 1; i < len(toks); i++ {
		t := toks[i]
		if sp.where && t.Raw == "where" {
			// The rest of the line, as typed, is the expression.
			inv.whereCol = t.Col + len("where")
			inv.where = strings.Join(rawTail(toks[i+1:]), " ")
			if i+1 < len(toks) {
				inv.whereCol = toks[i+1].Col
			}
			break
		}
		key, val, isKV := splitKV(t.Raw)
		if strings.HasPrefix(t.Raw, "!") && !isKV && sp.props && m != nil {
			p, err := m.ResolveProp(t.Raw[1:])
			if err != nil {
				return nil, &PosError{Msg: "expected end of command", Col: t.Col}
			}
			inv.unset = append(inv.unset, p.Name)
			continue
		}
		if isKV {
			name, ok := s.resolveArg(m, sp, key)
			if !ok {
				return nil, &PosError{Msg: "expected end of command", Col: t.Col}
			}
			v, err := s.value(m, path, val, t.Col+len(key)+1)
			if err != nil {
				return nil, err
			}
			inv.args[name] = v
			inv.argTok[name] = t
			continue
		}
		if f, ok := match(t.Raw, sp.flags); ok && !strings.HasPrefix(t.Raw, "[") {
			inv.flags[f] = true
			continue
		}
		if sp.positional == -1 || len(inv.positional) < sp.positional {
			inv.positional = append(inv.positional, t)
			continue
		}
		return nil, &PosError{Msg: "expected end of command", Col: t.Col}
	}
	return inv, nil
}

func rawTail(toks []token) []string {
	out := make([]string, len(toks))
	for i, t := range toks {
		out[i] = t.Raw
	}
	return out
}

// resolveArg resolves an argument name: the command's own arguments, then
// the menu's properties (by unambiguous prefix).
func (s *Shell) resolveArg(m *menus.Menu, sp commandSpec, key string) (string, bool) {
	for _, a := range sp.args {
		if a == key {
			return a, true
		}
	}
	if sp.props && m != nil {
		if p, err := m.ResolveProp(key); err == nil {
			return p.Name, true
		}
	}
	if a, ok := match(key, sp.args); ok {
		return a, true
	}
	return "", false
}

// value decodes a raw value: quotes and escapes, or a [command] whose
// result (item ids) becomes the value.
func (s *Shell) value(m *menus.Menu, path, raw string, col int) (string, error) {
	if strings.HasPrefix(raw, "[") && strings.HasSuffix(raw, "]") {
		ids, err := s.evalBracket(m, path, raw, col)
		if err != nil {
			return "", err
		}
		return formatIDs(ids), nil
	}
	v, err := unquote(raw)
	if err != nil {
		return "", &PosError{Msg: "syntax error", Col: col}
	}
	return v, nil
}

func formatIDs(ids []uint32) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = fmt.Sprintf("*%X", id)
	}
	return strings.Join(parts, ",")
}

// evalBracket runs "[find …]" (or "[/path find …]") and returns item ids.
func (s *Shell) evalBracket(m *menus.Menu, path, raw string, col int) ([]uint32, error) {
	rows, err := s.findRows(path, raw, col)
	var ids []uint32
	for _, r := range rows {
		if r.ID != 0 {
			ids = append(ids, r.ID)
		}
	}
	return ids, err
}

// findRows runs a bracketed find and returns the rows it matches,
// dynamic ones (/ppp active) included.
func (s *Shell) findRows(path, raw string, col int) ([]*menus.Row, error) {
	inner := raw[1 : len(raw)-1]
	toks, err := lex(inner)
	if err != nil {
		var pe *PosError
		if errors.As(err, &pe) {
			pe.Col += col
		}
		return nil, err
	}
	for i := range toks {
		toks[i].Col += col
	}
	if len(toks) == 0 {
		return nil, &PosError{Msg: "syntax error", Col: col}
	}
	saved := s.cwd
	s.cwd = path
	p, rest, err := s.walk(toks)
	s.cwd = saved
	if err != nil {
		return nil, err
	}
	if len(rest) == 0 || !strings.HasPrefix("find", rest[0].Raw) || len(rest[0].Raw) < 1 {
		return nil, &PosError{Msg: "bad command name " + firstRaw(rest), Col: col + 1}
	}
	fm := s.tree.Menu(p)
	if fm == nil {
		return nil, &PosError{Msg: "bad command name find", Col: rest[0].Col}
	}
	inv, err := s.parseInvocation(fm, p, rest)
	if err != nil {
		return nil, err
	}
	var rows []*menus.Row
	s.eng.View(func(c *router.Config) { rows, err = s.filterRows(s.ctx(c), fm, inv) })
	return rows, err
}

func firstRaw(t []token) string {
	if len(t) == 0 {
		return ""
	}
	return t[0].Raw
}

func (s *Shell) ctx(c *router.Config) *menus.Ctx {
	ctx := &menus.Ctx{Cfg: c, Eng: s.eng, Tree: s.tree, FilePath: s.filePath}
	ctx.Resolve = func(ctx *menus.Ctx, m *menus.Menu, ref string) ([]uint32, error) {
		refs, err := s.resolveRefs(ctx, m, ref)
		if err != nil {
			return nil, err
		}
		var ids []uint32
		for _, r := range refs {
			if r.id == 0 {
				return nil, menus.ErrDynamic
			}
			ids = append(ids, r.id)
		}
		return ids, nil
	}
	return ctx
}

// rowProps returns the value lookup used by where/find for a row: its
// properties plus the pseudo-properties disabled, dynamic, default, and
// one per flag.
func rowGetter(m *menus.Menu, r *menus.Row) func(string) (string, bool) {
	return func(p string) (string, bool) {
		if v, ok := r.Values[p]; ok {
			return v, true
		}
		yes := func(b bool) (string, bool) {
			if b {
				return "yes", true
			}
			return "no", true
		}
		switch p {
		case "default":
			// The entry named "default" ([find default=yes]); other
			// built-ins such as default-encryption are found by name.
			return yes(r.Item != nil && r.Item.Builtin && (m.Key == "" || r.Values[m.Key] == "default"))
		case "dynamic":
			return yes(r.Dynamic)
		case "comment":
			return r.Comment, r.Comment != ""
		}
		for _, f := range m.Flags {
			if f.Name == p {
				return yes(strings.IndexByte(r.Flags, f.Letter) >= 0)
			}
		}
		return "", false
	}
}

// propNames lists what where/find may name in a menu.
func propNames(m *menus.Menu) []string {
	var out []string
	for _, p := range m.Props {
		out = append(out, p.Name)
	}
	out = append(out, "default", "dynamic", "comment")
	for _, f := range m.Flags {
		out = append(out, f.Name)
	}
	return out
}

// filterRows applies find's name=value conditions and a where expression.
func (s *Shell) filterRows(ctx *menus.Ctx, m *menus.Menu, inv *invocation) ([]*menus.Row, error) {
	var conds []expr
	for _, k := range menus.SortedPropNames(inv.args) {
		switch k {
		case "interval", "proplist", "file":
			continue
		}
		conds = append(conds, cmpExpr{prop: k, op: "=", val: inv.args[k]})
	}
	if inv.where != "" || inv.whereCol != 0 {
		names := propNames(m)
		e, err := parseExpr(inv.where, inv.whereCol, func(n string) (string, bool) { return match(n, names) })
		if err != nil {
			return nil, err
		}
		conds = append(conds, e)
	}
	var out []*menus.Row
	for _, r := range m.Rows(ctx) {
		g := rowGetter(m, r)
		ok := true
		for _, c := range conds {
			if !c.eval(g) {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, r)
		}
	}
	return out, nil
}

// dynKey identifies a dynamic row across prints.
func dynKey(r *menus.Row) string {
	keys := make([]string, 0, len(r.Values))
	for k := range r.Values {
		if k == "uptime" {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + "=" + r.Values[k] + ";")
	}
	return b.String()
}

// resolveRefs turns "0", "0,2", "MT-User", "*3" or "*1,*2" into rows.
func (s *Shell) resolveRefs(ctx *menus.Ctx, m *menus.Menu, ref string) ([]rowRef, error) {
	rows := m.Rows(ctx)
	numbered := s.numbers[m.Path]
	if numbered == nil {
		numbered = refsOf(rows)
	}
	var out []rowRef
	for _, part := range strings.Split(ref, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			return nil, menus.ErrNoSuchItem
		}
		if n, err := strconv.Atoi(part); err == nil {
			if n < 0 || n >= len(numbered) {
				return nil, menus.ErrNoSuchItem
			}
			out = append(out, numbered[n])
			continue
		}
		if strings.HasPrefix(part, "*") {
			id, err := strconv.ParseUint(part[1:], 16, 32)
			if err != nil {
				return nil, menus.ErrNoSuchItem
			}
			if _, ok := ctx.Cfg.Table(m.Path).Lookup(uint32(id)); ok {
				out = append(out, rowRef{id: uint32(id)})
				continue
			}
			// A dynamic entry's id (*80000001: a /ppp active session).
			found := false
			for _, r := range rows {
				if r.ID == 0 && strings.EqualFold(r.Values[".id"], part) {
					out = append(out, refOf(r))
					found = true
					break
				}
			}
			if !found {
				return nil, menus.ErrNoSuchItem
			}
			continue
		}
		found := false
		for _, r := range rows {
			if (m.Key != "" && r.Values[m.Key] == part) || (m.Key == "" && r.Values["name"] == part) {
				out = append(out, refOf(r))
				found = true
				break
			}
		}
		if !found {
			return nil, menus.ErrNoSuchItem
		}
	}
	return out, nil
}

func refOf(r *menus.Row) rowRef {
	if r.ID != 0 {
		return rowRef{id: r.ID}
	}
	return rowRef{dyn: dynKey(r)}
}

func refsOf(rows []*menus.Row) []rowRef {
	out := make([]rowRef, len(rows))
	for i, r := range rows {
		out[i] = refOf(r)
	}
	return out
}

// SetFileDir sets the directory that export file= and import file= name
// files in: the router's own file store, as on RouterOS. Names may not
// leave it.
func (s *Shell) SetFileDir(d string) { s.fileDir = d }

func (s *Shell) filePath(name string) (string, error) {
	clean := filepath.Clean(name)
	if name == "" || filepath.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") {
		return "", menus.Errorf("failure: bad file name %s", name)
	}
	return filepath.Join(s.fileDir, clean), nil
}

func (s *Shell) readFile(name string) ([]byte, error) {
	p, err := s.filePath(name)
	if err != nil {
		return nil, err
	}
	return os.ReadFile(p)
}
