//go:build unix

package darts

import (
	"math/rand/v2"
	"syscall"
	"testing"

	"pertnas/formats/genotype"
	"pertnas/nn"
	"pertnas/nn/cpu"
)

// The two reference networks of the CPU engine (issue 3), trained on random
// 32x32 inputs, batch 64, 10 classes, SGD lr 0.025 momentum 0.9 weight decay
// 3e-4. scripts/bench-cpu.sh runs these next to the PyTorch equivalent
// (scripts/bench_cpu_torch.py). Metrics: images/s and the achieved GFLOP/s,
// counting a training step as 3x the forward multiply-adds, 2 FLOPs each,
// and images per second of process CPU time (user+system, all threads):
// on a shared machine that one is diluted less by other processes.

const (
	benchBatch   = 64
	benchClasses = 10
)

// search5Config: every edge {sep_conv_3x3, none}; edge 0 all 7 ops + none.
func search5Config() SearchConfig {
	var c SearchConfig
	for e := range c.Edges {
		c.Edges[e] = genotype.EdgeOps{Ops: genotype.OpSetOf(SepConv3x3), None: true}
	}
	c.Edges[0] = FullConfig(true).Edges[0]
	return c
}

// benchData returns a fixed random batch and its labels.
func benchData() ([]float32, []int32) {
	rng := rand.New(rand.NewPCG(7, 7))
	x := make([]float32, benchBatch*3*32*32)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	y := make([]int32, benchBatch)
	for i := range y {
		y[i] = int32(rng.IntN(benchClasses))
	}
	return x, y
}

// benchTrain times training steps: forward returns the loss of one batch.
func benchTrain(b *testing.B, be nn.Backend, params []*nn.Param, madds int64, forward func(g *nn.Graph, x *nn.Tensor, labels []int32) *nn.Tensor) {
	data, labels := benchData()
	opt := nn.NewSGD(params, 0.025, 0.9, 3e-4)
	g := nn.NewGraph(be)
	g.Training = true
	step := func() {
		g.Reset()
		loss := forward(g, g.FromHost(data, benchBatch, 3, 32, 32), labels)
		opt.ZeroGrad()
		g.Backward(loss)
		opt.Step()
	}
	step() // warm-up: the first step allocates the graph's buffers
	b.ResetTimer()
	cpu0 := processCPUSeconds()
	for b.Loop() {
		step()
	}
	cpu := processCPUSeconds() - cpu0
	sec := b.Elapsed().Seconds()
	b.ReportMetric(float64(benchBatch*b.N)/sec, "images/s")
	b.ReportMetric(float64(benchBatch*b.N)/cpu, "images/cpu-s")
	b.ReportMetric(6*float64(madds)*benchBatch*float64(b.N)/sec/1e9, "GFLOP/s")
}

// processCPUSeconds returns the user+system CPU time of the process so far.
func processCPUSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// BenchmarkSearch5Train: the PertNAS expansion-phase search network, 5 cells,
// C=16, BN affine=false in the cells.
func BenchmarkSearch5Train(b *testing.B) {
	be := cpu.New(0)
	net, err := NewSearchNetwork(be, search5Config(), SearchOptions{C: 16, Layers: 5, Classes: benchClasses}, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		b.Fatal(err)
	}
	benchTrain(b, be, net.Params(), net.MultAdds(32, 32), func(g *nn.Graph, x *nn.Tensor, labels []int32) *nn.Tensor {
		return g.CrossEntropy(net.Forward(g, x), labels, 0)
	})
}

// BenchmarkEval20Train: the CIFAR evaluation network, 20 cells, C=36,
// PERTNAS_EVOLUTIONARY cell, auxiliary head (loss weight 0.4), no drop path.
func BenchmarkEval20Train(b *testing.B) {
	be := cpu.New(0)
	geno, ok := genotype.Named("PERTNAS_EVOLUTIONARY")
	if !ok {
		b.Fatal("genotype PERTNAS_EVOLUTIONARY missing")
	}
	net, err := NewCIFARNetwork(be, geno, CIFAROptions(benchClasses), rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		b.Fatal(err)
	}
	benchTrain(b, be, net.Params(), net.MultAdds(32, 32), func(g *nn.Graph, x *nn.Tensor, labels []int32) *nn.Tensor {
		logits, aux := net.Forward(g, x, nil)
		return g.Add(g.CrossEntropy(logits, labels, 0), g.Scale(g.CrossEntropy(aux, labels, 0), 0.4))
	})
}
