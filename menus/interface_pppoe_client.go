package menus

import (
	"fmt"
	"strings"
	"time"

	"rosh/router"
)

var authMethods = []string{"pap", "chap", "mschap1", "mschap2"}

// Shared property types of PPPoE clients and servers (SPEC §2).
func mtuProp(name string) *Prop {
	return &Prop{Name: name, Type: Int{Min: 64, Max: 65535, Words: []string{"auto"}}, Default: "auto", Help: "maximum " + strings.ToUpper(name[4:]) + " (auto = 1480/1460)"}
}
func mrruProp() *Prop {
	return &Prop{Name: "mrru", Type: Int{Min: 512, Max: 65535, Words: []string{"disabled"}}, Default: "disabled", Help: "maximum reconstructed packet size (enables MP)"}
}
func keepaliveProp() *Prop {
	return &Prop{Name: "keepalive-timeout", Type: Int{Min: 1, Max: 4294967, Words: []string{"disabled"}, Zero: "disabled"}, Default: "10", Help: "seconds of silence before echo; the link drops after twice that"}
}

// invalidIfaceFlag marks entries whose interface does not exist.
var invalidIfaceFlag = Flag{Letter: 'I', Name: "invalid", Has: func(ctx *Ctx, r *Row) bool {
	return r.Item != nil && !interfaceExists(ctx, r.Values["interface"])
}}

// interfacePPPoEClient is /interface pppoe-client.
func interfacePPPoEClient() *Menu {
	return &Menu{
		Path:     "/interface/pppoe-client",
		Help:     "PPPoE client interfaces",
		Items:    true,
		Key:      "name",
		AutoName: "pppoe-out",
		Props: []*Prop{
			{Name: "name", Type: String{NonEmpty: true}, Quote: true, Help: "interface name"},
			mtuProp("max-mtu"),
			mtuProp("max-mru"),
			mrruProp(),
			{Name: "interface", Type: String{NonEmpty: true}, Required: true, Help: "Ethernet interface to dial on", Complete: hostInterfaceNames},
			{Name: "user", Type: String{}, Default: "", Quote: true, Help: "user name for authentication"},
			{Name: "password", Type: String{}, Default: "", Quote: true, Sensitive: true, Help: "password for authentication"},
			{Name: "profile", Type: Ref{Menu: "/ppp/profile"}, Default: "default", Help: "PPP profile", Complete: namesOf("/ppp/profile")},
			keepaliveProp(),
			{Name: "service-name", Type: String{}, Default: "", Quote: true, Help: "service to ask for (empty: any)"},
			{Name: "ac-name", Type: String{}, Default: "", Quote: true, Help: "access concentrator to connect to (empty: any)"},
			{Name: "add-default-route", Type: Bool{}, Default: "no", Help: "add a default route through the session"},
			{Name: "default-route-distance", Type: Int{Min: 0, Max: 255}, Default: "1", Help: "distance (metric) of the default route"},
			{Name: "dial-on-demand", Type: Bool{}, Default: "no", Help: "dial only when traffic is sent"},
			{Name: "use-peer-dns", Type: Bool{}, Default: "no", Help: "use the DNS servers the peer offers"},
			{Name: "allow", Type: EnumList{Values: authMethods}, Default: "pap,chap,mschap1,mschap2", Help: "authentication methods allowed"},
			{Name: "host-uniq", Type: Hex{MaxBytes: 64}, NoDefault: true, Help: "Host-Uniq tag value (hex)"},
			disabledProp("yes"),
			commentProp(),
		},
		Flags: []Flag{disabledFlag, invalidIfaceFlag, {Letter: 'R', Name: "running", Has: func(ctx *Ctx, r *Row) bool {
			return r.Item != nil && ctx.Eng.Live().ClientStatus(r.ID).Running
		}}},
		Commands: []*Command{
			{Name: "monitor", Help: "show the status of a client", Positional: 1, Flags: []string{"once"}, Args: []string{"interval"}, Run: monitorClient},
			{Name: "scan", Help: "list the access concentrators answering on an interface", Positional: 1, Args: []string{"duration"}, Run: scanInterface},
		},
	}
}

