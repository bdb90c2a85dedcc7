// Package emulate brings up many PPPoE subscribers over one interface with
// rosh's own client engine — PPPoE discovery (RFC 2516), then a PPP client
// session each: LCP, PAP/CHAP/MS-CHAPv2, IPCP and keepalive — to load an
// access concentrator and measure it: how many sessions come up, how fast,
// why the others failed, and how fast they all go down again.
//
// Every subscriber is a host of its own to the access concentrator: its own
// MAC address (ClientConfig.LocalMAC), Host-Uniq and user name. They share
// the one port reader, which hands each frame to its host by destination
// MAC (link.Port.SubscribeDst), and they get no TUN: the emulator moves no
// data, only the control plane. The interface must be opened promiscuous
// (link.PcapOptions) so frames for the emulated MACs come up.
//
// Each subscriber is one goroutine, the owner of its discovery and then of
// its PPP session, as in the router's pppoe-client.
package emulate

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"rosh/link"
	"rosh/ppp"
	"rosh/pppoe"
)

// Defaults of Config.
const (
	DefaultSetupTimeout    = 30 * time.Second
	DefaultTeardownTimeout = 30 * time.Second
)

// Config says what to emulate.
type Config struct {
	// Sessions is how many subscribers to bring up.
	Sessions int
	// Rate is how many subscribers start dialing per second; 0 starts
	// them all at once (an outage recovery at its worst).
	Rate float64
	// MaxPending caps the subscribers in setup at once (dialing or
	// negotiating PPP): a new one starts only when another has come up
	// or failed. With it, the emulator offers what the access
	// concentrator takes, and measures its setup rate without driving
	// it into the retransmission storm of an overload. 0: no cap.
	MaxPending int
	// UserPattern makes the user names: a fmt pattern with one %d, the
	// subscriber's index ("user%d"); without %d every subscriber uses
	// the same name. Password likewise: "secret" for all, or "pw%d".
	UserPattern string
	Password    string
	// First is the index of the first subscriber (default 1: user1 ...).
	First int
	// Allow is the methods the subscribers agree to authenticate with
	// (RouterOS pppoe-client allow=); 0 allows all four.
	Allow ppp.MethodSet
	// ServiceName and ACName restrict the offers taken, as on a
	// pppoe-client.
	ServiceName, ACName string
	// BaseMAC is the first subscriber's MAC; the others count up from
	// it. Zero derives a locally administered base from the port's MAC:
	// 02:xx:xx:xx:00:00 with its last three octets.
	BaseMAC pppoe.MAC
	// Keepalive is each subscriber's LCP echo interval (RouterOS
	// keepalive-timeout); 0 only answers the access concentrator's.
	Keepalive time.Duration
	// SetupTimeout bounds each subscriber's setup, first PADI to IPCP
	// up; past it the attempt counts as failed (default 30 s).
	SetupTimeout time.Duration
	// TeardownTimeout bounds the graceful teardown of Stop; what is left
	// then is cut short, one Terminate-Request and a PADT each (default
	// 30 s).
	TeardownTimeout time.Duration
	// Hold is how long Run keeps the sessions up once every subscriber
	// is up or failed, before it tears them down; negative holds until
	// Run's context ends.
	Hold time.Duration
	// Redial is how long a subscriber waits to dial again after its
	// setup failed or its session ended, as a CPE does, until Stop; 0
	// dials once. With it Failed and Lost count attempts, Established
	// every session that came up, and Up is the figure to watch.
	Redial time.Duration
}

// Stats is a snapshot of an emulation.
type Stats struct {
	Elapsed time.Duration // since Start
	Started int           // subscribers that began dialing
	Up      int           // sessions up now (IPCP opened)
	// Established counts the sessions that came up, Failed the
	// subscribers that did not, Lost the established sessions that ended
	// before the emulator closed them.
	Established, Failed, Lost int
	// Ended counts the subscribers whose goroutine is over, whatever the
	// outcome; Ended == Sessions once everything is down.
	Ended int
	// HungUp counts the sessions Hangup closed.
	HungUp int
}

