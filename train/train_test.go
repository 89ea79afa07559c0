package train

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"pertnas/formats/checkpoint"
	"pertnas/formats/cifar"
	"pertnas/loader"
	"pertnas/nn"
	"pertnas/nn/cpu"
	"pertnas/nn/cpu/kern"
	"pertnas/train/schedule"
)

// tinyNet is a small CNN with an auxiliary head and drop path, enough to
// exercise every part of the loop: stem conv+BN+ReLU (8 channels), a
// stride-2 conv+BN+ReLU (16) under drop path, global pool, linear; the
// auxiliary head is a linear layer on the pooled stem features.
type tinyNet struct {
	scope        *nn.Scope
	c0, c1       *nn.Conv2D
	bn0, bn1     *nn.BatchNorm
	fc, auxFC    *nn.Linear
	nanAt        int // forward call (counted from 1) whose logits are NaN; 0: never
	forwardCalls int
}

func newTiny(b nn.Backend, seed uint64, classes int) *tinyNet {
	s := nn.NewScope(b, rand.New(rand.NewPCG(seed, 1)))
	m := &tinyNet{scope: s}
	stem := s.Sub("stem")
	m.c0 = stem.Conv2D("0", 3, 8, 3, 1, 1, 1, 1)
	m.bn0 = stem.BatchNorm("1", 8, true)
	body := s.Sub("body")
	m.c1 = body.Conv2D("0", 8, 16, 3, 2, 1, 1, 1)
	m.bn1 = body.BatchNorm("1", 16, true)
	m.auxFC = s.Sub("auxiliary_head").Linear("classifier", 8, classes)
	m.fc = s.Linear("classifier", 16, classes)
	return m
}

func (m *tinyNet) Scope() *nn.Scope { return m.scope }

func (m *tinyNet) Forward(g *nn.Graph, x *nn.Tensor, dp float32, rng *rand.Rand) (*nn.Tensor, *nn.Tensor) {
	h := g.ReLU(m.bn0.Forward(g, m.c0.Forward(g, x)))
	var aux *nn.Tensor
	if g.Training {
		aux = m.auxFC.Forward(g, g.Flatten(g.GlobalAvgPool(h)))
	}
	h = g.ReLU(m.bn1.Forward(g, m.c1.Forward(g, h)))
	h = g.DropPath(h, dp, rng)
	logits := m.fc.Forward(g, g.Flatten(g.GlobalAvgPool(h)))
	if g.Training {
		m.forwardCalls++
		if m.forwardCalls == m.nanAt {
			logits = g.Scale(logits, float32(math.NaN()))
		}
	}
	return logits, aux
}

// synthSource turns CIFAR records (label, R, G, B planes) into raw HWC images.
func synthSource(r cifar.Records) *loader.MemorySource {
	const plane = 32 * 32
	m := &loader.MemorySource{Width: 32, Height: 32}
	for i := range r.Len() {
		rec := r[i*(1+3*plane):]
		img := make([]byte, 3*plane)
		for p := range plane {
			for c := range 3 {
				img[p*3+c] = rec[1+c*plane+p]
			}
		}
		m.Images = append(m.Images, img)
		m.Labels = append(m.Labels, int64(rec[0]))
	}
	return m
}

type fixture struct {
	train, test *loader.Loader
}

func newFixture(t *testing.T) fixture {
	tr, te := cifar.Synth(96, 40, 3)
	trainL, err := loader.New(synthSource(tr), loader.Config{BatchSize: 16, Order: loader.Random, Seed: 11,
		DropLast: true, Workers: 2, Augment: loader.DARTSTrain(8), Classes: 10})
	if err != nil {
		t.Fatal(err)
	}
	testL, err := loader.New(synthSource(te), loader.Config{BatchSize: 16, Workers: 2, Classes: 10})
	if err != nil {
		t.Fatal(err)
	}
	return fixture{trainL, testL}
}

func baseConfig() Config {
	return Config{Epochs: 3, LR: 0.05, Schedule: Cosine, Momentum: 0.9, WeightDecay: 3e-4,
		GradClip: 5, AuxWeight: 0.4, DropPath: 0.3, Seed: 11}
}

// comparable drops the timing columns.
func comparable(rows []Row) []Row {
	out := slices.Clone(rows)
	for i := range out {
		out[i].Seconds, out[i].ImagesPerS = 0, 0
	}
	return out
}

