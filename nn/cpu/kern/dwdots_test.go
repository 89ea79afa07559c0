package kern

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// dwGradCases are the geometries of the register-shift filter gradient:
// "same" padding, k3d1, k5d1, k3d2, k5d2; stride 1 with w 8/16/32, h from 1
// (shorter than every kernel) to 32; stride 2 with w 16/32, even h from 2
// (one output row) to 34.
func dwGradCases() []dwCase {
	var cs []dwCase
	for _, kd := range [][2]int{{3, 1}, {5, 1}, {3, 2}, {5, 2}} {
		k, dil := kd[0], kd[1]
		for _, w := range []int{8, 16, 32} {
			for _, h := range []int{1, 2, 3, 5, 8, 16, 32} {
				cs = append(cs, dwCase{h, w, k, 1, dil * (k - 1) / 2, dil})
			}
		}
		for _, w := range []int{16, 32} {
			for _, h := range []int{2, 4, 6, 16, 32, 34} {
				cs = append(cs, dwCase{h, w, k, 2, dil * (k - 1) / 2, dil})
			}
		}
	}
	return cs
}

// dwGradRef returns, per tap, dwt0[t] + Σ over planes of the plane's
// float64 filter gradient, and the sum of |dwt0[t]| and the magnitudes of
// the terms.
func dwGradRef(c dwCase, np int, in []float32, inStride int, dout []float32, doutStride int, dwt0 []float32) (want, scale []float64) {
	want, scale = make([]float64, c.k*c.k), make([]float64, c.k*c.k)
	for t, v := range dwt0[:c.k*c.k] {
		want[t], scale[t] = float64(v), math.Abs(float64(v))
	}
	for p := range np {
		naiveDW(c, func(o, t, i int) {
			x := float64(dout[p*doutStride+o]) * float64(in[p*inStride+i])
			want[t] += x
			scale[t] += math.Abs(x)
		})
	}
	return want, scale
}

// dwGradTol is the error bound of one plane's float32 tap sum as the
// register-shift kernel forms it, relative to the sum of the magnitudes of
// its terms (and of the dwt it is added to): each vector lane sums h·w/16
// terms one after another (stride 2: h/2, one per output row), the 16
// lanes then in a tree of depth 4, and the plane sum is added to dwt: at
// most h·w/16 + 5 roundings of 2⁻²⁴ each (h/2 + 5), rounded up here to
// h·w/16 + 8 (h/2 + 8).
// Other paths sum otherwise: for them the package's 1e-5 (closeTo).
func dwGradTol(c dwCase) float64 {
	switch {
	case !dwGradCovers(c.h, c.w, c.k, c.s, c.pad, c.dil):
		return 1e-5
	case c.s == 2:
		return float64(c.h/2+8) * 0x1p-24
	}
	return float64(c.h*c.w/16+8) * 0x1p-24
}

// TestDWGradFastCovers: the register-shift kernel takes the stride-1
// "same" geometries it is for (on a CPU with AVX-512) and leaves the others.
func TestDWGradFastCovers(t *testing.T) {
	in, dout, dwt := make([]float32, 64*64), make([]float32, 64*64), make([]float32, 25)
	want := useAsm && avx2Only != nil // AVX-512 on this CPU
	for _, c := range dwGradCases() {
		if got := dwGradFast(c.h, c.w, c.k, c.s, c.pad, c.dil, 1, in, 0, dout, 0, dwt); got != want {
			t.Errorf("%v: dwGradFast = %v, want %v", c, got, want)
		}
	}
	for _, c := range []dwCase{{15, 16, 3, 2, 1, 1}, {16, 8, 3, 2, 1, 1}, {16, 16, 3, 2, 0, 1}, {16, 24, 3, 1, 1, 1}, {16, 16, 3, 1, 0, 1}, {16, 16, 7, 1, 3, 1},
		{16, 16, 3, 1, 3, 3}, {100, 16, 3, 1, 1, 1}, {16, 4, 3, 1, 1, 1}} {
		if dwGradFast(c.h, c.w, c.k, c.s, c.pad, c.dil, 1, in, 0, dout, 0, dwt) {
			t.Errorf("%v: dwGradFast took a geometry it does not cover", c)
		}
	}
}

// TestDWGradRandom: random planes of both signs, added to a random dwt,
// against float64 sums within dwGradTol, on every covered geometry; the
// planes and dwt end at guard pages.
func TestDWGradRandom(t *testing.T) {
	paths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(41, 42))
		for _, c := range dwGradCases() {
			oh, ow := c.out()
			in := randSlice(rng, guarded(t, c.h*c.w))
			dout := randSlice(rng, guarded(t, oh*ow))
			dwt := randSlice(rng, guarded(t, c.k*c.k))
			want, scale := dwGradRef(c, 1, in, 0, dout, 0, dwt)
			DepthwiseBackwardFilter(in, c.h, c.w, dout, oh, ow, c.k, c.s, c.pad, c.dil, dwt)
			for tp := range want {
				if math.Abs(float64(dwt[tp])-want[tp]) > dwGradTol(c)*scale[tp] {
					t.Fatalf("%v: dwt[%d] = %g, want %g (scale %g)", c, tp, dwt[tp], want[tp], scale[tp])
				}
			}
		}
	})
}

