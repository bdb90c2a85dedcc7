package emulate

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"rosh/link"
)

// Run is a whole emulation: Start, wait until every subscriber is up or
// failed, hold the sessions for cfg.Hold, then Stop. ctx ending cuts the
// setup or the hold short and goes to the teardown, which is still
// graceful. progress, if set, is called about once a second with the
// stats until the teardown begins.
func Run(ctx context.Context, port *link.Port, cfg Config, progress func(Stats)) (Report, error) {
	e, err := Start(port, cfg)
	if err != nil {
		return Report{}, err
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	settled := time.NewTicker(10 * time.Millisecond)
	defer settled.Stop()
	var holdEnd <-chan time.Time
wait:
	for {
		select {
		case <-ctx.Done():
			break wait
		case <-tick.C:
			if progress != nil {
				progress(e.Stats())
			}
		case <-settled.C:
			if holdEnd != nil || !e.Stats().Settled(cfg.Sessions) {
				continue
			}
			if cfg.Hold < 0 {
				holdEnd = make(chan time.Time) // until ctx ends
				continue
			}
			holdEnd = time.After(cfg.Hold)
		case <-holdEnd:
			break wait
		}
	}
	return e.Stop(), nil
}

// ProgressLine is one line of progress for a terminal.
func ProgressLine(s Stats, sessions int) string {
	rate := 0.0
	if sec := s.Elapsed.Seconds(); sec > 0 {
		rate = float64(s.Established) / sec
	}
	return fmt.Sprintf("%6.1fs  started %d/%d  up %d  failed %d  lost %d  %.0f sessions/s",
		s.Elapsed.Seconds(), s.Started, sessions, s.Up, s.Failed, s.Lost, rate)
}

// WriteTable prints the report as a two-column table, failures and losses
// by reason, most frequent first.
func (r Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(name, format string, args ...any) {
		fmt.Fprintf(tw, "  %s\t%s\n", name, fmt.Sprintf(format, args...))
	}
	pct := func(n int) float64 { return 100 * float64(n) / float64(max(r.Sessions, 1)) }
	row("subscribers", "%d", r.Sessions)
	row("established", "%d (%.1f%%)", r.Established, pct(r.Established))
	row("failed", "%d (%.1f%%)", r.Failed, pct(r.Failed))
	if r.Established > 0 {
		row("setup time", "%v (first PADI to last IPCP up)", r.SetupTime.Round(time.Millisecond))
		row("setup rate", "%.0f sessions/s", r.SetupRate)
		row("setup per session", "p50 %v  p99 %v  max %v", r.SetupP50.Round(time.Millisecond),
			r.SetupP99.Round(time.Millisecond), r.SetupMax.Round(time.Millisecond))
		row("  of it PADI to PADS", "p50 %v  p99 %v", r.DiscoveryP50.Round(time.Millisecond), r.DiscoveryP99.Round(time.Millisecond))
		row("lost while up", "%d", r.Lost)
	}
	if r.Teardown > 0 {
		row("teardown time", "%v (close to last PADT)", r.Teardown.Round(time.Millisecond))
		row("teardown rate", "%.0f sessions/s", r.TeardownRate)
	}
	row("PADI/PADR sent", "%d / %d (resends included)", r.PADISent, r.PADRSent)
	row("PADT received", "%d", r.PADTReceived)
	row("frames rx/tx", "%d / %d", r.Port.Link.RxFrames, r.Port.Link.TxFrames)
	row("frames dropped", "%d", r.Port.Link.Drops)
	for _, part := range []struct {
		title string
		m     map[string]int
	}{{"failures", r.Failures}, {"lost", r.Losses}} {
		for _, k := range byCount(part.m) {
			if ex := r.Examples[k]; ex != "" {
				row(part.title+": "+k, "%d, e.g. %q", part.m[k], truncate(ex, 100))
				continue
			}
			row(part.title+": "+k, "%d", part.m[k])
		}
	}
	return tw.Flush()
}

// truncate shortens s to at most n bytes, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}

// byCount orders a reason table's keys by count, then name.
func byCount(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if m[a] != m[b] {
			return m[b] - m[a]
		}
		return strings.Compare(a, b)
	})
	return keys
}

// ringSize is the receive ring an emulator's interface gets: a burst of
// answers to thousands of subscribers at once must not overflow it.
const ringSize = 32 << 20

// OpenPort opens ifname for an emulation: an AF_PACKET link (the engine's
// own, which reads frames from a ring without a system call each),
// promiscuous, so frames for the emulated MACs come up, with a large ring.
// Close the port when done.
func OpenPort(ifname string) (*link.Port, error) {
	l, err := link.OpenPacketWith(ifname, link.PacketOptions{Promiscuous: true, RingSize: ringSize})
	if err != nil {
		return nil, err
	}
	return link.NewPort(l), nil
}
