package device

import (
	"slices"

	"pertnas/internal/stage"
	"pertnas/nn/cpu/kern"
)

// kernels is --kernels, "" (Flags made in code) read as auto.
func (f *Flags) kernels() string {
	if f.Kernels == "" {
		return kern.Auto
	}
	return f.Kernels
}

// validateKernels checks --kernels: auto or a kernel path this package
// knows (whether the CPU has it is UseKernels' question).
func (f *Flags) validateKernels() error {
	if k := f.kernels(); k != kern.Auto && !slices.Contains(kern.Paths, kern.Path(k)) {
		return stage.FlagErrorf("--kernels", "want auto, purego, avx2 or avx512, got %q", f.Kernels)
	}
	return nil
}

// UseKernels selects the CPU kernel path for --kernels, before anything is
// computed, and returns it. pinned is the path the run or checkpoint
// recorded in the file where ("" when there is none yet): auto takes it, or
// else the fastest path this CPU has (kern.Default); a path given must
// equal it. A path that differs from the pinned one, or that this CPU
// lacks, is a --kernels error (bad input, exit status 2), so a run never
// continues on other kernels than it started on.
func (f *Flags) UseKernels(pinned, where string) (kern.Path, error) {
	if err := f.validateKernels(); err != nil {
		return "", err
	}
	p, err := kern.Resolve(f.kernels(), kern.Path(pinned))
	if err != nil {
		if pinned != "" {
			return "", stage.FlagErrorf("--kernels", "%s: %v", where, err)
		}
		return "", stage.FlagErrorf("--kernels", "%v", err)
	}
	if err := kern.Use(p); err != nil {
		return "", stage.FlagErrorf("--kernels", "%v", err)
	}
	return p, nil
}
