package kern

import "fmt"

// The 3×3 pools with padding 1 of the DARTS cells, on one plane, in
// AVX-512 assembly. They have no Go form here: where the path has no kernel
// for the shape (PureGo, AVX2; stride 2 with an odd side for the max pools)
// each function does nothing and reports false, and the caller pools in Go
// (nn/cpu pools any window). Their Go references, which the assembly
// matches bit for bit, are in pool_test.go. Every function panics on a bad
// geometry or a short slice, whatever the path.

// MaxPool3Forward sets out[oy·ow+ox] (oh = (h-1)/s+1, ow = (w-1)/s+1 for
// stride s, 1 or 2) to the maximum of its window (rows s·oy-1..s·oy+1,
// columns s·ox-1..s·ox+1, clipped to the h×w plane x), PyTorch's
// max_pool2d(x, 3, s, 1), and reports true where the path has a kernel for
// the shape (AVX512: stride 1, or 2 with h and w even). The maximum is the
// element MaxPool3Backward picks, so equal to Go's max of the window except
// with NaN inputs (a NaN wins only with the sign bit clear, and then over
// +Inf).
func MaxPool3Forward(h, w, s int, x, out []float32) bool {
	checkPool3("MaxPool3Forward", h, w, s, len(x), len(x), len(out))
	return useAsm && maxPool3FwdAsm(h, w, s, x, out)
}

// MaxPool3Backward adds the gradient of MaxPool3Forward, whose outputs have
// gradient g, to din and reports true where the path has a kernel for the
// shape (as MaxPool3Forward): for every output (oy, ox) in row-major order,
// din[i] += g[oy·ow+ox] where i is the first maximum of x in the window in
// row-major order, later elements winning only when strictly greater.
// Floats compare by their order-preserving keys (-0 < +0; a NaN with the
// sign bit clear above +Inf, one with it set below -Inf), except that the
// two lowest keys, the NaNs 0xffffffff and 0xfffffffe, count as equal.
func MaxPool3Backward(h, w, s int, x, g, din []float32) bool {
	checkPool3("MaxPool3Backward", h, w, s, len(x), len(din), len(g))
	return useAsm && maxPool3Asm(h, w, s, x, g, din)
}

// checkPool3 panics unless the geometry is valid and the input-sized
// slices hold h·w elements and the output-sized one oh·ow.
func checkPool3(fn string, h, w, s, nIn, nIn2, nOut int) {
	if h < 1 || w < 1 || s < 1 || s > 2 || nIn < h*w || nIn2 < h*w || nOut < ((h-1)/s+1)*((w-1)/s+1) {
		panic(fmt.Sprintf("kern.%s: plane %d×%d stride %d, slices %d, %d, %d", fn, h, w, s, nIn, nIn2, nOut))
	}
}

// AvgPool3Forward sets out[oy·w+ox] to the mean of the 3×3 window of the
// h×w plane x centred at (oy, ox), clipped to the plane (PyTorch's
// avg_pool2d(x, 3, 1, 1, count_include_pad=False)), and reports true where
// the path has the kernel (AVX512): each row's part summed from +0 left to
// right, the rows then added top to bottom, the sum divided by
// rows·columns of the window.
func AvgPool3Forward(h, w int, x, out []float32) bool {
	if h < 1 || w < 1 || len(x) < h*w || len(out) < h*w {
		panic(fmt.Sprintf("kern.AvgPool3Forward: plane %d×%d, slices x %d, out %d", h, w, len(x), len(out)))
	}
	return useAsm && avgPool3FwdAsm(h, w, x, out)
}

// AvgPool3Backward adds the gradient of AvgPool3Forward to din and reports
// true where the path has the kernel (AVX512): with q[oy, ox] = g[oy, ox] /
// (rows·columns of its window), t[iy, ox] = the sum from +0 of q over the
// outputs oy covering row iy, top to bottom, and then din[iy, ix] +=
// t[iy, ox] for the outputs ox covering ix, left to right.
func AvgPool3Backward(h, w int, g, din []float32) bool {
	if h < 1 || w < 1 || len(g) < h*w || len(din) < h*w {
		panic(fmt.Sprintf("kern.AvgPool3Backward: plane %d×%d, slices g %d, din %d", h, w, len(g), len(din)))
	}
	return useAsm && avgPool3Asm(h, w, g, din)
}
