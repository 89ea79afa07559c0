//go:build amd64 && !purego

package kern

//go:noescape
func dwTilesZ(shape, nr int, src *float32, ss int, offs *int, ntaps int, wts *float32, dst *float32, ds int, add bool)

// dwRows is dwRowsAsm (same arguments, same bits), with AVX-512 when the
// CPU has it: columns in groups of 32 (tiles of 8 rows × 2 vectors of 16),
// then 16 (8 × 1), each group's rows left under a tile one row at a time,
// and the last 8 columns, if any, by dwRowsAsm.
func dwRows(rows, w int, src []float32, ss int, offs []int, maxOff int, wts []float32, dst []float32, ds int, add bool) {
	if !useAVX512 || w < 16 {
		dwRowsAsm(rows, w, src, ss, offs, maxOff, wts, dst, ds, add)
		return
	}
	_ = src[(rows-1)*ss+w-1+maxOff]
	_ = dst[(rows-1)*ds+w-1]
	_ = wts[len(offs)-1]
	nt, r8 := len(offs), rows&^7
	w16 := w &^ 15
	for c := 0; c < w16; c += 32 {
		tile, edge := 0, 2 // 8×2 and 1×2 vectors
		if c+32 > w16 {
			tile, edge = 1, 3 // 8×1 and 1×1
		}
		if r8 > 0 {
			dwTilesZ(tile, r8/8, &src[c], ss, &offs[0], nt, &wts[0], &dst[c], ds, add)
		}
		if r8 < rows {
			dwTilesZ(edge, rows-r8, &src[r8*ss+c], ss, &offs[0], nt, &wts[0], &dst[r8*ds+c], ds, add)
		}
	}
	if w16 < w {
		dwRowsAsm(rows, w-w16, src[w16:], ss, offs, maxOff, wts, dst[w16:], ds, add)
	}
}

//go:noescape
func copyRowsZ(rows, w16 int, tail uint64, src *float32, sstride int, dst *float32, dstride int, add bool)

// copyRowsFast is copyRowsAsm (same arguments, same bits: one addition per
// element), in 16-float vectors when the CPU has AVX-512.
func copyRowsFast(rows, w int, src []float32, sstride int, dst []float32, dstride int, add bool) {
	if !useAVX512 {
		copyRowsAsm(rows, w, src, sstride, dst, dstride, add)
		return
	}
	_, _ = src[(rows-1)*sstride+w-1], dst[(rows-1)*dstride+w-1]
	copyRowsZ(rows, w/16, uint64(1)<<(w%16)-1, &src[0], sstride, &dst[0], dstride, add)
}

//go:noescape
func deinterleaveZ(rows, n32 int, src *float32, ss int, even, odd *float32, ds int)

// deinterleave is deinterleaveAsm (rows > 0, n > 0 a multiple of 16), in
// 32-float blocks when the CPU has AVX-512 and n is a multiple of 32.
func deinterleave(rows, n int, src []float32, ss int, even, odd []float32, ds int) {
	if !useAVX512 || n%32 != 0 {
		deinterleaveAsm(rows, n, src, ss, even, odd, ds)
		return
	}
	_, _, _ = src[(rows-1)*ss+n-1], even[(rows-1)*ds+n/2-1], odd[(rows-1)*ds+n/2-1]
	deinterleaveZ(rows, n/32, &src[0], ss, &even[0], &odd[0], ds)
}

//go:noescape
func dwDotsZ(rows, w16 int, x *float32, xs int, src *float32, ss int, offs *int, ntaps int, out *float32)

// dwDots is dwDotsAsm, in 16-float vectors (dwDotsZ) when the CPU has
// AVX-512 and w is a multiple of 16: the sums then run in another order, so
// they agree with dwDotsAsm's to rounding, not bitwise.
func dwDots(rows, w int, x []float32, xs int, src []float32, ss int, offs []int, maxOff int, out []float32) {
	if !useAVX512 || w%16 != 0 {
		dwDotsAsm(rows, w, x, xs, src, ss, offs, maxOff, out)
		return
	}
	_ = src[(rows-1)*ss+w-1+maxOff]
	_ = x[(rows-1)*xs+w-1]
	_ = out[len(offs)-1]
	dwDotsZ(rows, w/16, &x[0], xs, &src[0], ss, &offs[0], len(offs), &out[0])
}
