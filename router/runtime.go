package router

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

	"rosh/link"
	"rosh/pool"
	"rosh/pppoe"
)

// Runtime runs what the configuration asks for: a PPPoE client per enabled
// /interface pppoe-client, an access concentrator per interface that has
// enabled servers, their PPP sessions, and the address pools. It is the
// engine's Live.
//
// Configuration changes reach it through Changed; a reconcile goroutine
// coalesces bursts (a 10,000-line script reconciles a handful of times),
// builds the Desired state and starts, changes or stops what differs.
type Runtime struct {
	eng   *Engine
	ports *link.Registry
	build func(*Config) *Desired
	log   *Log
	pools *pool.Set

	kick chan struct{}
	stop chan struct{}
	done chan struct{}
	// reconcileMu serialises reconciliation (the loop and Sync).
	reconcileMu sync.Mutex

	namespace string
	noTUN     bool

	mu      sync.Mutex
	desired *Desired
	// ifnames are the session interface names in use (<pppoe-USER>,
	// <pppoe-USER-1> for a second session of the same user).
	ifnames  map[string]bool
	clients  map[uint32]*clientRun
	acs      map[string]*acRun // by interface name
	sessions map[*serverSession]struct{}
	closed   bool
	radius   radiusRun

	// auth is the per-host login back-off of the access concentrators.
	auth *authGuard

	// The packet sniffer: the captures on the interfaces' tap, and
	// /tool sniffer's own (kept after stop for save).
	snMu           sync.Mutex
	sniffers       []*sniffer
	capture        *sniffer
	captureRelease func()
}

// RuntimeOptions tunes a runtime; zero values are the defaults.
type RuntimeOptions struct {
	// Ports opens interfaces; nil uses pcap on the host's interfaces.
	Ports *link.Registry
	// Retry is how often interfaces that could not be opened are tried
	// again (an entry flagged I becomes valid when its interface appears).
	Retry time.Duration
	// Namespace is the network namespace the sessions' TUN devices are
	// made in ("" the process's own); tests give each router its own.
	Namespace string
	// NoServerTUN gives the access concentrator's sessions no TUN: the
	// control plane alone, whose cost `make bench` measures apart from
	// the data plane's.
	NoServerTUN bool
}

// NewRuntime starts a runtime for eng; build turns the configuration into
// the desired state (menus.Tree.Desired).
func NewRuntime(eng *Engine, build func(*Config) *Desired, opt RuntimeOptions) *Runtime {
	if opt.Ports == nil {
		opt.Ports = link.Default
	}
	if opt.Retry == 0 {
		opt.Retry = 5 * time.Second
	}
	r := &Runtime{
		eng: eng, ports: opt.Ports, build: build, log: eng.Log, pools: pool.NewSet(),
		kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
		clients: map[uint32]*clientRun{}, acs: map[string]*acRun{}, sessions: map[*serverSession]struct{}{},
		desired: &Desired{}, namespace: opt.Namespace, noTUN: opt.NoServerTUN, ifnames: map[string]bool{},
		auth: newAuthGuard(time.Now),
	}
	r.initRadius()
	eng.SetLive(r)
	eng.OnChange(r.Changed)
	go r.loop(opt.Retry)
	r.Changed()
	return r
}

// Changed tells the runtime the configuration changed.
func (r *Runtime) Changed() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Sync reconciles now and returns when done (tests, and start-up).
func (r *Runtime) Sync() { r.reconcile() }

// loop reconciles after every change, and on the retry tick while an
// access concentrator could not start. Only then: a reconcile rebuilds the
// desired state from the whole configuration — 10,000 secrets are a tenth
// of a CPU-second — which an idle engine holding sessions must not pay
// every tick.
func (r *Runtime) loop(retry time.Duration) {
	defer close(r.done)
	t := time.NewTicker(retry)
	defer t.Stop()
	pending := false
	for {
		select {
		case <-r.stop:
			return
		case <-r.kick:
		case <-t.C:
			if !pending {
				continue
			}
		}
		pending = r.reconcile()
	}
}

// reconcile makes the running engine what the configuration asks for. It
// reports whether something could not be started and is to be tried again.
func (r *Runtime) reconcile() (retry bool) {
	r.reconcileMu.Lock()
	defer r.reconcileMu.Unlock()
	var d *Desired
	r.eng.View(func(c *Config) { d = r.build(c) })
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return false
	}
	r.desired = d
	r.mu.Unlock()
	if len(d.Logging.Actions) > 0 {
		r.log.Configure(d.Logging)
	}
	r.updateTap()
	r.pools.Configure(d.Pools)
	r.reconcileClients(d)
	r.reconcileServers(d)
	r.reconcileRadius(d)
	r.mu.Lock()
	defer r.mu.Unlock()
	for s := range r.sessions {
		s.reprofile(d)
	}
	for _, s := range d.Servers {
		if _, ok := r.acs[s.Interface]; !ok {
			return true // its interface could not be opened
		}
	}
	return false
}

