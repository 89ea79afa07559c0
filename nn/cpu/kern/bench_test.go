package kern

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
)

// The machine is shared: besides the wall-clock rate, each benchmark
// reports the rate per second of CPU time of its (locked) thread, "cpu-GFLOP/s"
// or "cpu-GB/s", which time-slicing with other processes does not dilute.

// benchPaths runs f as sub-benchmarks "asm" (when available), "avx2" (the
// AVX2 kernels, on a CPU with AVX-512) and "go".
func benchPaths(b *testing.B, f func(b *testing.B)) {
	saved := useAsm
	defer func() { useAsm = saved }()
	if hasAsm {
		useAsm = true
		b.Run("asm", f)
		if avx2Only != nil {
			restore := avx2Only()
			b.Run("avx2", f)
			restore()
		}
	}
	useAsm = false
	b.Run("go", f)
}

// benchDWPaths is benchPaths plus, where the register-shift depthwise
// kernels run, "asm-flat": the assembly path without them (the flat-layout
// AVX-512 kernels).
func benchDWPaths(b *testing.B, f func(b *testing.B)) {
	benchPaths(b, f)
	if hasAsm && avx2Only != nil && useDWShift {
		saved := useAsm
		useAsm = true
		useDWShift = false
		b.Run("asm-flat", f)
		useAsm, useDWShift = saved, true
	}
}

// loop runs op b.N times on a locked thread and returns the thread CPU
// seconds it took (-1 when unknown).
func loop(b *testing.B, op func()) float64 {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	op() // warm the pools and caches before timing
	b.ResetTimer()
	t0 := threadCPUSeconds()
	for b.Loop() {
		op()
	}
	if t0 < 0 {
		return -1
	}
	return threadCPUSeconds() - t0
}

// reportRate reports amount·b.N per wall second and per CPU second, in giga-unit.
func reportRate(b *testing.B, amount, cpu float64, unit string) {
	b.ReportMetric(amount*float64(b.N)/b.Elapsed().Seconds()/1e9, unit)
	if cpu > 0 {
		b.ReportMetric(amount*float64(b.N)/cpu/1e9, "cpu-"+unit)
	}
}

// BenchmarkGemm times the per-sample GEMMs of the DARTS 1x1 convolutions:
// forward Y = W·X, data gradient dX = Wᵀ·dY, weight gradient dW += dY·Xᵀ.
func BenchmarkGemm(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, s := range [][2]int{{16, 1024}, {32, 256}, {64, 64}, {36, 1024}, {72, 256}, {144, 64}} {
		c, hw := s[0], s[1]
		w := randSlice(rng, make([]float32, c*c))
		x := randSlice(rng, make([]float32, c*hw))
		y := randSlice(rng, make([]float32, c*hw))
		flops := 2 * float64(c*c*hw)
		cases := []struct {
			name string
			run  func()
		}{
			{"fwd", func() { Gemm(false, false, c, hw, c, w, c, x, hw, false, y, hw) }},
			{"bwdData", func() { Gemm(true, false, c, hw, c, w, c, y, hw, false, x, hw) }},
			{"bwdFilter", func() { Gemm(false, true, c, c, hw, y, hw, x, hw, true, w, c) }},
		}
		for _, cs := range cases {
			b.Run(fmt.Sprintf("%s/C%d_HW%d", cs.name, c, hw), func(b *testing.B) {
				benchPaths(b, func(b *testing.B) {
					reportRate(b, flops, loop(b, cs.run), "GFLOP/s")
				})
			})
		}
	}
	// stem convolution as im2col GEMM: 48 outputs, 27 = 3·3·3 inputs, 32x32
	a := randSlice(rng, make([]float32, 48*27))
	col := randSlice(rng, make([]float32, 27*1024))
	out := make([]float32, 48*1024)
	b.Run("stem/48x1024x27", func(b *testing.B) {
		benchPaths(b, func(b *testing.B) {
			cpu := loop(b, func() { Gemm(false, false, 48, 1024, 27, a, 27, col, 1024, false, out, 1024) })
			reportRate(b, 2*48*1024*27, cpu, "GFLOP/s")
		})
	})
}

