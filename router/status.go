package router

import (
	"time"

	"rosh/dataplane"
)

// ClientStatus is what `monitor` shows for one PPPoE client.
type ClientStatus struct {
	Status        string // dialing, verifying password..., connected, disconnected
	LastError     string // the reason of the last failure
	Uptime        time.Duration
	ACName        string
	ACMAC         string
	ServiceName   string
	LocalAddress  string
	RemoteAddress string
	MTU, MRU      int
	MRRU          int // with Multilink PPP up (RFC 1990); 0 otherwise
	Encoding      string
	ActiveLinks   int
	Running       bool
	// Auth is the authentication method the session used (not printed
	// by monitor, which RouterOS does not; tests and the log use it).
	Auth string
	// DNS are the servers the peer offered (use-peer-dns).
	DNS []string
	// KernelName is the TUN device's name in the kernel.
	KernelName string
	Counters   Counters
}

// Counters are a session's traffic, from the router's side: rx came
// from the peer, tx went to it.
type Counters struct {
	RxBytes, TxBytes, RxPackets, TxPackets, RxDrops, TxDrops uint64
}

// ActiveSession is one row of /ppp active and of the dynamic
// /interface pppoe-server entries.
type ActiveSession struct {
	Name      string // user name
	Interface string // <pppoe-USER> or the static binding's name
	Service   string // "pppoe"
	PPPoEName string // the pppoe service name
	CallerID  string // client MAC
	Address   string
	Uptime    time.Duration
	Encoding  string
	SessionID uint16
	MTU, MRU  int
	Radius    bool
	// KernelName is the TUN device's name in the kernel.
	KernelName string
	Counters   Counters
	// RateLimit is the session's limit in force (zero: none) and Queue
	// its shaping counters: the dynamic /queue simple entry.
	RateLimit dataplane.RateLimit
	Queue     dataplane.ShaperStats
	// Disconnect ends the session (remove in /ppp active).
	Disconnect func()
}

// PoolLease is one row of /ip pool used.
type PoolLease struct {
	Pool, Address, Owner, Info string
}

// ScanResult is one row of `/interface pppoe-client scan`.
type ScanResult struct {
	Service, MAC, ACName string
}

// Live is the running part of the engine that the menus read: sessions,
// leases, client status. Until the protocol layers are plugged in it is
// Idle, which reports that nothing runs.
type Live interface {
	ClientStatus(id uint32) ClientStatus
	ActiveSessions() []ActiveSession
	PoolLeases() []PoolLease
	Scan(iface string, d time.Duration, stop <-chan struct{}, row func(ScanResult)) error
}

// Idle is the Live of an engine that runs nothing.
type Idle struct{}

func (Idle) ClientStatus(uint32) ClientStatus { return ClientStatus{Status: "disconnected"} }
func (Idle) ActiveSessions() []ActiveSession  { return nil }
func (Idle) PoolLeases() []PoolLease          { return nil }
func (Idle) Scan(string, time.Duration, <-chan struct{}, func(ScanResult)) error {
	return ErrNotRunning
}
