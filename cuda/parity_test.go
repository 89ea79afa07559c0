package cuda

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"

	"pertnas/nn"
	"pertnas/nn/cpu"
)

// Parity tests run every Backend method on the GPU and on the CPU backend
// with the same inputs and require the results to agree within parityTol,
// relative to the largest magnitude of the CPU result (max-norm). TF32 is off
// (strict fp32 convolutions and GEMMs), except in TestParityTF32, which
// checks Options.TF32 at tf32Tol (5e-3).
//
// They skip, saying why, when no GPU or library is found — unless
// PERTNAS_REQUIRE_GPU=1 (set by scripts/gpu-check.sh), which turns that into
// a failure. Libraries that load but lack a bound symbol always fail.
const parityTol = 1e-4

var (
	gpuOnce sync.Once
	gpuB    *Backend
	gpuWhy  string
	gpuErr  error
)

func gpuBackend(t *testing.T) *Backend {
	t.Helper()
	gpuOnce.Do(func() {
		dir := os.Getenv(EnvLibDir)
		l, err := OpenLibraries(Find(FindOptions{Dir: dir}))
		if err != nil {
			gpuWhy = err.Error()
			return
		}
		if err := l.CheckSymbols(); err != nil {
			gpuErr = err
			return
		}
		info, err := Probe(dir, 0)
		if err != nil {
			gpuWhy = err.Error()
			return
		}
		gpuB, gpuErr = NewBackend(0, Options{LibDir: dir})
		if gpuErr == nil {
			fmt.Fprintf(os.Stderr, "cuda parity tests on %s; libraries %q\n", info, info.LibrariesFound)
		}
	})
	if gpuErr != nil {
		t.Fatalf("GPU present but unusable: %v", gpuErr)
	}
	if gpuB == nil {
		if os.Getenv("PERTNAS_REQUIRE_GPU") == "1" {
			t.Fatalf("no usable GPU (PERTNAS_REQUIRE_GPU=1): %s", gpuWhy)
		}
		t.Skipf("no usable GPU: %s", summary(gpuWhy))
	}
	return gpuB
}

// summary keeps the first line of a library-search error and the line naming
// each library that could not be loaded (not the list of paths tried).
func summary(why string) string {
	lines := strings.Split(why, "\n")
	out := lines[:1]
	for _, l := range lines[1:] {
		if strings.Contains(l, "not loadable") {
			out = append(out, strings.TrimSuffix(strings.TrimSpace(l), "; searched:")+";")
		}
	}
	return strings.Join(out, " ")
}

// pair holds the two backends under comparison and an RNG for inputs. With
// act set (mixed precision), the GPU's tensors are activation buffers of
// type act, the CPU gets the same inputs rounded to that type, and results
// must agree within tol instead of parityTol.
type pair struct {
	t   *testing.T
	g   *Backend
	c   nn.Backend
	rng *rand.Rand
	act dtype
	tol float64
}

func newPair(t *testing.T, g *Backend) *pair {
	return &pair{t: t, g: g, c: cpu.New(1), rng: rand.New(rand.NewPCG(1, 2)), act: f32, tol: parityTol}
}

// alloc is a zeroed GPU buffer of the pair's tensor type.
func (p *pair) alloc(n int) nn.Buffer {
	if p.act != f32 {
		return p.g.AllocActivation(n)
	}
	return p.g.Alloc(n)
}

// bufs is one tensor on both backends.
type bufs struct{ g, c nn.Buffer }

// randn uploads the same n normal values to both backends.
func (p *pair) randn(n int) bufs {
	h := make([]float32, n)
	for i := range h {
		h[i] = float32(p.rng.NormFloat64())
	}
	return p.from(h)
}

func (p *pair) from(h []float32) bufs {
	b := bufs{p.alloc(len(h)), p.c.Alloc(len(h))}
	p.g.Upload(b.g, h)
	r := make([]float32, len(h))
	for i, v := range h {
		r[i] = roundTo(p.act, v)
	}
	p.c.Upload(b.c, r)
	return b
}

func (p *pair) zeros(n int) bufs { return bufs{p.alloc(n), p.c.Alloc(n)} }

// positive uploads n values in [0.5, 1.5) (variances, scales).
func (p *pair) positive(n int) bufs {
	h := make([]float32, n)
	for i := range h {
		h[i] = 0.5 + p.rng.Float32()
	}
	return p.from(h)
}

// check compares a buffer across the backends.
func (p *pair) check(name string, b bufs) {
	p.t.Helper()
	n := b.c.Len()
	gh, ch := make([]float32, n), make([]float32, n)
	p.g.Download(gh, b.g)
	p.c.Download(ch, b.c)
	if err := compare(gh, ch, p.tol); err != nil {
		p.t.Errorf("%s: %v", name, err)
	}
}

