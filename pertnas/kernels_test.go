package pertnas

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pertnas/nn/cpu/kern"
)

// TestRunPinsKernels checks that run.json records the kernel path, that a
// job on another path is refused with the differing key, that a job must
// run the path its configuration names, and that a configuration without
// a known path is invalid.
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
	bad.Kernels = ""
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "kernels") {
		t.Errorf("a configuration without a kernel path: %v", err)
	}
}
