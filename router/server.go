package router

import (
	"context"
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"sync"
	"time"

	"layeh.com/radius/rfc2866"

	"rosh/aaa"
	"rosh/dataplane"
	"rosh/link"
	"rosh/ppp"
	"rosh/pppoe"
)

// serverSessionQueue is how many received frames a subscriber's session
// buffers for its PPP goroutine. Only control traffic waits there — IPv4
// goes from the port's reader straight into the TUN (SetReceiver) — and a
// queue's channel costs 24 bytes a slot whether used or not: at 256 it
// was 6 KiB of every idle session, a third of what one cost; at 32, 900
// bytes. A peer sends a handful of control frames before it waits for an
// answer (Configure-Requests, an Authenticate-Request, an Echo).
const serverSessionQueue = 16

// acRun is the access concentrator of one interface, serving every enabled
// /interface pppoe-server server entry on it.
type acRun struct {
	r        *Runtime
	iface    string
	port     *link.Port
	ac       *pppoe.AC
	mu       sync.Mutex
	services map[string]ServerSpec // by service name
	sessions map[*serverSession]struct{}
}

func (r *Runtime) reconcileServers(d *Desired) {
	byIface := map[string]map[string]ServerSpec{}
	for _, s := range d.Servers {
		if byIface[s.Interface] == nil {
			byIface[s.Interface] = map[string]ServerSpec{}
		}
		byIface[s.Interface][s.ServiceName] = s
	}
	r.mu.Lock()
	var stop []*acRun
	for iface, a := range r.acs {
		if _, ok := byIface[iface]; !ok {
			stop = append(stop, a)
			delete(r.acs, iface)
		}
	}
	r.mu.Unlock()
	for _, a := range stop {
		a.close("server removed")
	}
	for iface, services := range byIface {
		r.mu.Lock()
		a, ok := r.acs[iface]
		r.mu.Unlock()
		if !ok {
			var err error
			if a, err = r.startAC(iface); err != nil {
				continue // retried on the next reconcile tick
			}
			r.mu.Lock()
			r.acs[iface] = a
			r.mu.Unlock()
		}
		a.configure(services)
	}
}

func (r *Runtime) startAC(iface string) (*acRun, error) {
	port, err := r.ports.Acquire(iface)
	if err != nil {
		return nil, err
	}
	a := &acRun{r: r, iface: iface, port: port, services: map[string]ServerSpec{}, sessions: map[*serverSession]struct{}{}}
	ac, err := pppoe.NewAC(port, pppoe.ACConfig{
		ACName:       func() string { return r.desiredNow().Identity },
		SessionQueue: serverSessionQueue,
		OnSession:    a.onSession,
		OnEvent: func(e pppoe.Event) {
			switch e.Kind {
			case pppoe.EventSessionUp, pppoe.EventSessionDown:
				r.log.Add("pppoe,debug", "%v", e)
			case pppoe.EventError:
				r.log.Add("pppoe,info", "%v", e)
			}
		},
	})
	if err != nil {
		r.ports.Release(port)
		return nil, err
	}
	a.ac = ac
	go watchDrops(ac.Done(), acDropCounters(ac), func(format string, args ...any) {
		r.log.Add("pppoe,debug", iface+": "+format, args...)
	})
	r.log.Add("pppoe,info", "access concentrator running on %s", iface)
	return a, nil
}

// configure applies the services of the interface: new ones are offered,
// changed ones updated, removed ones withdrawn (their sessions end).
func (a *acRun) configure(services map[string]ServerSpec) {
	a.mu.Lock()
	old := a.services
	a.services = services
	a.mu.Unlock()
	for name := range old {
		if _, ok := services[name]; !ok {
			a.ac.RemoveService(name)
		}
	}
	for name, s := range services {
		if o, ok := old[name]; ok && reflect.DeepEqual(o, s) {
			continue
		}
		a.ac.SetService(pppoe.Service{
			Name: name, MaxSessions: s.MaxSessions, OneSessionPerHost: s.OneSessionPerHost,
			PADODelay: s.PADODelay, AcceptEmptyService: s.AcceptEmpty,
		})
	}
}

// close ends every session gracefully (LCP Terminate, then PADT) and stops
// the access concentrator.
func (a *acRun) close(reason string) {
	a.mu.Lock()
	list := make([]*serverSession, 0, len(a.sessions))
	for s := range a.sessions {
		list = append(list, s)
	}
	a.mu.Unlock()
	var wg sync.WaitGroup
	for _, s := range list {
		wg.Add(1)
		go func() { defer wg.Done(); s.terminate(reason) }()
	}
	wg.Wait()
	a.ac.Close()
	a.r.eng.Metrics.retireAC(a.ac.Stats())
	a.r.ports.Release(a.port)
}

