package ppptest

import (
	"bytes"
	"reflect"
	"testing"
	"time"

	"rosh/ppp"
)

func TestManualClock(t *testing.T) {
	c := NewManualClock()
	var got []string
	c.AfterFunc(2*time.Second, func() { got = append(got, "b") })
	c.AfterFunc(time.Second, func() {
		got = append(got, "a")
		// Scheduled from a call, due within the same Advance.
		c.AfterFunc(500*time.Millisecond, func() { got = append(got, "a+") })
	})
	stopped := c.AfterFunc(time.Second, func() { got = append(got, "never") })
	if !stopped.Stop() || stopped.Stop() {
		t.Fatal("Stop should report true once")
	}
	c.AfterFunc(time.Hour, func() { got = append(got, "later") })
	c.Advance(2 * time.Second)
	if want := []string{"a", "a+", "b"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("fired %v, want %v", got, want)
	}
	if now := c.Now(); !now.Equal(Epoch.Add(2 * time.Second)) {
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
