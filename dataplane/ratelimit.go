package dataplane

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrRateLimit is wrapped by every ParseRateLimit error.
var ErrRateLimit = errors.New("invalid rate-limit")

// Bounds of a rate-limit's values. MaxRate keeps the token arithmetic
// (bits × nanoseconds) inside an int64; RouterOS itself tops out lower.
const (
	MaxRate      = 40_000_000_000 // 40G bits/s
	MaxBurstTime = time.Hour
)

// Direction is one way's limit, in bits per second. A Rate of 0 is no
// limit that way.
type Direction struct {
	Rate uint64
	// BurstRate is the rate allowed while the average over BurstTime stays
	// below BurstThreshold; it has an effect only above Rate.
	BurstRate      uint64
	BurstThreshold uint64
	BurstTime      time.Duration
	// RateMin is RouterOS's limit-at: what the subscriber is guaranteed
	// when queues share a parent. rosh shapes each session alone, so it is
	// kept and shown, not enforced.
	RateMin uint64
}

// Limited reports whether the direction has a limit.
func (d Direction) Limited() bool { return d.Rate > 0 }

// Bursts reports whether the direction may burst above Rate.
func (d Direction) Bursts() bool {
	return d.Rate > 0 && d.BurstRate > d.Rate && d.BurstThreshold > 0 && d.BurstTime > 0
}

// RateLimit is a session's rate limit as RouterOS writes it in a PPP
// profile's rate-limit and RADIUS's Mikrotik-Rate-Limit, from the
// router's point of view: Rx is what the subscriber sends (its upload),
// Tx what it receives.
type RateLimit struct {
	Rx, Tx   Direction
	Priority int // 1 (highest) … 8
}

// IsZero reports whether the limit limits nothing.
func (r RateLimit) IsZero() bool { return !r.Rx.Limited() && !r.Tx.Limited() }

// ParseRateLimit parses RouterOS's rate-limit syntax:
//
//	rx-rate[/tx-rate] [rx-burst-rate[/tx-burst-rate]
//	  [rx-burst-threshold[/tx-burst-threshold] [rx-burst-time[/tx-burst-time]
//	  [priority] [rx-rate-min[/tx-rate-min]]]]]
//
// Rates are bits per second with an optional k (10³), M (10⁶) or G (10⁹);
// times are seconds ("8" or "8s"). RouterOS's rules for what is left out:
// a missing tx value is the rx one; thresholds missing on both sides (with
// a burst rate given) are the rates; a missing burst time is 1 s; a
// missing priority is 8; missing minimum rates are the rates, and a
// minimum may not exceed its rate. "" is no limit.
func ParseRateLimit(s string) (RateLimit, error) {
	f := strings.Fields(s)
	rl := RateLimit{Priority: 8}
	if len(f) == 0 {
		return RateLimit{}, nil
	}
	if len(f) > 6 {
		return RateLimit{}, fmt.Errorf("%w: %d fields, at most 6", ErrRateLimit, len(f))
	}
	pair := func(i int, what string, parse func(string) (uint64, error)) (rx, tx uint64, given bool, err error) {
		if i >= len(f) {
			return 0, 0, false, nil
		}
		a, b, two := strings.Cut(f[i], "/")
		if rx, err = parse(a); err != nil {
			return 0, 0, false, fmt.Errorf("%w: %s %q: %v", ErrRateLimit, what, a, err)
		}
		tx = rx
		if two {
			if tx, err = parse(b); err != nil {
				return 0, 0, false, fmt.Errorf("%w: %s %q: %v", ErrRateLimit, what, b, err)
			}
		}
		return rx, tx, true, nil
	}
	var err error
	if rl.Rx.Rate, rl.Tx.Rate, _, err = pair(0, "rate", parseRate); err != nil {
		return RateLimit{}, err
	}
	if rl.Rx.BurstRate, rl.Tx.BurstRate, _, err = pair(1, "burst rate", parseRate); err != nil {
		return RateLimit{}, err
	}
	var given bool
	if rl.Rx.BurstThreshold, rl.Tx.BurstThreshold, given, err = pair(2, "burst threshold", parseRate); err != nil {
		return RateLimit{}, err
	}
	if !given {
		rl.Rx.BurstThreshold, rl.Tx.BurstThreshold = rl.Rx.Rate, rl.Tx.Rate
	}
	rt, tt, given, err := pair(3, "burst time", parseSeconds)
	if err != nil {
		return RateLimit{}, err
	}
	if !given {
		rt, tt = 1, 1
	}
	rl.Rx.BurstTime, rl.Tx.BurstTime = time.Duration(rt)*time.Second, time.Duration(tt)*time.Second
	if len(f) > 4 {
		p, err := strconv.Atoi(f[4])
		if err != nil || p < 1 || p > 8 {
			return RateLimit{}, fmt.Errorf("%w: priority %q: want 1..8", ErrRateLimit, f[4])
		}
		rl.Priority = p
	}
	if rl.Rx.RateMin, rl.Tx.RateMin, given, err = pair(5, "minimum rate", parseRate); err != nil {
		return RateLimit{}, err
	}
	if !given {
		rl.Rx.RateMin, rl.Tx.RateMin = rl.Rx.Rate, rl.Tx.Rate
	}
	for _, d := range []struct {
		name string
		d    Direction
	}{{"rx", rl.Rx}, {"tx", rl.Tx}} {
		if d.d.Rate > 0 && d.d.RateMin > d.d.Rate {
			return RateLimit{}, fmt.Errorf("%w: %s minimum rate %s above its rate %s", ErrRateLimit, d.name, FormatRate(d.d.RateMin), FormatRate(d.d.Rate))
		}
	}
	return rl, nil
}

