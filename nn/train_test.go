package nn_test

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"pertnas/nn"
	"pertnas/nn/cpu"
	"pertnas/train/schedule"
)

// smallNet is a conv net using most ops: stem conv + affine BN, ReLU,
// sep-conv-like depthwise + pointwise + plain BN, a max-pool branch, a
// factorized reduce (1x1 stride-2 convs, shift, concat), average pooling,
// drop path, global pool, linear and cross-entropy.
type smallNet struct {
	sc       *nn.Scope
	stem     *nn.Conv2D
	stemBN   *nn.BatchNorm
	dw, pw   *nn.Conv2D
	bn       *nn.BatchNorm
	fr1, fr2 *nn.Conv2D
	frBN     *nn.BatchNorm
	fc       *nn.Linear
	dropSrc  *rand.PCG
	dropRNG  *rand.Rand
}

func newSmallNet(be nn.Backend, seed uint64) *smallNet {
	sc := nn.NewScope(be, rand.New(rand.NewPCG(seed, 1)))
	n := &smallNet{sc: sc}
	n.stem = sc.Conv2D("stem.0", 3, 8, 3, 1, 1, 1, 1)
	n.stemBN = sc.BatchNorm("stem.1", 8, true)
	op := sc.Sub("op")
	n.dw = op.Conv2D("1", 8, 8, 3, 1, 1, 1, 8)
	n.pw = op.Conv2D("2", 8, 8, 1, 1, 0, 1, 1)
	n.bn = op.BatchNorm("3", 8, false)
	fr := sc.Sub("reduce")
	n.fr1 = fr.Conv2D("conv_1", 8, 8, 1, 2, 0, 1, 1)
	n.fr2 = fr.Conv2D("conv_2", 8, 8, 1, 2, 0, 1, 1)
	n.frBN = fr.BatchNorm("bn", 16, true)
	n.fc = sc.Linear("classifier", 16, 10)
	n.dropSrc = rand.NewPCG(seed, 2)
	n.dropRNG = rand.New(n.dropSrc)
	return n
}

func (n *smallNet) loss(g *nn.Graph, x *nn.Tensor, labels []int32) *nn.Tensor {
	s := n.stemBN.Forward(g, n.stem.Forward(g, x))
	a := n.bn.Forward(g, n.pw.Forward(g, n.dw.Forward(g, g.ReLU(s))))
	a = g.DropPath(a, 0.2, n.dropRNG)
	b := g.MaxPool(s, 3, 1, 1)
	h := g.MaskedSum([]*nn.Tensor{a, b, g.Zeros(s.Shape()...)}, []float32{1, 1, 0})
	r := g.ReLU(h)
	f := n.frBN.Forward(g, g.Concat(n.fr1.Forward(g, r), n.fr2.Forward(g, g.Shift(r, 1, 1))))
	f = g.AvgPool(f, 3, 1, 1, false)
	logits := n.fc.Forward(g, g.Flatten(g.GlobalAvgPool(f)))
	return g.CrossEntropy(logits, labels, 0.1)
}

// batch returns deterministic inputs for step i.
func batch(i int) ([]float32, []int32) {
	rng := rand.New(rand.NewPCG(99, uint64(i)))
	x := make([]float32, 16*3*16*16)
	for j := range x {
		x[j] = float32(rng.NormFloat64())
	}
	labels := make([]int32, 16)
	for j := range labels {
		labels[j] = int32(rng.IntN(10))
	}
	return x, labels
}

type trainer struct {
	net *smallNet
	g   *nn.Graph
	opt *nn.SGD
}

func newTrainer(be nn.Backend) *trainer {
	net := newSmallNet(be, 42)
	return &trainer{net: net, g: nn.NewGraph(be), opt: nn.NewSGD(net.sc.Params(), 0.05, 0.9, 3e-4)}
}