// compare returns an error when max|got-want| > tol * max(max|want|, 1e-6),
// or when the values are not finite.
func compare(got, want []float32, tol float64) error {
	var scale, worst float64
	at := -1
	for i := range want {
		if math.IsNaN(float64(got[i])) || math.IsInf(float64(got[i]), 0) {
			return fmt.Errorf("element %d is %v (want %v)", i, got[i], want[i])
		}
		scale = math.Max(scale, math.Abs(float64(want[i])))
		if d := math.Abs(float64(got[i]) - float64(want[i])); d > worst {
			worst, at = d, i
		}
	}
	scale = math.Max(scale, 1e-6)
	if worst > tol*scale {
		return fmt.Errorf("max difference %.3g at %d (gpu %v, cpu %v) > %.0e x %.3g", worst, at, got[at], want[at], tol, scale)
	}
	return nil
}

func TestCompare(t *testing.T) {
	if compare([]float32{1, 2, 100}, []float32{1, 2, 100.005}, 1e-4) != nil {
		t.Error("difference within tolerance rejected")
	}
	if compare([]float32{1, 2.1, 100}, []float32{1, 2, 100}, 1e-4) == nil {
		t.Error("difference 0.1 on scale 100 accepted at 1e-4")
	}
	if compare([]float32{float32(math.NaN())}, []float32{0}, 1) == nil {
		t.Error("NaN accepted")
	}
}

func TestParityElementwise(t *testing.T) { testElementwise(newPair(t, gpuBackend(t))) }

func testElementwise(p *pair) {
	t := p.t
	n := 10007
	x, y := p.randn(n), p.randn(n)
	p.g.Fill(y.g, 0.25)
	p.c.Fill(y.c, 0.25)
	p.check("Fill", y)
	p.g.Copy(y.g, x.g)
	p.c.Copy(y.c, x.c)
	p.check("Copy", y)
	p.g.Scale(y.g, -1.5, x.g)
	p.c.Scale(y.c, -1.5, x.c)
	p.check("Scale", y)
	p.g.Scale(y.g, 0.5, y.g)
	p.c.Scale(y.c, 0.5, y.c)
	p.check("Scale in place", y)
	p.g.Axpy(y.g, 0.25, x.g)
	p.c.Axpy(y.c, 0.25, x.c)
	p.check("Axpy", y)
	gs, cs := p.g.SumSquares(x.g), p.c.SumSquares(x.c)
	if math.Abs(gs-cs) > p.tol/100*cs {
		t.Errorf("SumSquares gpu %v cpu %v", gs, cs)
	}
	p.g.ReLU(x.g, y.g)
	p.c.ReLU(x.c, y.c)
	p.check("ReLU", y)
	dy := p.randn(n)
	for _, acc := range []bool{true, false} {
		dx := p.randn(n) // added to, or overwritten
		p.g.ReLUBackward(y.g, dy.g, dx.g, acc)
		p.c.ReLUBackward(y.c, dy.c, dx.c, acc)
		p.check(fmt.Sprintf("ReLUBackward accumulate=%v", acc), dx)
	}
	if a := p.g.Alloc(33); true {
		h := make([]float32, 33)
		h[5] = 1
		p.g.Download(h, a)
		for i, v := range h {
			if v != 0 {
				t.Fatalf("Alloc not zeroed: [%d] = %v", i, v)
			}
		}
	}
}

var convCases = []nn.ConvDesc{
	{N: 4, C: 3, H: 16, W: 16, OC: 8, K: 3, Stride: 1, Pad: 1, Dilation: 1, Groups: 1}, // stem
	{N: 4, C: 8, H: 16, W: 16, OC: 8, K: 3, Stride: 2, Pad: 1, Dilation: 1, Groups: 8}, // depthwise, stride 2
	{N: 4, C: 8, H: 16, W: 16, OC: 8, K: 5, Stride: 1, Pad: 4, Dilation: 2, Groups: 8}, // dilated depthwise 5x5
	{N: 4, C: 8, H: 15, W: 15, OC: 6, K: 1, Stride: 2, Pad: 0, Dilation: 1, Groups: 1}, // FactorizedReduce 1x1 s2, odd size
	{N: 4, C: 8, H: 2, W: 2, OC: 12, K: 2, Stride: 1, Pad: 0, Dilation: 1, Groups: 1},  // auxiliary head 2x2
	{N: 2, C: 16, H: 8, W: 8, OC: 32, K: 1, Stride: 1, Pad: 0, Dilation: 1, Groups: 1}, // pointwise
}

func outSize(h, k, s, p, d int) int { return (h+2*p-d*(k-1)-1)/s + 1 }

func TestParityConv(t *testing.T) { testConv(newPair(t, gpuBackend(t))) }

