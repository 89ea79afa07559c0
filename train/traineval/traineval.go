// Package traineval is the work of the train-eval stage: build a DARTS
// evaluation network for a genotype (NetworkCIFAR, or NetworkImageNet for
// --dataset imagenet), open the .beton files, train it with the recipe of
// docs/spec/darts.md (package train), and write the outputs into one folder:
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
//
// Epochs are numbered from 1 wherever a person reads them: the log lines,
// the progress bar ("epoch 3/10"), metrics.arrow's epoch column,
// result.json's best_epoch and the curves' x axis all say 1 for the first
// epoch and Epochs for the last. (train.Row.Epoch, the trainer's own index
// that the schedules use, counts from 0; Published converts.)
package traineval

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"time"

	"pertnas/darts"
	"pertnas/formats/artifact"
	"pertnas/formats/beton"
	"pertnas/formats/checkpoint"
	"pertnas/formats/dataset"
	"pertnas/formats/genotype"
	"pertnas/internal/stage"
	"pertnas/loader"
	"pertnas/nn"
	"pertnas/nn/cpu/kern"
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
	// Schedule is the learning-rate schedule: cosine (also when empty) or
	// linear.
	Schedule       string  `json:"schedule,omitempty"`
	LabelSmoothing float64 `json:"label_smoothing,omitempty"`
	// ImageSize is the ImageNet crop side (RandomResizedCrop in training,
	// CenterCrop in evaluation), a multiple of 32; ResizeSize is the
	// shorter side evaluation images are resized to before the centre crop.
	// ColorJitter is brightness, contrast, saturation, hue. ImageNet only.
	ImageSize   int        `json:"image_size,omitempty"`
	ResizeSize  int        `json:"resize_size,omitempty"`
	ColorJitter [4]float64 `json:"color_jitter,omitzero"`
	// JPEGDCTScale decodes JPEGs at 1/2, 1/4 or 1/8 where the crop allows
	// (loader.Config.JPEGDCTScale: faster, other pixels). ImageNet only;
	// absent from the JSON when off.
	JPEGDCTScale bool `json:"jpeg_dct_scale,omitempty"`
}

// Presets are the named recipes. "paper" is the CIFAR-10 recipe of
// docs/spec/darts.md (600 epochs, batch 128, lr 0.025 cosine, momentum 0.9,
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

// ImageNetPresets are the named recipes for --dataset imagenet. "paper" is
// the ImageNet mobile recipe of docs/spec/darts.md: 300 epochs, batch 128, SGD lr
// 0.1 decayed linearly, momentum 0.9, weight decay 3e-5, label smoothing
// 0.1, clip 5, no auxiliary head, no drop path, 14 cells of 48 channels,
// RandomResizedCrop 224 + flip + ColorJitter(0.4, 0.4, 0.4, 0.2) in
// training, resize 256 + centre crop 224 in evaluation. "quick" trains a
// small network on 64-pixel crops (resize 73) and "smoke" a tiny one on
// 32-pixel crops (resize 36), for CPU runs on small data.
var ImageNetPresets = map[string]Recipe{
	"paper": {Epochs: 300, BatchSize: 128, LR: 0.1, Momentum: 0.9, WeightDecay: 3e-5, GradClip: 5,
		Layers: 14, InitChannels: 48, Schedule: "linear", LabelSmoothing: 0.1,
		ImageSize: 224, ResizeSize: 256, ColorJitter: [4]float64{0.4, 0.4, 0.4, 0.2}},
	"quick": {Epochs: 10, BatchSize: 32, LR: 0.1, Momentum: 0.9, WeightDecay: 3e-5, GradClip: 5,
		Layers: 5, InitChannels: 16, Schedule: "linear", LabelSmoothing: 0.1,
		ImageSize: 64, ResizeSize: 73, ColorJitter: [4]float64{0.4, 0.4, 0.4, 0.2}},
	"smoke": {Epochs: 2, BatchSize: 16, LR: 0.1, Momentum: 0.9, WeightDecay: 3e-5, GradClip: 5,
		Layers: 3, InitChannels: 8, Schedule: "linear", LabelSmoothing: 0.1,
		ImageSize: 32, ResizeSize: 36, ColorJitter: [4]float64{0.4, 0.4, 0.4, 0.2}, LimitTrain: 256, LimitTest: 128},
}