// parseRate parses a rate: digits and an optional k, M or G.
func parseRate(s string) (uint64, error) {
	mult := uint64(1)
	switch {
	case strings.HasSuffix(s, "k"), strings.HasSuffix(s, "K"):
		mult = 1e3
	case strings.HasSuffix(s, "M"):
		mult = 1e6
	case strings.HasSuffix(s, "G"):
		mult = 1e9
	}
	if mult != 1 {
		s = s[:len(s)-1]
	}
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, errors.New("want a number with an optional k, M or G")
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n > MaxRate/mult {
		return 0, errors.New("out of range (0..40G)")
	}
	return n * mult, nil
}

// parseSeconds parses a burst time: whole seconds, "s" allowed.
func parseSeconds(s string) (uint64, error) {
	s = strings.TrimSuffix(s, "s")
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, errors.New("want whole seconds")
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n > uint64(MaxBurstTime/time.Second) {
		return 0, errors.New("out of range (0..3600)")
	}
	return n, nil
}

// FormatRate writes bits per second the way RouterOS prints rates: the
// largest of G, M, k that divides it.
func FormatRate(n uint64) string {
	switch {
	case n == 0:
		return "0"
	case n%1e9 == 0:
		return strconv.FormatUint(n/1e9, 10) + "G"
	case n%1e6 == 0:
		return strconv.FormatUint(n/1e6, 10) + "M"
	case n%1e3 == 0:
		return strconv.FormatUint(n/1e3, 10) + "k"
	}
	return strconv.FormatUint(n, 10)
}

// String writes the limit in the full six-field syntax, which
// ParseRateLimit reads back to the same value; "" for no limit.
func (r RateLimit) String() string {
	if r == (RateLimit{}) {
		return ""
	}
	pr := func(a, b uint64) string { return FormatRate(a) + "/" + FormatRate(b) }
	return fmt.Sprintf("%s %s %s %d/%d %d %s",
		pr(r.Rx.Rate, r.Tx.Rate), pr(r.Rx.BurstRate, r.Tx.BurstRate),
		pr(r.Rx.BurstThreshold, r.Tx.BurstThreshold),
		r.Rx.BurstTime/time.Second, r.Tx.BurstTime/time.Second, r.Priority,
		pr(r.Rx.RateMin, r.Tx.RateMin))
}
