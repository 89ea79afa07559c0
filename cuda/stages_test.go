package cuda

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"pertnas/convert"
	"pertnas/formats/beton"
	"pertnas/nn"
	"pertnas/nn/cpu"
	"pertnas/pertnas"
	"pertnas/train/supernet"
	"pertnas/train/traineval"
)

// The whole training stages on the emulated GPU backend: the networks, the
// trainers, loss scaling and checkpoints drive every backend method the way
// a real run does, with the real kernel source; only cuDNN's arithmetic is
// borrowed from the CPU backend (see cpuCudnn).

// emuDataset converts a small synthetic CIFAR-10 archive as convert-cifar
// does and returns the dataset folder.
func emuDataset(t *testing.T, train, test int) string {
	t.Helper()
	dir := t.TempDir()
	archive := filepath.Join(dir, "cifar-10-binary.tar.gz")
	if err := convert.WriteSynth(archive, train, test, 5); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "data")
	if _, err := convert.Run(context.Background(), convert.Options{Src: archive, Out: out, PageSize: beton.MinPageSize}); err != nil {
		t.Fatal(err)
	}
	return out
}

// stopAfterEpoch is a slog handler cancelling a context at the first
// "epoch" record (a run killed after its first epoch).
type stopAfterEpoch struct{ cancel context.CancelFunc }

func (h stopAfterEpoch) Enabled(context.Context, slog.Level) bool { return true }
func (h stopAfterEpoch) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "epoch" {
		h.cancel()
	}
	return nil
}
func (h stopAfterEpoch) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h stopAfterEpoch) WithGroup(string) slog.Handler      { return h }

// newAt opens a backend at a precision: the emulated device, or a GPU.
type newAt func(t *testing.T, prec Precision) *Backend

