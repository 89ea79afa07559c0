// Package traineval is the work of the train-eval stage: build a DARTS
// evaluation network for a genotype, open the CIFAR .beton files, train it
// with the recipe of spec/darts.md (package train), and write the outputs
// into one folder:
//
//	metrics.arrow      one row per epoch (train.Row), rewritten after every epoch
//	curves.png         loss and accuracy against epoch
//	state.json         training state, with checkpoint/ (resume)
//	model.safetensors  final weights, DARTS reference names (load_state_dict)
//	result.json        best and final test accuracy, parameters, FLOPs, wall
//	                   time, and the network and normalisation (Result)
//
// result.json is written last, so its presence means the run finished.
// Rerun with the same arguments, a killed run resumes from its last
// completed epoch and ends with the numbers of an uninterrupted run.
package traineval

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"pertnas/darts"
	"pertnas/formats/artifact"
	"pertnas/formats/beton"
	"pertnas/formats/checkpoint"
	"pertnas/formats/genotype"
	"pertnas/loader"
	"pertnas/nn"
	"pertnas/train"
)

// Recipe is the training recipe; Presets holds the named ones.
type Recipe struct {
	Epochs       int     `json:"epochs"`
	BatchSize    int     `json:"batch_size"`
	LR           float64 `json:"lr"`
	Momentum     float64 `json:"momentum"`
	WeightDecay  float64 `json:"weight_decay"`
	GradClip     float64 `json:"grad_clip"`
	Layers       int     `json:"layers"`
	InitChannels int     `json:"init_channels"`
	AuxWeight    float64 `json:"auxiliary_weight"`
	DropPath     float64 `json:"drop_path"`
	Cutout       int     `json:"cutout"`
	// LimitTrain and LimitTest use only the first N samples of each file
	// (0: all).
	LimitTrain int `json:"limit_train"`
	LimitTest  int `json:"limit_test"`
}

// Presets are the named recipes. "paper" is the CIFAR-10 recipe of
// spec/darts.md (600 epochs, batch 128, lr 0.025 cosine, momentum 0.9,
// weight decay 3e-4, clip 5, 20 cells of 36 channels, auxiliary weight 0.4,
// drop path 0.3, cutout 16); "quick" is a small network for minutes on a
// CPU; "smoke" checks the wiring in seconds.
var Presets = map[string]Recipe{
	"paper": {Epochs: 600, BatchSize: 128, LR: 0.025, Momentum: 0.9, WeightDecay: 3e-4, GradClip: 5,
		Layers: 20, InitChannels: 36, AuxWeight: 0.4, DropPath: 0.3, Cutout: 16},
	"quick": {Epochs: 10, BatchSize: 64, LR: 0.05, Momentum: 0.9, WeightDecay: 3e-4, GradClip: 5,
		Layers: 5, InitChannels: 12, AuxWeight: 0.4, DropPath: 0.1, Cutout: 8},
	"smoke": {Epochs: 2, BatchSize: 32, LR: 0.05, Momentum: 0.9, WeightDecay: 3e-4, GradClip: 5,
		Layers: 3, InitChannels: 8, AuxWeight: 0.4, DropPath: 0.1, Cutout: 8, LimitTrain: 256, LimitTest: 128},
}

// Options is everything the stage passes in.
type Options struct {
	// Genotype is a built-in name or a file (JSON or DARTS repr). Normal and
	// Reduce, when set, take the normal cell from one genotype and the
	// reduction cell from another (either may default to Genotype).
	Genotype, Normal, Reduce string
	// Data is the folder holding cifar_train.beton and cifar_test.beton.
	Data    string
	Dataset string // cifar10, cifar100 or imagenet
	Recipe  Recipe
	Seed    uint64
	// Backend runs the network; DeviceName describes it for result.json.
	Backend    nn.Backend
	DeviceName string
	// Workers is the number of loader goroutines (0: GOMAXPROCS).
	Workers int
	Out     string
	// Progress receives a progress bar per epoch when it is a terminal
	// (nil: none); Log receives a line per epoch (nil: none).
	Progress io.Writer
	Log      *slog.Logger
}

