package router

import (
	"errors"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"rosh/metrics"
	"rosh/ppp"
	"rosh/pppoe"
)

// Metrics are the engine's event counters for the Prometheus endpoint:
// what happened since start (setups, failures, authentications, keepalive
// timeouts, RADIUS latency). What is true now — sessions, pools, traffic,
// the discovery engines' own counters — is read at scrape time by
// Runtime.WriteMetrics.
type Metrics struct {
	mu        sync.Mutex
	setups    map[string]uint64    // role
	failures  map[[2]string]uint64 // role, reason
	auth      map[[3]string]uint64 // role, method, result
	keepalive map[string]uint64    // role
	radius    map[string]*metrics.Histogram
	// discovery counters of engines that are gone (a client's dial, an
	// access concentrator that was stopped), by role, code, direction.
	discovery map[[3]string]uint64
	dropped   map[[2]string]uint64 // role, reason
}

// NewMetrics returns empty counters.
func NewMetrics() *Metrics {
	return &Metrics{
		setups: map[string]uint64{}, failures: map[[2]string]uint64{}, auth: map[[3]string]uint64{},
		keepalive: map[string]uint64{}, radius: map[string]*metrics.Histogram{},
		discovery: map[[3]string]uint64{}, dropped: map[[2]string]uint64{},
	}
}

// Session roles, as the metrics label them.
const (
	roleServer = "server"
	roleClient = "client"
)

// RADIUSBuckets are the latency histogram's bounds in seconds: a server
// on the LAN answers in a millisecond, one across a WAN in tens, a
// retransmission after a lost packet in seconds.
var RADIUSBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// ObserveRADIUS records how long a RADIUS request (kind: access,
// accounting, …) took to be answered, retransmissions included.
func (m *Metrics) ObserveRADIUS(kind string, d time.Duration) {
	m.mu.Lock()
	h, ok := m.radius[kind]
	if !ok {
		h = metrics.NewHistogram(RADIUSBuckets...)
		m.radius[kind] = h
	}
	m.mu.Unlock()
	h.Observe(d.Seconds())
}

func (m *Metrics) setup(role string) {
	m.mu.Lock()
	m.setups[role]++
	m.mu.Unlock()
}

// ended counts a session's end: a failure by reason when it never came
// up, a keepalive timeout whenever that ended it.
func (m *Metrics) ended(role string, wasUp bool, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if errors.Is(err, ppp.ErrKeepalive) {
		m.keepalive[role]++
	}
	if !wasUp {
		m.failures[[2]string{role, FailureReason(err)}]++
	}
}

func (m *Metrics) authResult(role string, method ppp.Method, ok bool) {
	res := "failure"
	if ok {
		res = "success"
	}
	m.mu.Lock()
	m.auth[[3]string{role, method.String(), res}]++
	m.mu.Unlock()
}

// FailureReason is the metrics label of why a session failed to come up.
func FailureReason(err error) string {
	for _, r := range []struct {
		err  error
		name string
	}{
		{ppp.ErrAuthFailed, "auth-failed"}, {ppp.ErrNoCommonAuth, "no-common-auth"},
		{ppp.ErrAuthTimeout, "auth-timeout"}, {ppp.ErrNegotiation, "negotiation"},
		{ppp.ErrPeerTerminated, "peer-terminated"}, {ppp.ErrKeepalive, "keepalive-timeout"},
		{ppp.ErrLoopback, "loopback"}, {ppp.ErrNoAddress, "no-address"},
		{ppp.ErrLowerDown, "lower-layer-down"}, {ppp.ErrClosed, "closed"},
		{pppoe.ErrTimeout, "discovery-timeout"},
	} {
		if errors.Is(err, r.err) {
			return r.name
		}
	}
	if err == nil {
		return "closed"
	}
	return "other"
}

// retireAC adds a stopped access concentrator's counters to the totals.
func (m *Metrics) retireAC(st pppoe.ACStats) { m.retire(acDiscovery(st), acDrops(st)) }

// retireClient adds a finished dial's counters to the totals.
func (m *Metrics) retireClient(st pppoe.ClientStats) {
	m.retire(clientDiscovery(st), clientDrops(st))
}

// retire adds a finished engine's discovery frames and drops to the
// totals.
func (m *Metrics) retire(discovery map[[3]string]uint64, dropped map[[2]string]uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, v := range discovery {
		m.discovery[k] += v
	}
	for k, v := range dropped {
		m.dropped[k] += v
	}
}

func acDiscovery(st pppoe.ACStats) map[[3]string]uint64 {
	return map[[3]string]uint64{
		{roleServer, "PADI", "received"}: st.PADIReceived, {roleServer, "PADO", "sent"}: st.PADOSent,
		{roleServer, "PADR", "received"}: st.PADRReceived, {roleServer, "PADS", "sent"}: st.PADSSent,
		{roleServer, "PADT", "received"}: st.PADTReceived, {roleServer, "PADT", "sent"}: st.PADTSent,
	}
}

