package menus

import (
	"net/netip"
	"strings"

	"rosh/router"
)

// Ports of rosh's services when nothing is configured: www as on RouterOS;
// metrics where the MikroTik Prometheus exporters customarily listen.
const (
	DefaultWWWPort     = "80"
	DefaultMetricsPort = "9436"
)

// ipService is /ip service (RouterOS v7 layout): the network services
// rosh runs besides the console. Its entries are fixed; they are changed
// with set and cannot be added or removed. www is the REST API (/rest),
// metrics the Prometheus endpoint (/metrics); both are off until enabled.
func ipService() *Menu {
	return &Menu{
		Path:  "/ip/service",
		Help:  "network services: the REST API (www) and the Prometheus endpoint (metrics)",
		Items: true,
		Key:   "name",
		Props: []*Prop{
			{Name: "name", Type: String{NonEmpty: true}, Required: true, Help: "service name"},
			{Name: "port", Type: Int{Min: 1, Max: 65535}, Help: "TCP port the service listens on"},
			{Name: "address", Type: PrefixList{}, Default: "", Help: "networks allowed to connect (empty: any)"},
			disabledProp("yes"),
		},
		Columns: []Column{{"name", "NAME"}, {"port", "PORT"}, {"address", "ADDRESS"}},
		Flags:   []Flag{disabledFlag},
		Builtins: []map[string]string{
			{"name": "www", "port": DefaultWWWPort},
			{"name": "metrics", "port": DefaultMetricsPort},
		},
		BuiltinSelector: func(it *router.Item) string { return it.Props["name"] },
		Check: func(ctx *Ctx, it *router.Item) error {
			if it.ID == 0 {
				return Errorf("failure: can not add service")
			}
			port := it.Props["port"]
			for _, o := range ctx.Cfg.Table("/ip/service").Items() {
				if o.ID != it.ID && o.Props["port"] == port {
					return Errorf("failure: port %s is used by %s", port, o.Props["name"])
				}
			}
			return nil
		},
	}
}

// PrefixList is a comma list of IPv4 networks and addresses (an address
// alone is a /32), as /ip service address= takes it; "" means any.
type PrefixList struct{}

func (PrefixList) Parse(_ *Ctx, prop, in string) (string, error) {
	if in == "" {
		return "", nil
	}
	var out []string
	for _, w := range strings.Split(in, ",") {
		p, err := ParsePrefix(strings.TrimSpace(w))
		if err != nil {
			return "", errInvalid(prop)
		}
		out = append(out, p.String())
	}
	return strings.Join(out, ","), nil
}
func (PrefixList) Hint() string { return "list of IPv4 networks (192.168.88.0/24,10.0.0.1)" }

// ParsePrefix reads "10.0.0.0/8" or "10.0.0.1" (a /32) as a masked prefix.
func ParsePrefix(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is4() {
			return netip.Prefix{}, errInvalid("address")
		}
		return netip.PrefixFrom(a, 32), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil || !p.Addr().Is4() {
		return netip.Prefix{}, errInvalid("address")
	}
	return p.Masked(), nil
}
