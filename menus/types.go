package menus

import (
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"rosh/dataplane"
	"rosh/pool"
)

// Type parses console input for one property into its canonical printed
// form. Errors are worded the way RouterOS words them.
type Type interface {
	Parse(ctx *Ctx, prop, in string) (string, error)
	// Hint is the one-line description shown by ? and in completion.
	Hint() string
}

// Value errors, worded as RouterOS prints them.
func errInvalid(prop string) error { return Errorf("invalid value for argument %s", prop) }
func errNoMatch(prop string) error { return Errorf("input does not match any value of %s", prop) }
func errRange(prop string, min, max int64) error {
	return Errorf("value of %s out of range (%d..%d)", prop, min, max)
}

// String accepts any text (NonEmpty refuses "").
type String struct{ NonEmpty bool }

func (t String) Parse(_ *Ctx, prop, in string) (string, error) {
	if t.NonEmpty && in == "" {
		return "", Errorf("failure: %s can not be empty", prop)
	}
	return in, nil
}
func (String) Hint() string { return "string" }

// Bool is yes or no (true/false accepted as synonyms).
type Bool struct{}

func (Bool) Parse(_ *Ctx, prop, in string) (string, error) {
	switch strings.ToLower(in) {
	case "yes", "true":
		return "yes", nil
	case "no", "false":
		return "no", nil
	}
	return "", errNoMatch(prop)
}
func (Bool) Hint() string { return "yes | no" }

// Int is a whole number in [Min, Max]. Words are accepted as they are
// (e.g. "auto", "disabled"); Zero, when set, is the word printed for 0
// (max-sessions=0 prints "unlimited", keepalive-timeout=0 "disabled").
type Int struct {
	Min, Max int64
	Words    []string
	Zero     string
}

func (t Int) Parse(_ *Ctx, prop, in string) (string, error) {
	for _, w := range t.Words {
		if strings.EqualFold(in, w) {
			return w, nil
		}
	}
	s := in
	// Durations in whole seconds are accepted for second-valued numbers
	// ("10s" for keepalive-timeout), as RouterOS does.
	if d, err := ParseDuration(in); err == nil && strings.ContainsAny(in, "smhdw:") {
		s = strconv.FormatInt(int64(d/time.Second), 10)
	}
	n, err := strconv.ParseInt(s, 0, 64)
	if err != nil {
		if len(t.Words) > 0 {
			return "", errNoMatch(prop)
		}
		return "", errInvalid(prop)
	}
	if n < t.Min || n > t.Max {
		if n == 0 && t.Zero != "" {
			return t.Zero, nil
		}
		return "", errRange(prop, t.Min, t.Max)
	}
	if n == 0 && t.Zero != "" {
		return t.Zero, nil
	}
	return strconv.FormatInt(n, 10), nil
}
func (t Int) Hint() string {
	h := fmt.Sprintf("integer %d..%d", t.Min, t.Max)
	for _, w := range t.Words {
		h += " | " + w
	}
	return h
}

// Enum is one of Values.
type Enum struct{ Values []string }

func (t Enum) Parse(_ *Ctx, prop, in string) (string, error) {
	for _, v := range t.Values {
		if strings.EqualFold(in, v) {
			return v, nil
		}
	}
	return "", errNoMatch(prop)
}
func (t Enum) Hint() string { return strings.Join(t.Values, " | ") }

// EnumList is a comma list of Values, printed in the order of Values
// (RouterOS prints allow=pap,chap,mschap1,mschap2 whatever the input order).
type EnumList struct{ Values []string }

func (t EnumList) Parse(_ *Ctx, prop, in string) (string, error) {
	seen := map[string]bool{}
	if strings.TrimSpace(in) == "" {
		return "", nil
	}
	for _, w := range strings.Split(in, ",") {
		w = strings.TrimSpace(w)
		ok := false
		for _, v := range t.Values {
			if strings.EqualFold(w, v) {
				seen[v], ok = true, true
			}
		}
		if !ok {
			return "", errNoMatch(prop)
		}
	}
	var out []string
	for _, v := range t.Values {
		if seen[v] {
			out = append(out, v)
		}
	}
	return strings.Join(out, ","), nil
}
func (t EnumList) Hint() string { return "list of " + strings.Join(t.Values, " | ") }

