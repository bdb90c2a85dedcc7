package pppoe

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"time"
)

// Stateless AC-Cookie (RFC 2516 Appendix A: "used by the Access Concentrator
// to aid in protecting against denial of service attacks").
//
//	slot (4, big endian) | HMAC-SHA256(secret[slot], slot | client MAC | service)[:16]
//
// Time is cut into slots of cookieSlot; each slot has its own random
// secret, made when the slot is first used, and only the current and the
// previous slot's secrets are kept. A cookie is therefore valid for one to
// two slots, binds the client's MAC and the service it was offered, and
// costs the AC nothing per client: a PADI flood leaves no state behind, and a
// PADR is only believed if it echoes a cookie this AC made for that MAC.
const (
	cookieSlot    = 30 * time.Second
	cookieMACLen  = 16
	cookieLen     = 4 + cookieMACLen
	cookieSecrets = 32
)

// cookieJar makes and checks AC-Cookies. It belongs to the AC's owner
// goroutine and does not allocate after its first use in a slot.
type cookieJar struct {
	slot      uint32    // current slot number
	cur, prev hash.Hash // HMACs keyed with the secrets of slot and slot-1
	started   bool
	sum       [sha256.Size]byte
	hdr       [4 + 6]byte
	rand      func([]byte) // secret source, crypto/rand unless a test says otherwise
}

func newKeyedHMAC(r func([]byte)) hash.Hash {
	var secret [cookieSecrets]byte
	r(secret[:])
	return hmac.New(sha256.New, secret[:])
}

// rotate brings the jar to the slot of now.
func (j *cookieJar) rotate(now time.Time) {
	if j.rand == nil {
		j.rand = func(b []byte) { _, _ = rand.Read(b) }
	}
	s := uint32(now.Unix() / int64(cookieSlot/time.Second))
	switch {
	case !j.started:
		j.cur, j.prev = newKeyedHMAC(j.rand), newKeyedHMAC(j.rand)
		j.started = true
	case s == j.slot:
		return
	case s == j.slot+1:
		j.prev, j.cur = j.cur, newKeyedHMAC(j.rand)
	default:
		j.cur, j.prev = newKeyedHMAC(j.rand), newKeyedHMAC(j.rand)
	}
	j.slot = s
}

func (j *cookieJar) mac(h hash.Hash, slot uint32, client MAC, service []byte) []byte {
	binary.BigEndian.PutUint32(j.hdr[0:], slot)
	copy(j.hdr[4:], client[:])
	h.Reset()
	h.Write(j.hdr[:])
	h.Write(service)
	return h.Sum(j.sum[:0])[:cookieMACLen]
}

// make appends a cookie for client and service to dst.
func (j *cookieJar) make(dst []byte, now time.Time, client MAC, service []byte) []byte {
	j.rotate(now)
	dst = binary.BigEndian.AppendUint32(dst, j.slot)
	return append(dst, j.mac(j.cur, j.slot, client, service)...)
}

// verify reports whether cookie was made by this jar for client and service
// in the current or the previous slot.
func (j *cookieJar) verify(cookie []byte, now time.Time, client MAC, service []byte) bool {
	if len(cookie) != cookieLen {
		return false
	}
	j.rotate(now)
	slot := binary.BigEndian.Uint32(cookie)
	var h hash.Hash
	switch slot {
	case j.slot:
		h = j.cur
	case j.slot - 1:
		h = j.prev
	default:
		return false
	}
	return hmac.Equal(cookie[4:], j.mac(h, slot, client, service))
}
