package ppptest

import (
	"bytes"
	"testing"
	"time"

	"rosh/ppp"
)

func TestManualClock(t *testing.T) {
	c := NewManualClock()
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
	for name, tm := range map[string]ppp.Timer{"a": a, "b": b} {
		select {
		case <-tm.C():
		default:
			t.Errorf("timer %s did not fire", name)
		}
	}
	for name, tm := range map[string]ppp.Timer{"stopped": stopped, "later": later} {
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
	if now := c.Now(); !now.Equal(Epoch.Add(3 * time.Second)) {
		t.Errorf("Now = %v", now)
	}
	if c.Pending() != 1 {
		t.Errorf("Pending = %d", c.Pending())
	}
}

func TestCapturePcap(t *testing.T) {
	var c Capture
	c.Add(Epoch, true, ppp.ProtoLCP, []byte{1, 1, 0, 4})
	var buf bytes.Buffer
	if err := c.WritePcap(&buf); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	if len(b) != 24+16+3+4 || b[20] != linkTypePPPWithDir || b[24+16] != 1 || b[24+17] != 0xc0 || b[24+18] != 0x21 {
		t.Fatalf("pcap %x", b)
	}
}
