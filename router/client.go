package router

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	"rosh/dataplane"
	"rosh/link"
	"rosh/ppp"
	"rosh/pppoe"
)

// Redial back-off of a client after a failure: RouterOS retries within
// seconds; repeated authentication failures wait longer.
const (
	redialMin = time.Second
	redialMax = 30 * time.Second
)

// clientSessionQueue is how many received frames a client's session
// buffers: a TCP burst at line rate must not be dropped before the PPP
// goroutine drains it (buffers are allocated only as a burst needs them).
const clientSessionQueue = 512

// clientRun is one running /interface pppoe-client: it dials, runs PPP,
// and redials after any failure until stopped.
type clientRun struct {
	r      *Runtime
	spec   ClientSpec
	cancel context.CancelFunc
	done   chan struct{}

	mu  sync.Mutex
	st  ClientStatus
	ppp *ppp.Session
	// everUp: the session of the current dial came up (its end is not a
	// setup failure).
	everUp bool
	// tun is the client's interface: made when the session comes up, or
	// before dialing with dial-on-demand (and then kept across sessions).
	tun tunnel
	// stopping is set by stop: the loop must not dial again.
	stopping bool
	// demand is signalled by the first packet sent through a
	// dial-on-demand interface that has no session.
	demand chan struct{}
	// drops counts the frames the client dropped as spoofed, across
	// redials, for the log.
	drops clientDropWatch
}

func (r *Runtime) startClient(spec ClientSpec) *clientRun {
	ctx, cancel := context.WithCancel(context.Background())
	c := &clientRun{r: r, spec: spec, cancel: cancel, done: make(chan struct{}), st: ClientStatus{Status: "dialing"},
		demand: make(chan struct{}, 1)}
	go c.loop(ctx)
	go watchDrops(c.done, c.drops.counters(), func(format string, args ...any) { c.logf("pppoe,debug", format, args...) })
	return c
}

// stop ends the session (LCP Terminate, PADT) and the dial loop.
// stop ends the client. A session that is up is closed gracefully first:
// LCP Terminate-Request, and the peer's Terminate-Ack (or Max-Terminate
// requests unanswered) before the PADT (RFC 1661 §3.7); then the dial
// loop stops.
func (c *clientRun) stop(reason string) {
	c.mu.Lock()
	c.stopping = true
	p := c.ppp
	c.mu.Unlock()
	if p != nil {
		p.Close(reason)
		select {
		case <-p.Done():
		case <-time.After(terminateWait):
		}
	}
	c.cancel()
	<-c.done
}

// terminateWait bounds the wait for a Terminate-Ack: Max-Terminate (2)
// requests at the restart interval (3 s), plus a margin.
const terminateWait = 7 * time.Second

func (c *clientRun) isStopping() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stopping
}

func (c *clientRun) status() ClientStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.st
	if st.Status == "connected" && c.ppp != nil {
		ps := c.ppp.Status()
		st.Uptime = time.Since(ps.Since)
	}
	st.KernelName = c.tun.kernelName()
	st.Counters = countersOf(c.tun.stats())
	return st
}

func (c *clientRun) set(fn func(st *ClientStatus)) {
	c.mu.Lock()
	fn(&c.st)
	c.mu.Unlock()
}

func (c *clientRun) logf(topics, format string, args ...any) {
	c.r.log.Add(topics, c.spec.Name+": "+format, args...)
}

func (c *clientRun) loop(ctx context.Context) {
	defer close(c.done)
	backoff := redialMin
	var port *link.Port
	defer func() {
		if port != nil {
			c.r.ports.Release(port)
		}
		c.tun.close()
	}()
	for ctx.Err() == nil && !c.isStopping() {
		if c.spec.DialOnDemand && !c.waitForDemand(ctx) {
			break
		}
		var err error
		if port == nil {
			// The interface is opened once for the life of the client, and
			// tried again after a failure (it may appear later).
			port, err = c.r.ports.Acquire(c.spec.Interface)
			if err != nil {
				port = nil
				err = fmt.Errorf("interface %s: %w", c.spec.Interface, err)
			}
		}
		if port != nil {
			err = c.dialOnce(ctx, port)
		}
		if ctx.Err() != nil {
			break
		}
		reason := describe(err)
		c.set(func(st *ClientStatus) {
			*st = ClientStatus{Status: "disconnected", LastError: reason}
		})
		c.logf("pppoe,ppp,info", "disconnected: %s", reason)
		if errors.Is(err, ppp.ErrAuthFailed) || errors.Is(err, ppp.ErrNoCommonAuth) {
			backoff = min(backoff*2, redialMax)
		} else if err == nil || errors.Is(err, ppp.ErrPeerTerminated) || errors.Is(err, ppp.ErrKeepalive) || errors.Is(err, ppp.ErrLowerDown) {
			backoff = redialMin
		} else {
			backoff = min(backoff*2, redialMax)
		}
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
	}
	c.set(func(st *ClientStatus) { *st = ClientStatus{Status: "disconnected"} })
}

