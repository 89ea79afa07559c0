package device

import (
	"errors"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"pertnas/internal/stage"
	"pertnas/nn/cpu/kern"
)

// keepKernels restores the kernel path in use after the test.
func keepKernels(t *testing.T) {
	saved := kern.Current()
	t.Cleanup(func() { kern.Use(saved) })
}

func TestUseKernels(t *testing.T) {
	keepKernels(t)
	best := kern.Best()
	for _, c := range []struct {
		flag, pinned string
		want         kern.Path
	}{
		{"", "", kern.Default()},
		{"auto", "", kern.Default()},
		{"purego", "", kern.PureGo},
		{"auto", "purego", kern.PureGo},
		{string(best), string(best), best},
		{"auto", string(best), best},
	} {
		f := Flags{Kernels: c.flag}
		got, err := f.UseKernels(c.pinned, "run.json")
		if err != nil || got != c.want || kern.Current() != c.want {
			t.Errorf("--kernels %q pinned %q: %s (in use %s), %v; want %s", c.flag, c.pinned, got, kern.Current(), err, c.want)
		}
	}
	for _, c := range []struct{ flag, pinned, msg string }{
		{"avx1024", "", `--kernels: want auto, purego, avx2 or avx512, got "avx1024"`},
		{"purego", string(best), "--kernels: runs/x/run.json: the run was started on kernel path " + string(best) + ", not purego"},
	} {
		if best == kern.PureGo && c.pinned != "" {
			continue
		}
		before := kern.Current()
		f := Flags{Kernels: c.flag}
		_, err := f.UseKernels(c.pinned, "runs/x/run.json")
		var fe *stage.FlagError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("--kernels %q pinned %q: %v; want a flag error with %q", c.flag, c.pinned, err, c.msg)
		}
		if kern.Current() != before {
			t.Errorf("a refused --kernels changed the path: %s -> %s", before, kern.Current())
		}
	}
	if err := (&Flags{Device: "cpu", Precision: "fp32", Kernels: "sse"}).Validate(); err == nil || !strings.Contains(err.Error(), "--kernels") {
		t.Errorf("Validate(--kernels sse) = %v", err)
	}
}

// TestUseKernelsMissingPath runs on a machine without AVX-512 (this test
// binary again, with AVX-512 hidden from it by GODEBUG when the CPU has
// it): a run pinned to avx512 is refused, for auto too, naming the file.
func TestUseKernelsMissingPath(t *testing.T) {
	if slices.Contains(kern.Supported(), kern.AVX512) {
		if os.Getenv("PERTNAS_TEST_NO_AVX512") != "" {
			t.Fatal("GODEBUG=cpu.avx512f=off did not hide AVX-512")
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestUseKernelsMissingPath$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), "GODEBUG=cpu.avx512f=off", "PERTNAS_TEST_NO_AVX512=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: TestUseKernelsMissingPath") {
			t.Fatalf("without AVX-512: %v\n%s", err, out)
		}
		return
	}
	keepKernels(t)
	for _, flag := range []string{"auto", "avx512"} {
		f := Flags{Kernels: flag}
		_, err := f.UseKernels("avx512", "runs/x/run.json")
		if err == nil || !strings.Contains(err.Error(), "--kernels: runs/x/run.json: the run's kernel path avx512: this CPU lacks it") {
			t.Errorf("--kernels %s, run pinned to avx512, CPU without it: %v", flag, err)
		}
	}
}
