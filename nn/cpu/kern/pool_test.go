package kern

import (
	"math"
	"math/rand/v2"
	"testing"
)

// naiveMaxPool3 returns, for each output of a 3×3, stride st, padding 1
// max pool over an h×w plane, the index of its window's first maximum in
// row-major order, comparing floats by value with -0 < +0 (finite inputs).
func naiveMaxPool3(h, w, st int, x []float32) []int {
	less := func(a, b float32) bool { // a < b, with -0 < +0
		if a == 0 && b == 0 {
			return math.Signbit(float64(a)) && !math.Signbit(float64(b))
		}
		return a < b
	}
	oh, ow := (h-1)/st+1, (w-1)/st+1
	arg := make([]int, oh*ow)
	for oy := range oh {
		for ox := range ow {
			best := -1
			for iy := max(st*oy-1, 0); iy < min(st*oy+2, h); iy++ {
				for ix := max(st*ox-1, 0); ix < min(st*ox+2, w); ix++ {
					if best < 0 || less(x[best], x[iy*w+ix]) {
						best = iy*w + ix
					}
				}
			}
			arg[oy*ow+ox] = best
		}
	}
	return arg
}

// TestMaxPool3Backward: at strides 1 and 2, over random planes (widths
// around the 16-lane chunks, DARTS sizes, odd and even sides) with many ties (values from a small set, ±0, ±Inf),
// the gradient of each output goes to its window's first maximum, added in
// output order, on every path, bit for bit; slices end at guard pages.
func TestMaxPool3Backward(t *testing.T) {
	paths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(29, 30))
		shapes := [][2]int{{32, 32}, {16, 16}, {8, 8}, {1, 1}, {1, 5}, {5, 1}, {2, 2}, {3, 17}, {31, 31}, {7, 33}}
		for len(shapes) < 200 {
			shapes = append(shapes, [2]int{1 + rng.IntN(40), 1 + rng.IntN(50)})
		}
		vals := []float32{0, float32(math.Copysign(0, -1)), 1, -1, 2, float32(math.Inf(1)), float32(math.Inf(-1)), 0.5}
		for n, s := range shapes {
			for st := 1; st <= 2; st++ {
				h, w := s[0], s[1]
				if st == 2 && n%4 < 2 { // mostly even sides: the assembly's
					h, w = 2*((h+1)/2), 2*((w+1)/2)
				}
				ohw := ((h-1)/st + 1) * ((w-1)/st + 1)
				x := guarded(t, h*w)
				for i := range x {
					if n%2 == 0 {
						x[i] = vals[rng.IntN(len(vals))]
					} else {
						x[i] = rng.Float32()*2 - 1
					}
				}
				g := randSlice(rng, guarded(t, ohw))
				din := randSlice(rng, guarded(t, h*w))
				want := append([]float32(nil), din...)
				for o, i := range naiveMaxPool3(h, w, st, x) {
					want[i] += g[o]
				}
				MaxPool3Backward(h, w, st, x, g, din)
				for i := range din {
					if math.Float32bits(din[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%d×%d stride %d: din[%d] = %g, want %g", h, w, st, i, din[i], want[i])
					}
				}
			}
		}
	})
	mustPanic(t, "short gradient", func() { MaxPool3Backward(2, 2, 1, make([]float32, 4), make([]float32, 3), make([]float32, 4)) })
	mustPanic(t, "stride 3", func() { MaxPool3Backward(3, 3, 3, make([]float32, 9), make([]float32, 1), make([]float32, 9)) })
}

