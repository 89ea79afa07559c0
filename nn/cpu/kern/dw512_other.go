//go:build !amd64 || purego

package kern

// dwRows is dwRowsAsm: no AVX-512 kernels in this build.
func dwRows(rows, w int, src []float32, ss int, offs []int, maxOff int, wts []float32, dst []float32, ds int, add bool) {
	dwRowsAsm(rows, w, src, ss, offs, maxOff, wts, dst, ds, add)
}

// copyRowsFast is copyRowsAsm: no AVX-512 kernels in this build.
func copyRowsFast(rows, w int, src []float32, sstride int, dst []float32, dstride int, add bool) {
	copyRowsAsm(rows, w, src, sstride, dst, dstride, add)
}

// deinterleave is deinterleaveAsm: no AVX-512 kernels in this build.
func deinterleave(rows, n int, src []float32, ss int, even, odd []float32, ds int) {
	deinterleaveAsm(rows, n, src, ss, even, odd, ds)
}

// dwDots is dwDotsAsm: no AVX-512 kernels in this build.
func dwDots(rows, w int, x []float32, xs int, src []float32, ss int, offs []int, maxOff int, out []float32) {
	dwDotsAsm(rows, w, x, xs, src, ss, offs, maxOff, out)
}
