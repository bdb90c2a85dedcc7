// Package metrics writes the Prometheus text exposition format, version
// 0.0.4: "# HELP" and "# TYPE" lines, then one line per sample,
// name{label="value",...} value. It is written by hand rather than with
// prometheus/client_golang: rosh's counters already live in its engines
// (atomics and snapshots read at scrape time), so all that is needed is
// the format — a page of code, where the client library would bring its
// registry, protobuf and half a dozen modules into the build.
package metrics

import (
	"bufio"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// ContentType is the exposition format's media type.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// Label is one name="value" pair.
type Label struct{ Name, Value string }

// L builds labels from name, value, name, value ...
func L(kv ...string) []Label {
	out := make([]Label, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, Label{kv[i], kv[i+1]})
	}
	return out
}

// Writer writes one exposition. Samples of a family must follow its
// header and be written together, as the format requires.
type Writer struct {
	w    *bufio.Writer
	seen map[string]bool
}

// NewWriter returns a Writer on w; Flush when done.
func NewWriter(w io.Writer) *Writer { return &Writer{w: bufio.NewWriter(w), seen: map[string]bool{}} }

// Flush writes what is buffered.
func (w *Writer) Flush() error { return w.w.Flush() }

// Family writes a metric family's HELP and TYPE lines (counter, gauge,
// histogram). A family is written once; a second call is ignored.
func (w *Writer) Family(name, typ, help string) {
	if w.seen[name] {
		return
	}
	w.seen[name] = true
	w.w.WriteString("# HELP " + name + " " + escapeHelp(help) + "\n")
	w.w.WriteString("# TYPE " + name + " " + typ + "\n")
}

// Sample writes one sample line.
func (w *Writer) Sample(name string, labels []Label, v float64) {
	w.w.WriteString(name)
	if len(labels) > 0 {
		w.w.WriteByte('{')
		for i, l := range labels {
			if i > 0 {
				w.w.WriteByte(',')
			}
			w.w.WriteString(l.Name + `="` + escapeValue(l.Value) + `"`)
		}
		w.w.WriteByte('}')
	}
	w.w.WriteByte(' ')
	w.w.WriteString(FormatValue(v))
	w.w.WriteByte('\n')
}

// FormatValue writes a sample value: integers exactly, +Inf/-Inf/NaN by
// the format's spelling.
func FormatValue(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	case v == math.Trunc(v) && math.Abs(v) < 1<<53:
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// escapeValue escapes a label value: backslash, double quote, newline.
func escapeValue(s string) string {
	if !strings.ContainsAny(s, "\\\"\n") {
		return s
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return r.Replace(s)
}

// escapeHelp escapes HELP text: backslash and newline.
func escapeHelp(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(s)
}

// Histogram counts observations into cumulative buckets (le="bound").
// It is safe for concurrent use.
type Histogram struct {
	mu     sync.Mutex
	bounds []float64
	counts []uint64 // per bucket, not cumulative; last is +Inf
	sum    float64
	n      uint64
}

// NewHistogram returns a histogram with the given upper bounds (sorted
// here; +Inf is implied).
func NewHistogram(bounds ...float64) *Histogram {
	b := append([]float64(nil), bounds...)
	sort.Float64s(b)
	return &Histogram{bounds: b, counts: make([]uint64, len(b)+1)}
}

// Observe adds one observation.
func (h *Histogram) Observe(v float64) {
	i := sort.SearchFloat64s(h.bounds, v) // first bound >= v: le is inclusive
	h.mu.Lock()
	h.counts[i]++
	h.sum += v
	h.n++
	h.mu.Unlock()
}

// Write writes the histogram's _bucket, _sum and _count samples under
// name with labels (the family header is the caller's).
func (h *Histogram) Write(w *Writer, name string, labels []Label) {
	h.mu.Lock()
	counts := append([]uint64(nil), h.counts...)
	sum, n := h.sum, h.n
	h.mu.Unlock()
	var cum uint64
	for i, c := range counts {
		cum += c
		le := "+Inf"
		if i < len(h.bounds) {
			le = FormatValue(h.bounds[i])
		}
		w.Sample(name+"_bucket", append(append([]Label(nil), labels...), Label{"le", le}), float64(cum))
	}
	w.Sample(name+"_sum", labels, sum)
	w.Sample(name+"_count", labels, float64(n))
}
