package pipelines

// The SLURM scripts (scripts/slurm) against a fake sbatch and scancel: the
// chain submit.sh builds, the resources it asks for, all-or-nothing
// submission, bad variables, and the stage command lines of the batch
// scripts. scripts/slurm-check.sh runs them on a real SLURM.

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"pertnas/internal/testroot"
)

// fakeSlurm is a folder with a fake sbatch and scancel on PATH and fake
// stage binaries: sbatch logs one line per call ("ID DEVICE=... args") and
// prints ID (101, 102, ...), or fails on call failAt (1-based; 0: never)
// with a SLURM-like message; scancel logs its arguments.
type fakeSlurm struct {
	dir, bin string
}

func newFakeSlurm(t *testing.T, failAt int) fakeSlurm {
	t.Helper()
	f := fakeSlurm{dir: t.TempDir()}
	f.bin = filepath.Join(f.dir, "bin")
	if err := os.Mkdir(f.bin, 0o755); err != nil {
		t.Fatal(err)
	}
	sbatch := `#!/bin/sh
n=$(( $(wc -l < "` + f.path("sbatch.log") + `" 2>/dev/null || echo 0) + 1 ))
if [ $n -eq ` + strconv.Itoa(failAt) + ` ]; then
	echo "sbatch: error: Batch job submission failed: Invalid partition name specified" >&2
	exit 1
fi
echo "$((n + 100)) DEVICE=$DEVICE $*" >> "` + f.path("sbatch.log") + `"
echo "$((n + 100));cluster"
`
	scancel := `#!/bin/sh
echo "$*" >> "` + f.path("scancel.log") + `"
`
	write(t, f.path("sbatch"), sbatch)
	write(t, f.path("scancel"), scancel)
	for _, b := range []string{"convert-cifar", "search-evolve", "train-eval", "export-nb301"} {
		write(t, filepath.Join(f.bin, b), "#!/bin/sh\necho \""+b+" $*\"\n")
	}
	return f
}

func (f fakeSlurm) path(name string) string { return filepath.Join(f.dir, name) }

func write(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o755); err != nil {
		t.Fatal(err)
	}
}

// submit runs submit.sh in a fresh folder with the fake SLURM first on PATH
// and the given variables; it returns the combined output, the exit status
// and the folder.
func (f fakeSlurm) submit(t *testing.T, vars ...string) (string, int, string) {
	t.Helper()
	work := t.TempDir()
	cmd := exec.Command("bash", testroot.Path(t, "scripts", "slurm", "submit.sh"))
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "PATH="+f.dir+":"+os.Getenv("PATH"), "BINDIR="+f.bin)
	for _, k := range []string{"GPUS", "CPUS", "MEM", "DEVICE", "SEED", "PARTITION", "ACCOUNT", "QOS", "SBATCH_ARGS", "SRC", "LOGS", "NPOP"} {
		cmd.Env = append(cmd.Env, k+"=") // none from the caller's environment
	}
	cmd.Env = append(cmd.Env, vars...)
	out, err := cmd.CombinedOutput()
	status := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatal(err)
		}
		status = ee.ExitCode()
	}
	return string(out), status, work
}

