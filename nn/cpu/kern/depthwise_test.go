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
	return dwOutSize(c.h, c.k, c.s, c.pad, c.dil), dwOutSize(c.w, c.k, c.s, c.pad, c.dil)
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

// TestDwRowsAsmMatchesFlatConv: the tiled 2-D kernel gives, bit for bit, the
// sums of the 1-D flat kernel run row by row (same taps, same order, FMA),
// then set or added, over every tile shape and the rows left under a tile;
// inputs end at guard pages.
func TestDwRowsAsmMatchesFlatConv(t *testing.T) {
	if !hasAsm {
		t.Skip("no assembly kernels in this build")
	}
	rng := rand.New(rand.NewPCG(17, 18))
	for n := 0; n < 400; n++ {
		rows, w := 1+rng.IntN(19), 8*(1+rng.IntN(20))
		ntaps := 1 + rng.IntN(10)
		offs := make([]int, ntaps)
		maxOff := 0
		for i := range offs {
			offs[i] = rng.IntN(50)
			maxOff = max(maxOff, offs[i])
		}
		ss, ds := w+rng.IntN(9), w+rng.IntN(9)
		src := randSlice(rng, guarded(t, (rows-1)*ss+w+maxOff))
		wts := randSlice(rng, guarded(t, ntaps))
		add := rng.IntN(2) == 1
		dst := randSlice(rng, guarded(t, (rows-1)*ds+w))
		want := append([]float32(nil), dst...)
		row := make([]float32, w)
		for r := range rows {
			flatConvAsm(w, src[r*ss:], offs, wts, row)
			for i, v := range row {
				if add {
					want[r*ds+i] += v
				} else {
					want[r*ds+i] = v
				}
			}
		}
		dwRowsAsm(rows, w, src, ss, offs, maxOff, wts, dst, ds, add)
		for i := range dst {
			if math.Float32bits(dst[i]) != math.Float32bits(want[i]) {
				t.Fatalf("rows %d w %d ss %d ds %d taps %v add %v: dst[%d] = %g, want %g", rows, w, ss, ds, offs, add, i, dst[i], want[i])
			}
		}
	}
}

// TestDepthwiseRowPathsMatchFlat: forward and stride-1 data gradient, which
// compute rows in place when the row length is a multiple of 8, give the bits
// of the flat-layout computation (flat sums, then rows copied or added).
func TestDepthwiseRowPathsMatchFlat(t *testing.T) {
	paths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(19, 20))
		cases := dartsDWCases()
		for len(cases) < 300 {
			c := dwCase{1 + rng.IntN(30), 8 * (1 + rng.IntN(4)), 1 + rng.IntN(6), 1 + rng.IntN(3), rng.IntN(5), 1 + rng.IntN(3)}
			if c.h+2*c.pad < c.dil*(c.k-1)+1 || c.w+2*c.pad < c.dil*(c.k-1)+1 {
				continue
			}
			cases = append(cases, c)
		}
		for _, c := range cases {
			oh, ow := c.out()
			in := randSlice(rng, guarded(t, c.h*c.w))
			wt := randSlice(rng, guarded(t, c.k*c.k))
			sc := getDW(c.h, c.w, c.k, c.s, c.pad, c.dil, oh, ow)
			flatConv(sc.g.nflat, sc.fillPlanes(in), sc.offs, wt, sc.out)
			want := make([]float32, oh*ow)
			copyRows(oh, ow, sc.out, sc.g.p, want, ow, false)
			dwPool.Put(sc)
			got := randSlice(rng, guarded(t, oh*ow))
			DepthwiseForward(in, c.h, c.w, wt, c.k, c.s, c.pad, c.dil, got, oh, ow)
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%v forward: out[%d] = %g, flat %g", c, i, got[i], want[i])
				}
			}
			if c.s != 1 {
				continue
			}
			dout := randSlice(rng, guarded(t, oh*ow))
			din := randSlice(rng, guarded(t, c.h*c.w))
			wantD := append([]float32(nil), din...)
			sc = getDW(c.h, c.w, c.k, c.s, c.pad, c.dil, oh, ow)
			g := &sc.g
			copyRows(oh, ow, dout, ow, sc.dbuf[g.m:], g.p, false)
			w2 := sc.w2[:len(sc.ptap)]
			for j, tp := range sc.ptap {
				w2[j] = wt[tp]
			}
			flatConv(len(sc.dplane), sc.dbuf, sc.poff, w2, sc.dplane)
			copyRows(c.h, c.w, sc.dplane[g.pad*g.p+g.pad:], g.p, wantD, c.w, true)
			dwPool.Put(sc)
			DepthwiseBackwardData(dout, oh, ow, wt, c.k, c.s, c.pad, c.dil, din, c.h, c.w)
			for i := range din {
				if math.Float32bits(din[i]) != math.Float32bits(wantD[i]) {
					t.Fatalf("%v backward data: din[%d] = %g, flat %g", c, i, din[i], wantD[i])
				}
			}
		}
	})
}