// Preset returns the named recipe for a dataset: ImageNetPresets for
// imagenet, Presets for the others.
func Preset(dataset, name string) (Recipe, bool) {
	if dataset == "imagenet" {
		r, ok := ImageNetPresets[name]
		return r, ok
	}
	r, ok := Presets[name]
	return r, ok
}

// Validate checks the recipe for dataset; a bad value is an *InputError
// naming train-eval's flag for it ("--weight-decay: must be >= 0, got -1").
func (r Recipe) Validate(dataset string) error {
	var errs []error
	check := func(ok bool, flag, format string, a ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf("%s: "+format, append([]any{flag}, a...)...))
		}
	}
	check(r.Epochs >= 1, "--epochs", "must be >= 1, got %d", r.Epochs)
	check(r.BatchSize >= 1, "--batch-size", "must be >= 1, got %d", r.BatchSize)
	check(r.LR > 0, "--lr", "must be > 0, got %g", r.LR)
	check(r.WeightDecay >= 0, "--weight-decay", "must be >= 0, got %g", r.WeightDecay)
	check(r.Layers >= 3, "--layers", "must be >= 3, got %d", r.Layers)
	check(r.InitChannels >= 1, "--init-channels", "must be >= 1, got %d", r.InitChannels)
	check(r.AuxWeight >= 0, "--auxiliary-weight", "must be >= 0, got %g", r.AuxWeight)
	check(r.DropPath >= 0 && r.DropPath < 1, "--drop-path", "must be in [0, 1), got %g", r.DropPath)
	check(r.Cutout >= 0, "--cutout", "must be >= 0 (0: none), got %d", r.Cutout)
	check(r.LimitTrain >= 0, "--limit-train", "must be >= 0 (0: all), got %d", r.LimitTrain)
	check(r.LimitTest >= 0, "--limit-test", "must be >= 0 (0: all), got %d", r.LimitTest)
	check(r.LabelSmoothing >= 0 && r.LabelSmoothing < 1, "--label-smoothing", "must be in [0, 1), got %g", r.LabelSmoothing)
	check(r.Momentum >= 0 && r.GradClip >= 0, "recipe", "momentum %g and gradient clip %g must be >= 0", r.Momentum, r.GradClip)
	check(r.Schedule == "" || r.Schedule == "cosine" || r.Schedule == "linear", "recipe", "unknown schedule %q (want cosine or linear)", r.Schedule)
	switch dataset {
	case "imagenet":
		j := r.ColorJitter
		check(r.ImageSize > 0 && r.ImageSize%32 == 0, "--image-size", "must be a positive multiple of 32 (the network downsamples 32x), got %d", r.ImageSize)
		check(r.ResizeSize >= r.ImageSize, "--resize-size", "must be at least --image-size %d, got %d", r.ImageSize, r.ResizeSize)
		check(j[0] >= 0 && j[1] >= 0 && j[2] >= 0 && j[3] >= 0 && j[3] <= 0.5, "recipe", "colour jitter %v must be >= 0 with hue <= 0.5", j)
		check(r.AuxWeight == 0 || r.ImageSize >= 224, "--auxiliary-weight",
			"the ImageNet auxiliary head needs --image-size >= 224 (a 7x7 map), got %d; use --auxiliary-weight 0", r.ImageSize)
	case "cifar10", "cifar100":
		check(r.ImageSize == 0, "--image-size", "applies to --dataset imagenet only")
		check(r.ResizeSize == 0, "--resize-size", "applies to --dataset imagenet only")
		check(r.ColorJitter == [4]float64{}, "recipe", "colour jitter applies to --dataset imagenet only")
		check(!r.JPEGDCTScale, "--jpeg-dct-scale", "applies to --dataset imagenet only")
	default:
		check(false, "--dataset", "unknown dataset %q (want cifar10, cifar100 or imagenet)", dataset)
	}
	if err := errors.Join(errs...); err != nil {
		return &InputError{err}
	}
	return nil
}

