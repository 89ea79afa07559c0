package kern

// Batch-norm helpers over one channel plane. The sums use 16 float32 partial
// sums (element i goes to partial i mod 16, in index order) combined in
// float64 by sumPartials; products and sums are rounded separately (no fused
// multiply-add: the float32 conversions forbid the compiler to fuse), so the
// Go and assembly paths give identical bits.

// ShiftedMoments returns Σ (x[i]-k) and Σ (x[i]-k)². With k a value of the
// data (e.g. its first element) the variance Σ(x-k)²/n - (Σ(x-k)/n)² does not
// suffer the cancellation of the unshifted formula.
func ShiftedMoments(x []float32, k float32) (sum, sumSq float64) {
	var s, q [16]float32
	i := 0
	if useAsm && len(x) >= 16 {
		i = len(x) &^ 15
		shiftedMomentsAsm(i, x, k, &s, &q)
	} else {
		for ; i+16 <= len(x); i += 16 {
			for l, v := range x[i : i+16] {
				d := v - k
				s[l] += d
				q[l] += float32(d * d)
			}
		}
	}
	for l := 0; i < len(x); i, l = i+1, l+1 {
		d := x[i] - k
		s[l] += d
		q[l] += float32(d * d)
	}
	return sumPartials32(&s), sumPartials32(&q)
}

// DotDev returns Σ g[i] and Σ g[i]·(x[i]-m) over len(g) (x at least as long):
// the two reductions of the batch-norm backward pass.
func DotDev(g, x []float32, m float32) (sumG, sumGDev float64) {
	x = x[:len(g)]
	var a, b [16]float32
	i := 0
	if useAsm && len(g) >= 16 {
		i = len(g) &^ 15
		dotDevAsm(i, g, x, m, &a, &b)
	} else {
		for ; i+16 <= len(g); i += 16 {
			xs := x[i : i+16]
			for l, gv := range g[i : i+16] {
				a[l] += gv
				b[l] += float32(gv * (xs[l] - m))
			}
		}
	}
	for l := 0; i < len(g); i, l = i+1, l+1 {
		a[l] += g[i]
		b[l] += float32(g[i] * (x[i] - m))
	}
	return sumPartials32(&a), sumPartials32(&b)
}

// ScaleShift sets y[i] = x[i]·a + b for i < len(y) (x at least as long),
// rounding the product and the sum separately.
func ScaleShift(y, x []float32, a, b float32) {
	x = x[:len(y)]
	i := 0
	if useAsm && len(y) >= 32 {
		i = len(y) &^ 31
		scaleShiftAsm(i, y, x, a, b)
	}
	for ; i < len(y); i++ {
		y[i] = float32(x[i]*a) + b
	}
}

// ScaleShiftReLU sets y[i] = max(x[i]·a + b, 0) for i < len(y) (x at least as
// long): ScaleShift then ReluForward in one pass, with the same bits.
func ScaleShiftReLU(y, x []float32, a, b float32) {
	x = x[:len(y)]
	i := 0
	if useAsm && len(y) >= 32 {
		i = len(y) &^ 31
		scaleShiftReluAsm(i, y, x, a, b)
	}
	for ; i < len(y); i++ {
		v := float32(x[i]*a) + b
		if v < 0 {
			v = 0
		}
		y[i] = v
	}
}

// AffineAxpy sets dst[i] = (x[i]·a + b) + k·g[i], or adds that to dst[i]
// when add, for i < len(dst) (x and g at least as long), rounding every
// product and sum on its own: ScaleShift(t, x, a, b), Axpy(k, g, t), then
// dst = t or Axpy(1, t, dst), in one pass (the batch-norm input gradient).
func AffineAxpy(dst, x, g []float32, a, b, k float32, add bool) {
	x, g = x[:len(dst)], g[:len(dst)]
	i := 0
	if useAsm && len(dst) >= 32 {
		i = len(dst) &^ 31
		affineAxpyAsm(i, dst, x, g, a, b, k, add)
	}
	for ; i < len(dst); i++ {
		t := (float32(x[i]*a) + b) + float32(k*g[i])
		if add {
			dst[i] += t
		} else {
			dst[i] = t
		}
	}
}

// sumPartials32 combines 16 float32 partials in float64 like sumPartials.
func sumPartials32(p *[16]float32) float64 {
	var d [16]float64
	for l, v := range p {
		d[l] = float64(v)
	}
	return sumPartials(&d)
}
