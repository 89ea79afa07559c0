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

	"pertnas/formats/artifact"
	"pertnas/formats/beton"
	"pertnas/formats/checkpoint"
	"pertnas/formats/cifar"
	"pertnas/formats/dataset"
	"pertnas/formats/genotype"
	"pertnas/nn"
	"pertnas/nn/cpu"
	"pertnas/train"
)

// writeSynthBeton writes cifar_train.beton and cifar_test.beton into dir
// from cifar.Synth (raw images, fields image + label).
func writeSynthBeton(t *testing.T, dir string, ntrain, ntest int) {
	t.Helper()
	writeSynthBetonLabels(t, dir, ntrain, ntest, nil)
}

// writeSynthBetonLabels is writeSynthBeton with the labels passed through
// relabel (file name, sample, label) when it is not nil.
func writeSynthBetonLabels(t *testing.T, dir string, ntrain, ntest int, relabel func(string, int, int64) int64) {
	t.Helper()
	tr, te := cifar.Synth(ntrain, ntest, 1)
	for name, recs := range map[string]cifar.Records{dataset.CIFAR.Train: tr, dataset.CIFAR.Test: te} {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		w, err := beton.NewWriter(f, dataset.Fields, recs.Len(), beton.MinPageSize)
		if err != nil {
			t.Fatal(err)
		}
		const plane = 32 * 32
		for i := range recs.Len() {
			rec := recs[i*(1+3*plane):]
			img := make([]byte, 3*plane)
			for p := range plane {
				for c := range 3 {
					img[p*3+c] = rec[1+c*plane+p]
				}
			}
			label := int64(rec[0])
			if relabel != nil {
				label = relabel(name, i, label)
			}
			if err := w.Append([]beton.Value{beton.ImageValue(beton.ImageRaw, 32, 32, img), beton.IntValue(label)}); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
}

func smokeOptions(data, out string) Options {
	r := Presets["smoke"]
	r.Epochs, r.LimitTrain, r.LimitTest, r.BatchSize = 2, 64, 32, 16
	return Options{Genotype: "DARTS_V2", Data: data, Dataset: "cifar10", Recipe: r, Seed: 3,
		Backend: cpu.New(2), DeviceName: "cpu", Workers: 2, Out: out}
}

func TestRunAndResume(t *testing.T) {
	data := t.TempDir()
	writeSynthBeton(t, data, 64, 32)

	ref := t.TempDir()
	res, err := Run(context.Background(), smokeOptions(data, ref))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"metrics.arrow", "curves.png", "model.safetensors", "state.json", "result.json"} {
		if _, err := os.Stat(filepath.Join(ref, f)); err != nil {
			t.Fatalf("output %s: %v", f, err)
		}
	}
	var rows []train.Row
	if err := artifact.ReadTable(filepath.Join(ref, "metrics.arrow"), &rows); err != nil || len(rows) != 2 || rows[0].Epoch != 1 || rows[1].Epoch != 2 {
		t.Fatalf("metrics.arrow: %v, %d rows", err, len(rows))
	}
	if res.FinalTestAcc != rows[1].TestAcc || res.Epochs != 2 || res.Parameters <= 0 || res.MultAdds <= 0 ||
		res.ParametersAll <= res.Parameters || res.Network.Classes != 10 || res.BestEpoch < 1 || res.BestEpoch > 2 {
		t.Fatalf("result %+v", res)
	}
	// model.safetensors holds the DARTS reference names, aux head included.
	ts, md, err := checkpoint.Read(filepath.Join(ref, "model.safetensors"))
	if err != nil || md["format"] != "pt" || ts[0].Name != "stem.0.weight" ||
		!slices.ContainsFunc(ts, func(t checkpoint.Tensor) bool { return t.Name == "auxiliary_head.classifier.weight" }) ||
		!slices.ContainsFunc(ts, func(t checkpoint.Tensor) bool { return t.Name == "cells.0._ops.0.op.1.weight" }) {
		t.Fatalf("model.safetensors: %v %v", err, md)
	}

	// Killed after epoch 0 (the log line of the epoch cancels the context;
	// epoch 1 stops at its first step), then rerun: the same rows and weights.
	out := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	o := smokeOptions(data, out)
	o.Log = slog.New(cancelOnEpoch{cancel})
	_, err = Run(ctx, o)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("killed run: %v", err)
	}
	if _, err := os.Stat(filepath.Join(out, "result.json")); err == nil {
		t.Fatal("a killed run wrote result.json")
	}
	res2, err := Run(context.Background(), smokeOptions(data, out))
	if err != nil {
		t.Fatal(err)
	}
	assertResumedRows(t, out, rows)
	if res2.FinalTestAcc != res.FinalTestAcc {
		t.Fatalf("final accuracy %v after resume, %v uninterrupted", res2.FinalTestAcc, res.FinalTestAcc)
	}
	m1, _ := os.ReadFile(filepath.Join(ref, "model.safetensors"))
	m2, _ := os.ReadFile(filepath.Join(out, "model.safetensors"))
	if !slices.Equal(m1, m2) {
		t.Fatal("model.safetensors differs after resume")
	}
}

