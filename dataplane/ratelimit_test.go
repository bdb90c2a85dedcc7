package dataplane

import (
	"errors"
	"testing"
	"time"
)

func TestParseRateLimit(t *testing.T) {
	dir := func(rate, burst, thr uint64, bt time.Duration, min uint64) Direction {
		return Direction{Rate: rate, BurstRate: burst, BurstThreshold: thr, BurstTime: bt, RateMin: min}
	}
	for _, tc := range []struct {
		in   string
		want RateLimit
	}{
		{"", RateLimit{}},
		// tx missing: tx = rx; thresholds missing: the rates; 1 s; 8.
		{"128k", RateLimit{Rx: dir(128e3, 0, 128e3, time.Second, 128e3), Tx: dir(128e3, 0, 128e3, time.Second, 128e3), Priority: 8}},
		{"10M/20M", RateLimit{Rx: dir(10e6, 0, 10e6, time.Second, 10e6), Tx: dir(20e6, 0, 20e6, time.Second, 20e6), Priority: 8}},
		{"64k/128M", RateLimit{Rx: dir(64e3, 0, 64e3, time.Second, 64e3), Tx: dir(128e6, 0, 128e6, time.Second, 128e6), Priority: 8}},
		// The burst example.
		{"10M/10M 20M/20M 8M/8M 8/8", RateLimit{Rx: dir(10e6, 20e6, 8e6, 8*time.Second, 10e6), Tx: dir(10e6, 20e6, 8e6, 8*time.Second, 10e6), Priority: 8}},
		// burst rate without thresholds: the rates are the thresholds.
		{"64k 256k", RateLimit{Rx: dir(64e3, 256e3, 64e3, time.Second, 64e3), Tx: dir(64e3, 256e3, 64e3, time.Second, 64e3), Priority: 8}},
		// all six fields, times with s, G, a bare number, extra spaces.
		{"  1G/512k  2G/1000 1500M/800k 10s/5 3 100M/1000 ", RateLimit{
			Rx: dir(1e9, 2e9, 1500e6, 10*time.Second, 100e6), Tx: dir(512e3, 1000, 800e3, 5*time.Second, 1000), Priority: 3}},
		// 0: no limit that way.
		{"0/10M", RateLimit{Rx: dir(0, 0, 0, time.Second, 0), Tx: dir(10e6, 0, 10e6, time.Second, 10e6), Priority: 8}},
		{"40G", RateLimit{Rx: dir(MaxRate, 0, MaxRate, time.Second, MaxRate), Tx: dir(MaxRate, 0, MaxRate, time.Second, MaxRate), Priority: 8}},
	} {
		got, err := ParseRateLimit(tc.in)
		if err != nil {
			t.Errorf("ParseRateLimit(%q): %v", tc.in, err)
			continue
		}
		if got != tc.want {
			t.Errorf("ParseRateLimit(%q):\n got  %+v\n want %+v", tc.in, got, tc.want)
		}
	}
	for _, in := range []string{
		"abc", "10X", "10m", "-1", "1.5M", "10M/", "/10M", "10M//2M", "10M/20M/30M", "41G", "99999999999999999999",
		"10M 20M 8M 99999", "10M 20M 8M 8/x", "10M 20M 8M 8 0", "10M 20M 8M 8 9", "10M 20M 8M 8 x",
		"10M 20M 8M 8 8 20M", "10M/1M 20M 8M 8 8 5M/2M", "1 2 3 4 5 6 7", "k", "M/G",
	} {
		if rl, err := ParseRateLimit(in); !errors.Is(err, ErrRateLimit) {
			t.Errorf("ParseRateLimit(%q) = %+v, %v; want an ErrRateLimit", in, rl, err)
		}
	}
}

// FuzzParseRateLimit: no input panics, and what parses writes back
// (String) to text that parses to the same limit.
func FuzzParseRateLimit(f *testing.F) {
	for _, s := range []string{
		"", "128k", "10M/20M", "10M/10M 20M/20M 8M/8M 8/8", // the issue's
		"1G/512k 2G/1000 1500M/800k 10s/5 3 100M/1000", // every field
		"0/0", "40G", "41G", "10M 20M 8M 8 9", "1/", "/", " \t ", "18446744073709551615k",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rl, err := ParseRateLimit(s)
		if err != nil {
			if !errors.Is(err, ErrRateLimit) {
				t.Fatalf("%q: error %v is not an ErrRateLimit", s, err)
			}
			return
		}
		again, err := ParseRateLimit(rl.String())
		if err != nil || again != rl {
			t.Fatalf("%q → %+v → %q → %+v, %v", s, rl, rl.String(), again, err)
		}
	})
}

func TestFormatRate(t *testing.T) {
	for n, want := range map[uint64]string{0: "0", 1: "1", 999: "999", 1000: "1k", 1500: "1500", 1500e3: "1500k", 2e6: "2M", 10e9: "10G"} {
		if got := FormatRate(n); got != want {
			t.Errorf("FormatRate(%d) = %q, want %q", n, got, want)
		}
	}
}
