package menus

import (
	"sort"
	"strconv"
	"strings"

	"rosh/router"
)

// ResolveProp finds a property by exact name or unambiguous prefix
// (RouterOS accepts "pass=" for password=). It returns ErrUnknownProp when
// nothing or more than one property matches.
func (m *Menu) ResolveProp(name string) (*Prop, error) {
	var found *Prop
	for _, p := range m.Props {
		if p.Name == name {
			return p, nil
		}
		if strings.HasPrefix(p.Name, name) {
			if found != nil {
				return nil, ErrUnknownProp
			}
			found = p
		}
	}
	if found == nil {
		return nil, ErrUnknownProp
	}
	return found, nil
}

// parseArgs turns raw console values into canonical ones. Names must
// already be resolved to full property names.
func (m *Menu) parseArgs(ctx *Ctx, args map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(args))
	// Parse in property order so the first bad argument reported is stable.
	for _, p := range m.Props {
		raw, ok := args[p.Name]
		if !ok {
			continue
		}
		v, err := p.Type.Parse(ctx, p.Name, raw)
		if err != nil {
			return nil, err
		}
		out[p.Name] = v
	}
	for k := range args {
		if m.Prop(k) == nil {
			return nil, ErrUnknownProp
		}
	}
	return out, nil
}

func (m *Menu) checkUnique(ctx *Ctx, it *router.Item) error {
	if m.Key == "" {
		return nil
	}
	for _, id := range ctx.Cfg.Table(m.Path).Find(m.Key, m.Value(it, m.Key)) {
		if id != it.ID {
			return ErrExists
		}
	}
	return nil
}

func (m *Menu) checkItem(ctx *Ctx, it *router.Item) error {
	for _, p := range m.Props {
		if p.Required {
			if v, ok := it.Props[p.Name]; !ok || v == "" {
				return Errorf("failure: %s must be specified", p.Name)
			}
		}
	}
	if err := m.checkUnique(ctx, it); err != nil {
		return err
	}
	if m.Check != nil {
		return m.Check(ctx, it)
	}
	return nil
}

func (m *Menu) writable() error {
	if m.ReadOnly || (!m.Items && !m.Single) {
		return ErrReadOnly
	}
	return nil
}

// Add validates and adds a new item; args are raw console values keyed by
// full property names. Nothing changes when it fails.
func (m *Menu) Add(ctx *Ctx, args map[string]string) (uint32, error) {
	if err := m.writable(); err != nil || m.Single {
		return 0, ErrReadOnly
	}
	vals, err := m.parseArgs(ctx, args)
	if err != nil {
		return 0, err
	}
	if m.AutoName != "" && m.Key != "" {
		if _, ok := vals[m.Key]; !ok {
			vals[m.Key] = m.nextAutoName(ctx)
		}
	}
	it := &router.Item{ID: 0, Props: vals}
	if err := m.checkItem(ctx, it); err != nil {
		return 0, err
	}
	return ctx.Cfg.Add(m.Path, vals, false), nil
}

func (m *Menu) nextAutoName(ctx *Ctx) string {
	used := map[string]bool{}
	for _, it := range ctx.Cfg.Table(m.Path).Items() {
		used[m.Value(it, m.Key)] = true
	}
	for i := 1; ; i++ {
		n := m.AutoName + strconv.Itoa(i)
		if !used[n] {
			return n
		}
	}
}

// Set changes properties of the items ids; unset lists properties to
// return to their defaults (!prop). All items are validated before any is
// changed.
func (m *Menu) Set(ctx *Ctx, ids []uint32, args map[string]string, unset []string) error {
	if err := m.writable(); err != nil {
		return err
	}
	vals, err := m.parseArgs(ctx, args)
	if err != nil {
		return err
	}
	for _, u := range unset {
		p := m.Prop(u)
		if p == nil {
			return ErrUnknownProp
		}
		if p.Required {
			return Errorf("failure: %s must be specified", u)
		}
	}
	table := ctx.Cfg.Table(m.Path)
	var pending []*router.Item
	for _, id := range ids {
		it, ok := table.Lookup(id)
		if !ok {
			return ErrNoSuchItem
		}
		c := it.Clone()
		for k, v := range vals {
			c.Props[k] = v
		}
		for _, u := range unset {
			delete(c.Props, u)
		}
		if c.Builtin && m.Key != "" && m.Value(c, m.Key) != m.Value(it, m.Key) {
			return Errorf("failure: can not rename default entry")
		}
		if err := m.checkItem(ctx, c); err != nil {
			return err
		}
		pending = append(pending, c)
	}
	if len(ids) > 1 && m.Key != "" {
		if _, ok := vals[m.Key]; ok {
			return ErrExists
		}
	}
	for _, c := range pending {
		_ = ctx.Cfg.Set(m.Path, c.ID, vals, unset)
	}
	return nil
}