// InputError marks a problem with the arguments or input files (exit 2).
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

func inputErr(format string, a ...any) error { return &InputError{fmt.Errorf(format, a...)} }

// Network describes the trained network in result.json.
type Network struct {
	Genotype     genotype.Genotype `json:"genotype"`
	Repr         string            `json:"repr"`
	Layers       int               `json:"layers"`
	InitChannels int               `json:"init_channels"`
	Classes      int               `json:"classes"`
	Auxiliary    bool              `json:"auxiliary"`
}

// Normalisation is the per-channel input normalisation, 0..255 scale.
type Normalisation struct {
	Mean [3]float32 `json:"mean"`
	Std  [3]float32 `json:"std"`
}

// Result is result.json.
type Result struct {
	Dataset       string        `json:"dataset"`
	Network       Network       `json:"network"`
	Normalisation Normalisation `json:"normalisation"`
	Recipe        Recipe        `json:"recipe"`
	Seed          uint64        `json:"seed"`
	Device        string        `json:"device"`
	Epochs        int           `json:"epochs"`
	BestTestAcc   float64       `json:"best_test_acc"`
	BestEpoch     int           `json:"best_epoch"`
	FinalTestAcc  float64       `json:"final_test_acc"`
	FinalTestLoss float64       `json:"final_test_loss"`
	FinalTrainAcc float64       `json:"final_train_acc"`
	// Parameters excludes the auxiliary head (as DARTS reports it);
	// ParametersAll includes it.
	Parameters    int `json:"parameters"`
	ParametersAll int `json:"parameters_with_auxiliary"`
	// MultAdds is the multiply-adds of one inference at the training
	// resolution (the "FLOPs" of DARTS-family papers).
	MultAdds    int64     `json:"flops_multiply_adds"`
	WallSeconds float64   `json:"wall_seconds"`
	DataFiles   [2]string `json:"data_files"`
}

// evalModel adapts darts.EvalNetwork to train.Model.
type evalModel struct{ net *darts.EvalNetwork }

func (m evalModel) Scope() *nn.Scope { return m.net.Scope() }
func (m evalModel) Forward(g *nn.Graph, x *nn.Tensor, dp float32, rng *rand.Rand) (*nn.Tensor, *nn.Tensor) {
	m.net.DropPathProb = dp
	return m.net.Forward(g, x, rng)
}

// runKey is what, besides the optimisation config, determines a run's
// numbers; a checkpoint made under another key is not resumed.
type runKey struct {
	Dataset  string            `json:"dataset"`
	Genotype genotype.Genotype `json:"genotype"`
	Recipe   Recipe            `json:"recipe"`
	Train    string            `json:"train_file"`
	Test     string            `json:"test_file"`
	NTrain   int               `json:"train_samples"`
	NTest    int               `json:"test_samples"`
}

