package cuda

import (
	"math"
	"os"
	"testing"

	"pertnas/nn"
)

// Mixed precision: activation buffers in fp16 or bf16, everything else
// float32. Tolerances (max-norm relative, as compare): one rounding of an
// output to fp16 is within 2^-11 relative, to bf16 within 2^-8; the
// per-op checks allow a few roundings, the training step (three SGD steps
// through 20 layers, rounding every activation and activation gradient) a
// few percent.
var mixedTol = map[dtype]struct{ op, step float64 }{
	f16:  {op: 4e-3, step: 5e-2},
	bf16: {op: 3e-2, step: 1.5e-1},
}

// emuMixed returns an emulated backend at precision prec with the
// CPU-backed fake cuDNN.
func emuMixed(t *testing.T, prec Precision) *Backend {
	b, mem := emuBackendMem(t)
	cpuCudnn(t, b.l, mem, fakeCudnn(t, b.l))
	b.opts.Precision = prec
	return b
}

func mixedPair(t *testing.T, g *Backend) *pair {
	p := newPair(t, g)
	p.act = g.opts.Precision.activations()
	p.tol = mixedTol[p.act].op
	return p
}

// testMixedOps runs the per-op parity suites that apply to half
// activations (not the SGD one: parameters and momentum stay float32).
func testMixedOps(p *pair) {
	testElementwise(p)
	testPooling(p)
	testLayout(p)
	testDense(p)
	testConv(p)
	testBatchNormInferBackward(p)
}

// TestHalfConversion: Upload rounds float32 to the activation type to
// nearest even (subnormals, overflow to Inf, NaN, ties) and Download widens
// exactly, as the reference conversions.
func TestHalfConversion(t *testing.T) {
	vals := []float32{0, float32(math.Copysign(0, -1)), 1, -2.5, 3.1415927, 65504, 65519, 65520, -1e6,
		1 + 1.0/2048, 1 + 3.0/2048, // fp16 ties: to even (1) and up (1+4/2048)
		1 + 1.0/256, 1 + 3.0/256, // bf16 ties
		6e-8, 3e-8, 2.9e-8, 1e-5, 6.1e-5, // fp16 subnormals and the smallest normal
		1e-40, 1e30, -3e38, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())}
	for _, prec := range []Precision{FP16, BF16} {
		b := emuBackend(t)
		b.opts.Precision = prec
		dt := prec.activations()
		buf := b.AllocActivation(len(vals))
		if got := b.buf(buf).dt; got != dt {
			t.Fatalf("%v: AllocActivation gave a %v buffer", prec, got)
		}
		b.Upload(buf, vals)
		got := make([]float32, len(vals))
		b.Download(got, buf)
		for i, v := range vals {
			want := roundTo(dt, v)
			if math.Float32bits(got[i]) != math.Float32bits(want) && !(math.IsNaN(float64(got[i])) && math.IsNaN(float64(want))) {
				t.Errorf("%v: %v stored as %v, want %v", prec, v, got[i], want)
			}
		}
		// Copy converts between types; Fill writes the rounded value.
		f := b.Alloc(len(vals))
		b.Copy(f, buf)
		back := make([]float32, len(vals))
		b.Download(back, f)
		for i := range vals {
			if math.Float32bits(back[i]) != math.Float32bits(got[i]) && !math.IsNaN(float64(got[i])) {
				t.Errorf("%v: Copy to float32 gave %v for %v", prec, back[i], got[i])
			}
		}
		b.Fill(buf, 0.1)
		b.Download(got, buf)
		if got[len(got)-1] != roundTo(dt, 0.1) {
			t.Errorf("%v: Fill(0.1) stored %v, want %v", prec, got[len(got)-1], roundTo(dt, 0.1))
		}
	}
	// The reference itself: known encodings.
	for _, c := range []struct {
		f    float32
		bits uint16
	}{{1, 0x3c00}, {65504, 0x7bff}, {65520, 0x7c00}, {5.960464477539063e-08, 0x0001}, {-2, 0xc000}, {6.103515625e-05, 0x0400}} {
		if got := f16Bits(c.f); got != c.bits || f16Value(c.bits) != roundTo(f16, c.f) {
			t.Errorf("f16Bits(%v) = %#04x, want %#04x", c.f, got, c.bits)
		}
	}
	if bf16Bits(1) != 0x3f80 || bf16Bits(-2) != 0xc000 || bf16Value(0x3f80) != 1 {
		t.Error("bf16 reference encodings")
	}
}

