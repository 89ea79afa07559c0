// Command convert-cifar converts the CIFAR-10 or CIFAR-100 binary dataset
// (the published .tar.gz archive or its extracted folder) into FFCV .beton
// files for the loader: OUT/cifar_train.beton, OUT/cifar_test.beton and
// OUT/manifest.json. "convert-cifar synth" writes a small learnable synthetic
// dataset in the layout of cifar-10-binary.tar.gz. Exit status: 0 done, 1
// failure at run time, 2 bad input (flags or source files).
package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"

	"pertnas/convert"
	"pertnas/formats/cifar"
	"pertnas/internal/stage"
)

type convertCmd struct {
	Src         string `help:"CIFAR source: the binary .tar.gz archive or its extracted folder (default: OUT/<archive name>, downloaded there by --fetch)." placeholder:"PATH"`
	Out         string `help:"Output folder for cifar_train.beton, cifar_test.beton and manifest.json." required:"" placeholder:"DIR"`
	Dataset     string `help:"Dataset: ${enum}." enum:"cifar10,cifar100" default:"cifar10"`
	Label       string `help:"CIFAR-100 label: ${enum}." enum:"fine,coarse" default:"fine"`
	PageSize    int    `help:"Page size of the .beton files in bytes, a power of two >= 2 MiB." default:"8388608"`
	WriteMode   string `help:"Image storage: raw (lossless RGB) or jpg." enum:"raw,jpg" default:"raw"`
	JPEGQuality int    `name:"jpeg-quality" help:"JPEG quality 1..100 (with --write-mode jpg)." default:"90"`
	Fetch       bool   `help:"Download the archive over HTTPS (verifying its published MD5) unless it is already at --src or OUT."`
	URL         string `name:"url" placeholder:"URL" help:"Download address for --fetch (default: the official archive at cs.toronto.edu)."`
	MD5         string `name:"md5" placeholder:"HEX" help:"Expected MD5 of the download (default: the published one)."`
}

// Validate refuses bad flag values before anything is read or written.
func (c *convertCmd) Validate() error {
	if c.JPEGQuality < 1 || c.JPEGQuality > 100 {
		return stage.FlagErrorf("--jpeg-quality", "must be in 1..100, got %d", c.JPEGQuality)
	}
	if c.PageSize < 2<<20 || c.PageSize&(c.PageSize-1) != 0 {
		return stage.FlagErrorf("--page-size", "must be a power of two >= 2 MiB (2097152), got %d", c.PageSize)
	}
	return nil
}

func (c *convertCmd) Run(ctx context.Context) error {
	progress, done := convert.TerminalProgress(os.Stderr)
	res, err := convert.Run(ctx, convert.Options{
		Src: c.Src, Out: c.Out, Dataset: cifar.Dataset(c.Dataset), Label: cifar.LabelKind(c.Label),
		PageSize: c.PageSize, Mode: convert.WriteMode(c.WriteMode), JPEGQuality: c.JPEGQuality,
		Fetch: c.Fetch, URL: c.URL, MD5: c.MD5, Progress: progress,
	})
	done()
	if err != nil {
		return err
	}
	for _, w := range res.Manifest.Warnings {
		slog.Warn(w)
	}
	if res.UpToDate {
		slog.Info("up to date, nothing to do", "out", c.Out, "src", res.Src)
	} else {
		slog.Info("converted", "src", res.Src, "out", c.Out, "train", res.Manifest.Train.Samples, "test", res.Manifest.Test.Samples)
	}
	return nil
}

type synthCmd struct {
	Out   string `help:"Archive to write (cifar-10-binary.tar.gz layout)." required:"" placeholder:"FILE"`
	Train int    `help:"Training images." default:"5000"`
	Test  int    `help:"Test images." default:"1000"`
	Seed  uint64 `help:"Random seed." default:"1"`
}

// Validate refuses empty splits, which convert-cifar would then reject.
func (c *synthCmd) Validate() error {
	if c.Train < 1 {
		return stage.FlagErrorf("--train", "must be >= 1, got %d", c.Train)
	}
	if c.Test < 1 {
		return stage.FlagErrorf("--test", "must be >= 1, got %d", c.Test)
	}
	return nil
}

func (c *synthCmd) Run() error {
	return convert.WriteSynth(c.Out, c.Train, c.Test, c.Seed)
}

type fashionCmd struct {
	Src   string `help:"Folder holding Fashion-MNIST's four idx files (gzipped or not)." default:"/usr/share/datasets/fashion-mnist" placeholder:"DIR"`
	Out   string `help:"Folder to write cifar-10-binary.tar.gz in; then convert-cifar --out DIR converts it." required:"" placeholder:"DIR"`
	Train int    `help:"Keep the first N training images (0: all 60000)." default:"0"`
	Test  int    `help:"Keep the first N test images (0: all 10000)." default:"0"`
}

func (c *fashionCmd) Run() error {
	out := filepath.Join(c.Out, cifar.CIFAR10.ArchiveName())
	if err := convert.WriteFashionMNIST(c.Src, out, c.Train, c.Test); err != nil {
		return err
	}
	slog.Info("wrote", "archive", out, "next", "convert-cifar --out "+c.Out)
	return nil
}

type cli struct {
	Convert      convertCmd `cmd:"" default:"withargs" help:"Convert a CIFAR binary archive or folder to .beton files (the default command)."`
	Synth        synthCmd   `cmd:"" help:"Write a learnable synthetic dataset as a CIFAR-10 binary archive."`
	FashionMNIST fashionCmd `cmd:"" name:"fashion-mnist" help:"Write Fashion-MNIST (idx files) as a CIFAR-10 binary archive: 28x28 grey padded with black to 32x32, grey copied to R, G, B."`
}

func main() {
	stage.Stage{Name: "convert-cifar", Grammar: &cli{}, BadInput: convert.IsBadInput,
		Description: "Convert CIFAR-10/100 (binary version) to FFCV .beton files, or write a synthetic CIFAR-10-style archive."}.Main()
}
