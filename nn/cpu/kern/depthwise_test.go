package kern

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

type dwCase struct{ h, w, k, s, pad, dil int }

func (c dwCase) String() string {
	return fmt.Sprintf("%dx%d k=%d s=%d pad=%d dil=%d", c.h, c.w, c.k, c.s, c.pad, c.dil)
}

func (c dwCase) out() (int, int) {
	return DepthwiseOutSize(c.h, c.k, c.s, c.pad, c.dil), DepthwiseOutSize(c.w, c.k, c.s, c.pad, c.dil)
}

// naiveDW visits every (output, tap) pair that reads an input pixel inside
// the plane and calls f(outIndex, tapIndex, inIndex).
func naiveDW(c dwCase, f func(o, t, i int)) {
	oh, ow := c.out()
	for oy := range oh {
		for ox := range ow {
			for ky := range c.k {
				for kx := range c.k {
					iy, ix := oy*c.s-c.pad+ky*c.dil, ox*c.s-c.pad+kx*c.dil
					if iy >= 0 && iy < c.h && ix >= 0 && ix < c.w {
						f(oy*ow+ox, ky*c.k+kx, iy*c.w+ix)
					}
				}
			}
		}
	}
}

// dartsDWCases are the depthwise geometries of the DARTS operations
// (sep_conv 3x3/5x5, dil_conv 3x3/5x5, stride 1 and 2) on the planes used,
// plus odd sizes and unusual paddings.
func dartsDWCases() []dwCase {
	var cs []dwCase
	for _, hw := range []int{32, 16, 8, 1, 2, 3, 5, 7, 9, 11, 17} {
		for _, k := range []int{3, 5} {
			for _, dil := range []int{1, 2} {
				for _, s := range []int{1, 2} {
					pad := dil * (k - 1) / 2
					if hw+2*pad < dil*(k-1)+1 {
						continue
					}
					cs = append(cs, dwCase{hw, hw, k, s, pad, dil})
				}
			}
		}
	}
	cs = append(cs, dwCase{7, 13, 3, 1, 0, 1}, dwCase{13, 6, 3, 2, 0, 1}, dwCase{9, 10, 1, 1, 0, 1},
		dwCase{9, 10, 1, 2, 0, 1}, dwCase{12, 9, 3, 3, 1, 1}, dwCase{10, 11, 5, 1, 4, 1}, dwCase{6, 5, 3, 2, 3, 2},
		dwCase{33, 31, 7, 1, 3, 1}, dwCase{8, 8, 2, 1, 0, 1})
	return cs
}

func checkDWCase(t *testing.T, rng *rand.Rand, c dwCase) {
	t.Helper()
	oh, ow := c.out()
	in := randSlice(rng, guarded(t, c.h*c.w))
	wt := randSlice(rng, guarded(t, c.k*c.k))
	dout := randSlice(rng, guarded(t, oh*ow))

	// forward
	want, scale := make([]float64, oh*ow), make([]float64, oh*ow)
	naiveDW(c, func(o, tp, i int) {
		p := float64(wt[tp]) * float64(in[i])
		want[o] += p
		scale[o] += math.Abs(p)
	})
	out := randSlice(rng, guarded(t, oh*ow))
	DepthwiseForward(in, c.h, c.w, wt, c.k, c.s, c.pad, c.dil, out, oh, ow)
	for o := range out {
		if !closeTo(out[o], want[o], scale[o]) {
			t.Fatalf("%v forward: out[%d] = %g, want %g", c, o, out[o], want[o])
		}
	}

	// backward data (accumulates)
	din := randSlice(rng, guarded(t, c.h*c.w))
	wantD, scaleD := make([]float64, c.h*c.w), make([]float64, c.h*c.w)
	for i, v := range din {
		wantD[i], scaleD[i] = float64(v), math.Abs(float64(v))
	}
	naiveDW(c, func(o, tp, i int) {
		p := float64(wt[tp]) * float64(dout[o])
		wantD[i] += p
		scaleD[i] += math.Abs(p)
	})
	DepthwiseBackwardData(dout, oh, ow, wt, c.k, c.s, c.pad, c.dil, din, c.h, c.w)
	for i := range din {
		if !closeTo(din[i], wantD[i], scaleD[i]) {
			t.Fatalf("%v backward data: din[%d] = %g, want %g", c, i, din[i], wantD[i])
		}
	}

	// backward filter (accumulates)
	dwt := randSlice(rng, guarded(t, c.k*c.k))
	wantW, scaleW := make([]float64, c.k*c.k), make([]float64, c.k*c.k)
	for i, v := range dwt {
		wantW[i], scaleW[i] = float64(v), math.Abs(float64(v))
	}
	naiveDW(c, func(o, tp, i int) {
		p := float64(dout[o]) * float64(in[i])
		wantW[tp] += p
		scaleW[tp] += math.Abs(p)
	})
	DepthwiseBackwardFilter(in, c.h, c.w, dout, oh, ow, c.k, c.s, c.pad, c.dil, dwt)
	for i := range dwt {
		if !closeTo(dwt[i], wantW[i], scaleW[i]) {
			t.Fatalf("%v backward filter: dwt[%d] = %g, want %g", c, i, dwt[i], wantW[i])
		}
	}
}

