package supernet

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"pertnas/formats/checkpoint"
	"pertnas/formats/dataset"
	"pertnas/nn"
	"pertnas/nn/cpu"
	"pertnas/pertnas"
	"pertnas/train"
)

// The tests run a 3-cell, 4-channel search network on 16x16 synthetic
// images: 320 training images of which 64 are held out, batches of 16.

func tinyOptions(dir string) Options {
	return Options{Data: dir, Layers: 3, Channels: 4, BatchSize: 16, Momentum: 0.9, WeightDecay: 3e-4,
		ValSource: "train", ValFraction: 0.2, SplitSeed: 7, Threads: 1, LoaderWorkers: 1}
}

// tinyBuilder writes the dataset into a temporary folder and opens it.
func tinyBuilder(t testing.TB, edit func(*Options)) *Builder {
	t.Helper()
	dir := t.TempDir()
	writeDataset(t, dir, 320, 64, 16, 3)
	o := tinyOptions(dir)
	if edit != nil {
		edit(&o)
	}
	b, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// expandCell is a member's cell with edge e expanded (phase 2's networks).
func expandCell(e int) pertnas.EdgeConfig {
	c := pertnas.InitialCell(pertnas.Smoke(), 0)
	c[e] = pertnas.EdgeOps{Ops: pertnas.AllOps, None: true}
	return c
}

func build(t testing.TB, b *Builder, edges pertnas.EdgeConfig, seed uint64) *Net {
	t.Helper()
	n, err := b.build(pertnas.BuildRequest{Edges: edges, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// state is everything a network holds, on the host: its state_dict, the
// optimiser state and the masks.
type state struct {
	model, opt []checkpoint.Tensor
	mask       masks
}

func stateOf(n *Net) state {
	return state{model: n.net.Scope().StateDict(), opt: n.opt.State(), mask: n.masks()}
}

// sameState reports the first tensor that differs in any bit.
func sameState(t *testing.T, what string, a, b state) {
	t.Helper()
	if a.mask != b.mask {
		t.Fatalf("%s: masks differ", what)
	}
	for _, pair := range [][2][]checkpoint.Tensor{{a.model, b.model}, {a.opt, b.opt}} {
		x, y := pair[0], pair[1]
		if len(x) != len(y) {
			t.Fatalf("%s: %d tensors vs %d", what, len(x), len(y))
		}
		for i := range x {
			if x[i].Name != y[i].Name || !slices.Equal(x[i].I64, y[i].I64) || !bitsEqual(x[i].F32, y[i].F32) {
				t.Fatalf("%s: tensor %s differs", what, x[i].Name)
			}
		}
	}
}

func bitsEqual(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// run is a fixed sequence of work on a network: two epochs, an accuracy,
// a perturbation-style fine-tune; it returns every number it saw.
func run(t *testing.T, n *Net) []float64 {
	t.Helper()
	ctx := context.Background()
	var out []float64
	for k, lr := range []float64{0.1, 0.05} {
		st, err := n.TrainEpoch(ctx, 100+uint64(k), lr, nil)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, st.Loss, st.Acc, float64(st.Steps))
	}
	a, err := n.Accuracy(ctx)
	if err != nil {
		t.Fatal(err)
	}
	loss, err := n.FineTune(ctx, 200, 5, 0.01, nil)
	if err != nil {
		t.Fatal(err)
	}
	return append(out, a, loss)
}

func TestSplitAndLimits(t *testing.T) {
	b := tinyBuilder(t, nil)
	tr, va := b.Split()
	if len(tr) != 256 || len(va) != 64 {
		t.Fatalf("split %d/%d, want 256/64", len(tr), len(va))
	}
	seen := map[int]bool{}
	for _, id := range append(tr, va...) {
		if seen[id] || id < 0 || id >= 320 {
			t.Fatalf("id %d repeated or out of range", id)
		}
		seen[id] = true
	}
	if b.Classes() != 10 {
		t.Fatalf("classes %d from the manifest, want 10", b.Classes())
	}
	if d := b.String(); !strings.Contains(d, "16x16 images: 256 training, 64 validation") {
		t.Fatalf("description %q", d)
	}
	lim := tinyBuilder(t, func(o *Options) { o.TrainImages, o.ValImages = 48, 20 })
	tr2, va2 := lim.Split()
	if !slices.Equal(tr2, tr[:48]) || !slices.Equal(va2, va[:20]) {
		t.Fatal("limits do not keep the first ids of the split")
	}
	test := tinyBuilder(t, func(o *Options) { o.ValSource = "test" })
	tr3, va3 := test.Split()
	if len(tr3) != 320 || len(va3) != 64 {
		t.Fatalf("val source test: split %d/%d, want 320/64", len(tr3), len(va3))
	}
}

func TestTrainingLearns(t *testing.T) {
	b := tinyBuilder(t, func(o *Options) { o.Channels = 8 })
	n := build(t, b, expandCell(4), 1)
	ctx := context.Background()
	var losses, accs []float64
	ticks := 0
	const epochs = 6
	for k := range epochs {
		st, err := n.TrainEpoch(ctx, uint64(k), 0.01, func(step, steps int) {
			ticks++
			if steps != 16 || step < 1 || step > steps {
				t.Errorf("tick %d of %d", step, steps)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		if st.Steps != 16 || !(st.Acc >= 0 && st.Acc <= 1) {
			t.Fatalf("epoch %d: %+v", k, st)
		}
		losses, accs = append(losses, st.Loss), append(accs, st.Acc)
	}
	a, err := n.Accuracy(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("losses %.4f, training accuracy %.3f, validation accuracy %.3f", losses, accs, a)
	if ticks != 16*epochs {
		t.Fatalf("%d ticks, want %d", ticks, 16*epochs)
	}
	if !(losses[epochs-1] < 0.9*losses[0]) {
		t.Fatalf("loss does not decrease: %v", losses)
	}
	if !(accs[epochs-1] > 0.2) {
		t.Fatalf("training accuracy %.3f after %d epochs, want > 0.2 (10 classes)", accs[epochs-1], epochs)
	}
}

func TestSameSeedSameNumbers(t *testing.T) {
	b := tinyBuilder(t, nil)
	x := run(t, build(t, b, expandCell(9), 5))
	y := run(t, build(t, b, expandCell(9), 5))
	if !slices.Equal(x, y) {
		t.Fatalf("same seeds, different numbers:\n%v\n%v", x, y)
	}
	// Another thread count changes nothing; another weight seed does.
	b2 := tinyBuilder(t, func(o *Options) { o.Threads, o.LoaderWorkers = 2, 3 })
	if z := run(t, build(t, b2, expandCell(9), 5)); !slices.Equal(x, z) {
		t.Fatalf("2 threads give other numbers:\n%v\n%v", x, z)
	}
	if z := run(t, build(t, b, expandCell(9), 6)); z[0] == x[0] {
		t.Fatalf("another weight seed gives the same loss %v", z[0])
	}
}

func TestDataSeedDrivesBatches(t *testing.T) {
	b := tinyBuilder(t, nil)
	ctx := context.Background()
	n := build(t, b, expandCell(0), 1)
	snap, err := n.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	l1, _ := n.FineTune(ctx, 11, 3, 0.05, nil)
	n.Restore(snap)
	l2, _ := n.FineTune(ctx, 11, 3, 0.05, nil)
	n.Restore(snap)
	l3, _ := n.FineTune(ctx, 12, 3, 0.05, nil)
	if l1 != l2 || l1 == l3 {
		t.Fatalf("fine-tune losses %v, %v (same seed), %v (other seed)", l1, l2, l3)
	}
	// Fine-tuning past the end of the data's epoch (16 batches) continues
	// into its next epoch: 20 steps = epoch 0 then 4 batches of epoch 1.
	n.Restore(snap)
	if _, err := n.FineTune(ctx, 11, 20, 0.05, nil); err != nil {
		t.Fatal(err)
	}
	after20 := stateOf(n)
	n.Restore(snap)
	if _, err := n.FineTune(ctx, 11, 16, 0.05, nil); err != nil {
		t.Fatal(err)
	}
	l, err := b.trainLoader(11)
	if err != nil {
		t.Fatal(err)
	}
	it := l.Epoch(1)
	s := n.step()
	s.Opt.LR = 0.05
	for k := range 4 {
		if !it.Next() {
			t.Fatal(it.Err())
		}
		if _, err := s.Train(it.Batch(), n.forward, -1, k); err != nil {
			t.Fatal(err)
		}
	}
	it.Close()
	sameState(t, "20 steps vs 16 + 4 of the next epoch", after20, stateOf(n))
}

func TestSnapshotRestoreExact(t *testing.T) {
	b := tinyBuilder(t, nil)
	ctx := context.Background()
	n := build(t, b, expandCell(6), 2)
	if _, err := n.TrainEpoch(ctx, 1, 0.1, nil); err != nil {
		t.Fatal(err)
	}
	before := stateOf(n)
	a0, _ := n.Accuracy(ctx)
	if a, _ := n.Accuracy(ctx); a != a0 {
		t.Fatalf("accuracy changed the network: %v then %v", a0, a)
	}
	sameState(t, "accuracy", before, stateOf(n))
	snap, err := n.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	ops := expandCell(6)[6].Ops.List()
	for _, op := range ops[:3] {
		if err := n.SetMask(6, op, false); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := n.FineTune(ctx, 9, 4, 0.05, nil); err != nil {
		t.Fatal(err)
	}
	n.ResetOptimizer()
	if _, err := n.TrainEpoch(ctx, 3, 0.1, nil); err != nil {
		t.Fatal(err)
	}
	changed := stateOf(n)
	if bitsEqual(changed.model[0].F32, before.model[0].F32) {
		t.Fatal("training did not change the weights")
	}
	if err := n.Restore(snap); err != nil {
		t.Fatal(err)
	}
	sameState(t, "restore", before, stateOf(n))
	if a, _ := n.Accuracy(ctx); a != a0 {
		t.Fatalf("accuracy after restore %v, before %v", a, a0)
	}
	// A snapshot belongs to its network.
	other := build(t, b, expandCell(6), 2)
	if err := other.Restore(snap); err == nil {
		t.Fatal("restore of another network's snapshot accepted")
	}
}

func TestSetMask(t *testing.T) {
	b := tinyBuilder(t, nil)
	ctx := context.Background()
	edges := expandCell(3)
	n := build(t, b, edges, 4)
	if _, err := n.TrainEpoch(ctx, 1, 0.1, nil); err != nil {
		t.Fatal(err)
	}
	l, _ := b.valLoader()
	it := l.Epoch(0)
	defer it.Close()
	if !it.Next() {
		t.Fatal(it.Err())
	}
	logits := func() []float32 { // of the batch in evaluation mode
		bt, g := it.Batch(), n.g
		g.Reset()
		g.Training, g.NoGrad = false, true
		logits, _ := n.forward(g, g.FromHost(bt.Images[:bt.N*3*bt.H*bt.W], bt.N, 3, bt.H, bt.W))
		return slices.Clone(logits.Host())
	}
	base := logits()
	snap, _ := n.Snapshot()
	for _, op := range []int{3, 0} { // sep_conv_3x3, max_pool_3x3
		if err := n.SetMask(3, op, false); err != nil {
			t.Fatal(err)
		}
		if bitsEqual(logits(), base) {
			t.Fatalf("masking op %d of edge 3 leaves the logits unchanged", op)
		}
		if err := n.SetMask(3, op, true); err != nil {
			t.Fatal(err)
		}
		if !bitsEqual(logits(), base) {
			t.Fatalf("unmasking op %d does not restore the logits", op)
		}
	}
	n.SetMask(3, 4, false)
	n.Restore(snap)
	if !bitsEqual(logits(), base) || !n.net.Mask(3, 4) {
		t.Fatal("restore does not bring the mask back")
	}
	// Not a candidate / out of range.
	var absent int
	for o := range pertnas.NumOps {
		if !edges[0].Ops.Has(o) {
			absent = o
			break
		}
	}
	for _, c := range [][2]int{{0, absent}, {-1, 0}, {14, 0}, {3, 7}, {3, -1}} {
		if err := n.SetMask(c[0], c[1], false); err == nil {
			t.Fatalf("SetMask(%d, %d) accepted", c[0], c[1])
		}
	}
}

func TestSaveLoadContinuesExactly(t *testing.T) {
	b := tinyBuilder(t, nil)
	ctx := context.Background()
	edges := expandCell(12)
	a := build(t, b, edges, 8)
	if _, err := a.TrainEpoch(ctx, 1, 0.1, nil); err != nil {
		t.Fatal(err)
	}
	a.SetMask(12, 5, false)
	path := filepath.Join(t.TempDir(), "net.bin")
	if err := a.Save(path); err != nil {
		t.Fatal(err)
	}
	saved := stateOf(a)
	rest := func(n *Net) []float64 {
		st, err := n.TrainEpoch(ctx, 2, 0.05, nil)
		if err != nil {
			t.Fatal(err)
		}
		acc, _ := n.Accuracy(ctx)
		loss, _ := n.FineTune(ctx, 3, 4, 0.01, nil)
		return []float64{st.Loss, st.Acc, acc, loss}
	}
	want := rest(a)

	c := build(t, b, edges, 99) // another weight seed: Load replaces everything
	if err := c.Load(path); err != nil {
		t.Fatal(err)
	}
	sameState(t, "load", saved, stateOf(c))
	if got := rest(c); !slices.Equal(got, want) {
		t.Fatalf("continued after load %v, uninterrupted %v", got, want)
	}
	sameState(t, "continued", stateOf(a), stateOf(c))
}

func TestLoadErrors(t *testing.T) {
	b := tinyBuilder(t, nil)
	dir := t.TempDir()
	a := build(t, b, expandCell(1), 1)
	path := filepath.Join(dir, "net.bin")
	if err := a.Save(path); err != nil {
		t.Fatal(err)
	}
	other := build(t, b, expandCell(2), 1)
	before := stateOf(other)
	if err := other.Load(path); err == nil || !strings.Contains(err.Error(), "edges") {
		t.Fatalf("load into another configuration: %v", err)
	}
	data, _ := os.ReadFile(path)
	trunc := filepath.Join(dir, "trunc.bin")
	os.WriteFile(trunc, data[:len(data)/2], 0o644)
	if err := a.Load(trunc); err == nil || !strings.Contains(err.Error(), trunc) {
		t.Fatalf("truncated file: %v", err)
	}
	if err := a.Load(filepath.Join(dir, "missing.bin")); err == nil {
		t.Fatal("missing file accepted")
	}
	sameState(t, "failed load", before, stateOf(other))
}

func TestCancelAndClose(t *testing.T) {
	b := tinyBuilder(t, nil)
	n := build(t, b, expandCell(0), 1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := n.TrainEpoch(ctx, 1, 0.1, nil); err != context.Canceled {
		t.Fatalf("cancelled epoch: %v", err)
	}
	if _, err := n.FineTune(ctx, 1, 2, 0.1, nil); err != context.Canceled {
		t.Fatalf("cancelled fine-tune: %v", err)
	}
	n.Close()
	if _, err := n.Accuracy(context.Background()); err == nil {
		t.Fatal("accuracy after Close")
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestOptionErrors(t *testing.T) {
	dir := t.TempDir()
	writeDataset(t, dir, 40, 10, 8, 1)
	for _, c := range []struct {
		edit func(*Options)
		want string
	}{
		{func(o *Options) { o.ValSource = "val" }, "val source"},
		{func(o *Options) { o.ValFraction = 1 }, "val fraction"},
		{func(o *Options) { o.Channels = 3 }, "channels"},
		{func(o *Options) { o.BatchSize = 64 }, "fewer than one batch"},
		{func(o *Options) { o.Data = filepath.Join(dir, "nope") }, "manifest.json"},
		{func(o *Options) { o.Data, o.Classes = filepath.Join(dir, "nope"), 10 }, dataset.CIFAR.Train},
		{func(o *Options) { o.Classes = 5 }, "label"},
	} {
		o := tinyOptions(dir)
		c.edit(&o)
		b, err := New(o)
		if err == nil {
			b.Close()
			t.Fatalf("%s: accepted", c.want)
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Fatalf("error %q does not mention %q", err, c.want)
		}
	}
	odd := t.TempDir()
	writeDataset(t, odd, 40, 10, 2, 1)
	if _, err := New(tinyOptions(odd)); err == nil || !strings.Contains(err.Error(), "multiples of 4") {
		t.Fatalf("2x2 images: %v", err)
	}
	cfg := pertnas.Smoke()
	cfg.Device = "cuda"
	if _, err := Open(cfg, pertnas.Env{Data: dir}); err == nil {
		t.Fatal("Open with device cuda accepted")
	}
}

// FuzzLoad feeds arbitrary files to Load: an error or a complete load,
// never a panic; a failed load leaves the network unchanged.
func FuzzLoad(f *testing.F) {
	b := tinyBuilder(f, func(o *Options) { o.Channels = 2; o.Layers = 1 })
	edges := expandCell(2)
	n := build(f, b, edges, 1)
	dir := f.TempDir()
	good := filepath.Join(dir, "good.bin")
	n.SetMask(2, 4, false)
	if err := n.Save(good); err != nil {
		f.Fatal(err)
	}
	n.SetMask(2, 4, true)
	data, err := os.ReadFile(good)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add(data[:len(data)/3])
	f.Add([]byte(strings.Replace(string(data), "2:4", "2:9", 1)))
	f.Add([]byte(strings.Replace(string(data), "pertnas.searchnet/1", "pertnas.searchnet/2", 1)))
	f.Fuzz(func(t *testing.T, file []byte) {
		path := filepath.Join(t.TempDir(), "net.bin")
		if err := os.WriteFile(path, file, 0o644); err != nil {
			t.Fatal(err)
		}
		before := stateOf(n)
		if err := n.Load(path); err != nil {
			sameState(t, "failed load", before, stateOf(n))
		}
	})
}

func TestBackendFactory(t *testing.T) {
	var workers []int
	released := 0
	b := tinyBuilder(t, func(o *Options) {
		o.NewBackend = func(worker int) (nn.Backend, func(), error) {
			workers = append(workers, worker)
			if worker < 0 {
				return nil, nil, errors.New("no such device")
			}
			be := cpu.New(1)
			return be, func() { released++; be.Close() }, nil
		}
	})
	n, err := b.Build(pertnas.BuildRequest{Edges: expandCell(0), Seed: 1, Worker: 3})
	if err != nil {
		t.Fatal(err)
	}
	n.Close()
	n.Close()
	var bad pertnas.EdgeConfig
	bad[0].Ops = 1 << 7
	if _, err := b.Build(pertnas.BuildRequest{Edges: bad, Seed: 1, Worker: 1}); err == nil {
		t.Fatal("op bit 7 accepted")
	}
	if _, err := b.Build(pertnas.BuildRequest{Edges: expandCell(0), Seed: 1, Worker: -1}); err == nil || !strings.Contains(err.Error(), "no such device") {
		t.Fatalf("factory error: %v", err)
	}
	if !slices.Equal(workers, []int{3, -1}) || released != 1 {
		t.Fatalf("factory called for workers %v, %d releases; want [3 -1], 1", workers, released)
	}
}

// deviceFailure is a failure as a GPU backend reports it: a panic value
// implementing nn.DeviceFailure.
type deviceFailure struct{}

func (deviceFailure) Error() string  { return "cuda: cuLaunchKernel: CUDA_ERROR_ILLEGAL_ADDRESS" }
func (deviceFailure) DeviceFailure() {}

// failingBackend fails its SGD steps once armed.
type failingBackend struct {
	nn.Backend
	armed bool
}

func (f *failingBackend) SGDStep(w, grad, buf nn.Buffer, lr, momentum, wd float32, nesterov, first bool) {
	if f.armed {
		panic(deviceFailure{})
	}
	f.Backend.SGDStep(w, grad, buf, lr, momentum, wd, nesterov, first)
}

func TestDeviceFailureIsAnError(t *testing.T) {
	fb := &failingBackend{Backend: cpu.New(1)}
	b := tinyBuilder(t, func(o *Options) {
		o.NewBackend = func(int) (nn.Backend, func(), error) { return fb, nil, nil }
	})
	n := build(t, b, expandCell(0), 1)
	defer n.Close()
	if _, err := n.TrainEpoch(context.Background(), 1, 0.1, nil); err != nil {
		t.Fatal(err)
	}
	fb.armed = true
	_, err := n.TrainEpoch(context.Background(), 2, 0.1, nil)
	var f deviceFailure
	if !errors.As(err, &f) || !strings.Contains(err.Error(), "device failure") {
		t.Fatalf("TrainEpoch on a failing device: err %v, want the device failure", err)
	}
	if _, err := n.FineTune(context.Background(), 3, 2, 0.1, nil); !errors.As(err, &f) {
		t.Fatalf("FineTune on a failing device: err %v, want the device failure", err)
	}
}

// Loss scaling (for fp16 on a GPU) changes nothing on the CPU, where
// scaling by 2^16 and back is exact; its state travels with Save/Load.
func TestLossScaling(t *testing.T) {
	plain := run(t, build(t, tinyBuilder(t, nil), expandCell(0), 1))
	scaled := tinyBuilder(t, func(o *Options) { o.LossScaling = true })
	n := build(t, scaled, expandCell(0), 1)
	if got := run(t, n); !slices.Equal(got, plain) {
		t.Fatalf("with loss scaling %v, without %v", got, plain)
	}
	if n.scaler == nil || n.scaler.Scale != 65536 || n.scaler.Clean == 0 {
		t.Fatalf("scaler %+v", n.scaler)
	}
	n.scaler.Scale, n.scaler.Skipped = 1024, 3
	path := filepath.Join(t.TempDir(), "net.safetensors")
	if err := n.Save(path); err != nil {
		t.Fatal(err)
	}
	m := build(t, scaled, expandCell(0), 2)
	if err := m.Load(path); err != nil {
		t.Fatal(err)
	}
	if *m.scaler != *n.scaler {
		t.Fatalf("loaded scaler %+v, saved %+v", *m.scaler, *n.scaler)
	}
}

// A non-finite loss in fine-tuning is an error naming the step (the
// training epoch's is checked by TestSearchDivergence).
func TestFineTuneDivergence(t *testing.T) {
	b := tinyBuilder(t, nil)
	n := build(t, b, expandCell(2), 1)
	_, err := n.FineTune(context.Background(), 1, 3, math.NaN(), nil)
	var de *train.DivergenceError
	if !errors.As(err, &de) || de.Step != 1 || err.Error() != "supernet: fine-tune: training diverged at step 1: loss is NaN" {
		t.Fatalf("got %v, want a divergence at step 1", err)
	}
}
