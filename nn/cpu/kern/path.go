package kern

import (
	"fmt"
	"slices"

	"pertnas/internal/cpupath"
)

// Path names one set of kernels (the paths and the rules for choosing one
// are internal/cpupath's, shared with the image kernels). Within a path
// every kernel sums its products in an order fixed by the shapes alone, so
// a computation gives the same bits on every machine that runs the same
// path; two paths agree only to float32 rounding.
//
//   - PureGo: the Go kernels (any CPU, any architecture);
//   - AVX2: the amd64 assembly with AVX2 and FMA;
//   - AVX512: AVX2 plus the AVX-512 kernels, which need AVX-512 F, DQ and VL
//     (every AVX-512 CPU since Skylake-SP; a CPU with F alone runs AVX2).
//
// The AVX-512 kernels that sum like their AVX2 forms are no path of their
// own: AVX512 differs from AVX2 only where some wider kernel sums in another
// order (the transB dot-product GEMM tiles, the depthwise filter gradients).
type Path = cpupath.Path

// The kernel paths, from the slowest to the fastest.
const (
	PureGo = cpupath.PureGo
	AVX2   = cpupath.AVX2
	AVX512 = cpupath.AVX512
)

// Auto is the choice that resolves to a pinned path, or to Default.
const Auto = cpupath.Auto

// Paths lists every path this package knows, slowest first.
var Paths = cpupath.Paths

// supported is the paths this CPU and build run (Supported).
var supported = cpupath.Supported(hasAsm, hasAVX512)

// startPath is the path in use when the program starts (Default).
var startPath = cpupath.Start(supported)

// useAsm and useAVX512 are the path in use (Current, Use): PureGo when
// useAsm is false, AVX2 when only useAsm is true, AVX512 when both are.
// Every kernel reads them on each call and decides by them alone, so one
// path runs one fixed set of kernels whatever else the CPU has. They start
// at startPath; Use and the tests change them.
var (
	useAsm    = startPath != PureGo
	useAVX512 = startPath == AVX512
)

// Accelerated reports whether the assembly kernels are in use (a path other
// than PureGo).
func Accelerated() bool { return useAsm }

// Supported returns the paths this CPU and build can run, slowest first.
// PureGo is always among them.
func Supported() []Path { return slices.Clone(supported) }

// Best returns the fastest path this CPU and build can run.
func Best() Path { return supported[len(supported)-1] }

// Default returns the path a program starts with: Best, or PureGo when the
// environment variable PERTNAS_PUREGO is set (or the purego build tag).
func Default() Path { return startPath }

// Current returns the path in use.
func Current() Path {
	switch {
	case !useAsm:
		return PureGo
	case useAVX512:
		return AVX512
	}
	return AVX2
}

// Use switches every kernel to path p. It is meant for program start-up:
// no kernel may run while it switches. It fails, changing nothing, when p is
// unknown or this CPU cannot run it.
func Use(p Path) error {
	if err := cpupath.Check(p, supported); err != nil {
		return err
	}
	useAsm = p != PureGo
	useAVX512 = p == AVX512
	return nil
}

// Resolve returns the path a program runs for a choice (Auto or a path
// name) when a run pinned path pinned earlier ("" when nothing is pinned):
// Auto gives the pinned path if any, else Default; an explicit choice must
// equal the pinned path. The result must be one this CPU supports: a run
// pinned to a path this machine lacks is refused rather than continued on
// other kernels, which would give other numbers.
func Resolve(choice string, pinned Path) (Path, error) {
	if choice != Auto && !slices.Contains(Paths, Path(choice)) {
		return "", fmt.Errorf("unknown kernel path %q (want %s or %s)", choice, Auto, cpupath.Join(Paths))
	}
	if pinned != "" && !slices.Contains(Paths, pinned) {
		return "", fmt.Errorf("the run records an unknown kernel path %q", pinned)
	}
	p := Path(choice)
	switch {
	case pinned != "" && choice != Auto && p != pinned:
		return "", fmt.Errorf("the run was started on kernel path %s, not %s: continuing on other kernels would change its numbers (use --kernels %s or auto, or a new run)", pinned, p, pinned)
	case pinned != "":
		p = pinned
	case choice == Auto:
		p = Default()
	}
	if !slices.Contains(supported, p) {
		what := "kernel path " + string(p)
		if pinned != "" {
			what = "the run's kernel path " + string(p)
		}
		return "", fmt.Errorf("%s: this CPU lacks it (it runs %s); continue the run on a machine that has it", what, cpupath.Join(supported))
	}
	return p, nil
}
