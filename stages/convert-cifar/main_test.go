package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pertnas/internal/stage/stagetest"
)

func TestMain(m *testing.M) { stagetest.Main(m, main) }

func TestStage(t *testing.T) {
	dir := t.TempDir()
	arc := filepath.Join(dir, "demo", "cifar-10-binary.tar.gz")
	out := filepath.Join(dir, "out")
	steps := []struct {
		args   []string
		status int
		stderr string
	}{
		{[]string{"synth", "--out", arc, "--train", "50", "--test", "10", "--seed", "3"}, 0, ""},
		{[]string{"--src", arc, "--out", out, "--page-size", "2097152"}, 0, "converted"},
		{[]string{"--src", arc, "--out", out, "--page-size", "2097152"}, 0, "up to date"},
		{[]string{"convert", "--src", arc, "--out", out, "--write-mode", "jpg", "--page-size", "2097152"}, 0, "converted"},
		{[]string{"--out", filepath.Join(dir, "none")}, 2, "--src PATH"},
		{[]string{"--src", filepath.Join(dir, "missing.tar.gz"), "--out", out}, 2, "missing.tar.gz"},
		{[]string{"--src", arc, "--out", out, "--page-size", "1000"}, 2, "--page-size: must be a power of two"},
		{[]string{"--src", arc, "--out", out, "--write-mode", "jpg", "--jpeg-quality", "0"}, 2, "--jpeg-quality: must be in 1..100, got 0"},
		{[]string{"synth", "--out", filepath.Join(dir, "empty.tar.gz"), "--train", "0"}, 2, "--train: must be >= 1, got 0"},
		{[]string{"--src", arc, "--out", out, "--write-mode", "png"}, 2, "write-mode"},
		{[]string{"--src", arc, "--out", out, "--bogus"}, 2, "bogus"},
		{[]string{"--src", arc}, 2, "--out"},
	}
	for _, s := range steps {
		status, stderr := stagetest.Run(t, s.args...)
		if status != s.status || !strings.Contains(stderr, s.stderr) {
			t.Errorf("convert-cifar %s: status %d, stderr %q; want %d and %q", strings.Join(s.args, " "), status, stderr, s.status, s.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "empty.tar.gz")); !os.IsNotExist(err) {
		t.Errorf("a refused synth wrote its archive: %v", err)
	}
	for _, f := range []string{"cifar_train.beton", "cifar_test.beton", "manifest.json"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	// A truncated archive is bad input, named in the message.
	b, _ := os.ReadFile(arc)
	cut := filepath.Join(dir, "cut.tar.gz")
	os.WriteFile(cut, b[:len(b)/2], 0o644)
	if status, stderr := stagetest.Run(t, "--src", cut, "--out", filepath.Join(dir, "o2")); status != 2 || !strings.Contains(stderr, "cut.tar.gz") || !strings.Contains(stderr, "offset") {
		t.Errorf("truncated archive: status %d, stderr %q", status, stderr)
	}
}
