package traineval

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"pertnas/convert/imagenet"
	"pertnas/formats/artifact"
	"pertnas/formats/beton"
	"pertnas/formats/checkpoint"
	"pertnas/formats/dataset"
	"pertnas/loader"
	"pertnas/nn/cpu"
	"pertnas/train"
)

// tinyImageNet converts a generated 10-class ImageNet-style folder into
// dir and returns dir.
func tinyImageNet(t *testing.T) string {
	t.Helper()
	src, data := t.TempDir(), t.TempDir()
	if err := imagenet.WriteSynth(src, imagenet.SynthOptions{Classes: 10, Train: 4, Val: 2, MinSide: 32, MaxSide: 56, Seed: 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := imagenet.Run(context.Background(), imagenet.Options{Src: src, Out: data, MaxSide: 48, PageSize: beton.MinPageSize}); err != nil {
		t.Fatal(err)
	}
	return data
}

func imagenetOptions(data, out string) Options {
	r := ImageNetPresets["smoke"]
	r.Epochs, r.BatchSize = 2, 8
	return Options{Genotype: "DARTS_V2", Data: data, Dataset: "imagenet", Recipe: r, Seed: 4,
		Backend: cpu.New(2), DeviceName: "cpu", Workers: 2, Out: out}
}

func TestImageNetEndToEnd(t *testing.T) {
	data := tinyImageNet(t)
	out := t.TempDir()
	res, err := Run(context.Background(), imagenetOptions(data, out))
	if err != nil {
		t.Fatal(err)
	}
	var saved Result
	if err := artifact.ReadJSON(filepath.Join(out, "result.json"), &saved); err != nil {
		t.Fatal(err)
	}
	if saved.Network.Kind != "imagenet" || saved.Network.Classes != 10 || saved.Network.ImageSize != 32 || saved.Epochs != 2 ||
		saved.Network.Auxiliary || saved.Normalisation.Mean[0] != 0.485*255 || saved.Recipe.Schedule != "linear" {
		t.Fatalf("result.json %+v", saved)
	}
	var rows []train.Row
	if err := artifact.ReadTable(filepath.Join(out, "metrics.arrow"), &rows); err != nil || len(rows) != 2 {
		t.Fatalf("metrics.arrow: %v, %d rows", err, len(rows))
	}
	for _, r := range rows {
		// 20 validation images: accuracies are multiples of 1/20, top-5 >= top-1.
		if r.TestAcc5 < r.TestAcc || r.TestAcc5 > 1 || r.TrainAcc5 < r.TrainAcc || r.TestAcc5*20 != float64(int(r.TestAcc5*20+0.5)) {
			t.Fatalf("row %+v", r)
		}
	}
	// The linear schedule: epoch 1 runs at half the rate.
	if float32(rows[0].LR) != 0.1 || rows[1].LR < 0.0499 || rows[1].LR > 0.0501 {
		t.Fatalf("learning rates %v, %v", rows[0].LR, rows[1].LR)
	}
	last := rows[1]
	if res.FinalTestAcc != last.TestAcc || res.FinalTestAcc5 != last.TestAcc5 || saved.FinalTestAcc5 != last.TestAcc5 ||
		res.BestTestAcc5 != max(rows[0].TestAcc5, rows[1].TestAcc5) || res.MultAdds <= 0 || res.Parameters != res.ParametersAll {
		t.Fatalf("result %+v", res)
	}
	ts, _, err := checkpoint.Read(filepath.Join(out, "model.safetensors"))
	if err != nil || !slices.ContainsFunc(ts, func(t checkpoint.Tensor) bool { return t.Name == "stem0.0.weight" }) ||
		!slices.ContainsFunc(ts, func(t checkpoint.Tensor) bool { return t.Name == "stem1.1.weight" }) {
		t.Fatalf("model.safetensors: %v", err)
	}
	// Killed after epoch 0 and rerun: the same rows as the uninterrupted
	// run (crops, jitter and order are drawn from (seed, epoch, sample)).
	out2 := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	o := imagenetOptions(data, out2)
	o.Log = slog.New(cancelOnEpoch{cancel})
	if _, err := Run(ctx, o); !errors.Is(err, context.Canceled) {
		t.Fatalf("killed run: %v", err)
	}
	o.Workers = 1 // the worker count does not matter either
	res2, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	assertResumedRows(t, out2, rows)
	if res2.FinalTestAcc5 != res.FinalTestAcc5 || res2.FinalTestLoss != res.FinalTestLoss {
		t.Fatalf("resumed result %+v", res2)
	}
}

func TestImageNetBadInput(t *testing.T) {
	data := tinyImageNet(t)
	var ie *InputError
	o := imagenetOptions(data, t.TempDir())
	o.Recipe.ImageSize = 48
	if _, err := Run(context.Background(), o); !errors.As(err, &ie) || !strings.Contains(err.Error(), "multiple of 32") {
		t.Errorf("image size 48: %v", err)
	}
	o = imagenetOptions(data, t.TempDir())
	o.Recipe.AuxWeight = 0.4
	if _, err := Run(context.Background(), o); !errors.As(err, &ie) || !strings.Contains(err.Error(), "auxiliary") {
		t.Errorf("auxiliary head on 32-pixel images: %v", err)
	}
	o = imagenetOptions(t.TempDir(), t.TempDir())
	if _, err := Run(context.Background(), o); !errors.As(err, &ie) || !strings.Contains(err.Error(), "convert-imagenet") {
		t.Errorf("no data: %v", err)
	}
	o = smokeOptions(data, t.TempDir())
	o.Recipe.ImageSize = 32
	if _, err := Run(context.Background(), o); !errors.As(err, &ie) || !strings.Contains(err.Error(), "imagenet only") {
		t.Errorf("cifar10 with an image size: %v", err)
	}
	// Without the manifest the classes come from the labels.
	os.Remove(filepath.Join(data, dataset.ManifestFile))
	folder, err := dataset.Open(data, dataset.ImageNet)
	if err != nil || folder.Manifest != nil {
		t.Fatalf("Open without a manifest: %+v, %v", folder, err)
	}
	src, err := beton.Open(folder.TrainPath())
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	bs, err := loader.NewBetonSource(src, "image", "label")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := imagenetClasses(folder, bs); err != nil || n != 10 {
		t.Errorf("classes from labels: %d, %v", n, err)
	}
}