// TestMaxPool3Forward: each output is its window's maximum (by value, with
// -0 < +0) at strides 1 and 2 over random planes with many ties, on every path, bit for bit;
// slices end at guard pages.
func TestMaxPool3Forward(t *testing.T) {
	paths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(33, 34))
		shapes := [][2]int{{32, 32}, {16, 16}, {8, 8}, {1, 1}, {1, 5}, {5, 1}, {2, 2}, {3, 17}, {31, 31}, {7, 33}}
		for len(shapes) < 200 {
			shapes = append(shapes, [2]int{1 + rng.IntN(40), 1 + rng.IntN(50)})
		}
		vals := []float32{0, float32(math.Copysign(0, -1)), 1, -1, 2, float32(math.Inf(1)), float32(math.Inf(-1)), 0.5}
		for n, s := range shapes {
			for st := 1; st <= 2; st++ {
				h, w := s[0], s[1]
				if st == 2 && n%4 < 2 {
					h, w = 2*((h+1)/2), 2*((w+1)/2)
				}
				x := guarded(t, h*w)
				for i := range x {
					if n%2 == 0 {
						x[i] = vals[rng.IntN(len(vals))]
					} else {
						x[i] = rng.Float32()*2 - 1
					}
				}
				out := randSlice(rng, guarded(t, ((h-1)/st+1)*((w-1)/st+1)))
				MaxPool3Forward(h, w, st, x, out)
				for o, i := range naiveMaxPool3(h, w, st, x) {
					if math.Float32bits(out[o]) != math.Float32bits(x[i]) {
						t.Fatalf("%d×%d stride %d: out[%d] = %g, want %g", h, w, st, o, out[o], x[i])
					}
				}
			}
		}
	})
	mustPanic(t, "short output", func() { MaxPool3Forward(2, 2, 1, make([]float32, 4), make([]float32, 3)) })
}

// TestAvgPool3: forward means and backward spreads against float64 sums,
// and the assembly against the Go version bit for bit (with ±0 inputs and
// a -0 input gradient), over random planes; slices end at guard pages.
func TestAvgPool3(t *testing.T) {
	negZero := float32(math.Copysign(0, -1))
	paths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(35, 36))
		shapes := [][2]int{{32, 32}, {16, 16}, {8, 8}, {1, 1}, {1, 5}, {5, 1}, {2, 2}, {3, 17}, {31, 31}, {7, 33}}
		for len(shapes) < 200 {
			shapes = append(shapes, [2]int{1 + rng.IntN(40), 1 + rng.IntN(50)})
		}
		saved := useAsm
		defer func() { useAsm = saved }()
		for n, s := range shapes {
			h, w := s[0], s[1]
			x, g := guarded(t, h*w), guarded(t, h*w)
			for i := range x {
				x[i], g[i] = rng.Float32()*2-1, rng.Float32()*2-1
				if n%3 == 0 && rng.IntN(2) == 0 {
					x[i], g[i] = negZero, negZero
				}
			}
			din0 := randSlice(rng, make([]float32, h*w))
			if n%3 == 0 {
				for i := range din0 {
					din0[i] = negZero
				}
			}
			var outs, dins [2][]float32
			for p, asm := range []bool{false, saved} {
				useAsm = asm
				outs[p] = randSlice(rng, guarded(t, h*w))
				AvgPool3Forward(h, w, x, outs[p])
				dins[p] = guarded(t, h*w)
				copy(dins[p], din0)
				AvgPool3Backward(h, w, g, dins[p])
			}
			useAsm = saved
			for i := range outs[0] {
				if math.Float32bits(outs[0][i]) != math.Float32bits(outs[1][i]) || math.Float32bits(dins[0][i]) != math.Float32bits(dins[1][i]) {
					t.Fatalf("%d×%d: [%d] forward %g / %g, backward %g / %g (Go / this path)", h, w, i, outs[0][i], outs[1][i], dins[0][i], dins[1][i])
				}
			}
			want, wantD := make([]float64, h*w), make([]float64, h*w)
			for i, v := range din0 {
				wantD[i] = float64(v)
			}
			for oy := range h {
				for ox := range w {
					y0, y1, x0, x1 := max(oy-1, 0), min(oy+2, h), max(ox-1, 0), min(ox+2, w)
					cnt := float64((y1 - y0) * (x1 - x0))
					for iy := y0; iy < y1; iy++ {
						for ix := x0; ix < x1; ix++ {
							want[oy*w+ox] += float64(x[iy*w+ix]) / cnt
							wantD[iy*w+ix] += float64(g[oy*w+ox]) / cnt
						}
					}
				}
			}
			for i := range want {
				if math.Abs(float64(outs[1][i])-want[i]) > 1e-6 || math.Abs(float64(dins[1][i])-wantD[i]) > 1e-5 {
					t.Fatalf("%d×%d: [%d] forward %g, want %g; backward %g, want %g", h, w, i, outs[1][i], want[i], dins[1][i], wantD[i])
				}
			}
		}
	})
	mustPanic(t, "short input", func() { AvgPool3Forward(2, 2, make([]float32, 3), make([]float32, 4)) })
	mustPanic(t, "short input gradient", func() { AvgPool3Backward(2, 2, make([]float32, 4), make([]float32, 3)) })
}
