// Package pool hands out IPv4 addresses from named ranges (/ip pool):
// Allocate(owner, hint) and Release, with next-pool chaining and
// ErrExhausted when a chain has no free address left.
//
// A pool keeps one bit per address, so a /16 costs 8 KiB and allocation
// and release are O(1) amortised: a rotating cursor finds the next free
// address, which also spreads reuse (an address just released is not the
// next one handed out).
package pool

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Errors at the package edge.
var (
	// ErrExhausted means no address is free in the pool or its next-pools.
	ErrExhausted = errors.New("pool exhausted")
	// ErrNoSuchPool means the pool named does not exist.
	ErrNoSuchPool = errors.New("no such pool")
)

// Range is an inclusive range of IPv4 addresses.
type Range struct{ First, Last netip.Addr }

// Size is the number of addresses in the range: up to 2^32, for
// 0.0.0.0/0.
func (r Range) Size() uint64 { return uint64(u32(r.Last)) - uint64(u32(r.First)) + 1 }

// Contains reports whether a lies in the range.
func (r Range) Contains(a netip.Addr) bool {
	return a.Is4() && !a.Less(r.First) && !r.Last.Less(a)
}

func u32(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func addr(n uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
}

// ParseRanges parses "10.0.0.2-10.0.0.5,10.0.1.0/24,10.0.2.7".
func ParseRanges(in string) ([]Range, error) {
	var out []Range
	for _, w := range strings.Split(in, ",") {
		w = strings.TrimSpace(w)
		switch {
		case strings.Contains(w, "/"):
			p, err := netip.ParsePrefix(w)
			if err != nil || !p.Addr().Is4() {
				return nil, fmt.Errorf("bad prefix %q", w)
			}
			p = p.Masked()
			first := u32(p.Addr())
			last := first | (1<<(32-p.Bits()) - 1)
			if p.Bits() == 0 {
				last = ^uint32(0)
			}
			out = append(out, Range{addr(first), addr(last)})
		case strings.Contains(w, "-"):
			a, b, _ := strings.Cut(w, "-")
			first, err1 := netip.ParseAddr(a)
			last, err2 := netip.ParseAddr(b)
			if err1 != nil || err2 != nil || !first.Is4() || !last.Is4() || last.Less(first) {
				return nil, fmt.Errorf("bad range %q", w)
			}
			out = append(out, Range{first, last})
		default:
			a, err := netip.ParseAddr(w)
			if err != nil || !a.Is4() {
				return nil, fmt.Errorf("bad address %q", w)
			}
			out = append(out, Range{a, a})
		}
	}
	// Overlaps are found on a sorted copy, neighbour against neighbour:
	// O(n log n), so a hostile list of many thousand ranges in a loaded
	// configuration costs milliseconds, not the minutes a pairwise check
	// would. The ranges keep the order they were given in.
	sorted := slices.Clone(out)
	slices.SortFunc(sorted, func(a, b Range) int { return a.First.Compare(b.First) })
	for i := 1; i < len(sorted); i++ {
		if a, b := sorted[i-1], sorted[i]; !a.Last.Less(b.First) {
			return nil, fmt.Errorf("ranges %v-%v and %v-%v overlap", a.First, a.Last, b.First, b.Last)
		}
	}
	return out, nil
}

// Lease is an address handed out, as /ip pool used shows it.
type Lease struct {
	Pool    string
	Address netip.Addr
	Owner   string // e.g. the user name or the session's interface
	Info    string // e.g. the client MAC
}

// pool is one named pool.
type pool struct {
	name   string
	next   string
	ranges []Range
	bits   []bitset // one per range
	cursor uint64   // rotating position over all addresses
	total  uint64
	leases map[netip.Addr]Lease
}

func newPool(name, next string, ranges []Range) *pool {
	p := &pool{name: name, next: next, ranges: ranges, leases: map[netip.Addr]Lease{}}
	for _, r := range ranges {
		p.bits = append(p.bits, newBitset(r.Size()))
		p.total += r.Size()
	}
	return p
}

// locate returns the range index and offset of a.
func (p *pool) locate(a netip.Addr) (int, uint32, bool) {
	for i, r := range p.ranges {
		if r.Contains(a) {
			return i, u32(a) - u32(r.First), true
		}
	}
	return 0, 0, false
}

func (p *pool) isUsed(i int, off uint32) bool     { return p.bits[i].word(off)&(1<<(off%64)) != 0 }
func (p *pool) mark(i int, off uint32, used bool) { p.bits[i].mark(off, used) }

// bitsetPage is how many addresses one page of a bitset covers (8 KiB of
// bits). Pages are made when an address in them is first used, so a pool
// costs what its leases need: a hostile or careless 0.0.0.0/1 costs 256 KiB
// of page pointers, not the 256 MiB its bits would take at once.
const bitsetPage = 1 << 16

// bitset is one bit per address of a range, in pages made on first use.
type bitset struct{ pages [][]uint64 }

func newBitset(size uint64) bitset {
	return bitset{pages: make([][]uint64, (size+bitsetPage-1)/bitsetPage)}
}

// word is the 64 bits around off; an unmade page is all free.
func (b bitset) word(off uint32) uint64 {
	pg := b.pages[off/bitsetPage]
	if pg == nil {
		return 0
	}
	return pg[off%bitsetPage/64]
}

func (b bitset) mark(off uint32, used bool) {
	pg := b.pages[off/bitsetPage]
	if pg == nil {
		if !used {
			return
		}
		pg = make([]uint64, bitsetPage/64)
		b.pages[off/bitsetPage] = pg
	}
	if used {
		pg[off%bitsetPage/64] |= 1 << (off % 64)
	} else {
		pg[off%bitsetPage/64] &^= 1 << (off % 64)
	}
}

// take marks a free address used; hint is honoured when free.
func (p *pool) take(hint netip.Addr) (netip.Addr, bool) {
	if hint.IsValid() {
		if i, off, ok := p.locate(hint); ok && !p.isUsed(i, off) {
			p.mark(i, off, true)
			return hint, true
		}
	}
	if uint64(len(p.leases)) >= p.total {
		return netip.Addr{}, false
	}
	// Walk from the cursor, a word at a time, to the next clear bit.
	for n := uint64(0); n < p.total; {
		pos := (p.cursor + n) % p.total
		i, off := p.position(pos)
		w := p.bits[i].word(off)
		if w == ^uint64(0) && off%64 == 0 {
			n += 64
			continue
		}
		if w&(1<<(off%64)) == 0 {
			p.mark(i, off, true)
			p.cursor = pos + 1
			return addr(u32(p.ranges[i].First) + off), true
		}
		n++
	}
	return netip.Addr{}, false
}

// position maps a flat index over all ranges to (range, offset).
func (p *pool) position(pos uint64) (int, uint32) {
	for i, r := range p.ranges {
		if pos < r.Size() {
			return i, uint32(pos)
		}
		pos -= r.Size()
	}
	return 0, 0
}

// Config describes one pool for Set.Configure.
type Config struct {
	Name     string
	Ranges   []Range
	NextPool string
}

// Set is every pool of the router. It is safe for concurrent use.
type Set struct {
	mu    sync.Mutex
	pools map[string]*pool
}

// NewSet returns an empty set.
func NewSet() *Set { return &Set{pools: map[string]*pool{}} }

// Configure replaces the pools' definitions. Leases whose address is still
// inside its pool are kept; the others stay held (the session using it is
// not cut) but are no longer counted against the new ranges.
func (s *Set) Configure(cfgs []Config) {
	s.mu.Lock()
	defer s.mu.Unlock()
	next := map[string]*pool{}
	for _, c := range cfgs {
		np := newPool(c.Name, c.NextPool, c.Ranges)
		if old, ok := s.pools[c.Name]; ok {
			for a, l := range old.leases {
				if i, off, ok := np.locate(a); ok {
					np.mark(i, off, true)
				}
				np.leases[a] = l
			}
			np.cursor = old.cursor % max(np.total, 1)
		}
		next[c.Name] = np
	}
	s.pools = next
}

// Allocate hands out an address from the named pool, following next-pool
// when it is full. hint, when valid and free, is the address given.
func (s *Set) Allocate(name, owner, info string, hint netip.Addr) (netip.Addr, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.pools[name]
	if !ok {
		return netip.Addr{}, "", ErrNoSuchPool
	}
	visited := map[string]bool{}
	for p != nil && !visited[p.name] {
		visited[p.name] = true
		if a, ok := p.take(hint); ok {
			p.leases[a] = Lease{Pool: p.name, Address: a, Owner: owner, Info: info}
			return a, p.name, nil
		}
		p = s.pools[p.next]
	}
	return netip.Addr{}, "", fmt.Errorf("%w: %s", ErrExhausted, name)
}

// Release returns an address to the pool it came from.
func (s *Set) Release(pool string, a netip.Addr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.pools[pool]
	if !ok {
		return
	}
	if _, held := p.leases[a]; !held {
		return
	}
	delete(p.leases, a)
	if i, off, ok := p.locate(a); ok {
		p.mark(i, off, false)
	}
}

// Leases lists every address handed out, by pool then address.
func (s *Set) Leases() []Lease {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Lease
	for _, p := range s.pools {
		for _, l := range p.leases {
			out = append(out, l)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Pool != out[j].Pool {
			return out[i].Pool < out[j].Pool
		}
		return out[i].Address.Less(out[j].Address)
	})
	return out
}

// InUse reports whether the named pool has leases.
func (s *Set) InUse(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.pools[name]
	return ok && len(p.leases) > 0
}

// Usage is one pool's size and how many of its addresses are handed out.
type Usage struct {
	Pool       string
	Size, Used uint64
}

// Usage lists every pool's usage, by name.
func (s *Set) Usage() []Usage {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Usage, 0, len(s.pools))
	for _, p := range s.pools {
		out = append(out, Usage{Pool: p.name, Size: p.total, Used: uint64(len(p.leases))})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Pool < out[j].Pool })
	return out
}
