package kern

import "fmt"

// Gemm computes C = op(A)·op(B), or C += op(A)·op(B) when accumulate is set,
// for row-major float32 matrices: C is m×n with leading dimension ldc; op(A) is
// m×k, stored m×k (lda >= k) or, when transA, stored k×m (lda >= m) and read
// transposed; op(B) is k×n, stored k×n (ldb >= n) or, when transB, stored n×k
// (ldb >= k). Each element of C is the sum over p of the k products, formed in
// an order fixed by the shapes, and then added to the old C when accumulating.
// With k == 0 the product is zero. Panics if a slice is too short.
func Gemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, accumulate bool, c []float32, ldc int) {
	checkGemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		if !accumulate {
			for i := range m {
				clear(c[i*ldc : i*ldc+n])
			}
		}
		return
	}
	if useAsm {
		gemmAsm(transA, transB, m, n, k, a, lda, b, ldb, accumulate, c, ldc)
		return
	}
	gemmGo(transA, transB, m, n, k, a, lda, b, ldb, accumulate, c, ldc)
}

// checkGemm panics unless every operand holds the elements the shape names.
func checkGemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("kern.Gemm: negative size m=%d n=%d k=%d", m, n, k))
	}
	check := func(name string, s []float32, rows, cols, ld int) {
		if rows == 0 || cols == 0 {
			return
		}
		if ld < cols {
			panic(fmt.Sprintf("kern.Gemm: %s leading dimension %d < %d columns", name, ld, cols))
		}
		if need := (rows-1)*ld + cols; len(s) < need {
			panic(fmt.Sprintf("kern.Gemm: %s has %d elements, %d×%d with ld %d needs %d", name, len(s), rows, cols, ld, need))
		}
	}
	if transA {
		check("A", a, k, m, lda)
	} else {
		check("A", a, m, k, lda)
	}
	if transB {
		check("B", b, n, k, ldb)
	} else {
		check("B", b, k, n, ldb)
	}
	check("C", c, m, n, ldc)
}

// gemmGo is the pure-Go Gemm for m, n, k > 0 and checked operands.
// Without transB it accumulates rank-1 updates of four rows of C at a time
// (each element sums p = 0..k-1 in order); with transB every element is a dot
// product of two contiguous rows.
func gemmGo(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, accumulate bool, c []float32, ldc int) {
	if transB {
		gemmDotGo(transA, m, n, k, a, lda, b, ldb, accumulate, c, ldc)
		return
	}
	// element (i, p) of op(A) is a[i*ra + p*ca]
	ra, ca := lda, 1
	if transA {
		ra, ca = 1, lda
	}
	sp := getF32(4 * n)
	defer putF32(sp)
	t := *sp
	t0, t1, t2, t3 := t[:n], t[n:2*n], t[2*n:3*n], t[3*n:4*n]
	for i0 := 0; i0 < m; i0 += 4 {
		mr := min(4, m-i0)
		clear(t)
		for p := range k {
			brow := b[p*ldb : p*ldb+n]
			base := i0*ra + p*ca
			switch mr {
			case 4:
				a0, a1, a2, a3 := a[base], a[base+ra], a[base+2*ra], a[base+3*ra]
				t0, t1, t2, t3 := t0[:len(brow)], t1[:len(brow)], t2[:len(brow)], t3[:len(brow)]
				for j, bv := range brow {
					t0[j] += a0 * bv
					t1[j] += a1 * bv
					t2[j] += a2 * bv
					t3[j] += a3 * bv
				}
			default:
				for r := range mr {
					av := a[base+r*ra]
					tr := t[r*n : r*n+len(brow)]
					for j, bv := range brow {
						tr[j] += av * bv
					}
				}
			}
		}
		for r := range mr {
			crow := c[(i0+r)*ldc : (i0+r)*ldc+n]
			tr := t[r*n : r*n+n]
			if accumulate {
				for j, v := range tr {
					crow[j] += v
				}
			} else {
				copy(crow, tr)
			}
		}
	}
}

// gemmDotGo handles transB: C[i][j] (+)= dot(row i of op(A), row j of B).
func gemmDotGo(transA bool, m, n, k int, a []float32, lda int, b []float32, ldb int, accumulate bool, c []float32, ldc int) {
	var sp *[]float32
	if transA {
		sp = getF32(k)
		defer putF32(sp)
	}
	for i := range m {
		var arow []float32
		if transA {
			arow = *sp
			for p := range k {
				arow[p] = a[p*lda+i]
			}
		} else {
			arow = a[i*lda : i*lda+k]
		}
		crow := c[i*ldc : i*ldc+n]
		for j := range crow {
			s := dotGo(arow, b[j*ldb:j*ldb+k])
			if accumulate {
				crow[j] += s
			} else {
				crow[j] = s
			}
		}
	}
}

// dotGo returns sum x[i]*y[i] over len(x), using four interleaved partial
// sums combined as (s0+s1)+(s2+s3).
func dotGo(x, y []float32) float32 {
	y = y[:len(x)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += x[i] * y[i]
		s1 += x[i+1] * y[i+1]
		s2 += x[i+2] * y[i+2]
		s3 += x[i+3] * y[i+3]
	}
	for ; i < len(x); i++ {
		s0 += x[i] * y[i]
	}
	return (s0 + s1) + (s2 + s3)
}