// Emulator is a running emulation; Start makes one.
type Emulator struct {
	port *link.Port
	cfg  Config
	base uint64 // BaseMAC as a number

	start    time.Time
	ctx      context.Context // cancelled: every session is cut short
	abort    context.CancelFunc
	dialCtx  context.Context // cancelled by Stop: no new session comes up
	stopDial context.CancelFunc
	wg       sync.WaitGroup // one per subscriber, and the launcher
	pending  chan struct{}  // a token per subscriber in setup (MaxPending)

	started, up, established, failed, lost, ended, hungUp atomic.Int64
	padiSent, padrSent                                    atomic.Int64

	mu       sync.Mutex
	stopping bool
	live     map[*ppp.Session]bool // PPP sessions running, for Stop: up?
	hangups  map[*ppp.Session]bool // sessions Hangup is closing
	failures map[string]int        // setup failures by reason
	losses   map[string]int        // established sessions lost, by reason
	examples map[string]string     // the first full error of each reason
	setups   []time.Duration       // first PADI to IPCP up, per session
	dials    []time.Duration       // first PADI to PADS, per session
	firstUp  time.Time
	lastUp   time.Time
	lastEnd  time.Time
	stopAt   time.Time
	padtIn   int // sessions the peer ended with a PADT
}

// Start checks cfg and starts dialing on port, at cfg.Rate, in the
// background. The port should be promiscuous (see the package doc).
func Start(port *link.Port, cfg Config) (*Emulator, error) {
	if cfg.Sessions <= 0 {
		return nil, fmt.Errorf("emulate: %d sessions", cfg.Sessions)
	}
	if cfg.Rate < 0 || cfg.MaxPending < 0 {
		return nil, fmt.Errorf("emulate: negative rate %v or max-pending %d", cfg.Rate, cfg.MaxPending)
	}
	if strings.Count(cfg.UserPattern, "%") > 1 || strings.Count(cfg.Password, "%") > 1 {
		return nil, fmt.Errorf("emulate: user and password patterns take at most one %%d")
	}
	if cfg.First == 0 {
		cfg.First = 1
	}
	if cfg.SetupTimeout <= 0 {
		cfg.SetupTimeout = DefaultSetupTimeout
	}
	if cfg.TeardownTimeout <= 0 {
		cfg.TeardownTimeout = DefaultTeardownTimeout
	}
	base := cfg.BaseMAC
	if base.IsZero() {
		hw, ok := pppoe.MACFrom(port.HardwareAddr())
		if !ok {
			return nil, fmt.Errorf("emulate: %s is not an Ethernet interface", port.Name())
		}
		base = pppoe.MAC{0x02, hw[3], hw[4], hw[5], 0, 0}
	}
	e := &Emulator{
		port:     port,
		cfg:      cfg,
		base:     macNumber(base),
		live:     make(map[*ppp.Session]bool),
		hangups:  make(map[*ppp.Session]bool),
		failures: make(map[string]int),
		losses:   make(map[string]int),
		examples: make(map[string]string),
		setups:   make([]time.Duration, 0, cfg.Sessions),
		dials:    make([]time.Duration, 0, cfg.Sessions),
	}
	// The first octet carries the group and locally-administered bits: the
	// whole range must keep the base's.
	if last := e.mac(cfg.Sessions - 1); last[0] != base[0] || base.IsMulticast() {
		return nil, fmt.Errorf("emulate: %d MACs from %v leave the unicast range of its first octet", cfg.Sessions, base)
	}
	if cfg.MaxPending > 0 {
		e.pending = make(chan struct{}, cfg.MaxPending)
	}
	e.ctx, e.abort = context.WithCancel(context.Background())
	e.dialCtx, e.stopDial = context.WithCancel(e.ctx)
	e.start = time.Now()
	e.wg.Add(1)
	go e.launch()
	return e, nil
}

func macNumber(m pppoe.MAC) uint64 {
	var n uint64
	for _, b := range m {
		n = n<<8 | uint64(b)
	}
	return n
}

// mac is subscriber i's MAC (0-based).
func (e *Emulator) mac(i int) pppoe.MAC {
	n := e.base + uint64(i)
	var m pppoe.MAC
	for j := 5; j >= 0; j-- {
		m[j] = byte(n)
		n >>= 8
	}
	return m
}

// pattern fills a user or password pattern with a subscriber's index.
func pattern(p string, index int) string {
	if !strings.Contains(p, "%") {
		return p
	}
	return fmt.Sprintf(p, index)
}

// launch starts the subscribers on schedule: subscriber i at i/Rate
// seconds, catching up at once when the schedule has slipped, so the
// offered rate does not sag under load.
func (e *Emulator) launch() {
	defer e.wg.Done()
	var timer *time.Timer
	for i := range e.cfg.Sessions {
		if e.cfg.Rate > 0 {
			due := e.start.Add(time.Duration(float64(i) / e.cfg.Rate * float64(time.Second)))
			if d := time.Until(due); d > 0 {
				if timer == nil {
					timer = time.NewTimer(d)
				} else {
					timer.Reset(d)
				}
				select {
				case <-timer.C:
				case <-e.dialCtx.Done():
				}
			}
		}
		if e.pending != nil {
			select {
			case e.pending <- struct{}{}:
			case <-e.dialCtx.Done():
			}
		}
		if e.dialCtx.Err() != nil {
			// Stop came first: the rest never dial, and end at once.
			e.ended.Add(int64(e.cfg.Sessions - i))
			return
		}
		e.started.Add(1)
		e.wg.Add(1)
		go e.subscriber(i)
	}
}

