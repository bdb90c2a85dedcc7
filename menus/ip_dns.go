package menus

import (
	"strings"
)

// ipDNS is /ip dns: the router's resolvers. Servers learnt from a PPPoE
// peer (use-peer-dns) show as dynamic-servers, as on RouterOS; rosh does
// not write the host's resolv.conf.
func ipDNS() *Menu {
	return &Menu{
		Path:   "/ip/dns",
		Help:   "DNS resolvers",
		Single: true,
		Props: []*Prop{
			{Name: "servers", Type: IPList{}, NoDefault: true, Help: "static DNS servers"},
			{Name: "allow-remote-requests", Type: Bool{}, Default: "no", Help: "answer DNS queries from the network"},
		},
		Builtins: []map[string]string{{}},
		Decorate: func(ctx *Ctx, r *Row) {
			var dyn []string
			seen := map[string]bool{}
			for _, it := range ctx.Cfg.Table("/interface/pppoe-client").Items() {
				for _, a := range ctx.Eng.Live().ClientStatus(it.ID).DNS {
					if !seen[a] {
						seen[a] = true
						dyn = append(dyn, a)
					}
				}
			}
			r.Values["dynamic-servers"] = strings.Join(dyn, ",")
			if _, ok := r.Values["servers"]; !ok {
				r.Values["servers"] = ""
			}
		},
	}
}
