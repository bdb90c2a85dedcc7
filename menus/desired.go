package menus

import (
	"encoding/hex"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"rosh/aaa"
	"rosh/pool"
	"rosh/router"
)

// Desired turns the configuration into the running state it asks for,
// with every default filled in, for the runtime to apply.
func (t *Tree) Desired(c *router.Config) *router.Desired {
	d := &router.Desired{
		Identity: Identity(c),
		Profiles: map[string]router.ProfileSpec{},
		Secrets:  map[string][]router.SecretSpec{},
		Bindings: map[string]router.BindingSpec{},
		Logging:  t.logConfig(c),
	}
	pm := t.Menu("/ip/pool")
	for _, it := range c.Table(pm.Path).Items() {
		rs, err := pool.ParseRanges(pm.Value(it, "ranges"))
		if err != nil {
			continue
		}
		d.Pools = append(d.Pools, pool.Config{Name: pm.Value(it, "name"), Ranges: rs, NextPool: it.Props["next-pool"]})
	}
	prm := t.Menu("/ppp/profile")
	var def *router.Item
	for _, it := range c.Table(prm.Path).Items() {
		if it.Builtin && it.Props["name"] == "default" {
			def = it
		}
	}
	for _, it := range c.Table(prm.Path).Items() {
		d.Profiles[prm.Value(it, "name")] = profileSpec(prm, it, def)
	}
	sm := t.Menu("/ppp/secret")
	for _, it := range c.Table(sm.Path).Items() {
		if sm.Value(it, "disabled") == "yes" {
			continue
		}
		s := router.SecretSpec{
			Name: sm.Value(it, "name"), Password: sm.Value(it, "password"), Service: sm.Value(it, "service"),
			CallerID: strings.ToUpper(sm.Value(it, "caller-id")), Profile: sm.Value(it, "profile"),
			Routes: sm.Value(it, "routes"), LimitBytesIn: parseU64(sm.Value(it, "limit-bytes-in")),
			LimitBytesOut: parseU64(sm.Value(it, "limit-bytes-out")),
		}
		s.LocalAddress, _ = netip.ParseAddr(sm.Value(it, "local-address"))
		s.RemoteAddress, _ = netip.ParseAddr(sm.Value(it, "remote-address"))
		d.Secrets[s.Name] = append(d.Secrets[s.Name], s)
	}
	cm := t.Menu("/interface/pppoe-client")
	for _, it := range c.Table(cm.Path).Items() {
		if cm.Value(it, "disabled") == "yes" {
			continue
		}
		hu, _ := hex.DecodeString(cm.Value(it, "host-uniq"))
		d.Clients = append(d.Clients, router.ClientSpec{
			ID: it.ID, Name: cm.Value(it, "name"), Interface: cm.Value(it, "interface"),
			User: cm.Value(it, "user"), Password: cm.Value(it, "password"),
			ServiceName: cm.Value(it, "service-name"), ACName: cm.Value(it, "ac-name"),
			Allow: splitList(cm.Value(it, "allow")), HostUniq: hu,
			Keepalive: seconds(cm.Value(it, "keepalive-timeout")),
			MaxMTU:    number(cm.Value(it, "max-mtu")), MaxMRU: number(cm.Value(it, "max-mru")),
			MRRU:            number(cm.Value(it, "mrru")),
			AddDefaultRoute: cm.Value(it, "add-default-route") == "yes", DefaultRouteDistance: number(cm.Value(it, "default-route-distance")),
			UsePeerDNS: cm.Value(it, "use-peer-dns") == "yes", DialOnDemand: cm.Value(it, "dial-on-demand") == "yes",
			Profile: d.Profiles[cm.Value(it, "profile")],
		})
	}
	svm := t.Menu("/interface/pppoe-server/server")
	for _, it := range c.Table(svm.Path).Items() {
		if svm.Value(it, "disabled") == "yes" {
			continue
		}
		d.Servers = append(d.Servers, router.ServerSpec{
			ID: it.ID, Interface: svm.Value(it, "interface"), ServiceName: svm.Value(it, "service-name"),
			Authentication: splitList(svm.Value(it, "authentication")),
			Keepalive:      seconds(svm.Value(it, "keepalive-timeout")),
			MaxMTU:         number(svm.Value(it, "max-mtu")), MaxMRU: number(svm.Value(it, "max-mru")),
			MRRU: number(svm.Value(it, "mrru")), MaxSessions: number(svm.Value(it, "max-sessions")),
			OneSessionPerHost: svm.Value(it, "one-session-per-host") == "yes",
			PADODelay:         time.Duration(number(svm.Value(it, "pado-delay"))) * time.Millisecond,
			AcceptEmpty:       svm.Value(it, "accept-empty-service") == "yes",
			DefaultProfile:    svm.Value(it, "default-profile"),
		})
	}
	rm := t.Menu("/radius")
	for _, it := range c.Table(rm.Path).Items() {
		if rm.Value(it, "disabled") == "yes" || !contains(splitList(rm.Value(it, "service")), "ppp") {
			continue
		}
		srv := aaa.Server{
			Secret: rm.Value(it, "secret"), AuthPort: number(rm.Value(it, "authentication-port")),
			AcctPort: number(rm.Value(it, "accounting-port")),
		}
		srv.Address, _ = netip.ParseAddr(rm.Value(it, "address"))
		if src, err := netip.ParseAddr(rm.Value(it, "src-address")); err == nil && !src.IsUnspecified() {
			srv.Src = src
		}
		srv.Timeout, _ = ParseDuration(rm.Value(it, "timeout"))
		if srv.Address.IsValid() {
			d.Radius = append(d.Radius, srv)
		}
	}
	d.AAA.Accounting, d.Incoming.Port = true, 3799
	for _, it := range c.Table("/ppp/aaa").Items() {
		am := t.Menu("/ppp/aaa")
		d.AAA.UseRadius = am.Value(it, "use-radius") == "yes"
		d.AAA.Accounting = am.Value(it, "accounting") == "yes"
		d.AAA.InterimUpdate, _ = ParseDuration(am.Value(it, "interim-update"))
	}
	for _, it := range c.Table("/radius/incoming").Items() {
		im := t.Menu("/radius/incoming")
		d.Incoming = router.IncomingSpec{Accept: im.Value(it, "accept") == "yes", Port: number(im.Value(it, "port"))}
	}
	bm := t.Menu("/interface/pppoe-server")
	for _, it := range c.Table(bm.Path).Items() {
		if bm.Value(it, "disabled") == "yes" || bm.Value(it, "user") == "" {
			continue
		}
		b := router.BindingSpec{Name: bm.Value(it, "name"), User: bm.Value(it, "user"), Service: bm.Value(it, "service")}
		d.Bindings[b.User] = b
	}
	return d
}

