//go:build linux

package kern

import "golang.org/x/sys/unix"

// threadCPUSeconds returns the CPU time consumed by the calling OS thread
// (the benchmarks lock their goroutine to one thread), or -1 if unknown.
func threadCPUSeconds() float64 {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts) != nil {
		return -1
	}
	return float64(ts.Nano()) / 1e9
}