func TestDepthwiseDartsShapes(t *testing.T) {
	paths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(11, 12))
		// Twice in a row: the second call reuses the scratch laid out by the
		// first, whose zero padding must have survived.
		for _, c := range dartsDWCases() {
			checkDWCase(t, rng, c)
			checkDWCase(t, rng, c)
		}
	})
}

// TestDepthwiseRandomShapes is a fuzz-style test over random geometries (fixed seed).
func TestDepthwiseRandomShapes(t *testing.T) {
	paths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(13, 14))
		for n := 0; n < 300; {
			c := dwCase{1 + rng.IntN(40), 1 + rng.IntN(40), 1 + rng.IntN(6), 1 + rng.IntN(3), rng.IntN(5), 1 + rng.IntN(3)}
			if c.h+2*c.pad < c.dil*(c.k-1)+1 || c.w+2*c.pad < c.dil*(c.k-1)+1 {
				continue
			}
			checkDWCase(t, rng, c)
			n++
		}
	})
}

func TestDepthwisePanicsOnBadGeometry(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for a wrong output size")
		}
	}()
	DepthwiseForward(make([]float32, 64), 8, 8, make([]float32, 9), 3, 1, 1, 1, make([]float32, 64), 8, 7)
}

// TestDepthwiseForwardPlanesMatchesPerPlane checks that the batched entry
// point gives DepthwiseForward's bits plane by plane (so the per-plane
// accuracy checks above cover it), and that it rejects short slices.
func TestDepthwiseForwardPlanesMatchesPerPlane(t *testing.T) {
	paths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(15, 16))
		for _, c := range dartsDWCases() {
			oh, ow := c.out()
			const planes = 3
			hw, ohw, kk := c.h*c.w, oh*ow, c.k*c.k
			in := randSlice(rng, guarded(t, planes*hw))
			wt := randSlice(rng, guarded(t, planes*kk))
			got := randSlice(rng, guarded(t, planes*ohw))
			DepthwiseForwardPlanes(planes, in, c.h, c.w, wt, c.k, c.s, c.pad, c.dil, got, oh, ow)
			want := make([]float32, ohw)
			for i := range planes {
				DepthwiseForward(in[i*hw:(i+1)*hw], c.h, c.w, wt[i*kk:(i+1)*kk], c.k, c.s, c.pad, c.dil, want, oh, ow)
				for o, v := range want {
					if math.Float32bits(got[i*ohw+o]) != math.Float32bits(v) {
						t.Fatalf("%v plane %d: out[%d] = %g, per-plane %g", c, i, o, got[i*ohw+o], v)
					}
				}
			}
		}
	})
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for an output too short for the planes")
		}
	}()
	DepthwiseForwardPlanes(2, make([]float32, 128), 8, 8, make([]float32, 18), 3, 1, 1, 1, make([]float32, 127), 8, 8)
}