// monitorClient prints a client's status: once in a script, refreshed
// every interval on a terminal until Ctrl-C.
func monitorClient(ctx *Ctx, inv *Invocation) error {
	m := ctx.Tree.Menu("/interface/pppoe-client")
	var ids []uint32
	var err error
	ctx.View(func(c *Ctx) { ids, err = c.ResolveRefs(m, inv.Positional[0]) })
	if err != nil {
		return err
	}
	if len(ids) != 1 {
		return ErrNoSuchItem
	}
	interval := time.Second
	if v, ok := inv.Args["interval"]; ok {
		d, err := ParseDuration(v)
		if err != nil || d <= 0 {
			return errInvalid("interval")
		}
		interval = d
	}
	id := ids[0]
	for {
		st := ctx.Eng.Live().ClientStatus(id)
		ctx.View(func(c *Ctx) {
			it, ok := c.Cfg.Table(m.Path).Lookup(id)
			if ok && m.Value(it, "disabled") == "yes" {
				st = router.ClientStatus{Status: "disabled"}
			}
		})
		printMonitor(inv.Out, st)
		if inv.Flags["once"] || !inv.Out.Interactive() {
			return nil
		}
		select {
		case <-inv.Out.Stop():
			return nil
		case <-time.After(interval):
		}
		inv.Out.Printf("\n")
	}
}

func printMonitor(out Output, st router.ClientStatus) {
	status := st.Status
	if st.Status == "disconnected" && st.LastError != "" {
		status = st.Status + ": " + st.LastError
	}
	kv := [][2]string{{"status", status}}
	if st.Status == "connected" {
		mtu := func(n int) string { return fmt.Sprint(n) }
		kv = append(kv,
			[2]string{"uptime", FormatDuration(st.Uptime.Truncate(time.Second))},
			[2]string{"active-links", fmt.Sprint(st.ActiveLinks)},
			[2]string{"encoding", st.Encoding},
			[2]string{"service-name", st.ServiceName},
			[2]string{"ac-name", st.ACName},
			[2]string{"ac-mac", st.ACMAC},
			[2]string{"mtu", mtu(st.MTU)},
			[2]string{"mru", mtu(st.MRU)})
		if st.MRRU > 0 {
			kv = append(kv, [2]string{"mrru", mtu(st.MRRU)})
		}
		kv = append(kv,
			[2]string{"local-address", st.LocalAddress},
			[2]string{"remote-address", st.RemoteAddress})
	}
	PrintKeyValues(out, kv)
}

// PrintKeyValues prints "key: value" lines with the keys right-aligned,
// the layout of RouterOS's monitor and of single-item menus.
func PrintKeyValues(out Output, kv [][2]string) {
	if r, ok := out.(Recorder); ok && r.Record(kv) {
		return
	}
	w := 0
	for _, p := range kv {
		if len(p[0]) > w {
			w = len(p[0])
		}
	}
	for _, p := range kv {
		out.Printf("%s\n", strings.TrimRight(fmt.Sprintf("%*s: %s", w+2, p[0], p[1]), " "))
	}
}

// scanInterface lists the ACs answering a PADI on an interface.
func scanInterface(ctx *Ctx, inv *Invocation) error {
	iface := inv.Positional[0]
	if !interfaceExists(ctx, iface) {
		return Errorf("no such item")
	}
	d := 5 * time.Second
	if v, ok := inv.Args["duration"]; ok {
		var err error
		if d, err = ParseDuration(v); err != nil || d <= 0 {
			return errInvalid("duration")
		}
	}
	stop := inv.Out.Stop()
	if inv.Out.Interactive() {
		if _, ok := inv.Args["duration"]; !ok {
			d = 0 // until Ctrl-C
		}
	}
	header := []string{"MAC-ADDRESS", "SERVICE", "AC-NAME"}
	if inv.Out.Interactive() {
		PrintTable(inv.Out, header, nil)
	}
	var rows [][]string
	err := ctx.Eng.Live().Scan(iface, d, stop, func(r router.ScanResult) {
		rows = append(rows, []string{r.MAC, r.Service, r.ACName})
		if inv.Out.Interactive() {
			inv.Out.Printf("  %-17s  %-14s  %s\n", r.MAC, r.Service, r.ACName)
		}
	})
	if err != nil {
		return err
	}
	if !inv.Out.Interactive() {
		PrintTable(inv.Out, header, rows)
	}
	return nil
}
