//go:build amd64 && !purego

package kern

import "golang.org/x/sys/cpu"

// hasAsm: the assembly below needs AVX2 and FMA (and the OS saving YMM state,
// which HasAVX2 already implies in x/sys/cpu).
var hasAsm = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// hasAVX512 reports the AVX-512 subsets the AVX-512 kernels use: F, DQ
// (VBROADCASTF32X8 in dwdots_amd64.s) and VL (EVEX forms on Y registers in
// dwshift_amd64.s), with the OS saving ZMM and mask state, which x/sys/cpu
// checks.
var hasAVX512 = hasAsm && cpu.X86.HasAVX512F && cpu.X86.HasAVX512DQ && cpu.X86.HasAVX512VL

// Assembly kernels (kern_amd64.s); each documents its contract there. They
// take raw pointers: the Go wrappers check every bound first.

//go:noescape
func gemmKern4x24(k int, a *float32, rsa, csa int, b *float32, ldb int, c *float32, ldc int, acc bool)

//go:noescape
func gemmKern4x64Z(k int, a *float32, rsa, csa int, b *float32, ldb int, c *float32, ldc int, acc bool, cols uint64)

//go:noescape
func gemmRows16Z(k, nfull int, a *float32, astep int, b *float32, ldb int, c *float32, ldc int, acc bool, tail uint64)

//go:noescape
func gemmRows12Z(k, nfull int, a *float32, astep int, b *float32, ldb int, c *float32, ldc int, acc bool, tail uint64)

//go:noescape
func transposePanelK(nr8, k8 int, b *float32, ldb int, panel *float32, ldp int)

//go:noescape
func packPanel64Z(k int, b *float32, ldb int, panel *float32, cols uint64)

//go:noescape
func gemmDot4x4Z(n16 int, tail uint64, a *float32, lda int, b *float32, ldb int, out *[16]float32)

//go:noescape
func gemmDot4x3(n8, tail int, a *float32, lda int, b *float32, ldb int, mask *int32, out *[12]float32)

//go:noescape
func packPanel24K(k int, b *float32, ldb int, panel *float32)

//go:noescape
func flatConvK(n int, src *float32, offs *int, ntaps int, wts *float32, dst *float32)

//go:noescape
func flatDotsK(n int, x, src *float32, offs *int, ntaps int, out *float32)

//go:noescape
func dwTilesK(shape, nr int, src *float32, ss int, offs *int, ntaps int, wts *float32, dst *float32, ds int, add bool)

//go:noescape
func dwDotsK(rows, w8 int, x *float32, xs int, src *float32, ss int, offs *int, ntaps int, out *float32)

//go:noescape
func deinterleaveK(rows, n16 int, src *float32, ss int, even, odd *float32, ds int)

//go:noescape
func addStrided2K(rows, n8 int, dst *float32, ds int, src *float32, ss int, odd bool)

//go:noescape
func copyRowsK(rows, w8 int, mask *int32, src *float32, sstride int, dst *float32, dstride int, add bool)

// transBPackMaxK is the longest k for which transB packs op(B) into panels
// for the 4×24 kernel; longer ones use the 4×3 dot-product kernel (measured:
// packing wins at k = 64, dot products at k >= 256).
var transBPackMaxK = 128

// tailMask[8-t:16-t] has t leading all-ones lanes: the mask of a t-element tail.
var tailMask = [16]int32{-1, -1, -1, -1, -1, -1, -1, -1}

