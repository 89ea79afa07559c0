//go:build !unix

package convert

// cpuSeconds is not measured where getrusage is missing.
func cpuSeconds() float64 { return 0 }
