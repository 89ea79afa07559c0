package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pertnas/convert"
	"pertnas/cuda"
	"pertnas/internal/stage/stagetest"
)

func TestMain(m *testing.M) { stagetest.Main(m, main) }

// TestRefusedLeavesOut runs train-eval as a process on each kind of bad
// input: exit status 2, a message naming the flag or file, and the output
// folder (here one with a file and a killed write's temporary) as it was.
func TestRefusedLeavesOut(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	arc := filepath.Join(data, "cifar-10-binary.tar.gz")
	if err := convert.WriteSynth(arc, 64, 32, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := convert.Run(context.Background(), convert.Options{Src: arc, Out: data}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(data, "cifar_train.beton"))
	trunc := filepath.Join(dir, "trunc")
	stagetest.CopyWith(t, data, trunc, "cifar_train.beton", b[:len(b)/3])
	cut := filepath.Join(dir, "cut.json")
	g := `{"normal": [["sep_conv_3x3", 0], ["sep_conv_3x3", 1], ["skip_connect", 0], ["sep_conv_3x3", 1]], "normal_concat": [2, 3, 4, 5], "reduce": [["max_pool_3x3", 0]]}`
	os.WriteFile(cut, []byte(g[:len(g)-40]), 0o644)

	out := filepath.Join(dir, "eval")
	os.MkdirAll(out, 0o755)
	os.WriteFile(filepath.Join(out, "notes.txt"), []byte("mine"), 0o644)
	os.WriteFile(filepath.Join(out, ".state.json.tmp-42"), []byte("half"), 0o644)

	base := []string{"--genotype", "DARTS_V2", "--preset", "smoke", "--epochs", "1", "--data", data, "--out", out}
	gpu, _ := cuda.Available()
	for _, c := range []struct {
		name string
		args []string
		want string
		gpu  bool // only where no GPU is usable
	}{
		{"missing --data", []string{"--genotype", "DARTS_V2", "--data", filepath.Join(dir, "nodata"), "--out", out}, "nodata", false},
		{"truncated .beton", []string{"--genotype", "DARTS_V2", "--data", trunc, "--out", out}, "cifar_train.beton", false},
		{"--dataset cifar100 on CIFAR-10", append([]string{"--dataset", "cifar100"}, base...), "says the data is cifar10 with 10 classes", false},
		{"--weight-decay -1", append([]string{"--weight-decay=-1"}, base...), "--weight-decay: must be >= 0, got -1", false},
		{"--epochs 0", append(base, "--epochs", "0"), "--epochs: must be >= 1, got 0", false},
		{"--device tpu", append([]string{"--device", "tpu"}, base...), `--device: want auto, cpu, cuda or cuda:N, got "tpu"`, false},
		{"fp16 on the CPU", append([]string{"--device", "cpu", "--precision", "fp16"}, base...), "--precision: fp16 needs a GPU", false},
		{"--device cuda, no GPU", append([]string{"--device", "cuda:1"}, base...), "--device: cuda:1: no usable GPU", true},
		{"--threads -1", append([]string{"--threads=-1"}, base...), "--threads: must be >= 0", false},
		{"--workers -1", append([]string{"--workers=-1"}, base...), "--workers: must be >= 0", false},
		{"--jpeg-dct-scale on CIFAR", append([]string{"--jpeg-dct-scale"}, base...), "--jpeg-dct-scale: applies to --dataset imagenet only", false},
		{"unknown genotype", []string{"--genotype", "NOPE", "--data", data, "--out", out}, "NOPE", false},
		{"cut genotype file", []string{"--genotype", cut, "--data", data, "--out", out}, fmt.Sprintf("cut.json: genotype json: byte offset %d: unexpected end", len(g)-40), false},
	} {
		if c.gpu && gpu {
			t.Logf("%s: skipped, a GPU is usable here", c.name)
			continue
		}
		before := stagetest.Snapshot(t, out)
		status, stderr := stagetest.Run(t, c.args...)
		if status != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("%s: status %d, stderr %q; want 2 and %q", c.name, status, stderr, c.want)
		}
		stagetest.Unchanged(t, out, before)
	}
}