// gemmAsm: Gemm for m, n, k > 0 and checked operands on the assembly path.
// 4×24 tiles of C are computed by gemmKern4x24 from rows of op(B): read in
// place, or packed into a 24-column panel (zero-padded at the right edge) for
// a partial panel, for transB, and when rows of B are a multiple of 2 KiB
// apart (their loads would compete for the same L1 sets). Partial tiles go
// through a scratch tile. With transB and a long k, 4×3 tiles of C are dot
// products instead (gemmDotAsm). With AVX-512 the tiles are 4×64
// (gemmAsmZ), or, where those would read packed panels of B, strips of 16
// or 12 rows of C (gemmRowsZ); the dot-product tiles are 4×4.
func gemmAsm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, accumulate bool, c []float32, ldc int) {
	if transB && k > transBPackMaxK {
		gemmDotAsm(transA, m, n, k, a, lda, b, ldb, accumulate, c, ldc)
		return
	}
	if useAVX512 {
		if !transB && ldb%512 == 0 && k <= gemmRowsMaxK && (m >= 16 || m == 12) {
			gemmRowsZ(transA, m, n, k, a, lda, b, ldb, accumulate, c, ldc)
			return
		}
		gemmAsmZ(transA, transB, m, n, k, a, lda, b, ldb, accumulate, c, ldc)
		return
	}
	ra, ca := lda, 1 // element (i, p) of op(A) is a[i*ra+p*ca]
	if transA {
		ra, ca = 1, lda
	}
	sp := getF32(24*k + 4*k + 4*24)
	defer putF32(sp)
	panel := (*sp)[:24*k]
	aEdge := (*sp)[24*k : 28*k]
	tile := (*sp)[28*k:]
	mFull := m &^ 3
	if mFull < m {
		packEdgeRows(a, ra, ca, mFull, m, k, aEdge)
	}
	pack := transB || ldb%512 == 0
	for j0 := 0; j0 < n; j0 += 24 {
		nr := min(24, n-j0)
		bp, lb := &panel[0], 24
		switch {
		case nr == 24 && !pack:
			bp, lb = &b[j0], ldb
		case transB:
			transposePanel(nr, k, b[j0*ldb:], ldb, panel, 24)
		case nr == 24:
			_ = b[(k-1)*ldb+j0+23]
			packPanel24K(k, &b[j0], ldb, &panel[0])
		default:
			for p := range k {
				row := panel[p*24 : p*24+24]
				copy(row, b[p*ldb+j0:p*ldb+j0+nr])
				clear(row[nr:])
			}
		}
		for i0 := 0; i0 < mFull; i0 += 4 {
			if nr == 24 {
				gemmKern4x24(k, &a[i0*ra], ra, ca, bp, lb, &c[i0*ldc+j0], ldc, accumulate)
				continue
			}
			gemmKern4x24(k, &a[i0*ra], ra, ca, bp, lb, &tile[0], 24, false)
			storeTile(c[i0*ldc+j0:], ldc, tile, 24, 4, nr, accumulate)
		}
		if mFull < m {
			gemmKern4x24(k, &aEdge[0], k, 1, bp, lb, &tile[0], 24, false)
			storeTile(c[mFull*ldc+j0:], ldc, tile, 24, m-mFull, nr, accumulate)
		}
	}
}

// gemmAsmZ is gemmAsm with AVX-512: 4×64 tiles of C by gemmKern4x64Z from
// rows of op(B) read in place, or packed into a 64-column panel
// (zero-padded at the right edge) for a partial panel, for transB, and when
// rows of B are a multiple of 2 KiB apart. Column masks keep the stores
// inside C; the last m mod 4 rows go through zero-padded rows of A and a
// scratch tile. The sums are those of the 4×24 kernel, bit for bit.
func gemmAsmZ(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, accumulate bool, c []float32, ldc int) {
	ra, ca := lda, 1 // element (i, p) of op(A) is a[i*ra+p*ca]
	if transA {
		ra, ca = 1, lda
	}
	sp := getF32(64*k + 4*k + 4*64)
	defer putF32(sp)
	panel := (*sp)[:64*k]
	aEdge := (*sp)[64*k : 68*k]
	tile := (*sp)[68*k:]
	mFull := m &^ 3
	if mFull < m {
		packEdgeRows(a, ra, ca, mFull, m, k, aEdge)
	}
	inPlace := !transB && ldb%512 != 0
	for j0 := 0; j0 < n; j0 += 64 {
		nr := min(64, n-j0)
		cols := uint64(1)<<nr - 1
		bp, lb := &panel[0], 64
		switch {
		case inPlace && nr == 64:
			bp, lb = &b[j0], ldb
		case transB:
			transposePanel(nr, k, b[j0*ldb:], ldb, panel, 64)
		default:
			_ = b[(k-1)*ldb+j0+nr-1]
			packPanel64Z(k, &b[j0], ldb, bp, cols)
		}
		for i0 := 0; i0 < mFull; i0 += 4 {
			gemmKern4x64Z(k, &a[i0*ra], ra, ca, bp, lb, &c[i0*ldc+j0], ldc, accumulate, cols)
		}
		if mFull < m {
			gemmKern4x64Z(k, &aEdge[0], k, 1, bp, lb, &tile[0], 64, false, cols)
			storeTile(c[mFull*ldc+j0:], ldc, tile, 64, m-mFull, nr, accumulate)
		}
	}
}