func acDrops(st pppoe.ACStats) map[[2]string]uint64 {
	return map[[2]string]uint64{
		{roleServer, "bad-cookie"}: st.BadCookie, {roleServer, "unknown-service"}: st.UnknownService,
		{roleServer, "malformed"}: st.Malformed, {roleServer, "queue-full"}: st.QueueDrops,
		{roleServer, "pado-delay-queue-full"}: st.DelayDrops, {roleServer, "spoofed-padt"}: st.PADTIgnored,
		{roleServer, "unknown-session"}: st.UnknownSession, {roleServer, "wrong-mac"}: st.WrongMAC,
		{roleServer, "max-sessions"}: st.FullService,
	}
}

func clientDiscovery(st pppoe.ClientStats) map[[3]string]uint64 {
	return map[[3]string]uint64{
		{roleClient, "PADI", "sent"}: st.PADISent, {roleClient, "PADO", "received"}: st.PADOReceived,
		{roleClient, "PADR", "sent"}: st.PADRSent, {roleClient, "PADS", "received"}: st.PADSReceived,
	}
}

func clientDrops(st pppoe.ClientStats) map[[2]string]uint64 {
	return map[[2]string]uint64{
		{roleClient, "offer-ignored"}: st.PADOIgnored, {roleClient, "wrong-host-uniq"}: st.WrongHostUniq,
		{roleClient, "error-tag"}: st.Errors,
	}
}

