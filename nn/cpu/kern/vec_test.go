package kern

import (
	"math"
	"math/rand/v2"
	"testing"
)

var vecSizes = []int{0, 1, 7, 15, 16, 17, 31, 32, 33, 100, 1027}

func TestVectorHelpers(t *testing.T) {
	paths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(21, 22))
		for _, n := range vecSizes {
			x := randSlice(rng, guarded(t, n))
			y := randSlice(rng, guarded(t, n))
			y0 := append([]float32(nil), y...)
			Axpy(0.75, x, y)
			for i := range y {
				if want := y0[i] + 0.75*x[i]; y[i] != want {
					t.Fatalf("n=%d Axpy[%d] = %g, want %g", n, i, y[i], want)
				}
			}
			copy(y, x)
			Scale(-1.5, y)
			for i := range y {
				if y[i] != -1.5*x[i] {
					t.Fatalf("n=%d Scale[%d] = %g, want %g", n, i, y[i], -1.5*x[i])
				}
			}
			ReluForward(y, x)
			for i := range y {
				if want := max(x[i], 0); y[i] != want {
					t.Fatalf("n=%d ReluForward[%d] = %g, want %g", n, i, y[i], want)
				}
			}
			dx := randSlice(rng, guarded(t, n))
			ReluBackward(dx, x, y)
			for i := range dx {
				want := x[i]
				if y[i] <= 0 {
					want = 0
				}
				if dx[i] != want {
					t.Fatalf("n=%d ReluBackward[%d] = %g, want %g", n, i, dx[i], want)
				}
			}
			dx0 := append([]float32(nil), dx...)
			ReluBackwardAdd(dx, x, y)
			for i := range dx {
				want := dx0[i]
				if y[i] > 0 {
					want += x[i]
				}
				if dx[i] != want {
					t.Fatalf("n=%d ReluBackwardAdd[%d] = %g, want %g", n, i, dx[i], want)
				}
			}
		}
	})
}

// TestVectorHelpersBitIdentical checks that both paths give the same bits,
// including for NaN, ±0 and ±Inf inputs.
func TestVectorHelpersBitIdentical(t *testing.T) {
	if !hasAsm {
		t.Skip("no assembly path in this build: nothing to compare")
	}
	saved := useAsm
	defer func() { useAsm = saved }()
	rng := rand.New(rand.NewPCG(23, 24))
	special := []float32{float32(math.NaN()), 0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)), 1e-40, -1e-40}
	n := 203
	x := randSlice(rng, make([]float32, n))
	for i := range x {
		if i%5 == 0 {
			x[i] = special[(i/5)%len(special)]
		} else {
			x[i] *= float32(math.Pow(10, float64(rng.IntN(60)-30)))
		}
	}
	dy := randSlice(rng, make([]float32, n))
	type result struct {
		axpy, scale, relu, relub, relua []float32
	}
	run := func(asm bool) result {
		useAsm = asm
		r := result{axpy: append([]float32(nil), dy...), scale: append([]float32(nil), x...), relu: make([]float32, n), relub: make([]float32, n), relua: append([]float32(nil), x...)}
		Axpy(-0.3, x, r.axpy)
		Scale(1.7, r.scale)
		ReluForward(r.relu, x)
		ReluBackward(r.relub, dy, x)
		ReluBackwardAdd(r.relua, dy, x)
		return r
	}
	g, a := run(false), run(true)
	same := func(name string, p, q []float32) {
		for i := range p {
			if math.Float32bits(p[i]) != math.Float32bits(q[i]) {
				t.Fatalf("%s[%d] (x=%g): go %g, asm %g", name, i, x[i], p[i], q[i])
			}
		}
	}
	same("Axpy", g.axpy, a.axpy)
	same("Scale", g.scale, a.scale)
	same("ReluForward", g.relu, a.relu)
	same("ReluBackward", g.relub, a.relub)
	same("ReluBackwardAdd", g.relua, a.relua)
}
