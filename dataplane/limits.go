package dataplane

import "sync/atomic"

// limits are what SetRateLimit and SetQuota ask of a session.
type limits struct {
	rate RateLimit
	// rx and tx shape each direction; nil where it is not limited.
	rx, tx *bucket
	// inAt and outAt are the values of the rx and tx byte counters at
	// which the quota is used up; 0: none.
	inAt, outAt uint64
	onQuota     func(out bool)
	fired       *atomic.Bool
}

func (l *limits) active() bool { return l.rx != nil || l.tx != nil || l.inAt != 0 || l.outAt != 0 }

// SetRateLimit shapes the session's traffic to rl from now on: Rx is what
// the peer sends (Deliver, Queue), Tx what the host sends it (the
// reader). A zero rl removes the limit; packets still queued leave at
// once. Changing the limit of a running session takes effect with the
// next packet; the burst average starts afresh.
func (i *Interface) SetRateLimit(rl RateLimit) {
	i.limMu.Lock()
	defer i.limMu.Unlock()
	i.lim.rate = rl
	i.lim.rx = i.bucket(&i.bk[0], rl.Rx, false)
	i.lim.tx = i.bucket(&i.bk[1], rl.Tx, true)
	i.publish()
}

// bucket configures the persistent bucket of one direction (made on first
// use) and returns it, or nil when d does not limit.
func (i *Interface) bucket(p **bucket, d Direction, tx bool) *bucket {
	if *p == nil && !d.Limited() {
		return nil
	}
	if *p == nil {
		if tx {
			*p = newBucket(i.headroom, func(pkt []byte) { i.sendNow(pkt, len(pkt)-i.headroom) }, i.batchEnd)
		} else {
			*p = newBucket(0, func(pkt []byte) { i.queueNow(pkt) }, func() { i.Flush() })
		}
	}
	(*p).configure(d, nanotime()) // with Rate 0 it releases what is queued
	if !d.Limited() {
		return nil
	}
	return *p
}

// SetQuota ends the session's traffic allowance after in more bytes from
// the peer or out more bytes to it (0: no quota that way): onQuota is
// called once, on a data path goroutine (it must not block), with out
// telling which quota was used up. RouterOS's limit-bytes-in/out.
func (i *Interface) SetQuota(in, out uint64, onQuota func(out bool)) {
	i.limMu.Lock()
	defer i.limMu.Unlock()
	st := i.Stats()
	i.lim.inAt, i.lim.outAt = 0, 0
	if in > 0 {
		i.lim.inAt = st.RxBytes + in
	}
	if out > 0 {
		i.lim.outAt = st.TxBytes + out
	}
	i.lim.onQuota, i.lim.fired = onQuota, new(atomic.Bool)
	i.publish()
}

// publish hands a copy of i.lim to the data path (nil when it limits
// nothing). limMu is held.
func (i *Interface) publish() {
	l := i.lim
	if !l.active() {
		i.limits.Store(nil)
		return
	}
	i.limits.Store(&l)
}

// checkQuota fires the quota callback when a byte counter (out: tx)
// reached its quota.
func (i *Interface) checkQuota(out bool, bytes uint64) {
	l := i.limits.Load()
	if l == nil || l.onQuota == nil {
		return
	}
	at := l.inAt
	if out {
		at = l.outAt
	}
	if at != 0 && bytes >= at && l.fired.CompareAndSwap(false, true) {
		l.onQuota(out)
	}
}

// RateLimit is the limit SetRateLimit set (zero: none).
func (i *Interface) RateLimit() RateLimit {
	i.limMu.Lock()
	defer i.limMu.Unlock()
	return i.lim.rate
}

// ShaperStats reads the shaping counters; ok is false while the session
// has no rate limit.
func (i *Interface) ShaperStats() (s ShaperStats, ok bool) {
	i.limMu.Lock()
	rl, rx, tx := i.lim.rate, i.bk[0], i.bk[1]
	i.limMu.Unlock()
	if rl.IsZero() {
		return ShaperStats{}, false
	}
	if rx != nil {
		s.Rx = rx.stats()
	}
	if tx != nil {
		s.Tx = tx.stats()
	}
	return s, true
}
