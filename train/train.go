// Package train is the project's training core. Step is the one training
// step and evaluation that train-eval and the search supernet (package
// train/supernet) both run: forward, cross-entropy plus the weighted
// auxiliary loss, backward with dynamic loss scaling, gradient clipping, the
// SGD step and the divergence check; in inference mode the loss and the
// top-1/top-5 counts, by the one rule of Correct. Trainer is train-eval's
// loop around it: epochs of SGD with a learning-rate schedule
// (train/schedule), a drop-path ramp, evaluation, one metrics row per epoch,
// an atomic checkpoint after every epoch, and exact resume.
//
// # Determinism and resume
//
// Everything random in epoch e derives from (Config.Seed, e): the loaders'
// order and augmentations (loader.Config.Seed, epoch e) and the drop-path
// masks (a PCG stream seeded from (Seed, e)). After epoch e the checkpoint
// holds the weights, BatchNorm statistics and counters, the optimizer's
// momentum buffers, the step count and the metrics so far, so a run resumed
// from it computes exactly the numbers an uninterrupted run computes (given a
// backend whose results do not depend on thread count).
//
// The package does not print; progress and metrics go to the callbacks in
// Hooks.
package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"pertnas/formats/checkpoint"
	"pertnas/loader"
	"pertnas/nn"
	"pertnas/nn/cpu/kern"
	"pertnas/train/schedule"
)

// Model is a network the loop can train: its parameter scope and a forward
// pass returning class logits [N, classes] and, when the network has an
// auxiliary head and g.Training, the auxiliary logits (else nil). dropPath
// is the drop-path probability of this epoch and rng draws its masks.
type Model interface {
	Scope() *nn.Scope
	Forward(g *nn.Graph, x *nn.Tensor, dropPath float32, rng *rand.Rand) (logits, aux *nn.Tensor)
}

// Schedule names a learning-rate schedule.
type Schedule string

const (
	// Cosine is PyTorch's CosineAnnealingLR over Epochs down to LRMin,
	// stepped once per epoch (DARTS's CIFAR recipe).
	Cosine Schedule = "cosine"
	// Linear decays the rate linearly to 0 over Epochs.
	Linear Schedule = "linear"
)

// Config holds the optimisation settings of a run. It is recorded in the
// checkpoint (with the caller's Run description) and must match on resume.
type Config struct {
	Epochs         int      `json:"epochs"`
	LR             float32  `json:"lr"`
	LRMin          float32  `json:"lr_min"`
	Schedule       Schedule `json:"schedule"`
	Momentum       float32  `json:"momentum"`
	WeightDecay    float32  `json:"weight_decay"`
	GradClip       float32  `json:"grad_clip"` // max gradient norm; 0 = no clipping
	AuxWeight      float32  `json:"auxiliary_weight"`
	DropPath       float32  `json:"drop_path"` // epoch e uses DropPath*e/Epochs (DARTS)
	LabelSmoothing float32  `json:"label_smoothing"`
	Seed           uint64   `json:"seed"`
	// LossScaling turns on dynamic loss scaling (nn.LossScaler), needed by
	// fp16 mixed precision; its state is checkpointed.
	LossScaling bool `json:"loss_scaling,omitempty"`
}

// Row is the metrics of one epoch (metrics.arrow and state.json).
// TrainLoss includes the weighted auxiliary loss, as DARTS reports it;
// TestLoss is the plain cross-entropy. Accuracies are fractions in [0, 1]:
// Acc is top-1, Acc5 top-5 (the label among the 5 largest logits).
type Row struct {
	Epoch      int     `arrow:"epoch" json:"epoch"`
	TrainLoss  float64 `arrow:"train_loss" json:"train_loss"`
	TrainAcc   float64 `arrow:"train_acc" json:"train_acc"`
	TrainAcc5  float64 `arrow:"train_acc5" json:"train_acc5"`
	TestLoss   float64 `arrow:"test_loss" json:"test_loss"`
	TestAcc    float64 `arrow:"test_acc" json:"test_acc"`
	TestAcc5   float64 `arrow:"test_acc5" json:"test_acc5"`
	LR         float64 `arrow:"lr" json:"lr"`
	DropPath   float64 `arrow:"drop_path" json:"drop_path"`
	Seconds    float64 `arrow:"seconds" json:"seconds"`
	ImagesPerS float64 `arrow:"images_per_s" json:"images_per_s"`
}

