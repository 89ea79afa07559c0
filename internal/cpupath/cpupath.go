// Package cpupath names the kernel paths of the packages whose kernels run
// in Go or in amd64 assembly (nn/cpu/kern, loader/imgkern) and holds the
// rules they share: which paths a CPU runs, which one a program starts on,
// and the errors for a path that is unknown or that the CPU lacks.
//
// Each package keeps its own state (the path its kernels dispatch on) and
// its own CPU feature requirements: it passes whether this CPU and build run
// its AVX2 and its AVX-512 kernels to Supported. Under the `purego` build
// tag those packages build no assembly and pass false for both, so
// PureGo is their only path.
package cpupath

import (
	"fmt"
	"os"
	"slices"
	"strings"
)

// Path names one set of a package's kernels:
//
//   - PureGo: the Go kernels (any CPU, any architecture);
//   - AVX2: the amd64 assembly with AVX2 (and what else the package's
//     kernels need, e.g. FMA);
//   - AVX512: AVX2 plus the package's AVX-512 kernels.
type Path string

// The paths, from the slowest to the fastest.
const (
	PureGo Path = "purego"
	AVX2   Path = "avx2"
	AVX512 Path = "avx512"
)

// Paths lists every path, slowest first.
var Paths = []Path{PureGo, AVX2, AVX512}

// Auto is the choice of a path that leaves it to the program (the fastest
// path, or one pinned earlier).
const Auto = "auto"

// EnvPureGo is the environment variable that, set to anything but "", makes
// every package start on PureGo (Start).
const EnvPureGo = "PERTNAS_PUREGO"

// Supported returns the paths a package runs, slowest first, given whether
// this CPU and build run its AVX2 kernels and its AVX-512 ones (which build
// on the AVX2 ones: without avx2, avx512 counts for nothing). PureGo is
// always among them.
func Supported(avx2, avx512 bool) []Path {
	ps := []Path{PureGo}
	if avx2 {
		ps = append(ps, AVX2)
		if avx512 {
			ps = append(ps, AVX512)
		}
	}
	return ps
}

// Start returns the path a package with the supported paths starts on:
// PureGo when the environment variable PERTNAS_PUREGO is set (not empty),
// else the fastest of supported.
func Start(supported []Path) Path {
	if os.Getenv(EnvPureGo) != "" {
		return PureGo
	}
	return supported[len(supported)-1]
}

// Check returns nil if p is one of the supported paths, else an error that
// says why not: p is no path at all, or this CPU lacks it.
func Check(p Path, supported []Path) error {
	if !slices.Contains(Paths, p) {
		return fmt.Errorf("unknown kernel path %q (want %s)", p, Join(Paths))
	}
	if !slices.Contains(supported, p) {
		return fmt.Errorf("kernel path %s: this CPU lacks it (it runs %s)", p, Join(supported))
	}
	return nil
}

// Join lists paths for a message: "purego, avx2, avx512".
func Join(ps []Path) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = string(p)
	}
	return strings.Join(s, ", ")
}
