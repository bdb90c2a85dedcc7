package menus

import (
	"strconv"
	"time"

	"rosh/dataplane"
	"rosh/router"
)

// queueSimple is /queue simple: read-only here, its entries the dynamic
// queues of sessions that have a rate limit (the profile's rate-limit or
// RADIUS's Mikrotik-Rate-Limit), named after the session's interface and
// printed the way RouterOS prints them. Upload/download pairs are the
// target's: upload is what the subscriber sends (the limit's rx).
func queueSimple() *Menu {
	prop := func(name string) *Prop { return &Prop{Name: name, Type: String{}} }
	return &Menu{
		Path:     "/queue/simple",
		Help:     "simple queues (dynamic ones of rate-limited sessions)",
		ReadOnly: true,
		Props: []*Prop{
			{Name: "name", Type: String{}, Quote: true}, prop("target"), prop("parent"),
			{Name: "packet-marks", Type: String{}, Quote: true}, prop("priority"), prop("queue"),
			prop("limit-at"), prop("max-limit"), prop("burst-limit"), prop("burst-threshold"),
			prop("burst-time"), prop("bucket-size"), prop("bytes"), prop("packets"),
			prop("dropped"), prop("queued-packets"), prop("queued-bytes"),
		},
		Flags: []Flag{
			{Letter: 'X', Name: "disabled", Has: func(*Ctx, *Row) bool { return false }},
			{Letter: 'I', Name: "invalid", Has: func(*Ctx, *Row) bool { return false }},
			dynamicFlag,
		},
		Dynamic: func(ctx *Ctx) []*Row {
			var rows []*Row
			for _, s := range ctx.Eng.Live().ActiveSessions() {
				if s.RateLimit.IsZero() {
					continue
				}
				rows = append(rows, &Row{Dynamic: true, Values: queueValues(s)})
			}
			return rows
		},
	}
}

// queueValues are a rate-limited session's dynamic queue.
func queueValues(s router.ActiveSession) map[string]string {
	rl, q, c := s.RateLimit, s.Queue, s.Counters
	pair := func(a, b string) string { return a + "/" + b }
	rate := func(a, b uint64) string { return pair(dataplane.FormatRate(a), dataplane.FormatRate(b)) }
	u := func(a, b uint64) string { return pair(utoa(a), utoa(b)) }
	// Burst fields are 0 for a direction without a burst rate, as
	// RouterOS shows a queue made from "10M/20M".
	burst := func(d dataplane.Direction) (limit, threshold uint64, t time.Duration) {
		if d.BurstRate == 0 {
			return 0, 0, 0
		}
		return d.BurstRate, d.BurstThreshold, d.BurstTime
	}
	rl1, rt1, rtt := burst(rl.Rx)
	tl1, tt1, ttt := burst(rl.Tx)
	target := s.Address
	if target != "" {
		target += "/32"
	}
	prio := strconv.Itoa(rl.Priority)
	return map[string]string{
		"name": s.Interface, "target": target, "parent": "none", "packet-marks": "",
		"priority": pair(prio, prio), "queue": "default-small/default-small",
		"limit-at": rate(rl.Rx.RateMin, rl.Tx.RateMin), "max-limit": rate(rl.Rx.Rate, rl.Tx.Rate),
		"burst-limit": rate(rl1, tl1), "burst-threshold": rate(rt1, tt1),
		"burst-time":  pair(FormatDuration(rtt), FormatDuration(ttt)),
		"bucket-size": "0.1/0.1",
		"bytes":       u(c.RxBytes, c.TxBytes), "packets": u(c.RxPackets, c.TxPackets),
		"dropped":        u(q.Rx.Dropped, q.Tx.Dropped),
		"queued-packets": u(q.Rx.QueuedPackets, q.Tx.QueuedPackets),
		"queued-bytes":   u(q.Rx.QueuedBytes, q.Tx.QueuedBytes),
	}
}
