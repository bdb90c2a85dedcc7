package router

import (
	"context"
	"fmt"
	"log/slog"
	"testing"

	"rosh/link"
	"rosh/ppp"
)

// lcpConfReq is an LCP Configure-Request: MRU 1480, PAP, a magic number.
var lcpConfReq = []byte{
	0x01, 0x01, 0x00, 0x12, // ConfReq id=1 length=18
	0x01, 0x04, 0x05, 0xc8, // MRU 1480
	0x03, 0x04, 0xc0, 0x23, // auth PAP
	0x05, 0x06, 0x1a, 0x2b, 0x3c, 0x4d, // magic
}

// traceOnce is what a PPP session and a port do for one packet: the
// session's guarded debug line, the port's tap.
func traceOnce(l *slog.Logger, port *link.Port, frame []byte) {
	if l.Enabled(context.Background(), -4) {
		l.Debug("sent ["+ppp.TracePacket(ppp.ProtoLCP, lcpConfReq)+"]", "topic", "lcp", "packet", true)
	}
	port.WriteFrame(frame)
}

func benchRuntime(tb testing.TB, rules ...LogRule) (*Runtime, *link.Port) {
	a, b := link.Pipe()
	tb.Cleanup(func() { a.Close(); b.Close() })
	reg := link.NewRegistry(func(name string) (link.Link, error) {
		if name != "ether1" {
			return nil, fmt.Errorf("no interface %s", name)
		}
		return a, nil
	})
	port, err := reg.Acquire("ether1")
	if err != nil {
		tb.Fatal(err)
	}
	eng := NewEngine()
	cfg := DefaultLogConfig()
	cfg.Rules = append(cfg.Rules, rules...)
	eng.Log.Configure(cfg)
	r := &Runtime{log: eng.Log, ports: reg}
	r.updateTap()
	return r, port
}

var benchFrame = make([]byte, 64)

// TestTraceOffAllocates: with RouterOS's default rules the trace costs
// no allocation on a packet's way.
func TestTraceOffAllocates(t *testing.T) {
	r, port := benchRuntime(t)
	l := r.sessionLogger(func() string { return "x" })
	if n := testing.AllocsPerRun(1000, func() { traceOnce(l, port, benchFrame) }); n != 0 {
		t.Errorf("%v allocations per packet with tracing off, want 0", n)
	}
}

func BenchmarkTraceOff(b *testing.B) {
	r, port := benchRuntime(b)
	l := r.sessionLogger(func() string { return "<pppoe-MT-User>" })
	b.ReportAllocs()
	for b.Loop() {
		traceOnce(l, port, benchFrame)
	}
}

func BenchmarkTraceOn(b *testing.B) {
	r, port := benchRuntime(b, LogRule{Topics: []string{"debug", "packet"}, Action: "memory"})
	l := r.sessionLogger(func() string { return "<pppoe-MT-User>" })
	b.ReportAllocs()
	for b.Loop() {
		traceOnce(l, port, benchFrame)
	}
}