// TestParityDepthwiseModes: the backend's depthwise kernels and cuDNN's
// depthwise convolutions each match the CPU (the default picks by speed).
func TestParityDepthwiseModes(t *testing.T) {
	gpuBackend(t) // skip or fail as the other parity tests
	for _, mode := range []DepthwiseMode{DepthwiseKernel, DepthwiseCudnn} {
		g, err := NewBackend(0, Options{LibDir: os.Getenv(EnvLibDir), Depthwise: mode})
		if err != nil {
			t.Fatal(err)
		}
		testConv(newPair(t, g))
		g.Close()
	}
}

func testConv(p *pair) {
	for _, d := range convCases {
		d.OH, d.OW = outSize(d.H, d.K, d.Stride, d.Pad, d.Dilation), outSize(d.W, d.K, d.Stride, d.Pad, d.Dilation)
		name := fmt.Sprintf("%+v", d)
		x := p.randn(d.N * d.C * d.H * d.W)
		w := p.randn(d.OC * d.C / d.Groups * d.K * d.K)
		y := p.randn(d.N * d.OC * d.OH * d.OW) // overwritten
		p.g.Conv2DForward(d, x.g, w.g, y.g)
		p.c.Conv2DForward(d, x.c, w.c, y.c)
		p.check("Conv2DForward "+name, y)
		dy := p.randn(y.c.Len())
		for _, acc := range []bool{true, false} {
			dx := p.randn(x.c.Len()) // added to, or overwritten
			p.g.Conv2DBackwardData(d, dy.g, w.g, dx.g, acc)
			p.c.Conv2DBackwardData(d, dy.c, w.c, dx.c, acc)
			p.check(fmt.Sprintf("Conv2DBackwardData accumulate=%v %s", acc, name), dx)
		}
		dw := p.randn(w.c.Len()) // accumulated into
		p.g.Conv2DBackwardFilter(d, x.g, dy.g, dw.g)
		p.c.Conv2DBackwardFilter(d, x.c, dy.c, dw.c)
		p.check("Conv2DBackwardFilter "+name, dw)
		// Second call with the cached algorithm.
		p.g.Conv2DForward(d, x.g, w.g, y.g)
		p.c.Conv2DForward(d, x.c, w.c, y.c)
		p.check("Conv2DForward again "+name, y)
	}
}

func TestParityBatchNorm(t *testing.T) {
	p := newPair(t, gpuBackend(t))
	for _, affine := range []bool{true, false} {
		for _, d := range []nn.BNDesc{{N: 8, C: 6, HW: 25, Eps: 1e-5, Momentum: 0.1}, {N: 16, C: 10, HW: 1, Eps: 1e-5, Momentum: 0.1}} {
			name := fmt.Sprintf("%+v affine=%v", d, affine)
			n := d.N * d.C * d.HW
			x := p.randn(n)
			var gamma, beta, dgamma, dbeta bufs
			if affine {
				gamma, beta, dgamma, dbeta = p.positive(d.C), p.randn(d.C), p.randn(d.C), p.randn(d.C)
			}
			rm, rv := p.randn(d.C), p.positive(d.C)
			y, sm, si := p.zeros(n), p.zeros(d.C), p.zeros(d.C)
			p.g.BatchNormTrain(d, x.g, gamma.g, beta.g, rm.g, rv.g, y.g, sm.g, si.g)
			p.c.BatchNormTrain(d, x.c, gamma.c, beta.c, rm.c, rv.c, y.c, sm.c, si.c)
			p.check("BatchNormTrain y "+name, y)
			p.check("BatchNormTrain saveMean "+name, sm)
			p.check("BatchNormTrain saveInvStd "+name, si)
			p.check("BatchNormTrain runMean "+name, rm)
			p.check("BatchNormTrain runVar (unbiased) "+name, rv)
			dy := p.randn(n)
			for _, acc := range []bool{true, false} {
				// dx is added to or overwritten; dgamma and dbeta
				// accumulate either way.
				dx := p.randn(n)
				p.g.BatchNormTrainBackward(d, x.g, dy.g, gamma.g, sm.g, si.g, dx.g, dgamma.g, dbeta.g, acc)
				p.c.BatchNormTrainBackward(d, x.c, dy.c, gamma.c, sm.c, si.c, dx.c, dgamma.c, dbeta.c, acc)
				p.check(fmt.Sprintf("BatchNormTrainBackward dx accumulate=%v %s", acc, name), dx)
				if affine {
					p.check(fmt.Sprintf("BatchNormTrainBackward dgamma accumulate=%v %s", acc, name), dgamma)
					p.check(fmt.Sprintf("BatchNormTrainBackward dbeta accumulate=%v %s", acc, name), dbeta)
				}
			}
			p.g.BatchNormInfer(d, x.g, gamma.g, beta.g, rm.g, rv.g, y.g)
			p.c.BatchNormInfer(d, x.c, gamma.c, beta.c, rm.c, rv.c, y.c)
			p.check("BatchNormInfer "+name, y)
		}
	}
}

func TestParityBatchNormInferBackward(t *testing.T) {
	testBatchNormInferBackward(newPair(t, gpuBackend(t)))
}