// Hooks receive progress; any may be nil.
type Hooks struct {
	// Batch is called after every training step.
	Batch func(epoch, batch, batches int, loss float64)
	// EpochStart is called before the first step of an epoch.
	EpochStart func(epoch, batches int)
	// Epoch is called after an epoch's checkpoint is saved, with all rows
	// so far; an error stops training.
	Epoch func(rows []Row) error
	// Resumed is called when a checkpoint was found and loaded.
	Resumed func(epoch int)
}

// Trainer trains one model.
type Trainer struct {
	Model Model
	// Train and Test load the training and evaluation data; Test may be
	// nil (no evaluation; test columns are 0).
	Train, Test *loader.Loader
	Config      Config
	// Run describes everything else that determines the result (network,
	// genotype, data); recorded in the checkpoint, compared on resume.
	Run any
	// Dir is the checkpoint folder (state.json, checkpoint/); "" disables
	// checkpoints.
	Dir   string
	Hooks Hooks

	step Step // the graph, optimiser and loss scaler of Fit
}

// ErrOtherSettings is returned (wrapped) by Fit when the checkpoint in Dir
// was made with another Config or Run.
var ErrOtherSettings = errors.New("checkpoint was made with other settings")

// DivergenceError reports a non-finite loss or gradient norm (Step.Train).
type DivergenceError struct {
	// Epoch is 0-based, -1 for a caller that counts no epochs (the search
	// supernet: the search names its unit); Step is the batch within the
	// epoch (or the call), 0-based.
	Epoch, Step int
	What        string
}

func (e *DivergenceError) Error() string {
	if e.Epoch < 0 {
		return fmt.Sprintf("training diverged at step %d: %s", e.Step, e.What)
	}
	return fmt.Sprintf("training diverged at epoch %d step %d: %s", e.Epoch, e.Step, e.What)
}

// LR returns the learning rate of epoch (0-based).
func (c *Config) lrAt(epoch int) float32 {
	if c.Schedule == Linear {
		return float32(schedule.Linear(float64(c.LR), epoch, c.Epochs))
	}
	return float32(schedule.Cosine(float64(c.LR), float64(c.LRMin), epoch, c.Epochs))
}

// dropPathAt returns the drop-path probability of epoch (DARTS's ramp).
func (c *Config) dropPathAt(epoch int) float32 {
	return c.DropPath * float32(epoch) / float32(c.Epochs)
}

func (c *Config) check() error {
	switch {
	case c.Epochs <= 0:
		return fmt.Errorf("epochs must be positive, got %d", c.Epochs)
	case !(c.LR > 0):
		return fmt.Errorf("learning rate must be positive, got %v", c.LR)
	case c.Schedule != Cosine && c.Schedule != Linear:
		return fmt.Errorf("unknown schedule %q (want cosine or linear)", c.Schedule)
	case c.DropPath < 0 || c.DropPath >= 1:
		return fmt.Errorf("drop path must be in [0, 1), got %v", c.DropPath)
	case c.AuxWeight < 0 || c.GradClip < 0 || c.Momentum < 0 || c.WeightDecay < 0:
		return fmt.Errorf("auxiliary weight, grad clip, momentum and weight decay must be >= 0")
	}
	return nil
}

// dropPathRNG is the drop-path stream of an epoch.
func dropPathRNG(seed uint64, epoch int) *rand.Rand {
	return rand.New(rand.NewPCG(seed^0x1f83d9abfb41bd6b, uint64(epoch)*0x9e3779b97f4a7c15+0x5be0cd19137e2179))
}

type fingerprint struct {
	Config Config `json:"config"`
	Run    any    `json:"run"`
}

