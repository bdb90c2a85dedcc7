package router_test

import (
	"bytes"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"rosh/link"
	"rosh/menus"
	"rosh/router"
	"rosh/shell"
)

// The retry tick reconciles only while an access concentrator's interface
// cannot be opened: it starts once the interface can be, and from then on
// an idle engine does not rebuild its desired state every tick.
func TestRetryOnlyWhatFailed(t *testing.T) {
	eng := router.NewEngine()
	tree := menus.NewTree(menus.All())
	eng.Update(func(c *router.Config) error { tree.Init(c); return nil })
	a, b := link.Pipe()
	defer b.Close()
	var missing atomic.Bool
	missing.Store(true)
	reg := link.NewRegistry(func(string) (link.Link, error) {
		if missing.Load() {
			return nil, errors.New("no such interface")
		}
		return a, nil
	})
	var builds atomic.Int32
	rt := router.NewRuntime(eng, func(c *router.Config) *router.Desired {
		builds.Add(1)
		return tree.Desired(c)
	}, router.RuntimeOptions{Ports: reg, Retry: 10 * time.Millisecond})
	defer rt.Close()
	if err := shell.New(eng, tree, &bytes.Buffer{}).Execute("/interface pppoe-server server add interface=ether3 disabled=no", 1); err != nil {
		t.Fatal(err)
	}
	wait := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	n := builds.Load()
	wait("retries", func() bool { return builds.Load() >= n+3 })
	missing.Store(false)
	wait("the AC to start", func() bool { return reg.Refs("ether3") == 1 })
	time.Sleep(20 * time.Millisecond) // a reconcile in flight ends
	n = builds.Load()
	time.Sleep(100 * time.Millisecond)
	if got := builds.Load() - n; got != 0 {
		t.Errorf("%d reconciles in 10 ticks with nothing to retry", got)
	}
}
