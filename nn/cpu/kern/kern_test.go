package kern

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// paths runs f once per available implementation, with useAsm set accordingly.
func paths(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	saved := useAsm
	defer func() { useAsm = saved }()
	useAsm = false
	t.Run("go", f)
	if hasAsm {
		useAsm = true
		t.Run("asm", f)
		for _, v := range asmVariants {
			restore := v.set()
			t.Run(v.name, f)
			restore()
		}
	}
}

func randSlice(rng *rand.Rand, dst []float32) []float32 {
	for i := range dst {
		dst[i] = rng.Float32()*2 - 1
	}
	return dst
}

// closeTo reports whether got is within 1e-5 of want relative to scale, the
// sum of the magnitudes of the terms that were added (the bound float32
// summation error is proportional to).
func closeTo(got float32, want, scale float64) bool {
	return math.Abs(float64(got)-want) <= 1e-5*scale+1e-30
}

// naiveGemm returns op(A)·op(B) (+ C) in float64 and the per-element scale
// Σ|a·b| + |c|.
func naiveGemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, acc bool, c []float32, ldc int) (want, scale []float64) {
	want, scale = make([]float64, m*n), make([]float64, m*n)
	for i := range m {
		for j := range n {
			var s, sc float64
			for p := range k {
				var av, bv float32
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if transB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += float64(av) * float64(bv)
				sc += math.Abs(float64(av) * float64(bv))
			}
			if acc {
				s += float64(c[i*ldc+j])
				sc += math.Abs(float64(c[i*ldc+j]))
			}
			want[i*n+j], scale[i*n+j] = s, sc
		}
	}
	return want, scale
}

type gemmCase struct {
	transA, transB, acc bool
	m, n, k             int
	padA, padB, padC    int // extra leading-dimension elements
}

func (g gemmCase) String() string {
	return fmt.Sprintf("tA=%v tB=%v acc=%v m=%d n=%d k=%d pad=%d,%d,%d", g.transA, g.transB, g.acc, g.m, g.n, g.k, g.padA, g.padB, g.padC)
}

// checkGemmCase runs Gemm on guarded operands and compares it with naiveGemm;
// it also checks that the padding of C is untouched and A and B unchanged.
func checkGemmCase(t *testing.T, rng *rand.Rand, g gemmCase) {
	t.Helper()
	ar, ac := g.m, g.k
	if g.transA {
		ar, ac = g.k, g.m
	}
	br, bc := g.k, g.n
	if g.transB {
		br, bc = g.n, g.k
	}
	lda, ldb, ldc := ac+g.padA, bc+g.padB, g.n+g.padC
	size := func(rows, cols, ld int) int {
		if rows == 0 || cols == 0 {
			return 0
		}
		return (rows-1)*ld + cols
	}
	a := randSlice(rng, guarded(t, size(ar, ac, lda)))
	b := randSlice(rng, guarded(t, size(br, bc, ldb)))
	c := randSlice(rng, guarded(t, size(g.m, g.n, ldc)))
	a0, b0, c0 := append([]float32(nil), a...), append([]float32(nil), b...), append([]float32(nil), c...)
	want, scale := naiveGemm(g.transA, g.transB, g.m, g.n, g.k, a, lda, b, ldb, g.acc, c, ldc)
	Gemm(g.transA, g.transB, g.m, g.n, g.k, a, lda, b, ldb, g.acc, c, ldc)
	for i := range g.m {
		for j := range g.n {
			if got := c[i*ldc+j]; !closeTo(got, want[i*g.n+j], scale[i*g.n+j]) {
				t.Fatalf("%v: C[%d][%d] = %g, want %g", g, i, j, got, want[i*g.n+j])
			}
		}
		for j := g.n; j < ldc && i*ldc+j < len(c); j++ {
			if c[i*ldc+j] != c0[i*ldc+j] {
				t.Fatalf("%v: padding C[%d][%d] changed", g, i, j)
			}
		}
	}
	for i := range a {
		if a[i] != a0[i] {
			t.Fatalf("%v: A[%d] changed", g, i)
		}
	}
	for i := range b {
		if b[i] != b0[i] {
			t.Fatalf("%v: B[%d] changed", g, i)
		}
	}
}

