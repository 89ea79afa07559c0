package kern

import (
	"fmt"
	"slices"
	"strings"
)

// Path names one set of kernels. Within a path every kernel sums its
// products in an order fixed by the shapes alone, so a computation gives the
// same bits on every machine that runs the same path; two paths agree only
// to float32 rounding.
//
//   - PureGo: the Go kernels (any CPU, any architecture);
//   - AVX2: the amd64 assembly with AVX2 and FMA;
//   - AVX512: AVX2 plus the AVX-512 kernels, which need AVX-512 F, DQ and VL
//     (every AVX-512 CPU since Skylake-SP; a CPU with F alone runs AVX2).
//
// The AVX-512 kernels that sum like their AVX2 forms are no path of their
// own: AVX512 differs from AVX2 only where some wider kernel sums in another
// order (the transB dot-product GEMM tiles, the depthwise filter gradients).
type Path string

// The kernel paths, from the slowest to the fastest.
const (
	PureGo Path = "purego"
	AVX2   Path = "avx2"
	AVX512 Path = "avx512"
)

// Auto is the choice that resolves to a pinned path, or to Default.
const Auto = "auto"

// Paths lists every path this package knows, slowest first.
var Paths = []Path{PureGo, AVX2, AVX512}

// startPath is the path in use when the program starts.
var startPath = Current()

// Supported returns the paths this CPU and build can run, slowest first.
// PureGo is always among them.
func Supported() []Path {
	ps := []Path{PureGo}
	if hasAsm {
		ps = append(ps, AVX2)
	}
	if hasAVX512 {
		ps = append(ps, AVX512)
	}
	return ps
}

// Best returns the fastest path this CPU and build can run.
func Best() Path {
	ps := Supported()
	return ps[len(ps)-1]
}

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
	if !slices.Contains(Paths, p) {
		return fmt.Errorf("unknown kernel path %q (want %s)", p, joinPaths(Paths))
	}
	if !slices.Contains(Supported(), p) {
		return fmt.Errorf("kernel path %s: this CPU lacks it (it runs %s)", p, joinPaths(Supported()))
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
		return "", fmt.Errorf("unknown kernel path %q (want %s or %s)", choice, Auto, joinPaths(Paths))
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
	if !slices.Contains(Supported(), p) {
		what := "kernel path " + string(p)
		if pinned != "" {
			what = "the run's kernel path " + string(p)
		}
		return "", fmt.Errorf("%s: this CPU lacks it (it runs %s); continue the run on a machine that has it", what, joinPaths(Supported()))
	}
	return p, nil
}

func joinPaths(ps []Path) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = string(p)
	}
	return strings.Join(s, ", ")
}