// BenchmarkDepthwise times one channel plane of the DARTS depthwise convolutions.
func BenchmarkDepthwise(b *testing.B) {
	rng := rand.New(rand.NewPCG(2, 2))
	for _, c := range []dwCase{
		{32, 32, 3, 1, 1, 1}, {16, 16, 3, 1, 1, 1}, {8, 8, 3, 1, 1, 1},
		{32, 32, 5, 1, 2, 1}, {32, 32, 3, 1, 2, 2}, {32, 32, 5, 1, 4, 2},
		{32, 32, 3, 2, 1, 1}, {16, 16, 5, 2, 2, 1},
	} {
		oh, ow := c.out()
		in := randSlice(rng, make([]float32, c.h*c.w))
		wt := randSlice(rng, make([]float32, c.k*c.k))
		out := make([]float32, oh*ow)
		flops := 2 * float64(oh*ow*c.k*c.k)
		name := fmt.Sprintf("%dx%d_k%d_s%d_d%d", c.h, c.w, c.k, c.s, c.dil)
		cases := []struct {
			name string
			run  func()
		}{
			{"fwd", func() { DepthwiseForward(in, c.h, c.w, wt, c.k, c.s, c.pad, c.dil, out, oh, ow) }},
			{"bwdData", func() { DepthwiseBackwardData(out, oh, ow, wt, c.k, c.s, c.pad, c.dil, in, c.h, c.w) }},
			{"bwdFilter", func() { DepthwiseBackwardFilter(in, c.h, c.w, out, oh, ow, c.k, c.s, c.pad, c.dil, wt) }},
		}
		for _, cs := range cases {
			b.Run(cs.name+"/"+name, func(b *testing.B) {
				benchDWPaths(b, func(b *testing.B) {
					reportRate(b, flops, loop(b, cs.run), "GFLOP/s")
				})
			})
		}
	}
}

// dwPlanesInputs returns random operands for the depthwise plane
// benchmarks, c planes of hw×hw with k×k filters: the input, the weights
// and the per-plane scale and shift of the affine forward.
func dwPlanesInputs(rng *rand.Rand, c, hw, k int) (in, wt, scale, shift []float32) {
	in = randSlice(rng, make([]float32, c*hw*hw))
	wt = randSlice(rng, make([]float32, c*k*k))
	scale = randSlice(rng, make([]float32, c))
	shift = randSlice(rng, make([]float32, c))
	return in, wt, scale, shift
}

// BenchmarkDepthwisePlanes times the depthwise convolutions of one sample
// of the DARTS search network (C 16, 32, 64 planes at 32×32, 16×16, 8×8) in
// one call for all planes: sep_conv_3x3 (k3d1) and dil_conv_5x5 (k5d2)
// forward (DepthwiseForwardPlanes), forward of relu(x·scale + shift)
// (DepthwiseForwardPlanesAffine) and data gradient (BackwardDataPlanes,
// accumulating).
func BenchmarkDepthwisePlanes(b *testing.B) {
	rng := rand.New(rand.NewPCG(4, 4))
	for _, s := range [][2]int{{16, 32}, {32, 16}, {64, 8}} {
		c, hw := s[0], s[1]
		for _, kd := range [][2]int{{3, 1}, {5, 2}} {
			k, dil := kd[0], kd[1]
			pad := dil * (k - 1) / 2
			in, wt, scale, shift := dwPlanesInputs(rng, c, hw, k)
			out := make([]float32, c*hw*hw)
			cases := []struct {
				name string
				run  func()
			}{
				{"fwd", func() { DepthwiseForwardPlanes(c, in, hw, hw, wt, k, 1, pad, dil, out, hw, hw) }},
				{"fwdAffineReLU", func() {
					DepthwiseForwardPlanesAffine(c, in, hw, hw, wt, k, 1, pad, dil, scale, shift, true, out, hw, hw)
				}},
				{"bwdData", func() {
					d := GetDepthwise(hw, hw, k, 1, pad, dil, hw, hw)
					d.BackwardDataPlanes(c, in, wt, out, true)
					d.Release()
				}},
			}
			for _, cs := range cases {
				b.Run(fmt.Sprintf("%s/C%d_%dx%d_k%d_d%d", cs.name, c, hw, hw, k, dil), func(b *testing.B) {
					benchDWPaths(b, func(b *testing.B) {
						cpu := loop(b, cs.run)
						reportRate(b, 2*float64(k*k*c*hw*hw), cpu, "GFLOP/s")
					})
				})
			}
		}
	}
}