// Fit trains from the last checkpoint in Dir (or from the start) to
// Config.Epochs and returns every epoch's row. A cancelled ctx stops between
// steps with ctx's error; the last completed epoch's checkpoint is on disk.
func (t *Trainer) Fit(ctx context.Context) ([]Row, error) {
	if err := t.Config.check(); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	fp, err := json.Marshal(fingerprint{t.Config, t.Run})
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	scope := t.Model.Scope()
	c := &t.Config
	t.step = Step{Graph: nn.NewGraph(scope.Backend()), Opt: nn.NewSGD(scope.Params(), c.LR, c.Momentum, c.WeightDecay),
		GradClip: c.GradClip, AuxWeight: c.AuxWeight, LabelSmoothing: c.LabelSmoothing}
	if c.LossScaling {
		t.step.Scaler = nn.NewLossScaler()
	}
	var rows []Row
	start := 0
	if t.Dir != "" {
		st, model, optim, err := checkpoint.Load(t.Dir)
		switch {
		case errors.Is(err, checkpoint.ErrNoCheckpoint):
		case err != nil:
			return nil, fmt.Errorf("train: %w", err)
		default:
			if diff := jsonDiff(st.Config, fp); diff != "" {
				return nil, fmt.Errorf("train: %s: %w (%s); use another output folder or the same arguments", t.Dir, ErrOtherSettings, diff)
			}
			if err := scope.LoadStateDict(model); err != nil {
				return nil, fmt.Errorf("train: checkpoint %s: %w", st.Model.Path, err)
			}
			if err := t.step.Opt.LoadState(optim); err != nil {
				return nil, fmt.Errorf("train: checkpoint %s: %w", st.Optimizer.Path, err)
			}
			if err := json.Unmarshal(st.Metrics, &rows); err != nil || len(rows) != st.Epoch {
				return nil, fmt.Errorf("train: checkpoint %s/state.json: metrics do not hold %d rows", t.Dir, st.Epoch)
			}
			if sc := t.step.Scaler; sc != nil && st.LossScale != nil {
				if err := json.Unmarshal(st.LossScale, sc); err != nil || !(sc.Scale > 0) {
					return nil, fmt.Errorf("train: checkpoint %s/state.json: bad loss_scale %s", t.Dir, st.LossScale)
				}
			}
			start = st.Epoch
			if t.Hooks.Resumed != nil {
				t.Hooks.Resumed(start)
			}
		}
	}
	for epoch := start; epoch < t.Config.Epochs; epoch++ {
		row, err := t.epoch(ctx, epoch)
		if err != nil {
			return rows, err
		}
		rows = append(rows, row)
		if t.Dir != "" {
			if err := t.save(epoch+1, fp, rows); err != nil {
				return rows, err
			}
		}
		if t.Hooks.Epoch != nil {
			if err := t.Hooks.Epoch(rows); err != nil {
				return rows, err
			}
		}
	}
	return rows, nil
}

func (t *Trainer) save(epochs int, fp []byte, rows []Row) error {
	metrics, err := json.Marshal(rows)
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	var scale json.RawMessage
	if t.step.Scaler != nil {
		if scale, err = json.Marshal(t.step.Scaler); err != nil {
			return fmt.Errorf("train: %w", err)
		}
	}
	st := &checkpoint.State{
		Epoch: epochs, Step: t.step.Opt.Steps(), Config: fp, Metrics: metrics, LossScale: scale,
		Kernels: string(kern.Current()),
		RNG: checkpoint.RNGState{Seed: t.Config.Seed,
			Scheme: "every stream of epoch e derives from (seed, e): loader order and augmentation, drop-path masks"},
	}
	if err := checkpoint.Save(t.Dir, st, t.Model.Scope().StateDict(), t.step.Opt.State()); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	return nil
}

