//go:build amd64 && !purego

package kern

import (
	"math"
	"math/rand/v2"
	"testing"
)

// asmVariants are alternative assembly code paths that the default
// thresholds (or the CPU) select only for some shapes; the tests run each on
// all shapes.
var asmVariants = []struct {
	name string
	set  func() (restore func())
}{
	{"asm-transB-dot", func() func() { // transB always through gemmDot4x3
		saved := transBPackMaxK
		transBPackMaxK = 0
		return func() { transBPackMaxK = saved }
	}},
	{"asm-transB-packed", func() func() { // transB always through packed panels
		saved := transBPackMaxK
		transBPackMaxK = 1 << 30
		return func() { transBPackMaxK = saved }
	}},
	{"asm-avx2", func() func() { // the AVX2 kernels on an AVX-512 CPU
		saved := useAVX512
		useAVX512 = false
		return func() { useAVX512 = saved }
	}},
	{"asm-avx2-transB-dot", func() func() {
		savedZ, savedK := useAVX512, transBPackMaxK
		useAVX512, transBPackMaxK = false, 0
		return func() { useAVX512, transBPackMaxK = savedZ, savedK }
	}},
	{"asm-avx2-transB-packed", func() func() {
		savedZ, savedK := useAVX512, transBPackMaxK
		useAVX512, transBPackMaxK = false, 1<<30
		return func() { useAVX512, transBPackMaxK = savedZ, savedK }
	}},
}

// avx2Only, when the CPU has AVX-512, switches to the AVX2 kernels until
// the returned function restores the default.
var avx2Only = func() func() (restore func()) {
	if !hasAVX512 {
		return nil
	}
	return func() func() {
		saved := useAVX512
		useAVX512 = false
		return func() { useAVX512 = saved }
	}
}()

// TestGemmAVX512MatchesAVX2 checks the claim of gemmAsmZ: its 4×64 tiles
// sum in the order of the 4×24 AVX2 kernel, so both give the same bits
// (every case but the dot-product path of transB with a long k).
func TestGemmAVX512MatchesAVX2(t *testing.T) {
	if !hasAVX512 {
		t.Skip("no AVX-512 on this CPU: nothing to compare")
	}
	savedAsm, savedZ := useAsm, useAVX512
	defer func() { useAsm, useAVX512 = savedAsm, savedZ }()
	useAsm = true
	rng := rand.New(rand.NewPCG(11, 12))
	for range 200 {
		tA, tB, acc := rng.IntN(2) == 0, rng.IntN(2) == 0, rng.IntN(2) == 0
		m, n, k := 1+rng.IntN(40), 1+rng.IntN(150), 1+rng.IntN(transBPackMaxK)
		if rng.IntN(4) == 0 {
			n = 64 * (1 + rng.IntN(3))
		}
		lda, ldb := k, n
		if tA {
			lda = m
		}
		if tB {
			ldb = k
		}
		if !tB && rng.IntN(3) == 0 {
			ldb = 512 // rows 2 KiB apart: packed panels
		}
		a := randSlice(rng, make([]float32, m*k+lda))
		b := randSlice(rng, make([]float32, max(k, n)*ldb))
		c0 := randSlice(rng, make([]float32, m*n))
		var got [2][]float32
		for i, z := range []bool{false, true} {
			useAVX512 = z
			got[i] = append([]float32(nil), c0...)
			Gemm(tA, tB, m, n, k, a, lda, b, ldb, acc, got[i], n)
		}
		for i := range got[0] {
			if math.Float32bits(got[0][i]) != math.Float32bits(got[1][i]) {
				t.Fatalf("tA=%v tB=%v acc=%v m=%d n=%d k=%d ldb=%d: C[%d] AVX2 %g, AVX-512 %g", tA, tB, acc, m, n, k, ldb, i, got[0][i], got[1][i])
			}
		}
	}
}