// BenchmarkDepthwisePlanesS2 times the stride-2 depthwise convolutions of
// one sample of the DARTS search network's reduction cells (C 32 planes at
// 32×32→16×16, C 64 at 16×16→8×8) in one call for all planes, for each
// kernel (sep_conv k3d1 and k5d1, dil_conv k3d2 and k5d2): forward
// (Depthwise.ForwardPlanes), forward of relu(x·scale + shift)
// (ForwardPlanesAffine), data gradient (BackwardDataPlanes, setting din)
// and filter gradient (BackwardFilterPlanes).
func BenchmarkDepthwisePlanesS2(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 5))
	for _, s := range [][2]int{{32, 32}, {64, 16}} {
		c, hw := s[0], s[1]
		ohw := hw / 2
		for _, kd := range [][2]int{{3, 1}, {5, 1}, {3, 2}, {5, 2}} {
			k, dil := kd[0], kd[1]
			pad := dil * (k - 1) / 2
			in, wt, scale, shift := dwPlanesInputs(rng, c, hw, k)
			out := make([]float32, c*ohw*ohw)
			dwt := make([]float32, k*k)
			cases := []struct {
				name string
				run  func(d Depthwise)
			}{
				{"fwd", func(d Depthwise) { d.ForwardPlanes(c, in, wt, out) }},
				{"fwdAffineReLU", func(d Depthwise) { d.ForwardPlanesAffine(c, in, wt, scale, shift, true, out) }},
				{"bwdData", func(d Depthwise) { d.BackwardDataPlanes(c, out, wt, in, false) }},
				{"bwdFilter", func(d Depthwise) { d.BackwardFilterPlanes(c, in, hw*hw, out, ohw*ohw, dwt) }},
			}
			for _, cs := range cases {
				b.Run(fmt.Sprintf("%s/C%d_%dx%d_k%d_d%d", cs.name, c, hw, hw, k, dil), func(b *testing.B) {
					benchDWPaths(b, func(b *testing.B) {
						d := GetDepthwise(hw, hw, k, 2, pad, dil, ohw, ohw)
						defer d.Release()
						cpu := loop(b, func() { cs.run(d) })
						reportRate(b, 2*float64(k*k*c*ohw*ohw), cpu, "GFLOP/s")
					})
				})
			}
		}
	}
}

// BenchmarkVector times the vector helpers on a 64×16×32×32 activation
// (random signs, the worst case for branchy ReLU code); metric: GB/s moved.
func BenchmarkVector(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 3))
	n := 64 * 16 * 1024
	x := randSlice(rng, make([]float32, n))
	y := randSlice(rng, make([]float32, n))
	dx := make([]float32, n)
	cases := []struct {
		name  string
		bytes int
		run   func()
	}{
		{"Axpy", 12 * n, func() { Axpy(1e-3, x, y) }},
		{"ReluForward", 8 * n, func() { ReluForward(dx, x) }},
		{"ReluBackwardAdd", 16 * n, func() { ReluBackwardAdd(dx, y, x) }},
		{"ShiftedMoments", 4 * n, func() { _, _ = ShiftedMoments(x, 0.5) }},
		{"DotDev", 8 * n, func() { _, _ = DotDev(y, x, 0.5) }},
		{"ScaleShift", 8 * n, func() { ScaleShift(dx, x, 0.9, 0.1) }},
	}
	for _, cs := range cases {
		b.Run(cs.name, func(b *testing.B) {
			benchPaths(b, func(b *testing.B) {
				reportRate(b, float64(cs.bytes), loop(b, cs.run), "GB/s")
			})
		})
	}
}