// Run trains and writes the outputs. Bad arguments or input files give an
// *InputError; ctx cancellation stops after saving the last completed epoch.
func Run(ctx context.Context, o Options) (res *Result, err error) {
	began := time.Now()
	r := o.Recipe
	classes := 0
	switch o.Dataset {
	case "cifar10":
		classes = 10
	case "cifar100":
		classes = 100
	case "imagenet":
		return nil, inputErr("dataset imagenet: ImageNet data conversion is not supported yet (only CIFAR-10/100 .beton files)")
	default:
		return nil, inputErr("unknown dataset %q (want cifar10, cifar100 or imagenet)", o.Dataset)
	}
	if r.Epochs <= 0 || r.BatchSize <= 0 || r.Layers < 3 || r.InitChannels <= 0 || r.LR <= 0 || r.Cutout < 0 ||
		r.DropPath < 0 || r.DropPath >= 1 || r.AuxWeight < 0 || r.LimitTrain < 0 || r.LimitTest < 0 {
		return nil, inputErr("bad recipe %+v: epochs, batch size, lr, init channels must be positive, layers >= 3, drop path in [0, 1)", r)
	}
	geno, err := loadGenotype(o)
	if err != nil {
		return nil, err
	}
	if o.Out == "" {
		return nil, inputErr("no output folder given")
	}

	trainPath := filepath.Join(o.Data, "cifar_train.beton")
	testPath := filepath.Join(o.Data, "cifar_test.beton")
	trainSrc, closeTrain, err := openBeton(trainPath)
	if err != nil {
		return nil, err
	}
	defer closeTrain()
	testSrc, closeTest, err := openBeton(testPath)
	if err != nil {
		return nil, err
	}
	defer closeTest()
	norm := Normalisation{loader.DARTSMean, loader.DARTSStd}
	trainIdx, testIdx := firstN(trainSrc.NumSamples(), r.LimitTrain), firstN(testSrc.NumSamples(), r.LimitTest)
	trainL, err := loader.New(trainSrc, loader.Config{BatchSize: r.BatchSize, Order: loader.Random, Seed: o.Seed,
		DropLast: true, Workers: o.Workers, Indices: trainIdx, Augment: loader.DARTSTrain(r.Cutout),
		Mean: norm.Mean, Std: norm.Std, Classes: classes})
	if err != nil {
		return nil, &InputError{fmt.Errorf("%s: %w", trainPath, err)}
	}
	if trainL.NumBatches() == 0 {
		return nil, inputErr("%s: %d training samples make no full batch of %d", trainPath, trainL.Len(), r.BatchSize)
	}
	testL, err := loader.New(testSrc, loader.Config{BatchSize: r.BatchSize, Order: loader.Sequential, Workers: o.Workers,
		Indices: testIdx, Mean: norm.Mean, Std: norm.Std, Classes: classes})
	if err != nil {
		return nil, &InputError{fmt.Errorf("%s: %w", testPath, err)}
	}
	_, h, w := trainL.Shape()

	opts := darts.EvalOptions{C: r.InitChannels, Layers: r.Layers, Classes: classes, Auxiliary: r.AuxWeight > 0}
	net, err := darts.NewCIFARNetwork(o.Backend, geno, opts, rand.New(rand.NewPCG(o.Seed, 0x6d6f64656c)))
	if err != nil {
		return nil, &InputError{err}
	}
	tr := &train.Trainer{
		Model: evalModel{net}, Train: trainL, Test: testL, Dir: o.Out,
		Config: train.Config{Epochs: r.Epochs, LR: float32(r.LR), Schedule: train.Cosine,
			Momentum: float32(r.Momentum), WeightDecay: float32(r.WeightDecay), GradClip: float32(r.GradClip),
			AuxWeight: float32(r.AuxWeight), DropPath: float32(r.DropPath), Seed: o.Seed},
		Run: runKey{Dataset: o.Dataset, Genotype: geno, Recipe: r, Train: filepath.Base(trainPath), Test: filepath.Base(testPath),
			NTrain: len(trainIdx), NTest: len(testIdx)},
	}
	prog := newProgress(o.Progress, r.Epochs)
	defer prog.close()
	tr.Hooks = train.Hooks{
		EpochStart: prog.epochStart,
		Batch:      prog.batch,
		Resumed: func(e int) {
			if o.Log != nil {
				o.Log.Info("resuming from checkpoint", "completed_epochs", e, "dir", o.Out)
			}
		},
		Epoch: func(rows []train.Row) error {
			row := rows[len(rows)-1]
			prog.epochDone()
			if o.Log != nil {
				o.Log.Info("epoch", "epoch", row.Epoch, "train_loss", row.TrainLoss, "train_acc", row.TrainAcc,
					"test_loss", row.TestLoss, "test_acc", row.TestAcc, "lr", row.LR, "seconds", row.Seconds,
					"images_per_s", row.ImagesPerS)
			}
			if err := artifact.WriteTable(filepath.Join(o.Out, "metrics.arrow"), rows); err != nil {
				return err
			}
			return writeCurves(filepath.Join(o.Out, "curves.png"), rows)
		},
	}
	rows, err := fitRecovering(ctx, tr)
	if err != nil {
		if errors.Is(err, train.ErrOtherSettings) {
			return nil, &InputError{err}
		}
		return nil, err
	}
	prog.close()
	if err := artifact.WriteTable(filepath.Join(o.Out, "metrics.arrow"), rows); err != nil {
		return nil, err
	}
	if err := writeCurves(filepath.Join(o.Out, "curves.png"), rows); err != nil {
		return nil, err
	}
	var model []checkpoint.Tensor
	for _, t := range net.Scope().StateDict() {
		model = append(model, checkpoint.Tensor(t))
	}
	if err := checkpoint.Write(filepath.Join(o.Out, "model.safetensors"), model, map[string]string{"format": "pt"}); err != nil {
		return nil, err
	}
	res = &Result{
		Dataset: o.Dataset, Normalisation: norm, Recipe: r, Seed: o.Seed, Device: o.DeviceName, Epochs: len(rows),
		Network: Network{Genotype: geno, Repr: geno.Repr(), Layers: r.Layers, InitChannels: r.InitChannels,
			Classes: classes, Auxiliary: opts.Auxiliary},
		Parameters: net.NumParams(), ParametersAll: net.Scope().NumParams(), MultAdds: net.MultAdds(h, w),
		DataFiles: [2]string{trainPath, testPath},
	}
	for i, row := range rows {
		if i == 0 || row.TestAcc > res.BestTestAcc {
			res.BestTestAcc, res.BestEpoch = row.TestAcc, row.Epoch
		}
		res.WallSeconds += row.Seconds
	}
	last := rows[len(rows)-1]
	res.FinalTestAcc, res.FinalTestLoss, res.FinalTrainAcc = last.TestAcc, last.TestLoss, last.TrainAcc
	if res.WallSeconds == 0 {
		res.WallSeconds = time.Since(began).Seconds()
	}
	if err := artifact.WriteJSON(filepath.Join(o.Out, "result.json"), res); err != nil {
		return nil, err
	}
	return res, nil
}