// profileSpec resolves a profile's "default" values against the built-in
// default profile, whose own "default" means no.
func profileSpec(m *Menu, it, def *router.Item) router.ProfileSpec {
	get := func(prop string) string {
		v := m.Value(it, prop)
		if v == "default" && def != nil && it != def {
			v = m.Value(def, prop)
		}
		return v
	}
	p := router.ProfileSpec{
		Name: m.Value(it, "name"), LocalAddress: it.Props["local-address"], RemoteAddress: it.Props["remote-address"],
		RateLimit: it.Props["rate-limit"], OnlyOne: get("only-one") == "yes", ChangeTCPMSS: get("change-tcp-mss") == "yes",
	}
	for _, s := range splitList(it.Props["dns-server"]) {
		if a, err := netip.ParseAddr(s); err == nil {
			p.DNS = append(p.DNS, a)
		}
	}
	if d, err := ParseDuration(it.Props["session-timeout"]); err == nil {
		p.SessionTimeout = d
	}
	if d, err := ParseDuration(it.Props["idle-timeout"]); err == nil {
		p.IdleTimeout = d
	}
	return p
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// number reads a canonical integer value; words (auto, disabled,
// unlimited) are 0.
func number(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0
	}
	return n
}

func seconds(s string) time.Duration { return time.Duration(number(s)) * time.Second }

func parseU64(s string) uint64 {
	n, _ := strconv.ParseUint(s, 10, 64)
	return n
}
