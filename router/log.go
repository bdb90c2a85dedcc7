package router

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// LogEntry is one line of the engine's log, as /log print shows it.
type LogEntry struct {
	// Seq numbers entries from 1 in the order they were logged, so that
	// /log print follow knows which ones it has shown.
	Seq     uint64
	Time    time.Time
	Topics  []string
	Message string
}

// Line is the entry as the echo and disk actions write it:
// "2006-01-02 15:04:05 pppoe,info message".
func (e LogEntry) Line() string {
	return e.Time.Format("2006-01-02 15:04:05") + " " + strings.Join(e.Topics, ",") + " " + e.Message
}

// LogRule is one /system logging entry: entries carrying every topic of
// Topics and none of NotTopics go to Action (RouterOS's matching: a rule
// topics=ppp,debug takes "ppp,lcp,debug,packet" lines, topics=ppp,!debug
// the ppp lines that are not debug).
type LogRule struct {
	Topics    []string
	NotTopics []string
	Prefix    string
	Action    string
}

// LogAction is one /system logging action: where matching entries go.
type LogAction struct {
	Name string
	// Target is memory (the buffer /log print shows), echo (the
	// console), or disk (files).
	Target string
	// MemoryLines bounds the memory buffer.
	MemoryLines int
	// DiskFileName, DiskLinesPerFile and DiskFileCount: a disk action
	// writes NAME.0.txt and, when it is full, renames the files one up
	// (NAME.0.txt to NAME.1.txt …) keeping DiskFileCount of them.
	DiskFileName     string
	DiskLinesPerFile int
	DiskFileCount    int
}

// LogConfig is the whole /system logging configuration.
type LogConfig struct {
	Rules   []LogRule
	Actions []LogAction
}

// DefaultLogConfig is RouterOS's: info, error and warning to memory,
// critical to the console; the memory action keeps 1000 lines.
func DefaultLogConfig() LogConfig {
	return LogConfig{
		Rules: []LogRule{
			{Topics: []string{"info"}, Action: "memory"},
			{Topics: []string{"error"}, Action: "memory"},
			{Topics: []string{"warning"}, Action: "memory"},
			{Topics: []string{"critical"}, Action: "echo"},
		},
		Actions: []LogAction{
			{Name: "memory", Target: "memory", MemoryLines: 1000},
			{Name: "disk", Target: "disk", DiskFileName: "log", DiskLinesPerFile: 1000, DiskFileCount: 2},
			{Name: "echo", Target: "echo"},
		},
	}
}

// traceTopics are the topics of the debug trace lines (PPP and PPPoE
// packets, state changes). A rule made only of these may match them, and
// only such a rule turns tracing on (Log.Tracing).
var traceTopics = []string{"pppoe", "ppp", "lcp", "pap", "chap", "mschap", "ipcp", "radius", "debug", "packet"}

// Log is the engine's log: every entry goes through the /system logging
// rules to their actions — a bounded memory buffer (what /log print
// shows), the console, or files.
type Log struct {
	mu      sync.Mutex
	cfg     LogConfig
	entries []LogEntry
	start   int
	max     int
	seq     uint64
	now     func() time.Time
	dir     string
	echo    func(LogEntry)
	disk    map[string]*diskLog
	waiters []chan struct{}

	// tracing says whether any rule may take a debug trace line: the
	// check on every packet's way, one atomic load when it is off.
	tracing atomic.Bool
}

// NewLog returns a log with RouterOS's default rules whose memory action
// keeps the newest max entries.
func NewLog(max int) *Log {
	l := &Log{max: max, now: time.Now, disk: map[string]*diskLog{}}
	cfg := DefaultLogConfig()
	cfg.Actions[0].MemoryLines = max
	l.Configure(cfg)
	return l
}

// Configure replaces the rules and actions.
func (l *Log) Configure(cfg LogConfig) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cfg = cfg
	for _, a := range cfg.Actions {
		if a.Name == "memory" && a.MemoryLines > 0 && a.MemoryLines != l.max {
			old := l.entriesLocked()
			if len(old) > a.MemoryLines {
				old = old[len(old)-a.MemoryLines:]
			}
			l.entries, l.start, l.max = old, 0, a.MemoryLines
		}
	}
	for name, d := range l.disk {
		if i := slices.IndexFunc(cfg.Actions, func(a LogAction) bool { return a.Name == name }); i < 0 || cfg.Actions[i] != d.action {
			d.close()
			delete(l.disk, name)
		}
	}
	on := false
	for _, r := range cfg.Rules {
		if len(r.Topics) > 0 && !slices.Contains(r.NotTopics, "debug") && !slices.Contains(r.NotTopics, "packet") && allIn(r.Topics, traceTopics) {
			on = true
		}
	}
	l.tracing.Store(on)
}

// Config returns the rules and actions in force.
func (l *Log) Config() LogConfig {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cfg
}

// SetDir sets the directory disk actions write their files in ("" the
// working directory).
func (l *Log) SetDir(dir string) {
	l.mu.Lock()
	l.dir = dir
	l.mu.Unlock()
}

