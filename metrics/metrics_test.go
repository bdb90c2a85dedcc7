package metrics

import (
	"bytes"
	"math"
	"testing"
)

// TestExposition checks the text format's spelling: label escapes, value
// spellings, a family header once, histogram buckets cumulative with an
// inclusive upper bound and +Inf last.
func TestExposition(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b)
	w.Family("x_total", "counter", "A help\\text\nwith a newline.")
	w.Family("x_total", "counter", "written once")
	w.Sample("x_total", L("name", `<pppoe-a"b\c>`+"\n"), 3)
	w.Sample("x_total", nil, math.Inf(1))
	w.Family("y", "gauge", "Y.")
	w.Sample("y", L("a", "1", "b", "2"), 0.25)
	h := NewHistogram(1, 0.5)
	for _, v := range []float64{0.5, 0.7, 1, 3} {
		h.Observe(v)
	}
	w.Family("h_seconds", "histogram", "H.")
	h.Write(w, "h_seconds", L("kind", "access"))
	w.Flush()
	want := `# HELP x_total A help\\text\nwith a newline.
# TYPE x_total counter
x_total{name="<pppoe-a\"b\\c>\n"} 3
x_total +Inf
# HELP y Y.
# TYPE y gauge
y{a="1",b="2"} 0.25
# HELP h_seconds H.
# TYPE h_seconds histogram
h_seconds_bucket{kind="access",le="0.5"} 1
h_seconds_bucket{kind="access",le="1"} 3
h_seconds_bucket{kind="access",le="+Inf"} 4
h_seconds_sum{kind="access"} 5.2
h_seconds_count{kind="access"} 4
`
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}