// gemmRowsMaxK is the longest k for which gemmRowsZ runs: its strips of A
// (k×16 floats) should stay in L1 while the columns of B stream past.
var gemmRowsMaxK = 256

// gemmRowsZ is gemmAsmZ without transB for k <= gemmRowsMaxK and m >= 16
// or m == 12 (at least one strip),
// used where gemmAsmZ would pack B (rows of B a multiple of 2 KiB apart;
// measured: elsewhere the 4×64 tiles on B in place are as fast or faster):
// strips of 16 (or, when m is a multiple of 12 but not of 16, 12) rows of
// C, each computed by one call of gemmRows16Z (gemmRows12Z) across all
// columns, reading B in place once per strip; the strip's rows of A are
// first transposed into scratch (k×R, row p holding A[·][p]), or, with
// transA, read in place. Rows left under a 16-row strip go through
// gemmAsmZ. The sums are those of gemmAsmZ, bit for bit.
func gemmRowsZ(transA bool, m, n, k int, a []float32, lda int, b []float32, ldb int, accumulate bool, c []float32, ldc int) {
	r := 16
	if m%16 != 0 && m%12 == 0 {
		r = 12
	}
	strips := m / r
	var sp *[]float32
	if !transA {
		sp = getF32(r * k)
		defer putF32(sp)
	}
	nfull, tail := n/16, uint64(1)<<(n%16)-1
	for s := range strips {
		i0 := s * r
		ap, astep := (*float32)(nil), lda
		if transA {
			ap = &a[i0]
		} else {
			strip := *sp
			transposePanel(r, k, a[i0*lda:], lda, strip, r)
			ap, astep = &strip[0], r
		}
		if r == 16 {
			gemmRows16Z(k, nfull, ap, astep, &b[0], ldb, &c[i0*ldc], ldc, accumulate, tail)
		} else {
			gemmRows12Z(k, nfull, ap, astep, &b[0], ldb, &c[i0*ldc], ldc, accumulate, tail)
		}
	}
	if m0 := strips * r; m0 < m {
		var a0 []float32
		if transA {
			a0 = a[m0:]
		} else {
			a0 = a[m0*lda:]
		}
		gemmAsmZ(transA, false, m-m0, n, k, a0, lda, b, ldb, accumulate, c[m0*ldc:], ldc)
	}
}

// transposePanel sets panel[p*w+j] = b[j*ldb+p] for p < k, j < nr (nr <=
// w, the panel width), zero for nr <= j < w: 8×8 blocks in assembly, the
// edges in Go.
func transposePanel(nr, k int, b []float32, ldb int, panel []float32, w int) {
	nr8, k8 := nr/8, k/8
	if nr8 > 0 && k8 > 0 {
		_ = b[(8*nr8-1)*ldb+8*k8-1]
		_ = panel[(8*k8-1)*w+8*nr8-1]
		transposePanelK(nr8, k8, &b[0], ldb, &panel[0], w)
	}
	for j := range nr {
		p0 := 8 * k8
		if j >= 8*nr8 {
			p0 = 0
		}
		for p, v := range b[j*ldb+p0 : j*ldb+k] {
			panel[(p0+p)*w+j] = v
		}
	}
	if nr < w {
		for p := range k {
			clear(panel[p*w+nr : p*w+w])
		}
	}
}

// storeTile sets (or adds to) the rows×cols corner of c (leading dimension
// ldc) from tile (leading dimension ldt).
func storeTile(c []float32, ldc int, tile []float32, ldt, rows, cols int, accumulate bool) {
	for r := range rows {
		crow := c[r*ldc : r*ldc+cols]
		trow := tile[r*ldt : r*ldt+cols]
		if accumulate {
			addTo(crow, trow)
		} else {
			copy(crow, trow)
		}
	}
}