// Options is everything the stage passes in.
type Options struct {
	// Genotype is a built-in name or a file (JSON or DARTS repr). Normal and
	// Reduce, when set, take the normal cell from one genotype and the
	// reduction cell from another (either may default to Genotype).
	Genotype, Normal, Reduce string
	// Data is the dataset folder (formats/dataset): a dataset.CIFAR one
	// (cifar_train.beton, cifar_test.beton) or for imagenet a
	// dataset.ImageNet one (imagenet_train.beton, imagenet_val.beton, with
	// convert-imagenet's manifest giving the number of classes).
	Data    string
	Dataset string // cifar10, cifar100 or imagenet
	Recipe  Recipe
	Seed    uint64
	// Backend runs the network; DeviceName describes it for result.json.
	Backend    nn.Backend
	DeviceName string
	// Precision is the backend's arithmetic ("fp32", "tf32", "fp16",
	// "bf16"; "" is fp32), recorded in result.json and the checkpoint.
	// fp16 trains with dynamic loss scaling.
	Precision string
	// Deterministic records that the GPU backend runs with repeatable
	// algorithm choices (--deterministic); a checkpoint resumes only in the
	// same mode.
	Deterministic bool
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
	// Kind is "cifar" (NetworkCIFAR) or "imagenet" (NetworkImageNet).
	Kind string `json:"kind"`
	// ImageSize is the side of the training and evaluation input.
	ImageSize int `json:"image_size"`
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
	Precision     string        `json:"precision,omitempty"`
	// Kernels is the CPU kernel path that computed the run (kern.Path).
	Kernels string `json:"kernels"`
	Epochs  int    `json:"epochs"`
	// Accuracies are fractions: top-1, and top-5 (Acc5). BestTestAcc is
	// the highest top-1 over the epochs (at BestEpoch), BestTestAcc5 the
	// highest top-5.
	BestTestAcc   float64 `json:"best_test_acc"`
	BestTestAcc5  float64 `json:"best_test_acc5"`
	BestEpoch     int     `json:"best_epoch"` // counted from 1
	FinalTestAcc  float64 `json:"final_test_acc"`
	FinalTestAcc5 float64 `json:"final_test_acc5"`
	FinalTestLoss float64 `json:"final_test_loss"`
	FinalTrainAcc float64 `json:"final_train_acc"`
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
	// Precision is set for the mixed and TF32 modes only, so fp32 runs
	// resume on either device.
	Precision string `json:"precision,omitempty"`
	// Deterministic is set for --deterministic runs (pinned like Precision).
	Deterministic bool `json:"deterministic,omitempty"`
	// Kernels is the CPU kernel path (kern.Current): the paths sum in
	// different orders, so a resume on another one is refused. It is left
	// out for a checkpoint made before the path was recorded (runKernels).
	Kernels string `json:"kernels,omitempty"`
}

