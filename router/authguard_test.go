package router

import (
	"fmt"
	"testing"
	"time"
)

// TestAuthGuardSchedule walks the back-off schedule of one host, checks
// another host is untouched, and that the host is forgotten after a
// success and after authForget.
func TestAuthGuardSchedule(t *testing.T) {
	now := time.Unix(1000, 0)
	g := newAuthGuard(func() time.Time { return now })
	want := []time.Duration{0, 0, 1, 2, 4, 8, 16, 32, 60, 60}
	for i, w := range want {
		if wait, _ := g.shutOut("A"); wait != 0 {
			t.Fatalf("before failure %d: shut out for %v", i+1, wait)
		}
		n, _, wait := g.failed("A")
		if n != i+1 || wait != w*time.Second {
			t.Fatalf("failure %d: got (%d, %v), want (%d, %v)", i+1, n, wait, i+1, w*time.Second)
		}
		if wait > 0 {
			now = now.Add(wait - time.Millisecond)
			if left, first := g.shutOut("A"); left != time.Millisecond || !first {
				t.Fatalf("failure %d: %v left (first refusal %v), want 1ms", i+1, left, first)
			}
			if _, first := g.shutOut("A"); first {
				t.Fatalf("failure %d: the second refusal is a first one", i+1)
			}
			if left, _ := g.shutOut("B"); left != 0 {
				t.Fatalf("another host is shut out for %v", left)
			}
			now = now.Add(time.Millisecond)
		}
	}
	g.succeeded("A")
	if n, _, wait := g.failed("A"); n != 1 || wait != 0 {
		t.Fatalf("after a success: failure (%d, %v), want a first one", n, wait)
	}
	g.failed("A")
	g.failed("A")
	now = now.Add(authForget)
	if wait, _ := g.shutOut("A"); wait != 0 {
		t.Fatalf("after authForget: shut out %v", wait)
	}
	if n, _, _ := g.failed("A"); n != 1 {
		t.Fatalf("after authForget: failure %d, want a first one", n)
	}
}

// TestAuthGuardBounded: failures from many more hosts than authMaxHosts
// keep authMaxHosts of them, and the newest host is among them.
func TestAuthGuardBounded(t *testing.T) {
	now := time.Unix(1000, 0)
	g := newAuthGuard(func() time.Time { return now })
	for i := range 3 * authMaxHosts {
		now = now.Add(time.Millisecond)
		g.failed(fmt.Sprintf("02:00:00:%02x:%02x:%02x", i>>16&0xff, i>>8&0xff, i&0xff))
	}
	if n := g.len(); n != authMaxHosts {
		t.Errorf("%d hosts remembered, want %d", n, authMaxHosts)
	}
	if n, _, _ := g.failed(fmt.Sprintf("02:00:00:%02x:%02x:%02x", 0, (3*authMaxHosts-1)>>8&0xff, (3*authMaxHosts-1)&0xff)); n != 2 {
		t.Errorf("the newest host has %d failures, want 2", n)
	}
}