// subscriber is one host: discovery, then its PPP session until it ends;
// then again after Redial, if set. It holds a MaxPending token when it
// starts (launch took it).
func (e *Emulator) subscriber(i int) {
	defer e.wg.Done()
	defer e.ended.Add(1)
	for first := true; ; first = false {
		if !first {
			select {
			case <-time.After(e.cfg.Redial):
			case <-e.dialCtx.Done():
				return
			}
			if e.pending != nil {
				select {
				case e.pending <- struct{}{}:
				case <-e.dialCtx.Done():
					return
				}
			}
		}
		e.attempt(i)
		if e.cfg.Redial <= 0 || e.dialCtx.Err() != nil {
			return
		}
	}
}

// attempt is one dial of subscriber i and its session, to the end.
func (e *Emulator) attempt(i int) {
	began := time.Now()
	index := e.cfg.First + i
	// settled gives back the subscriber's MaxPending token, once: when
	// it comes up, or fails.
	var settled atomic.Bool
	settle := func() {
		if !settled.Swap(true) && e.pending != nil {
			<-e.pending
		}
	}
	defer settle()
	ctx, cancel := context.WithTimeoutCause(e.dialCtx, e.cfg.SetupTimeout, errSetupTimeout)
	defer cancel()
	client, err := pppoe.NewClient(e.port, pppoe.ClientConfig{
		LocalMAC:    e.mac(i),
		ServiceName: e.cfg.ServiceName,
		ACName:      e.cfg.ACName,
	})
	if err != nil {
		e.fail(err)
		return
	}
	ps, err := client.Dial(ctx)
	st := client.Stats()
	e.padiSent.Add(int64(st.PADISent))
	e.padrSent.Add(int64(st.PADRSent))
	if err != nil {
		if c := context.Cause(ctx); c != nil && e.dialCtx.Err() == nil {
			err = c
		}
		e.fail(err)
		return
	}
	e.mu.Lock()
	e.dials = append(e.dials, time.Since(began))
	e.mu.Unlock()
	var isUp atomic.Bool
	var p *ppp.Session
	p, err = ppp.NewOnLink(ppp.Config{
		Role:      ppp.RoleClient,
		User:      pattern(e.cfg.UserPattern, index),
		Password:  pattern(e.cfg.Password, index),
		Allow:     e.cfg.Allow,
		MRU:       ps.MaxMRU(),
		MTU:       ps.MaxMRU(),
		Keepalive: e.cfg.Keepalive,
		OnEvent: func(ev ppp.Event) {
			if ev.Kind == ppp.EventUp && !isUp.Swap(true) {
				e.onUp(p, time.Since(began))
				settle()
			}
		},
	}, ps)
	if err != nil {
		ps.Close()
		e.fail(err)
		return
	}
	if !e.track(p) {
		ps.Close()
		e.fail(errStopped)
		return
	}
	// The setup budget covers PPP too: a session not up in time is cut
	// short. Once up, the subscriber holds until Stop or the peer.
	runCtx, stopRun := context.WithCancelCause(e.ctx)
	defer stopRun(nil)
	guard := context.AfterFunc(ctx, func() {
		if !isUp.Load() {
			stopRun(context.Cause(ctx))
		}
	})
	err = p.Run(runCtx)
	guard()
	ps.Close() // the PADT, unless the peer's ended the session
	hungUp := e.untrack(p)
	if !isUp.Load() {
		if c := context.Cause(runCtx); c != nil {
			err = c
		}
		e.fail(err)
		return
	}
	e.down(ps, err, hungUp)
}

// Reasons of failures that are the emulator's own.
var (
	errSetupTimeout = errors.New("setup timed out")
	errStopped      = errors.New("stopped before the session came up")
)