// Duration is a time interval: "10" (seconds), "10s", "1m30s", "00:01:30",
// "1d2h", "500ms". Printed the RouterOS v7 way ("1m30s").
type Duration struct{}

func (Duration) Parse(_ *Ctx, prop, in string) (string, error) {
	d, err := ParseDuration(in)
	if err != nil {
		return "", errInvalid(prop)
	}
	return FormatDuration(d), nil
}
func (Duration) Hint() string { return "time interval (10s, 1m30s, 00:01:30)" }

// maxDuration is the longest time value taken: what time.Duration holds
// (about 292 years). Longer ones are refused rather than wrapped around to
// a negative or small value.
const maxDuration = time.Duration(1<<63 - 1)

// ParseDuration reads a RouterOS time value.
func ParseDuration(in string) (time.Duration, error) {
	if in == "" {
		return 0, fmt.Errorf("empty duration")
	}
	if strings.Contains(in, ":") { // hh:mm:ss
		parts := strings.Split(in, ":")
		if len(parts) != 3 {
			return 0, fmt.Errorf("bad duration %q", in)
		}
		var total time.Duration
		for i, p := range parts {
			n, err := strconv.ParseUint(p, 10, 32)
			if err != nil || (i > 0 && n > 59) {
				return 0, fmt.Errorf("bad duration %q", in)
			}
			total = total*60 + time.Duration(n)
		}
		if total > maxDuration/time.Second {
			return 0, fmt.Errorf("duration %q too long", in)
		}
		return total * time.Second, nil
	}
	if n, err := strconv.ParseUint(in, 10, 32); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	units := []struct {
		s string
		d time.Duration
	}{{"ms", time.Millisecond}, {"w", 7 * 24 * time.Hour}, {"d", 24 * time.Hour}, {"h", time.Hour}, {"m", time.Minute}, {"s", time.Second}}
	var total time.Duration
	rest := in
	for rest != "" {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 || i > 9 {
			return 0, fmt.Errorf("bad duration %q", in)
		}
		n, _ := strconv.Atoi(rest[:i])
		rest = rest[i:]
		matched := false
		for _, u := range units {
			if strings.HasPrefix(rest, u.s) {
				if time.Duration(n) > (maxDuration-total)/u.d {
					return 0, fmt.Errorf("duration %q too long", in)
				}
				total += time.Duration(n) * u.d
				rest = rest[len(u.s):]
				matched = true
				break
			}
		}
		if !matched {
			return 0, fmt.Errorf("bad duration %q", in)
		}
	}
	return total, nil
}

// FormatDuration prints a duration the RouterOS v7 way: 1w2d3h4m5s, 150ms, 0s.
func FormatDuration(d time.Duration) string {
	if d <= 0 {
		return "0s"
	}
	var b strings.Builder
	for _, u := range []struct {
		s string
		d time.Duration
	}{{"w", 7 * 24 * time.Hour}, {"d", 24 * time.Hour}, {"h", time.Hour}, {"m", time.Minute}, {"s", time.Second}, {"ms", time.Millisecond}} {
		if n := d / u.d; n > 0 {
			fmt.Fprintf(&b, "%d%s", n, u.s)
			d -= n * u.d
		}
	}
	if b.Len() == 0 {
		return "0s"
	}
	return b.String()
}

// IP is one IPv4 address.
type IP struct{}

func (IP) Parse(_ *Ctx, prop, in string) (string, error) {
	a, err := netip.ParseAddr(in)
	if err != nil || !a.Is4() {
		return "", errInvalid(prop)
	}
	return a.String(), nil
}
func (IP) Hint() string { return "IPv4 address" }

