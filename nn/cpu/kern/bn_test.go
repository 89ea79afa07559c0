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
				affineAxpy(dst, x, g, a, b, k, add)
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

// TestBatchNormPlanes checks ShiftedMomentsPlanes and DotDevPlanes over
// strided planes (DARTS channel shapes and odd plane sizes) against float64
// sums, on guarded slices, and that both paths give the same bits.
func TestBatchNormPlanes(t *testing.T) {
	type shape struct{ planes, hw, stride int }
	shapes := []shape{{64, 1024, 16 * 1024}, {64, 256, 32 * 256}, {64, 64, 64 * 64}, {8, 49, 3 * 49},
		{3, 1, 5}, {5, 31, 33}, {2, 32, 32}, {7, 33, 40}, {1, 100, 100}, {4, 63, 63}, {3, 0, 4}, {0, 8, 8}}
	rng := rand.New(rand.NewPCG(37, 38))
	for range 20 {
		hw := 1 + rng.IntN(200)
		shapes = append(shapes, shape{1 + rng.IntN(9), hw, hw + rng.IntN(40)})
	}
	type result struct{ s, q, a, b float64 }
	for _, sh := range shapes {
		n := 0
		if sh.planes > 0 && sh.hw > 0 {
			n = (sh.planes-1)*sh.stride + sh.hw
		}
		x := randSlice(rng, guarded(t, n))
		g := randSlice(rng, guarded(t, n))
		for i := range x {
			x[i] = 3 + x[i]*float32(math.Pow(10, float64(rng.IntN(4)-2)))
		}
		const k, m = float32(3.25), float32(2.9)
		var want, scale result
		for p := range sh.planes {
			for i := p * sh.stride; i < p*sh.stride+sh.hw; i++ {
				d := float64(x[i]) - float64(k)
				e := float64(g[i]) * (float64(x[i]) - float64(m))
				want.s, want.q, want.a, want.b = want.s+d, want.q+d*d, want.a+float64(g[i]), want.b+e
				scale.s, scale.q, scale.a, scale.b = scale.s+math.Abs(d), scale.q+d*d, scale.a+math.Abs(float64(g[i])), scale.b+math.Abs(e)
			}
		}
		var got []result
		paths(t, func(t *testing.T) {
			var r result
			r.s, r.q = ShiftedMomentsPlanes(x, sh.planes, sh.hw, sh.stride, k)
			r.a, r.b = DotDevPlanes(g, x, sh.planes, sh.hw, sh.stride, m)
			for _, c := range [][3]float64{{r.s, want.s, scale.s}, {r.q, want.q, scale.q}, {r.a, want.a, scale.a}, {r.b, want.b, scale.b}} {
				if math.Abs(c[0]-c[1]) > 1e-5*c[2]+1e-30 {
					t.Fatalf("%+v: got %+v, want %+v", sh, r, want)
				}
			}
			got = append(got, r)
		})
		for _, r := range got[1:] {
			if r != got[0] {
				t.Fatalf("%+v: paths differ: %+v vs %+v", sh, got[0], r)
			}
		}
	}
}

func TestBatchNormPlanesPanics(t *testing.T) {
	for _, f := range []func(){
		func() { ShiftedMomentsPlanes(make([]float32, 10), 2, 4, 7, 0) },
		func() { DotDevPlanes(make([]float32, 11), make([]float32, 10), 2, 4, 7, 0) },
		func() { ShiftedMomentsPlanes(make([]float32, 10), 2, 4, -1, 0) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("no panic for a short slice or negative stride")
				}
			}()
			f()
		}()
	}
}

// TestElementwisePlanes checks ScaleShiftPlanes and AffineAxpyPlanes against
// ScaleShift and AffineAxpy plane by plane, bit for bit, on every path, on
// guarded slices, and that the elements between planes stay untouched.
func TestElementwisePlanes(t *testing.T) {
	type shape struct{ planes, hw, stride int }
	shapes := []shape{{64, 64, 64 * 64}, {8, 256, 2 * 256}, {3, 1024, 1024}, {5, 49, 60}, {2, 32, 40}, {4, 33, 33}, {1, 7, 7}, {3, 0, 4}, {0, 32, 32}}
	paths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(39, 40))
		for _, sh := range shapes {
			n := 0
			if sh.planes > 0 && sh.hw > 0 {
				n = (sh.planes-1)*sh.stride + sh.hw
			}
			x := randSlice(rng, guarded(t, n))
			g := randSlice(rng, guarded(t, n))
			d0 := randSlice(rng, make([]float32, n))
			const a, b, k = float32(-0.37), float32(0.021), float32(1.7)
			want := func(f func(dst []float32, o int)) []float32 {
				w := append([]float32(nil), d0...)
				if n == 0 {
					return w
				}
				for p := range sh.planes {
					f(w[p*sh.stride:p*sh.stride+sh.hw], p*sh.stride)
				}
				return w
			}
			check := func(name string, got, want []float32) {
				t.Helper()
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%s %+v: [%d] = %g, want %g", name, sh, i, got[i], want[i])
					}
				}
			}
			y := guarded(t, n)
			copy(y, d0)
			ScaleShiftPlanes(y, x, sh.planes, sh.hw, sh.stride, a, b)
			check("ScaleShiftPlanes", y, want(func(dst []float32, o int) { ScaleShift(dst, x[o:o+sh.hw], a, b) }))
			for _, add := range []bool{false, true} {
				copy(y, d0)
				AffineAxpyPlanes(y, x, g, sh.planes, sh.hw, sh.stride, a, b, k, add)
				check("AffineAxpyPlanes", y, want(func(dst []float32, o int) { affineAxpy(dst, x[o:o+sh.hw], g[o:o+sh.hw], a, b, k, add) }))
			}
		}
	})
}
