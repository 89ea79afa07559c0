//go:build !linux

package kern

func threadCPUSeconds() float64 { return -1 }