// cancelOnEpoch is a slog handler that cancels a context at the first
// "epoch" record.
type cancelOnEpoch struct{ cancel context.CancelFunc }

func (h cancelOnEpoch) Enabled(context.Context, slog.Level) bool { return true }
func (h cancelOnEpoch) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "epoch" {
		h.cancel()
	}
	return nil
}
func (h cancelOnEpoch) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h cancelOnEpoch) WithGroup(string) slog.Handler      { return h }

func TestBadInput(t *testing.T) {
	data := t.TempDir()
	for name, mod := range map[string]func(*Options){
		"imagenet":        func(o *Options) { o.Dataset = "imagenet" },
		"unknown dataset": func(o *Options) { o.Dataset = "mnist" },
		"genotype":        func(o *Options) { o.Genotype = "NOPE" },
		"no data":         func(o *Options) {},
		"epochs":          func(o *Options) { o.Recipe.Epochs = 0 },
		"weight decay":    func(o *Options) { o.Recipe.WeightDecay = -1 },
	} {
		o := smokeOptions(data, t.TempDir())
		mod(&o)
		_, err := Run(context.Background(), o)
		var ie *InputError
		if !errors.As(err, &ie) {
			t.Errorf("%s: got %v, want an InputError", name, err)
		}
	}
}

func TestCombinedGenotype(t *testing.T) {
	g, err := loadGenotype(Options{Normal: "DARTS_V2", Reduce: "DARTS_V1"})
	if err != nil {
		t.Fatal(err)
	}
	v1, _ := genotype.Named("DARTS_V1")
	v2, _ := genotype.Named("DARTS_V2")
	if !slices.Equal(g.Normal, v2.Normal) || !slices.Equal(g.Reduce, v1.Reduce) {
		t.Fatalf("combined %v", g.Repr())
	}
	// --genotype fills in the one not given.
	g, err = loadGenotype(Options{Genotype: "DARTS_V1", Normal: "DARTS_V2"})
	if err != nil || !slices.Equal(g.Normal, v2.Normal) || !slices.Equal(g.Reduce, v1.Reduce) {
		t.Fatalf("normal from DARTS_V2, rest from --genotype: %v %v", err, g.Repr())
	}
	if _, err := loadGenotype(Options{Normal: "DARTS_V2"}); err == nil {
		t.Fatal("--normal alone accepted")
	}
}

// assertResumedRows checks that out/metrics.arrow, written by a resumed run,
// holds the rows of the uninterrupted run, timings aside.
func assertResumedRows(t *testing.T, out string, rows []train.Row) {
	t.Helper()
	var got []train.Row
	if err := artifact.ReadTable(filepath.Join(out, "metrics.arrow"), &got); err != nil || len(got) != len(rows) {
		t.Fatalf("metrics.arrow after resume: %v, %d rows, want %d", err, len(got), len(rows))
	}
	for i := range rows {
		a, b := rows[i], got[i]
		a.Seconds, a.ImagesPerS, b.Seconds, b.ImagesPerS = 0, 0, 0, 0
		if a != b {
			t.Fatalf("epoch %d after resume:\n got %+v\nwant %+v", i, b, a)
		}
	}
}

// deviceFailure is a failure as a GPU backend reports it: a panic value
// implementing nn.DeviceFailure.
type deviceFailure struct{}

func (deviceFailure) Error() string  { return "cuda: cuLaunchKernel: CUDA_ERROR_ILLEGAL_ADDRESS" }
func (deviceFailure) DeviceFailure() {}

// failingSGD is a backend that counts its SGD updates and fails those
// after the first `budget` (budget < 0: never fails).
type failingSGD struct {
	nn.Backend
	calls, budget int
}

func (f *failingSGD) SGDStep(w, grad, buf nn.Buffer, lr, momentum, wd float32, nesterov, first bool) {
	if f.calls++; f.budget >= 0 && f.calls > f.budget {
		panic(deviceFailure{})
	}
	f.Backend.SGDStep(w, grad, buf, lr, momentum, wd, nesterov, first)
}

