package router

import (
	"bufio"
	"bytes"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// started is when this process began: the router's uptime.
var started = time.Now()

// Resources is what /system resource shows: the host's memory and CPU,
// and what this rosh process costs, for watching it hold many sessions.
type Resources struct {
	Uptime      time.Duration
	FreeMemory  uint64 // bytes the host has available (MemAvailable)
	TotalMemory uint64
	CPUCount    int
	CPULoad     int // percent of all CPUs busy over the sample
	// Goroutines is how many goroutines the engine runs: one per PPP
	// session plus a fixed few, so it shows what each session costs.
	Goroutines int
	// ProcessMemory is the process's resident set (VmRSS).
	ProcessMemory uint64
}

// ReadResources samples the host and the process; the CPU load is
// measured over sample (RouterOS shows a short recent average).
func ReadResources(sample time.Duration) Resources {
	r := Resources{Uptime: time.Since(started), CPUCount: runtime.NumCPU(), Goroutines: runtime.NumGoroutine()}
	mem := procFields("/proc/meminfo")
	r.TotalMemory, r.FreeMemory = mem["MemTotal"], mem["MemAvailable"]
	r.ProcessMemory = procFields("/proc/self/status")["VmRSS"]
	busy0, total0 := cpuTimes()
	time.Sleep(sample)
	busy1, total1 := cpuTimes()
	if total1 > total0 {
		r.CPULoad = int(100 * (busy1 - busy0) / (total1 - total0))
	}
	return r
}

// procFields reads a /proc file of "Name: value kB" lines; values are in
// bytes. A file that cannot be read gives nothing.
func procFields(path string) map[string]uint64 {
	out := map[string]uint64{}
	data, err := os.ReadFile(path)
	if err != nil {
		return out
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		f := strings.Fields(rest)
		if !ok || len(f) == 0 {
			continue
		}
		v, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			continue
		}
		if len(f) > 1 && f[1] == "kB" {
			v *= 1024
		}
		out[name] = v
	}
	return out
}

// cpuTimes returns the busy and total jiffies of all CPUs (/proc/stat's
// first line; idle and iowait are not busy).
func cpuTimes() (busy, total uint64) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return 0, 0
	}
	for i, s := range f[1:] {
		v, _ := strconv.ParseUint(s, 10, 64)
		total += v
		if i != 3 && i != 4 { // idle, iowait
			busy += v
		}
	}
	return busy, total
}
