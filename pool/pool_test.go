package pool

import (
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func mustRanges(t testing.TB, s string) []Range {
	t.Helper()
	r, err := ParseRanges(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestAllocateDistinctThenExhausted(t *testing.T) {
	s := NewSet()
	s.Configure([]Config{{Name: "pppoe-pool", Ranges: mustRanges(t, "10.0.0.2-10.0.0.5")}})
	seen := map[netip.Addr]bool{}
	for i := 0; i < 4; i++ {
		a, pool, err := s.Allocate("pppoe-pool", fmt.Sprint("u", i), "", netip.Addr{})
		if err != nil || pool != "pppoe-pool" || seen[a] {
			t.Fatalf("allocation %d: %v %v %v (seen %v)", i, a, pool, err, seen)
		}
		seen[a] = true
	}
	if _, _, err := s.Allocate("pppoe-pool", "u5", "", netip.Addr{}); !errors.Is(err, ErrExhausted) {
		t.Fatalf("fifth allocation: err = %v, want ErrExhausted", err)
	}
	s.Release("pppoe-pool", netip.MustParseAddr("10.0.0.3"))
	a, _, err := s.Allocate("pppoe-pool", "u6", "", netip.Addr{})
	if err != nil || a != netip.MustParseAddr("10.0.0.3") {
		t.Fatalf("after release got %v %v, want 10.0.0.3", a, err)
	}
	if got := len(s.Leases()); got != 4 {
		t.Fatalf("%d leases, want 4", got)
	}
}

func TestHintAndNextPool(t *testing.T) {
	s := NewSet()
	s.Configure([]Config{
		{Name: "a", Ranges: mustRanges(t, "10.0.0.1-10.0.0.2"), NextPool: "b"},
		{Name: "b", Ranges: mustRanges(t, "10.1.0.0/30"), NextPool: "a"}, // a loop must not hang
	})
	a, _, _ := s.Allocate("a", "x", "", netip.MustParseAddr("10.0.0.2"))
	if a != netip.MustParseAddr("10.0.0.2") {
		t.Fatalf("hint not honoured: %v", a)
	}
	s.Allocate("a", "y", "", netip.Addr{})
	a, pool, err := s.Allocate("a", "z", "", netip.Addr{})
	if err != nil || pool != "b" || !netip.MustParsePrefix("10.1.0.0/30").Contains(a) {
		t.Fatalf("overflow to next-pool: %v %v %v", a, pool, err)
	}
	for i := 0; i < 3; i++ {
		s.Allocate("a", "w", "", netip.Addr{})
	}
	if _, _, err := s.Allocate("a", "v", "", netip.Addr{}); !errors.Is(err, ErrExhausted) {
		t.Fatalf("chain full: %v", err)
	}
}

func TestConfigureKeepsLeases(t *testing.T) {
	s := NewSet()
	s.Configure([]Config{{Name: "p", Ranges: mustRanges(t, "10.0.0.1-10.0.0.3")}})
	a, _, _ := s.Allocate("p", "x", "", netip.Addr{})
	s.Configure([]Config{{Name: "p", Ranges: mustRanges(t, "10.0.0.1-10.0.0.9")}})
	for i := 0; i < 8; i++ {
		b, _, err := s.Allocate("p", "y", "", netip.Addr{})
		if err != nil || b == a {
			t.Fatalf("allocation %d after reconfigure: %v %v (held %v)", i, b, err, a)
		}
	}
}

func TestParseRanges(t *testing.T) {
	r := mustRanges(t, "10.0.1.0/24")
	if r[0].Size() != 256 {
		t.Errorf("size %d", r[0].Size())
	}
	for _, bad := range []string{"", "10.0.0.5-10.0.0.2", "10.0.0.0/33", "::1", "10.0.0.1-10.0.0.9,10.0.0.5"} {
		if _, err := ParseRanges(bad); err == nil {
			t.Errorf("ParseRanges(%q) accepted", bad)
		}
	}
}

// BenchmarkAllocateRelease measures one allocation and release in a /16
// pool that is 90 % full.
func BenchmarkAllocateRelease(b *testing.B) {
	s := NewSet()
	s.Configure([]Config{{Name: "p", Ranges: mustRanges(b, "10.0.0.0/16")}})
	for i := 0; i < 59000; i++ {
		s.Allocate("p", "x", "", netip.Addr{})
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		a, _, err := s.Allocate("p", "y", "", netip.Addr{})
		if err != nil {
			b.Fatal(err)
		}
		s.Release("p", a)
	}
}

// FuzzParseRanges feeds /ip pool ranges= values: no panic; what parses is
// well formed (first ≤ last, no overlap), and its printed form parses to
// the same ranges.
func FuzzParseRanges(f *testing.F) {
	f.Add("10.0.0.2-10.0.0.5,10.0.1.0/24,10.0.2.7") // each form once
	f.Add("0.0.0.0/0")                              // all of IPv4: 2^32 addresses
	f.Add("10.0.0.5-10.0.0.2")                      // backwards
	f.Add("10.0.0.1-10.0.0.9,10.0.0.5")             // overlap
	f.Add("10.0.0.1-")                              // open range
	f.Add("10.0.0.0/8,")                            // empty element
	f.Add(" 10.0.0.1 , 10.0.0.2 ")                  // spaces
	f.Add("::1,10.0.0.1/33")                        // IPv6, bad prefix
	f.Fuzz(func(t *testing.T, in string) {
		rs, err := ParseRanges(in)
		if err != nil {
			return
		}
		var words []string
		for i, r := range rs {
			if r.Last.Less(r.First) || r.Size() == 0 || r.Size() > 1<<32 {
				t.Fatalf("%q: range %d is %v-%v, size %d", in, i, r.First, r.Last, r.Size())
			}
			for _, o := range rs[i+1:] {
				if !(r.Last.Less(o.First) || o.Last.Less(r.First)) {
					t.Fatalf("%q: %v-%v and %v-%v overlap", in, r.First, r.Last, o.First, o.Last)
				}
			}
			words = append(words, r.First.String()+"-"+r.Last.String())
		}
		again, err := ParseRanges(strings.Join(words, ","))
		if err != nil || !slices.Equal(again, rs) {
			t.Fatalf("%q → %v → %v (%v)", in, rs, again, err)
		}
	})
}

// TestHugePoolCostsItsLeases: a pool of all IPv4 costs page pointers, not
// 512 MiB of bits, and hands out addresses from it.
func TestHugePoolCostsItsLeases(t *testing.T) {
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	s := NewSet()
	s.Configure([]Config{{Name: "all", Ranges: mustRanges(t, "0.0.0.0/0")}})
	for range 1000 {
		if _, _, err := s.Allocate("all", "u", "", netip.Addr{}); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&ms1)
	if got := ms1.TotalAlloc - ms0.TotalAlloc; got > 4<<20 {
		t.Errorf("a 0.0.0.0/0 pool with 1000 leases allocated %d B", got)
	}
}