func (tr *trainer) step(i int) float32 {
	x, labels := batch(i % 2) // two batches, so 20 steps can fit them
	tr.g.Reset()
	tr.net.dropSrc.Seed(7, uint64(i)) // drop-path masks depend on the step only
	tr.opt.ZeroGrad()
	loss := tr.net.loss(tr.g, tr.g.FromHost(x, 16, 3, 16, 16), labels)
	tr.g.Backward(loss)
	nn.ClipGradNorm(tr.opt.Params(), 5)
	tr.opt.LR = float32(schedule.Cosine(0.05, 0, i, 20))
	tr.opt.Step()
	return loss.Item()
}

func run20(threads int) []uint32 {
	be := cpu.New(threads)
	defer be.Close()
	tr := newTrainer(be)
	var bits []uint32
	for i := 0; i < 20; i++ {
		bits = append(bits, math.Float32bits(tr.step(i)))
	}
	for _, p := range tr.net.sc.Params() {
		for _, v := range p.Value.Host() {
			bits = append(bits, math.Float32bits(v))
		}
	}
	return bits
}

// TestDeterminismAcrossThreads trains 20 SGD steps with GOMAXPROCS 1 and 2
// and backend threads 1, 2 and 3: losses and final weights must be
// bit-identical.
func TestDeterminismAcrossThreads(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	runtime.GOMAXPROCS(1)
	ref := run20(1)
	for _, procs := range []int{1, 2} {
		runtime.GOMAXPROCS(procs)
		for _, threads := range []int{0, 2, 3} {
			got := run20(threads)
			for i := range ref {
				if got[i] != ref[i] {
					t.Fatalf("GOMAXPROCS=%d threads=%d: value %d differs: %#x vs %#x", procs, threads, i, got[i], ref[i])
				}
			}
		}
	}
	first, last := math.Float32frombits(ref[0]), math.Float32frombits(ref[18])
	if !(last < first) {
		t.Errorf("loss did not decrease over 20 steps: %v -> %v", first, last)
	}
}

// TestSnapshotRestore: training on from a restored snapshot repeats the
// same losses and weights bit for bit.
func TestSnapshotRestore(t *testing.T) {
	tr := newTrainer(cpu.New(2))
	for i := 0; i < 3; i++ {
		tr.step(i)
	}
	sn := nn.TakeSnapshot(tr.net.sc, tr.opt)
	var first []float32
	for i := 3; i < 6; i++ {
		first = append(first, tr.step(i))
	}
	after := tr.net.sc.StateDict()
	sn.Restore(tr.net.sc, tr.opt)
	for i := 3; i < 6; i++ {
		if l := tr.step(i); math.Float32bits(l) != math.Float32bits(first[i-3]) {
			t.Fatalf("step %d after restore: loss %v, want %v", i, l, first[i-3])
		}
	}
	again := tr.net.sc.StateDict()
	for i := range after {
		for j := range after[i].F32 {
			if math.Float32bits(after[i].F32[j]) != math.Float32bits(again[i].F32[j]) {
				t.Fatalf("%s[%d] differs after replay", after[i].Name, j)
			}
		}
		if len(after[i].I64) > 0 && after[i].I64[0] != again[i].I64[0] {
			t.Fatalf("%s differs after replay", after[i].Name)
		}
	}
}

// TestSteadyStateAllocations bounds the heap allocations of a training step
// once the graph's memory has been reused.
func TestSteadyStateAllocations(t *testing.T) {
	be := cpu.New(1)
	tr := newTrainer(be)
	tr.step(0)
	tr.step(1)
	allocs := testing.AllocsPerRun(5, func() { tr.step(2) })
	t.Logf("allocations per step: %.0f", allocs)
	if allocs > 300 && !raceEnabled {
		t.Errorf("%.0f allocations per training step, want <= 300", allocs)
	}
}

// BenchmarkSmallNetStep: one training step of smallNet (batch 16, 16x16).
func BenchmarkSmallNetStep(b *testing.B) {
	tr := newTrainer(cpu.New(0))
	tr.step(0)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tr.step(i % 20)
	}
	b.ReportMetric(16*float64(b.N)/b.Elapsed().Seconds(), "images/s")
}
