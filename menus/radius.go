package menus

// radius is /radius: the RADIUS servers, asked in table order.
func radius() *Menu {
	return &Menu{
		Path:  "/radius",
		Help:  "RADIUS servers",
		Items: true,
		Props: []*Prop{
			{Name: "service", Type: EnumList{Values: []string{"dhcp", "hotspot", "ipsec", "login", "ppp", "wireless", "dot1x"}}, NoDefault: true, Help: "services that use the server (ppp for PPPoE)"},
			{Name: "address", Type: IP{}, Required: true, Help: "server address"},
			{Name: "secret", Type: String{}, Default: "", Quote: true, Sensitive: true, Help: "shared secret"},
			{Name: "authentication-port", Type: Int{Min: 1, Max: 65535}, Default: "1812", Help: "server's authentication port"},
			{Name: "accounting-port", Type: Int{Min: 1, Max: 65535}, Default: "1813", Help: "server's accounting port"},
			{Name: "timeout", Type: Duration{}, Default: "300ms", Help: "wait for an answer this long before sending again"},
			{Name: "src-address", Type: IP{}, Default: "0.0.0.0", Help: "address requests leave from (and the NAS-IP-Address)"},
			disabledProp("no"),
			commentProp(),
		},
		Columns: []Column{{"service", "SERVICE"}, {"address", "ADDRESS"}, {"secret", "SECRET"}},
		Flags:   []Flag{disabledFlag},
	}
}

// radiusIncoming is /radius incoming: Disconnect and CoA requests from the
// servers (RFC 5176).
func radiusIncoming() *Menu {
	return &Menu{
		Path:   "/radius/incoming",
		Help:   "RADIUS Disconnect and CoA requests",
		Single: true,
		Props: []*Prop{
			{Name: "accept", Type: Bool{}, Default: "no", Help: "accept Disconnect and CoA requests"},
			{Name: "port", Type: Int{Min: 1, Max: 65535}, Default: "3799", Help: "port to listen on"},
		},
		Builtins: []map[string]string{{}},
	}
}

// pppAAA is /ppp aaa: whether PPP asks RADIUS, and accounting.
func pppAAA() *Menu {
	return &Menu{
		Path:   "/ppp/aaa",
		Help:   "PPP authentication and accounting",
		Single: true,
		Props: []*Prop{
			{Name: "use-radius", Type: Bool{}, Default: "no", Help: "ask RADIUS for users with no local secret"},
			{Name: "accounting", Type: Bool{}, Default: "yes", Help: "send RADIUS accounting for RADIUS users"},
			{Name: "interim-update", Type: Duration{}, Default: "0s", Help: "interval of Interim-Update records (0s: none, unless RADIUS gives one)"},
		},
		Builtins: []map[string]string{{}},
	}
}
