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
	cmd.Env = append(os.Environ(), "CIFAR10_NGPU=0")
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
	lines := stageLines(plan(t, "cifar10", "CIFAR10_RUN=runs/x", "CIFAR10_NPOP=3", "CIFAR10_SEED=7", "CIFAR10_DATA="+dir+"/d",
		"CIFAR10_DEVICE=cuda", "CIFAR10_NGPU=2", "CIFAR10_PRECISION=fp16"))
	want := []string{
		"bin/convert-cifar --src " + dir + "/d/cifar-10-binary.tar.gz --out " + dir + "/d \\",
		"bin/search-evolve member --index 0 --device cuda:0 --run runs/x --data " + dir + "/d --npop 3 --preset paper --seed 7 --precision fp16",
		"bin/search-evolve member --index 1 --device cuda:1 --run runs/x --data " + dir + "/d --npop 3 --preset paper --seed 7 --precision fp16",
		"bin/search-evolve member --index 2 --device cuda:0 --run runs/x --data " + dir + "/d --npop 3 --preset paper --seed 7 --precision fp16",
		"bin/search-evolve select --device cuda --run runs/x --data " + dir + "/d --npop 3 --preset paper --seed 7 --precision fp16",
		"bin/train-eval --preset paper --seed 7 --device cuda --precision fp16 \\",
		"bin/export-nb301 --genotype runs/x/genotype.json --same-cell --out runs/x/nb301 \\",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("plan:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	// A missing archive is downloaded (--fetch on the next line of the recipe).
	if out := plan(t, "cifar10-data", "CIFAR10_DATA="+dir+"/d"); !strings.Contains(out, "--fetch") {
		t.Errorf("missing archive: no --fetch in\n%s", out)
	}
	// On the CPU every member runs on the CPU.
	for _, l := range stageLines(plan(t, "cifar10-search", "CIFAR10_RUN=runs/x", "CIFAR10_DATA="+dir+"/d", "CIFAR10_DEVICE=cpu", "CIFAR10_NGPU=2")) {
		if strings.Contains(l, "cuda") {
			t.Errorf("CIFAR10_DEVICE=cpu plan uses a GPU: %s", l)
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

// TestVariablesDoNotCollide: every pipeline has its own variables, so no
// combination of them gives a file two recipes ("overriding recipe"), and
// the names of one pipeline leave another's plan alone.
func TestVariablesDoNotCollide(t *testing.T) {
	for _, args := range [][]string{
		{"demo", "RUN=demoX", "DEMO_RUN=runs/demoX"},
		{"nb301", "RUN=demo"},
		{"nb301", "NB301_RUN=runs/demo"},
		{"demo", "DEMO_RUN=runs/x", "CIFAR10_RUN=runs/y", "SEARCH_RUN=runs/z", "NB301_RUN=runs/x"},
		{"cifar10", "DEMO_RUN=runs/cifar10x", "CIFAR10_RUN=runs/c", "SEARCH_RUN=runs/demo", "SEARCH_NPOP=9"},
		{"demo", "cifar10", "SEED=3", "NPOP=3", "DEVICE=cuda", "PRECISION=fp16", "DATA=d"},
		{"help"},
	} {
		out := plan(t, args...)
		if strings.Contains(out, "warning:") {
			t.Errorf("make -n %s:\n%s", strings.Join(args, " "), out)
		}
	}
	// The old short names no longer reach the cifar10 or demo plans.
	demo := plan(t, "demo", "RUN=demoX", "SEED=9", "NPOP=7", "DEVICE=cuda")
	if strings.Contains(demo, "demoX") || strings.Contains(demo, "--seed 9") || strings.Contains(demo, "cuda") ||
		!strings.Contains(demo, "--run runs/demo --data data/demo") {
		t.Errorf("demo plan takes another pipeline's variables:\n%s", demo)
	}
	// SEARCH_* given on the command line do not redirect the cifar10 search.
	c10 := plan(t, "cifar10-search", "CIFAR10_RUN=runs/c", "SEARCH_RUN=runs/elsewhere", "SEARCH_NPOP=9")
	if strings.Contains(c10, "elsewhere") || strings.Contains(c10, "--npop 9") || !strings.Contains(c10, "--run runs/c --data data/cifar10 --npop 4") {
		t.Errorf("cifar10 plan with SEARCH_* given:\n%s", c10)
	}
}

// TestSharedFolderRefused: pointing two pipelines at one folder stops make
// with a message instead of a plan with overridden recipes.
func TestSharedFolderRefused(t *testing.T) {
	cmd := exec.Command("make", "-n", "demo", "CIFAR10_RUN=runs/demo")
	cmd.Dir = testroot.Root(t)
	out, err := cmd.CombinedOutput()
	if err == nil || strings.Contains(string(out), "warning:") || !strings.Contains(string(out), "share a folder") {
		t.Fatalf("make -n demo CIFAR10_RUN=runs/demo: %v\n%s", err, out)
	}
}

// TestHelp: make help names every pipeline's variables.
func TestHelp(t *testing.T) {
	out := plan(t, "help")
	for _, w := range []string{"demo", "cifar10", "nb301", "DEMO_RUN", "CIFAR10_RUN", "CIFAR10_DEVICE", "NB301_RUN", "SEARCH_RUN", "STUDY_"} {
		if !strings.Contains(out, w) {
			t.Errorf("make help lacks %s:\n%s", w, out)
		}
	}
}