// TestDwDotsAsm: the tiled 2-D dot products against float64 sums, over
// row pairs and a last odd row, tap quads and single taps; inputs end at
// guard pages.
func TestDwDotsAsm(t *testing.T) {
	if !hasAsm {
		t.Skip("no assembly kernels in this build")
	}
	rng := rand.New(rand.NewPCG(21, 22))
	for n := 0; n < 400; n++ {
		rows, w := 1+rng.IntN(19), 8*(1+rng.IntN(6))
		offs := make([]int, 1+rng.IntN(27))
		maxOff := 0
		for i := range offs {
			offs[i] = rng.IntN(60)
			maxOff = max(maxOff, offs[i])
		}
		xs, ss := w+rng.IntN(9), w+rng.IntN(9)
		x := randSlice(rng, guarded(t, (rows-1)*xs+w))
		src := randSlice(rng, guarded(t, (rows-1)*ss+w+maxOff))
		out := randSlice(rng, guarded(t, len(offs)))
		dwDotsAsm(rows, w, x, xs, src, ss, offs, maxOff, out)
		for tp, off := range offs {
			var want, scale float64
			for r := range rows {
				for i := range w {
					p := float64(x[r*xs+i]) * float64(src[r*ss+i+off])
					want += p
					scale += math.Abs(p)
				}
			}
			if !closeTo(out[tp], want, scale) {
				t.Fatalf("rows %d w %d xs %d ss %d taps %v: out[%d] = %g, want %g", rows, w, xs, ss, offs, tp, out[tp], want)
			}
		}
	}
}

// TestDepthwiseHandleMatchesFunctions: the methods of a Depthwise, reused
// over several planes, give the per-plane functions' bits; BackwardData
// without accumulate gives what DepthwiseBackwardData adds to zeros (equal
// values: a zero sum may differ in sign). Short slices and bad geometries
// panic.
func TestDepthwiseHandleMatchesFunctions(t *testing.T) {
	paths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(23, 24))
		cases := dartsDWCases()
		for len(cases) < 200 {
			c := dwCase{1 + rng.IntN(30), 1 + rng.IntN(30), 1 + rng.IntN(6), 1 + rng.IntN(3), rng.IntN(5), 1 + rng.IntN(3)}
			if c.h+2*c.pad < c.dil*(c.k-1)+1 || c.w+2*c.pad < c.dil*(c.k-1)+1 {
				continue
			}
			cases = append(cases, c)
		}
		for _, c := range cases {
			oh, ow := c.out()
			hw, ohw, kk := c.h*c.w, oh*ow, c.k*c.k
			d := GetDepthwise(c.h, c.w, c.k, c.s, c.pad, c.dil, oh, ow)
			for range 3 {
				in := randSlice(rng, guarded(t, hw))
				wt := randSlice(rng, guarded(t, kk))
				dout := randSlice(rng, guarded(t, ohw))
				got, want := guarded(t, ohw), make([]float32, ohw)
				d.Forward(in, wt, got)
				DepthwiseForward(in, c.h, c.w, wt, c.k, c.s, c.pad, c.dil, want, oh, ow)
				sameBits(t, c, "Forward", got, want)

				dw, dwWant := randSlice(rng, guarded(t, kk)), make([]float32, kk)
				copy(dwWant, dw)
				d.BackwardFilter(in, dout, dw)
				DepthwiseBackwardFilter(in, c.h, c.w, dout, oh, ow, c.k, c.s, c.pad, c.dil, dwWant)
				sameBits(t, c, "BackwardFilter", dw, dwWant)

				din, dinWant := randSlice(rng, guarded(t, hw)), make([]float32, hw)
				copy(dinWant, din)
				d.BackwardData(dout, wt, din, true)
				DepthwiseBackwardData(dout, oh, ow, wt, c.k, c.s, c.pad, c.dil, dinWant, c.h, c.w)
				sameBits(t, c, "BackwardData", din, dinWant)

				randSlice(rng, din)
				clear(dinWant)
				d.BackwardData(dout, wt, din, false)
				DepthwiseBackwardData(dout, oh, ow, wt, c.k, c.s, c.pad, c.dil, dinWant, c.h, c.w)
				for i := range din {
					if din[i] != dinWant[i] {
						t.Fatalf("%v BackwardData (set): din[%d] = %g, want %g", c, i, din[i], dinWant[i])
					}
				}
			}
			d.Release()
		}
	})
	mustPanic(t, "bad geometry", func() { GetDepthwise(8, 8, 3, 1, 1, 1, 8, 7) })
	d := GetDepthwise(8, 8, 3, 1, 1, 1, 8, 8)
	defer d.Release()
	mustPanic(t, "short output", func() { d.Forward(make([]float32, 64), make([]float32, 9), make([]float32, 63)) })
	mustPanic(t, "short weights", func() { d.BackwardData(make([]float32, 64), make([]float32, 8), make([]float32, 64), true) })
	mustPanic(t, "short input", func() { d.BackwardFilter(make([]float32, 63), make([]float32, 64), make([]float32, 9)) })
}

