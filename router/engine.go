package router

import (
	"errors"
	"sync"
)

// Engine owns the configuration and everything running from it. Every
// change goes through Update, under one lock, so the console, a script and
// (later) the REST API see one serial history of changes.
type Engine struct {
	mu  sync.Mutex
	cfg *Config
	Log *Log
	// Metrics count what the runtime did, for the Prometheus endpoint.
	Metrics  *Metrics
	onChange []func()
	hostIfs  func() []HostInterface
	live     Live
}

// ErrNotRunning is returned by live queries of an engine with no protocol
// layers attached.
var ErrNotRunning = errors.New("failure: pppoe engine not running")

// NewEngine returns an engine with an empty configuration.
func NewEngine() *Engine {
	return &Engine{cfg: NewConfig(), Log: NewLog(1000), Metrics: NewMetrics(), hostIfs: ListHostInterfaces, live: Idle{}}
}

// View runs fn with the configuration for reading.
func (e *Engine) View(fn func(c *Config)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	fn(e.cfg)
}

// Update runs fn with the configuration for writing. fn must validate
// everything before it mutates anything: when it returns an error the
// configuration must be untouched ("bad input never changes state").
// After a successful change the change hooks run (persistence, and the
// reconciliation of running clients and servers).
func (e *Engine) Update(fn func(c *Config) error) error {
	e.mu.Lock()
	err := fn(e.cfg)
	hooks := e.onChange
	e.mu.Unlock()
	if err != nil {
		return err
	}
	for _, h := range hooks {
		h()
	}
	return nil
}

// OnChange registers a hook called after every successful Update.
func (e *Engine) OnChange(fn func()) {
	e.mu.Lock()
	e.onChange = append(e.onChange, fn)
	e.mu.Unlock()
}

// HostInterfaces lists the host's network interfaces.
func (e *Engine) HostInterfaces() []HostInterface { return e.hostIfs() }

// SetHostInterfaces replaces the interface lister (tests use a fixed list).
func (e *Engine) SetHostInterfaces(fn func() []HostInterface) { e.hostIfs = fn }

// Live returns the running part of the engine.
func (e *Engine) Live() Live { return e.live }

// SetLive attaches the running part of the engine.
func (e *Engine) SetLive(l Live) { e.live = l }
