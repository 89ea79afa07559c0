package kern

import (
	"math"
	"math/rand/v2"
	"testing"
)

// maxKey is the order-preserving integer key of v used by MaxPool3Backward.
func maxKey(v float32) int32 {
	b := int32(math.Float32bits(v))
	return max(b^(b>>31&0x7fffffff), math.MinInt32+1)
}

// maxPool3Arg returns the index of the first maximum of output (oy, ox)'s
// window and its key.
func maxPool3Arg(h, w, s, oy, ox int, x []float32) (best int, m int32) {
	best = -1
	for iy := max(s*oy-1, 0); iy < min(s*oy+2, h); iy++ {
		for ix := max(s*ox-1, 0); ix < min(s*ox+2, w); ix++ {
			if k := maxKey(x[iy*w+ix]); best < 0 || k > m {
				best, m = iy*w+ix, k
			}
		}
	}
	return best, m
}

// maxPool3BackwardGo is MaxPool3Backward in Go, the reference.
func maxPool3BackwardGo(h, w, s int, x, g, din []float32) {
	oh, ow := (h-1)/s+1, (w-1)/s+1
	for oy := range oh {
		for ox := range ow {
			best, _ := maxPool3Arg(h, w, s, oy, ox, x)
			din[best] += g[oy*ow+ox]
		}
	}
}

// maxPool3ForwardGo is MaxPool3Forward in Go, the reference.
func maxPool3ForwardGo(h, w, s int, x, out []float32) {
	oh, ow := (h-1)/s+1, (w-1)/s+1
	for oy := range oh {
		for ox := range ow {
			_, m := maxPool3Arg(h, w, s, oy, ox, x)
			out[oy*ow+ox] = math.Float32frombits(uint32(m ^ (m >> 31 & 0x7fffffff)))
		}
	}
}

// avgPool3ForwardGo is AvgPool3Forward in Go, the reference.
func avgPool3ForwardGo(h, w int, x, out []float32) {
	for oy := range h {
		y0, y1 := max(oy-1, 0), min(oy+2, h)
		for ox := range w {
			x0, x1 := max(ox-1, 0), min(ox+2, w)
			var o float32
			for iy := y0; iy < y1; iy++ {
				var s float32
				for _, v := range x[iy*w+x0 : iy*w+x1] {
					s += v
				}
				if iy == y0 {
					o = s
				} else {
					o += s
				}
			}
			out[oy*w+ox] = o / (float32(y1-y0) * float32(x1-x0))
		}
	}
}

// avgPool3BackwardGo is AvgPool3Backward in Go, the reference.
func avgPool3BackwardGo(h, w int, g, din []float32) {
	t := make([]float32, w)
	for iy := range h {
		clear(t)
		for oy := max(iy-1, 0); oy < min(iy+2, h); oy++ {
			dy := float32(min(oy+2, h) - max(oy-1, 0))
			for ox := range t {
				t[ox] += g[oy*w+ox] / (dy * float32(min(ox+2, w)-max(ox-1, 0)))
			}
		}
		row := din[iy*w : (iy+1)*w]
		for ox, v := range t {
			for ix := max(ox-1, 0); ix < min(ox+2, w); ix++ {
				row[ix] += v
			}
		}
	}
}

// pool3Runs reports whether the current path has a pooling kernel for an
// h×w plane at stride s (the avg pools: stride 1), so that a function
// reporting false there fails the tests.
func pool3Runs(h, w, s int) bool {
	return useAsm && useAVX512 && (s == 1 || h%2 == 0 && w%2 == 0)
}

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
				if ran := MaxPool3Backward(h, w, st, x, g, din); ran != pool3Runs(h, w, st) {
					t.Fatalf("%d×%d stride %d: MaxPool3Backward reports %v", h, w, st, ran)
				} else if !ran {
					maxPool3BackwardGo(h, w, st, x, g, din)
				}
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
				if ran := MaxPool3Forward(h, w, st, x, out); ran != pool3Runs(h, w, st) {
					t.Fatalf("%d×%d stride %d: MaxPool3Forward reports %v", h, w, st, ran)
				} else if !ran {
					maxPool3ForwardGo(h, w, st, x, out)
				}
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
			for p := range outs {
				outs[p] = randSlice(rng, guarded(t, h*w))
				dins[p] = guarded(t, h*w)
				copy(dins[p], din0)
			}
			avgPool3ForwardGo(h, w, x, outs[0])
			avgPool3BackwardGo(h, w, g, dins[0])
			if ran := AvgPool3Forward(h, w, x, outs[1]); ran != pool3Runs(h, w, 1) {
				t.Fatalf("%d×%d: AvgPool3Forward reports %v", h, w, ran)
			} else if !ran {
				avgPool3ForwardGo(h, w, x, outs[1])
			}
			if ran := AvgPool3Backward(h, w, g, dins[1]); ran != pool3Runs(h, w, 1) {
				t.Fatalf("%d×%d: AvgPool3Backward reports %v", h, w, ran)
			} else if !ran {
				avgPool3BackwardGo(h, w, g, dins[1])
			}
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

// TestMaxPool3NaN: with NaNs of both signs among the inputs (the two
// lowest keys, 0xffffffff and 0xfffffffe, among them), the assembly picks
// the elements and outputs of the Go references bit for bit.
func TestMaxPool3NaN(t *testing.T) {
	paths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(37, 38))
		nan := func(b uint32) float32 { return math.Float32frombits(b) }
		vals := []float32{nan(0x7fc00000), nan(0x7f800001), nan(0xffc00000), nan(0xffffffff), nan(0xfffffffe),
			float32(math.Inf(1)), float32(math.Inf(-1)), 0, float32(math.Copysign(0, -1)), 1, -1}
		for n := range 100 {
			h, w := 2*(1+rng.IntN(20)), 2*(1+rng.IntN(25))
			x := guarded(t, h*w)
			for i := range x {
				x[i] = vals[rng.IntN(len(vals))]
			}
			for st := 1; st <= 2; st++ {
				ohw := ((h-1)/st + 1) * ((w-1)/st + 1)
				out, want := guarded(t, ohw), make([]float32, ohw)
				g := randSlice(rng, make([]float32, ohw))
				din, wantD := guarded(t, h*w), make([]float32, h*w)
				maxPool3ForwardGo(h, w, st, x, want)
				maxPool3BackwardGo(h, w, st, x, g, wantD)
				if MaxPool3Forward(h, w, st, x, out) != pool3Runs(h, w, st) || MaxPool3Backward(h, w, st, x, g, din) != pool3Runs(h, w, st) {
					t.Fatalf("case %d, %d×%d stride %d: a kernel reports the wrong path", n, h, w, st)
				}
				if !pool3Runs(h, w, st) {
					continue
				}
				for i := range out {
					if math.Float32bits(out[i]) != math.Float32bits(want[i]) {
						t.Fatalf("case %d, %d×%d stride %d: out[%d] = %#x, want %#x", n, h, w, st, i, math.Float32bits(out[i]), math.Float32bits(want[i]))
					}
				}
				for i := range din {
					if math.Float32bits(din[i]) != math.Float32bits(wantD[i]) {
						t.Fatalf("case %d, %d×%d stride %d: din[%d] = %g, want %g", n, h, w, st, i, din[i], wantD[i])
					}
				}
			}
		}
	})
}