func sameBits(t *testing.T, c dwCase, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%v %s: [%d] = %g, per-plane function %g", c, what, i, got[i], want[i])
		}
	}
}

func mustPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("no panic for %s", what)
		}
	}()
	f()
}

// TestDwRowsMatchesAVX2: dwRows (AVX-512 tiles of 16-float vectors where
// the CPU has them) gives dwRowsAsm's bits over every tile shape, the rows
// left under a tile and an 8-column remainder; inputs end at guard pages.
func TestDwRowsMatchesAVX2(t *testing.T) {
	if !hasAsm || avx2Only == nil {
		t.Skip("no AVX-512 kernels in this build or on this CPU")
	}
	rng := rand.New(rand.NewPCG(25, 26))
	for n := 0; n < 400; n++ {
		rows, w := 1+rng.IntN(27), 8*(1+rng.IntN(12))
		offs := make([]int, 1+rng.IntN(26))
		maxOff := 0
		for i := range offs {
			offs[i] = rng.IntN(70)
			maxOff = max(maxOff, offs[i])
		}
		ss, ds := w+rng.IntN(9), w+rng.IntN(9)
		src := randSlice(rng, guarded(t, (rows-1)*ss+w+maxOff))
		wts := randSlice(rng, guarded(t, len(offs)))
		add := rng.IntN(2) == 1
		dst := randSlice(rng, guarded(t, (rows-1)*ds+w))
		want := append([]float32(nil), dst...)
		dwRowsAsm(rows, w, src, ss, offs, maxOff, wts, want, ds, add)
		dwRows(rows, w, src, ss, offs, maxOff, wts, dst, ds, add)
		for i := range dst {
			if math.Float32bits(dst[i]) != math.Float32bits(want[i]) {
				t.Fatalf("rows %d w %d ss %d ds %d taps %v add %v: dst[%d] = %g, AVX2 %g", rows, w, ss, ds, offs, add, i, dst[i], want[i])
			}
		}
	}
}

// TestDwDots: dwDots (AVX-512 dot products over 16-float vectors where the
// CPU has them, else dwDotsAsm) against float64 sums, over row pairs and a
// last odd row, tap quads and single taps, widths of whole and half
// 16-float vectors; inputs end at guard pages.
func TestDwDots(t *testing.T) {
	if !hasAsm {
		t.Skip("no assembly kernels in this build")
	}
	rng := rand.New(rand.NewPCG(31, 32))
	for n := 0; n < 400; n++ {
		rows, w := 1+rng.IntN(19), 8*(1+rng.IntN(8))
		offs := make([]int, 1+rng.IntN(27))
		maxOff := 0
		for i := range offs {
			offs[i] = rng.IntN(60)
			maxOff = max(maxOff, offs[i])
		}
		xs, ss := w+rng.IntN(9), w+rng.IntN(9)
		x := randSlice(rng, guarded(t, (rows-1)*xs+w))
		src := randSlice(rng, guarded(t, (rows-1)*ss+w+maxOff))
		out := randSlice(rng, guarded(t, len(offs)))
		dwDots(rows, w, x, xs, src, ss, offs, maxOff, out)
		for tp, off := range offs {
			var want, scale float64
			for r := range rows {
				for i := range w {
					p := float64(x[r*xs+i]) * float64(src[r*ss+i+off])
					want += p
					scale += math.Abs(p)
				}
			}
			if !closeTo(out[tp], want, scale) {
				t.Fatalf("rows %d w %d xs %d ss %d taps %v: out[%d] = %g, want %g", rows, w, xs, ss, offs, tp, out[tp], want)
			}
		}
	}
}