// onSession starts PPP on a session the AC opened. It runs on the AC's
// goroutine and must not block.
func (a *acRun) onSession(ps *pppoe.Session) {
	info := ps.Info()
	a.mu.Lock()
	spec, ok := a.services[info.Service]
	if !ok {
		// An empty Service-Name is answered with the first service.
		for _, s := range a.services {
			spec, ok = s, true
			break
		}
	}
	a.mu.Unlock()
	if !ok {
		ps.Close()
		return
	}
	s := &serverSession{r: a.r, ac: a, spec: spec, ps: ps, mac: strings.ToUpper(info.Peer.String()), done: make(chan struct{}), acctID: a.r.newAcctSessionID()}
	a.mu.Lock()
	a.sessions[s] = struct{}{}
	a.mu.Unlock()
	go s.run()
}

// serverSession is one subscriber's session on the access concentrator.
type serverSession struct {
	r    *Runtime
	ac   *acRun
	spec ServerSpec
	ps   *pppoe.Session
	mac  string
	done chan struct{}

	mu      sync.Mutex
	ppp     *ppp.Session
	user    string
	ifname  string
	addr    netip.Addr
	pool    string // the pool addr came from, "" when static
	local   netip.Addr
	lpool   string
	up      bool
	everUp  bool // came up once: its end is not a setup failure
	gone    bool // the PPP session ended: off /ppp active before its TUN is deleted
	closing bool
	profile ProfileSpec
	tun     tunnel
	// upGen counts IPCP's ups and downs: a TUN made for an up that a
	// down has since overtaken is not attached.
	upGen uint64
	// tunMu orders attaching the TUN (off the session's goroutine)
	// with taking the fast path down; attaching counts attaches under
	// way, which the session's end waits for.
	tunMu     sync.Mutex
	attaching sync.WaitGroup

	// acctID is the Acct-Session-Id (RFC 2866 §5.5).
	acctID string
	// rad is the Access-Accept that admitted the session (nil: a local
	// secret); rateLimit overrides the profile's (Mikrotik-Rate-Limit).
	rad       *aaa.Reply
	rateLimit string
	// since is when IPCP came up; acctOn that a Start was sent; cause
	// why rosh ended the session (0: the session's own reason decides).
	since  time.Time
	acctOn bool
	cause  rfc2866.AcctTerminateCause
	timers sessionTimers
	// ended: the session is over; a late RADIUS verdict is ignored.
	ended bool
	// limitIn and limitOut are the secret's limit-bytes-in/out.
	limitIn, limitOut uint64
}

// run starts the session's PPP; ppp's Start serves it on goroutines of
// its own (moving to a fresh one, with a small stack, once the link is
// up) and calls finish when it ends.
func (s *serverSession) run() {
	s.r.mu.Lock()
	s.r.sessions[s] = struct{}{}
	s.r.mu.Unlock()
	p, err := s.newPPP()
	if err != nil {
		s.ps.Close()
		s.finish(err)
		return
	}
	s.tun.setControl(p)
	s.mu.Lock()
	s.ppp = p
	s.mu.Unlock()
	p.Start(context.Background(), func(err error) {
		s.ps.Close()
		s.finish(err)
	})
}

// finish tears the session down once PPP is over (err says why).
func (s *serverSession) finish(err error) {
	defer close(s.done)
	s.attaching.Wait() // no TUN made after it is closed
	s.sessionEnded(err, s.tun.stats())
	s.tun.close()
	s.r.mu.Lock()
	delete(s.r.sessions, s)
	s.r.mu.Unlock()
	s.ac.mu.Lock()
	delete(s.ac.sessions, s)
	s.ac.mu.Unlock()
	s.release()
	s.mu.Lock()
	user, ifname, p := s.user, s.ifname, s.ppp
	s.mu.Unlock()
	if ifname != "" {
		s.r.releaseName(ifname)
	}
	ifname, user = endNames(ifname, user, p, s.mac)
	s.mu.Lock()
	everUp := s.everUp
	s.mu.Unlock()
	s.r.eng.Metrics.ended(roleServer, everUp, err)
	s.r.log.Add("pppoe,ppp,info", "%s: %s disconnected (session %d from %s): %s", ifname, user, s.ps.ID(), s.mac, describe(err))
}

