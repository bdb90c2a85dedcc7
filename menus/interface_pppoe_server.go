package menus

import (
	"fmt"

	"rosh/router"
)

// interfacePPPoEServerServer is /interface pppoe-server server: the access
// concentrator services.
func interfacePPPoEServerServer() *Menu {
	return &Menu{
		Path:  "/interface/pppoe-server/server",
		Help:  "PPPoE access concentrator services",
		Items: true,
		Props: []*Prop{
			{Name: "service-name", Type: String{}, Default: "", Quote: true, Help: "service offered (empty: answers any)"},
			{Name: "interface", Type: String{NonEmpty: true}, Required: true, Help: "interface clients connect on", Complete: hostInterfaceNames},
			mtuProp("max-mtu"),
			mtuProp("max-mru"),
			mrruProp(),
			{Name: "authentication", Type: EnumList{Values: authMethods}, Default: "pap,chap,mschap1,mschap2", Help: "authentication methods offered"},
			keepaliveProp(),
			{Name: "one-session-per-host", Type: Bool{}, Default: "no", Help: "one session per client MAC; a new one closes the old"},
			{Name: "max-sessions", Type: Int{Min: 1, Max: 65535, Words: []string{"unlimited"}, Zero: "unlimited"}, Default: "unlimited", Help: "most sessions this service holds"},
			{Name: "pado-delay", Type: Int{Min: 0, Max: 60000}, Default: "0", Help: "milliseconds to wait before answering a PADI"},
			{Name: "default-profile", Type: Ref{Menu: "/ppp/profile"}, Default: "default", Help: "profile for users whose secret names none", Complete: namesOf("/ppp/profile")},
			{Name: "accept-empty-service", Type: Bool{}, Default: "yes", Help: "answer PADIs that name no service"},
			disabledProp("yes"),
			commentProp(),
		},
		Flags: []Flag{disabledFlag, invalidIfaceFlag},
		Check: func(ctx *Ctx, it *router.Item) error {
			m := ctx.Tree.Menu("/interface/pppoe-server/server")
			for _, o := range ctx.Cfg.Table(m.Path).Items() {
				if o.ID != it.ID && m.Value(o, "interface") == m.Value(it, "interface") &&
					m.Value(o, "service-name") == m.Value(it, "service-name") {
					return ErrExists
				}
			}
			return nil
		},
	}
}

// interfacePPPoEServer is /interface pppoe-server: static bindings that pin
// a user's session to a named interface, and the dynamic <pppoe-USER>
// entries of sessions that are up.
func interfacePPPoEServer() *Menu {
	return &Menu{
		Path:     "/interface/pppoe-server",
		Help:     "PPPoE server interfaces (bindings and sessions)",
		Items:    true,
		Key:      "name",
		AutoName: "pppoe-in",
		Props: []*Prop{
			{Name: "name", Type: String{NonEmpty: true}, Quote: true, Help: "interface name"},
			{Name: "service", Type: String{}, Default: "", Quote: true, Help: "service name of the server"},
			{Name: "remote-address", Type: String{}, NoDefault: true, Help: "client MAC (read-only)"},
			{Name: "user", Type: String{}, Default: "", Quote: true, Help: "user whose session takes this name"},
			{Name: "mtu", Type: String{}, NoDefault: true, Help: "effective MTU (read-only)"},
			{Name: "mru", Type: String{}, NoDefault: true, Help: "effective MRU (read-only)"},
			{Name: "encoding", Type: String{}, NoDefault: true, Help: "encoding (read-only)"},
			{Name: "uptime", Type: String{}, NoDefault: true, Help: "session uptime (read-only)"},
			disabledProp("no"),
			commentProp(),
		},
		Columns: []Column{{"name", "NAME"}, {"service", "SERVICE"}, {"remote-address", "REMOTE-ADDRESS"}, {"user", "USER"}, {"mtu", "MTU"}, {"mru", "MRU"}, {"encoding", "ENCODING"}, {"uptime", "UPTIME"}},
		Flags: []Flag{disabledFlag, dynamicFlag, {Letter: 'R', Name: "running", Has: func(_ *Ctx, r *Row) bool {
			return r.Values["uptime"] != ""
		}}},
		Check: func(ctx *Ctx, it *router.Item) error {
			for _, ro := range []string{"remote-address", "mtu", "mru", "encoding", "uptime"} {
				if _, ok := it.Props[ro]; ok {
					return Errorf("failure: %s is read-only", ro)
				}
			}
			return nil
		},
		// A session whose interface is a static binding shows in the
		// binding's row; the others are dynamic <pppoe-USER> rows.
		Decorate: func(ctx *Ctx, r *Row) {
			for _, s := range ctx.Eng.Live().ActiveSessions() {
				if s.Interface == r.Values["name"] {
					fillSession(r, s)
				}
			}
		},
		Dynamic: func(ctx *Ctx) []*Row {
			static := map[string]bool{}
			for _, it := range ctx.Cfg.Table("/interface/pppoe-server").Items() {
				static[it.Props["name"]] = true
			}
			var rows []*Row
			for _, s := range ctx.Eng.Live().ActiveSessions() {
				if static[s.Interface] {
					continue
				}
				r := &Row{Values: map[string]string{"name": s.Interface, "disabled": "no"}, Dynamic: true}
				fillSession(r, s)
				rows = append(rows, r)
			}
			return rows
		},
	}
}

// fillSession puts a running session's values into a row.
func fillSession(r *Row, s router.ActiveSession) {
	for k, v := range map[string]string{
		"service": s.PPPoEName, "remote-address": s.CallerID, "user": s.Name,
		"mtu": fmt.Sprint(s.MTU), "mru": fmt.Sprint(s.MRU), "encoding": s.Encoding,
		"uptime": FormatDuration(s.Uptime),
	} {
		r.Values[k] = v
	}
	r.Live = s.Disconnect
}

func formatSessionID(id uint16) string { return fmt.Sprintf("0x%X", id) }
