package shell

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"

	"rosh/menus"
	"rosh/metrics"
	"rosh/router"
)

// System is one running router: the engine with its configuration, the
// menus, the runtime that dials and answers sessions, and the saver that
// persists every change. Every console — the terminal, a console attached
// to `rosh serve` over its socket, a REST request — is a Shell made by
// NewConsole on the one System, so they all go through the same command
// path and the engine's lock orders their changes.
type System struct {
	Eng   *router.Engine
	Tree  *menus.Tree
	rt    *router.Runtime
	saver *router.Saver
	// services are /ip service's listeners: REST API and metrics.
	services *Services
	dir      string
	// persist is false when the configuration file did not load: the
	// file is left as it was and changes are not saved.
	persist bool
}

// SystemOptions say how a System starts.
type SystemOptions struct {
	// ConfigPath is loaded at start and rewritten after every change.
	ConfigPath string
	// Identity, when IdentitySet, overrides /system identity.
	Identity    string
	IdentitySet bool
	// Runtime tunes the running part (namespaces, ports …).
	Runtime router.RuntimeOptions
}

// OpenSystem loads the configuration and starts everything it enables.
// A configuration file that does not load is returned as loadErr with a
// working System on an empty configuration that does not save (the file
// is left untouched); the caller decides whether to go on. err is fatal.
func OpenSystem(opt SystemOptions) (sys *System, loadErr, err error) {
	eng := router.NewEngine()
	tree := menus.NewTree(menus.All())
	eng.Update(func(c *router.Config) error { tree.Init(c); return nil })
	sys = &System{Eng: eng, Tree: tree, dir: filepath.Dir(opt.ConfigPath), persist: true}
	// The disk logging actions write next to the configuration.
	eng.Log.SetDir(sys.dir)
	loader := sys.NewConsole(io.Discard)
	if loadErr = loader.LoadConfig(opt.ConfigPath); loadErr != nil {
		sys.persist = false
	}
	if opt.IdentitySet {
		if err := loader.Execute("/system identity set name="+menus.ExportValue(opt.Identity), 1); err != nil {
			return nil, loadErr, fmt.Errorf("--identity: %v", err)
		}
	}
	sys.rt = router.NewRuntime(eng, tree.Desired, opt.Runtime)
	if sys.persist {
		saver := sys.NewConsole(io.Discard)
		sys.saver = router.NewSaver(opt.ConfigPath, func() []byte {
			return []byte(saver.ExportText("/", menus.ExportOptions{ShowSensitive: true}))
		})
		eng.OnChange(sys.saver.Changed)
	}
	// /ip service: the REST API and the Prometheus endpoint, when enabled.
	rt := sys.rt
	sys.services = StartServices(sys.NewConsole(io.Discard), http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", metrics.ContentType)
		rt.WriteMetrics(w)
	}))
	return sys, loadErr, nil
}

// NewConsole returns a console at the root menu writing to w. Consoles are
// independent (menu, print numbering, Ctrl-C); they share the engine.
func (sys *System) NewConsole(w io.Writer) *Shell {
	sh := New(sys.Eng, sys.Tree, w)
	sh.SetFileDir(sys.dir)
	return sh
}

// Close ends every session (LCP Terminate, PADT, TUN devices and routes
// removed) and writes the configuration a last time.
func (sys *System) Close() error {
	if sys.services != nil {
		sys.services.Close() // no change may come after the last save
	}
	if sys.rt != nil {
		sys.rt.Close()
	}
	sys.Eng.Log.Close()
	if sys.saver != nil {
		return sys.saver.Close()
	}
	return nil
}

// EnvRuntimeOptions are the runtime options the environment asks for:
// ROSH_NO_SERVER_TUN=1, for performance work like ROSH_CPUPROFILE, runs
// an access concentrator without the data plane.
func EnvRuntimeOptions() router.RuntimeOptions {
	return router.RuntimeOptions{NoServerTUN: os.Getenv("ROSH_NO_SERVER_TUN") != ""}
}

// ReopenLog reopens the log's files (SIGHUP to `rosh serve`, after
// logrotate moved them). A log without files has nothing to reopen.
func (sys *System) ReopenLog() error {
	if r, ok := any(sys.Eng.Log).(interface{ Reopen() error }); ok {
		return r.Reopen()
	}
	return nil
}
