package router

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// LogEntry is one line of the engine's log, as /log print shows it.
type LogEntry struct {
	Time    time.Time
	Topics  []string
	Message string
}

// Log is a bounded in-memory log (RouterOS's "memory" action keeps the
// last 1000 lines by default).
type Log struct {
	mu      sync.Mutex
	entries []LogEntry
	start   int
	max     int
	now     func() time.Time
}

// NewLog returns a log that keeps the newest max entries.
func NewLog(max int) *Log { return &Log{max: max, now: time.Now} }

// Add appends an entry with the given topics (e.g. "pppoe", "info").
func (l *Log) Add(topics string, format string, args ...any) {
	e := LogEntry{Time: l.now(), Topics: strings.Split(topics, ","), Message: fmt.Sprintf(format, args...)}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.entries) < l.max {
		l.entries = append(l.entries, e)
		return
	}
	l.entries[l.start] = e
	l.start = (l.start + 1) % l.max
}

// Entries returns a copy of the log, oldest first.
func (l *Log) Entries() []LogEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]LogEntry, 0, len(l.entries))
	out = append(out, l.entries[l.start:]...)
	out = append(out, l.entries[:l.start]...)
	return out
}