// BenchmarkBatchNormPlanes times the per-channel batch-norm reductions over
// the 64 planes of one channel of the DARTS activations (C channels of H×W,
// batch 64); metric: GB/s read.
func BenchmarkBatchNormPlanes(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 5))
	for _, s := range [][2]int{{16, 1024}, {32, 256}, {64, 64}} {
		c, hw := s[0], s[1]
		x := randSlice(rng, make([]float32, 64*c*hw))
		g := randSlice(rng, make([]float32, 64*c*hw))
		b.Run(fmt.Sprintf("ShiftedMoments/C%d_HW%d", c, hw), func(b *testing.B) {
			benchPaths(b, func(b *testing.B) {
				cpu := loop(b, func() {
					for ch := range c {
						_, _ = ShiftedMomentsPlanes(x[ch*hw:], 64, hw, c*hw, 0.5)
					}
				})
				reportRate(b, float64(4*len(x)), cpu, "GB/s")
			})
		})
		b.Run(fmt.Sprintf("DotDev/C%d_HW%d", c, hw), func(b *testing.B) {
			benchPaths(b, func(b *testing.B) {
				cpu := loop(b, func() {
					for ch := range c {
						_, _ = DotDevPlanes(g[ch*hw:], x[ch*hw:], 64, hw, c*hw, 0.5)
					}
				})
				reportRate(b, float64(8*len(x)), cpu, "GB/s")
			})
		})
	}
}

// BenchmarkGemmBatch times the 1x1-convolution GEMMs over a whole batch of
// 64 samples (the operands no longer fit the caches, as in the networks).
func BenchmarkGemmBatch(b *testing.B) {
	rng := rand.New(rand.NewPCG(6, 6))
	const batch = 64
	for _, s := range [][2]int{{16, 1024}, {36, 1024}, {72, 256}, {144, 64}} {
		c, hw := s[0], s[1]
		w := randSlice(rng, make([]float32, c*c))
		x := randSlice(rng, make([]float32, batch*c*hw))
		y := randSlice(rng, make([]float32, batch*c*hw))
		flops := 2 * float64(batch*c*c*hw)
		cases := []struct {
			name string
			run  func(n int)
		}{
			{"fwd", func(n int) { Gemm(false, false, c, hw, c, w, c, x[n*c*hw:], hw, false, y[n*c*hw:], hw) }},
			{"bwdData", func(n int) { Gemm(true, false, c, hw, c, w, c, y[n*c*hw:], hw, false, x[n*c*hw:], hw) }},
			{"bwdFilter", func(n int) { Gemm(false, true, c, c, hw, y[n*c*hw:], hw, x[n*c*hw:], hw, n > 0, w, c) }},
		}
		for _, cs := range cases {
			b.Run(fmt.Sprintf("%s/C%d_HW%d", cs.name, c, hw), func(b *testing.B) {
				benchPaths(b, func(b *testing.B) {
					cpu := loop(b, func() {
						for n := range batch {
							cs.run(n)
						}
					})
					reportRate(b, flops, cpu, "GFLOP/s")
				})
			})
		}
	}
}

// BenchmarkDepthwiseFilterPlanes times Depthwise.BackwardFilterPlanes over
// the 64 planes of one channel (one per sample), the sep_conv_3x3 geometry
// at 32×32, 16×16 and 8×8: planes contiguous (in cache), and as in a batch
// of 64 samples of C 16, 32, 64 channels (stride C·h·w).
func BenchmarkDepthwiseFilterPlanes(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 5))
	const np = 64
	for _, s := range [][2]int{{16, 32}, {32, 16}, {64, 8}} {
		hw := s[1]
		for _, c := range []int{1, s[0]} {
			stride := c * hw * hw
			in := randSlice(rng, make([]float32, np*stride))
			dout := randSlice(rng, make([]float32, np*stride))
			dwt := make([]float32, 9)
			b.Run(fmt.Sprintf("N%d_C%d_%dx%d", np, c, hw, hw), func(b *testing.B) {
				benchPaths(b, func(b *testing.B) {
					d := GetDepthwise(hw, hw, 3, 1, 1, 1, hw, hw)
					defer d.Release()
					cpu := loop(b, func() { d.BackwardFilterPlanes(np, in, stride, dout, stride, dwt) })
					reportRate(b, 2*9*float64(np*hw*hw), cpu, "GFLOP/s")
				})
			})
		}
	}
}