// testBatchNormInferBackward: the gradient with running statistics is a
// kernel of ours (cuDNN has none).
func testBatchNormInferBackward(p *pair) {
	for _, affine := range []bool{true, false} {
		for _, d := range []nn.BNDesc{{N: 8, C: 6, HW: 25, Eps: 1e-5}, {N: 16, C: 10, HW: 1, Eps: 1e-5}} {
			name := fmt.Sprintf("%+v affine=%v", d, affine)
			n := d.N * d.C * d.HW
			var gamma, dgamma, dbeta bufs
			if affine {
				gamma, dgamma, dbeta = p.positive(d.C), p.randn(d.C), p.randn(d.C)
			}
			x, dy, dx := p.randn(n), p.randn(n), p.randn(n)
			rm, rv := p.randn(d.C), p.positive(d.C)
			p.g.BatchNormInferBackward(d, x.g, dy.g, gamma.g, rm.g, rv.g, dx.g, dgamma.g, dbeta.g)
			p.c.BatchNormInferBackward(d, x.c, dy.c, gamma.c, rm.c, rv.c, dx.c, dgamma.c, dbeta.c)
			p.check("BatchNormInferBackward dx "+name, dx)
			if affine {
				p.check("BatchNormInferBackward dgamma "+name, dgamma)
				p.check("BatchNormInferBackward dbeta "+name, dbeta)
			}
		}
	}
}

func TestParityPooling(t *testing.T) { testPooling(newPair(t, gpuBackend(t))) }

func testPooling(p *pair) {
	for _, d := range []nn.PoolDesc{
		{N: 3, C: 4, H: 9, W: 9, K: 3, Stride: 1, Pad: 1},
		{N: 3, C: 4, H: 9, W: 9, K: 3, Stride: 2, Pad: 1},
		{N: 2, C: 4, H: 8, W: 8, K: 5, Stride: 3, Pad: 0}, // auxiliary head
	} {
		d.OH, d.OW = (d.H+2*d.Pad-d.K)/d.Stride+1, (d.W+2*d.Pad-d.K)/d.Stride+1
		name := fmt.Sprintf("%+v", d)
		x := p.randn(d.N * d.C * d.H * d.W)
		y := p.zeros(d.N * d.C * d.OH * d.OW)
		dy := p.randn(y.c.Len())
		p.g.MaxPool(d, x.g, y.g)
		p.c.MaxPool(d, x.c, y.c)
		p.check("MaxPool "+name, y)
		for _, acc := range []bool{true, false} {
			dx := p.randn(x.c.Len()) // added to, or overwritten
			p.g.MaxPoolBackward(d, x.g, dy.g, dx.g, acc)
			p.c.MaxPoolBackward(d, x.c, dy.c, dx.c, acc)
			p.check(fmt.Sprintf("MaxPoolBackward accumulate=%v %s", acc, name), dx)
		}
		for _, countPad := range []bool{false, true} {
			p.g.AvgPool(d, countPad, x.g, y.g)
			p.c.AvgPool(d, countPad, x.c, y.c)
			p.check(fmt.Sprintf("AvgPool countPad=%v %s", countPad, name), y)
			for _, acc := range []bool{true, false} {
				dx := p.randn(x.c.Len())
				p.g.AvgPoolBackward(d, countPad, dy.g, dx.g, acc)
				p.c.AvgPoolBackward(d, countPad, dy.c, dx.c, acc)
				p.check(fmt.Sprintf("AvgPoolBackward countPad=%v accumulate=%v %s", countPad, acc, name), dx)
			}
		}
	}
	// Ties: a constant input sends each window's gradient to its first element.
	d := nn.PoolDesc{N: 1, C: 1, H: 4, W: 4, OH: 4, OW: 4, K: 3, Stride: 1, Pad: 1}
	x := p.from(make([]float32, 16))
	y, dy, dx := p.zeros(16), p.randn(16), p.zeros(16)
	p.g.MaxPool(d, x.g, y.g)
	p.c.MaxPool(d, x.c, y.c)
	p.g.MaxPoolBackward(d, x.g, dy.g, dx.g, true)
	p.c.MaxPoolBackward(d, x.c, dy.c, dx.c, true)
	p.check("MaxPoolBackward with ties", dx)

	n, c, hw := 5, 7, 36
	x = p.randn(n * c * hw)
	g := p.zeros(n * c)
	p.g.GlobalAvgPool(n, c, hw, x.g, g.g)
	p.c.GlobalAvgPool(n, c, hw, x.c, g.c)
	p.check("GlobalAvgPool", g)
	dg := p.randn(n * c)
	for _, acc := range []bool{true, false} {
		dxg := p.randn(n * c * hw)
		p.g.GlobalAvgPoolBackward(n, c, hw, dg.g, dxg.g, acc)
		p.c.GlobalAvgPoolBackward(n, c, hw, dg.c, dxg.c, acc)
		p.check(fmt.Sprintf("GlobalAvgPoolBackward accumulate=%v", acc), dxg)
	}
}

