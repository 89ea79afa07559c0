// Package gpubench times training steps of the two reference networks on the
// GPU backend. scripts/gpu-check.sh runs these next to the same networks in
// PyTorch (scripts/bench_gpu_torch.py) and prints the ratio.
//
//	go test -c -o gpubench.test ./cuda/gpubench
//	./gpubench.test -test.run '^$' -test.bench . -test.benchtime 20x
//
// Networks (as in darts/bench_test.go, at the GPU batch sizes):
//   - Search5: the PertNAS expansion-phase search network, 5 cells, C=16,
//     every edge {sep_conv_3x3, none} and edge 0 all 7 ops + none, batch 256;
//   - Eval20: the CIFAR evaluation network, 20 cells, C=36, the
//     PERTNAS_EVOLUTIONARY cell, auxiliary head (weight 0.4), batch 128.
//
// Inputs are random 32x32 images with 10 classes; SGD lr 0.025, momentum 0.9,
// weight decay 3e-4. Each benchmark runs once per precision in
// PERTNAS_BENCH_PRECISIONS (space-separated fp32, tf32, fp16, bf16; default
// "tf32 fp16": PyTorch's eager default allows TF32 in cuDNN convolutions,
// and PertNAS trained with AMP), as sub-benchmarks named by precision; fp16
// trains with dynamic loss scaling.
// PERTNAS_BENCH_DEPTHWISE=auto|kernel|cudnn picks Options.Depthwise (auto:
// the faster of the two per shape, measured on first use).
// The benchmarks skip when no GPU is usable.
package gpubench

import (
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"pertnas/cuda"
	"pertnas/darts"
	"pertnas/formats/genotype"
	"pertnas/nn"
)

const classes = 10

// precisions lists the precisions to benchmark.
func precisions() []string {
	if p := strings.Fields(os.Getenv("PERTNAS_BENCH_PRECISIONS")); len(p) > 0 {
		return p
	}
	return []string{"tf32", "fp16"}
}

func backend(b *testing.B, precision string) *cuda.Backend {
	b.Helper()
	if ok, why := cuda.AvailableIn(os.Getenv(cuda.EnvLibDir)); !ok {
		b.Skipf("no usable GPU: %s", why)
	}
	prec, tf32, err := cuda.ParsePrecision(precision)
	if err != nil {
		b.Fatal(err)
	}
	opts := cuda.Options{LibDir: os.Getenv(cuda.EnvLibDir), Precision: prec, TF32: tf32}
	switch m := os.Getenv("PERTNAS_BENCH_DEPTHWISE"); m {
	case "", "auto":
	case "kernel":
		opts.Depthwise = cuda.DepthwiseKernel
	case "cudnn":
		opts.Depthwise = cuda.DepthwiseCudnn
	default:
		b.Fatalf("PERTNAS_BENCH_DEPTHWISE=%q: want auto, kernel or cudnn", m)
	}
	be, err := cuda.NewBackend(0, opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(be.Close)
	return be
}

func data(batch int) ([]float32, []int32) {
	rng := rand.New(rand.NewPCG(7, 7))
	x := make([]float32, batch*3*32*32)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	y := make([]int32, batch)
	for i := range y {
		y[i] = int32(rng.IntN(classes))
	}
	return x, y
}

// train times SGD steps; the loss is read back every step, as a training
// loop that logs it does.
func train(b *testing.B, be *cuda.Backend, batch int, params []*nn.Param, forward func(g *nn.Graph, x *nn.Tensor, labels []int32) *nn.Tensor) {
	x, labels := data(batch)
	opt := nn.NewSGD(params, 0.025, 0.9, 3e-4)
	var scaler *nn.LossScaler
	if be.Precision().NeedsLossScaling() {
		scaler = nn.NewLossScaler()
	}
	g := nn.NewGraph(be)
	g.Training = true
	var loss float32
	step := func() {
		g.Reset()
		l := forward(g, g.FromHost(x, batch, 3, 32, 32), labels)
		opt.ZeroGrad()
		scaler.Backward(g, l)
		if scaler.Unscale(params) {
			opt.Step()
		}
		loss = l.Item()
	}
	for range 3 { // warm-up: algorithm search, buffer allocation
		step()
	}
	for b.Loop() { // b.Loop starts the timer on its first call
		step()
	}
	if err := be.Synchronize(); err != nil {
		b.Fatal(err)
	}
	b.Logf("%s: %s", be.Info(), be.ConvSummary())
	b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "images/s")
	b.ReportMetric(float64(loss), "loss")
}

func BenchmarkSearch5Train(b *testing.B) {
	for _, p := range precisions() {
		b.Run(p, func(b *testing.B) { search5(b, backend(b, p)) })
	}
}

func search5(b *testing.B, be *cuda.Backend) {
	var cfg darts.SearchConfig
	for e := range cfg.Edges {
		cfg.Edges[e] = genotype.EdgeOps{Ops: genotype.OpSetOf(darts.SepConv3x3), None: true}
	}
	cfg.Edges[0] = darts.FullConfig(true).Edges[0]
	net, err := darts.NewSearchNetwork(be, cfg, darts.SearchOptions{C: 16, Layers: 5, Classes: classes}, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		b.Fatal(err)
	}
	train(b, be, 256, net.Params(), func(g *nn.Graph, x *nn.Tensor, labels []int32) *nn.Tensor {
		return g.CrossEntropy(net.Forward(g, x), labels, 0)
	})
}

func BenchmarkEval20Train(b *testing.B) {
	for _, p := range precisions() {
		b.Run(p, func(b *testing.B) { eval20(b, backend(b, p)) })
	}
}

func eval20(b *testing.B, be *cuda.Backend) {
	geno, ok := genotype.Named("PERTNAS_EVOLUTIONARY")
	if !ok {
		b.Fatal("genotype PERTNAS_EVOLUTIONARY missing")
	}
	net, err := darts.NewCIFARNetwork(be, geno, darts.CIFAROptions(classes), rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		b.Fatal(err)
	}
	train(b, be, 128, net.Params(), func(g *nn.Graph, x *nn.Tensor, labels []int32) *nn.Tensor {
		logits, aux := net.Forward(g, x, nil)
		return g.Add(g.CrossEntropy(logits, labels, 0), g.Scale(g.CrossEntropy(aux, labels, 0), 0.4))
	})
}