// gemmDotAsm: Gemm with transB on the assembly path, in tiles of 4 rows of
// op(A) by nt rows of B (4×3 by gemmDot4x3, or 4×4 by gemmDot4x4Z with
// AVX-512), each element a dot product of two contiguous rows. Rows of op(A)
// must be contiguous, so with transA op(A) is first transposed into scratch.
// Partial tiles read zero-padded copies of the last rows of op(A) and of B.
func gemmDotAsm(transA bool, m, n, k int, a []float32, lda int, b []float32, ldb int, accumulate bool, c []float32, ldc int) {
	nt := 3
	if useAVX512 {
		nt = 4
	}
	aT := 0
	if transA {
		aT = m * k
	}
	sp := getF32(aT + 4*k + nt*k)
	defer putF32(sp)
	arows, la := a, lda
	if transA {
		arows, la = (*sp)[:aT], k
		for p := range k {
			for i, v := range a[p*lda : p*lda+m] {
				arows[i*k+p] = v
			}
		}
	}
	aEdge := (*sp)[aT : aT+4*k]
	bEdge := (*sp)[aT+4*k : aT+(4+nt)*k]
	mFull, nFull := m&^3, n-n%nt
	if mFull < m {
		clear(aEdge)
		for r := range m - mFull {
			copy(aEdge[r*k:r*k+k], arows[(mFull+r)*la:])
		}
	}
	if nFull < n {
		clear(bEdge)
		for r := range n - nFull {
			copy(bEdge[r*k:r*k+k], b[(nFull+r)*ldb:])
		}
	}
	n8, tail := k/8, k%8
	mask := &tailMask[8-tail]
	n16, tail16 := k/16, uint64(1)<<(k%16)-1
	var out [16]float32
	for j0 := 0; j0 < n; j0 += nt {
		nr := min(nt, n-j0)
		bp, lb := &bEdge[0], k
		if nr == nt {
			bp, lb = &b[j0*ldb], ldb
		}
		for i0 := 0; i0 < m; i0 += 4 {
			mr := min(4, m-i0)
			ap, ldt := &aEdge[0], k
			if mr == 4 {
				ap, ldt = &arows[i0*la], la
			}
			if nt == 4 {
				gemmDot4x4Z(n16, tail16, ap, ldt, bp, lb, &out)
			} else {
				gemmDot4x3(n8, tail, ap, ldt, bp, lb, mask, (*[12]float32)(out[:12]))
			}
			for r := range mr {
				crow := c[(i0+r)*ldc+j0 : (i0+r)*ldc+j0+nr]
				orow := out[nt*r : nt*r+nr]
				if accumulate {
					addTo(crow, orow)
				} else {
					copy(crow, orow)
				}
			}
		}
	}
}

func flatConvAsm(n int, src []float32, offs []int, wts []float32, dst []float32) {
	// bounds: every read src[off+q], q < n, and write dst[q] must be in range
	maxOff := 0
	for _, off := range offs {
		maxOff = max(maxOff, off)
	}
	_ = src[maxOff+n-1]
	_ = dst[n-1]
	_ = wts[len(offs)-1]
	flatConvK(n, &src[0], &offs[0], len(offs), &wts[0], &dst[0])
}

func flatDotsAsm(n int, x, src []float32, offs []int, out []float32) {
	maxOff := 0
	for _, off := range offs {
		maxOff = max(maxOff, off)
	}
	_ = src[maxOff+n-1]
	_ = x[n-1]
	_ = out[len(offs)-1]
	flatDotsK(n, &x[0], &src[0], &offs[0], len(offs), &out[0])
}

// dwTileShapes are the tiles of dwTilesK, by vectors per tile row: shape
// index and log2 of the rows per tile.
var dwTileShapes = [...]struct{ vecs, shape, log2Rows int }{{8, 0, 0}, {4, 1, 1}, {2, 2, 2}, {1, 3, 3}}