func TestParityLayout(t *testing.T) { testLayout(newPair(t, gpuBackend(t))) }

func testLayout(p *pair) {
	n, hw := 3, 10
	src := p.randn(n * 5 * hw)
	for _, acc := range []bool{false, true} {
		dst := p.randn(n * 8 * hw)
		p.g.CopyChannels(n, hw, src.g, 5, 1, dst.g, 8, 4, 3, acc)
		p.c.CopyChannels(n, hw, src.c, 5, 1, dst.c, 8, 4, 3, acc)
		p.check(fmt.Sprintf("CopyChannels accumulate=%v", acc), dst)
	}
	whole := p.randn(n * 5 * hw)
	p.g.CopyChannels(n, hw, src.g, 5, 0, whole.g, 5, 0, 5, false)
	p.c.CopyChannels(n, hw, src.c, 5, 0, whole.c, 5, 0, 5, false)
	p.check("CopyChannels whole", whole)

	c, h, w := 4, 7, 6
	x := p.randn(n * c * h * w)
	y := p.zeros(n * c * (h - 1) * (w - 1))
	p.g.Shift(n, c, h, w, 1, 1, x.g, y.g)
	p.c.Shift(n, c, h, w, 1, 1, x.c, y.c)
	p.check("Shift", y)
	dy, dx := p.randn(y.c.Len()), p.randn(x.c.Len())
	p.g.ShiftBackward(n, c, h, w, 1, 1, dy.g, dx.g)
	p.c.ShiftBackward(n, c, h, w, 1, 1, dy.c, dx.c)
	p.check("ShiftBackward", dx)

	s := []float32{0, 1.25, 2}
	size := 17
	xs := p.randn(n * size)
	for _, acc := range []bool{false, true} {
		ys := p.randn(n * size)
		p.g.ScaleSamples(n, size, s, xs.g, ys.g, acc)
		p.c.ScaleSamples(n, size, s, xs.c, ys.c, acc)
		p.check(fmt.Sprintf("ScaleSamples accumulate=%v", acc), ys)
	}
}

func TestParityMatMul(t *testing.T) { testMatMul(newPair(t, gpuBackend(t))) }

func testMatMul(p *pair) {
	for _, sz := range [][3]int{{7, 5, 9}, {1, 10, 64}, {33, 17, 1}} {
		m, n, k := sz[0], sz[1], sz[2]
		for _, ta := range []bool{false, true} {
			for _, tb := range []bool{false, true} {
				for _, acc := range []bool{false, true} {
					a, b, c := p.randn(m*k), p.randn(k*n), p.randn(m*n)
					p.g.MatMul(ta, tb, m, n, k, a.g, b.g, acc, c.g)
					p.c.MatMul(ta, tb, m, n, k, a.c, b.c, acc, c.c)
					p.check(fmt.Sprintf("MatMul %dx%dx%d transA=%v transB=%v accumulate=%v", m, n, k, ta, tb, acc), c)
				}
			}
		}
	}
}

func TestParityDense(t *testing.T) { testDense(newPair(t, gpuBackend(t))) }

func testDense(p *pair) {
	m, n := 7, 5
	bias, y := p.randn(n), p.randn(m*n)
	p.g.AddRowBias(m, n, bias.g, y.g)
	p.c.AddRowBias(m, n, bias.c, y.c)
	p.check("AddRowBias", y)
	p.g.RowBiasBackward(m, n, y.g, bias.g)
	p.c.RowBiasBackward(m, n, y.c, bias.c)
	p.check("RowBiasBackward", bias)

	rows, classes := 6, 10
	labels := []int32{0, 9, 3, 3, 7, 1}
	for _, sm := range []float32{0, 0.1} {
		logits := p.randn(rows * classes)
		probs, loss := p.zeros(rows*classes), p.zeros(1)
		p.g.SoftmaxCrossEntropy(rows, classes, logits.g, labels, sm, probs.g, loss.g)
		p.c.SoftmaxCrossEntropy(rows, classes, logits.c, labels, sm, probs.c, loss.c)
		p.check(fmt.Sprintf("SoftmaxCrossEntropy probs smoothing=%v", sm), probs)
		p.check(fmt.Sprintf("SoftmaxCrossEntropy loss smoothing=%v", sm), loss)
		dloss, dlogits := p.from([]float32{0.7}), p.randn(rows*classes)
		p.g.SoftmaxCrossEntropyBackward(rows, classes, probs.g, labels, sm, dloss.g, dlogits.g)
		p.c.SoftmaxCrossEntropyBackward(rows, classes, probs.c, labels, sm, dloss.c, dlogits.c)
		p.check(fmt.Sprintf("SoftmaxCrossEntropyBackward smoothing=%v", sm), dlogits)
	}
}

func TestParitySGD(t *testing.T) { testSGD(newPair(t, gpuBackend(t))) }

