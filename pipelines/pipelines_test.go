// Package pipelines holds the Makefile fragments (demo.mk, cifar10.mk,
// search.mk); its tests check the plans they print and the SLURM chain of
// scripts/slurm/submit.sh (slurm_test.go), without running any stage.
package pipelines

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"pertnas/internal/testroot"
)

// plan returns `make -n` output for the given targets and variables, run in
// the repository root with the stage builds left out.
func plan(t *testing.T, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath("make"); err != nil {
		t.Fatalf("make is needed: %v", err)
	}
	cmd := exec.Command("make", append([]string{"-n", "--no-print-directory"}, args...)...)
	cmd.Dir = testroot.Root(t)
	cmd.Env = append(os.Environ(), "NGPU=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make -n %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// stageLines keeps the lines that run a stage binary.
func stageLines(out string) []string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "bin/") {
			lines = append(lines, l)
		}
	}
	return lines
}

func TestCifar10Plan(t *testing.T) {
	dir := t.TempDir() // a run folder and dataset that do not exist: the whole plan
	lines := stageLines(plan(t, "cifar10", "RUN=x", "NPOP=3", "SEED=7", "C10_DATA="+dir+"/d", "DEVICE=cuda", "NGPU=2", "PRECISION=fp16"))
	want := []string{
		"bin/convert-cifar --src " + dir + "/d/cifar-10-binary.tar.gz --out " + dir + "/d \\",
		"bin/search-evolve member --index 0 --device cuda:0 --run runs/x --data " + dir + "/d --npop 3 --preset paper --seed 7 --precision fp16",
		"bin/search-evolve member --index 1 --device cuda:1 --run runs/x --data " + dir + "/d --npop 3 --preset paper --seed 7 --precision fp16",
		"bin/search-evolve member --index 2 --device cuda:0 --run runs/x --data " + dir + "/d --npop 3 --preset paper --seed 7 --precision fp16",
		"bin/search-evolve select --device cuda --run runs/x --data " + dir + "/d --npop 3 --preset paper --seed 7 --precision fp16",
		"bin/train-eval --preset paper --seed 7 --device cuda --precision fp16 --genotype runs/x/genotype.json \\",
		"bin/export-nb301 --genotype runs/x/genotype.json --same-cell --out runs/x/nb301 \\",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("plan:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	// A missing archive is downloaded (--fetch on the next line of the recipe).
	if out := plan(t, "cifar10-data", "C10_DATA="+dir+"/d"); !strings.Contains(out, "--fetch") {
		t.Errorf("missing archive: no --fetch in\n%s", out)
	}
	// On the CPU every member runs on the CPU.
	for _, l := range stageLines(plan(t, "cifar10-search", "RUN=x", "C10_DATA="+dir+"/d", "DEVICE=cpu", "NGPU=2")) {
		if strings.Contains(l, "cuda") {
			t.Errorf("DEVICE=cpu plan uses a GPU: %s", l)
		}
	}
}

func TestDemoPlan(t *testing.T) {
	dir := t.TempDir()
	lines := stageLines(plan(t, "demo", "DEMO_DATA="+dir+"/d", "DEMO_RUN="+dir+"/r"))
	order := []string{"convert-cifar synth", "convert-cifar --src", "search-evolve run --preset smoke --npop 2 --parallel 2",
		"train-eval --preset quick", "export-nb301", "search-evolve report"}
	if len(lines) != len(order) {
		t.Fatalf("demo plan has %d stage runs, want %d:\n%s", len(lines), len(order), strings.Join(lines, "\n"))
	}
	for i, w := range order {
		if !strings.HasPrefix(lines[i], "bin/"+w) {
			t.Errorf("step %d = %q, want bin/%s...", i, lines[i], w)
		}
	}
}
