// Package allocs measures what a piece of code allocates, for the tests
// that bound it (a decoder must not size anything from a length field it
// has not checked against the bytes there).
package allocs

import "runtime"

// BytesPerCall is the bytes fn allocates per call, averaged over runs,
// after one call to warm up (buffers made once, on first use, do not
// count).
func BytesPerCall(runs int, fn func()) uint64 {
	fn()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range runs {
		fn()
	}
	runtime.ReadMemStats(&after)
	return (after.TotalAlloc - before.TotalAlloc) / uint64(runs)
}