func testSGD(p *pair) {
	n := 1001
	for _, c := range []struct {
		momentum        float32
		nesterov, first bool
		nilBuf          bool
	}{{0.9, false, true, false}, {0.9, false, false, false}, {0.9, true, false, false}, {0, false, false, true}} {
		w, g, buf := p.randn(n), p.randn(n), p.randn(n)
		bg, bc := buf.g, buf.c
		if c.nilBuf {
			bg, bc = nil, nil
		}
		p.g.SGDStep(w.g, g.g, bg, 0.025, c.momentum, 3e-4, c.nesterov, c.first)
		p.c.SGDStep(w.c, g.c, bc, 0.025, c.momentum, 3e-4, c.nesterov, c.first)
		p.check(fmt.Sprintf("SGDStep %+v w", c), w)
		if !c.nilBuf {
			p.check(fmt.Sprintf("SGDStep %+v buf", c), buf)
		}
	}
}

// tinyNet is a small network exercising every kind of op the DARTS networks
// use, built identically on any backend from the same seed.
type tinyNet struct {
	scope      *nn.Scope
	stem       *nn.Conv2D
	stemBN     *nn.BatchNorm
	dw, pw     *nn.Conv2D
	bn         *nn.BatchNorm
	red1, red2 *nn.Conv2D
	redBN      *nn.BatchNorm
	fc         *nn.Linear
}

func newTinyNet(b nn.Backend) *tinyNet {
	s := nn.NewScope(b, rand.New(rand.NewPCG(7, 8)))
	return &tinyNet{
		scope:  s,
		stem:   s.Conv2D("stem.0", 3, 8, 3, 1, 1, 1, 1),
		stemBN: s.BatchNorm("stem.1", 8, true),
		dw:     s.Conv2D("op.1", 8, 8, 3, 1, 1, 1, 8),
		pw:     s.Conv2D("op.2", 8, 8, 1, 1, 0, 1, 1),
		bn:     s.BatchNorm("op.3", 8, false),
		red1:   s.Conv2D("fr.conv_1", 8, 4, 1, 2, 0, 1, 1),
		red2:   s.Conv2D("fr.conv_2", 8, 4, 1, 2, 0, 1, 1),
		redBN:  s.BatchNorm("fr.bn", 8, true),
		fc:     s.Linear("classifier", 8, 10),
	}
}

func (m *tinyNet) loss(g *nn.Graph, x *nn.Tensor, labels []int32, rng *rand.Rand) *nn.Tensor {
	h := m.stemBN.Forward(g, m.stem.Forward(g, x))
	a := m.bn.Forward(g, m.pw.Forward(g, m.dw.Forward(g, g.ReLU(h))))
	p := g.MaxPool(h, 3, 1, 1)
	q := g.AvgPool(h, 3, 1, 1, false)
	s := g.MaskedSum([]*nn.Tensor{a, p, q, h}, []float32{1, 1, 0, 1})
	s = g.DropPath(s, 0.2, rng)
	r := g.ReLU(s)
	f := m.redBN.Forward(g, g.Concat(m.red1.Forward(g, r), m.red2.Forward(g, g.Shift(r, 1, 1))))
	f = g.Add(f, g.Scale(g.SliceChannels(f, 0, 8), 0.5))
	logits := m.fc.Forward(g, g.Flatten(g.GlobalAvgPool(f)))
	return g.CrossEntropy(logits, labels, 0.1)
}

// TestParityTrainingStep runs three SGD steps of tinyNet on both backends
// and compares the losses and every parameter, BN statistic and momentum buffer.
func TestParityTrainingStep(t *testing.T) { testTrainingStep(t, gpuBackend(t), parityTol) }

