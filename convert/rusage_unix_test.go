//go:build unix

package convert

import "golang.org/x/sys/unix"

// cpuSeconds is the user plus system CPU time this process has used.
func cpuSeconds() float64 {
	var ru unix.Rusage
	if unix.Getrusage(unix.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
