package clock

import (
	"testing"
	"time"
)

var start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestManual(t *testing.T) {
	c := NewManual(start)
	a := c.NewTimer(time.Second)
	b := c.NewTimer(2 * time.Second)
	stopped := c.NewTimer(time.Second)
	later := c.NewTimer(time.Hour)
	if !stopped.Stop() || stopped.Stop() {
		t.Fatal("Stop should report true once")
	}
	if d, ok := c.NextDeadline(); !ok || d != time.Second {
		t.Fatalf("NextDeadline = %v, %v", d, ok)
	}
	c.Advance(2 * time.Second)
	for name, tm := range map[string]Timer{"a": a, "b": b} {
		select {
		case <-tm.C():
		default:
			t.Errorf("timer %s did not fire", name)
		}
	}
	for name, tm := range map[string]Timer{"stopped": stopped, "later": later} {
		select {
		case <-tm.C():
			t.Errorf("timer %s fired", name)
		default:
		}
	}
	// Reset after firing arms it again; Stop takes back an untaken tick.
	a.Reset(time.Second)
	c.Advance(time.Second)
	if a.Stop() {
		t.Error("Stop of a fired timer reported active")
	}
	select {
	case <-a.C():
		t.Error("tick after Stop")
	default:
	}
	if now := c.Now(); !now.Equal(start.Add(3 * time.Second)) {
		t.Errorf("Now = %v", now)
	}
	if c.Timers() != 1 {
		t.Errorf("Timers = %d", c.Timers())
	}
}

// Each timer that falls due on the way gets the time it fell due at, not
// the time the clock was set to.
func TestManualTicksAtDeadline(t *testing.T) {
	c := NewManual(start)
	second := c.NewTimer(2 * time.Second)
	first := c.NewTimer(time.Second)
	tie := c.NewTimer(2 * time.Second)
	c.Set(start.Add(5 * time.Second))
	for name, tc := range map[string]struct {
		tm   Timer
		want time.Time
	}{
		"first":  {first, start.Add(time.Second)},
		"second": {second, start.Add(2 * time.Second)},
		"tie":    {tie, start.Add(2 * time.Second)},
	} {
		select {
		case got := <-tc.tm.C():
			if !got.Equal(tc.want) {
				t.Errorf("timer %s ticked at %v, want %v", name, got, tc.want)
			}
		default:
			t.Errorf("timer %s did not fire", name)
		}
	}
	if now := c.Now(); !now.Equal(start.Add(5 * time.Second)) {
		t.Errorf("Now = %v", now)
	}
}

func TestManualSetNeverBackwards(t *testing.T) {
	c := NewManual(start)
	c.Set(start.Add(-time.Hour))
	c.Advance(-time.Minute)
	if now := c.Now(); !now.Equal(start) {
		t.Errorf("Now = %v, want %v", now, start)
	}
}

func TestManualResetNotPositive(t *testing.T) {
	c := NewManual(start)
	tm := c.NewTimer(0)
	select {
	case now := <-tm.C():
		if !now.Equal(start) {
			t.Errorf("tick at %v", now)
		}
	default:
		t.Error("a timer of 0 did not fire at once")
	}
	if tm.Reset(-time.Second) {
		t.Error("Reset of a fired timer reported active")
	}
	select {
	case <-tm.C():
	default:
		t.Error("a timer reset to a negative duration did not fire at once")
	}
	if n := c.Timers(); n != 0 {
		t.Errorf("Timers = %d", n)
	}
	if _, ok := c.NextDeadline(); ok {
		t.Error("NextDeadline with nothing armed")
	}
}

func TestManualWaitTimers(t *testing.T) {
	c := NewManual(start)
	if c.WaitTimers(1, 10*time.Millisecond) {
		t.Fatal("WaitTimers reported a timer that was never armed")
	}
	go func() {
		time.Sleep(10 * time.Millisecond)
		c.NewTimer(time.Second)
	}()
	if !c.WaitTimers(1, 5*time.Second) {
		t.Fatal("WaitTimers did not see the timer armed")
	}
}

func TestOrReal(t *testing.T) {
	if _, ok := OrReal(nil).(Real); !ok {
		t.Error("OrReal(nil) is not Real")
	}
	m := NewManual(start)
	if OrReal(m) != Clock(m) {
		t.Error("OrReal changed a clock")
	}
}
