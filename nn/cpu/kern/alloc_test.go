package kern

import (
	"math/rand/v2"
	"testing"
)

// TestNoAllocations checks the steady state of every kernel allocates nothing.
func TestNoAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	paths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(41, 42))
		a := randSlice(rng, make([]float32, 64*64))
		b := randSlice(rng, make([]float32, 64*300))
		c := make([]float32, 64*300)
		in := randSlice(rng, make([]float32, 32*32))
		out := make([]float32, 32*32)
		wt := randSlice(rng, make([]float32, 25))
		for name, f := range map[string]func(){
			"Gemm":                    func() { Gemm(false, false, 37, 300, 50, a, 50, b, 300, true, c, 300) },
			"GemmTransA":              func() { Gemm(true, false, 37, 300, 50, a, 37, b, 300, false, c, 300) },
			"GemmTransB":              func() { Gemm(false, true, 37, 41, 300, b, 300, b, 300, true, c, 41) },
			"GemmTransBShortK":        func() { Gemm(false, true, 37, 41, 60, b, 300, b, 300, true, c, 41) },
			"GemmTransAB":             func() { Gemm(true, true, 37, 41, 60, b, 300, b, 300, false, c, 41) },
			"DepthwiseForward":        func() { DepthwiseForward(in, 32, 32, wt, 5, 2, 2, 1, out, 16, 16) },
			"DepthwiseBackwardData":   func() { DepthwiseBackwardData(out, 32, 32, wt, 3, 1, 2, 2, in, 32, 32) },
			"DepthwiseBackwardFilter": func() { DepthwiseBackwardFilter(in, 32, 32, out, 32, 32, 3, 1, 1, 1, wt) },
			"Helpers": func() {
				Axpy(0.5, in, out)
				ReluForward(out, in)
				ReluBackwardAdd(out, in, in)
				_, _ = ShiftedMoments(in, 0.5)
				_, _ = DotDev(in, out, 0.5)
			},
		} {
			if n := testing.AllocsPerRun(20, f); n != 0 {
				t.Errorf("%s: %v allocations per call", name, n)
			}
		}
	})
}
