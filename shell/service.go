package shell

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"rosh/menus"
	"rosh/router"
)

// Services runs the listeners of /ip service: www (the REST API under
// /rest) and metrics (Prometheus text under /metrics). It follows the
// configuration: a service enabled, moved to another port or restricted
// to other addresses is started, restarted or stopped after the change
// that did it, whoever made it (a console, a script, the REST API itself).
type Services struct {
	sh      *Shell
	rest    *restAPI
	metrics http.Handler
	mu      sync.Mutex
	running map[string]*serviceRun
	closed  bool
}

type serviceRun struct {
	spec menus.ServiceSpec
	ln   net.Listener
	srv  *http.Server
}

// StartServices starts the services the configuration enables and keeps
// them in step with it. metrics serves the metrics service's /metrics.
func StartServices(sh *Shell, metrics http.Handler) *Services {
	sv := &Services{sh: sh.Template(), metrics: metrics, running: map[string]*serviceRun{}}
	sv.rest = &restAPI{sh: sv.sh, limiter: newLoginLimiter()}
	sh.eng.OnChange(sv.reconcile)
	sv.reconcile()
	return sv
}

func (sv *Services) handler(name string) http.Handler {
	switch name {
	case "www":
		return sv.rest
	case "metrics":
		mux := http.NewServeMux()
		mux.Handle("/metrics", sv.metrics)
		return mux
	}
	return nil
}

// reconcile starts, restarts and stops listeners to match /ip service.
func (sv *Services) reconcile() {
	var specs map[string]menus.ServiceSpec
	sv.sh.eng.View(func(c *router.Config) { specs = menus.Services(sv.sh.tree, c) })
	sv.mu.Lock()
	defer sv.mu.Unlock()
	if sv.closed {
		return
	}
	for name, run := range sv.running {
		if s, ok := specs[name]; !ok || s != run.spec {
			run.stop()
			delete(sv.running, name)
		}
	}
	for name, s := range specs {
		if _, ok := sv.running[name]; ok || s.Disabled {
			continue
		}
		h := sv.handler(name)
		if h == nil {
			continue
		}
		ln, err := net.Listen("tcp", net.JoinHostPort("", strconv.Itoa(s.Port)))
		if err != nil {
			sv.sh.eng.Log.Add("system,error", "service %s: %v", name, err)
			continue
		}
		allow := s.Address
		run := &serviceRun{spec: s, ln: allowListener{Listener: ln, allow: func(a netip.Addr) bool { return menus.AddressAllowed(allow, a) }},
			srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute}}
		sv.running[name] = run
		go run.srv.Serve(run.ln)
		sv.sh.eng.Log.Add("system,info", "service %s listening on port %d", name, s.Port)
	}
}

// stop closes the listener at once (its port is free for a new one) and
// lets requests under way finish: the request that moved the service
// still gets its answer.
func (r *serviceRun) stop() {
	r.ln.Close()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		r.srv.Shutdown(ctx)
	}()
}

// Close stops every service.
func (sv *Services) Close() {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	sv.closed = true
	for name, run := range sv.running {
		run.ln.Close()
		run.srv.Close()
		delete(sv.running, name)
	}
}