// testTrainingStep runs three SGD steps of tinyNet on g and on the CPU and
// requires every loss, parameter, statistic and momentum to agree within tol.
func testTrainingStep(t *testing.T, g *Backend, tol float64) {
	c := cpu.New(1)
	nets := [2]*tinyNet{newTinyNet(g), newTinyNet(c)}
	graphs := [2]*nn.Graph{nn.NewGraph(g), nn.NewGraph(c)}
	opts := [2]*nn.SGD{nn.NewSGD(nets[0].scope.Params(), 0.05, 0.9, 3e-4), nn.NewSGD(nets[1].scope.Params(), 0.05, 0.9, 3e-4)}
	// fp16 trains with loss scaling, as the trainers do; no step may
	// overflow at the initial scale.
	var scalers [2]*nn.LossScaler
	if g.opts.Precision.NeedsLossScaling() {
		scalers[0] = nn.NewLossScaler()
	}
	dataRNG := rand.New(rand.NewPCG(3, 4))
	n := 8
	x := make([]float32, n*3*12*12)
	labels := make([]int32, n)
	for step := 0; step < 3; step++ {
		randomBatch(dataRNG, x, labels)
		var losses [2]float32
		for i := range 2 {
			gr := graphs[i]
			gr.Reset()
			gr.Training = true
			opts[i].ZeroGrad()
			loss := nets[i].loss(gr, gr.FromHost(x, n, 3, 12, 12), labels, rand.New(rand.NewPCG(uint64(step), 9)))
			scalers[i].Backward(gr, loss)
			if !scalers[i].Unscale(nets[i].scope.Params()) {
				t.Fatalf("step %d overflowed at loss scale %v", step, scalers[i].Scale*2)
			}
			nn.ClipGradNorm(nets[i].scope.Params(), 5)
			opts[i].Step()
			losses[i] = loss.Item()
		}
		if err := compare([]float32{losses[0]}, []float32{losses[1]}, tol); err != nil {
			t.Errorf("step %d loss: %v", step, err)
		}
	}
	// Evaluation mode (BN on running statistics, no drop path) and its
	// gradient, as perturb-val's accuracy and fine-tuning see them.
	var evalLoss [2]float32
	var grads [2][][]float32
	for i := range 2 {
		gr := graphs[i]
		gr.Reset()
		gr.Training = false
		opts[i].ZeroGrad()
		loss := nets[i].loss(gr, gr.FromHost(x, n, 3, 12, 12), labels, rand.New(rand.NewPCG(5, 9)))
		gr.Backward(loss)
		evalLoss[i] = loss.Item()
		for _, p := range nets[i].scope.Params() {
			grads[i] = append(grads[i], p.Grad.Host())
		}
	}
	if err := compare([]float32{evalLoss[0]}, []float32{evalLoss[1]}, tol); err != nil {
		t.Errorf("evaluation loss: %v", err)
	}
	for j, p := range nets[1].scope.Params() {
		if err := compare(grads[0][j], grads[1][j], tol); err != nil {
			t.Errorf("evaluation-mode gradient of %s: %v", p.Name, err)
		}
	}
	sg, sc := nets[0].scope.StateDict(), nets[1].scope.StateDict()
	for i := range sc {
		if sc[i].F32 == nil {
			continue
		}
		if err := compare(sg[i].F32, sc[i].F32, tol); err != nil {
			t.Errorf("after 3 steps, %s: %v", sc[i].Name, err)
		}
	}
	og, oc := opts[0].State(), opts[1].State()
	for i := range oc {
		if oc[i].F32 != nil {
			if err := compare(og[i].F32, oc[i].F32, tol); err != nil {
				t.Errorf("after 3 steps, optimizer %s: %v", oc[i].Name, err)
			}
		}
	}
}

// TestSymbolsResolve is the first GPU check: with the libraries present,
// every bound symbol must resolve (a missing one fails, listing all).
func TestSymbolsResolve(t *testing.T) {
	l, err := OpenLibraries(Find(FindOptions{Dir: os.Getenv(EnvLibDir)}))
	if err != nil {
		if os.Getenv("PERTNAS_REQUIRE_GPU") == "1" {
			t.Fatal(err)
		}
		t.Skipf("NVIDIA libraries not found: %s", summary(err.Error()))
	}
	if err := l.CheckSymbols(); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, syms := range BoundSymbols() {
		n += len(syms)
	}
	t.Logf("all %d bound symbols resolve; libraries: %q", n, l.Paths)
}

// TestAvailable: Available answers either way with a reason.
func TestAvailable(t *testing.T) {
	ok, why := Available()
	switch {
	case ok && !strings.HasPrefix(why, "cuda:0 "):
		t.Errorf("available, but the description is %q", why)
	case !ok && why == "":
		t.Error("unavailable without a reason")
	case !ok && strings.Contains(why, "cannot load the NVIDIA libraries") && !strings.Contains(why, "libcuda.so.1"):
		t.Errorf("the reason does not name the driver library: %q", why)
	}
	t.Logf("Available() = %v: %.200s", ok, why)
}

// tf32Tol is the agreement expected with Options.TF32: inputs rounded to a
// 10-bit mantissa (relative error 2^-11 each), fp32 accumulation.
const tf32Tol = 5e-3