// fitRecovering runs Fit, turning a backend panic (the CUDA backend reports
// library failures by panicking) into an error.
func fitRecovering(ctx context.Context, tr *train.Trainer) (rows []train.Row, err error) {
	defer func() {
		if p := recover(); p != nil {
			if e, ok := p.(error); ok {
				err = fmt.Errorf("backend failure: %w", e)
				return
			}
			panic(p)
		}
	}()
	return tr.Fit(ctx)
}

func loadGenotype(o Options) (genotype.Genotype, error) {
	base := o.Genotype
	if base == "" && (o.Normal == "" || o.Reduce == "") {
		return genotype.Genotype{}, inputErr("give --genotype, or both --normal and --reduce")
	}
	load := func(arg string) (genotype.Genotype, error) {
		if arg == "" {
			arg = base
		}
		g, err := genotype.Load(arg)
		if err != nil {
			return g, &InputError{err}
		}
		return g, nil
	}
	if o.Normal == "" && o.Reduce == "" {
		g, err := load(base)
		if err != nil {
			return g, err
		}
		if err := g.Validate(); err != nil {
			return g, inputErr("genotype %s: %w", base, err)
		}
		return g, nil
	}
	n, err := load(o.Normal)
	if err != nil {
		return n, err
	}
	rd, err := load(o.Reduce)
	if err != nil {
		return rd, err
	}
	g := genotype.Combine(n, rd)
	if err := g.Validate(); err != nil {
		return g, inputErr("combined genotype: %w", err)
	}
	return g, nil
}

func openBeton(path string) (*loader.BetonSource, func(), error) {
	if _, err := os.Stat(path); err != nil {
		return nil, nil, &InputError{fmt.Errorf("data file %s: %w (convert the dataset with convert-cifar first)", path, err)}
	}
	r, err := beton.Open(path)
	if err != nil {
		return nil, nil, &InputError{err}
	}
	src, err := loader.NewBetonSource(r, "image", "label")
	if err != nil {
		r.Close()
		return nil, nil, &InputError{err}
	}
	return src, func() { r.Close() }, nil
}

// firstN returns 0..min(n, limit)-1 (all when limit is 0).
func firstN(n, limit int) []int {
	if limit > 0 && limit < n {
		n = limit
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return idx
}