// TestGemmRowsMatchesAVX2 runs the shapes that take gemmRowsZ (rows of B a
// multiple of 2 KiB apart: 16- and 12-row strips, the rows left under a
// strip, column tails) on guarded operands and checks that they give the
// bits of the AVX2 kernels.
func TestGemmRowsMatchesAVX2(t *testing.T) {
	if !hasAVX512 {
		t.Skip("no AVX-512 on this CPU: nothing to compare")
	}
	savedAsm, savedZ := useAsm, useAVX512
	defer func() { useAsm, useAVX512 = savedAsm, savedZ }()
	useAsm = true
	rng := rand.New(rand.NewPCG(13, 14))
	for _, m := range []int{12, 16, 17, 24, 36, 40, 48, 72} {
		for _, n := range []int{1, 15, 16, 33, 64, 100} {
			for _, k := range []int{1, 3, 16, 36} {
				tA, acc := rng.IntN(2) == 0, rng.IntN(2) == 0
				ldb := 512 * (1 + rng.IntN(2))
				lda := k
				if tA {
					lda = m
				}
				asz := (m-1)*lda + k
				if tA {
					asz = (k-1)*lda + m
				}
				a := randSlice(rng, guarded(t, asz))
				b := randSlice(rng, guarded(t, (k-1)*ldb+n))
				c0 := randSlice(rng, make([]float32, (m-1)*n+n))
				var got [2][]float32
				for i, z := range []bool{false, true} {
					useAVX512 = z
					got[i] = guarded(t, len(c0))
					copy(got[i], c0)
					Gemm(tA, false, m, n, k, a, lda, b, ldb, acc, got[i], n)
				}
				for i := range got[0] {
					if math.Float32bits(got[0][i]) != math.Float32bits(got[1][i]) {
						t.Fatalf("tA=%v acc=%v m=%d n=%d k=%d ldb=%d: C[%d] AVX2 %g, AVX-512 %g", tA, acc, m, n, k, ldb, i, got[0][i], got[1][i])
					}
				}
			}
		}
	}
}

// TestVectorAVX512MatchesAVX2 checks that the AVX-512 vector and batch-norm
// loops give the bits of the AVX2 ones, on lengths with and without the
// 32-element step, special values included, and plane counts of both
// parities.
func TestVectorAVX512MatchesAVX2(t *testing.T) {
	if !hasAVX512 {
		t.Skip("no AVX-512 on this CPU: nothing to compare")
	}
	savedAsm, savedZ := useAsm, useAVX512
	defer func() { useAsm, useAVX512 = savedAsm, savedZ }()
	useAsm = true
	rng := rand.New(rand.NewPCG(15, 16))
	special := []float32{float32(math.NaN()), 0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)), 1e-40, -1e-40}
	for _, n := range []int{32, 64, 96, 160, 203, 1024} {
		x := randSlice(rng, guarded(t, n))
		g := randSlice(rng, guarded(t, n))
		for i := range x {
			if i%7 == 0 {
				x[i] = special[(i/7)%len(special)]
			}
		}
		type result struct {
			out [7][]float32
			red [4]float64
		}
		run := func(z bool) result {
			useAVX512 = z
			var r result
			for i := range r.out {
				r.out[i] = append([]float32(nil), g...)
			}
			Axpy(-0.3, x, r.out[0])
			ReluForward(r.out[1], x)
			ReluBackward(r.out[2], g, x)
			ReluBackwardAdd(r.out[3], g, x)
			ScaleShiftReLU(r.out[4], x, 0.3, -0.1)
			ScaleShiftPlanes(r.out[5], x, 1, n, n, 0.3, -0.1)
			AffineAxpyPlanes(r.out[6], x, g, 1, n, n, 0.3, -0.1, 1.7, true)
			for planes := 1; planes <= 3; planes++ {
				hw := n / planes
				s, q := ShiftedMomentsPlanes(g, planes, hw-1, hw, g[0])
				a, b := DotDevPlanes(g, g, planes, hw, hw, 0.25)
				r.red[0], r.red[1], r.red[2], r.red[3] = r.red[0]+s, r.red[1]+q, r.red[2]+a, r.red[3]+b
			}
			return r
		}
		want, got := run(false), run(true)
		for i := range want.out {
			for j := range want.out[i] {
				if math.Float32bits(want.out[i][j]) != math.Float32bits(got.out[i][j]) {
					t.Fatalf("n=%d op %d [%d] (x=%g): AVX2 %g, AVX-512 %g", n, i, j, x[j], want.out[i][j], got.out[i][j])
				}
			}
		}
		if want.red != got.red {
			t.Fatalf("n=%d reductions: AVX2 %v, AVX-512 %v", n, want.red, got.red)
		}
	}
}
