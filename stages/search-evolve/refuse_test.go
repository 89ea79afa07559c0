package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pertnas/convert"
	"pertnas/cuda"
	"pertnas/internal/stage/stagetest"
	"pertnas/pertnas"
)

func TestMain(m *testing.M) { stagetest.Main(m, main) }

// smokeData converts a small synthetic CIFAR-10 archive into dir.
func smokeData(t *testing.T, dir string) {
	t.Helper()
	arc := filepath.Join(dir, "cifar-10-binary.tar.gz")
	if err := convert.WriteSynth(arc, 320, 64, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := convert.Run(context.Background(), convert.Options{Src: arc, Out: dir}); err != nil {
		t.Fatal(err)
	}
}

// TestRefusedLeavesRunFolder runs search-evolve as a process on each kind
// of bad input: exit status 2, a message naming the flag or file, and the
// run folder exactly as it was (its run.json, a member's files, even the
// temporaries of a killed write, which only a job that runs removes).
func TestRefusedLeavesRunFolder(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	smokeData(t, data)
	b, _ := os.ReadFile(filepath.Join(data, "cifar_train.beton"))
	trunc := filepath.Join(dir, "trunc")
	stagetest.CopyWith(t, data, trunc, "cifar_train.beton", b[:len(b)/3])
	random := filepath.Join(dir, "random")
	stagetest.CopyWith(t, data, random, "cifar_train.beton", []byte(strings.Repeat("\x9a\x13random", 4096)))

	// A run folder started by an earlier job: run.json, member 0 finished
	// with a corrupt table, a temporary file of a killed write.
	run := filepath.Join(dir, "run")
	cfg := pertnas.Smoke()
	if err := pertnas.ClaimRun(run, cfg); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(run, "members", "0"), 0o755)
	os.WriteFile(pertnas.ValuationPath(run, 0), []byte("ARROW1 but not really"), 0o644)
	os.WriteFile(filepath.Join(run, "members", "0", ".log.arrow.tmp-123"), []byte("half"), 0o644)
	fresh := filepath.Join(dir, "fresh") // no folder yet: must stay absent

	base := []string{"--preset", "smoke", "--data", data}
	gpu, _ := cuda.Available()
	for _, c := range []struct {
		name string
		args []string
		want string // what the message must hold; alternatives separated by |
		gpu  bool   // only where no GPU is usable
	}{
		{"missing --data", []string{"member", "--index", "1", "--preset", "smoke", "--data", filepath.Join(dir, "nodata")}, "--data " + filepath.Join(dir, "nodata"), false},
		{"truncated .beton", []string{"member", "--index", "1", "--preset", "smoke", "--data", trunc}, "cifar_train.beton", false},
		{"random .beton", []string{"member", "--index", "1", "--preset", "smoke", "--data", random}, "cifar_train.beton", false},
		{"--index 5", append([]string{"member", "--index", "5"}, base...), "--index: must be in 0..1 (--npop 2), got 5", false},
		{"--index -1", append([]string{"member", "--index=-1"}, base...), "--index: must be in 0..1", false},
		{"--device tpu", append([]string{"member", "--index", "1", "--device", "tpu"}, base...), `--device: want auto, cpu, cuda or cuda:N, got "tpu"`, false},
		{"fp16 on the CPU", append([]string{"member", "--index", "1", "--device", "cpu", "--precision", "fp16"}, base...), "--precision: fp16 needs a GPU", false},
		{"--device cuda, no GPU", append([]string{"member", "--index", "1", "--device", "cuda"}, base...), "--device: cuda: no usable GPU", true},
		{"--train-images 10", append([]string{"member", "--index", "1", "--train-images", "10"}, base...), "fewer than one batch|train_images: 256 -> 10", false},
		{"--weight-decay -1", append([]string{"member", "--index", "1", "--weight-decay=-1"}, base...), "--weight-decay: want 0..1, got -1", false},
		{"--threads -1", append([]string{"member", "--index", "1", "--threads=-1"}, base...), "--threads: must be >= 0", false},
		{"--parallel 0", append([]string{"run", "--parallel", "0"}, base...), "--parallel: must be >= 1, got 0", false},
		{"--parallel -2", append([]string{"run", "--parallel=-2"}, base...), "--parallel: must be >= 1, got -2", false},
		{"another configuration", append([]string{"member", "--index", "1", "--npop", "3"}, base...), "npop: 2 -> 3", false},
		{"corrupt valuation.arrow", append([]string{"select"}, base...), "member 0: ", false},
	} {
		if c.gpu && gpu {
			t.Logf("%s: skipped, a GPU is usable here", c.name)
			continue
		}
		for _, folder := range []string{run, fresh} {
			if folder == fresh && (c.name == "another configuration" || c.name == "corrupt valuation.arrow") {
				continue // a fresh folder has no configuration or members to differ from
			}
			before := stagetest.Snapshot(t, folder)
			status, stderr := stagetest.Run(t, append(c.args, "--run", folder)...)
			named := false // c.want holds alternatives separated by |
			for _, w := range strings.Split(c.want, "|") {
				named = named || strings.Contains(stderr, w)
			}
			if status != 2 || !named {
				t.Errorf("%s (--run %s): status %d, stderr %q; want 2 and %q", c.name, filepath.Base(folder), status, stderr, c.want)
			}
			stagetest.Unchanged(t, folder, before)
		}
	}

	// select before the members finish: the missing ones are named.
	os.Remove(pertnas.ValuationPath(run, 0))
	before := stagetest.Snapshot(t, run)
	status, stderr := stagetest.Run(t, append([]string{"select", "--run", run}, base...)...)
	if status != 2 || !strings.Contains(stderr, "members 0, 1 have not finished") {
		t.Errorf("select before the members: status %d, stderr %q", status, stderr)
	}
	stagetest.Unchanged(t, run, before)
}
