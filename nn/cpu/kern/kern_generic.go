//go:build !amd64 || purego

package kern

const hasAsm = false

// No AVX-512 kernels in this build.
const hasAVX512 = false

func gemmAsm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, accumulate bool, c []float32, ldc int) {
	panic("kern: no assembly kernels in this build")
}

func flatConvAsm(n int, src []float32, offs []int, wts []float32, dst []float32) {
	panic("kern: no assembly kernels in this build")
}

func flatDotsAsm(n int, x, src []float32, offs []int, out []float32) {
	panic("kern: no assembly kernels in this build")
}

func dwRowsAsm(rows, w int, src []float32, ss int, offs []int, maxOff int, wts []float32, dst []float32, ds int, add bool) {
	panic("kern: no assembly kernels in this build")
}

func dwDotsAsm(rows, w int, x []float32, xs int, src []float32, ss int, offs []int, maxOff int, out []float32) {
	panic("kern: no assembly kernels in this build")
}

func deinterleaveAsm(rows, n int, src []float32, ss int, even, odd []float32, ds int) {
	panic("kern: no assembly")
}

func addStrided2Asm(rows, n int, dst []float32, ds int, src []float32, ss int, odd bool) {
	panic("kern: no assembly")
}

func axpyAsm(n int, alpha float32, x, y []float32)  { panic("kern: no assembly") }
func scaleAsm(n int, alpha float32, x []float32)    { panic("kern: no assembly") }
func reluAsm(n int, dst, src []float32)             { panic("kern: no assembly") }
func reluBackwardAsm(n int, dx, dy, y []float32)    { panic("kern: no assembly") }
func reluBackwardAddAsm(n int, dx, dy, y []float32) { panic("kern: no assembly") }
func momentsPlanesAsm(planes, hw int, x []float32, stride int, k float32, s, q *[16]float64) {
	panic("kern: no assembly")
}
func dotDevPlanesAsm(planes, hw int, g, x []float32, stride int, m float32, a, b *[16]float64) {
	panic("kern: no assembly")
}
func scaleShiftAsm(planes, hw int, y, x []float32, stride int, a, b float32) {
	panic("kern: no assembly")
}
func scaleShiftReluAsm(n int, y, x []float32, a, b float32) { panic("kern: no assembly") }
func affineAxpyAsm(planes, hw int, dst, x, g []float32, stride int, a, b, k float32, add bool) {
	panic("kern: no assembly")
}
func copyRowsAsm(rows, w int, src []float32, sstride int, dst []float32, dstride int, add bool) {
	panic("kern: no assembly")
}