// waitForDemand makes the dial-on-demand interface — a placeholder
// 10.112.112.x address pair and, with add-default-route, the default route
// — and waits for the first packet sent through it (SPEC §5). It reports
// false when the client is stopped first.
func (c *clientRun) waitForDemand(ctx context.Context) bool {
	ifc := c.tun.ifc.Load()
	if ifc == nil {
		local, peer := dataplane.Placeholder(int(c.spec.ID))
		var err error
		ifc, err = dataplane.Open(dataplane.Config{
			Name: c.spec.Name, Namespace: c.r.namespace, Local: local, Peer: peer, MTU: 1480, Headroom: tunHeadroom, Offload: tunOffload,
			ClampMSS: c.spec.Profile.ChangeTCPMSS, SendBatchEnd: c.tun.sendBatchEnd,
			OnFirstPacket: func() {
				select {
				case c.demand <- struct{}{}:
				default:
				}
			},
		})
		if err != nil {
			c.logf("pppoe,error", "dial-on-demand interface: %v", err)
			select {
			case <-ctx.Done():
				return false
			case <-time.After(redialMax):
				return true
			}
		}
		if c.spec.AddDefaultRoute {
			if err := ifc.AddRoute(defaultRoute(c.spec.DefaultRouteDistance)); err != nil {
				c.logf("pppoe,error", "default route: %v", err)
			}
		}
		c.tun.ifc.Store(ifc)
	}
	c.set(func(st *ClientStatus) {
		st.Status = "disconnected"
		st.LastError = "waiting for traffic (dial-on-demand)"
	})
	select {
	case <-ctx.Done():
		return false
	case <-c.demand:
		c.logf("pppoe,info", "outbound traffic: dialing on demand")
		return true
	}
}

// effectiveMRU is "auto": the interface MTU less 20 (the seed's advice:
// 1480 on 1500-byte Ethernet), or, once PPP-Max-Payload was agreed (RFC
// 4638), all of it; never more than the PPPoE session carries (1492 without
// RFC 4638, RFC 2516 §7).
func effectiveMRU(configured, ifaceMTU int, ps *pppoe.Session) int {
	sessionMax := ps.MaxMRU()
	v := configured
	if v == 0 {
		v = ifaceMTU - 20
		if ps.Info().MaxPayload > 0 {
			v = sessionMax
		}
	}
	return min(v, sessionMax)
}

// maxPayload is the PPP-Max-Payload a client asks for (RFC 4638 §4): what
// an Ethernet MTU above 1500 leaves for PPP's Information field past the
// PPPoE header and the Protocol field (1500 on a 1508-byte MTU, as 1492 is
// on 1500), or nothing (0) on a standard one; no more than
// max-mtu/max-mru want when both are set.
func maxPayload(ifaceMTU, maxMTU, maxMRU int) uint16 {
	v := ifaceMTU - pppoe.HeaderLen - 2
	if maxMTU > 0 && maxMRU > 0 {
		v = min(v, max(maxMTU, maxMRU))
	}
	if v <= pppoe.MaxPayload {
		return 0
	}
	return uint16(min(v, 0xffff))
}

// endpoint is the Endpoint-Discriminator (RFC 1990 §5.1.3) sent with MRRU:
// class 3, the interface's globally assigned MAC address.
func endpoint(mac []byte) []byte {
	if len(mac) != 6 {
		return nil
	}
	return append([]byte{3}, mac...)
}

