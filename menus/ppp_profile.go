package menus

import "rosh/router"

var triState = Enum{Values: []string{"default", "no", "yes"}}

// pppProfile is /ppp profile: addresses, DNS and limits shared by sessions.
func pppProfile() *Menu {
	return &Menu{
		Path:  "/ppp/profile",
		Help:  "PPP profiles",
		Items: true,
		Key:   "name",
		Props: []*Prop{
			{Name: "name", Type: String{NonEmpty: true}, Required: true, Quote: true, Help: "profile name"},
			{Name: "local-address", Type: Ref{Menu: "/ip/pool", Or: IP{}}, NoDefault: true, Help: "router's address on the link (IP or pool)", Complete: namesOf("/ip/pool")},
			{Name: "remote-address", Type: Ref{Menu: "/ip/pool", Or: IP{}}, NoDefault: true, Help: "address given to the peer (IP or pool)", Complete: namesOf("/ip/pool")},
			{Name: "dns-server", Type: IPList{}, NoDefault: true, Help: "DNS servers offered to the peer"},
			{Name: "session-timeout", Type: Duration{}, NoDefault: true, Help: "longest time a session may last"},
			{Name: "idle-timeout", Type: Duration{}, NoDefault: true, Help: "session ends after this long without traffic"},
			{Name: "rate-limit", Type: RateLimit{}, NoDefault: true, Quote: true, Help: "rx-rate[/tx-rate] [rx-burst-rate[/tx-burst-rate] …]: the sessions' speed"},
			{Name: "use-compression", Type: triState, Default: "default", Help: "use compression"},
			{Name: "use-encryption", Type: Enum{Values: []string{"default", "no", "required", "yes"}}, Default: "default", Help: "use encryption"},
			{Name: "only-one", Type: triState, Default: "default", Help: "allow one session per user only"},
			{Name: "change-tcp-mss", Type: triState, Default: "default", Help: "clamp TCP MSS to the link MTU"},
			commentProp(),
		},
		Builtins: []map[string]string{
			{"name": "default", "change-tcp-mss": "yes"},
			{"name": "default-encryption", "use-encryption": "yes", "change-tcp-mss": "yes"},
		},
		BuiltinSelector: func(it *router.Item) string {
			if it.Props["name"] == "default" {
				return "[ find default=yes ]"
			}
			return "[ find name=" + it.Props["name"] + " ]"
		},
		Last:  func(r *Row) bool { return r.Item != nil && r.Item.Builtin && r.Values["name"] == "default-encryption" },
		Flags: []Flag{{Letter: '*', Name: "default", Has: func(_ *Ctx, r *Row) bool { return r.Item != nil && r.Item.Builtin }}},
		InUse: func(ctx *Ctx, it *router.Item) error {
			if ctx.referenced(it.Props["name"], ref{"/ppp/secret", "profile"},
				ref{"/interface/pppoe-server/server", "default-profile"}, ref{"/interface/pppoe-client", "profile"}) {
				return Errorf("failure: profile is in use")
			}
			return nil
		},
	}
}
