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
	"path/filepath"

	"pertnas/formats/checkpoint"
	"pertnas/internal/stage"
	"pertnas/internal/stage/device"
	"pertnas/train"
	"pertnas/train/traineval"
)

type cli struct {
	Genotype string `placeholder:"NAME|FILE" help:"Genotype: a built-in name (DARTS_V1, DARTS_V2, PERTNAS_EVOLUTIONARY, PERTNAS_SUPERNET) or a file (JSON or DARTS repr)."`
	Normal   string `placeholder:"NAME|FILE" help:"Take the normal cell from this genotype (name or file); defaults to --genotype."`
	Reduce   string `placeholder:"NAME|FILE" help:"Take the reduction cell from this genotype (name or file); defaults to --genotype."`
	Data     string `required:"" type:"path" placeholder:"DIR" help:"Folder holding cifar_train.beton and cifar_test.beton (convert-cifar output), or for imagenet imagenet_train.beton, imagenet_val.beton and manifest.json (convert-imagenet output)."`
	Dataset  string `default:"cifar10" enum:"cifar10,cifar100,imagenet" help:"Dataset: cifar10, cifar100 or imagenet (NetworkImageNet, mobile setting)."`
	Out      string `required:"" type:"path" placeholder:"DIR" help:"Output folder (metrics.arrow, model.safetensors, state.json, result.json, curves.png)."`
	Preset   string `default:"paper" enum:"paper,quick,smoke" help:"Recipe the other flags start from: paper (the dataset's recipe in docs/spec/darts.md: CIFAR 600 epochs; ImageNet 300 epochs, 224 crops), quick, smoke."`

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
	JPEGDCTScale    bool     `name:"jpeg-dct-scale" help:"ImageNet only: decode a JPEG at 1/2, 1/4 or 1/8 (libjpeg-turbo's DCT-domain scaling) when its crop box is at least that many times the resized size in both directions: faster where crops are much larger than --image-size (30-40% more images per CPU second at 64; no effect at 224 on convert-imagenet's images of at most 500 pixels), but the pixels are no longer torchvision's (about 1.3 of 255 on average on the images it scales). Off by default; recorded in the run's recipe, so a resume with the other setting is refused."`

	Seed    uint64 `default:"1" help:"Seed of every random choice (init, data order, augmentation, drop path)."`
	Workers int    `default:"0" help:"Data loader goroutines (0: all cores)."`
	device.Flags
}

func main() {
	stage.Stage{Name: "train-eval", Grammar: &cli{},
		Description: "Train a DARTS evaluation network for a genotype from scratch and evaluate it (resumable).",
		BadInput:    func(err error) bool { var ie *traineval.InputError; return errors.As(err, &ie) },
		Interrupted: "interrupted; the last completed epoch is saved, rerun the same command to resume",
	}.Main()
}

// recipe is the preset with the flags given on top.
func (c *cli) recipe() (traineval.Recipe, error) {
	recipe, ok := traineval.Preset(c.Dataset, c.Preset)
	if !ok {
		return recipe, stage.FlagErrorf("--preset", "no preset %q for --dataset %s", c.Preset, c.Dataset)
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
	recipe.JPEGDCTScale = c.JPEGDCTScale
	return recipe, nil
}

// Validate refuses bad flag values while parsing, before anything runs.
func (c *cli) Validate() error {
	r, err := c.recipe()
	if err != nil {
		return err
	}
	if err := r.Validate(c.Dataset); err != nil {
		return err
	}
	if c.Workers < 0 {
		return stage.FlagErrorf("--workers", "must be >= 0 (0: all cores), got %d", c.Workers)
	}
	return nil
}

func (c *cli) Run(ctx context.Context) error {
	recipe, err := c.recipe()
	if err != nil {
		return err
	}
	dev, err := c.Flags.Open()
	if err != nil {
		return err
	}
	pinned := "" // the kernel path of the checkpoint being resumed
	if st, err := checkpoint.ReadState(c.Out); err == nil {
		pinned = st.Kernels
	}
	kernels, err := c.Flags.UseKernels(pinned, filepath.Join(c.Out, "state.json"))
	if err != nil {
		return err
	}
	backend, err := dev.Backend()
	if err != nil {
		return fmt.Errorf("--device %s: %w", c.Device, err)
	}
	slog.Info("train-eval", "device", dev.Description, "kernels", kernels, "preset", c.Preset, "out", c.Out)
	res, err := traineval.Run(ctx, traineval.Options{
		Genotype: c.Genotype, Normal: c.Normal, Reduce: c.Reduce, Data: c.Data, Dataset: c.Dataset,
		Recipe: recipe, Seed: c.Seed, Backend: backend, DeviceName: dev.Description, Precision: c.Precision, Deterministic: dev.Deterministic, Workers: c.Workers, Out: c.Out,
		Progress: os.Stderr, Log: slog.Default(),
	})
	var de *train.DivergenceError
	if errors.As(err, &de) {
		return fmt.Errorf("%w; the checkpoint of the last completed epoch in %s is intact", err, c.Out)
	}
	if err != nil {
		return err
	}
	slog.Info("done", "final_test_acc", res.FinalTestAcc, "final_test_acc5", res.FinalTestAcc5, "best_test_acc", res.BestTestAcc, "best_epoch", res.BestEpoch,
		"parameters", res.Parameters, "flops", res.MultAdds, "wall_seconds", res.WallSeconds)
	return nil
}
