package kern

import "fmt"

// Batch-norm helpers. Products and sums are rounded separately (no fused
// multiply-add: the float32 conversions forbid the compiler to fuse) and the
// sums run in a fixed order (planeSums), so the Go and assembly paths give
// identical bits.

// ShiftedMomentsPlanes returns Σ (x-k) and Σ (x-k)² over the elements of
// planes planes of hw elements each, plane p at x[p*stride : p*stride+hw]
// (one channel of an NCHW tensor: stride C·H·W). With k a value of the data
// (e.g. its first element) the variance Σ(x-k)²/n - (Σ(x-k)/n)² does not
// suffer the cancellation of the unshifted formula. See planeSums for the
// order of the sums. Panics if x is too short or stride negative.
func ShiftedMomentsPlanes(x []float32, planes, hw, stride int, k float32) (sum, sumSq float64) {
	if !checkPlanes("ShiftedMomentsPlanes", len(x), planes, hw, stride) {
		return 0, 0
	}
	var s, q [16]float64
	if useAsm {
		momentsPlanesAsm(planes, hw, x, stride, k, &s, &q)
	} else {
		var ps, pq [16]float32
		for p := range planes {
			ps, pq = [16]float32{}, [16]float32{}
			for i, v := range x[p*stride : p*stride+hw] {
				d := v - k
				ps[i%16] += d
				pq[i%16] += float32(d * d)
			}
			foldPartials(&s, &ps)
			foldPartials(&q, &pq)
		}
	}
	return sumPartials(&s), sumPartials(&q)
}

// DotDevPlanes returns Σ g and Σ g·(x-m) over planes planes of hw elements
// each, plane p at g[p*stride : p*stride+hw] and x[p*stride : p*stride+hw]:
// the two reductions of the batch-norm backward pass over one channel. See
// planeSums for the order of the sums. Panics if g or x is too short or
// stride negative.
func DotDevPlanes(g, x []float32, planes, hw, stride int, m float32) (sumG, sumGDev float64) {
	if !checkPlanes("DotDevPlanes", min(len(g), len(x)), planes, hw, stride) {
		return 0, 0
	}
	var a, b [16]float64
	if useAsm {
		dotDevPlanesAsm(planes, hw, g, x, stride, m, &a, &b)
	} else {
		var pa, pb [16]float32
		for p := range planes {
			pa, pb = [16]float32{}, [16]float32{}
			xs := x[p*stride : p*stride+hw]
			for i, gv := range g[p*stride : p*stride+hw] {
				pa[i%16] += gv
				pb[i%16] += float32(gv * (xs[i] - m))
			}
			foldPartials(&a, &pa)
			foldPartials(&b, &pb)
		}
	}
	return sumPartials(&a), sumPartials(&b)
}

// planeSums: the order of the sums of ShiftedMomentsPlanes and DotDevPlanes,
// the same on the Go and assembly paths. Each plane is summed into 16
// float32 partials, element i of the plane going to partial i mod 16 in
// index order (products and sums rounded separately, no fused multiply-add);
// foldPartials adds them to 16 float64 sums plane after plane, and
// sumPartials combines those.

// foldPartials adds float64(p[l]) to s[l].
func foldPartials(s *[16]float64, p *[16]float32) {
	for l, v := range p {
		s[l] += float64(v)
	}
}

// sumPartials combines 16 partial sums as four 4-lane vectors,
// v = (p0..3 + p4..7) + (p8..11 + p12..15), then (v0+v2) + (v1+v3).
func sumPartials(p *[16]float64) float64 {
	var v [4]float64
	for l := range 4 {
		v[l] = (p[l] + p[4+l]) + (p[8+l] + p[12+l])
	}
	return (v[0] + v[2]) + (v[1] + v[3])
}

// checkPlanes reports whether there is anything to sum, after panicking
// unless n elements hold planes planes of hw elements stride apart.
func checkPlanes(op string, n, planes, hw, stride int) bool {
	if planes < 0 || hw < 0 || stride < 0 {
		panic(fmt.Sprintf("kern.%s: negative size planes=%d hw=%d stride=%d", op, planes, hw, stride))
	}
	if planes == 0 || hw == 0 {
		return false
	}
	if need := (planes-1)*stride + hw; n < need {
		panic(fmt.Sprintf("kern.%s: %d elements, %d planes of %d with stride %d need %d", op, n, planes, hw, stride, need))
	}
	return true
}

// ScaleShift sets y[i] = x[i]·a + b for i < len(y) (x at least as long),
// rounding the product and the sum separately.
func ScaleShift(y, x []float32, a, b float32) {
	x = x[:len(y)]
	i := 0
	if useAsm && len(y) >= 32 {
		i = len(y) &^ 31
		scaleShiftAsm(1, i, y, x, i, a, b)
	}
	for ; i < len(y); i++ {
		y[i] = float32(x[i]*a) + b
	}
}

// ScaleShiftPlanes is ScaleShift on planes planes of hw elements each, plane
// p at y[p*stride : p*stride+hw] and x[p*stride : p*stride+hw]. Panics if y
// or x is too short or stride negative.
func ScaleShiftPlanes(y, x []float32, planes, hw, stride int, a, b float32) {
	if !checkPlanes("ScaleShiftPlanes", min(len(y), len(x)), planes, hw, stride) {
		return
	}
	if useAsm && hw%32 == 0 {
		scaleShiftAsm(planes, hw, y, x, stride, a, b)
		return
	}
	for p := range planes {
		o := p * stride
		ScaleShift(y[o:o+hw], x[o:o+hw], a, b)
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

// affineAxpy is AffineAxpyPlanes on one plane of len(dst) elements.
func affineAxpy(dst, x, g []float32, a, b, k float32, add bool) {
	x, g = x[:len(dst)], g[:len(dst)]
	i := 0
	if useAsm && len(dst) >= 32 {
		i = len(dst) &^ 31
		affineAxpyAsm(1, i, dst, x, g, i, a, b, k, add)
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

// AffineAxpyPlanes sets dst[i] = (x[i]·a + b) + k·g[i], or adds that to
// dst[i] when add, over planes planes of hw elements each, plane p at dst,
// x and g [p*stride : p*stride+hw], rounding every product and sum on its
// own: ScaleShift(t, x, a, b), Axpy(k, g, t), then dst = t or Axpy(1, t,
// dst), in one pass (the batch-norm input gradient). Panics if a slice is
// too short or stride negative.
func AffineAxpyPlanes(dst, x, g []float32, planes, hw, stride int, a, b, k float32, add bool) {
	if !checkPlanes("AffineAxpyPlanes", min(len(dst), len(x), len(g)), planes, hw, stride) {
		return
	}
	if useAsm && hw%32 == 0 {
		affineAxpyAsm(planes, hw, dst, x, g, stride, a, b, k, add)
		return
	}
	for p := range planes {
		o := p * stride
		affineAxpy(dst[o:o+hw], x[o:o+hw], g[o:o+hw], a, b, k, add)
	}
}
