package kern

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestBatchNormHelpers(t *testing.T) {
	paths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(31, 32))
		for _, n := range vecSizes {
			x := randSlice(rng, guarded(t, n))
			g := randSlice(rng, guarded(t, n))
			for i := range x {
				x[i] = 3 + x[i] // an offset the shift has to remove
			}
			const k, m = float32(3.25), float32(2.9)
			var s, q, sa, ga, gd, gda float64
			for i := range x {
				d := float64(x[i]) - float64(k)
				s, q, sa = s+d, q+d*d, sa+math.Abs(d)
				e := float64(g[i]) * (float64(x[i]) - float64(m))
				ga, gd, gda = ga+float64(g[i]), gd+e, gda+math.Abs(e)
			}
			gs, gq := ShiftedMoments(x, k)
			if math.Abs(gs-s) > 1e-5*sa+1e-30 || math.Abs(gq-q) > 1e-5*q+1e-30 {
				t.Fatalf("n=%d ShiftedMoments = %g, %g, want %g, %g", n, gs, gq, s, q)
			}
			var gabs float64
			for _, v := range g {
				gabs += math.Abs(float64(v))
			}
			sg, sgd := DotDev(g, x, m)
			if math.Abs(sg-ga) > 1e-5*gabs+1e-30 || math.Abs(sgd-gd) > 1e-5*gda+1e-30 {
				t.Fatalf("n=%d DotDev = %g, %g, want %g, %g", n, sg, sgd, ga, gd)
			}
			y := randSlice(rng, guarded(t, n))
			ScaleShift(y, x, 1.5, -0.25)
			for i := range y {
				if want := float32(x[i]*1.5) - 0.25; y[i] != want {
					t.Fatalf("n=%d ScaleShift[%d] = %g, want %g", n, i, y[i], want)
				}
			}
			z := randSlice(rng, guarded(t, n))
			ScaleShiftReLU(z, y, 1, -4.25) // y's values (in [2.75, 5.75]) straddle 4.25
			for i := range z {
				want := y[i] - 4.25
				if want < 0 {
					want = 0
				}
				if z[i] != want {
					t.Fatalf("n=%d ScaleShiftReLU[%d] = %g, want %g", n, i, z[i], want)
				}
			}
		}
	})
}

// TestBatchNormHelpersBitIdentical checks that both paths give the same bits.
func TestBatchNormHelpersBitIdentical(t *testing.T) {
	if !hasAsm {
		t.Skip("no assembly path in this build: nothing to compare")
	}
	saved := useAsm
	defer func() { useAsm = saved }()
	rng := rand.New(rand.NewPCG(33, 34))
	for _, n := range []int{16, 47, 1024, 1031} {
		x := randSlice(rng, make([]float32, n))
		g := randSlice(rng, make([]float32, n))
		for i := range x {
			x[i] *= float32(math.Pow(10, float64(rng.IntN(8)-4)))
		}
		type result struct {
			s, q, a, b float64
			y, z       []float32
		}
		run := func(asm bool) result {
			useAsm = asm
			r := result{y: make([]float32, n), z: make([]float32, n)}
			r.s, r.q = ShiftedMoments(x, x[0])
			r.a, r.b = DotDev(g, x, 0.125)
			ScaleShift(r.y, x, 0.3, 0.7)
			ScaleShiftReLU(r.z, x, 0.3, 0.7)
			return r
		}
		gr, ar := run(false), run(true)
		relu := make([]float32, n) // the two-pass result ScaleShiftReLU must match
		ReluForward(relu, gr.y)
		if gr.s != ar.s || gr.q != ar.q || gr.a != ar.a || gr.b != ar.b {
			t.Fatalf("n=%d: go %v %v %v %v, asm %v %v %v %v", n, gr.s, gr.q, gr.a, gr.b, ar.s, ar.q, ar.a, ar.b)
		}
		for i := range gr.y {
			if math.Float32bits(gr.y[i]) != math.Float32bits(ar.y[i]) {
				t.Fatalf("n=%d ScaleShift[%d]: go %g, asm %g", n, i, gr.y[i], ar.y[i])
			}
			want := relu[i]
			if math.Float32bits(gr.z[i]) != math.Float32bits(want) || math.Float32bits(ar.z[i]) != math.Float32bits(want) {
				t.Fatalf("n=%d ScaleShiftReLU[%d]: go %g, asm %g, want ReluForward(ScaleShift) = %g", n, i, gr.z[i], ar.z[i], want)
			}
		}
	}
}

// TestAffineAxpyMatchesComposition checks AffineAxpy against the three
// calls it replaces (ScaleShift, Axpy, Axpy), bit for bit, on every path,
// writing and adding.
func TestAffineAxpyMatchesComposition(t *testing.T) {
	paths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(35, 36))
		for _, n := range vecSizes {
			x := randSlice(rng, guarded(t, n))
			g := randSlice(rng, guarded(t, n))
			d0 := randSlice(rng, make([]float32, n))
			for i := range x {
				x[i] *= float32(math.Pow(10, float64(rng.IntN(6)-3)))
			}
			const a, b, k = float32(-0.37), float32(0.021), float32(1.7)
			tmp := make([]float32, n)
			ScaleShift(tmp, x, a, b)
			Axpy(k, g, tmp)
			wantAdd := append([]float32(nil), d0...)
			Axpy(1, tmp, wantAdd)
			for _, add := range []bool{false, true} {
				dst := guarded(t, n)
				copy(dst, d0)
				AffineAxpy(dst, x, g, a, b, k, add)
				want := tmp
				if add {
					want = wantAdd
				}
				for i := range dst {
					if math.Float32bits(dst[i]) != math.Float32bits(want[i]) {
						t.Fatalf("n=%d add=%v: [%d] = %g, want %g", n, add, i, dst[i], want[i])
					}
				}
			}
		}
	})
}