// epoch trains one epoch and evaluates.
func (t *Trainer) epoch(ctx context.Context, epoch int) (Row, error) {
	c := &t.Config
	row := Row{Epoch: epoch, LR: float64(c.lrAt(epoch)), DropPath: float64(c.dropPathAt(epoch))}
	t.step.Opt.LR = c.lrAt(epoch)
	dp := c.dropPathAt(epoch)
	rng := dropPathRNG(c.Seed, epoch)
	forward := func(g *nn.Graph, x *nn.Tensor) (*nn.Tensor, *nn.Tensor) { return t.Model.Forward(g, x, dp, rng) }
	began := time.Now()
	it := t.Train.Epoch(epoch)
	defer it.Close()
	nb := t.Train.NumBatches()
	if t.Hooks.EpochStart != nil {
		t.Hooks.EpochStart(epoch, nb)
	}
	var sum tally
	for k := 0; it.Next(); k++ {
		if err := ctx.Err(); err != nil {
			return row, err
		}
		b := it.Batch()
		o, err := t.step.Train(b, forward, epoch, k)
		if err != nil {
			return row, err
		}
		sum.add(o, b.N)
		if t.Hooks.Batch != nil {
			t.Hooks.Batch(epoch, k, nb, o.Loss)
		}
	}
	if err := it.Err(); err != nil {
		return row, fmt.Errorf("train: epoch %d: %w", epoch, err)
	}
	it.Close()
	trainSecs := time.Since(began).Seconds()
	if sum.seen > 0 {
		tr := sum.mean()
		row.TrainLoss, row.TrainAcc, row.TrainAcc5 = tr.Loss, tr.Acc, tr.Acc5
		row.ImagesPerS = float64(sum.seen) / trainSecs
	}
	if t.Test != nil {
		ev, err := t.Evaluate(ctx, t.Test)
		if err != nil {
			return row, err
		}
		row.TestLoss, row.TestAcc, row.TestAcc5 = ev.Loss, ev.Acc, ev.Acc5
	}
	row.Seconds = time.Since(began).Seconds()
	return row, nil
}

// Evaluate runs the model in inference mode (BatchNorm running statistics,
// no drop path) over epoch 0 of l (Step.Evaluate).
func (t *Trainer) Evaluate(ctx context.Context, l *loader.Loader) (Eval, error) {
	if t.step.Graph == nil {
		t.step.Graph = nn.NewGraph(t.Model.Scope().Backend())
	}
	ev, err := t.step.Evaluate(ctx, l, func(g *nn.Graph, x *nn.Tensor) (*nn.Tensor, *nn.Tensor) {
		return t.Model.Forward(g, x, 0, nil)
	})
	if err != nil && !errors.Is(err, ctx.Err()) {
		return Eval{}, fmt.Errorf("train: evaluation: %w", err)
	}
	return ev, err
}

// jsonDiff compares two JSON documents and describes where they differ
// ("" when equal): up to three paths with the saved and the new value.
func jsonDiff(saved, now []byte) string {
	var a, b any
	if json.Unmarshal(saved, &a) != nil || json.Unmarshal(now, &b) != nil {
		return "unreadable settings"
	}
	fa, fb := map[string]string{}, map[string]string{}
	flatten("", a, fa)
	flatten("", b, fb)
	var diffs []string
	for _, k := range slices.Sorted(maps.Keys(fa)) {
		if fa[k] != fb[k] {
			diffs = append(diffs, fmt.Sprintf("%s: checkpoint %s, now %s", k, fa[k], orNone(fb[k])))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(fb)) {
		if _, ok := fa[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: checkpoint none, now %s", k, fb[k]))
		}
	}
	if len(diffs) > 3 {
		diffs = append(diffs[:3], fmt.Sprintf("and %d more", len(diffs)-3))
	}
	return strings.Join(diffs, "; ")
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// flatten maps every leaf of a decoded JSON value to its dotted path.
func flatten(prefix string, v any, out map[string]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			flatten(prefix+"."+k, e, out)
		}
	case []any:
		for i, e := range x {
			flatten(fmt.Sprintf("%s[%d]", prefix, i), e, out)
		}
	default:
		b, _ := json.Marshal(x)
		out[strings.TrimPrefix(prefix, ".")] = string(b)
	}
}