// IPList is a comma list of IPv4 addresses (dns-server).
type IPList struct{}

func (IPList) Parse(_ *Ctx, prop, in string) (string, error) {
	var out []string
	for _, w := range strings.Split(in, ",") {
		a, err := netip.ParseAddr(strings.TrimSpace(w))
		if err != nil || !a.Is4() {
			return "", errInvalid(prop)
		}
		out = append(out, a.String())
	}
	return strings.Join(out, ","), nil
}
func (IPList) Hint() string { return "list of IPv4 addresses" }

// MAC is an Ethernet address, printed upper-case with colons.
type MAC struct{}

func (MAC) Parse(_ *Ctx, prop, in string) (string, error) {
	hw, err := net.ParseMAC(in)
	if err != nil || len(hw) != 6 {
		return "", errInvalid(prop)
	}
	return strings.ToUpper(hw.String()), nil
}
func (MAC) Hint() string { return "MAC address" }

// Hex is a byte string written in hexadecimal (host-uniq), "0x" optional.
type Hex struct{ MaxBytes int }

func (t Hex) Parse(_ *Ctx, prop, in string) (string, error) {
	s := strings.TrimPrefix(strings.TrimPrefix(in, "0x"), "0X")
	b, err := hex.DecodeString(s)
	if err != nil || len(b) == 0 || (t.MaxBytes > 0 && len(b) > t.MaxBytes) {
		return "", errInvalid(prop)
	}
	return hex.EncodeToString(b), nil
}
func (Hex) Hint() string { return "hexadecimal bytes" }

// Ref names an item of another menu (a profile, a pool …). When Or is set,
// the value may also be of that type (remote-address: an IP or a pool).
type Ref struct {
	Menu string
	Or   Type
}

func (t Ref) Parse(ctx *Ctx, prop, in string) (string, error) {
	if t.Or != nil {
		if v, err := t.Or.Parse(ctx, prop, in); err == nil {
			return v, nil
		}
	}
	if ctx != nil && ctx.Cfg != nil {
		if _, ok := ctx.findByName(t.Menu, in); ok {
			return in, nil
		}
	}
	return "", errNoMatch(prop)
}
func (t Ref) Hint() string {
	h := "name of an entry of " + t.Menu
	if t.Or != nil {
		h = t.Or.Hint() + " or " + h
	}
	return h
}

// Ranges is an address pool's ranges: a comma list of single addresses,
// first-last ranges and prefixes (10.0.0.2-10.0.0.5,10.0.1.0/24) that do
// not overlap.
type Ranges struct{}

func (Ranges) Parse(_ *Ctx, prop, in string) (string, error) {
	if _, err := pool.ParseRanges(in); err != nil {
		return "", errInvalid(prop)
	}
	var out []string
	for _, w := range strings.Split(in, ",") {
		out = append(out, strings.TrimSpace(w))
	}
	return strings.Join(out, ","), nil
}
func (Ranges) Hint() string { return "address ranges (10.0.0.2-10.0.0.5,10.0.1.0/24)" }

// RateLimit is a PPP rate limit in RouterOS's syntax
// (dataplane.ParseRateLimit); the value is kept as typed, spaces
// collapsed.
type RateLimit struct{}

func (RateLimit) Parse(_ *Ctx, prop, in string) (string, error) {
	if _, err := dataplane.ParseRateLimit(in); err != nil {
		return "", Errorf("invalid value for argument %s: %s", prop, strings.TrimPrefix(err.Error(), dataplane.ErrRateLimit.Error()+": "))
	}
	return strings.Join(strings.Fields(in), " "), nil
}
func (RateLimit) Hint() string {
	return "rx-rate[/tx-rate] [rx-burst-rate[/tx-burst-rate] [rx-burst-threshold[/tx-burst-threshold] [rx-burst-time[/tx-burst-time] [priority] [rx-rate-min[/tx-rate-min]]]]]"
}