func (c *clientRun) dialOnce(ctx context.Context, port *link.Port) error {
	c.set(func(st *ClientStatus) { st.Status = "dialing" })
	client, err := pppoe.NewClient(port, pppoe.ClientConfig{
		ServiceName: c.spec.ServiceName, ACName: c.spec.ACName, HostUniq: c.spec.HostUniq,
		SessionQueue: clientSessionQueue,
		MaxPayload:   maxPayload(port.MTU(), c.spec.MaxMTU, c.spec.MaxMRU),
		OnEvent: func(e pppoe.Event) {
			if e.Kind == pppoe.EventError {
				c.logf("pppoe,debug", "%v", e)
			}
		},
	})
	if err != nil {
		return err
	}
	c.drops.client.Store(client)
	defer c.drops.retire()
	c.logf("pppoe,info", "dialing on %s", c.spec.Interface)
	sess, err := client.Dial(ctx)
	c.r.eng.Metrics.retireClient(client.Stats())
	if err != nil {
		if ctx.Err() == nil {
			c.r.eng.Metrics.ended(roleClient, false, err)
		}
		return err
	}
	c.drops.session.Store(sess)
	info := sess.Info()
	c.set(func(st *ClientStatus) {
		st.ACName, st.ACMAC, st.ServiceName = info.ACName, strings.ToUpper(info.Peer.String()), info.Service
	})
	c.logf("pppoe,info", "session %d up with %s (%s)", info.ID, info.ACName, info.Peer)
	allow, _ := ppp.ParseMethodSet(strings.Join(c.spec.Allow, ","))
	mru := effectiveMRU(c.spec.MaxMRU, port.MTU(), sess)
	mtu := effectiveMRU(c.spec.MaxMTU, port.MTU(), sess)
	if info.MaxPayload > 0 {
		c.logf("pppoe,info", "PPP-Max-Payload %d agreed (RFC 4638)", info.MaxPayload)
	}
	cfg := ppp.Config{
		Role: ppp.RoleClient, User: c.spec.User, Password: c.spec.Password, Allow: allow,
		RequestDNS: c.spec.UsePeerDNS, MRU: mru, MTU: mtu, Keepalive: c.spec.Keepalive,
		MRRU: c.spec.MRRU, Endpoint: endpoint(port.HardwareAddr()),
		OnEvent:  func(e ppp.Event) { c.onEvent(e, sess) },
		OnPacket: c.tun.onPacket,
		Logger:   c.r.sessionLogger(func() string { return c.spec.Name }),
	}
	newPPP := func() (*ppp.Session, error) { return ppp.NewOnLink(cfg, sess) }
	err = runPPP(ctx, sess, newPPP, func(s *ppp.Session) {
		c.tun.setControl(s)
		c.mu.Lock()
		c.ppp = s
		c.mu.Unlock()
	})
	c.mu.Lock()
	c.ppp = nil
	everUp := c.everUp
	c.everUp = false
	c.mu.Unlock()
	c.r.eng.Metrics.ended(roleClient, everUp, err)
	if ifc := c.tun.ifc.Load(); ifc != nil && c.spec.DialOnDemand {
		// The interface stays, back on its placeholder addresses, for the
		// next packet to dial again.
		ifc.Detach()
		local, peer := dataplane.Placeholder(int(c.spec.ID))
		ifc.SetAddrs(local, peer)
	} else {
		c.tun.close()
	}
	return err
}

// connect gives the up session its interface: the TUN with the
// negotiated addresses and MTU, and the default route if asked.
func (c *clientRun) connect(st ppp.Status, sess *pppoe.Session) error {
	hadTun := c.tun.ifc.Load() != nil
	ifc, err := c.tun.attach(c.r.namespace, c.spec.Name, st, c.spec.Profile.ChangeTCPMSS, sess)
	if err != nil {
		return err
	}
	if c.spec.AddDefaultRoute && !hadTun {
		if err := ifc.AddRoute(defaultRoute(c.spec.DefaultRouteDistance)); err != nil {
			return err
		}
	}
	return nil
}

func (c *clientRun) onEvent(e ppp.Event, sess *pppoe.Session) {
	st := e.Status
	switch e.Kind {
	case ppp.EventPhase:
		if st.Phase == ppp.PhaseAuthenticate {
			c.set(func(cs *ClientStatus) { cs.Status = "verifying password..." })
		}
	case ppp.EventAuthenticated:
		c.r.eng.Metrics.authResult(roleClient, st.Method, true)
	case ppp.EventAuthFailed:
		c.r.eng.Metrics.authResult(roleClient, st.Method, false)
		c.logf("ppp,error", "authentication failed: %v", e.Err)
	case ppp.EventUp:
		if err := c.connect(st, sess); err != nil {
			c.logf("pppoe,error", "interface: %v", err)
			c.mu.Lock()
			p := c.ppp
			c.mu.Unlock()
			if p != nil {
				p.Close("no interface: " + err.Error())
			}
			return
		}
		var dns []string
		for _, a := range []netip.Addr{st.PrimaryDNS, st.SecondaryDNS} {
			if a.IsValid() && c.spec.UsePeerDNS {
				dns = append(dns, a.String())
			}
		}
		c.set(func(cs *ClientStatus) {
			cs.DNS = dns
			cs.Status, cs.Running = "connected", true
			cs.LocalAddress, cs.RemoteAddress = st.LocalAddr.String(), st.PeerAddr.String()
			cs.MTU, cs.MRU, cs.ActiveLinks = st.MTU, st.MRU, 1
			cs.MRRU = 0
			if st.MP {
				cs.MRRU = st.MRRU
			}
			cs.Auth = st.Method.String()
		})
		c.mu.Lock()
		c.everUp = true
		c.mu.Unlock()
		c.r.eng.Metrics.setup(roleClient)
		c.logf("ppp,info", "connected, %s -> %s, auth %v", st.LocalAddr, st.PeerAddr, st.Method)
	case ppp.EventDown, ppp.EventDead:
		c.tun.down(sess)
		c.set(func(cs *ClientStatus) { cs.Running = false })
	}
}

// describe turns why a session ended into the reason monitor and the log
// show.
func describe(err error) string {
	switch {
	case err == nil:
		return "session ended"
	case errors.Is(err, pppoe.ErrTimeout):
		return "no access concentrator answered"
	}
	return err.Error()
}
