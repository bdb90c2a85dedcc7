package menus

import (
	"fmt"
	"strings"
	"time"

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

// systemResource is /system resource: uptime, memory and CPU as RouterOS
// shows them, plus the engine's goroutines and resident memory, which grow
// with the sessions it holds.
func systemResource() *Menu {
	props := []string{"uptime", "free-memory", "total-memory", "cpu-count", "cpu-load", "goroutines", "process-memory"}
	m := &Menu{Path: "/system/resource", Help: "system resources", Single: true, ReadOnly: true}
	for _, p := range props {
		m.Props = append(m.Props, &Prop{Name: p, Type: String{}})
	}
	m.Dynamic = func(*Ctx) []*Row {
		r := router.ReadResources(100 * time.Millisecond)
		return []*Row{{Values: map[string]string{
			"uptime": FormatDuration(r.Uptime.Truncate(time.Second)), "free-memory": mib(r.FreeMemory),
			"total-memory": mib(r.TotalMemory), "cpu-count": itoa(r.CPUCount), "cpu-load": itoa(r.CPULoad) + "%",
			"goroutines": itoa(r.Goroutines), "process-memory": mib(r.ProcessMemory),
		}}}
	}
	return m
}

// mib prints a byte count the way RouterOS prints memory: 1785.9MiB.
func mib(b uint64) string { return fmt.Sprintf("%.1fMiB", float64(b)/(1<<20)) }

// logMenu is /log: the entries the memory action keeps, one a line as
// RouterOS prints them ("2006-01-02 15:04:05 pppoe,info message"); print
// follow goes on printing new ones until Ctrl-C.
func logMenu() *Menu {
	return &Menu{
		Path:     "/log",
		Help:     "system log",
		ReadOnly: true,
		Props:    []*Prop{{Name: "time", Type: String{}}, {Name: "topics", Type: String{}}, {Name: "message", Type: String{}}},
		Line:     func(r *Row) string { return r.Values["time"] + " " + r.Values["topics"] + " " + r.Values["message"] },
		Follow:   func(ctx *Ctx) <-chan struct{} { return ctx.Eng.Log.Changed() },
		Dynamic: func(ctx *Ctx) []*Row {
			var rows []*Row
			for _, e := range ctx.Eng.Log.Entries() {
				rows = append(rows, &Row{Values: map[string]string{
					"time": e.Time.Format("2006-01-02 15:04:05"), "topics": strings.Join(e.Topics, ","), "message": e.Message,
					".seq": utoa(e.Seq),
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
			{Name: "mac-address", Type: String{}}, {Name: "kernel-name", Type: String{}, NoDefault: true},
			{Name: "rx-byte", Type: String{}}, {Name: "tx-byte", Type: String{}},
			{Name: "rx-packet", Type: String{}}, {Name: "tx-packet", Type: String{}}, {Name: "rx-drop", Type: String{}}, {Name: "tx-drop", Type: String{}}},
		Columns:      []Column{{"name", "NAME"}, {"type", "TYPE"}, {"actual-mtu", "ACTUAL-MTU"}, {"mac-address", "MAC-ADDRESS"}},
		StatsColumns: counterColumns,
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
		r := &Row{Values: map[string]string{
			"name": cm.Value(it, "name"), "type": "pppoe-out", "actual-mtu": itoa(st.MTU),
			".disabled": cm.Value(it, "disabled"), ".running": yes(st.Running),
		}}
		putCounters(r, st.KernelName, st.Counters)
		rows = append(rows, r)
	}
	for _, s := range ctx.Eng.Live().ActiveSessions() {
		r := &Row{Values: map[string]string{
			"name": s.Interface, "type": "pppoe-in", "actual-mtu": itoa(s.MTU), ".running": "yes",
		}, Dynamic: true}
		putCounters(r, s.KernelName, s.Counters)
		rows = append(rows, r)
	}
	return rows
}

// counterColumns are print stats' columns (/interface, /ppp active).
var counterColumns = []Column{{"name", "NAME"}, {"rx-byte", "RX-BYTE"}, {"tx-byte", "TX-BYTE"},
	{"rx-packet", "RX-PACKET"}, {"tx-packet", "TX-PACKET"}, {"rx-drop", "RX-DROP"}, {"tx-drop", "TX-DROP"}}

// putCounters fills a session row's counters and kernel name.
func putCounters(r *Row, kernel string, c router.Counters) {
	if kernel != "" {
		r.Values["kernel-name"] = kernel
	}
	r.Values["rx-byte"], r.Values["tx-byte"] = utoa(c.RxBytes), utoa(c.TxBytes)
	r.Values["rx-packet"], r.Values["tx-packet"] = utoa(c.RxPackets), utoa(c.TxPackets)
	r.Values["rx-drop"], r.Values["tx-drop"] = utoa(c.RxDrops), utoa(c.TxDrops)
}
