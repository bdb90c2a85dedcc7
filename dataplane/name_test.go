package dataplane

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
)

func TestKernelName(t *testing.T) {
	for _, tc := range []struct {
		in, want string // want ending in '-' is a prefix followed by the hash
	}{
		{"PPPoE-Out", "PPPoE-Out"},
		{"pppoe-out1", "pppoe-out1"},
		{"<pppoe-MT-User>", "pppoe-MT-User"},
		{"<pppoe-user1>", "pppoe-user1"},
		{"exactly15chars_", "exactly15chars_"},
		{"sixteen-chars-xx", "sixteen-"},
		{"<pppoe-subscriber-0042>", "pppoe-su-"},
		{"my link", "my_link-"},
		{"a/b:c", "a_b_c-"},
		{"ünï", "_n-"},
		{"<>", "ros-"},
		{"", "ros-"},
		{".", "ros-"},
		{"..", "ros-"},
		{"<.>", "ros-"},
		{"--------------------", "ros-"},
	} {
		got := KernelName(tc.in)
		ok := got == tc.want
		if strings.HasSuffix(tc.want, "-") {
			ok = strings.HasPrefix(got, tc.want) && len(got) == len(tc.want)+hashLen
		}
		if !ok {
			t.Errorf("KernelName(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if len(got) > MaxKernelNameLen || sanitise(got) != got || got == "." || got == ".." {
			t.Errorf("KernelName(%q) = %q is not a safe kernel name", tc.in, got)
		}
		if again := KernelName(tc.in); again != got {
			t.Errorf("KernelName(%q) not deterministic: %q then %q", tc.in, got, again)
		}
	}
}

// 1000 long server-side names sharing a prefix map to 1000 names.
func TestKernelNameUnique(t *testing.T) {
	seen := map[string]string{}
	for n := range 1000 {
		in := fmt.Sprintf("<pppoe-subscriber-%04d>", n)
		got := KernelName(in)
		if prev, dup := seen[got]; dup {
			t.Fatalf("%q and %q both map to %q", prev, in, got)
		}
		seen[got] = in
	}
}

func TestPlaceholder(t *testing.T) {
	seen := map[netip.Addr]bool{}
	for n := range 127 {
		local, peer := Placeholder(n)
		for _, a := range []netip.Addr{local, peer} {
			if !netip.MustParsePrefix("10.112.112.0/24").Contains(a) || seen[a] {
				t.Fatalf("Placeholder(%d) = %v, %v: outside 10.112.112.0/24 or reused", n, local, peer)
			}
			seen[a] = true
		}
	}
	if l, p := Placeholder(-1); l != netip.MustParseAddr("10.112.112.254") || p != netip.MustParseAddr("10.112.112.253") {
		t.Errorf("Placeholder(-1) = %v, %v", l, p)
	}
	if l, _ := Placeholder(127); l != netip.MustParseAddr("10.112.112.2") {
		t.Errorf("Placeholder(127) = %v, want the first pair again", l)
	}
}
