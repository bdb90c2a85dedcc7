package menus

import (
	"rosh/router"
)

// ipPool is /ip pool: named address ranges that profiles and secrets hand
// out to PPP clients.
func ipPool() *Menu {
	return &Menu{
		Path:  "/ip/pool",
		Help:  "IP address pools",
		Items: true,
		Key:   "name",
		Props: []*Prop{
			{Name: "name", Type: String{NonEmpty: true}, Required: true, Help: "pool name"},
			{Name: "ranges", Type: Ranges{}, Required: true, Help: "address ranges (10.0.0.2-10.0.0.5,10.0.1.0/24)"},
			{Name: "next-pool", Type: Ref{Menu: "/ip/pool"}, NoDefault: true, Help: "pool to use when this one is exhausted",
				Complete: namesOf("/ip/pool")},
			commentProp(),
		},
		Columns: []Column{{"name", "NAME"}, {"ranges", "RANGES"}},
		Check: func(ctx *Ctx, it *router.Item) error {
			if np, ok := it.Props["next-pool"]; ok && np == it.Props["name"] {
				return Errorf("failure: pool can not be its own next-pool")
			}
			return nil
		},
		InUse: func(ctx *Ctx, it *router.Item) error {
			name := it.Props["name"]
			if ctx.referenced(name, ref{"/ppp/profile", "remote-address"}, ref{"/ip/pool", "next-pool"}) {
				return Errorf("failure: pool is in use")
			}
			for _, l := range ctx.Eng.Live().PoolLeases() {
				if l.Pool == name {
					return Errorf("failure: pool is in use")
				}
			}
			return nil
		},
	}
}

// ipPoolUsed is /ip pool used: the addresses handed out right now.
func ipPoolUsed() *Menu {
	return &Menu{
		Path:     "/ip/pool/used",
		Help:     "addresses handed out from pools",
		ReadOnly: true,
		Props: []*Prop{
			{Name: "pool", Type: String{}}, {Name: "address", Type: String{}},
			{Name: "owner", Type: String{}}, {Name: "info", Type: String{}},
		},
		Columns: []Column{{"pool", "POOL"}, {"address", "ADDRESS"}, {"owner", "OWNER"}, {"info", "INFO"}},
		Dynamic: func(ctx *Ctx) []*Row {
			var rows []*Row
			for _, l := range ctx.Eng.Live().PoolLeases() {
				rows = append(rows, &Row{Values: map[string]string{"pool": l.Pool, "address": l.Address, "owner": l.Owner, "info": l.Info}})
			}
			return rows
		},
	}
}

type ref struct{ menu, prop string }

// referenced reports whether any item of the given menus has prop = name.
func (c *Ctx) referenced(name string, refs ...ref) bool {
	for _, r := range refs {
		m := c.Tree.Menu(r.menu)
		for _, it := range c.Cfg.Table(r.menu).Items() {
			if m.Value(it, r.prop) == name {
				return true
			}
		}
	}
	return false
}

// namesOf completes with the names of a menu's items.
func namesOf(path string) func(ctx *Ctx) []string {
	return func(ctx *Ctx) []string {
		m := ctx.Tree.Menu(path)
		var out []string
		for _, it := range ctx.Cfg.Table(path).Items() {
			out = append(out, m.Value(it, m.Key))
		}
		return out
	}
}

// hostInterfaceNames completes with the host's interfaces.
func hostInterfaceNames(ctx *Ctx) []string {
	var out []string
	for _, h := range ctx.Eng.HostInterfaces() {
		if h.Type != "loopback" {
			out = append(out, h.Name)
		}
	}
	return out
}

// interfaceExists tells whether a host interface of that name exists.
func interfaceExists(ctx *Ctx, name string) bool {
	for _, h := range ctx.Eng.HostInterfaces() {
		if h.Name == name {
			return true
		}
	}
	return false
}