// reasons are the kinds a failure is counted under, most specific first:
// the first that errors.Is matches names it.
var reasons = []struct {
	err  error
	name string
}{
	{errSetupTimeout, "setup timed out"},
	{errStopped, "stopped before up"},
	{pppoe.ErrTimeout, "no PADO"},
	{pppoe.ErrServiceName, "PADS Service-Name-Error"},
	{pppoe.ErrACSystem, "PADS AC-System-Error"},
	{pppoe.ErrGeneric, "PADS Generic-Error"},
	{pppoe.ErrLinkDown, "link down"},
	{ppp.ErrAuthFailed, "authentication failed"},
	{ppp.ErrNoCommonAuth, "no common authentication method"},
	{ppp.ErrAuthTimeout, "authentication timed out"},
	{ppp.ErrNoAddress, "no IP address"},
	{ppp.ErrNegotiation, "LCP/IPCP negotiation failed"},
	{ppp.ErrPeerTerminated, "LCP terminated by peer"},
	{ppp.ErrKeepalive, "keepalive timeout"},
	{ppp.ErrLoopback, "loopback detected"},
	{ppp.ErrLowerDown, "PADT from peer"},
	{ppp.ErrClosed, "closed"},
}

// Reason names the kind of err, for the failure and loss tables.
func Reason(err error) string {
	if err == nil {
		return "ended"
	}
	for _, r := range reasons {
		if errors.Is(err, r.err) {
			return r.name
		}
	}
	return err.Error()
}

// reason is Reason(err), with the first full text of each reason kept as
// its example: the peer's own words ("terminated by peer: no IP address:
// pool exhausted") name the trouble on the BNG. Called with e.mu held.
func (e *Emulator) reason(err error) string {
	r := Reason(err)
	if _, ok := e.examples[r]; !ok && err != nil && err.Error() != r {
		e.examples[r] = err.Error()
	}
	return r
}

func (e *Emulator) fail(err error) {
	if e.dialCtx.Err() != nil {
		err = errStopped // whatever it looked like, Stop ended it
	}
	e.failed.Add(1)
	e.mu.Lock()
	e.failures[e.reason(err)]++
	e.mu.Unlock()
}

func (e *Emulator) onUp(p *ppp.Session, setup time.Duration) {
	now := time.Now()
	e.up.Add(1)
	e.established.Add(1)
	e.mu.Lock()
	if _, ok := e.live[p]; ok {
		e.live[p] = true
	}
	if e.firstUp.IsZero() {
		e.firstUp = now
	}
	e.lastUp = now
	e.setups = append(e.setups, setup)
	e.mu.Unlock()
}

// down counts the end of an established session: one the emulator closed
// (Stop, Hangup), or one lost to the peer (its PADT, its
// Terminate-Request, keepalive).
func (e *Emulator) down(ps *pppoe.Session, err error, hungUp bool) {
	now := time.Now()
	e.up.Add(-1)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.lastEnd = now
	if errors.Is(ps.Err(), pppoe.ErrTerminated) {
		e.padtIn++
	}
	switch {
	case hungUp:
		e.hungUp.Add(1)
	case !e.stopping:
		e.lost.Add(1)
		e.losses[e.reason(err)]++
	}
}

// Hangup closes n of the sessions that are up, chosen at random, the way a
// subscriber switching its CPE off would (LCP Terminate-Request, then the
// PADT): churn. With Redial they dial again. It returns how many it
// closed, fewer when fewer are up.
func (e *Emulator) Hangup(n int) int {
	e.mu.Lock()
	var pick []*ppp.Session
	for p, up := range e.live { // map order: random enough
		if len(pick) == n {
			break
		}
		if up && !e.hangups[p] {
			pick = append(pick, p)
			e.hangups[p] = true
		}
	}
	e.mu.Unlock()
	for _, p := range pick {
		p.Close("hung up")
	}
	return len(pick)
}

// track registers a PPP session for Stop; false once Stop has begun.
func (e *Emulator) track(p *ppp.Session) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stopping {
		return false
	}
	e.live[p] = false
	return true
}

// untrack forgets a session that ended, and reports whether Hangup closed
// it.
func (e *Emulator) untrack(p *ppp.Session) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.live, p)
	hung := e.hangups[p]
	delete(e.hangups, p)
	return hung
}

// Stats returns a snapshot of the emulation.
func (e *Emulator) Stats() Stats {
	return Stats{
		Elapsed:     time.Since(e.start),
		Started:     int(e.started.Load()),
		Up:          int(e.up.Load()),
		Established: int(e.established.Load()),
		Failed:      int(e.failed.Load()),
		Lost:        int(e.lost.Load()),
		Ended:       int(e.ended.Load()),
		HungUp:      int(e.hungUp.Load()),
	}
}

// Settled reports whether every subscriber has come up or failed.
func (s Stats) Settled(sessions int) bool { return s.Established+s.Failed >= sessions }