// TestDWGradSingleNonZero: with one non-zero input pixel, or one non-zero
// dout pixel, at each position in turn, every tap's gradient is one product
// (or zero), so the result must equal it exactly: a shift, mask or row
// offset off by one anywhere, the border included, moves or drops a
// product.
func TestDWGradSingleNonZero(t *testing.T) {
	rng := rand.New(rand.NewPCG(43, 44))
	for _, c := range dwGradCases() {
		n := c.h * c.w
		oh, ow := c.out()
		dwt := make([]float32, c.k*c.k)
		for _, inOne := range []bool{true, false} {
			in, dout := make([]float32, n), make([]float32, oh*ow)
			np := n
			if !inOne {
				np = oh * ow
			}
			for pos := range np {
				// The other operand random, the single value a power of
				// two other than 1 (exact products that show where
				// they came from).
				y, x := pos/c.w, pos%c.w
				if !inOne {
					y, x = pos/ow, pos%ow
				}
				if inOne {
					clear(in)
					randSlice(rng, dout)
					in[pos] = -2
				} else {
					clear(dout)
					randSlice(rng, in)
					dout[pos] = 0.5
				}
				clear(dwt)
				DepthwiseBackwardFilter(in, c.h, c.w, dout, oh, ow, c.k, c.s, c.pad, c.dil, dwt)
				for ky := range c.k {
					for kx := range c.k {
						// Tap (ky, kx) pairs output (oy, ox) with input
						// (s·oy+dy, s·ox+dx).
						dy, dx := ky*c.dil-c.pad, kx*c.dil-c.pad
						oy, ox, iy, ix := (y-dy)/c.s, (x-dx)/c.s, y, x
						if (y-dy)%c.s != 0 || (x-dx)%c.s != 0 {
							oy = -1 // no output pairs with the input at this tap
						}
						if !inOne {
							oy, ox, iy, ix = y, x, c.s*y+dy, c.s*x+dx
						}
						var want float32
						if oy >= 0 && oy < oh && ox >= 0 && ox < ow && iy >= 0 && iy < c.h && ix >= 0 && ix < c.w {
							want = dout[oy*ow+ox] * in[iy*c.w+ix]
						}
						if tp := ky*c.k + kx; dwt[tp] != want {
							t.Fatalf("%v, only %s[%d] non-zero: dwt[%d] = %g, want %g", c, map[bool]string{true: "in", false: "dout"}[inOne], pos, tp, dwt[tp], want)
						}
					}
				}
			}
		}
	}
}

// TestDWGradPlanes: BackwardFilterPlanes over several planes at gapped and
// overlapping strides gives the bits of BackwardFilter called plane by
// plane, and the float64 sum within the planes' tolerances; the planes and
// dwt end at guard pages. It runs on every path, and for geometries outside the
// register-shift kernel too.
func TestDWGradPlanes(t *testing.T) {
	paths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(45, 46))
		cases := append(dwGradCases(), dwCase{16, 16, 3, 2, 1, 1}, dwCase{9, 12, 5, 1, 2, 1}, dwCase{8, 8, 3, 1, 0, 1})
		for ci, c := range cases {
			oh, ow := c.out()
			np := 1 + ci%6
			inStride := c.h*c.w + rng.IntN(20)
			doutStride := oh*ow + rng.IntN(20)
			if ci%5 == 0 {
				inStride = c.h * c.w / 2 // overlapping input planes
			}
			in := randSlice(rng, guarded(t, (np-1)*inStride+c.h*c.w))
			dout := randSlice(rng, guarded(t, (np-1)*doutStride+oh*ow))
			dwt0 := randSlice(rng, make([]float32, c.k*c.k))
			d := GetDepthwise(c.h, c.w, c.k, c.s, c.pad, c.dil, oh, ow)
			got := guarded(t, len(dwt0))
			copy(got, dwt0)
			d.BackwardFilterPlanes(np, in, inStride, dout, doutStride, got)
			seq := append([]float32(nil), dwt0...)
			for p := range np {
				d.BackwardFilter(in[p*inStride:], dout[p*doutStride:], seq)
			}
			d.Release()
			sameBits(t, c, fmt.Sprintf("BackwardFilterPlanes (%d planes)", np), got, seq)
			want, scale := dwGradRef(c, np, in, inStride, dout, doutStride, dwt0)
			tol := float64(np) * dwGradTol(c)
			for tp := range want {
				if math.Abs(float64(got[tp])-want[tp]) > tol*scale[tp] {
					t.Fatalf("%v, %d planes: dwt[%d] = %g, want %g (scale %g)", c, np, tp, got[tp], want[tp], scale[tp])
				}
			}
		}
	})
}

// TestDWGradPlanesPanics: bad plane counts, strides and short slices panic.
func TestDWGradPlanesPanics(t *testing.T) {
	d := GetDepthwise(8, 8, 3, 1, 1, 1, 8, 8)
	defer d.Release()
	buf, dwt := make([]float32, 3*64), make([]float32, 9)
	mustPanic(t, "negative planes", func() { d.BackwardFilterPlanes(-1, buf, 64, buf, 64, dwt) })
	mustPanic(t, "negative stride", func() { d.BackwardFilterPlanes(2, buf, -64, buf, 64, dwt) })
	mustPanic(t, "short input", func() { d.BackwardFilterPlanes(4, buf, 64, buf, 32, dwt) })
	mustPanic(t, "short dout", func() { d.BackwardFilterPlanes(3, buf, 32, buf[:190], 64, dwt) })
	mustPanic(t, "short weights", func() { d.BackwardFilterPlanes(1, buf, 0, buf, 0, dwt[:8]) })
	d.BackwardFilterPlanes(0, nil, 0, nil, 0, nil) // nothing to do
}