// endNames are the interface and user names of a session's last log line.
// A session that never came up (its login failed, or was refused) has no
// interface and no user of its own, but its peer gave a name: the line
// names that user and <pppoe-user>, as RouterOS does; "?" and <pppoe-MAC>
// only when the peer sent none.
func endNames(ifname, user string, p *ppp.Session, mac string) (string, string) {
	if user == "" && p != nil {
		user = p.Status().PeerName
	}
	if ifname == "" {
		if user != "" {
			ifname = "<pppoe-" + user + ">"
		} else {
			ifname = "<pppoe-" + mac + ">"
		}
	}
	if user == "" {
		user = "?"
	}
	return ifname, user
}

// newPPP makes the subscriber's PPP session over its PPPoE session.
func (s *serverSession) newPPP() (*ppp.Session, error) {
	d := s.r.desiredNow()
	mru := effectiveMRU(s.spec.MaxMRU, s.ac.port.MTU(), s.ps)
	mtu := effectiveMRU(s.spec.MaxMTU, s.ac.port.MTU(), s.ps)
	require, _ := ppp.ParseMethodSet(strings.Join(s.spec.Authentication, ","))
	return ppp.NewOnLink(ppp.Config{
		Role: ppp.RoleServer, Name: d.Identity, Require: require,
		Authenticator: s,
		Addresses:     s.addresses,
		MRU:           mru, MTU: mtu, Keepalive: s.spec.Keepalive,
		MRRU: s.spec.MRRU, Endpoint: endpoint(s.ac.port.HardwareAddr()),
		OnEvent:  s.onEvent,
		OnPacket: s.tun.onPacket,
		Logger:   s.r.sessionLogger(s.traceName),
	}, s.ps)
}

// traceName is the session's name in its log lines: its interface name
// once the peer has authenticated, <pppoe-MAC> before (RouterOS's).
func (s *serverSession) traceName() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ifname != "" {
		return s.ifname
	}
	return "<pppoe-" + s.mac + ">"
}

// terminate ends the session gracefully and waits for it.
func (s *serverSession) terminate(reason string) {
	s.mu.Lock()
	p := s.ppp
	s.closing = true
	s.mu.Unlock()
	if p != nil {
		p.Close(reason)
	} else {
		s.ps.Close()
	}
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		s.ps.Close()
		<-s.done
	}
}

// secretFor finds the enabled secret of user that may log in here from
// mac: service any or pppoe, caller-id empty or the client's MAC.
func secretFor(d *Desired, user, mac string) (SecretSpec, string) {
	list, ok := d.Secrets[user]
	if !ok {
		return SecretSpec{}, "no such user"
	}
	reason := "secret not for pppoe"
	for _, sec := range list {
		if sec.Service != "any" && sec.Service != "pppoe" {
			continue
		}
		if sec.CallerID != "" && !strings.EqualFold(sec.CallerID, mac) {
			reason = "caller-id " + mac + " does not match"
			continue
		}
		return sec, ""
	}
	return SecretSpec{}, reason
}

// profileFor is the secret's profile, or the server's default-profile
// when the secret names the default one.
func (s *serverSession) profileFor(d *Desired, sec SecretSpec) ProfileSpec {
	name := sec.Profile
	if name == "" || name == "default" {
		name = s.spec.DefaultProfile
	}
	if p, ok := d.Profiles[name]; ok {
		return p
	}
	return d.Profiles["default"]
}

// claimUser records that s is user's session. With onlyOne it refuses
// (false) when another session of user exists; check and record happen
// under one lock, so two simultaneous logins cannot both pass.
func (r *Runtime) claimUser(user string, s *serverSession, onlyOne bool) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if onlyOne {
		for o := range r.sessions {
			if o == s {
				continue
			}
			o.mu.Lock()
			same := o.user == user
			o.mu.Unlock()
			if same {
				return false
			}
		}
	}
	s.mu.Lock()
	s.user = user
	s.mu.Unlock()
	return true
}

