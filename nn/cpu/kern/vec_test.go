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
			var s, sq, sa float64
			for _, v := range x {
				s += float64(v)
				sq += float64(v) * float64(v)
				sa += math.Abs(float64(v))
			}
			if got := Sum(x); math.Abs(got-s) > 1e-12*sa {
				t.Fatalf("n=%d Sum = %g, want %g", n, got, s)
			}
			if got := SumSq(x); math.Abs(got-sq) > 1e-12*sq {
				t.Fatalf("n=%d SumSq = %g, want %g", n, got, sq)
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
		sum, sumsq                      float64
	}
	run := func(asm bool) result {
		useAsm = asm
		r := result{axpy: append([]float32(nil), dy...), scale: append([]float32(nil), x...), relu: make([]float32, n), relub: make([]float32, n), relua: append([]float32(nil), x...)}
		Axpy(-0.3, x, r.axpy)
		Scale(1.7, r.scale)
		ReluForward(r.relu, x)
		ReluBackward(r.relub, dy, x)
		ReluBackwardAdd(r.relua, dy, x)
		r.sum, r.sumsq = Sum(x[1:]), SumSq(x[1:]) // x[0] is NaN
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
	if math.Float64bits(g.sum) != math.Float64bits(a.sum) || math.Float64bits(g.sumsq) != math.Float64bits(a.sumsq) {
		t.Fatalf("Sum/SumSq: go %v %v, asm %v %v", g.sum, g.sumsq, a.sum, a.sumsq)
	}
}
