// Command train-eval trains a DARTS evaluation network for a genotype from
// scratch on CIFAR or ImageNet .beton files and writes metrics.arrow, curves.png,
// model.safetensors (DARTS reference tensor names), state.json and
// result.json into --out. Rerun with the same arguments, a killed run
// resumes from its last completed epoch. See package pertnas/train/traineval.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/alecthomas/kong"

	"pertnas/cuda"
	"pertnas/internal/stage"
	"pertnas/nn"
	"pertnas/nn/cpu"
	"pertnas/train"
	"pertnas/train/traineval"
)

type cli struct {
	Genotype string `help:"Genotype: a built-in name (DARTS_V1, DARTS_V2, PERTNAS_EVOLUTIONARY, PERTNAS_SUPERNET) or a file (JSON or DARTS repr)."`
	Normal   string `help:"Take the normal cell from this genotype (name or file); defaults to --genotype."`
	Reduce   string `help:"Take the reduction cell from this genotype (name or file); defaults to --genotype."`
	Data     string `required:"" type:"path" help:"Folder holding cifar_train.beton and cifar_test.beton (convert-cifar output), or for imagenet imagenet_train.beton, imagenet_val.beton and manifest.json (convert-imagenet output)."`
	Dataset  string `default:"cifar10" enum:"cifar10,cifar100,imagenet" help:"Dataset: cifar10, cifar100 or imagenet (NetworkImageNet, mobile setting)."`
	Out      string `required:"" type:"path" help:"Output folder (metrics.arrow, model.safetensors, state.json, result.json, curves.png)."`
	Preset   string `default:"paper" enum:"paper,quick,smoke" help:"Recipe the other flags start from: paper (the dataset's recipe in spec/darts.md: CIFAR 600 epochs; ImageNet 300 epochs, 224 crops), quick, smoke."`

	Epochs          *int     `help:"Training epochs (paper: 600)."`
	BatchSize       *int     `help:"Batch size (paper: 128)."`
	LR              *float64 `name:"lr" help:"Initial learning rate, cosine-annealed to 0 (ImageNet: decayed linearly) (paper: 0.025; ImageNet 0.1)."`
	WeightDecay     *float64 `help:"SGD weight decay (paper: 3e-4)."`
	Layers          *int     `help:"Cells in the network (paper: 20)."`
	InitChannels    *int     `help:"Initial channels C (paper: 36)."`
	AuxiliaryWeight *float64 `help:"Auxiliary loss weight; 0 builds no auxiliary head (paper: 0.4)."`
	DropPath        *float64 `help:"Final drop-path probability, ramped linearly from 0 (paper: 0.3)."`
	Cutout          *int     `help:"Cutout side in pixels, 0 for none (paper: 16)."`
	LimitTrain      *int     `help:"Use only the first N training images, 0 for all (smoke: 256)."`
	LimitTest       *int     `help:"Use only the first N test images, 0 for all (smoke: 128)."`
	ImageSize       *int     `help:"ImageNet only: crop side, a multiple of 32 (paper: 224)."`
	ResizeSize      *int     `help:"ImageNet only: shorter side of evaluation images before the centre crop (paper: 256)."`
	LabelSmoothing  *float64 `help:"Label smoothing of the training loss (ImageNet paper: 0.1)."`

	Seed       uint64 `default:"0" help:"Seed of every random choice (init, data order, augmentation, drop path)."`
	Device     string `default:"auto" enum:"auto,cpu,cuda" help:"Where to run: auto (cuda when usable, else cpu), cpu, cuda."`
	CudaLibDir string `help:"Folder(s) holding the NVIDIA libraries for --device cuda (default: search)."`
	Precision  string `default:"fp32" enum:"fp32,tf32,fp16,bf16" help:"GPU arithmetic: fp32 (strict), tf32 (TF32 tensor-core convolutions and GEMMs), fp16 (mixed precision with dynamic loss scaling) or bf16 (mixed precision). The CPU runs fp32 only."`
	Threads    int    `default:"0" help:"CPU backend threads (0: all cores); results do not depend on it."`
	Workers    int    `default:"0" help:"Data loader goroutines (0: all cores)."`
}

