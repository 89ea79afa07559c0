package traineval

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"pertnas/formats/artifact"
	"pertnas/formats/checkpoint"
	"pertnas/nn/cpu/kern"
)

// kernelRun trains the smoke network of smokeOptions for one epoch on
// kernel path p (kern.Default when empty) into out and returns the bytes of
// model.safetensors, checking that result.json and state.json record p.
func kernelRun(t *testing.T, data, out string, p kern.Path) []byte {
	t.Helper()
	saved := kern.Current()
	defer kern.Use(saved)
	if p == "" {
		p = kern.Default()
	}
	if err := kern.Use(p); err != nil {
		t.Fatal(err)
	}
	o := smokeOptions(data, out)
	o.Recipe.Epochs = 1
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	var rec Result
	if err := artifact.ReadJSON(filepath.Join(out, "result.json"), &rec); err != nil || rec.Kernels != string(p) || res.Kernels != string(p) {
		t.Fatalf("result.json records kernels %q (%v), want %s", rec.Kernels, err, p)
	}
	if st, err := checkpoint.ReadState(out); err != nil || st.Kernels != string(p) {
		t.Fatalf("state.json records kernels %v (%v), want %s", st, err, p)
	}
	model, err := os.ReadFile(filepath.Join(out, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	return model
}

// TestKernelPathsReproduce trains the same network on every kernel path
// this CPU has. On an AVX-512 CPU, the avx2 path selected with kern.Use
// must give the bytes that a process which sees no AVX-512 at all (this
// test binary again, with AVX-512 hidden by GODEBUG, on its default path)
// gives: what an AVX2-only machine computes. Paths that sum differently
// give other weights.
func TestKernelPathsReproduce(t *testing.T) {
	if out := os.Getenv("PERTNAS_TEST_KERNEL_OUT"); out != "" {
		// The child: a machine without AVX-512 as far as this process knows.
		if slices.Contains(kern.Supported(), kern.AVX512) {
			t.Fatal("GODEBUG=cpu.avx512f=off did not hide AVX-512")
		}
		if kern.Default() != kern.AVX2 {
			t.Fatalf("default path %s, want avx2", kern.Default())
		}
		kernelRun(t, os.Getenv("PERTNAS_TEST_KERNEL_DATA"), out, "")
		return
	}
	ps := kern.Supported()
	if !slices.Contains(ps, kern.AVX2) {
		t.Skip("this CPU has no AVX2 and FMA: only the purego path to run")
	}
	data := t.TempDir()
	writeSynthBeton(t, data, 64, 32)
	models := map[kern.Path][]byte{}
	for _, p := range ps {
		models[p] = kernelRun(t, data, t.TempDir(), p)
	}
	if again := kernelRun(t, data, t.TempDir(), kern.AVX2); !bytes.Equal(again, models[kern.AVX2]) {
		t.Fatal("two avx2 runs in one process differ")
	}
	for i, p := range ps {
		for _, q := range ps[i+1:] {
			if bytes.Equal(models[p], models[q]) {
				t.Errorf("kernel paths %s and %s trained the same weights: the test shows nothing", p, q)
			}
		}
	}
	if !slices.Contains(ps, kern.AVX512) {
		t.Log("no AVX-512 on this CPU: the avx2 path is the default one, no child run needed")
		return
	}
	out := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKernelPathsReproduce$", "-test.count=1")
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "PERTNAS_PUREGO=") })
	cmd.Env = append(env, "GODEBUG=cpu.avx512f=off", "PERTNAS_TEST_KERNEL_OUT="+out, "PERTNAS_TEST_KERNEL_DATA="+data)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the run without AVX-512: %v\n%s", err, msg)
	}
	child, err := os.ReadFile(filepath.Join(out, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(child, models[kern.AVX2]) {
		t.Fatal("--kernels avx2 on this AVX-512 CPU and a process without AVX-512 trained different weights")
	}
}

// TestResumeOtherKernelsRefused resumes a checkpoint made on one kernel
// path on another: refused as bad input naming the kernels, nothing
// written.
func TestResumeOtherKernelsRefused(t *testing.T) {
	ps := kern.Supported()
	if len(ps) < 2 {
		t.Skip("this CPU runs one kernel path only")
	}
	data, out := t.TempDir(), t.TempDir()
	writeSynthBeton(t, data, 64, 32)
	kernelRun(t, data, out, ps[1])
	before := listing(t, out)
	saved := kern.Current()
	defer kern.Use(saved)
	if err := kern.Use(ps[0]); err != nil {
		t.Fatal(err)
	}
	o := smokeOptions(data, out)
	o.Recipe.Epochs = 1 // the settings of the checkpoint but for the kernels
	_, err := Run(context.Background(), o)
	var ie *InputError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "kernels") || strings.Contains(err.Error(), "epochs") {
		t.Fatalf("resume of a %s checkpoint on %s: %v; want an input error about the kernels", ps[1], ps[0], err)
	}
	t.Logf("refused: %v", err)
	if after := listing(t, out); after != before {
		t.Fatalf("the refused resume changed the folder:\n%s\n->\n%s", before, after)
	}
}

// listing describes every file under dir with its size and contents' hash.
func listing(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		fmt.Fprintf(&b, "%s %d %x\n", path, len(data), sha256.Sum256(data))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestResumeLegacyCheckpoint resumes a checkpoint made before the kernel
// path was recorded (no kernels in state.json or its run key): it resumes,
// and the checkpoints it saves keep the run key without kernels, so later
// resumes work too.
func TestResumeLegacyCheckpoint(t *testing.T) {
	data, out := t.TempDir(), t.TempDir()
	writeSynthBeton(t, data, 64, 32)
	ctx, cancel := context.WithCancel(context.Background())
	o := smokeOptions(data, out)
	o.Log = slog.New(cancelOnEpoch{cancel}) // stopped after epoch 1 of 2
	if _, err := Run(ctx, o); !errors.Is(err, context.Canceled) {
		t.Fatalf("stopped run: %v", err)
	}
	path := filepath.Join(out, "state.json")
	var st map[string]any
	if err := artifact.ReadJSON(path, &st); err != nil {
		t.Fatal(err)
	}
	delete(st, "kernels")
	delete(st["config"].(map[string]any)["run"].(map[string]any), "kernels")
	if err := artifact.WriteJSON(path, st); err != nil {
		t.Fatal(err)
	}
	if got := runKernels(out); got != "" {
		t.Fatalf("run key kernels %q for a checkpoint without them", got)
	}
	if _, err := Run(context.Background(), smokeOptions(data, out)); err != nil {
		t.Fatalf("resume of a checkpoint without kernels: %v", err)
	}
	saved, err := checkpoint.ReadState(out)
	if err != nil || saved.Epoch != 2 || saved.Kernels != string(kern.Current()) {
		t.Fatalf("state after the resume: %+v, %v", saved, err)
	}
	if got := runKernels(out); got != "" {
		t.Fatalf("after a resume the run key records kernels %q: a later resume would be refused", got)
	}
}
