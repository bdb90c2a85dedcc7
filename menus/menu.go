// Package menus is the RouterOS command tree as data: one file per menu,
// each a Menu value listing its properties (type, default, help), its print
// layout and its rules, registered in one explicit list (All). The generic
// item commands — add, set, remove, enable, disable, comment, print rows,
// export — are implemented once here, so the console and any other front
// end share one code path to the engine.
package menus

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"rosh/router"
)

// Error is a failure worded the way RouterOS prints it.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

// Errorf returns an *Error.
func Errorf(format string, args ...any) error { return &Error{Msg: fmt.Sprintf(format, args...)} }

// Sentinel errors at the package edge.
var (
	ErrNoSuchItem  = errors.New("no such item")
	ErrExists      = errors.New("failure: entry already exists")
	ErrReadOnly    = errors.New("failure: this menu is read-only")
	ErrBuiltin     = errors.New("failure: can not remove default entry")
	ErrDynamic     = errors.New("failure: can not change dynamic entry")
	ErrUnknownProp = errors.New("unknown property")
)

// Ctx is what a command sees: the configuration under the engine's lock,
// and the engine itself for live state.
type Ctx struct {
	Cfg *router.Config
	Eng *router.Engine
	// Tree gives access to other menus (references, in-use checks).
	Tree *Tree
	// Resolve turns an item reference typed on the console (a number from
	// the last print, a name, *id, a list, [find …]) into item ids. The
	// shell provides it: print numbering is per console.
	Resolve func(ctx *Ctx, m *Menu, ref string) ([]uint32, error)
	// FilePath turns a file name typed on the console into a path in
	// the router's file directory (where the configuration lives),
	// refusing names that leave it.
	FilePath func(name string) (string, error)
}

// ResolveRefs resolves an item reference through the console's resolver.
func (c *Ctx) ResolveRefs(m *Menu, ref string) ([]uint32, error) {
	if c.Resolve == nil {
		return nil, ErrNoSuchItem
	}
	return c.Resolve(c, m, ref)
}

// View runs fn with the configuration locked for reading. Long-running
// commands (monitor, scan) run unlocked and look at the configuration only
// through View.
func (c *Ctx) View(fn func(c *Ctx)) {
	c.Eng.View(func(cfg *router.Config) {
		cc := *c
		cc.Cfg = cfg
		fn(&cc)
	})
}

func (c *Ctx) findByName(menu, name string) (*router.Item, bool) {
	m := c.Tree.Menu(menu)
	if m == nil {
		return nil, false
	}
	t := c.Cfg.Table(menu)
	for _, id := range t.Find(m.Key, name) {
		return t.Lookup(id)
	}
	return nil, false
}

// Prop describes one property of a menu's items.
type Prop struct {
	Name    string
	Type    Type
	Default string // printed when not set; "" with HasDefault=false means "unset"
	// NoDefault marks properties with no value until set (they are left out
	// of print and export until set).
	NoDefault bool
	Required  bool
	Sensitive bool // password, secret: hidden from export unless show-sensitive
	// WriteOnly values are never printed (a /user password): print and
	// the REST API leave them out; export writes them as Sensitive says.
	WriteOnly bool
	Help      string
	// Complete lists candidate values for Tab completion.
	Complete func(ctx *Ctx) []string
	// Quote prints the value in double quotes in detail views (strings).
	Quote bool
}

// Flag is one letter of a print's flags column.
type Flag struct {
	Letter byte
	Name   string
	// Has reports whether a row carries the flag.
	Has func(ctx *Ctx, r *Row) bool
}

// Column of a plain print.
type Column struct {
	Prop  string
	Title string
}

// Row is one printed entry: a configuration item or a dynamic entry.
type Row struct {
	ID      uint32 // item id; 0 for dynamic rows
	Item    *router.Item
	Dynamic bool
	Values  map[string]string // every property's effective value
	Comment string
	Flags   string // computed flags letters
	// Live is the action remove takes on a dynamic row (disconnect).
	Live func()
}

// Command is a menu-specific command (monitor, scan …).
type Command struct {
	Name string
	Help string
	// Args are the named arguments it accepts (for completion and checks).
	Args []string
	// Flags are the bare words it accepts (once, detail …).
	Flags []string
	// Positional: how many unnamed arguments (item refs, interface) it takes.
	Positional int
	Run        func(ctx *Ctx, inv *Invocation) error
}

// Invocation carries the parsed arguments of a command.
type Invocation struct {
	Positional []string
	Args       map[string]string
	Flags      map[string]bool
	Out        Output
}