// Run trains and writes the outputs. Bad arguments or input files give an
// *InputError; ctx cancellation stops after saving the last completed epoch.
// A device failure of the backend (an nn.DeviceFailure panic) is returned as
// an error; the last completed epoch's checkpoint stays.
func Run(ctx context.Context, o Options) (res *Result, err error) {
	defer nn.RecoverDeviceFailure(&err)
	began := time.Now()
	r := o.Recipe
	classes := 0
	imagenet := o.Dataset == "imagenet"
	layout := dataset.CIFAR
	switch o.Dataset {
	case "cifar10":
		classes = 10
	case "cifar100":
		classes = 100
	case "imagenet":
		layout = dataset.ImageNet
	default:
		return nil, inputErr("unknown dataset %q (want cifar10, cifar100 or imagenet)", o.Dataset)
	}
	if err := r.Validate(o.Dataset); err != nil {
		return nil, err
	}
	schedule := train.Cosine
	if r.Schedule == "linear" {
		schedule = train.Linear
	}
	geno, err := loadGenotype(o)
	if err != nil {
		return nil, err
	}
	if o.Out == "" {
		return nil, inputErr("no output folder given")
	}

	data, err := dataset.Open(o.Data, layout)
	if err != nil {
		return nil, &InputError{fmt.Errorf("--data %s: %w", o.Data, err)}
	}
	if !imagenet {
		if err := checkCIFARManifest(data, o.Dataset, classes); err != nil {
			return nil, err
		}
	}
	trainPath, testPath := data.TrainPath(), data.TestPath()
	trainSrc, closeTrain, err := openBeton(trainPath, o.Dataset)
	if err != nil {
		return nil, err
	}
	defer closeTrain()
	testSrc, closeTest, err := openBeton(testPath, o.Dataset)
	if err != nil {
		return nil, err
	}
	defer closeTest()
	norm := Normalisation{loader.DARTSMean, loader.DARTSStd}
	trainIdx, testIdx := firstN(trainSrc.NumSamples(), r.LimitTrain), firstN(testSrc.NumSamples(), r.LimitTest)
	trainCfg := loader.Config{BatchSize: r.BatchSize, Order: loader.Random, Seed: o.Seed,
		DropLast: true, Workers: o.Workers, Indices: trainIdx, Augment: loader.DARTSTrain(r.Cutout),
		Mean: norm.Mean, Std: norm.Std, Classes: classes}
	testCfg := loader.Config{BatchSize: r.BatchSize, Order: loader.Sequential, Workers: o.Workers,
		Indices: testIdx, Mean: norm.Mean, Std: norm.Std, Classes: classes}
	if imagenet {
		if classes, err = imagenetClasses(data, trainSrc); err != nil {
			return nil, err
		}
		norm = Normalisation{loader.ImageNetMean, loader.ImageNetStd}
		j := r.ColorJitter
		trainCfg.Crop = loader.ImageNetTrainCrop(r.ImageSize)
		trainCfg.Augment = loader.Augment{Flip: true, Cutout: r.Cutout,
			Jitter: loader.ColorJitter{Brightness: j[0], Contrast: j[1], Saturation: j[2], Hue: j[3]}}
		testCfg.Crop = loader.ImageNetTestCrop(r.ImageSize, r.ResizeSize)
		for _, c := range []*loader.Config{&trainCfg, &testCfg} {
			c.Mean, c.Std, c.Classes, c.JPEGDCTScale = norm.Mean, norm.Std, classes, r.JPEGDCTScale
		}
	}
	if err := checkLabels(trainPath, trainSrc, trainIdx, classes, o.Dataset); err != nil {
		return nil, err
	}
	if err := checkLabels(testPath, testSrc, testIdx, classes, o.Dataset); err != nil {
		return nil, err
	}
	trainL, err := loader.New(trainSrc, trainCfg)
	if err != nil {
		return nil, &InputError{fmt.Errorf("%s: %w", trainPath, err)}
	}
	if trainL.NumBatches() == 0 {
		return nil, inputErr("%s: %d training samples make no full batch of %d", trainPath, trainL.Len(), r.BatchSize)
	}
	testL, err := loader.New(testSrc, testCfg)
	if err != nil {
		return nil, &InputError{fmt.Errorf("%s: %w", testPath, err)}
	}
	_, h, w := trainL.Shape()

	opts := darts.EvalOptions{C: r.InitChannels, Layers: r.Layers, Classes: classes, Auxiliary: r.AuxWeight > 0}
	newNet, kind := darts.NewCIFARNetwork, "cifar"
	if imagenet {
		newNet, kind = darts.NewImageNetNetwork, "imagenet"
	}
	net, err := newNet(o.Backend, geno, opts, rand.New(rand.NewPCG(o.Seed, 0x6d6f64656c)))
	if err != nil {
		return nil, &InputError{err}
	}
	tr := &train.Trainer{
		Model: evalModel{net}, Train: trainL, Test: testL, Dir: o.Out,
		Config: train.Config{Epochs: r.Epochs, LR: float32(r.LR), Schedule: schedule,
			Momentum: float32(r.Momentum), WeightDecay: float32(r.WeightDecay), GradClip: float32(r.GradClip),
			AuxWeight: float32(r.AuxWeight), DropPath: float32(r.DropPath), LabelSmoothing: float32(r.LabelSmoothing),
			Seed: o.Seed, LossScaling: o.Precision == "fp16"},
		Run: runKey{Dataset: o.Dataset, Genotype: geno, Recipe: r, Train: filepath.Base(trainPath), Test: filepath.Base(testPath),
			NTrain: len(trainIdx), NTest: len(testIdx), Precision: runPrecision(o.Precision), Deterministic: o.Deterministic, Kernels: runKernels(o.Out)},
	}
	// Everything is checked: from here on the run writes into o.Out,
	// starting with removing what killed writes left there.
	removed, err := stage.RemoveTemps(o.Out, true, nil)
	if err != nil {
		return nil, err
	}
	if len(removed) > 0 && o.Log != nil {
		o.Log.Info("removed the temporary files of killed writes", "files", len(removed), "under", o.Out)
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
			pub := Published(rows)
			row := pub[len(pub)-1]
			prog.epochDone()
			if o.Log != nil {
				o.Log.Info("epoch", "epoch", row.Epoch, "of", r.Epochs, "train_loss", row.TrainLoss, "train_acc", row.TrainAcc,
					"test_loss", row.TestLoss, "test_acc", row.TestAcc, "test_acc5", row.TestAcc5, "lr", row.LR, "seconds", row.Seconds,
					"images_per_s", row.ImagesPerS, "eta", eta(pub, r.Epochs))
			}
			if err := artifact.WriteTable(filepath.Join(o.Out, "metrics.arrow"), pub); err != nil {
				return err
			}
			return writeCurves(filepath.Join(o.Out, "curves.png"), rows)
		},
	}
	rows, err := tr.Fit(ctx)
	if err != nil {
		if errors.Is(err, train.ErrOtherSettings) {
			return nil, &InputError{err}
		}
		return nil, err
	}
	prog.close()
	if err := artifact.WriteTable(filepath.Join(o.Out, "metrics.arrow"), Published(rows)); err != nil {
		return nil, err
	}
	if err := writeCurves(filepath.Join(o.Out, "curves.png"), rows); err != nil {
		return nil, err
	}
	if err := checkpoint.Write(filepath.Join(o.Out, "model.safetensors"), net.Scope().StateDict(), map[string]string{"format": "pt"}); err != nil {
		return nil, err
	}
	res = &Result{
		Dataset: o.Dataset, Normalisation: norm, Recipe: r, Seed: o.Seed, Device: o.DeviceName, Precision: o.Precision, Kernels: string(kern.Current()), Epochs: len(rows),
		Network: Network{Genotype: geno, Repr: geno.Repr(), Layers: r.Layers, InitChannels: r.InitChannels,
			Classes: classes, Auxiliary: opts.Auxiliary, Kind: kind, ImageSize: h},
		Parameters: net.NumParams(), ParametersAll: net.Scope().NumParams(), MultAdds: net.MultAdds(h, w),
		DataFiles: [2]string{trainPath, testPath},
	}
	for i, row := range Published(rows) {
		if i == 0 || row.TestAcc > res.BestTestAcc {
			res.BestTestAcc, res.BestEpoch = row.TestAcc, row.Epoch
		}
		res.BestTestAcc5 = max(res.BestTestAcc5, row.TestAcc5)
		res.WallSeconds += row.Seconds
	}
	last := rows[len(rows)-1]
	res.FinalTestAcc, res.FinalTestLoss, res.FinalTrainAcc = last.TestAcc, last.TestLoss, last.TrainAcc
	res.FinalTestAcc5 = last.TestAcc5
	if res.WallSeconds == 0 {
		res.WallSeconds = time.Since(began).Seconds()
	}
	if err := artifact.WriteJSON(filepath.Join(o.Out, "result.json"), res); err != nil {
		return nil, err
	}
	return res, nil
}

