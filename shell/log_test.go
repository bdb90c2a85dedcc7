package shell

import (
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuf is a buffer written by the shell's goroutine and read by the
// test's.
type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// TestLogPrintFollow: print follow shows the matching entries there, then
// each new one as it is logged, until Ctrl-C; follow-only only new ones.
func TestLogPrintFollow(t *testing.T) {
	for _, flag := range []string{"follow", "follow-only"} {
		sh, _ := newTestShell(t)
		var out syncBuf
		sh.out = newOutput(&out)
		sh.eng.Log.Add("pppoe,ppp,info", "old ppp line")
		sh.eng.Log.Add("system,info", "old system line")
		done := make(chan error)
		go func() { done <- sh.Execute(`/log print `+flag+` where topics~"ppp"`, 1) }()
		waitOut := func(s string) {
			t.Helper()
			for deadline := time.Now().Add(5 * time.Second); !strings.Contains(out.String(), s); time.Sleep(5 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("%s: %q never printed; output:\n%s", flag, s, out.String())
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
		sh.eng.Log.Add("ppp,error", "new ppp line")
		sh.eng.Log.Add("system,info", "new system line")
		waitOut("ppp,error new ppp line")
		sh.Interrupt()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		got := out.String()
		if strings.Contains(got, "system line") || strings.Contains(got, "old ppp line") != (flag == "follow") {
			t.Errorf("%s printed:\n%s", flag, got)
		}
	}
}
