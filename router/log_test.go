package router

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func messages(l *Log) string {
	var s []string
	for _, e := range l.Entries() {
		s = append(s, strings.Join(e.Topics, ",")+" "+e.Message)
	}
	return strings.Join(s, "\n")
}

// TestLogRules: RouterOS's defaults keep info, warning and error and drop
// debug; a rule's topics must all be on an entry, its !topics none.
func TestLogRules(t *testing.T) {
	l := NewLog(1000)
	if l.Tracing() {
		t.Error("tracing on with the default rules")
	}
	l.Add("pppoe,info", "up")
	l.Add("ppp,lcp,debug,packet", "rcvd [LCP ConfReq id=0x1]")
	l.Add("ppp,error", "no address")
	if got, want := messages(l), "pppoe,info up\nppp,error no address"; got != want {
		t.Errorf("default rules kept:\n%s\nwant:\n%s", got, want)
	}
	cfg := DefaultLogConfig()
	cfg.Rules = append(cfg.Rules, LogRule{Topics: []string{"ppp", "debug"}, NotTopics: []string{"lcp"}, Action: "memory", Prefix: "T"})
	l.Configure(cfg)
	if !l.Tracing() {
		t.Error("tracing off with a ppp,debug rule")
	}
	l.Add("ppp,lcp,debug,packet", "lcp line")
	l.Add("ppp,ipcp,debug,packet", "ipcp line")
	l.Add("ppp,info,debug", "both rules, once")
	got := messages(l)
	for _, want := range []string{"ppp,ipcp,debug,packet T ipcp line", "ppp,info,debug both rules, once"} {
		if !strings.Contains(got, want) {
			t.Errorf("log lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "lcp line") || strings.Count(got, "both rules") != 1 {
		t.Errorf("!lcp not honoured or an entry stored twice:\n%s", got)
	}
	if !l.Wants("ppp", "ipcp", "debug") || l.Wants("pppoe", "debug") {
		t.Error("Wants disagrees with the rules")
	}
}

// TestLogMemoryLines: the memory action keeps its newest memory-lines.
func TestLogMemoryLines(t *testing.T) {
	l := NewLog(1000)
	cfg := DefaultLogConfig()
	cfg.Actions[0].MemoryLines = 3
	l.Configure(cfg)
	for _, m := range []string{"a", "b", "c", "d", "e"} {
		l.Add("info", "%s", m)
	}
	es := l.Entries()
	if len(es) != 3 || es[0].Message != "c" || es[2].Message != "e" || es[2].Seq != 5 {
		t.Errorf("entries %+v, want c d e numbered up to 5", es)
	}
}

// TestLogDisk: a disk action writes NAME.0.txt and rotates it, keeping
// disk-file-count files.
func TestLogDisk(t *testing.T) {
	dir := t.TempDir()
	l := NewLog(1000)
	l.SetDir(dir)
	cfg := DefaultLogConfig()
	cfg.Actions[1].DiskFileName = "trace"
	cfg.Actions[1].DiskLinesPerFile = 2
	cfg.Rules = append(cfg.Rules, LogRule{Topics: []string{"ppp"}, Action: "disk"})
	l.Configure(cfg)
	for _, m := range []string{"1", "2", "3", "4", "5"} {
		l.Add("ppp,info", "line %s", m)
	}
	l.Close()
	read := func(n string) string { b, _ := os.ReadFile(filepath.Join(dir, n)); return string(b) }
	if f0, f1 := read("trace.0.txt"), read("trace.1.txt"); !strings.HasSuffix(f0, "ppp,info line 5\n") || strings.Count(f1, "\n") != 2 || !strings.Contains(f1, "line 4") {
		t.Errorf("trace.0.txt:\n%s\ntrace.1.txt:\n%s", f0, f1)
	}
	if _, err := os.Stat(filepath.Join(dir, "trace.2.txt")); err == nil {
		t.Error("a third file kept with disk-file-count=2")
	}
}
