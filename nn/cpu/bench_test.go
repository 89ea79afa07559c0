package cpu_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"pertnas/nn"
	"pertnas/nn/cpu"
)

// Benchmarks at the DARTS search shapes (batch 64): C16 32x32, C32 16x16,
// C64 8x8. GFLOP/s counts 2 FLOPs per multiply-add for convolutions and one
// FLOP per element touched per arithmetic step for the memory-bound ops
// (stated per benchmark). Run: go test -run X -bench . ./nn/cpu/

var dartsShapes = []struct{ c, hw int }{{16, 32}, {32, 16}, {64, 8}}

// evalShapes are the CIFAR evaluation network's (C=36): C36 32x32,
// C72 16x16, C144 8x8.
var evalShapes = []struct{ c, hw int }{{36, 32}, {72, 16}, {144, 8}}

const benchN = 64

func randBuf(be *cpu.Backend, n int, seed uint64) nn.Buffer {
	rng := rand.New(rand.NewPCG(seed, 1))
	data := make([]float32, n)
	for i := range data {
		data[i] = float32(rng.NormFloat64())
	}
	b := be.Alloc(n)
	be.Upload(b, data)
	return b
}

func report(b *testing.B, flopsPerOp float64) {
	b.ReportMetric(flopsPerOp*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func benchConv(b *testing.B, d nn.ConvDesc, dir string) {
	be := cpu.New(0)
	defer be.Close()
	x := randBuf(be, d.N*d.C*d.H*d.W, 1)
	w := randBuf(be, d.OC*d.C/d.Groups*d.K*d.K, 2)
	y := randBuf(be, d.N*d.OC*d.OH*d.OW, 3)
	flops := 2 * float64(d.N*d.OC*d.OH*d.OW) * float64(d.C/d.Groups*d.K*d.K)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		switch dir {
		case "fwd":
			be.Conv2DForward(d, x, w, y)
		case "bwd_data":
			be.Conv2DBackwardData(d, y, w, x, true)
		case "bwd_filter":
			be.Conv2DBackwardFilter(d, x, y, w)
		}
	}
	report(b, flops)
}

func BenchmarkConvPointwise(b *testing.B) {
	for _, s := range append(dartsShapes, evalShapes...) {
		d := nn.ConvDesc{N: benchN, C: s.c, H: s.hw, W: s.hw, OC: s.c, OH: s.hw, OW: s.hw, K: 1, Stride: 1, Dilation: 1, Groups: 1}
		for _, dir := range []string{"fwd", "bwd_data", "bwd_filter"} {
			b.Run(fmt.Sprintf("C%d_%dx%d/%s", s.c, s.hw, s.hw, dir), func(b *testing.B) { benchConv(b, d, dir) })
		}
	}
}

func BenchmarkConvDepthwise(b *testing.B) {
	for _, s := range dartsShapes {
		for _, k := range []struct{ k, pad, dil int }{{3, 1, 1}, {5, 2, 1}, {3, 2, 2}} {
			d := nn.ConvDesc{N: benchN, C: s.c, H: s.hw, W: s.hw, OC: s.c, OH: s.hw, OW: s.hw, K: k.k, Stride: 1, Pad: k.pad, Dilation: k.dil, Groups: s.c}
			for _, dir := range []string{"fwd", "bwd_data", "bwd_filter"} {
				b.Run(fmt.Sprintf("C%d_%dx%d/k%dd%d/%s", s.c, s.hw, s.hw, k.k, k.dil, dir), func(b *testing.B) { benchConv(b, d, dir) })
			}
		}
	}
}

// BenchmarkConvGeneral: the stem (3x3, 3->48 at 32x32) and a factorized
// reduce 1x1 stride 2, through im2col + GEMM.
func BenchmarkConvGeneral(b *testing.B) {
	cases := map[string]nn.ConvDesc{
		"stem3x3":    {N: benchN, C: 3, H: 32, W: 32, OC: 48, OH: 32, OW: 32, K: 3, Stride: 1, Pad: 1, Dilation: 1, Groups: 1},
		"fr1x1s2":    {N: benchN, C: 64, H: 16, W: 16, OC: 32, OH: 8, OW: 8, K: 1, Stride: 2, Dilation: 1, Groups: 1},
		"fr1x1s2_32": {N: benchN, C: 64, H: 32, W: 32, OC: 16, OH: 16, OW: 16, K: 1, Stride: 2, Dilation: 1, Groups: 1},
	}
	for name, d := range cases {
		for _, dir := range []string{"fwd", "bwd_data", "bwd_filter"} {
			b.Run(name+"/"+dir, func(b *testing.B) { benchConv(b, d, dir) })
		}
	}
}

// BenchmarkBatchNorm counts 4 FLOPs per element for forward (stats +
// normalise) and 8 for backward.
func BenchmarkBatchNorm(b *testing.B) {
	for _, s := range dartsShapes {
		d := nn.BNDesc{N: benchN, C: s.c, HW: s.hw * s.hw, Eps: 1e-5, Momentum: 0.1}
		n := d.N * d.C * d.HW
		b.Run(fmt.Sprintf("C%d_%dx%d/train_fwd", s.c, s.hw, s.hw), func(b *testing.B) {
			be := cpu.New(0)
			defer be.Close()
			x, y := randBuf(be, n, 1), be.Alloc(n)
			rm, rv, sm, si := be.Alloc(d.C), be.Alloc(d.C), be.Alloc(d.C), be.Alloc(d.C)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				be.BatchNormTrain(d, x, nil, nil, rm, rv, y, sm, si)
			}
			report(b, 4*float64(n))
		})
		b.Run(fmt.Sprintf("C%d_%dx%d/train_bwd", s.c, s.hw, s.hw), func(b *testing.B) {
			be := cpu.New(0)
			defer be.Close()
			x, dy, dx := randBuf(be, n, 1), randBuf(be, n, 2), be.Alloc(n)
			rm, rv, sm, si := be.Alloc(d.C), be.Alloc(d.C), be.Alloc(d.C), be.Alloc(d.C)
			be.BatchNormTrain(d, x, nil, nil, rm, rv, be.Alloc(n), sm, si)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				be.BatchNormTrainBackward(d, x, dy, nil, sm, si, dx, nil, nil, true)
			}
			report(b, 8*float64(n))
		})
	}
}

