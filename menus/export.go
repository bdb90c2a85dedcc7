package menus

import (
	"fmt"
	"strings"

	"rosh/router"
)

// ExportOptions selects what export writes.
type ExportOptions struct {
	// Verbose writes every property, defaults included.
	Verbose bool
	// ShowSensitive writes passwords and secrets (RouterOS v7 hides them).
	ShowSensitive bool
}

// Export writes the script that recreates the configuration of the menus
// under path ("/" for all): one "/menu" header per menu that has something
// to say, then one add per item with its non-default properties in
// alphabetical order; built-in entries are written as set when changed.
func (t *Tree) Export(c *router.Config, path string, opt ExportOptions) string {
	var b strings.Builder
	for _, m := range t.order {
		if !(m.Items || m.Single) || !underPath(m.Path, path) {
			continue
		}
		var lines, deferred []string
		seen := map[string]bool{}
		for _, it := range c.Table(m.Path).Items() {
			l, later := m.exportItem(it, opt, seen)
			if l != "" {
				lines = append(lines, l)
			}
			deferred = append(deferred, later...)
			if m.Key != "" {
				seen[m.Value(it, m.Key)] = true
			}
		}
		lines = append(lines, deferred...)
		if len(lines) == 0 {
			continue
		}
		fmt.Fprintf(&b, "%s\n", MenuHeader(m.Path))
		for _, l := range lines {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

func underPath(p, root string) bool {
	return root == "/" || p == root || strings.HasPrefix(p, root+"/")
}

// MenuHeader is how export names a menu: "/ppp secret".
func MenuHeader(path string) string { return "/" + strings.ReplaceAll(path[1:], "/", " ") }

// exportItem writes one item's add (or set for a built-in). A reference to
// an item of the same menu that comes later (a pool's next-pool) cannot be
// given in the add; it is returned as a set to run after all the adds.
func (m *Menu) exportItem(it *router.Item, opt ExportOptions, seen map[string]bool) (string, []string) {
	var base map[string]string
	if it.Builtin && len(m.Builtins) > 0 {
		base = m.builtinTemplate(it)
	}
	vals := map[string]string{}
	for _, p := range m.Props {
		v, set := it.Props[p.Name]
		if p.Sensitive && !opt.ShowSensitive {
			continue
		}
		switch {
		case base != nil:
			bv, inBase := base[p.Name]
			if !inBase {
				bv = p.Default
			}
			if !set {
				v = p.Default
			}
			if v != bv || (opt.Verbose && !p.NoDefault) {
				if !(p.NoDefault && !set) {
					vals[p.Name] = v
				}
			}
		case set:
			if v != p.Default || p.NoDefault || opt.Verbose || (p.Name == m.Key && m.Key != "") {
				vals[p.Name] = v
			}
		case opt.Verbose && !p.NoDefault:
			vals[p.Name] = p.Default
		}
	}
	if base != nil {
		if m.Key != "" {
			delete(vals, m.Key)
		}
		if len(vals) == 0 {
			return "", nil
		}
		sel := ""
		if !m.Single && m.BuiltinSelector != nil {
			sel = m.BuiltinSelector(it) + " "
		}
		return "set " + sel + joinPairs(vals), nil
	}
	var later []string
	for _, p := range m.Props {
		if r, ok := p.Type.(Ref); ok && r.Menu == m.Path {
			if v, set := vals[p.Name]; set && !seen[v] {
				later = append(later, "set [ find "+m.Key+"="+ExportValue(m.Value(it, m.Key))+" ] "+p.Name+"="+ExportValue(v))
				delete(vals, p.Name)
			}
		}
	}
	return "add " + joinPairs(vals), later
}

func (m *Menu) builtinTemplate(it *router.Item) map[string]string {
	if m.Single {
		return m.Builtins[0]
	}
	if m.Key == "" {
		// Built-in items are the table's first, made by Init in order.
		if i := int(it.ID) - 1; i >= 0 && i < len(m.Builtins) {
			return m.Builtins[i]
		}
	}
	for _, b := range m.Builtins {
		if m.Key != "" && b[m.Key] == it.Props[m.Key] {
			return b
		}
	}
	return map[string]string{}
}

func joinPairs(vals map[string]string) string {
	parts := make([]string, 0, len(vals))
	for _, k := range SortedPropNames(vals) {
		parts = append(parts, k+"="+ExportValue(vals[k]))
	}
	return strings.Join(parts, " ")
}
