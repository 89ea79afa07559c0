//go:build amd64 && !purego

package kern

import (
	"math"
	"unsafe"
)

//go:noescape
func maxKeysZ(rows, w16 int, tail uint64, x *float32, xs int, dst *int32, ds int)

//go:noescape
func maxPool3Z(oh, nc int, tail uint64, keys *int32, geo *maxGeom, out *float32)

//go:noescape
func maxArg3Z(oh, nc int, tail uint64, keys *int32, geo *maxGeom, offs *[9]int32, lanes *[16]int32, idx *int32)

// maxGeom is the layout of a key plane for maxArg3Z and maxPool3Z, which
// read its fields by offset (all ints, in this order; see the assembly).
type maxGeom struct{ rs, dys, d1, d2, ib, ci, ow int }

// poolLanes[s-1][l] = s·l: the input column of lane l's output at stride s.
var poolLanes = [2][16]int32{{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
	{0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30}}

// maxPool3Fits reports whether the assembly handles the plane: stride 1, or
// stride 2 with even sides (outputs h/2 × w/2).
func maxPool3Fits(h, w, s int) bool {
	return useAVX512 && (s == 1 || s == 2 && h%2 == 0 && w%2 == 0)
}

// maxKeyPlane returns, in pooled scratch (give it back with putF32), the
// keys (maxKeysZ) of the h×w plane x padded by one row and column of
// MinInt32 on every side, laid out for 3×3 windows at stride s (1, or 2
// with h, w even), with its geometry, the outputs per row ow and chunks nc,
// followed by h·w more int32. At stride 1 the padded rows are kept whole
// (pitch 16·nc+2, room for 16-lane reads past the last column); at stride
// 2 each padded row is split into its even columns E then its odd columns
// O (kpE = 16·nc+1 each), so that output ox reads E[ox], O[ox], E[ox+1].
func maxKeyPlane(h, w, s int, x []float32) (sp *[]float32, keys, rest []int32, geo maxGeom, ow, nc int) {
	ow = w
	if s == 2 {
		ow = w / 2
	}
	nc = (ow + 15) / 16
	kp := 16*nc + 2
	kpE := 16*nc + 1
	if s == 2 {
		kp = 2 * kpE
	}
	sp = getF32((h+2)*kp + h*w)
	buf := unsafe.Slice((*int32)(unsafe.Pointer(&(*sp)[0])), len(*sp))
	keys, rest = buf[:(h+2)*kp], buf[(h+2)*kp:]
	for i := range kp {
		keys[i] = math.MinInt32
		keys[(h+1)*kp+i] = math.MinInt32
	}
	_ = x[h*w-1]
	tail := uint64(1)<<(w%16) - 1
	if s == 1 {
		for iy := 1; iy <= h; iy++ {
			keys[iy*kp] = math.MinInt32
			keys[iy*kp+w+1] = math.MinInt32
		}
		maxKeysZ(h, w/16, tail, &x[0], w, &keys[kp+1], kp)
		return sp, keys, rest, maxGeom{rs: 4 * kp, dys: 4 * kp, d1: 4, d2: 8, ib: w, ci: 16, ow: w}, ow, nc
	}
	maxKeysZ(h, w/16, tail, &x[0], w, &rest[0], w)
	for iy := 1; iy <= h; iy++ {
		keys[iy*kp] = math.MinInt32
		keys[iy*kp+kpE+ow] = math.MinInt32
	}
	if w%16 == 0 {
		f := (*sp)[:(h+2)*kp]
		deinterleave(h, w, (*sp)[(h+2)*kp:], w, f[kp+kpE:], f[kp+1:], kp)
	} else {
		for iy := range h {
			row, e, o := rest[iy*w:(iy+1)*w], keys[(iy+1)*kp+1:], keys[(iy+1)*kp+kpE:]
			for j := range ow {
				o[j], e[j] = row[2*j], row[2*j+1]
			}
		}
	}
	return sp, keys, rest, maxGeom{rs: 8 * kp, dys: 4 * kp, d1: 4 * kpE, d2: 4, ib: 2 * w, ci: 32, ow: ow}, ow, nc
}

// maxPool3Asm is MaxPool3Backward with AVX-512 where maxPool3Fits (false,
// doing nothing, otherwise): the padded key plane needs no special cases at
// the edges, as no key (clamped to MinInt32+1) equals the padding;
// maxArg3Z finds each window's first maximum and the gradients are then
// added in output order.
func maxPool3Asm(h, w, s int, x, g, din []float32) bool {
	if !maxPool3Fits(h, w, s) {
		return false
	}
	sp, keys, idx, geo, ow, nc := maxKeyPlane(h, w, s, x)
	defer putF32(sp)
	oh := (h-1)/s + 1
	var offs [9]int32
	for t := range offs {
		offs[t] = int32((t/3-1)*w + t%3 - 1)
	}
	tail := uint64(1)<<(ow-16*(nc-1)) - 1
	maxArg3Z(oh, nc, tail, &keys[0], &geo, &offs, &poolLanes[s-1], &idx[0])
	g, idx = g[:oh*ow], idx[:oh*ow]
	for i, j := range idx {
		din[j] += g[i]
	}
	return true
}

// maxPool3FwdAsm is MaxPool3Forward with AVX-512 where maxPool3Fits
// (false, doing nothing, otherwise), over the key plane of maxPool3Asm.
func maxPool3FwdAsm(h, w, s int, x, out []float32) bool {
	if !maxPool3Fits(h, w, s) {
		return false
	}
	sp, keys, _, geo, ow, nc := maxKeyPlane(h, w, s, x)
	defer putF32(sp)
	oh := (h-1)/s + 1
	_ = out[oh*ow-1]
	maxPool3Z(oh, nc, uint64(1)<<(ow-16*(nc-1))-1, &keys[0], &geo, &out[0])
	return true
}

//go:noescape
func avgPool3Z(h, nc int, tail uint64, xp *float32, kp int, drow, dcol, out *float32, w int)

//go:noescape
func avgQuotZ(h, nc int, tail uint64, gr *float32, w int, drow, dcol, q *float32, kp int)

//go:noescape
func avgSpreadZ(h, nc int, tail uint64, q *float32, kp int, trow *float32, din *float32, w int)

// avgDivisors fills drow[:h] and dcol[:16*nc] with the window lengths of
// avgPool3 along the rows and columns (1 past the last column).
func avgDivisors(h, w, nc int, drow, dcol []float32) {
	for i := range h {
		drow[i] = float32(min(i+2, h) - max(i-1, 0))
	}
	for i := range dcol[:16*nc] {
		dcol[i] = 1
		if i < w {
			dcol[i] = float32(min(i+2, w) - max(i-1, 0))
		}
	}
}

// avgPool3FwdAsm is AvgPool3Forward with AVX-512 (false, doing nothing,
// without it): x is copied into a zero-padded plane, whose zeros change no
// sum (a sum that starts from +0 is never -0).
func avgPool3FwdAsm(h, w int, x, out []float32) bool {
	if !useAVX512 {
		return false
	}
	nc := (w + 15) / 16
	kp := 16*nc + 2
	sp := getF32((h+2)*kp + h + 16*nc)
	defer putF32(sp)
	xp := (*sp)[:(h+2)*kp]
	drow, dcol := (*sp)[(h+2)*kp:(h+2)*kp+h], (*sp)[(h+2)*kp+h:]
	clear(xp[:kp])
	clear(xp[(h+1)*kp:])
	for iy := 1; iy <= h; iy++ {
		xp[iy*kp] = 0
		xp[iy*kp+w+1] = 0
	}
	copyRowsFast(h, w, x, w, xp[kp+1:], kp, false)
	avgDivisors(h, w, nc, drow, dcol)
	_ = out[h*w-1]
	avgPool3Z(h, nc, uint64(1)<<(w-16*(nc-1))-1, &xp[0], kp, &drow[0], &dcol[0], &out[0], w)
	return true
}

// avgPool3Asm is AvgPool3Backward with AVX-512 (false, doing nothing,
// without it): the quotients g/divisor go into a plane with zero rows above
// and below, whose column sums are spread along the rows of din.
func avgPool3Asm(h, w int, g, din []float32) bool {
	if !useAVX512 {
		return false
	}
	nc := (w + 15) / 16
	kp := 16*nc + 2
	sp := getF32((h+2)*kp + kp + h + 16*nc)
	defer putF32(sp)
	q := (*sp)[:(h+2)*kp]
	trow := (*sp)[(h+2)*kp : (h+3)*kp]
	drow, dcol := (*sp)[(h+3)*kp:(h+3)*kp+h], (*sp)[(h+3)*kp+h:]
	clear(q[:kp])
	clear(q[(h+1)*kp:])
	clear(trow)
	avgDivisors(h, w, nc, drow, dcol)
	_, _ = g[h*w-1], din[h*w-1]
	tail := uint64(1)<<(w-16*(nc-1)) - 1
	avgQuotZ(h, nc, tail, &g[0], w, &drow[0], &dcol[0], &q[kp], kp)
	avgSpreadZ(h, nc, tail, &q[0], kp, &trow[0], &din[0], w)
	return true
}