// addresses gives IPCP its addresses: the secret's, else the profile's
// (an IP or a pool); RouterOS's order. A RADIUS user's come from the
// Access-Accept: Framed-IP-Address, else the local pool Framed-Pool names,
// else the profile Mikrotik-Group names.
func (s *serverSession) addresses(peer string) (ppp.IPConfig, error) {
	d := s.r.desiredNow()
	s.mu.Lock()
	rad := s.rad
	s.mu.Unlock()
	var prof ProfileSpec
	var remote, local netip.Addr
	var dns []netip.Addr
	var limitIn, limitOut uint64 // the secret's limit-bytes-in/out
	if rad != nil {
		prof = s.radiusProfile(d, rad)
		// RFC 2865 §5.8: 255.255.255.254 asks the NAS to choose, and
		// 255.255.255.255 lets the user choose, which a PPPoE AC does
		// from its pool all the same.
		if rad.FramedIP.IsValid() && rad.FramedIP != netip.AddrFrom4([4]byte{255, 255, 255, 254}) && rad.FramedIP != netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
			remote = rad.FramedIP
		}
		if rad.FramedPool != "" {
			prof.RemoteAddress = rad.FramedPool
		}
		dns = rad.DNS
	} else {
		sec, _ := secretFor(d, peer, s.mac)
		prof = s.profileFor(d, sec)
		remote, local = sec.RemoteAddress, sec.LocalAddress
		limitIn, limitOut = sec.LimitBytesIn, sec.LimitBytesOut
	}
	if len(dns) == 0 {
		dns = prof.DNS
	}
	var cfg ppp.IPConfig
	var err error
	cfg.Peer, s.pool, err = s.pick(remote, prof.RemoteAddress, peer)
	if err != nil {
		s.r.log.Add("ppp,error", "<pppoe-%s>: no remote address: %v", peer, err)
		return cfg, err
	}
	cfg.Local, s.lpool, err = s.pick(local, prof.LocalAddress, peer)
	if err != nil {
		s.r.log.Add("ppp,error", "<pppoe-%s>: no local address: %v", peer, err)
		s.release()
		return cfg, err
	}
	if len(dns) > 0 {
		cfg.PrimaryDNS = dns[0]
	}
	if len(dns) > 1 {
		cfg.SecondaryDNS = dns[1]
	}
	s.mu.Lock()
	s.addr, s.local, s.profile = cfg.Peer, cfg.Local, prof
	s.limitIn, s.limitOut = limitIn, limitOut
	s.mu.Unlock()
	return cfg, nil
}

// pick takes the secret's address, else the profile's IP or an address
// from the profile's pool.
func (s *serverSession) pick(secret netip.Addr, profile, owner string) (netip.Addr, string, error) {
	if secret.IsValid() {
		return secret, "", nil
	}
	if profile == "" {
		return netip.Addr{}, "", fmt.Errorf("neither the secret nor the profile gives one")
	}
	if a, err := netip.ParseAddr(profile); err == nil {
		return a, "", nil
	}
	a, from, err := s.r.pools.Allocate(profile, owner, s.mac, netip.Addr{})
	if err != nil {
		return netip.Addr{}, "", fmt.Errorf("pool %s: %w", profile, err)
	}
	return a, from, nil
}

// release returns pool addresses.
func (s *serverSession) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pool != "" {
		s.r.pools.Release(s.pool, s.addr)
		s.pool = ""
	}
	if s.lpool != "" {
		s.r.pools.Release(s.lpool, s.local)
		s.lpool = ""
	}
}

func (s *serverSession) onEvent(e ppp.Event) {
	switch e.Kind {
	case ppp.EventUp:
		s.mu.Lock()
		s.upGen++
		gen := s.upGen
		s.mu.Unlock()
		if s.r.noTUN { // the control plane alone (RuntimeOptions.NoServerTUN)
			s.connected(gen, e.Status)
			return
		}
		// The TUN is made off the session's goroutine: when thousands
		// of subscribers come back at once the kernel makes their
		// devices one at a time (RTNL), and a session waiting its turn
		// must still answer its peer's LCP Echo-Requests.
		s.attaching.Add(1)
		go func() {
			defer s.attaching.Done()
			s.tunMu.Lock()
			defer s.tunMu.Unlock()
			s.mu.Lock()
			name, clamp, p, stale := s.ifname, s.profile.ChangeTCPMSS, s.ppp, gen != s.upGen
			s.mu.Unlock()
			if stale { // IPCP went down again, or the session ended
				return
			}
			if _, err := s.tun.attach(s.r.namespace, name, e.Status, clamp, s.ps); err != nil {
				s.r.log.Add("pppoe,error", "%s: interface: %v", name, err)
				if p != nil {
					p.Close("no interface")
				}
				return
			}
			s.connected(gen, e.Status)
		}()
	case ppp.EventDown, ppp.EventDead:
		s.mu.Lock()
		s.upGen++ // a TUN still being made is not attached
		s.up = false
		s.gone = s.gone || e.Kind == ppp.EventDead
		s.mu.Unlock()
		s.tunMu.Lock()
		s.tun.down(s.ps)
		s.tunMu.Unlock()
	}
}

