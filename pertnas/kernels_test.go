package pertnas

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pertnas/nn/cpu/kern"
)

// TestRunPinsKernels checks that run.json records the kernel path, that a
// job on another path is refused with the differing key, that a job must
// run the path its configuration names, that a configuration with an
// unknown path is invalid, and that a run.json written before paths were
// recorded takes jobs on any path.
func TestRunPinsKernels(t *testing.T) {
	ps := kern.Supported()
	if len(ps) < 2 {
		t.Skip("this CPU runs one kernel path only")
	}
	saved := kern.Current()
	t.Cleanup(func() { kern.Use(saved) })
	dir := testDir(t)
	cfg := testConfig()
	if err := kern.Use(ps[1]); err != nil {
		t.Fatal(err)
	}
	cfg.Kernels = string(ps[1])
	if err := ClaimRun(dir, cfg); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadRunConfig(dir); err != nil || got.Kernels != string(ps[1]) {
		t.Fatalf("run.json kernels %q (%v), want %s", got.Kernels, err, ps[1])
	}
	before, _ := os.ReadFile(filepath.Join(dir, "run.json"))

	// A member on another path, its process running that path.
	if err := kern.Use(ps[0]); err != nil {
		t.Fatal(err)
	}
	other := cfg
	other.Kernels = string(ps[0])
	for _, check := range []func(string, Config) error{CheckRun, ClaimRun} {
		err := check(dir, other)
		want := `kernels: "` + string(ps[1]) + `" -> "` + string(ps[0]) + `"`
		if !errors.Is(err, ErrBadConfig) || !strings.Contains(err.Error(), want) {
			t.Errorf("a job on kernel path %s of a run on %s: %v; want the differing key %s", ps[0], ps[1], err, want)
		}
	}
	// The run's configuration in a process on another path.
	if err := ClaimRun(dir, cfg); !errors.Is(err, ErrBadConfig) || !strings.Contains(err.Error(), "this process runs "+string(ps[0])) {
		t.Errorf("the run's configuration (%s) in a process on %s: %v", ps[1], ps[0], err)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "run.json")); string(after) != string(before) {
		t.Error("a refused job changed run.json")
	}
	bad := cfg
	bad.Kernels = "avx1024"
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "kernels") {
		t.Errorf("a configuration with an unknown kernel path: %v", err)
	}
	bad.Kernels = ""
	if err := ClaimRun(testDir(t), bad); !errors.Is(err, ErrBadConfig) {
		t.Errorf("a job without a kernel path: %v", err)
	}
	// A run.json written before paths were recorded: its jobs continue on
	// the path they run.
	legacy := testDir(t)
	old := cfg
	old.Kernels = ""
	b, _ := json.Marshal(old)
	if err := os.WriteFile(filepath.Join(legacy, "run.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := ClaimRun(legacy, other); err != nil {
		t.Errorf("a job on %s of a run.json without kernels: %v", ps[0], err)
	}
}