// eta estimates the time left from the mean epoch time so far.
func eta(rows []train.Row, epochs int) time.Duration {
	var sum float64
	for _, r := range rows {
		sum += r.Seconds
	}
	left := float64(epochs-len(rows)) * sum / float64(len(rows))
	return (time.Duration(left * float64(time.Second))).Round(time.Second)
}

// Published returns a copy of the trainer's rows with the epochs numbered
// from 1, as every output of the stage shows them.
func Published(rows []train.Row) []train.Row {
	out := slices.Clone(rows)
	for i := range out {
		out[i].Epoch++
	}
	return out
}

// runKernels is the kernel path for the run key: kern.Current(), or "" when
// out holds a checkpoint whose run key has no kernels (made before the path
// was recorded), which then still resumes.
func runKernels(out string) string {
	if st, err := checkpoint.ReadState(out); err == nil {
		var fp struct {
			Run map[string]json.RawMessage `json:"run"`
		}
		if json.Unmarshal(st.Config, &fp) == nil && fp.Run != nil {
			if _, ok := fp.Run["kernels"]; !ok {
				return ""
			}
		}
	}
	return string(kern.Current())
}

// runPrecision is the checkpoint's record of a precision: "" for fp32.
func runPrecision(p string) string {
	if p == "fp32" {
		return ""
	}
	return p
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

func openBeton(path, dataset string) (*loader.BetonSource, func(), error) {
	if _, err := os.Stat(path); err != nil {
		conv := "convert-cifar"
		if dataset == "imagenet" {
			conv = "convert-imagenet"
		}
		return nil, nil, &InputError{fmt.Errorf("data file %s: %w (convert the dataset with %s first)", path, err, conv)}
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

// checkLabels reads the label of every sample idx names and refuses the
// data (bad input) when one lies outside [0, classes): a refusal before the
// run starts, rather than a failure in the middle of an epoch.
func checkLabels(path string, src *loader.BetonSource, idx []int, classes int, dataset string) error {
	for _, i := range idx {
		e, err := src.Sample(i)
		if err != nil {
			return &InputError{fmt.Errorf("%s: sample %d: %w", path, i, err)}
		}
		if e.Label < 0 || e.Label >= int64(classes) {
			return inputErr("%s: sample %d has label %d outside [0, %d) (--dataset %s)", path, i, e.Label, classes, dataset)
		}
	}
	return nil
}

// checkCIFARManifest checks convert-cifar's manifest of the folder, when
// there is one (not for .beton files written by other tools), against the
// dataset and number of classes asked for: CIFAR-10 data trained as
// cifar100 (or the reverse) is bad input, not a network with a head of the
// wrong size.
func checkCIFARManifest(data *dataset.Folder, name string, classes int) error {
	m := data.Manifest
	if m != nil && (m.Dataset != name || m.NumClasses != classes) {
		return inputErr("--dataset %s (%d classes): %s says the data is %s with %d classes; use --dataset %s or another --data",
			name, classes, data.ManifestPath(), m.Dataset, m.NumClasses, m.Dataset)
	}
	return nil
}

// imagenetClasses returns the number of classes: num_classes of
// convert-imagenet's manifest when the folder has one, else the largest
// training label plus one (a .beton written by other tools).
func imagenetClasses(data *dataset.Folder, train *loader.BetonSource) (int, error) {
	if data.Manifest != nil {
		return data.Manifest.NumClasses, nil
	}
	top := int64(-1)
	for i := range train.NumSamples() {
		e, err := train.Sample(i)
		if err != nil {
			return 0, &InputError{err}
		}
		if e.Label < 0 || e.Label >= 1<<20 {
			return 0, inputErr("training sample %d has label %d outside [0, 2^20)", i, e.Label)
		}
		top = max(top, e.Label)
	}
	return int(top + 1), nil
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
