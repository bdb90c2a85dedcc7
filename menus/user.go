package menus

import (
	"crypto/subtle"
	"net/netip"
	"strconv"
	"strings"

	"rosh/router"
)

// user is /user: the accounts that may log in to the REST API (HTTP Basic
// authentication). admin is built in, with an empty password, as on a new
// RouterOS. Passwords are never printed; export writes them only with
// show-sensitive.
func user() *Menu {
	return &Menu{
		Path:  "/user",
		Help:  "users of the REST API",
		Items: true,
		Key:   "name",
		Props: []*Prop{
			{Name: "name", Type: String{NonEmpty: true}, Required: true, Help: "user name"},
			{Name: "group", Type: Enum{Values: []string{"full", "read", "write"}}, Default: "full", Help: "what the user may do (read: GET only)"},
			{Name: "address", Type: PrefixList{}, Default: "", Help: "networks the user may log in from (empty: any)"},
			{Name: "password", Type: String{}, NoDefault: true, Sensitive: true, WriteOnly: true, Help: "password"},
			disabledProp("no"),
			commentProp(),
		},
		Columns:         []Column{{"name", "NAME"}, {"group", "GROUP"}, {"address", "ADDRESS"}},
		Flags:           []Flag{disabledFlag},
		Builtins:        []map[string]string{{"name": "admin", "group": "full"}},
		BuiltinSelector: func(it *router.Item) string { return "[ find name=" + it.Props["name"] + " ]" },
	}
}

// Login checks a user's name and password, and that the user may log in
// from addr. It returns the user's group (full, read, write).
func Login(tr *Tree, c *router.Config, name, password string, addr netip.Addr) (string, bool) {
	m := tr.Menu("/user")
	for _, it := range c.Table(m.Path).Items() {
		if m.Value(it, "name") != name || m.Value(it, "disabled") == "yes" {
			continue
		}
		if subtle.ConstantTimeCompare([]byte(it.Props["password"]), []byte(password)) != 1 {
			return "", false
		}
		if !AddressAllowed(m.Value(it, "address"), addr) {
			return "", false
		}
		return m.Value(it, "group"), true
	}
	return "", false
}

// AddressAllowed tells whether addr is in a PrefixList value ("" allows
// every address).
func AddressAllowed(list string, addr netip.Addr) bool {
	if list == "" {
		return true
	}
	addr = addr.Unmap()
	for _, w := range strings.Split(list, ",") {
		if p, err := ParsePrefix(w); err == nil && p.Contains(addr) {
			return true
		}
	}
	return false
}

// ServiceSpec is one /ip service entry as a listener needs it.
type ServiceSpec struct {
	Name     string
	Port     int
	Address  string
	Disabled bool
}

// Services lists the /ip service entries.
func Services(tr *Tree, c *router.Config) map[string]ServiceSpec {
	m := tr.Menu("/ip/service")
	out := map[string]ServiceSpec{}
	for _, it := range c.Table(m.Path).Items() {
		port, _ := strconv.Atoi(m.Value(it, "port"))
		s := ServiceSpec{Name: m.Value(it, "name"), Port: port, Address: m.Value(it, "address"), Disabled: m.Value(it, "disabled") == "yes"}
		out[s.Name] = s
	}
	return out
}