func TestKillAndResume(t *testing.T) {
	fx := newFixture(t)
	b := cpu.New(2)
	run := map[string]any{"net": "tiny"}

	// Uninterrupted reference run.
	ref := &Trainer{Model: newTiny(b, 1, 10), Train: fx.train, Test: fx.test, Config: baseConfig(), Run: run, Dir: t.TempDir()}
	refRows, err := ref.Fit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(refRows) != 3 {
		t.Fatalf("%d rows", len(refRows))
	}
	refState := ref.Model.Scope().StateDict()

	// Killed in the middle of epoch 1 (epoch 0's checkpoint is on disk).
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	killed := &Trainer{Model: newTiny(b, 1, 10), Train: fx.train, Test: fx.test, Config: baseConfig(), Run: run, Dir: dir,
		Hooks: Hooks{Batch: func(epoch, batch, _ int, _ float64) {
			if epoch == 1 && batch == 2 {
				cancel()
			}
		}}}
	if _, err := killed.Fit(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("killed run: %v", err)
	}
	st, _, _, err := checkpoint.Load(dir)
	if err != nil || st.Epoch != 1 {
		t.Fatalf("after the kill: %v, epoch %v", err, st)
	}

	// Resumed with a differently initialised model: everything must come
	// from the checkpoint.
	resumedAt := -1
	resumed := &Trainer{Model: newTiny(b, 99, 10), Train: fx.train, Test: fx.test, Config: baseConfig(), Run: run, Dir: dir,
		Hooks: Hooks{Resumed: func(e int) { resumedAt = e }}}
	rows, err := resumed.Fit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if resumedAt != 1 {
		t.Fatalf("resumed at %d, want 1", resumedAt)
	}
	if !slices.Equal(comparable(rows), comparable(refRows)) {
		t.Fatalf("resumed rows differ:\n got %+v\nwant %+v", comparable(rows), comparable(refRows))
	}
	got := resumed.Model.Scope().StateDict()
	for i := range refState {
		if !slices.Equal(got[i].F32, refState[i].F32) || !slices.Equal(got[i].I64, refState[i].I64) {
			t.Fatalf("tensor %s differs after resume", refState[i].Name)
		}
	}
	if resumed.step.Opt.Steps() != ref.step.Opt.Steps() || resumed.step.Opt.Steps() != 3*6 {
		t.Fatalf("steps %d and %d, want %d", resumed.step.Opt.Steps(), ref.step.Opt.Steps(), 3*6)
	}

	// A finished run resumes to nothing and returns its rows.
	again := &Trainer{Model: newTiny(b, 5, 10), Train: fx.train, Test: fx.test, Config: baseConfig(), Run: run, Dir: dir}
	rows, err = again.Fit(context.Background())
	if err != nil || !slices.Equal(comparable(rows), comparable(refRows)) {
		t.Fatalf("rerun of a finished run: %v", err)
	}

	// Other settings are refused.
	other := baseConfig()
	other.LR = 0.1
	bad := &Trainer{Model: newTiny(b, 1, 10), Train: fx.train, Test: fx.test, Config: other, Run: run, Dir: dir}
	if _, err := bad.Fit(context.Background()); !errors.Is(err, ErrOtherSettings) || !strings.Contains(err.Error(), "config.lr: checkpoint 0.05, now 0.1") {
		t.Fatalf("resume with another lr: %v", err)
	}
}