// gpuAt opens the GPU (skipping without one, as the parity tests).
func gpuAt(t *testing.T, prec Precision) *Backend {
	gpuBackend(t)
	b, err := NewBackend(0, Options{LibDir: os.Getenv(EnvLibDir), Precision: prec})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

func TestEmulatedTrainEval(t *testing.T) { testTrainEval(t, emuMixed, true) }

// TestParityTrainEval: cuDNN's algorithm choice can differ between the
// stopped run and the rerun, so the resumed run must agree to 1e-3 here.
func TestParityTrainEval(t *testing.T) {
	gpuBackend(t)
	testTrainEval(t, gpuAt, false)
}

// testTrainEval trains the CIFAR evaluation network (auxiliary head, drop
// path, clipping) for two epochs with traineval.Run on the device in fp32
// and fp16: fp32 ends within 1e-3 of the CPU's test loss, fp16
// (loss-scaled) within 5e-2; an fp16 run stopped after its first epoch and
// rerun gives the uninterrupted run's result (exactly when exact; the loss
// scaler and the float32 weights round-trip through the checkpoint).
func testTrainEval(t *testing.T, at newAt, exact bool) {
	data := emuDataset(t, 32, 16)
	options := func(be nn.Backend, precision, out string) traineval.Options {
		r := traineval.Presets["smoke"]
		r.LimitTrain, r.LimitTest, r.BatchSize = 32, 16, 16
		return traineval.Options{Genotype: "PERTNAS_EVOLUTIONARY", Data: data, Dataset: "cifar10", Recipe: r, Seed: 2,
			Backend: be, DeviceName: be.Name(), Precision: precision, Workers: 1, Out: out}
	}
	want, err := traineval.Run(context.Background(), options(cpu.New(1), "fp32", t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		prec Precision
		name string
		tol  float64
	}{{FP32, "fp32", 1e-3}, {FP16, "fp16", 5e-2}} {
		t.Run(c.name, func(t *testing.T) {
			got, err := traineval.Run(context.Background(), options(at(t, c.prec), c.name, t.TempDir()))
			if err != nil {
				t.Fatal(err)
			}
			if d := math.Abs(got.FinalTestLoss - want.FinalTestLoss); !(d <= c.tol*want.FinalTestLoss) {
				t.Errorf("test loss %v on the emulated GPU, %v on the CPU (tolerance %v relative)", got.FinalTestLoss, want.FinalTestLoss, c.tol)
			}
			if c.prec != FP16 {
				return
			}
			out := t.TempDir()
			ctx, cancel := context.WithCancel(context.Background())
			o := options(at(t, c.prec), c.name, out)
			o.Log = slog.New(stopAfterEpoch{cancel})
			if _, err := traineval.Run(ctx, o); !errors.Is(err, context.Canceled) {
				t.Fatalf("stopped run: %v", err)
			}
			resumed, err := traineval.Run(context.Background(), options(at(t, c.prec), c.name, out))
			if err != nil {
				t.Fatal(err)
			}
			same := resumed.FinalTestLoss == got.FinalTestLoss && resumed.FinalTestAcc == got.FinalTestAcc
			if !exact {
				same = math.Abs(resumed.FinalTestLoss-got.FinalTestLoss) <= 1e-3*got.FinalTestLoss
			}
			if !same {
				t.Errorf("resumed fp16 run: test loss %v acc %v, uninterrupted %v %v", resumed.FinalTestLoss, resumed.FinalTestAcc, got.FinalTestLoss, got.FinalTestAcc)
			}
		})
	}
}

func TestEmulatedSearchNetwork(t *testing.T) { testSearchNetwork(t, emuMixed) }
func TestParitySearchNetwork(t *testing.T) {
	gpuBackend(t)
	testSearchNetwork(t, gpuAt)
}

// testSearchNetwork runs a phase-2 search network (an edge with all ops and
// none, the others sep_conv_3x3 and none) through the operations of
// perturb-val on the device in fp32, fp16 and bf16 and compares every
// number with the CPU: an epoch's loss and accuracy, a fine-tune's loss
// (relative tolerances as the training step's; accuracies within one image
// in half precision), snapshot/restore and save/load (exact on the device).
func testSearchNetwork(t *testing.T, at newAt) {
	data := emuDataset(t, 64, 16)
	edges := pertnas.InitialCell(pertnas.Smoke(), 0)
	edges[0] = pertnas.EdgeOps{Ops: pertnas.AllOps, None: true}
	run := func(t *testing.T, be nn.Backend, scaling bool) []float64 {
		b, err := supernet.New(supernet.Options{Data: data, Layers: 3, Channels: 4, BatchSize: 16, Momentum: 0.9, WeightDecay: 3e-4,
			ValSource: "train", ValFraction: 0.25, SplitSeed: 7, LoaderWorkers: 1, LossScaling: scaling,
			NewBackend: func(int) (nn.Backend, func(), error) { return be, nil, nil }})
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		s, err := b.Build(pertnas.BuildRequest{Edges: edges, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		n := s.(*supernet.Net)
		ctx := context.Background()
		st, err := n.TrainEpoch(ctx, 1, 0.02, nil)
		if err != nil {
			t.Fatal(err)
		}
		snap, err := n.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		acc, err := n.Accuracy(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := n.SetMask(0, 2, false); err != nil {
			t.Fatal(err)
		}
		ft, err := n.FineTune(ctx, 2, 3, 0.01, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Restore(snap); err != nil {
			t.Fatal(err)
		}
		again, err := n.Accuracy(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if again != acc {
			t.Errorf("accuracy %v after restore, %v before the fine-tune", again, acc)
		}
		path := filepath.Join(t.TempDir(), "net.safetensors")
		if err := n.Save(path); err != nil {
			t.Fatal(err)
		}
		if err := n.Load(path); err != nil {
			t.Fatal(err)
		}
		loaded, err := n.Accuracy(ctx)
		if err != nil || loaded != acc {
			t.Errorf("accuracy %v after save/load (%v), %v before", loaded, err, acc)
		}
		return []float64{st.Loss, st.Acc, acc, ft}
	}
	want := run(t, cpu.New(1), false)
	for _, c := range []struct {
		prec Precision
		tol  float64
	}{{FP32, 1e-3}, {FP16, 3e-2}, {BF16, 1.5e-1}} {
		t.Run(c.prec.String(), func(t *testing.T) {
			got := run(t, at(t, c.prec), c.prec.NeedsLossScaling())
			for i, name := range []string{"epoch loss", "epoch accuracy", "accuracy", "fine-tune loss"} {
				tol := c.tol * math.Abs(want[i])
				if i == 1 || i == 2 {
					// Accuracies over 48 and 16 images at chance level: half
					// precision may flip one image's prediction.
					tol = max(tol, 0.07)
				}
				if d := math.Abs(got[i] - want[i]); !(d <= tol) {
					t.Errorf("%s: %v on the emulated GPU, %v on the CPU (tolerance %v)", name, got[i], want[i], tol)
				}
			}
			if slices.Equal(got, want) && c.prec != FP32 {
				t.Errorf("%v gave exactly the float32 numbers: half precision not in use", c.prec)
			}
		})
	}
}