// TestEmulatedMixedPrecisionOps runs the per-op parity suites with half
// activation buffers (the kernels' fp16/bf16 loads and stores, conversions
// around cuDNN and cuBLAS) against the CPU on the same rounded inputs.
func TestEmulatedMixedPrecisionOps(t *testing.T) {
	for _, prec := range []Precision{FP16, BF16} {
		t.Run(prec.String(), func(t *testing.T) {
			for _, mode := range []DepthwiseMode{DepthwiseCudnn, DepthwiseKernel} {
				b := emuMixed(t, prec)
				b.opts.Depthwise = mode
				testMixedOps(mixedPair(t, b))
			}
		})
	}
}

// TestEmulatedMixedPrecisionTraining: three SGD steps of the small network
// with half activations agree with float32 training on the CPU within the
// stated tolerance, and the descriptors cuDNN sees are half.
func TestEmulatedMixedPrecisionTraining(t *testing.T) {
	for _, prec := range []Precision{FP16, BF16} {
		t.Run(prec.String(), func(t *testing.T) {
			b, mem := emuBackendMem(t)
			f := fakeCudnn(t, b.l)
			cpuCudnn(t, b.l, mem, f)
			b.opts.Precision = prec
			testTrainingStep(t, b, mixedTol[prec.activations()].step)
			half := 0
			for d, dt := range f.types {
				if _, ok := f.filters[d]; ok || f.tensors[d][0] > 1 {
					if dt != prec.activations() {
						t.Errorf("descriptor %d of %v is %v", d, f.tensors[d], dt)
					}
					half++
				}
			}
			if half == 0 {
				t.Error("no activation descriptors")
			}
		})
	}
}

// TestUnscaleGrads: the fused unscale multiplies in place and flags any
// non-finite result (also when only a later buffer overflows).
func TestUnscaleGrads(t *testing.T) {
	b := emuBackend(t)
	a, c := b.Alloc(5), b.Alloc(3)
	b.Upload(a, []float32{2, -4, 8, 0, 1024})
	b.Upload(c, []float32{1, 2, 3})
	if !b.UnscaleGrads([]nn.Buffer{a, c}, 0.5) {
		t.Fatal("finite gradients reported as overflow")
	}
	got := make([]float32, 5)
	b.Download(got, a)
	if got[0] != 1 || got[1] != -2 || got[4] != 512 {
		t.Errorf("unscaled %v", got)
	}
	b.Upload(c, []float32{1, float32(math.Inf(1)), 3})
	if b.UnscaleGrads([]nn.Buffer{a, c}, 0.5) {
		t.Error("an infinite gradient was not flagged")
	}
	b.Upload(c, []float32{float32(math.NaN()), 0, 0})
	if b.UnscaleGrads([]nn.Buffer{a, c}, 0.5) {
		t.Error("a NaN gradient was not flagged")
	}
	// a was unscaled three times: 2, -4, 8, 0, 1024 divided by 8.
	if s := b.SumSquaresAll([]nn.Buffer{a, b.Alloc(2)}); s != 0.25*0.25+0.5*0.5+1+0+128*128 {
		t.Errorf("SumSquaresAll %v", s)
	}
}

// TestParityMixedPrecision is the GPU check of mixed precision: the per-op
// suites and the training step at the stated tolerances, with cuDNN's
// half convolutions and batch norm.
func TestParityMixedPrecision(t *testing.T) {
	gpuBackend(t) // skip or fail as the other parity tests
	for _, prec := range []Precision{FP16, BF16} {
		t.Run(prec.String(), func(t *testing.T) {
			g, err := NewBackend(0, Options{LibDir: os.Getenv(EnvLibDir), Precision: prec})
			if err != nil {
				t.Fatal(err)
			}
			defer g.Close()
			testMixedOps(mixedPair(t, g))
			testTrainingStep(t, g, mixedTol[prec.activations()].step)
		})
	}
}
