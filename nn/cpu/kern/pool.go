package kern

import (
	"fmt"
	"math"
)

// MaxPool3Backward adds the gradient of a 3×3 max pool with padding 1 and
// stride s (1 or 2) over one h×w plane (PyTorch's max_pool2d(x, 3, s, 1)),
// whose oh×ow outputs (oh = (h-1)/s+1, ow = (w-1)/s+1) have gradient g:
// for every output (oy, ox) in row-major order, din[i] += g[oy·ow+ox]
// where i is the first maximum of x in the window (rows s·oy-1..s·oy+1,
// columns s·ox-1..s·ox+1, clipped to the plane) in row-major order, later
// elements winning only when strictly greater. Floats compare by their
// order-preserving keys (-0 < +0; a NaN with the sign bit clear above
// +Inf, one with it set below -Inf), except that the two lowest keys, the
// NaNs 0xffffffff and 0xfffffffe, count as equal. Both paths give the same
// bits.
func MaxPool3Backward(h, w, s int, x, g, din []float32) {
	if !MaxPool3BackwardAccel(h, w, s, x, g, din) {
		maxPool3BackwardGo(h, w, s, x, g, din)
	}
}

// MaxPool3BackwardAccel is MaxPool3Backward where this CPU has an assembly
// kernel for the shape (AVX-512; stride 1, or 2 with h and w even),
// reporting true; otherwise it does nothing and reports false, so callers
// can keep a faster Go version of their own.
func MaxPool3BackwardAccel(h, w, s int, x, g, din []float32) bool {
	checkPool3("MaxPool3Backward", h, w, s, len(x), len(din), len(g))
	return useAsm && maxPool3Asm(h, w, s, x, g, din)
}

// MaxPool3Forward sets out[oy·ow+ox] to the maximum of the window of
// MaxPool3Backward (PyTorch's max_pool2d(x, 3, s, 1)): the element that
// MaxPool3Backward picks, so equal to Go's max of the window except with
// NaN inputs (a NaN wins only with the sign bit clear, and then over
// +Inf). Both paths give the same bits.
func MaxPool3Forward(h, w, s int, x, out []float32) {
	if !MaxPool3ForwardAccel(h, w, s, x, out) {
		maxPool3ForwardGo(h, w, s, x, out)
	}
}

// MaxPool3ForwardAccel is MaxPool3Forward where this CPU has an assembly
// kernel for the shape, reporting true; otherwise it does nothing and
// reports false.
func MaxPool3ForwardAccel(h, w, s int, x, out []float32) bool {
	checkPool3("MaxPool3Forward", h, w, s, len(x), len(x), len(out))
	return useAsm && maxPool3FwdAsm(h, w, s, x, out)
}

// checkPool3 panics unless the geometry is valid and the input-sized
// slices hold h·w elements and the output-sized one oh·ow.
func checkPool3(fn string, h, w, s, nIn, nIn2, nOut int) {
	if h < 1 || w < 1 || s < 1 || s > 2 || nIn < h*w || nIn2 < h*w || nOut < ((h-1)/s+1)*((w-1)/s+1) {
		panic(fmt.Sprintf("kern.%s: plane %d×%d stride %d, slices %d, %d, %d", fn, h, w, s, nIn, nIn2, nOut))
	}
}

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

func maxPool3BackwardGo(h, w, s int, x, g, din []float32) {
	oh, ow := (h-1)/s+1, (w-1)/s+1
	for oy := range oh {
		for ox := range ow {
			best, _ := maxPool3Arg(h, w, s, oy, ox, x)
			din[best] += g[oy*ow+ox]
		}
	}
}

func maxPool3ForwardGo(h, w, s int, x, out []float32) {
	oh, ow := (h-1)/s+1, (w-1)/s+1
	for oy := range oh {
		for ox := range ow {
			_, m := maxPool3Arg(h, w, s, oy, ox, x)
			out[oy*ow+ox] = math.Float32frombits(uint32(m ^ (m >> 31 & 0x7fffffff)))
		}
	}
}

// AvgPool3Forward sets out[oy·w+ox] to the mean of the 3×3 window of the
// h×w plane x centred at (oy, ox), clipped to the plane (PyTorch's
// avg_pool2d(x, 3, 1, 1, count_include_pad=False)): each row's part summed
// from +0 left to right, the rows then added top to bottom, the sum divided
// by rows·columns of the window. Both paths give the same bits.
func AvgPool3Forward(h, w int, x, out []float32) {
	if !AvgPool3ForwardAccel(h, w, x, out) {
		avgPool3ForwardGo(h, w, x, out)
	}
}

// AvgPool3ForwardAccel is AvgPool3Forward where this CPU has an assembly
// kernel for it, reporting true; otherwise it does nothing and reports
// false.
func AvgPool3ForwardAccel(h, w int, x, out []float32) bool {
	if h < 1 || w < 1 || len(x) < h*w || len(out) < h*w {
		panic(fmt.Sprintf("kern.AvgPool3Forward: plane %d×%d, slices x %d, out %d", h, w, len(x), len(out)))
	}
	return useAsm && avgPool3FwdAsm(h, w, x, out)
}

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

// AvgPool3Backward adds the gradient of AvgPool3Forward to din: with
// q[oy, ox] = g[oy, ox] / (rows·columns of its window), t[iy, ox] = the sum
// from +0 of q over the outputs oy covering row iy, top to bottom, and then
// din[iy, ix] += t[iy, ox] for the outputs ox covering ix, left to right.
// Both paths give the same bits.
func AvgPool3Backward(h, w int, g, din []float32) {
	if !AvgPool3BackwardAccel(h, w, g, din) {
		avgPool3BackwardGo(h, w, g, din)
	}
}

// AvgPool3BackwardAccel is AvgPool3Backward where this CPU has an assembly
// kernel for it, reporting true; otherwise it does nothing and reports
// false.
func AvgPool3BackwardAccel(h, w int, g, din []float32) bool {
	if h < 1 || w < 1 || len(g) < h*w || len(din) < h*w {
		panic(fmt.Sprintf("kern.AvgPool3Backward: plane %d×%d, slices g %d, din %d", h, w, len(g), len(din)))
	}
	return useAsm && avgPool3Asm(h, w, g, din)
}

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