func (r *Runtime) reconcileClients(d *Desired) {
	want := map[uint32]ClientSpec{}
	for _, c := range d.Clients {
		want[c.ID] = c
	}
	r.mu.Lock()
	var stop []*clientRun
	for id, run := range r.clients {
		if spec, ok := want[id]; !ok || !reflect.DeepEqual(spec, run.spec) {
			stop = append(stop, run)
			delete(r.clients, id)
		}
	}
	r.mu.Unlock()
	for _, run := range stop {
		run.stop("configuration changed")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, spec := range want {
		if _, ok := r.clients[id]; !ok {
			r.clients[id] = r.startClient(spec)
		}
	}
}

// desiredNow returns the newest desired state (for authentication, which
// must see a secret added a moment ago).
func (r *Runtime) desiredNow() *Desired {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.desired
}

// Close ends every session (LCP Terminate, PADT), stops every client and
// server and releases the interfaces.
func (r *Runtime) Close() {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.closed = true
	clients := r.clients
	acs := r.acs
	r.clients = map[uint32]*clientRun{}
	r.acs = map[string]*acRun{}
	r.mu.Unlock()
	close(r.stop)
	<-r.done
	r.SnifferStop()
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Add(1)
		go func() { defer wg.Done(); c.stop("shutdown") }()
	}
	for _, a := range acs {
		wg.Add(1)
		go func() { defer wg.Done(); a.close("shutdown") }()
	}
	wg.Wait()
	r.closeRadius()
}

// ClientStatus implements Live.
func (r *Runtime) ClientStatus(id uint32) ClientStatus {
	r.mu.Lock()
	run, ok := r.clients[id]
	r.mu.Unlock()
	if !ok {
		return ClientStatus{Status: "disconnected"}
	}
	return run.status()
}

// ActiveSessions implements Live: the server sessions that are up.
func (r *Runtime) ActiveSessions() []ActiveSession {
	r.mu.Lock()
	list := make([]*serverSession, 0, len(r.sessions))
	for s := range r.sessions {
		list = append(list, s)
	}
	r.mu.Unlock()
	var out []ActiveSession
	for _, s := range list {
		if a, ok := s.active(); ok {
			out = append(out, a)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].SessionID < out[j].SessionID
	})
	return out
}

// PoolLeases implements Live.
func (r *Runtime) PoolLeases() []PoolLease {
	var out []PoolLease
	for _, l := range r.pools.Leases() {
		out = append(out, PoolLease{Pool: l.Pool, Address: l.Address.String(), Owner: l.Owner, Info: l.Info})
	}
	return out
}

// Scan implements Live: PADIs on iface for d (0: until stop), a row per
// answering access concentrator and service.
func (r *Runtime) Scan(iface string, d time.Duration, stop <-chan struct{}, row func(ScanResult)) error {
	port, err := r.ports.Acquire(iface)
	if err != nil {
		return fmt.Errorf("failure: can not open %s: %v", iface, err)
	}
	defer r.ports.Release(port)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	seen := map[ScanResult]bool{}
	for {
		dur := d
		if d == 0 {
			dur = 2 * time.Second
		}
		res, err := pppoe.Scan(ctx, port, pppoe.ScanConfig{Duration: dur})
		for _, x := range res {
			sr := ScanResult{Service: x.Service, MAC: strings.ToUpper(x.MAC.String()), ACName: x.ACName}
			if !seen[sr] {
				seen[sr] = true
				row(sr)
			}
		}
		if err != nil && ctx.Err() == nil {
			return err
		}
		if d != 0 || ctx.Err() != nil {
			return nil
		}
	}
}

// claimName reserves a session interface name: base, or base with -1,
// -2 … before its closing '>' when base is taken.
func (r *Runtime) claimName(base string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	name := base
	for i := 1; r.ifnames[name]; i++ {
		name = fmt.Sprintf("%s-%d>", strings.TrimSuffix(base, ">"), i)
	}
	r.ifnames[name] = true
	return name
}

// releaseName frees a name claimName gave.
func (r *Runtime) releaseName(name string) {
	r.mu.Lock()
	delete(r.ifnames, name)
	r.mu.Unlock()
}