// TestParityTF32 runs convolutions and a GEMM with TF32 allowed and checks
// them against the CPU at tf32Tol, the tolerance Options.TF32 documents.
func TestParityTF32(t *testing.T) {
	gpuBackend(t) // skip or fail as the other parity tests
	g, err := NewBackend(0, Options{LibDir: os.Getenv(EnvLibDir), TF32: true})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	p := newPair(t, g)
	for _, d := range convCases {
		d.OH, d.OW = outSize(d.H, d.K, d.Stride, d.Pad, d.Dilation), outSize(d.W, d.K, d.Stride, d.Pad, d.Dilation)
		x, w := p.randn(d.N*d.C*d.H*d.W), p.randn(d.OC*d.C/d.Groups*d.K*d.K)
		y, dy := p.zeros(d.N*d.OC*d.OH*d.OW), p.randn(d.N*d.OC*d.OH*d.OW)
		dx, dw := p.zeros(x.c.Len()), p.zeros(w.c.Len())
		p.g.Conv2DForward(d, x.g, w.g, y.g)
		p.c.Conv2DForward(d, x.c, w.c, y.c)
		p.g.Conv2DBackwardData(d, dy.g, w.g, dx.g, true)
		p.c.Conv2DBackwardData(d, dy.c, w.c, dx.c, true)
		p.g.Conv2DBackwardFilter(d, x.g, dy.g, dw.g)
		p.c.Conv2DBackwardFilter(d, x.c, dy.c, dw.c)
		for _, c := range []struct {
			name string
			b    bufs
		}{{"forward", y}, {"backward data", dx}, {"backward filter", dw}} {
			gh, ch := make([]float32, c.b.c.Len()), make([]float32, c.b.c.Len())
			p.g.Download(gh, c.b.g)
			p.c.Download(ch, c.b.c)
			if err := compare(gh, ch, tf32Tol); err != nil {
				t.Errorf("TF32 conv %s %+v: %v", c.name, d, err)
			}
		}
	}
	m, n, k := 64, 48, 256
	a, b, c := p.randn(m*k), p.randn(k*n), p.zeros(m*n)
	p.g.MatMul(false, true, m, n, k, a.g, b.g, false, c.g)
	p.c.MatMul(false, true, m, n, k, a.c, b.c, false, c.c)
	gh, ch := make([]float32, m*n), make([]float32, m*n)
	p.g.Download(gh, c.g)
	p.c.Download(ch, c.c)
	if err := compare(gh, ch, tf32Tol); err != nil {
		t.Errorf("TF32 MatMul: %v", err)
	}
}

// randomBatch fills x with standard normal inputs and labels with classes
// of tinyNet's 10, from rng.
func randomBatch(rng *rand.Rand, x []float32, labels []int32) {
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	for i := range labels {
		labels[i] = int32(rng.IntN(10))
	}
}

// tinyTrainingBits runs three SGD steps of tinyNet on b (fixed data and
// seeds) and returns the bits of every state-dict value afterwards.
func tinyTrainingBits(b nn.Backend) []uint32 {
	net := newTinyNet(b)
	g := nn.NewGraph(b)
	opt := nn.NewSGD(net.scope.Params(), 0.05, 0.9, 3e-4)
	dataRNG := rand.New(rand.NewPCG(3, 4))
	n := 32
	x := make([]float32, n*3*12*12)
	labels := make([]int32, n)
	for step := 0; step < 3; step++ {
		randomBatch(dataRNG, x, labels)
		g.Reset()
		g.Training = true
		opt.ZeroGrad()
		loss := net.loss(g, g.FromHost(x, n, 3, 12, 12), labels, rand.New(rand.NewPCG(uint64(step), 9)))
		g.Backward(loss)
		nn.ClipGradNorm(net.scope.Params(), 5)
		opt.Step()
	}
	var bits []uint32
	for _, t := range net.scope.StateDict() {
		for _, v := range t.F32 {
			bits = append(bits, math.Float32bits(v))
		}
	}
	return bits
}

// TestParityDeterministic: with Options.Deterministic, two training runs
// on fresh backends (each searching its algorithms anew) end with the same
// bits, in fp32 and TF32, with cuDNN's depthwise algorithms and with the
// own kernels.
func TestParityDeterministic(t *testing.T) {
	gpuBackend(t) // skip or fail as the other parity tests
	for _, o := range []Options{
		{Deterministic: true},
		{Deterministic: true, TF32: true, Depthwise: DepthwiseCudnn},
	} {
		o.LibDir = os.Getenv(EnvLibDir)
		var runs [2][]uint32
		var convs string
		for i := range runs {
			b, err := NewBackend(0, o)
			if err != nil {
				t.Fatal(err)
			}
			runs[i] = tinyTrainingBits(b)
			convs = b.ConvSummary()
			b.Close()
		}
		same := len(runs[0]) == len(runs[1])
		diff := 0
		for i := range runs[0] {
			if same && runs[0][i] != runs[1][i] {
				diff++
			}
		}
		if !same || diff > 0 {
			t.Errorf("%+v: two deterministic runs differ in %d of %d values", o, diff, len(runs[0]))
		}
		t.Logf("deterministic %+v: two runs, %d values, same bits %v; %s", o, len(runs[0]), same && diff == 0, convs)
	}
}

// TestLibraryVersions logs which libraries were loaded, their CUDA
// versions and how the kernels were loaded (the first line gpu-check shows).
func TestLibraryVersions(t *testing.T) {
	b := gpuBackend(t)
	info := b.Info()
	if info.Versions == "" || info.Kernels == "" {
		t.Errorf("device info without versions or kernel image: %+v", info)
	}
	t.Logf("versions: %s; kernels %s; cuDNN %d", info.Versions, info.Kernels, info.CudnnVersion)
}
