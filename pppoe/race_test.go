//go:build race

package pppoe

// raceEnabled: the race detector slows everything about tenfold, so the
// flood's throughput and latency figures are not asserted; its memory
// bound still is.
const raceEnabled = true
