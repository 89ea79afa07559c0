//go:build linux

package kern

import (
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// guarded returns a zeroed slice of n float32 that ends exactly where an
// unreadable page starts, so a kernel reading past its end crashes the test.
func guarded(t testing.TB, n int) []float32 {
	t.Helper()
	ps := unix.Getpagesize()
	body := (n*4 + ps - 1) / ps * ps
	mem, err := unix.Mmap(-1, 0, body+ps, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		t.Fatalf("mmap: %v", err)
	}
	if err := unix.Mprotect(mem[body:], unix.PROT_NONE); err != nil {
		t.Fatalf("mprotect: %v", err)
	}
	t.Cleanup(func() { unix.Munmap(mem) })
	if n == 0 {
		return []float32{}
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&mem[body-n*4])), n)
}
