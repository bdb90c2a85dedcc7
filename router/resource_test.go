package router

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

func TestReadResources(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	before := ReadResources(10 * time.Millisecond)
	for range 10 {
		go func() { <-block }()
	}
	r := ReadResources(10 * time.Millisecond)
	if r.TotalMemory == 0 || r.FreeMemory > r.TotalMemory || r.ProcessMemory == 0 ||
		r.CPUCount != runtime.NumCPU() || r.CPULoad < 0 || r.CPULoad > 100 || r.Uptime <= 0 {
		t.Errorf("resources %+v", r)
	}
	if r.Goroutines < before.Goroutines+10 {
		t.Errorf("goroutines %d after starting 10 more than %d", r.Goroutines, before.Goroutines)
	}
}

func TestProcFields(t *testing.T) {
	path := filepath.Join(t.TempDir(), "status")
	os.WriteFile(path, []byte("Name:\trosh\nVmRSS:\t  1024 kB\nThreads:\t7\nbad line\nX: y\n"), 0o644)
	got := procFields(path)
	if got["VmRSS"] != 1<<20 || got["Threads"] != 7 || len(got) != 2 {
		t.Errorf("procFields = %v", got)
	}
	if len(procFields(filepath.Join(t.TempDir(), "missing"))) != 0 {
		t.Error("a missing file gave fields")
	}
}