// calls returns the logged sbatch calls (nil when there were none).
func (f fakeSlurm) calls(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(f.path("sbatch.log"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// missing returns the words of want that the sbatch call c lacks.
func missing(c string, want ...string) []string {
	words := map[string]bool{}
	for _, w := range strings.Fields(c) {
		words[w] = true
	}
	var m []string
	for _, w := range want {
		if !words[w] {
			m = append(m, w)
		}
	}
	return m
}

// TestSlurmChain checks that each job waits for the one before it with
// afterok (and is cancelled when that can no longer happen), that the array
// has NPOP tasks, that the defaults are the published setting (a GPU, 8
// CPUs and 32G for the members, select and eval) and that the job ids and
// the commands to watch and resume are printed.
func TestSlurmChain(t *testing.T) {
	f := newFakeSlurm(t, 0)
	out, status, work := f.submit(t, "RUN=runs/s", "DATA=data/s", "NPOP=3")
	if status != 0 {
		t.Fatalf("submit.sh: status %d\n%s", status, out)
	}
	calls := f.calls(t)
	gpu := []string{"--gres=gpu:1", "--cpus-per-task=8", "--mem=32G", "DEVICE=cuda"}
	want := []struct {
		script string
		words  []string
	}{
		{"convert.sbatch", []string{"--gres=none", "--cpus-per-task=2", "--mem=4G", "--time=00:30:00"}},
		{"search.sbatch", append([]string{"--array=0-2", "--dependency=afterok:101", "--kill-on-invalid-dep=yes", "--time=12:00:00"}, gpu...)},
		{"select.sbatch", append([]string{"--dependency=afterok:102", "--kill-on-invalid-dep=yes", "--time=12:00:00"}, gpu...)},
		{"eval.sbatch", append([]string{"--dependency=afterok:103", "--kill-on-invalid-dep=yes", "--time=48:00:00"}, gpu...)},
	}
	if len(calls) != len(want) {
		t.Fatalf("%d sbatch calls, want %d:\n%s", len(calls), len(want), strings.Join(calls, "\n"))
	}
	for i, w := range want {
		c := calls[i]
		if !strings.HasSuffix(c, "/"+w.script) {
			t.Errorf("call %d = %q, want %s", i, c, w.script)
		}
		if m := missing(c, w.words...); len(m) > 0 {
			t.Errorf("call %d (%s) lacks %v:\n%s", i, w.script, m, c)
		}
		if i == 0 && strings.Contains(c, "--dependency") {
			t.Errorf("convert waits for something: %s", c)
		}
	}
	for _, w := range []string{"convert  101", "members  102  (array 0-2)", "select   103", "eval     104",
		"squeue -j 101,102,103,104", "scancel -Q 101,102,103,104; RUN=runs/s DATA=data/s NPOP=3 "} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	if _, err := os.Stat(filepath.Join(work, "runs/s/slurm")); err != nil {
		t.Errorf("the logs folder: %v", err)
	}
}

// TestSlurmCPUCluster: a cluster without GPUs, chosen with variables only.
func TestSlurmCPUCluster(t *testing.T) {
	f := newFakeSlurm(t, 0)
	out, status, _ := f.submit(t, "RUN=r", "DATA=d", "NPOP=2", "GPUS=0", "CPUS=2", "MEM=2G",
		"PARTITION=cpu", "ACCOUNT=lab", "QOS=long", "SBATCH_ARGS=--constraint=avx512 --nice=5",
		"MEMBER_TIME=2:00:00", "EVAL_CPUS=4", "EVAL_SBATCH_ARGS=--exclusive")
	if status != 0 {
		t.Fatalf("submit.sh: status %d\n%s", status, out)
	}
	calls := f.calls(t)
	if len(calls) != 4 {
		t.Fatalf("%d sbatch calls, want 4:\n%s", len(calls), strings.Join(calls, "\n"))
	}
	every := []string{"--gres=none", "--mem=2G", "--partition=cpu", "--account=lab", "--qos=long",
		"--constraint=avx512", "--nice=5", "DEVICE=cpu"}
	extra := [][]string{
		{"--cpus-per-task=2", "--time=00:30:00"},
		{"--cpus-per-task=2", "--time=2:00:00"},
		{"--cpus-per-task=2", "--time=12:00:00"},
		{"--cpus-per-task=4", "--time=48:00:00", "--exclusive"},
	}
	for i, c := range calls {
		if m := missing(c, append(every, extra[i]...)...); len(m) > 0 {
			t.Errorf("call %d lacks %v:\n%s", i, m, c)
		}
		if strings.Contains(c, "gpu") || (i != 3 && strings.Contains(c, "--exclusive")) {
			t.Errorf("call %d: %s", i, c)
		}
	}
}

// TestSlurmAllOrNothing: when an sbatch fails, the jobs submitted before it
// are cancelled, sbatch's message is shown, the status is 1 and the logs
// folder made for the run is removed again.
func TestSlurmAllOrNothing(t *testing.T) {
	for _, failAt := range []int{1, 3, 4} {
		f := newFakeSlurm(t, failAt)
		out, status, work := f.submit(t, "RUN=runs/new/r", "DATA=d", "NPOP=2")
		if status != 1 {
			t.Errorf("failing call %d: status %d, want 1\n%s", failAt, status, out)
		}
		if !strings.Contains(out, "sbatch: error: Batch job submission failed: Invalid partition name specified") {
			t.Errorf("failing call %d: sbatch's message missing:\n%s", failAt, out)
		}
		var ids []string // the jobs submitted before the failing one
		for i := 1; i < failAt; i++ {
			ids = append(ids, strconv.Itoa(100+i))
		}
		want := strings.Join(ids, " ")
		got, err := os.ReadFile(f.path("scancel.log"))
		if want == "" {
			if err == nil {
				t.Errorf("failing call 1: scancel %s", got)
			}
		} else if strings.TrimSpace(string(got)) != want {
			t.Errorf("failing call %d: scancel %q, want %q", failAt, strings.TrimSpace(string(got)), want)
		}
		if _, err := os.Stat(filepath.Join(work, "runs")); !os.IsNotExist(err) {
			t.Errorf("failing call %d: the logs folder is left: %v", failAt, err)
		}
	}
}

// TestSlurmBadInput: bad variables exit 2 with a message naming them, and
// nothing is submitted.
func TestSlurmBadInput(t *testing.T) {
	cases := []struct {
		vars []string
		msg  string
	}{
		{[]string{"DATA=d"}, "set RUN"},
		{[]string{"RUN=r"}, "set DATA"},
		{[]string{"RUN=r", "DATA=d", "NPOP=0"}, "NPOP=0"},
		{[]string{"RUN=r", "DATA=d", "GPUS=one"}, "GPUS=one"},
		{[]string{"RUN=r", "DATA=d", "MEMBER_CPUS=0"}, "MEMBER_CPUS=0"},
		{[]string{"RUN=r", "DATA=d", "SRC=/nonexistent/c.tar.gz"}, "SRC=/nonexistent/c.tar.gz"},
		{[]string{"RUN=r", "DATA=d", "BINDIR=/nonexistent"}, "/nonexistent/convert-cifar: missing"},
	}
	for _, c := range cases {
		f := newFakeSlurm(t, 0)
		out, status, work := f.submit(t, c.vars...)
		if status != 2 || !strings.Contains(out, c.msg) {
			t.Errorf("%v: status %d, want 2 and %q in\n%s", c.vars, status, c.msg, out)
		}
		if calls := f.calls(t); calls != nil {
			t.Errorf("%v: submitted %v", c.vars, calls)
		}
		if entries, _ := os.ReadDir(work); len(entries) != 0 {
			t.Errorf("%v: wrote %v", c.vars, entries)
		}
	}
}

// TestSlurmBatchScripts runs the batch scripts as SLURM would (its
// variables set, the stages faked) and checks the stage command lines: the
// threads are the task's CPUs and the device follows the GPUs SLURM gave.
func TestSlurmBatchScripts(t *testing.T) {
	f := newFakeSlurm(t, 0)
	cases := []struct {
		script string
		env    []string
		want   []string
	}{
		{"convert.sbatch", []string{"SRC=a.tar.gz"},
			[]string{"convert-cifar --src a.tar.gz --out d"}},
		{"convert.sbatch", nil,
			[]string{"convert-cifar --out d --fetch"}},
		{"search.sbatch", []string{"SLURM_ARRAY_TASK_ID=1", "SLURM_CPUS_PER_TASK=3", "NPOP=2", "SEED=5", "SEARCH_ARGS=--preset smoke"},
			[]string{"search-evolve member --index 1 --run r --data d --npop 2 --device cpu --threads 3 --seed 5 --preset smoke"}},
		{"search.sbatch", []string{"SLURM_ARRAY_TASK_ID=0", "SLURM_CPUS_PER_TASK=8", "SLURM_GPUS_ON_NODE=1"},
			[]string{"search-evolve member --index 0 --run r --data d --npop 4 --device cuda --threads 8"}},
		{"search.sbatch", []string{"SLURM_ARRAY_TASK_ID=0", "SLURM_GPUS_ON_NODE=1", "DEVICE=cuda:1"},
			[]string{"--device cuda:1 --threads 0"}},
		{"select.sbatch", []string{"SLURM_CPUS_PER_TASK=2", "NPOP=2", "SEARCH_ARGS=--preset smoke"},
			[]string{"search-evolve select --run r --data d --npop 2 --device cpu --threads 2 --preset smoke"}},
		{"eval.sbatch", []string{"SLURM_CPUS_PER_TASK=2", "SLURM_JOB_GPUS=0", "SEED=1", "EVAL_ARGS=--preset quick"},
			[]string{"export-nb301 --genotype r/genotype.json --same-cell --out r/nb301",
				"train-eval --genotype r/genotype.json --data d --out r/eval --device cuda --threads 2 --seed 1 --preset quick"}},
	}
	for _, c := range cases {
		cmd := exec.Command("bash", testroot.Path(t, "scripts", "slurm", c.script))
		cmd.Dir = t.TempDir()
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "RUN=r", "DATA=d", "BINDIR=" + f.bin}
		cmd.Env = append(cmd.Env, c.env...)
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("%s %v: %v\n%s", c.script, c.env, err, b)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(string(b), w) {
				t.Errorf("%s %v: output lacks %q:\n%s", c.script, c.env, w, b)
			}
		}
	}
	// A member needs its array index.
	cmd := exec.Command("bash", testroot.Path(t, "scripts", "slurm", "search.sbatch"))
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "RUN=r", "DATA=d", "BINDIR=" + f.bin}
	if b, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(b), "--array") {
		t.Errorf("search.sbatch without SLURM_ARRAY_TASK_ID: %v\n%s", err, b)
	}
}
