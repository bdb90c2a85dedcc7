package router

import (
	"net/netip"
	"time"

	"rosh/aaa"
	"rosh/pool"
)

// Desired is the running state the configuration asks for: what the
// runtime starts, changes and stops. The menus build it from the
// configuration tables (they know every property's default); the runtime
// never reads the tables itself.
type Desired struct {
	Identity string
	Pools    []pool.Config
	Profiles map[string]ProfileSpec
	Secrets  map[string][]SecretSpec // by user name; several may differ by service
	Clients  []ClientSpec
	Servers  []ServerSpec
	// Bindings maps a user name to the static /interface pppoe-server
	// entry that names its session.
	Bindings map[string]BindingSpec
	// Radius are the enabled /radius entries for ppp, in table order.
	Radius []aaa.Server
	// AAA is /ppp aaa; Incoming is /radius incoming.
	AAA      AAASpec
	Incoming IncomingSpec
	// Logging is /system logging: the log's rules and actions.
	Logging LogConfig
}

// AAASpec is /ppp aaa.
type AAASpec struct {
	UseRadius     bool
	Accounting    bool
	InterimUpdate time.Duration // 0: none unless RADIUS gives one
}

// IncomingSpec is /radius incoming.
type IncomingSpec struct {
	Accept bool
	Port   int
}

// ClientSpec is one enabled /interface pppoe-client entry.
type ClientSpec struct {
	ID                   uint32
	Name                 string
	Interface            string
	User, Password       string
	ServiceName, ACName  string
	Allow                []string // pap chap mschap1 mschap2
	HostUniq             []byte
	Keepalive            time.Duration // 0: never
	MaxMTU, MaxMRU       int           // 0: auto
	MRRU                 int           // 0: disabled
	AddDefaultRoute      bool
	DefaultRouteDistance int
	UsePeerDNS           bool
	DialOnDemand         bool
	Profile              ProfileSpec
}

// ServerSpec is one enabled /interface pppoe-server server entry.
type ServerSpec struct {
	ID                uint32
	Interface         string
	ServiceName       string
	Authentication    []string
	Keepalive         time.Duration
	MaxMTU, MaxMRU    int
	MRRU              int
	MaxSessions       int
	OneSessionPerHost bool
	PADODelay         time.Duration
	AcceptEmpty       bool
	DefaultProfile    string
}

// ProfileSpec is a /ppp profile with "default" values resolved against
// the built-in default profile.
type ProfileSpec struct {
	Name           string
	LocalAddress   string // IP or pool name; "" none
	RemoteAddress  string // IP or pool name; "" none
	DNS            []netip.Addr
	SessionTimeout time.Duration
	IdleTimeout    time.Duration
	RateLimit      string
	OnlyOne        bool
	ChangeTCPMSS   bool
}

// SecretSpec is an enabled /ppp secret.
type SecretSpec struct {
	Name, Password string
	Service        string // any, pppoe …
	CallerID       string // MAC, upper case; "" any
	Profile        string
	LocalAddress   netip.Addr
	RemoteAddress  netip.Addr
	Routes         string
	LimitBytesIn   uint64
	LimitBytesOut  uint64
}

// BindingSpec is a static /interface pppoe-server entry.
type BindingSpec struct {
	Name, User, Service string
}
