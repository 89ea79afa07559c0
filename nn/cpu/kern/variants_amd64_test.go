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