// connected marks the session up, unless IPCP went down while its TUN was
// being made (gen is the EventUp's). IPCP coming up again after a
// renegotiation (RFC 1661 §4.3: a Configure-Request in Opened) is the same
// session going on, not a new one: it is logged as such, not counted again.
func (s *serverSession) connected(gen uint64, st ppp.Status) {
	s.mu.Lock()
	if gen != s.upGen {
		s.mu.Unlock()
		return
	}
	again := s.everUp
	s.up, s.everUp = true, true
	name, user := s.ifname, s.user
	s.mu.Unlock()
	s.addRadiusRoutes(name)
	s.sessionUp()
	s.applyLimits()
	if again {
		s.r.log.Add("ppp,info", "%s: IPCP renegotiated, %s", name, st.PeerAddr)
		return
	}
	s.r.eng.Metrics.setup(roleServer)
	s.r.log.Add("pppoe,ppp,info", "%s: %s connected from %s, %s, auth %v", name, user, s.mac, st.PeerAddr, st.Method)
}

// active describes the session for /ppp active, once it has come up: an
// IPCP renegotiation (its data path held meanwhile) does not take it off
// the list nor start its uptime again — the connection goes on, with its
// address and accounting (sessionUp), until the session ends.
func (s *serverSession) active() (ActiveSession, bool) {
	s.mu.Lock()
	p, listed, since := s.ppp, s.everUp && !s.gone, s.since
	a := ActiveSession{
		Name: s.user, Interface: s.ifname, Service: "pppoe", PPPoEName: s.spec.ServiceName,
		CallerID: s.mac, Address: s.addr.String(), SessionID: s.ps.ID(), Radius: s.rad != nil,
	}
	s.mu.Unlock()
	if !listed || p == nil {
		return ActiveSession{}, false
	}
	st := p.Status()
	if !since.IsZero() {
		a.Uptime = time.Since(since).Truncate(time.Second)
	}
	a.MTU, a.MRU = st.MTU, st.MRU
	a.KernelName = s.tun.kernelName()
	a.Counters = countersOf(s.tun.stats())
	a.RateLimit, a.Queue = s.tun.shaping()
	a.Disconnect = func() { go s.terminate("administratively disconnected") }
	return a, true
}

// effectiveRateLimit is the one place a session's rate limit comes from:
// RADIUS's Mikrotik-Rate-Limit (Access-Accept or CoA, SetRateLimit) if it
// gave one, else the profile's rate-limit. s.mu is held.
func (s *serverSession) effectiveRateLimit() dataplane.RateLimit {
	if s.rateLimit != "" {
		rl, err := dataplane.ParseRateLimit(s.rateLimit)
		if err == nil {
			return rl
		}
		s.r.log.Add("ppp,error", "%s: Mikrotik-Rate-Limit from RADIUS: %v; the profile's applies", s.ifname, err)
	}
	rl, err := dataplane.ParseRateLimit(s.profile.RateLimit)
	if err != nil { // the console refuses these; a hand-edited file may not
		s.r.log.Add("ppp,error", "%s: profile %s: %v", s.ifname, s.profile.Name, err)
	}
	return rl
}

// reprofile takes a changed profile into the running session: a new
// rate-limit applies at once (RouterOS changes the dynamic queue).
func (s *serverSession) reprofile(d *Desired) {
	s.mu.Lock()
	p, ok := d.Profiles[s.profile.Name]
	changed := ok && p.RateLimit != s.profile.RateLimit
	if changed {
		s.profile.RateLimit = p.RateLimit
	}
	s.mu.Unlock()
	if changed {
		s.applyLimits()
	}
}

// applyLimits gives the session's data plane its effective rate limit
// and its secret's byte quotas, once it is up.
func (s *serverSession) applyLimits() {
	s.mu.Lock()
	up, rl := s.up, s.effectiveRateLimit()
	in, out, name := s.limitIn, s.limitOut, s.ifname
	s.mu.Unlock()
	if !up {
		return
	}
	s.tun.setRateLimit(rl)
	s.tun.setQuota(in, out, func(out bool) {
		st := s.tun.stats()
		reason, n := "limit-bytes-in reached", st.RxBytes
		if out {
			reason, n = "limit-bytes-out reached", st.TxBytes
		}
		s.r.log.Add("pppoe,ppp,info", "%s: %s (%d bytes)", name, reason, n)
		go s.terminate(reason)
	})
}
