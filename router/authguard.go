package router

import (
	"sync"
	"time"
)

// The per-host login back-off of the access concentrator. A host (client
// MAC) may fail authentication authFreeFailures times in a row; after that
// each failure shuts it out for twice as long as the previous one, from
// authBackoffBase up to authBackoffMax, and a login attempted while shut
// out is refused without its password being checked, so guessing goes no
// faster than the schedule. A success, or authForget without failures,
// forgets the host. The schedule, failure by failure:
//
//	failures  1  2  3   4   5   6    7    8    9…
//	shut out  -  -  1s  2s  4s  8s  16s  32s  60s
//
// Other hosts are not slowed at all: the state is per MAC, and a refusal
// costs the refused session alone.
const (
	authFreeFailures = 2
	authBackoffBase  = time.Second
	authBackoffMax   = time.Minute
	authForget       = 10 * time.Minute
	// authMaxHosts bounds the hosts remembered (about 100 bytes each):
	// past it the host that failed longest ago is forgotten first, so a
	// crowd of MACs costs at most this much memory.
	authMaxHosts = 4096
)

type authHost struct {
	failures int
	last     time.Time // of the last failure
	until    time.Time // shut out until then
	refused  int       // logins refused since the last failure
}

// authGuard is the back-off state of every host, shared by all the access
// concentrators of a router. It is safe for concurrent use.
type authGuard struct {
	mu    sync.Mutex
	now   func() time.Time
	hosts map[string]*authHost
	swept time.Time
}

func newAuthGuard(now func() time.Time) *authGuard {
	return &authGuard{now: now, hosts: map[string]*authHost{}}
}

// shutOut reports how long mac must still wait before a login is
// considered (zero lets it try), and, when it must, whether this is the
// first login refused since its last failure: only that one is worth a
// log line, so a host hammering away cannot flood the log.
func (g *authGuard) shutOut(mac string) (wait time.Duration, first bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	h, ok := g.hosts[mac]
	if !ok {
		return 0, false
	}
	now := g.now()
	if now.Sub(h.last) >= authForget {
		delete(g.hosts, mac)
		return 0, false
	}
	if wait := h.until.Sub(now); wait > 0 {
		h.refused++
		return wait, h.refused == 1
	}
	return 0, false
}

// failed records a failed login of mac and returns its failures so far,
// the logins refused since the previous failure, and how long it is now
// shut out (zero for the first free failures).
func (g *authGuard) failed(mac string) (failures, refused int, wait time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	g.sweep(now)
	h, ok := g.hosts[mac]
	if !ok {
		if len(g.hosts) >= authMaxHosts {
			g.evictOldest()
		}
		h = &authHost{}
		g.hosts[mac] = h
	}
	h.failures++
	h.last = now
	refused, h.refused = h.refused, 0
	if n := h.failures - authFreeFailures; n > 0 {
		wait = authBackoffMax
		if n <= 7 { // 2^6 s is past the cap
			wait = min(authBackoffBase<<(n-1), authBackoffMax)
		}
		h.until = now.Add(wait)
	}
	return h.failures, refused, wait
}

// succeeded forgets mac: its next failure is a first one again.
func (g *authGuard) succeeded(mac string) {
	g.mu.Lock()
	delete(g.hosts, mac)
	g.mu.Unlock()
}

// sweep forgets, at most once per authForget/10, the hosts whose last
// failure is authForget old.
func (g *authGuard) sweep(now time.Time) {
	if now.Sub(g.swept) < authForget/10 {
		return
	}
	g.swept = now
	for mac, h := range g.hosts {
		if now.Sub(h.last) >= authForget {
			delete(g.hosts, mac)
		}
	}
}

func (g *authGuard) evictOldest() {
	var oldest string
	var at time.Time
	for mac, h := range g.hosts {
		if oldest == "" || h.last.Before(at) {
			oldest, at = mac, h.last
		}
	}
	delete(g.hosts, oldest)
}

// len is how many hosts are remembered.
func (g *authGuard) len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.hosts)
}
