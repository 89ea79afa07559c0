//go:build amd64 && !purego

package kern

//go:noescape
func axpyK(n int, alpha float32, x, y *float32)

//go:noescape
func scaleK(n int, alpha float32, x *float32)

//go:noescape
func reluK(n int, dst, src *float32)

//go:noescape
func reluBackwardK(n int, dx, dy, y *float32)

//go:noescape
func reluBackwardAddK(n int, dx, dy, y *float32)

//go:noescape
func sumK(n int, x *float32, p *[16]float64, squares bool)

// The wrappers take n > 0, a multiple of 32 (16 for sumAsm), and check bounds.

func axpyAsm(n int, alpha float32, x, y []float32) {
	_, _ = x[n-1], y[n-1]
	axpyK(n, alpha, &x[0], &y[0])
}

func scaleAsm(n int, alpha float32, x []float32) {
	_ = x[n-1]
	scaleK(n, alpha, &x[0])
}

func reluAsm(n int, dst, src []float32) {
	_, _ = dst[n-1], src[n-1]
	reluK(n, &dst[0], &src[0])
}

func reluBackwardAsm(n int, dx, dy, y []float32) {
	_, _, _ = dx[n-1], dy[n-1], y[n-1]
	reluBackwardK(n, &dx[0], &dy[0], &y[0])
}

func sumAsm(n int, x []float32, p *[16]float64, squares bool) {
	_ = x[n-1]
	sumK(n, &x[0], p, squares)
}

func reluBackwardAddAsm(n int, dx, dy, y []float32) {
	_, _, _ = dx[n-1], dy[n-1], y[n-1]
	reluBackwardAddK(n, &dx[0], &dy[0], &y[0])
}

//go:noescape
func shiftedMomentsK(n int, x *float32, k float32, s, q *[16]float32)

//go:noescape
func dotDevK(n int, dy, x *float32, m float32, a, b *[16]float32)

//go:noescape
func scaleShiftK(n int, y, x *float32, a, b float32)

// n > 0 a multiple of 16 (scaleShiftAsm: 32).

func shiftedMomentsAsm(n int, x []float32, k float32, s, q *[16]float32) {
	_ = x[n-1]
	shiftedMomentsK(n, &x[0], k, s, q)
}

func dotDevAsm(n int, g, x []float32, m float32, a, b *[16]float32) {
	_, _ = g[n-1], x[n-1]
	dotDevK(n, &g[0], &x[0], m, a, b)
}

func scaleShiftAsm(n int, y, x []float32, a, b float32) {
	_, _ = y[n-1], x[n-1]
	scaleShiftK(n, &y[0], &x[0], a, b)
}

//go:noescape
func scaleShiftReluK(n int, y, x *float32, a, b float32)

func scaleShiftReluAsm(n int, y, x []float32, a, b float32) {
	_, _ = y[n-1], x[n-1]
	scaleShiftReluK(n, &y[0], &x[0], a, b)
}

//go:noescape
func affineAxpyK(n int, dst, x, gy *float32, a, b, k float32, add bool)

func affineAxpyAsm(n int, dst, x, g []float32, a, b, k float32, add bool) {
	_, _, _ = dst[n-1], x[n-1], g[n-1]
	affineAxpyK(n, &dst[0], &x[0], &g[0], a, b, k, add)
}
