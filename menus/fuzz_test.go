package menus

import (
	"testing"
	"time"
)

// FuzzParseDuration feeds RouterOS time values (keepalive-timeout=,
// session-timeout=, pado-delay= …): no panic, no negative or overflowed
// duration, and the printed form parses back to the same value.
func FuzzParseDuration(f *testing.F) {
	f.Add("10")                   // plain seconds
	f.Add("1w2d3h4m5s150ms")      // every unit
	f.Add("00:01:30")             // hh:mm:ss
	f.Add("1:60:00")              // minutes out of range
	f.Add("4294967295:59:59")     // hours that overflow nanoseconds
	f.Add("999999999w999999999d") // units that overflow
	f.Add("5m5")                  // trailing number without a unit
	f.Add("")                     // empty
	f.Fuzz(func(t *testing.T, in string) {
		d, err := ParseDuration(in)
		if err != nil {
			return
		}
		if d < 0 {
			t.Fatalf("%q → %v", in, d)
		}
		again, err := ParseDuration(FormatDuration(d))
		if d == 0 {
			return // "0s"
		}
		if err != nil || again != d.Truncate(time.Millisecond) {
			t.Fatalf("%q → %v → %q → %v (%v)", in, d, FormatDuration(d), again, err)
		}
	})
}