// WriteMetrics writes every metric in the Prometheus text format.
func (r *Runtime) WriteMetrics(out io.Writer) error {
	m := r.eng.Metrics
	w := metrics.NewWriter(out)

	// Sessions now, by role and state.
	states := map[[2]string]int{{roleServer, "up"}: 0, {roleServer, "negotiating"}: 0,
		{roleClient, "up"}: 0, {roleClient, "dialing"}: 0, {roleClient, "authenticating"}: 0, {roleClient, "down"}: 0}
	r.mu.Lock()
	servers := make([]*serverSession, 0, len(r.sessions))
	for s := range r.sessions {
		servers = append(servers, s)
	}
	clients := make([]*clientRun, 0, len(r.clients))
	for _, c := range r.clients {
		clients = append(clients, c)
	}
	acs := make([]*acRun, 0, len(r.acs))
	for _, a := range r.acs {
		acs = append(acs, a)
	}
	r.mu.Unlock()
	for _, s := range servers {
		s.mu.Lock()
		up := s.up
		s.mu.Unlock()
		if up {
			states[[2]string{roleServer, "up"}]++
		} else {
			states[[2]string{roleServer, "negotiating"}]++
		}
	}
	var clientIfs []ifCounters
	for _, c := range clients {
		st := c.status()
		state := map[string]string{"connected": "up", "dialing": "dialing", "verifying password...": "authenticating"}[st.Status]
		if state == "" {
			state = "down"
		}
		states[[2]string{roleClient, state}]++
		if st.Running {
			clientIfs = append(clientIfs, ifCounters{c.spec.Name, st.Counters})
		}
	}
	w.Family("rosh_sessions", "gauge", "PPPoE sessions now, by role (server: the access concentrator's subscribers; client: pppoe-client entries) and state.")
	for _, k := range sortedKeys2(states) {
		w.Sample("rosh_sessions", metrics.L("role", k[0], "state", k[1]), float64(states[k]))
	}

	m.mu.Lock()
	setups := map[string]uint64{roleServer: m.setups[roleServer], roleClient: m.setups[roleClient]}
	failures := copyMap(m.failures)
	auth := copyMap(m.auth)
	keepalive := map[string]uint64{roleServer: m.keepalive[roleServer], roleClient: m.keepalive[roleClient]}
	discovery := copyMap(m.discovery)
	dropped := copyMap(m.dropped)
	radius := map[string]*metrics.Histogram{}
	for k, h := range m.radius {
		radius[k] = h
	}
	m.mu.Unlock()

	w.Family("rosh_session_setups_total", "counter", "PPP sessions that came up (IPCP opened), by role.")
	for _, role := range []string{roleClient, roleServer} {
		w.Sample("rosh_session_setups_total", metrics.L("role", role), float64(setups[role]))
	}
	w.Family("rosh_session_failures_total", "counter", "PPP sessions that ended before coming up, by role and reason.")
	for _, k := range sortedKeys2(failures) {
		w.Sample("rosh_session_failures_total", metrics.L("role", k[0], "reason", k[1]), float64(failures[k]))
	}
	w.Family("rosh_auth_total", "counter", "PPP authentications, by role, method (pap, chap, mschap1, mschap2) and result.")
	for _, k := range sortedKeys3(auth) {
		w.Sample("rosh_auth_total", metrics.L("role", k[0], "method", k[1], "result", k[2]), float64(auth[k]))
	}
	w.Family("rosh_keepalive_timeouts_total", "counter", "Sessions ended because the peer stopped answering LCP echoes, by role.")
	for _, role := range []string{roleClient, roleServer} {
		w.Sample("rosh_keepalive_timeouts_total", metrics.L("role", role), float64(keepalive[role]))
	}

	// Discovery frames: the totals of engines gone plus the live ones.
	for _, a := range acs {
		st := a.ac.Stats()
		for k, v := range acDiscovery(st) {
			discovery[k] += v
		}
		for k, v := range acDrops(st) {
			dropped[k] += v
		}
	}
	if len(discovery) == 0 {
		for k := range acDiscovery(pppoe.ACStats{}) {
			discovery[k] = 0
		}
	}
	w.Family("rosh_pppoe_discovery_frames_total", "counter", "PPPoE discovery frames (RFC 2516 §5) by role, code and direction.")
	for _, k := range sortedKeys3(discovery) {
		w.Sample("rosh_pppoe_discovery_frames_total", metrics.L("role", k[0], "code", k[1], "direction", k[2]), float64(discovery[k]))
	}
	w.Family("rosh_pppoe_dropped_frames_total", "counter", "PPPoE frames dropped or ignored, by role and reason.")
	for _, k := range sortedKeys2(dropped) {
		w.Sample("rosh_pppoe_dropped_frames_total", metrics.L("role", k[0], "reason", k[1]), float64(dropped[k]))
	}

	// Traffic per interface: the host's and the PPPoE sessions'.
	var ifs []ifCounters
	for _, h := range r.eng.HostInterfaces() {
		ifs = append(ifs, ifCounters{h.Name, Counters{RxBytes: h.Stats.RxBytes, TxBytes: h.Stats.TxBytes,
			RxPackets: h.Stats.RxPackets, TxPackets: h.Stats.TxPackets, RxDrops: h.Stats.RxDropped, TxDrops: h.Stats.TxDropped}})
	}
	ifs = append(ifs, clientIfs...)
	for _, s := range r.ActiveSessions() {
		ifs = append(ifs, ifCounters{s.Interface, s.Counters})
	}
	sort.SliceStable(ifs, func(i, j int) bool { return ifs[i].name < ifs[j].name })
	for _, c := range []struct {
		name, help string
		get        func(Counters) uint64
	}{
		{"rosh_interface_receive_bytes_total", "Bytes received, by interface.", func(c Counters) uint64 { return c.RxBytes }},
		{"rosh_interface_transmit_bytes_total", "Bytes sent, by interface.", func(c Counters) uint64 { return c.TxBytes }},
		{"rosh_interface_receive_packets_total", "Packets received, by interface.", func(c Counters) uint64 { return c.RxPackets }},
		{"rosh_interface_transmit_packets_total", "Packets sent, by interface.", func(c Counters) uint64 { return c.TxPackets }},
		{"rosh_interface_receive_drops_total", "Received packets dropped, by interface.", func(c Counters) uint64 { return c.RxDrops }},
		{"rosh_interface_transmit_drops_total", "Packets dropped on the way out, by interface.", func(c Counters) uint64 { return c.TxDrops }},
	} {
		w.Family(c.name, "counter", c.help)
		seen := map[string]bool{}
		for _, i := range ifs {
			if seen[i.name] { // one series per name, as the format requires
				continue
			}
			seen[i.name] = true
			w.Sample(c.name, metrics.L("interface", i.name), float64(c.get(i.c)))
		}
	}

	usage := r.pools.Usage()
	w.Family("rosh_pool_addresses", "gauge", "Addresses of each IP pool.")
	for _, u := range usage {
		w.Sample("rosh_pool_addresses", metrics.L("pool", u.Pool), float64(u.Size))
	}
	w.Family("rosh_pool_used_addresses", "gauge", "Addresses of each IP pool handed out now.")
	for _, u := range usage {
		w.Sample("rosh_pool_used_addresses", metrics.L("pool", u.Pool), float64(u.Used))
	}

	w.Family("rosh_radius_request_duration_seconds", "histogram", "Time from a RADIUS request's first transmission to its answer, by request kind.")
	kinds := make([]string, 0, len(radius))
	for k := range radius {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		radius[k].Write(w, "rosh_radius_request_duration_seconds", metrics.L("kind", k))
	}
	return w.Flush()
}

type ifCounters struct {
	name string
	c    Counters
}

func copyMap[K comparable](in map[K]uint64) map[K]uint64 {
	out := make(map[K]uint64, len(in))
	for k, v := range in {
		out[k] = v
	}
	return out
}

func sortedKeys2[V any](m map[[2]string]V) [][2]string {
	out := make([][2]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return strings.Join(out[i][:], "\x00") < strings.Join(out[j][:], "\x00") })
	return out
}

func sortedKeys3(m map[[3]string]uint64) [][3]string {
	out := make([][3]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return strings.Join(out[i][:], "\x00") < strings.Join(out[j][:], "\x00") })
	return out
}