// dwRowsAsm sets dst[r*ds+i] = Σ_t wts[t]·src[r*ss+i+offs[t]] (or adds the
// sum to dst when add) for r < rows, i < w, the taps summed in order from
// zero with FMA (rows > 0, w > 0 a multiple of 8, maxOff = max(offs)).
// Columns go in groups of 8, 4, 2 then 1 vectors, each group down the rows
// in tiles of 8 vectors; rows left under a tile go one vector at a time.
func dwRowsAsm(rows, w int, src []float32, ss int, offs []int, maxOff int, wts []float32, dst []float32, ds int, add bool) {
	_ = src[(rows-1)*ss+w-1+maxOff]
	_ = dst[(rows-1)*ds+w-1]
	_ = wts[len(offs)-1]
	w8, c := w/8, 0
	for _, ts := range dwTileShapes {
		for ; c+ts.vecs <= w8; c += ts.vecs {
			nr := rows >> ts.log2Rows
			if nr > 0 {
				dwTilesK(ts.shape, nr, &src[8*c], ss, &offs[0], len(offs), &wts[0], &dst[8*c], ds, add)
			}
			r := nr << ts.log2Rows
			if r == rows {
				continue
			}
			for v := c; v < c+ts.vecs; v++ {
				dwTilesK(4, rows-r, &src[r*ss+8*v], ss, &offs[0], len(offs), &wts[0], &dst[r*ds+8*v], ds, add)
			}
		}
	}
}

// dwDotsAsm sets out[t] = Σ_{r<rows, i<w} x[r*xs+i]·src[r*ss+i+offs[t]]
// (rows > 0, w > 0 a multiple of 8, maxOff = max(offs)); see dwDotsK for
// the summation order.
func dwDotsAsm(rows, w int, x []float32, xs int, src []float32, ss int, offs []int, maxOff int, out []float32) {
	_ = src[(rows-1)*ss+w-1+maxOff]
	_ = x[(rows-1)*xs+w-1]
	_ = out[len(offs)-1]
	dwDotsK(rows, w/8, &x[0], xs, &src[0], ss, &offs[0], len(offs), &out[0])
}

// deinterleaveAsm sets even[r*ds+j] = src[r*ss+2j] and odd[r*ds+j] =
// src[r*ss+2j+1] for r < rows, j < n/2 (rows > 0, n > 0 a multiple of 16).
func deinterleaveAsm(rows, n int, src []float32, ss int, even, odd []float32, ds int) {
	_, _, _ = src[(rows-1)*ss+n-1], even[(rows-1)*ds+n/2-1], odd[(rows-1)*ds+n/2-1]
	deinterleaveK(rows, n/16, &src[0], ss, &even[0], &odd[0], ds)
}

// addStrided2Asm sets dst[r*ds+2j+odd] += src[r*ss+j] for r < rows, j < n
// (rows > 0, n > 0 a multiple of 8), adding +0 to the other elements of
// each dst[r*ds : r*ds+2n].
func addStrided2Asm(rows, n int, dst []float32, ds int, src []float32, ss int, odd bool) {
	_, _ = dst[(rows-1)*ds+2*n-1], src[(rows-1)*ss+n-1]
	addStrided2K(rows, n/8, &dst[0], ds, &src[0], ss, odd)
}

// addTo sets dst[i] += src[i].
func addTo(dst, src []float32) {
	src = src[:len(dst)]
	for i := range dst {
		dst[i] += src[i]
	}
}

// copyRowsAsm sets dst[r*dstride+i] = src[r*sstride+i] (or adds it, when add)
// for r < rows, i < w (rows, w > 0).
func copyRowsAsm(rows, w int, src []float32, sstride int, dst []float32, dstride int, add bool) {
	_, _ = src[(rows-1)*sstride+w-1], dst[(rows-1)*dstride+w-1]
	var mask *int32
	if t := w % 8; t != 0 {
		mask = &tailMask[8-t]
	}
	copyRowsK(rows, w/8, mask, &src[0], sstride, &dst[0], dstride, add)
}

// packEdgeRows copies rows mFull..m-1 of op(A) (element (i, p) at
// a[i*ra+p*ca]) into aEdge, k values per row, and zeroes the rest of aEdge:
// the rows left over by 4-row tiles, run through a zero-padded tile.
func packEdgeRows(a []float32, ra, ca, mFull, m, k int, aEdge []float32) {
	clear(aEdge)
	for r := range m - mFull {
		for p := range k {
			aEdge[r*k+p] = a[(mFull+r)*ra+p*ca]
		}
	}
}
