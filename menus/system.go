package menus

import (
	"strings"

	"rosh/router"
)

// systemIdentity is /system identity: the router's name, shown in the
// prompt and sent as the PPPoE AC-Name.
func systemIdentity() *Menu {
	return &Menu{
		Path:     "/system/identity",
		Help:     "router name",
		Single:   true,
		Props:    []*Prop{{Name: "name", Type: String{NonEmpty: true}, Default: "MikroTik", Help: "router identity"}},
		Builtins: []map[string]string{{}},
	}
}

// Identity returns the configured identity.
func Identity(c *router.Config) string {
	for _, it := range c.Table("/system/identity").Items() {
		if n, ok := it.Props["name"]; ok {
			return n
		}
	}
	return "MikroTik"
}

// logMenu is /log: the engine's log.
func logMenu() *Menu {
	return &Menu{
		Path:     "/log",
		Help:     "system log",
		ReadOnly: true,
		Props:    []*Prop{{Name: "time", Type: String{}}, {Name: "topics", Type: String{}}, {Name: "message", Type: String{}}},
		Columns:  []Column{{"time", "TIME"}, {"topics", "TOPICS"}, {"message", "MESSAGE"}},
		Dynamic: func(ctx *Ctx) []*Row {
			var rows []*Row
			for _, e := range ctx.Eng.Log.Entries() {
				rows = append(rows, &Row{Values: map[string]string{
					"time": e.Time.Format("2006-01-02 15:04:05"), "topics": strings.Join(e.Topics, ","), "message": e.Message,
				}})
			}
			return rows
		},
	}
}

// interfaceMenu is /interface: the host's interfaces and rosh's PPPoE ones.
func interfaceMenu() *Menu {
	return &Menu{
		Path:     "/interface",
		Help:     "interfaces",
		ReadOnly: true,
		Props: []*Prop{{Name: "name", Type: String{}}, {Name: "type", Type: String{}}, {Name: "actual-mtu", Type: String{}},
			{Name: "mac-address", Type: String{}}, {Name: "rx-byte", Type: String{}}, {Name: "tx-byte", Type: String{}},
			{Name: "rx-packet", Type: String{}}, {Name: "tx-packet", Type: String{}}, {Name: "rx-drop", Type: String{}}, {Name: "tx-drop", Type: String{}}},
		Columns: []Column{{"name", "NAME"}, {"type", "TYPE"}, {"actual-mtu", "ACTUAL-MTU"}, {"mac-address", "MAC-ADDRESS"}},
		Flags: []Flag{dynamicFlag, {Letter: 'X', Name: "disabled", Has: func(_ *Ctx, r *Row) bool { return r.Values[".disabled"] == "yes" }},
			{Letter: 'R', Name: "running", Has: func(_ *Ctx, r *Row) bool { return r.Values[".running"] == "yes" }}},
		Dynamic: interfaceRows,
	}
}

func interfaceRows(ctx *Ctx) []*Row {
	var rows []*Row
	yes := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	for _, h := range ctx.Eng.HostInterfaces() {
		mac := ""
		if len(h.MAC) == 6 {
			mac = strings.ToUpper(h.MAC.String())
		}
		rows = append(rows, &Row{Values: map[string]string{
			"name": h.Name, "type": h.Type, "actual-mtu": itoa(h.MTU), "mac-address": mac,
			"rx-byte": utoa(h.Stats.RxBytes), "tx-byte": utoa(h.Stats.TxBytes),
			"rx-packet": utoa(h.Stats.RxPackets), "tx-packet": utoa(h.Stats.TxPackets),
			"rx-drop": utoa(h.Stats.RxDropped), "tx-drop": utoa(h.Stats.TxDropped),
			".running": yes(h.Running), ".host": "yes",
		}})
	}
	cm := ctx.Tree.Menu("/interface/pppoe-client")
	for _, it := range ctx.Cfg.Table(cm.Path).Items() {
		st := ctx.Eng.Live().ClientStatus(it.ID)
		rows = append(rows, &Row{Values: map[string]string{
			"name": cm.Value(it, "name"), "type": "pppoe-out", "actual-mtu": itoa(st.MTU),
			".disabled": cm.Value(it, "disabled"), ".running": yes(st.Running),
		}})
	}
	for _, s := range ctx.Eng.Live().ActiveSessions() {
		rows = append(rows, &Row{Values: map[string]string{
			"name": s.Interface, "type": "pppoe-in", "actual-mtu": itoa(s.MTU), ".running": "yes",
		}, Dynamic: true})
	}
	return rows
}