// SetEcho sets where echo actions print (the console); nil drops them.
func (l *Log) SetEcho(fn func(LogEntry)) {
	l.mu.Lock()
	l.echo = fn
	l.mu.Unlock()
}

// Tracing reports whether a rule may take debug trace lines (topics among
// pppoe, ppp, lcp, pap, chap, mschap, ipcp, radius, debug, packet). It is
// the check made before a packet is formatted for the log: one atomic
// load, nothing else, when no such rule exists.
func (l *Log) Tracing() bool { return l.tracing.Load() }

// Wants reports whether an entry with these topics would go anywhere.
func (l *Log) Wants(topics ...string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range l.cfg.Rules {
		if r.matches(topics) {
			return true
		}
	}
	return false
}

func (r *LogRule) matches(topics []string) bool {
	return allIn(r.Topics, topics) && !slices.ContainsFunc(r.NotTopics, func(t string) bool { return slices.Contains(topics, t) })
}

func allIn(want, have []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// Add logs an entry with the given topics (e.g. "pppoe,info"). Nothing
// is formatted unless a rule takes it.
func (l *Log) Add(topics string, format string, args ...any) {
	l.add(strings.Split(topics, ","), format, args)
}

// AddTopics is Add with the topics already split.
func (l *Log) AddTopics(topics []string, msg string) { l.add(topics, "%s", []any{msg}) }

func (l *Log) add(topics []string, format string, args []any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var e LogEntry
	built := false
	done := map[string]bool(nil)
	for i := range l.cfg.Rules {
		r := &l.cfg.Rules[i]
		if !r.matches(topics) || done[r.Action] {
			continue
		}
		if done == nil {
			done = map[string]bool{}
		}
		done[r.Action] = true
		if !built {
			l.seq++
			e = LogEntry{Seq: l.seq, Time: l.now(), Topics: topics, Message: fmt.Sprintf(format, args...)}
			built = true
		}
		out := e
		if r.Prefix != "" {
			out.Message = r.Prefix + " " + out.Message
		}
		l.deliver(r.Action, out)
	}
}

// deliver hands an entry to the named action; l.mu is held.
func (l *Log) deliver(action string, e LogEntry) {
	i := slices.IndexFunc(l.cfg.Actions, func(a LogAction) bool { return a.Name == action })
	if i < 0 {
		return
	}
	a := l.cfg.Actions[i]
	switch a.Target {
	case "memory":
		if len(l.entries) < l.max {
			l.entries = append(l.entries, e)
		} else {
			l.entries[l.start] = e
			l.start = (l.start + 1) % l.max
		}
		for _, w := range l.waiters {
			close(w)
		}
		l.waiters = l.waiters[:0]
	case "echo":
		if l.echo != nil {
			l.echo(e)
		}
	case "disk":
		d := l.disk[a.Name]
		if d == nil {
			d = &diskLog{action: a, dir: l.dir}
			l.disk[a.Name] = d
		}
		d.write(e.Line())
	}
}

// Entries returns a copy of the memory log, oldest first.
func (l *Log) Entries() []LogEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.entriesLocked()
}

func (l *Log) entriesLocked() []LogEntry {
	out := make([]LogEntry, 0, len(l.entries))
	out = append(out, l.entries[l.start:]...)
	return append(out, l.entries[:l.start]...)
}

// Changed returns a channel closed at the next entry added to memory
// (/log print follow waits on it).
func (l *Log) Changed() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := make(chan struct{})
	l.waiters = append(l.waiters, c)
	return c
}

// Reopen closes the disk actions' files, to be opened again at the next
// line (SIGHUP to rosh serve, after logrotate moved them).
func (l *Log) Reopen() error {
	l.Close()
	return nil
}

// Close closes the disk actions' files.
func (l *Log) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for name, d := range l.disk {
		d.close()
		delete(l.disk, name)
	}
}

// diskLog is a disk action's current file.
type diskLog struct {
	action LogAction
	dir    string
	f      *os.File
	lines  int
}

func (d *diskLog) path(i int) string {
	return filepath.Join(d.dir, d.action.DiskFileName+"."+strconv.Itoa(i)+".txt")
}

// write appends a line, rotating the files when the current one is full.
// A write error is dropped: the log must never stop the router.
func (d *diskLog) write(line string) {
	if d.f == nil {
		f, err := os.OpenFile(d.path(0), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return
		}
		d.f = f
		if data, err := os.ReadFile(d.path(0)); err == nil {
			d.lines = strings.Count(string(data), "\n")
		}
	}
	if d.action.DiskLinesPerFile > 0 && d.lines >= d.action.DiskLinesPerFile {
		d.close()
		n := max(d.action.DiskFileCount, 1)
		os.Remove(d.path(n - 1))
		for i := n - 2; i >= 0; i-- {
			os.Rename(d.path(i), d.path(i+1))
		}
		f, err := os.OpenFile(d.path(0), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		if err != nil {
			return
		}
		d.f, d.lines = f, 0
	}
	if _, err := d.f.WriteString(line + "\n"); err == nil {
		d.lines++
	}
}

func (d *diskLog) close() {
	if d.f != nil {
		d.f.Close()
		d.f = nil
	}
}
