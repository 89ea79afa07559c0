package kern

// The vector helpers give bit-identical results on the Go and assembly
// paths: Axpy and Scale round the product and the sum separately (no fused
// multiply-add; the float32 conversions forbid the compiler to fuse).

// Axpy sets y[i] += alpha·x[i] for i < len(y); x must be at least as long.
func Axpy(alpha float32, x, y []float32) {
	x = x[:len(y)]
	i := 0
	if useAsm && len(y) >= 32 {
		i = len(y) &^ 31
		axpyAsm(i, alpha, x, y)
	}
	for ; i < len(y); i++ {
		y[i] += float32(alpha * x[i])
	}
}

// Scale sets x[i] *= alpha.
func Scale(alpha float32, x []float32) {
	i := 0
	if useAsm && len(x) >= 32 {
		i = len(x) &^ 31
		scaleAsm(i, alpha, x)
	}
	for ; i < len(x); i++ {
		x[i] *= alpha
	}
}

// ReluForward sets dst[i] = max(src[i], 0) for i < len(dst); NaN and -0 pass
// through unchanged.
func ReluForward(dst, src []float32) {
	src = src[:len(dst)]
	i := 0
	if useAsm && len(dst) >= 32 {
		i = len(dst) &^ 31
		reluAsm(i, dst, src)
	}
	for ; i < len(dst); i++ {
		v := src[i]
		if v < 0 {
			v = 0
		}
		dst[i] = v
	}
}

// ReluBackward sets dx[i] = dy[i] where y[i] > 0 and 0 elsewhere, y being the
// ReLU output (or its input: both are positive at the same places).
func ReluBackward(dx, dy, y []float32) {
	dy, y = dy[:len(dx)], y[:len(dx)]
	i := 0
	if useAsm && len(dx) >= 32 {
		i = len(dx) &^ 31
		reluBackwardAsm(i, dx, dy, y)
	}
	for ; i < len(dx); i++ {
		if y[i] > 0 {
			dx[i] = dy[i]
		} else {
			dx[i] = 0
		}
	}
}

// ReluBackwardAdd sets dx[i] += (y[i] > 0 ? dy[i] : 0): the ReLU gradient
// accumulated into dx (adding +0 where y <= 0, so a -0 in dx becomes +0).
func ReluBackwardAdd(dx, dy, y []float32) {
	dy, y = dy[:len(dx)], y[:len(dx)]
	i := 0
	if useAsm && len(dx) >= 32 {
		i = len(dx) &^ 31
		reluBackwardAddAsm(i, dx, dy, y)
	}
	for ; i < len(dx); i++ {
		var d float32
		if y[i] > 0 {
			d = dy[i]
		}
		dx[i] += d
	}
}