// TestThreadsIndependent: the same run on 1 and 2 backend threads gives the
// same rows.
func TestThreadsIndependent(t *testing.T) {
	fx := newFixture(t)
	cfg := baseConfig()
	cfg.Epochs = 1
	var ref []Row
	for _, threads := range []int{1, 2} {
		tr := &Trainer{Model: newTiny(cpu.New(threads), 1, 10), Train: fx.train, Test: fx.test, Config: cfg}
		rows, err := tr.Fit(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if ref == nil {
			ref = rows
		} else if !slices.Equal(comparable(rows), comparable(ref)) {
			t.Fatalf("threads change the result: %+v vs %+v", rows, ref)
		}
	}
}

func TestDivergence(t *testing.T) {
	fx := newFixture(t)
	dir := t.TempDir()
	m := newTiny(cpu.New(2), 1, 10)
	m.nanAt = 6 + 3 // epoch 1 (6 batches an epoch), step 2
	tr := &Trainer{Model: m, Train: fx.train, Test: fx.test, Config: baseConfig(), Dir: dir}
	_, err := tr.Fit(context.Background())
	var de *DivergenceError
	if !errors.As(err, &de) || de.Epoch != 1 || de.Step != 2 || !strings.Contains(err.Error(), "epoch 1 step 2") {
		t.Fatalf("got %v, want divergence at epoch 1 step 2", err)
	}
	st, model, _, err := checkpoint.Load(dir)
	if err != nil || st.Epoch != 1 {
		t.Fatalf("last good checkpoint: %v %v", err, st)
	}
	for _, ts := range model {
		for _, v := range ts.F32 {
			if math.IsNaN(float64(v)) {
				t.Fatalf("checkpoint tensor %s holds NaN", ts.Name)
			}
		}
	}
	if ents, _ := os.ReadDir(filepath.Join(dir, "checkpoint")); len(ents) != 2 {
		t.Fatalf("%d checkpoint files, want 2", len(ents))
	}
}

// colourSource makes n 16x16 images of 10 classes; class k is a plain
// colour (distinct per class) plus uniform noise of +-40.
func colourSource(n int, seed uint64) *loader.MemorySource {
	rng := rand.New(rand.NewPCG(seed, 2))
	m := &loader.MemorySource{Width: 16, Height: 16}
	for i := range n {
		k := i % 10
		base := [3]int{40 + 20*k, 220 - 18*k, 60 + 15*(k%5)*2}
		img := make([]byte, 16*16*3)
		for p := range 16 * 16 {
			for c := range 3 {
				img[p*3+c] = byte(max(0, min(255, base[c]+rng.IntN(81)-40)))
			}
		}
		m.Images = append(m.Images, img)
		m.Labels = append(m.Labels, int64(k))
	}
	return m
}

// TestLearns: a few epochs on an easy task drive the test accuracy far
// above chance (10%), and the schedule and drop-path columns follow the
// recipe.
func TestLearns(t *testing.T) {
	trainL, _ := loader.New(colourSource(320, 1), loader.Config{BatchSize: 32, Order: loader.Random, Seed: 1, DropLast: true, Augment: loader.DARTSTrain(4), Classes: 10})
	testL, _ := loader.New(colourSource(200, 2), loader.Config{BatchSize: 100, Classes: 10})
	cfg := baseConfig()
	cfg.Epochs, cfg.LR = 4, 0.1
	tr := &Trainer{Model: newTiny(cpu.New(2), 1, 10), Train: trainL, Test: testL, Config: cfg}
	rows, err := tr.Fit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for e, r := range rows {
		if want := float64(float32(schedule.Cosine(0.1, 0, e, 4))); r.LR != want {
			t.Errorf("epoch %d lr %v want %v", e, r.LR, want)
		}
		if want := float64(float32(0.3) * float32(e) / 4); r.DropPath != want {
			t.Errorf("epoch %d drop path %v want %v", e, r.DropPath, want)
		}
	}
	last := rows[len(rows)-1]
	t.Logf("first %+v\nlast %+v", rows[0], last)
	if last.TestAcc < 0.6 || last.TrainLoss >= rows[0].TrainLoss {
		t.Fatalf("did not learn: first %+v last %+v", rows[0], last)
	}
}

func TestScheduleAndChecks(t *testing.T) {
	c := Config{Epochs: 4, LR: 0.1, Schedule: Linear, DropPath: 0.2}
	for e, want := range []float32{0.1, 0.075, 0.05, 0.025} {
		if got := c.lrAt(e); math.Abs(float64(got-want)) > 1e-7 {
			t.Errorf("linear lr epoch %d: %v want %v", e, got, want)
		}
	}
	c.Schedule = Cosine
	if got := c.lrAt(2); math.Abs(float64(got)-0.05) > 1e-7 {
		t.Errorf("cosine lr at half way: %v want 0.05", got)
	}
	for _, bad := range []Config{
		{Epochs: 0, LR: 0.1, Schedule: Cosine},
		{Epochs: 1, LR: 0, Schedule: Cosine},
		{Epochs: 1, LR: 0.1, Schedule: "step"},
		{Epochs: 1, LR: 0.1, Schedule: Cosine, DropPath: 1},
		{Epochs: 1, LR: 0.1, Schedule: Cosine, AuxWeight: -1},
	} {
		if bad.check() == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

// TestStateRecordsKernels checks that every checkpoint names the CPU kernel
// path it was computed on (the stages refuse a resume on another path).
func TestStateRecordsKernels(t *testing.T) {
	fx := newFixture(t)
	saved := kern.Current()
	t.Cleanup(func() { kern.Use(saved) })
	cfg := baseConfig()
	cfg.Epochs = 1
	for _, p := range kern.Supported() {
		if err := kern.Use(p); err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		tr := &Trainer{Model: newTiny(cpu.New(1), 1, 10), Train: fx.train, Test: fx.test, Config: cfg, Dir: dir}
		if _, err := tr.Fit(context.Background()); err != nil {
			t.Fatal(err)
		}
		st, err := checkpoint.ReadState(dir)
		if err != nil {
			t.Fatal(err)
		}
		if st.Kernels != string(p) {
			t.Fatalf("state saved on kernel path %s records %q", p, st.Kernels)
		}
	}
}
