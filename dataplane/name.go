package dataplane

import (
	"encoding/base32"
	"encoding/binary"
	"hash/fnv"
	"net/netip"
	"strings"
)

// MaxKernelNameLen is the longest Linux interface name: IFNAMSIZ (16)
// less the terminating NUL.
const MaxKernelNameLen = 15

// hashLen is how many base32 characters of a name's hash a shortened
// kernel name carries: 30 bits, so 200 shortened names collide with a
// probability of about 2·10⁻⁵.
const hashLen = 6

var nameHash = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// KernelName derives the Linux name of the interface that carries the
// RouterOS interface name, which rosh keeps for itself.
//
// A dynamic server interface's angle brackets are dropped
// ("<pppoe-MT-User>" → "pppoe-MT-User"). A name that is then a valid
// kernel name of at most 15 characters made of letters, digits, '-', '_'
// and '.' is used as it is ("PPPoE-Out" → "PPPoE-Out"). Any other name —
// too long, or with characters a kernel name cannot or should not hold —
// becomes its sanitised first eight characters, '-', and six characters of
// a hash of the whole RouterOS name ("<pppoe-subscriber-0042>" →
// "pppoe-su-" + hash), so different long names with a common prefix stay
// apart. The result is deterministic: the same RouterOS name always gives
// the same kernel name.
//
// Two RouterOS names that differ only by the brackets ("pppoe-a" and
// "<pppoe-a>") map to the same kernel name; Open reports the second as
// ErrNameInUse.
func KernelName(name string) string {
	inner := name
	if len(inner) > 2 && inner[0] == '<' && inner[len(inner)-1] == '>' {
		inner = inner[1 : len(inner)-1]
	}
	clean := sanitise(inner)
	if clean == inner && len(clean) <= MaxKernelNameLen && clean != "" && clean != "." && clean != ".." {
		return clean
	}
	h := fnv.New64a()
	h.Write([]byte(name))
	var sum [8]byte
	binary.BigEndian.PutUint64(sum[:], h.Sum64())
	suffix := nameHash.EncodeToString(sum[:])[:hashLen]
	prefix := clean[:min(len(clean), MaxKernelNameLen-1-hashLen)]
	prefix = strings.TrimRight(prefix, "-_.")
	if prefix == "" {
		prefix = "ros"
	}
	return prefix + "-" + suffix
}

// sanitise replaces every rune that is not an ASCII letter, digit, '-',
// '_' or '.' by '_'. Linux itself only forbids '/', ':' and white space,
// but names other tools quote or choke on are no use on a console.
func sanitise(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// Placeholder returns the addresses a dial-on-demand client's interface
// carries before its first session (SPEC §5: "the interface and a route
// via 10.112.112.x exist before dialing"): peer 10.112.112.(2k+1) and
// local 10.112.112.(2k+2) for k = n mod 127, so up to 127 clients, told
// apart by n, get pairs of their own.
func Placeholder(n int) (local, peer netip.Addr) {
	k := n % 127
	if k < 0 {
		k += 127
	}
	peer = netip.AddrFrom4([4]byte{10, 112, 112, byte(2*k + 1)})
	local = netip.AddrFrom4([4]byte{10, 112, 112, byte(2*k + 2)})
	return local, peer
}
