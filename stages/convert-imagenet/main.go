// Command convert-imagenet converts an ImageNet-style image folder
// (SRC/train/<class>/*.JPEG and SRC/val/<class>/*.JPEG, or a flat val/
// with a labels file) into FFCV .beton files for the loader:
// OUT/imagenet_train.beton, OUT/imagenet_val.beton and OUT/manifest.json,
// JPEG images with the longer side capped at --max-side. "convert-imagenet
// synth" writes a small learnable synthetic dataset in that folder layout.
// See package pertnas/convert/imagenet. Exit status: 0 done, 1 failure at
// run time, 2 bad input (flags or source files).
package main

import (
	"context"
	"log/slog"
	"os"

	"pertnas/convert"
	"pertnas/convert/imagenet"
	"pertnas/internal/stage"
)

type convertCmd struct {
	Src         string `help:"Source folder holding train/<class>/ and val/ (ImageFolder layout)." required:"" placeholder:"DIR"`
	Out         string `help:"Output folder for imagenet_train.beton, imagenet_val.beton and manifest.json." required:"" placeholder:"DIR"`
	ValLabels   string `name:"val-labels" help:"Labels file for a val/ folder without class subfolders: lines \"<image> <class>\" or LOC_val_solution.csv." placeholder:"FILE"`
	MaxSide     int    `help:"Cap on the longer image side; larger images are shrunk (FFCV's ImageNet example: 500; 256 for small runs)." default:"500"`
	JPEGQuality int    `name:"jpeg-quality" help:"JPEG quality 1..100 for re-encoded images." default:"90"`
	PageSize    int    `help:"Page size of the .beton files in bytes, a power of two >= 2 MiB." default:"8388608"`
	Workers     int    `help:"Decoding goroutines (0: all cores); the output does not depend on it." default:"0"`
}

// Validate refuses bad flag values before anything is read or written.
func (c *convertCmd) Validate() error {
	switch {
	case c.JPEGQuality < 1 || c.JPEGQuality > 100:
		return stage.FlagErrorf("--jpeg-quality", "must be in 1..100, got %d", c.JPEGQuality)
	case c.MaxSide < 1:
		return stage.FlagErrorf("--max-side", "must be >= 1, got %d", c.MaxSide)
	case c.PageSize < 2<<20 || c.PageSize&(c.PageSize-1) != 0:
		return stage.FlagErrorf("--page-size", "must be a power of two >= 2 MiB (2097152), got %d", c.PageSize)
	case c.Workers < 0:
		return stage.FlagErrorf("--workers", "must be >= 0 (0: all cores), got %d", c.Workers)
	}
	return nil
}

func (c *convertCmd) Run(ctx context.Context) error {
	progress, done := convert.TerminalProgress(os.Stderr)
	res, err := imagenet.Run(ctx, imagenet.Options{
		Src: c.Src, Out: c.Out, ValLabels: c.ValLabels, MaxSide: c.MaxSide, JPEGQuality: c.JPEGQuality,
		PageSize: c.PageSize, Workers: c.Workers, Progress: progress,
	})
	done()
	if err != nil {
		return err
	}
	m := res.Manifest
	for _, w := range m.Warnings {
		slog.Warn(w)
	}
	if res.UpToDate {
		slog.Info("up to date, nothing to do", "out", c.Out, "src", c.Src)
		return nil
	}
	slog.Info("converted", "src", c.Src, "out", c.Out, "classes", m.NumClasses,
		"train", m.Train.Samples, "val", m.Val.Samples,
		"kept", m.Train.Kept+m.Val.Kept, "resized", m.Train.Resized+m.Val.Resized, "reencoded", m.Train.Reencoded+m.Val.Reencoded)
	return nil
}

type synthCmd struct {
	Out     string `help:"Folder to write train/ and val/ into." required:"" placeholder:"DIR"`
	Classes int    `help:"Classes (1..10)." default:"10"`
	Train   int    `help:"Training images per class." default:"100"`
	Val     int    `help:"Validation images per class." default:"20"`
	MinSide int    `help:"Smallest image side." default:"64"`
	MaxSide int    `help:"Largest image side." default:"96"`
	FlatVal bool   `help:"Put val images directly in val/ with val/labels.txt instead of class folders."`
	Seed    uint64 `help:"Random seed." default:"1"`
	Bench   int    `help:"Instead of the learnable set: N textured 500x375 / 375x500 JPEGs in train/ and 20 in val/, the input-pipeline benchmark set of scripts/bench-imagenet.sh (0: off)." placeholder:"N"`
}

// Validate refuses counts and sizes that make no dataset.
func (c *synthCmd) Validate() error {
	switch {
	case c.Classes < 1 || c.Classes > 10:
		return stage.FlagErrorf("--classes", "must be in 1..10, got %d", c.Classes)
	case c.Train < 1:
		return stage.FlagErrorf("--train", "must be >= 1, got %d", c.Train)
	case c.Val < 1:
		return stage.FlagErrorf("--val", "must be >= 1, got %d", c.Val)
	case c.MinSide < 1:
		return stage.FlagErrorf("--min-side", "must be >= 1, got %d", c.MinSide)
	case c.MaxSide < c.MinSide:
		return stage.FlagErrorf("--max-side", "must be >= --min-side %d, got %d", c.MinSide, c.MaxSide)
	case c.Bench < 0:
		return stage.FlagErrorf("--bench", "must be >= 0, got %d", c.Bench)
	}
	return nil
}

func (c *synthCmd) Run() error {
	if c.Bench > 0 {
		return imagenet.WriteBench(c.Out, c.Bench)
	}
	return imagenet.WriteSynth(c.Out, imagenet.SynthOptions{Classes: c.Classes, Train: c.Train, Val: c.Val,
		MinSide: c.MinSide, MaxSide: c.MaxSide, FlatVal: c.FlatVal, Seed: c.Seed})
}

type cli struct {
	Convert convertCmd `cmd:"" default:"withargs" help:"Convert an ImageNet-style folder to .beton files (the default command)."`
	Synth   synthCmd   `cmd:"" help:"Write a small learnable synthetic dataset in ImageNet's folder layout."`
}

func main() {
	stage.Stage{Name: "convert-imagenet", Grammar: &cli{}, BadInput: imagenet.IsBadInput,
		Description: "Convert an ImageNet-style image folder to FFCV .beton files, or write a synthetic one."}.Main()
}