// Wait returns when cond holds for the emulation's Stats, polled every
// 10 ms, or ctx's error.
func (e *Emulator) Wait(ctx context.Context, cond func(Stats) bool) error {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for !cond(e.Stats()) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

// Stop tears the emulation down: no new subscriber dials, every PPP session
// is closed gracefully (LCP Terminate-Request, its Ack, then the PADT) and
// Stop waits for all of them, at most TeardownTimeout before cutting the
// rest short. It returns the report of the whole run.
func (e *Emulator) Stop() Report {
	e.mu.Lock()
	if !e.stopping {
		e.stopping = true
		e.stopAt = time.Now()
	}
	live := make([]*ppp.Session, 0, len(e.live))
	for p := range e.live {
		live = append(live, p)
	}
	e.mu.Unlock()
	e.stopDial()
	for _, p := range live {
		p.Close("emulation finished")
	}
	done := make(chan struct{})
	go func() { e.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(e.cfg.TeardownTimeout):
		e.abort()
		<-done
	}
	e.abort()
	return e.Report()
}

// Ended returns when every subscriber's session has ended — Stop, or the
// access concentrator taking them all down — and the time the last one
// did, or ctx's error.
func (e *Emulator) Ended(ctx context.Context) (time.Time, error) {
	if err := e.Wait(ctx, func(s Stats) bool { return s.Ended >= e.cfg.Sessions }); err != nil {
		return time.Time{}, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.lastEnd, nil
}

// Report is what an emulation measured.
type Report struct {
	Sessions    int // subscribers asked for
	Established int // sessions that came up
	Failed      int // subscribers whose session did not
	Failures    map[string]int
	// SetupTime runs from the first PADI to the last IPCP up; SetupRate
	// is Established over it.
	SetupTime time.Duration
	SetupRate float64
	// LastUp is when the last session came up.
	LastUp time.Time
	// SetupP50, SetupP99 and SetupMax are percentiles of the sessions'
	// own setup times, first PADI to IPCP up; DiscoveryP50 and
	// DiscoveryP99 of its first part, first PADI to PADS.
	SetupP50, SetupP99, SetupMax time.Duration
	DiscoveryP50, DiscoveryP99   time.Duration
	// Lost counts established sessions that ended before Stop, by
	// reason in Losses.
	Lost   int
	Losses map[string]int
	// Examples holds, by reason, the full text of the first error of
	// that kind (for reasons whose text says more than their name).
	Examples map[string]string
	// Teardown runs from Stop to the end of the last session, its PADT
	// sent; TeardownRate is the sessions up at Stop over it. Zero when
	// nothing was up at Stop.
	Teardown     time.Duration
	TeardownRate float64
	// PADTReceived counts sessions the peer ended with a PADT.
	PADTReceived int
	// PADISent and PADRSent count the discovery packets sent, first
	// tries and resends: above Sessions, the AC lost or ignored some.
	PADISent, PADRSent int
	// Port is the interface's counters: Drops are frames the kernel or
	// libpcap lost, a sign the emulator could not keep up.
	Port link.PortStats
}

// percentiles returns the median, 99th percentile and maximum of d.
func percentiles(d []time.Duration) (p50, p99, max time.Duration) {
	n := len(d)
	if n == 0 {
		return 0, 0, 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[n/2], s[(n*99)/100], s[n-1]
}

// Report returns what the emulation has measured so far; Stop returns the
// whole run's.
func (e *Emulator) Report() Report {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := Report{
		Sessions:     e.cfg.Sessions,
		Established:  int(e.established.Load()),
		Failed:       int(e.failed.Load()),
		Failures:     maps.Clone(e.failures),
		Lost:         int(e.lost.Load()),
		Losses:       maps.Clone(e.losses),
		Examples:     maps.Clone(e.examples),
		PADTReceived: e.padtIn,
		PADISent:     int(e.padiSent.Load()),
		PADRSent:     int(e.padrSent.Load()),
		Port:         e.port.Stats(),
	}
	if !e.lastUp.IsZero() {
		r.LastUp = e.lastUp
		r.SetupTime = e.lastUp.Sub(e.start)
		r.SetupRate = float64(r.Established) / r.SetupTime.Seconds()
	}
	r.SetupP50, r.SetupP99, r.SetupMax = percentiles(e.setups)
	r.DiscoveryP50, r.DiscoveryP99, _ = percentiles(e.dials)
	if closed := r.Established - r.Lost; closed > 0 && !e.stopAt.IsZero() && e.lastEnd.After(e.stopAt) {
		r.Teardown = e.lastEnd.Sub(e.stopAt)
		r.TeardownRate = float64(closed) / r.Teardown.Seconds()
	}
	return r
}
