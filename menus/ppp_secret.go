package menus

// pppSecret is /ppp secret: the local user database.
func pppSecret() *Menu {
	return &Menu{
		Path:  "/ppp/secret",
		Help:  "PPP users",
		Items: true,
		Key:   "name",
		Props: []*Prop{
			{Name: "name", Type: String{NonEmpty: true}, Required: true, Quote: true, Help: "user name"},
			{Name: "service", Type: Enum{Values: []string{"any", "async", "l2tp", "ovpn", "pppoe", "pptp", "sstp"}}, Default: "any", Help: "service the secret is for"},
			{Name: "caller-id", Type: String{}, Default: "", Quote: true, Help: "client MAC address the secret is bound to"},
			{Name: "password", Type: String{}, Default: "", Quote: true, Sensitive: true, Help: "user password"},
			{Name: "profile", Type: Ref{Menu: "/ppp/profile"}, Default: "default", Help: "profile of the sessions", Complete: namesOf("/ppp/profile")},
			{Name: "local-address", Type: IP{}, NoDefault: true, Help: "router's address on the link"},
			{Name: "remote-address", Type: IP{}, NoDefault: true, Help: "address given to the client"},
			{Name: "routes", Type: String{}, NoDefault: true, Quote: true, Help: "routes added while the session is up"},
			{Name: "limit-bytes-in", Type: Int{Min: 0, Max: 1<<63 - 1}, Default: "0", Help: "bytes the client may send (0 = unlimited)"},
			{Name: "limit-bytes-out", Type: Int{Min: 0, Max: 1<<63 - 1}, Default: "0", Help: "bytes the client may receive (0 = unlimited)"},
			disabledProp("no"),
			commentProp(),
		},
		Columns: []Column{{"name", "NAME"}, {"service", "SERVICE"}, {"caller-id", "CALLER-ID"}, {"password", "PASSWORD"}, {"profile", "PROFILE"}, {"remote-address", "REMOTE-ADDRESS"}},
		Flags:   []Flag{disabledFlag},
	}
}

// pppActive is /ppp active: the sessions up right now.
func pppActive() *Menu {
	return &Menu{
		Path:     "/ppp/active",
		Help:     "active PPP sessions",
		ReadOnly: true,
		Props: []*Prop{
			{Name: "name", Type: String{}}, {Name: "service", Type: String{}}, {Name: "caller-id", Type: String{}},
			{Name: "address", Type: String{}}, {Name: "uptime", Type: String{}}, {Name: "encoding", Type: String{}},
			{Name: "session-id", Type: String{}},
			{Name: "rx-byte", Type: String{}}, {Name: "tx-byte", Type: String{}}, {Name: "rx-packet", Type: String{}},
			{Name: "tx-packet", Type: String{}}, {Name: "rx-drop", Type: String{}}, {Name: "tx-drop", Type: String{}},
		},
		StatsColumns: counterColumns,
		Columns:      []Column{{"name", "NAME"}, {"service", "SERVICE"}, {"caller-id", "CALLER-ID"}, {"address", "ADDRESS"}, {"uptime", "UPTIME"}, {"encoding", "ENCODING"}},
		Flags:        []Flag{{Letter: 'R', Name: "radius", Has: func(_ *Ctx, r *Row) bool { return r.Values[".radius"] == "yes" }}},
		Dynamic: func(ctx *Ctx) []*Row {
			var rows []*Row
			for _, s := range ctx.Eng.Live().ActiveSessions() {
				radius := "no"
				if s.Radius {
					radius = "yes"
				}
				r := &Row{Values: map[string]string{
					"name": s.Name, "service": s.Service, "caller-id": s.CallerID, "address": s.Address,
					"uptime": FormatDuration(s.Uptime), "encoding": s.Encoding,
					"session-id": formatSessionID(s.SessionID), ".radius": radius,
					// The item id RouterOS gives a session (REST .id, remove *8…).
					".id": DynamicID(uint32(s.SessionID)),
				}, Live: s.Disconnect}
				putCounters(r, "", s.Counters)
				rows = append(rows, r)
			}
			return rows
		},
		RemoveDynamic: func(_ *Ctx, r *Row) error {
			if r.Live != nil {
				r.Live()
			}
			return nil
		},
	}
}
