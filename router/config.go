// Package router is rosh's in-process engine: the configuration tables the
// console edits, the log, and (in later layers) the running clients, servers
// and data plane that a configuration change is applied to.
//
// The configuration is a set of tables keyed by menu path ("/ppp/secret").
// Values are kept in their canonical printed form; parsing and validation of
// values belongs to the menus package, which knows each property's type.
package router

import (
	"errors"
	"sort"
)

// ErrNoSuchItem is returned when an item id does not exist in a table.
var ErrNoSuchItem = errors.New("no such item")

// Item is one configuration entry.
type Item struct {
	// ID is the stable internal id RouterOS prints as *1, *2 …; it never
	// changes for the life of the item and is never reused in a table.
	ID uint32
	// Props holds the explicitly set properties, canonical values.
	// A property absent from Props has its default value.
	Props map[string]string
	// Builtin marks entries that exist in an empty configuration
	// (the default PPP profiles, the system identity) and cannot be removed.
	Builtin bool
}

// Get returns the explicitly set value of prop.
func (it *Item) Get(prop string) (string, bool) {
	v, ok := it.Props[prop]
	return v, ok
}

// Clone returns a deep copy of the item.
func (it *Item) Clone() *Item {
	c := &Item{ID: it.ID, Builtin: it.Builtin, Props: make(map[string]string, len(it.Props))}
	for k, v := range it.Props {
		c.Props[k] = v
	}
	return c
}

// Table is an ordered list of items with stable ids.
type Table struct {
	items  []*Item
	nextID uint32
	// byValue indexes explicitly set values of the properties asked for
	// with Find (the unique "name" of most menus), so that uniqueness and
	// reference checks stay O(1) in tables of tens of thousands of items.
	byValue map[string]map[string][]uint32
}

// Find returns the ids of the items whose property prop is explicitly set
// to value, in table order.
func (t *Table) Find(prop, value string) []uint32 {
	idx, ok := t.byValue[prop]
	if !ok {
		idx = map[string][]uint32{}
		for _, it := range t.items {
			if v, ok := it.Props[prop]; ok {
				idx[v] = append(idx[v], it.ID)
			}
		}
		if t.byValue == nil {
			t.byValue = map[string]map[string][]uint32{}
		}
		t.byValue[prop] = idx
	}
	return idx[value]
}

// unindex drops an item's values from the indexes.
func (t *Table) unindex(it *Item) {
	for prop, idx := range t.byValue {
		v, ok := it.Props[prop]
		if !ok {
			continue
		}
		ids := idx[v]
		for i, id := range ids {
			if id == it.ID {
				ids = append(ids[:i:i], ids[i+1:]...)
				break
			}
		}
		if len(ids) == 0 {
			delete(idx, v)
		} else {
			idx[v] = ids
		}
	}
}

// reindex adds an item's values to the indexes (after unindex, or when new).
func (t *Table) reindex(it *Item) {
	for prop, idx := range t.byValue {
		if v, ok := it.Props[prop]; ok {
			idx[v] = append(idx[v], it.ID)
		}
	}
}

// Items returns the items in table order. The slice must not be modified.
func (t *Table) Items() []*Item { return t.items }

// Lookup returns the item with the given id.
// Items are kept in id order (ids only grow and are appended), so the
// lookup is a binary search.
func (t *Table) Lookup(id uint32) (*Item, bool) {
	i := sort.Search(len(t.items), func(i int) bool { return t.items[i].ID >= id })
	if i < len(t.items) && t.items[i].ID == id {
		return t.items[i], true
	}
	return nil, false
}

// Config is the whole configuration: one table per configurable menu.
type Config struct {
	tables map[string]*Table
}

// NewConfig returns an empty configuration.
func NewConfig() *Config { return &Config{tables: map[string]*Table{}} }

// Table returns the table for a menu path, creating it empty if needed.
func (c *Config) Table(path string) *Table {
	t, ok := c.tables[path]
	if !ok {
		t = &Table{nextID: 1}
		c.tables[path] = t
	}
	return t
}

// Paths lists the tables that exist, sorted.
func (c *Config) Paths() []string {
	ps := make([]string, 0, len(c.tables))
	for p := range c.tables {
		ps = append(ps, p)
	}
	sort.Strings(ps)
	return ps
}

// Clone returns a deep copy, so that a command can be applied to a copy and
// committed only when every step of it succeeded.
func (c *Config) Clone() *Config {
	n := NewConfig()
	for p, t := range c.tables {
		nt := &Table{nextID: t.nextID, items: make([]*Item, len(t.items))} // indexes rebuild lazily
		for i, it := range t.items {
			nt.items[i] = it.Clone()
		}
		n.tables[p] = nt
	}
	return n
}

// Add appends an item to the table at path and returns its new id.
func (c *Config) Add(path string, props map[string]string, builtin bool) uint32 {
	t := c.Table(path)
	id := t.nextID
	t.nextID++
	p := make(map[string]string, len(props))
	for k, v := range props {
		p[k] = v
	}
	it := &Item{ID: id, Props: p, Builtin: builtin}
	t.items = append(t.items, it)
	t.reindex(it)
	return id
}

// Set changes (value set) or unsets (value nil) properties of one item.
func (c *Config) Set(path string, id uint32, set map[string]string, unset []string) error {
	t := c.Table(path)
	it, ok := t.Lookup(id)
	if !ok {
		return ErrNoSuchItem
	}
	t.unindex(it)
	defer t.reindex(it)
	for k, v := range set {
		it.Props[k] = v
	}
	for _, k := range unset {
		delete(it.Props, k)
	}
	return nil
}

// Remove deletes an item.
func (c *Config) Remove(path string, id uint32) error {
	t := c.Table(path)
	for i, it := range t.items {
		if it.ID == id {
			t.unindex(it)
			t.items = append(t.items[:i], t.items[i+1:]...)
			return nil
		}
	}
	return ErrNoSuchItem
}
