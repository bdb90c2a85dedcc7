package router

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"rosh/link"
	"rosh/pppoe"
)

// sessionLogger is the logger a PPP session logs through: its records —
// the pppd-style trace of every packet, state changes — become log
// entries "ppp,<protocol>,debug[,packet]" prefixed with the session's
// interface name (name is asked at each record: an access concentrator's
// session is <pppoe-MAC> until the peer has authenticated, then
// <pppoe-USER>). Below warning level a record is not even built unless
// a /system logging rule may take trace lines: Enabled is one atomic
// load.
func (r *Runtime) sessionLogger(name func() string) *slog.Logger {
	return slog.New(&traceHandler{log: r.log, name: name})
}

type traceHandler struct {
	log  *Log
	name func() string
}

func (h *traceHandler) Enabled(_ context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn || h.log.Tracing()
}

func (h *traceHandler) Handle(_ context.Context, rec slog.Record) error {
	topics := make([]string, 1, 5)
	topics[0] = "ppp"
	packet := false
	var extra strings.Builder
	rec.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "topic":
			if v := a.Value.String(); v != "ppp" {
				topics = append(topics, v)
			}
		case "packet":
			packet = true
		default:
			fmt.Fprintf(&extra, " %s=%v", a.Key, a.Value)
		}
		return true
	})
	switch {
	case rec.Level >= slog.LevelError:
		topics = append(topics, "error")
	case rec.Level >= slog.LevelWarn:
		topics = append(topics, "warning")
	default:
		topics = append(topics, "debug")
	}
	if packet {
		topics = append(topics, "packet")
	}
	h.log.AddTopics(topics, h.name()+": "+rec.Message+extra.String())
	return nil
}

func (h *traceHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *traceHandler) WithGroup(string) slog.Handler      { return h }

// discoveryTopics are the topics of a discovery frame's trace line.
var discoveryTopics = []string{"pppoe", "debug", "packet"}

// traceDiscovery logs a discovery frame seen on an interface, sent or
// received, decoded with its tags.
func (r *Runtime) traceDiscovery(port string, dir link.Direction, frame []byte) {
	if s, ok := pppoe.TraceDiscovery(frame); ok {
		r.log.AddTopics(discoveryTopics, port+": "+dir.String()+" ["+s+"]")
	}
}

// updateTap puts on the interfaces the tap that the log's rules and the
// sniffers ask for, or none: frames then cost one atomic load.
func (r *Runtime) updateTap() {
	r.snMu.Lock()
	defer r.snMu.Unlock()
	tracing := r.log.Tracing()
	sniffers := r.sniffers
	switch {
	case !tracing && len(sniffers) == 0:
		r.ports.SetTap(nil)
	case len(sniffers) == 0:
		r.ports.SetTap(r.traceDiscovery)
	default:
		r.ports.SetTap(func(port string, dir link.Direction, frame []byte) {
			if r.log.Tracing() {
				r.traceDiscovery(port, dir, frame)
			}
			for _, s := range sniffers {
				s.capture(port, dir, frame)
			}
		})
	}
}