// Remove deletes items, refusing built-in and still-referenced ones.
func (m *Menu) Remove(ctx *Ctx, ids []uint32) error {
	if err := m.writable(); err != nil || m.Single {
		return ErrReadOnly
	}
	table := ctx.Cfg.Table(m.Path)
	for _, id := range ids {
		it, ok := table.Lookup(id)
		if !ok {
			return ErrNoSuchItem
		}
		if it.Builtin {
			return ErrBuiltin
		}
		if m.InUse != nil {
			if err := m.InUse(ctx, it); err != nil {
				return err
			}
		}
	}
	for _, id := range ids {
		_ = ctx.Cfg.Remove(m.Path, id)
	}
	return nil
}

// Rows lists the menu's entries as print shows them: configured items in
// table order, then dynamic rows.
func (m *Menu) Rows(ctx *Ctx) []*Row {
	var rows []*Row
	if m.Items || m.Single {
		for _, it := range ctx.Cfg.Table(m.Path).Items() {
			r := &Row{ID: it.ID, Item: it, Values: map[string]string{}}
			for _, p := range m.Props {
				if m.IsSet(it, p.Name) && !p.WriteOnly {
					r.Values[p.Name] = m.Value(it, p.Name)
				}
			}
			r.Comment = it.Props["comment"]
			if m.Decorate != nil {
				m.Decorate(ctx, r)
			}
			rows = append(rows, r)
		}
	}
	if m.Dynamic != nil {
		rows = append(rows, m.Dynamic(ctx)...)
	}
	// Flags are positional, as RouterOS prints them: " 0  R" is neither
	// disabled nor invalid, but running.
	for _, r := range rows {
		b := make([]byte, len(m.Flags))
		for i, f := range m.Flags {
			b[i] = ' '
			if f.Has(ctx, r) {
				b[i] = f.Letter
			}
		}
		r.Flags = string(b)
	}
	if m.Last != nil {
		sort.SliceStable(rows, func(i, j int) bool {
			return !m.Last(rows[i]) && m.Last(rows[j])
		})
	}
	return rows
}

// ItemProps lists the properties that describe an item in print and export
// (all but disabled and comment, which have their own places).
func (m *Menu) ItemProps() []*Prop {
	var out []*Prop
	for _, p := range m.Props {
		if p.Name != "disabled" && p.Name != "comment" {
			out = append(out, p)
		}
	}
	return out
}

// SortedPropNames returns names in alphabetical order (export's order).
func SortedPropNames(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// Common properties shared by item menus.
func disabledProp(def string) *Prop {
	return &Prop{Name: "disabled", Type: Bool{}, Default: def, Help: "whether the entry is disabled"}
}

func commentProp() *Prop {
	return &Prop{Name: "comment", Type: String{}, NoDefault: true, Quote: true, Help: "short description of the entry"}
}

// disabledFlag is the X flag shown by every item menu.
var disabledFlag = Flag{Letter: 'X', Name: "disabled", Has: func(_ *Ctx, r *Row) bool { return r.Values["disabled"] == "yes" }}

// dynamicFlag is the D flag of dynamic entries.
var dynamicFlag = Flag{Letter: 'D', Name: "dynamic", Has: func(_ *Ctx, r *Row) bool { return r.Dynamic }}

// DynamicID is the item id of a dynamic entry: RouterOS numbers them from
// *80000000 up, apart from configured items.
func DynamicID(n uint32) string {
	return "*" + strings.ToUpper(strconv.FormatUint(uint64(0x80000000|n), 16))
}

// ItemID is how RouterOS writes a configured item's id: *1, *1A.
func ItemID(id uint32) string { return "*" + strings.ToUpper(strconv.FormatUint(uint64(id), 16)) }

// Record is one row as the RouterOS API returns it: .id first, every
// printed property by its print detail name, yes/no properties and the
// row's flags as "true"/"false", the comment; write-only and internal
// (".x") values left out.
func (m *Menu) Record(ctx *Ctx, r *Row) [][2]string {
	var out [][2]string
	switch {
	case m.Single: // one item, no id (/system/identity)
	case r.ID != 0:
		out = append(out, [2]string{".id", ItemID(r.ID)})
	case r.Values[".id"] != "":
		out = append(out, [2]string{".id", r.Values[".id"]})
	}
	tf := func(yes bool) string {
		if yes {
			return "true"
		}
		return "false"
	}
	seen := map[string]bool{}
	for _, p := range m.Props {
		v, ok := r.Values[p.Name]
		if !ok || p.WriteOnly {
			continue
		}
		if _, isBool := p.Type.(Bool); isBool {
			v = tf(v == "yes")
		}
		out = append(out, [2]string{p.Name, v})
		seen[p.Name] = true
	}
	// Live values a menu shows beyond its properties (kernel-name …).
	for _, k := range SortedPropNames(r.Values) {
		if !seen[k] && m.Prop(k) == nil && !strings.HasPrefix(k, ".") {
			out = append(out, [2]string{k, r.Values[k]})
			seen[k] = true
		}
	}
	for _, f := range m.Flags {
		if !seen[f.Name] {
			out = append(out, [2]string{f.Name, tf(strings.IndexByte(r.Flags, f.Letter) >= 0)})
			seen[f.Name] = true
		}
	}
	if r.Dynamic && !seen["dynamic"] {
		out = append(out, [2]string{"dynamic", "true"})
	}
	if r.Comment != "" && !seen["comment"] {
		out = append(out, [2]string{"comment", r.Comment})
	}
	return out
}
