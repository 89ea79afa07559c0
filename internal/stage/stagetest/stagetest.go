// Package stagetest runs a stage's main function in a child process of its
// own test binary, so that a test sees the real exit status and stderr.
package stagetest

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// runMainEnv, set to "1" in a child's environment, makes Main run the
// stage instead of the tests.
const runMainEnv = "PERTNAS_STAGETEST_RUN_MAIN"

// Main is the body of a stage test package's TestMain: in a child started
// by Run it runs main (exiting 0 if main returns), otherwise the tests.
func Main(m *testing.M, main func()) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// Run runs the stage with args in a child process and returns its exit
// status and stderr.
func Run(t testing.TB, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), stderr.String()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, stderr.String()
}

// Snapshot returns every file below dir (slash paths relative to dir) with
// its contents, or nil when dir does not exist, so that a test can assert
// that a refused command left a folder exactly as it was.
func Snapshot(t testing.TB, dir string) map[string]string {
	t.Helper()
	if _, err := os.Stat(dir); os.IsNotExist(err) {
		return nil
	}
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if d.IsDir() {
			files[filepath.ToSlash(rel)+"/"] = ""
			return nil
		}
		b, err := os.ReadFile(path)
		files[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// Unchanged fails the test when dir differs from the snapshot before.
func Unchanged(t testing.TB, dir string, before map[string]string) {
	t.Helper()
	after := Snapshot(t, dir)
	for p, b := range before {
		if a, ok := after[p]; !ok {
			t.Errorf("%s: %s was removed", dir, p)
		} else if a != b {
			t.Errorf("%s: %s was changed", dir, p)
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			t.Errorf("%s: %s was written", dir, p)
		}
	}
}

// CopyWith copies the files of folder src (not below it) into a new folder
// dst, giving file name the contents b instead: a dataset folder with one
// file truncated or replaced, for the refusal tests of the stages.
func CopyWith(t testing.TB, src, dst, name string, b []byte) {
	t.Helper()
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.IsDir() {
			continue
		}
		data := b
		if e.Name() != name {
			if data, err = os.ReadFile(filepath.Join(src, e.Name())); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
