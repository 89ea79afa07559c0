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

// The wrappers take n > 0, a multiple of 32, and check bounds.

func axpyAsm(n int, alpha float32, x, y []float32) {
	_, _ = x[n-1], y[n-1]
	if useAVX512 {
		axpyZ(n, alpha, &x[0], &y[0])
		return
	}
	axpyK(n, alpha, &x[0], &y[0])
}

func scaleAsm(n int, alpha float32, x []float32) {
	_ = x[n-1]
	scaleK(n, alpha, &x[0])
}

func reluAsm(n int, dst, src []float32) {
	_, _ = dst[n-1], src[n-1]
	if useAVX512 {
		reluZ(n, &dst[0], &src[0])
		return
	}
	reluK(n, &dst[0], &src[0])
}

func reluBackwardAsm(n int, dx, dy, y []float32) {
	_, _, _ = dx[n-1], dy[n-1], y[n-1]
	if useAVX512 {
		reluBackwardZ(n, &dx[0], &dy[0], &y[0])
		return
	}
	reluBackwardK(n, &dx[0], &dy[0], &y[0])
}

func reluBackwardAddAsm(n int, dx, dy, y []float32) {
	_, _, _ = dx[n-1], dy[n-1], y[n-1]
	if useAVX512 {
		reluBackwardAddZ(n, &dx[0], &dy[0], &y[0])
		return
	}
	reluBackwardAddK(n, &dx[0], &dy[0], &y[0])
}

//go:noescape
func momentsPlanesK(planes, n16 int, x *float32, stride int, k float32, mask *int32, s, q *[16]float64)

//go:noescape
func dotDevPlanesK(planes, n16 int, dy, x *float32, stride int, m float32, mask *int32, a, b *[16]float64)

// planeTail returns the number of whole 16-element blocks of a plane of hw
// elements and the mask of the rest (nil when none).
func planeTail(hw int) (int, *int32) {
	if t := hw % 16; t != 0 {
		return hw / 16, &tailMask16[16-t]
	}
	return hw / 16, nil
}

// tailMask16[16-t : 32-t] has t leading all-ones lanes.
var tailMask16 = [32]int32{-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1}

// momentsPlanesAsm and dotDevPlanesAsm take planes, hw > 0 with the last
// plane in range (checked by the caller).

func momentsPlanesAsm(planes, hw int, x []float32, stride int, k float32, s, q *[16]float64) {
	_ = x[(planes-1)*stride+hw-1]
	if useAVX512 {
		momentsPlanesZ(planes, hw/16, &x[0], stride, k, uint64(1)<<(hw%16)-1, s, q)
		return
	}
	n16, mask := planeTail(hw)
	momentsPlanesK(planes, n16, &x[0], stride, k, mask, s, q)
}

func dotDevPlanesAsm(planes, hw int, g, x []float32, stride int, m float32, a, b *[16]float64) {
	_, _ = g[(planes-1)*stride+hw-1], x[(planes-1)*stride+hw-1]
	if useAVX512 {
		dotDevPlanesZ(planes, hw/16, &g[0], &x[0], stride, m, uint64(1)<<(hw%16)-1, a, b)
		return
	}
	n16, mask := planeTail(hw)
	dotDevPlanesK(planes, n16, &g[0], &x[0], stride, m, mask, a, b)
}

//go:noescape
func scaleShiftPlanesK(planes, n32 int, y, x *float32, stride int, a, b float32)

// scaleShiftAsm and affineAxpyAsm take planes > 0, hw > 0 a multiple of 32,
// stride >= 0, and check that the last plane is in range.

func scaleShiftAsm(planes, hw int, y, x []float32, stride int, a, b float32) {
	last := (planes-1)*stride + hw - 1
	_, _ = y[last], x[last]
	if useAVX512 {
		scaleShiftPlanesZ(planes, hw/32, &y[0], &x[0], stride, a, b)
		return
	}
	scaleShiftPlanesK(planes, hw/32, &y[0], &x[0], stride, a, b)
}

//go:noescape
func scaleShiftReluK(n int, y, x *float32, a, b float32)

func scaleShiftReluAsm(n int, y, x []float32, a, b float32) {
	_, _ = y[n-1], x[n-1]
	if useAVX512 {
		scaleShiftReluZ(n, &y[0], &x[0], a, b)
		return
	}
	scaleShiftReluK(n, &y[0], &x[0], a, b)
}

//go:noescape
func affineAxpyPlanesK(planes, n32 int, dst, x, gy *float32, stride int, a, b, k float32, add bool)

func affineAxpyAsm(planes, hw int, dst, x, g []float32, stride int, a, b, k float32, add bool) {
	last := (planes-1)*stride + hw - 1
	_, _, _ = dst[last], x[last], g[last]
	if useAVX512 {
		affineAxpyPlanesZ(planes, hw/32, &dst[0], &x[0], &g[0], stride, a, b, k, add)
		return
	}
	affineAxpyPlanesK(planes, hw/32, &dst[0], &x[0], &g[0], stride, a, b, k, add)
}

// AVX-512 forms of the loops above (vec512_amd64.s), used when useAVX512:
// the same contracts and bits; the plane reductions take the tail as a
// 16-bit lane mask.

//go:noescape
func axpyZ(n int, alpha float32, x, y *float32)

//go:noescape
func reluZ(n int, dst, src *float32)

//go:noescape
func reluBackwardZ(n int, dx, dy, y *float32)

//go:noescape
func reluBackwardAddZ(n int, dx, dy, y *float32)

//go:noescape
func scaleShiftReluZ(n int, y, x *float32, a, b float32)

//go:noescape
func scaleShiftPlanesZ(planes, n32 int, y, x *float32, stride int, a, b float32)

//go:noescape
func affineAxpyPlanesZ(planes, n32 int, dst, x, gy *float32, stride int, a, b, k float32, add bool)

//go:noescape
func momentsPlanesZ(planes, n16 int, x *float32, stride int, k float32, tail uint64, s, q *[16]float64)

//go:noescape
func dotDevPlanesZ(planes, n16 int, dy, x *float32, stride int, m float32, tail uint64, a, b *[16]float64)
