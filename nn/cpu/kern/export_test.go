package kern

// Test-only entry points: single-plane forms of kernels that production
// code runs through their many-plane forms, built from the same internals,
// so that the tests can check each path plane by plane.

// ShiftedMoments returns Σ (x[i]-k) and Σ (x[i]-k)²: ShiftedMomentsPlanes
// over x as one plane.
func ShiftedMoments(x []float32, k float32) (sum, sumSq float64) {
	return ShiftedMomentsPlanes(x, 1, len(x), len(x), k)
}

// DotDev returns Σ g[i] and Σ g[i]·(x[i]-m) over len(g) (x at least as
// long): DotDevPlanes over g as one plane.
func DotDev(g, x []float32, m float32) (sumG, sumGDev float64) {
	x = x[:len(g)]
	return DotDevPlanes(g, x, 1, len(g), len(g), m)
}

// DepthwiseBackwardFilter adds the filter gradient of one plane to dwt:
// Depthwise.BackwardFilterPlanes of one plane, with the arguments of
// DepthwiseForward.
func DepthwiseBackwardFilter(in []float32, h, w int, dout []float32, oh, ow int, k, stride, pad, dil int, dwt []float32) {
	checkDW("DepthwiseBackwardFilter", in, h, w, dwt, k, stride, pad, dil, dout, oh, ow)
	if dwGradFast(h, w, k, stride, pad, dil, 1, in, 0, dout, 0, dwt) {
		return
	}
	sc := getDW(h, w, k, stride, pad, dil, oh, ow)
	sc.backwardFilter(in, dout, dwt)
	dwPool.Put(sc)
}

// DepthwiseBackwardData adds the input gradient of one plane to din:
// Depthwise.BackwardDataPlanes of one plane with accumulate, with the
// arguments of DepthwiseForward.
func DepthwiseBackwardData(dout []float32, oh, ow int, wt []float32, k, stride, pad, dil int, din []float32, h, w int) {
	checkDW("DepthwiseBackwardData", din, h, w, wt, k, stride, pad, dil, dout, oh, ow)
	g := dwGeom{h: h, w: w, k: k, s: stride, pad: pad, dil: dil, oh: oh, ow: ow}
	if f := dwShift(&g, true); f != nil {
		dwShiftPlanes(f, 1, &g, true, dout, wt, din, true) // no scratch needed
		return
	}
	sc := getDW(h, w, k, stride, pad, dil, oh, ow)
	sc.backwardData(dout, wt, din, true)
	dwPool.Put(sc)
}

// BackwardData is BackwardDataPlanes of one plane.
func (d Depthwise) BackwardData(dout, wt, din []float32, accumulate bool) {
	d.checkPlanes("BackwardData", din, wt, dout)
	d.sc.backwardData(dout, wt, din, accumulate)
}

// ForwardPlanes is DepthwiseForwardPlanes with d's geometry.
func (d Depthwise) ForwardPlanes(c int, in, wt, out []float32) {
	g := &d.sc.g
	d.checkPlanesN("ForwardPlanes", c, in, g.h*g.w, wt, out, g.oh*g.ow)
	d.sc.forwardPlanes(c, in, wt, out)
}

// BackwardFilter is BackwardFilterPlanes of one plane.
func (d Depthwise) BackwardFilter(in, dout, dwt []float32) {
	d.checkPlanes("BackwardFilter", in, dwt, dout)
	d.sc.backwardFilter(in, dout, dwt)
}