// Output is where a command writes; Interactive tells whether a person is
// watching (commands like monitor refresh until Stop is closed).
type Output interface {
	Printf(format string, args ...any)
	Interactive() bool
	// Stop is closed when the person presses Ctrl-C.
	Stop() <-chan struct{}
}

// Recorder is an Output that can take a key/value block as data (a
// console run for the REST API): PrintKeyValues hands it the block, and
// prints only when Record reports false.
type Recorder interface {
	Record(kv [][2]string) bool
}

// Menu is one node of the command tree.
type Menu struct {
	Path string // "/ppp/secret"
	Help string
	// Items: the menu holds configuration items (add/set/remove …).
	Items bool
	// Single: the menu is one item edited with set (system identity).
	Single bool
	// ReadOnly: rows come only from Rows (ppp active, ip pool used, log).
	ReadOnly bool
	// Key is the unique property naming an item ("name"), if any.
	Key string
	// AutoName makes a name for an added item without one (pppoe-out1).
	AutoName string
	Props    []*Prop
	Columns  []Column // plain print columns; nil prints name=value rows
	// StatsColumns are the columns of print stats (traffic counters).
	StatsColumns []Column
	Flags        []Flag
	Builtins     []map[string]string
	// Check validates a whole item after a change (cross-field, references).
	Check func(ctx *Ctx, it *router.Item) error
	// InUse refuses removal of an item still referenced.
	InUse func(ctx *Ctx, it *router.Item) error
	// Dynamic appends live rows (sessions) to the configured items.
	Dynamic func(ctx *Ctx) []*Row
	// Decorate fills live values into a configured item's row (a static
	// binding whose session is up).
	Decorate func(ctx *Ctx, r *Row)
	// RemoveDynamic handles remove of dynamic rows (/ppp active disconnects).
	RemoveDynamic func(ctx *Ctx, r *Row) error
	Commands      []*Command
	// Last puts some rows after all others in print (RouterOS lists the
	// default-encryption profile last).
	Last func(r *Row) bool
	// Line, if set, is how a plain print shows a row: one line, no
	// header (/log).
	Line func(r *Row) string
	// Follow, if set, lets print follow wait for new rows: it returns a
	// channel closed when there may be some. Rows then carry ".seq",
	// rising, to tell the new ones.
	Follow func(ctx *Ctx) <-chan struct{}
	// BuiltinSelector is how export addresses a changed built-in item.
	BuiltinSelector func(it *router.Item) string
}

// Prop returns the property named name.
func (m *Menu) Prop(name string) *Prop {
	for _, p := range m.Props {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// Value returns the effective value of a property of an item.
func (m *Menu) Value(it *router.Item, prop string) string {
	if v, ok := it.Props[prop]; ok {
		return v
	}
	if p := m.Prop(prop); p != nil {
		return p.Default
	}
	return ""
}

// IsSet reports whether an item has a value for prop (set or defaulted).
func (m *Menu) IsSet(it *router.Item, prop string) bool {
	if _, ok := it.Props[prop]; ok {
		return true
	}
	p := m.Prop(prop)
	return p != nil && !p.NoDefault
}

// Name is the last path element.
func (m *Menu) Name() string { return m.Path[strings.LastIndex(m.Path, "/")+1:] }

// Tree is the whole command tree.
type Tree struct {
	menus map[string]*Menu
	order []*Menu
}

// NewTree builds the tree from the registered menus.
func NewTree(ms []*Menu) *Tree {
	t := &Tree{menus: map[string]*Menu{}}
	for _, m := range ms {
		t.menus[m.Path] = m
		t.order = append(t.order, m)
	}
	return t
}

// Menu returns the menu at path, or nil.
func (t *Tree) Menu(path string) *Menu { return t.menus[path] }

// Menus lists every menu in registration order.
func (t *Tree) Menus() []*Menu { return t.order }

// Children lists the child directory names of path (menus and the
// directories leading to them), sorted.
func (t *Tree) Children(path string) []string {
	set := map[string]bool{}
	prefix := path
	if prefix != "/" {
		prefix += "/"
	}
	for p := range t.menus {
		if strings.HasPrefix(p, prefix) && p != path {
			rest := strings.TrimPrefix(p, prefix)
			set[strings.SplitN(rest, "/", 2)[0]] = true
		}
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Init puts the built-in items into an empty configuration.
func (t *Tree) Init(c *router.Config) {
	for _, m := range t.order {
		if len(m.Builtins) == 0 {
			continue
		}
		if len(c.Table(m.Path).Items()) > 0 {
			continue
		}
		for _, b := range m.Builtins {
			c.Add(m.Path, b, true)
		}
	}
}