func main() {
	var c cli
	stage.Stage{Name: "train-eval", Grammar: &c, Options: []kong.Option{
		kong.Description("Train a DARTS evaluation network for a genotype from scratch and evaluate it (resumable)."),
	}}.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(c, log); err != nil {
		log.Error("train-eval failed", "err", err)
		var ie *traineval.InputError
		if errors.As(err, &ie) {
			os.Exit(stage.StatusBadInput)
		}
		os.Exit(stage.StatusFailure)
	}
}

func run(c cli, log *slog.Logger) error {
	recipe, ok := traineval.Preset(c.Dataset, c.Preset)
	if !ok {
		return &traineval.InputError{Err: fmt.Errorf("no preset %q for dataset %s", c.Preset, c.Dataset)}
	}
	stage.SetIfGiven(&recipe.Epochs, c.Epochs)
	stage.SetIfGiven(&recipe.BatchSize, c.BatchSize)
	stage.SetIfGiven(&recipe.LR, c.LR)
	stage.SetIfGiven(&recipe.WeightDecay, c.WeightDecay)
	stage.SetIfGiven(&recipe.Layers, c.Layers)
	stage.SetIfGiven(&recipe.InitChannels, c.InitChannels)
	stage.SetIfGiven(&recipe.AuxWeight, c.AuxiliaryWeight)
	stage.SetIfGiven(&recipe.DropPath, c.DropPath)
	stage.SetIfGiven(&recipe.Cutout, c.Cutout)
	stage.SetIfGiven(&recipe.LimitTrain, c.LimitTrain)
	stage.SetIfGiven(&recipe.LimitTest, c.LimitTest)
	stage.SetIfGiven(&recipe.ImageSize, c.ImageSize)
	stage.SetIfGiven(&recipe.ResizeSize, c.ResizeSize)
	stage.SetIfGiven(&recipe.LabelSmoothing, c.LabelSmoothing)

	backend, device, err := openBackend(c)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log.Info("train-eval", "device", device, "preset", c.Preset, "out", c.Out)
	res, err := traineval.Run(ctx, traineval.Options{
		Genotype: c.Genotype, Normal: c.Normal, Reduce: c.Reduce, Data: c.Data, Dataset: c.Dataset,
		Recipe: recipe, Seed: c.Seed, Backend: backend, DeviceName: device, Precision: c.Precision, Workers: c.Workers, Out: c.Out,
		Progress: os.Stderr, Log: log,
	})
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("interrupted; the last completed epoch is saved in %s, rerun the same command to resume", c.Out)
	}
	var de *train.DivergenceError
	if errors.As(err, &de) {
		return fmt.Errorf("%w; the checkpoint of the last completed epoch in %s is intact", err, c.Out)
	}
	if err != nil {
		return err
	}
	log.Info("done", "final_test_acc", res.FinalTestAcc, "final_test_acc5", res.FinalTestAcc5, "best_test_acc", res.BestTestAcc, "best_epoch", res.BestEpoch,
		"parameters", res.Parameters, "flops", res.MultAdds, "wall_seconds", res.WallSeconds)
	return nil
}

// openBackend returns the backend --device asks for and its description.
func openBackend(c cli) (nn.Backend, string, error) {
	useCUDA := c.Device == "cuda"
	if c.Device == "auto" {
		ok, _ := cuda.AvailableIn(c.CudaLibDir)
		useCUDA = ok
	}
	prec, tf32, err := cuda.ParsePrecision(c.Precision)
	if err != nil {
		return nil, "", &traineval.InputError{Err: err}
	}
	if !useCUDA && c.Precision != "fp32" {
		return nil, "", &traineval.InputError{Err: fmt.Errorf("--precision %s needs a GPU (--device cuda); the CPU runs fp32", c.Precision)}
	}
	if useCUDA {
		b, err := cuda.NewBackend(0, cuda.Options{LibDir: c.CudaLibDir, Precision: prec, TF32: tf32})
		if err != nil {
			// The library search report is long; its first line says what failed.
			first, _, _ := strings.Cut(err.Error(), "\n")
			return nil, "", fmt.Errorf("--device cuda: %s (use --device cpu, or --cuda-lib-dir)", strings.TrimSuffix(first, ":"))
		}
		return b, b.Name() + " " + b.Info().String() + " " + c.Precision, nil
	}
	b := cpu.New(c.Threads)
	return b, fmt.Sprintf("cpu (%d threads)", b.Threads()), nil
}