// BenchmarkPool: the normal cells' pools (3×3, stride 1, padding 1) at the
// DARTS search shapes; K*K FLOPs per output element.
func BenchmarkPool(b *testing.B) {
	for _, s := range dartsShapes {
		benchPool(b, s.c, s.hw, 1)
	}
}

// BenchmarkPoolStride2: the reduction cells' pools (3×3, stride 2,
// padding 1).
func BenchmarkPoolStride2(b *testing.B) {
	for _, s := range dartsShapes[:2] {
		benchPool(b, s.c, s.hw, 2)
	}
}

// benchPool times max and avg pooling, forward and backward, of a
// batch of c×hw×hw planes.
func benchPool(b *testing.B, c, hw, stride int) {
	d := nn.PoolDesc{N: benchN, C: c, H: hw, W: hw, OH: hw / stride, OW: hw / stride, K: 3, Stride: stride, Pad: 1}
	n, on := d.N*d.C*d.H*d.W, d.N*d.C*d.OH*d.OW
	for _, op := range []string{"max_fwd", "max_bwd", "avg_fwd", "avg_bwd"} {
		b.Run(fmt.Sprintf("C%d_%dx%d/%s", c, hw, hw, op), func(b *testing.B) {
			be := cpu.New(0)
			defer be.Close()
			x, y, dx := randBuf(be, n, 1), randBuf(be, on, 2), be.Alloc(n)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				switch op {
				case "max_fwd":
					be.MaxPool(d, x, y)
				case "max_bwd":
					be.MaxPoolBackward(d, x, y, dx, true)
				case "avg_fwd":
					be.AvgPool(d, false, x, y)
				case "avg_bwd":
					be.AvgPoolBackward(d, false, y, dx, true)
				}
			}
			report(b, float64(on*9))
		})
	}
}

// BenchmarkElementwise: ReLU forward and backward, Axpy (1 FLOP per element).
func BenchmarkElementwise(b *testing.B) {
	n := benchN * 16 * 32 * 32
	be := cpu.New(0)
	defer be.Close()
	x, y, dx := randBuf(be, n, 1), randBuf(be, n, 2), be.Alloc(n)
	for _, op := range []string{"relu_fwd", "relu_bwd", "axpy"} {
		b.Run(op, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				switch op {
				case "relu_fwd":
					be.ReLU(x, y)
				case "relu_bwd":
					be.ReLUBackward(y, x, dx, true)
				case "axpy":
					be.Axpy(dx, 0.5, x)
				}
			}
			report(b, float64(n))
		})
	}
}

// BenchmarkConvDWStage: the pointwise half of a separable convolution reading
// its deferred depthwise stage (3x3) of relu(BN(x)), as the search network
// runs it: forward and filter gradient. FLOPs: both convolutions.
func BenchmarkConvDWStage(b *testing.B) {
	for _, s := range dartsShapes {
		dw := nn.ConvDesc{N: benchN, C: s.c, H: s.hw, W: s.hw, OC: s.c, OH: s.hw, OW: s.hw, K: 3, Stride: 1, Pad: 1, Dilation: 1, Groups: s.c}
		pw := nn.ConvDesc{N: benchN, C: s.c, H: s.hw, W: s.hw, OC: s.c, OH: s.hw, OW: s.hw, K: 1, Stride: 1, Dilation: 1, Groups: 1}
		n := benchN * s.c * s.hw * s.hw
		flops := 2 * float64(n) * float64(s.c+9)
		for _, dir := range []string{"fwd", "bwd_filter"} {
			b.Run(fmt.Sprintf("C%d_%dx%d/%s", s.c, s.hw, s.hw, dir), func(b *testing.B) {
				be := cpu.New(0)
				defer be.Close()
				x, y := randBuf(be, n, 1), randBuf(be, n, 2)
				bn, r, in := be.Alloc(n), be.Alloc(n), be.Alloc(n)
				stat := func() nn.Buffer { return be.Alloc(s.c) }
				be.BatchNormTrain(nn.BNDesc{N: benchN, C: s.c, HW: s.hw * s.hw, Eps: 1e-5, Momentum: 0.1}, x, randBuf(be, s.c, 3), randBuf(be, s.c, 4), stat(), stat(), bn, stat(), stat())
				be.ReLU(bn, r)
				be.Conv2DForward(dw, r, randBuf(be, 9*s.c, 5), in)
				w := randBuf(be, s.c*s.c, 6)
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if dir == "fwd" {
						be.Conv2DForward(pw, in, w, y)
					} else {
						be.Conv2DBackwardFilter(pw, in, y, w)
					}
				}
				report(b, flops)
			})
		}
	}
}