// A device failing in epoch 1 makes Run return the failure as an error,
// keeps epoch 0's checkpoint, and a rerun on a working device continues
// from it to the uninterrupted run's result.
func TestDeviceFailureKeepsCheckpoint(t *testing.T) {
	data := t.TempDir()
	writeSynthBeton(t, data, 64, 32)

	// The number of parameter updates of one epoch.
	o := smokeOptions(data, t.TempDir())
	o.Recipe.Epochs = 1
	counter := &failingSGD{Backend: o.Backend, budget: -1}
	o.Backend = counter
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}

	ref := t.TempDir()
	want, err := Run(context.Background(), smokeOptions(data, ref))
	if err != nil {
		t.Fatal(err)
	}
	var rows []train.Row
	if err := artifact.ReadTable(filepath.Join(ref, "metrics.arrow"), &rows); err != nil {
		t.Fatal(err)
	}

	out := t.TempDir()
	o = smokeOptions(data, out)
	o.Backend = &failingSGD{Backend: o.Backend, budget: counter.calls + 3}
	_, err = Run(context.Background(), o)
	var f deviceFailure
	if !errors.As(err, &f) || !strings.Contains(err.Error(), "device failure") {
		t.Fatalf("Run on a device failing in epoch 1: err %v, want the device failure", err)
	}
	if _, err := os.Stat(filepath.Join(out, "result.json")); err == nil {
		t.Fatal("a failed run wrote result.json")
	}
	assertResumedRows(t, out, rows[:1])

	got, err := Run(context.Background(), smokeOptions(data, out))
	if err != nil {
		t.Fatal(err)
	}
	assertResumedRows(t, out, rows)
	if got.FinalTestAcc != want.FinalTestAcc || got.FinalTestLoss != want.FinalTestLoss {
		t.Fatalf("after the failure and a rerun: final %v/%v, uninterrupted %v/%v", got.FinalTestAcc, got.FinalTestLoss, want.FinalTestAcc, want.FinalTestLoss)
	}
}

// fp16 precision turns on loss scaling; on the CPU (exact power-of-two
// scaling) the results equal fp32's, and the scaler's state is
// checkpointed and recorded.
func TestLossScalingRun(t *testing.T) {
	data := t.TempDir()
	writeSynthBeton(t, data, 64, 32)
	want, err := Run(context.Background(), smokeOptions(data, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	o := smokeOptions(data, out)
	o.Precision = "fp16"
	got, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if got.FinalTestLoss != want.FinalTestLoss || got.FinalTestAcc != want.FinalTestAcc || got.Precision != "fp16" {
		t.Fatalf("fp16 run on the CPU: %+v, fp32 %+v", got, want)
	}
	var st struct {
		LossScale nn.LossScaler `json:"loss_scale"`
	}
	// 2 epochs of 4 steps, none overflowing.
	if err := artifact.ReadJSON(filepath.Join(out, "state.json"), &st); err != nil || st.LossScale != (nn.LossScaler{Scale: 65536, GrowthInterval: 2000, Clean: 8}) {
		t.Fatalf("state.json: %v, loss scale %+v", err, st.LossScale)
	}
}

// TestRecipeNamesFlags: a bad recipe value is refused with the flag's name
// and the value, not a dump of the recipe.
func TestRecipeNamesFlags(t *testing.T) {
	r := Presets["quick"]
	r.WeightDecay, r.Epochs = -1, 0
	err := r.Validate("cifar10")
	var ie *InputError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "--weight-decay: must be >= 0, got -1") ||
		!strings.Contains(err.Error(), "--epochs: must be >= 1, got 0") || strings.Contains(err.Error(), "{") {
		t.Fatalf("bad recipe: %v", err)
	}
	for _, d := range []string{"cifar10", "cifar100"} {
		if err := Presets["paper"].Validate(d); err != nil {
			t.Errorf("paper preset for %s: %v", d, err)
		}
	}
	if err := ImageNetPresets["paper"].Validate("imagenet"); err != nil {
		t.Errorf("ImageNet paper preset: %v", err)
	}
}

// TestManifestDataset: the dataset asked for must be the one convert-cifar
// wrote (manifest.json), and a refused run writes nothing into --out.
func TestManifestDataset(t *testing.T) {
	data := t.TempDir()
	writeSynthBeton(t, data, 64, 32)
	m := `{"format": "pertnas.cifar-beton.v1", "dataset": "cifar10", "num_classes": 10}`
	if err := os.WriteFile(filepath.Join(data, dataset.ManifestFile), []byte(m), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "eval")
	o := smokeOptions(data, out)
	o.Dataset = "cifar100"
	_, err := Run(context.Background(), o)
	var ie *InputError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "says the data is cifar10 with 10 classes") {
		t.Fatalf("cifar100 on CIFAR-10 data: %v", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatalf("a refused run created %s: %v", out, err)
	}
}

func TestLabelOutOfRange(t *testing.T) {
	data := t.TempDir()
	writeSynthBetonLabels(t, data, 64, 32, func(file string, i int, label int64) int64 {
		if file == "cifar_test.beton" && i == 7 {
			return 10
		}
		return label
	})
	out := filepath.Join(t.TempDir(), "eval")
	_, err := Run(context.Background(), smokeOptions(data, out))
	var ie *InputError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "cifar_test.beton: sample 7 has label 10 outside [0, 10)") {
		t.Fatalf("label 10 in CIFAR-10 data: %v", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatalf("a refused run created %s: %v", out, err)
	}
}