func TestGemmEdgeShapes(t *testing.T) {
	paths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(1, 2))
		sizes := []int{1, 2, 3, 4, 5, 7, 8, 9, 13, 23, 24, 25, 33, 49}
		for _, tA := range []bool{false, true} {
			for _, tB := range []bool{false, true} {
				for _, m := range sizes {
					for _, n := range sizes {
						k := sizes[(m*7+n*3)%len(sizes)]
						acc := (m+n)%2 == 0
						pad := (m + 2*n) % 3
						checkGemmCase(t, rng, gemmCase{tA, tB, acc, m, n, k, pad, 2 - pad%2, pad})
					}
				}
				// ldb a multiple of 512: B is packed even for full panels
				checkGemmCase(t, rng, gemmCase{tA, tB, true, 7, 500, 9, 0, 12, 0})
				for _, k := range sizes {
					checkGemmCase(t, rng, gemmCase{tA, tB, k%2 == 0, 5, 26, k, 0, 0, 0})
					checkGemmCase(t, rng, gemmCase{tA, tB, k%2 == 1, 4, 3, k, 1, 0, 3})
				}
			}
		}
	})
}

// TestGemmDartsShapes covers the GEMMs of the DARTS networks (1x1 convolution
// forward, data and weight gradients, stem im2col, classifier).
func TestGemmDartsShapes(t *testing.T) {
	paths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(3, 4))
		for _, s := range [][2]int{{16, 1024}, {32, 256}, {64, 64}, {36, 1024}, {72, 256}, {144, 64}} {
			c, hw := s[0], s[1]
			checkGemmCase(t, rng, gemmCase{false, false, false, c, hw, c, 0, 0, 0}) // Y = W·X
			checkGemmCase(t, rng, gemmCase{true, false, true, c, hw, c, 0, 0, 0})   // dX += Wᵀ·dY
			checkGemmCase(t, rng, gemmCase{false, true, true, c, c, hw, 0, 0, 0})   // dW += dY·Xᵀ
		}
		checkGemmCase(t, rng, gemmCase{false, false, false, 48, 1024, 27, 0, 0, 0}) // stem
		checkGemmCase(t, rng, gemmCase{false, true, true, 48, 27, 1024, 0, 0, 0})
		checkGemmCase(t, rng, gemmCase{false, true, false, 64, 10, 256, 0, 0, 0}) // classifier
		checkGemmCase(t, rng, gemmCase{true, false, true, 64, 256, 10, 0, 0, 0})
	})
}

// TestGemmRandomShapes is a fuzz-style test over random shapes (fixed seed).
func TestGemmRandomShapes(t *testing.T) {
	paths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(5, 6))
		for range 300 {
			g := gemmCase{rng.IntN(2) == 0, rng.IntN(2) == 0, rng.IntN(2) == 0,
				1 + rng.IntN(70), 1 + rng.IntN(90), 1 + rng.IntN(70), rng.IntN(3), rng.IntN(3), rng.IntN(3)}
			checkGemmCase(t, rng, g)
		}
	})
}

func TestGemmDegenerate(t *testing.T) {
	paths(t, func(t *testing.T) {
		c := []float32{1, 2, 3, 4}
		Gemm(false, false, 2, 2, 0, nil, 0, nil, 2, true, c, 2)
		if c[0] != 1 || c[3] != 4 {
			t.Fatalf("k=0 accumulate changed C: %v", c)
		}
		Gemm(false, false, 2, 2, 0, nil, 0, nil, 2, false, c, 2)
		if c[0] != 0 || c[3] != 0 {
			t.Fatalf("k=0 overwrite left C = %v", c)
		}
		Gemm(true, true, 0, 3, 4, nil, 0, make([]float32, 12), 4, false, nil, 3) // m == 0: nothing to do
	})
}

func TestGemmPanicsOnShortSlices(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for a short A")
		}
	}()
	Gemm(false, false, 2, 2, 2, make([]float32, 3), 2, make([]float32, 4), 2, false, make([]float32, 4), 2)
}

// TestGemmDeterministic checks that repeated calls give bit-identical results.
func TestGemmDeterministic(t *testing.T) {
	paths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(7, 8))
		for _, tB := range []bool{false, true} {
			a := randSlice(rng, make([]float32, 37*53))
			b := randSlice(rng, make([]float32, 53*29))
			ldb := 29
			if tB {
				ldb = 53
			}
			c1, c2 := make([]float32, 37*29), make([]float32, 37*29)
			Gemm(false, tB, 37, 29, 53, a, 53, b, ldb, false, c1, 29)
			Gemm(false, tB, 37, 29, 53, a, 53, b, ldb, false, c2, 29)
			for i := range c1 {
				if math.Float32bits(c1[i]) != math.Float32bits(c2[i]) {
					t.Fatalf("transB=%v: element %d differs between calls", tB, i)
				}
			}
		}
	})
}
