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
	src := filepath.Join(dir, "src")
	flat := filepath.Join(dir, "flat")
	out := filepath.Join(dir, "out")
	bad := filepath.Join(src, "val", "n00001001", "n00001001_val_0.JPEG")
	steps := []struct {
		args   []string
		status int
		stderr string
	}{
		{[]string{"synth", "--out", src, "--classes", "3", "--train", "2", "--val", "1", "--min-side", "16", "--max-side", "24"}, 0, ""},
		{[]string{"synth", "--out", flat, "--classes", "3", "--train", "2", "--val", "1", "--min-side", "16", "--max-side", "24", "--flat-val"}, 0, ""},
		{[]string{"--src", src, "--out", out, "--page-size", "2097152", "--max-side", "20"}, 0, "converted"},
		{[]string{"--src", src, "--out", out, "--page-size", "2097152", "--max-side", "20"}, 0, "up to date"},
		{[]string{"convert", "--src", flat, "--out", filepath.Join(dir, "o2"), "--val-labels", filepath.Join(flat, "val", "labels.txt"), "--page-size", "2097152"}, 0, "converted"},
		{[]string{"--src", flat, "--out", filepath.Join(dir, "o3")}, 2, "--val-labels"},
		{[]string{"--src", filepath.Join(dir, "none"), "--out", out}, 2, "none"},
		{[]string{"--src", src, "--out", out, "--max-side", "2"}, 2, "max side"},
		{[]string{"--src", src, "--out", out, "--bogus"}, 2, "bogus"},
		{[]string{"--src", src}, 2, "--out"},
		{[]string{"synth", "--out", filepath.Join(dir, "s"), "--classes", "11"}, 2, "classes"},
		{[]string{"synth", "--out", filepath.Join(dir, "s"), "--bench=-1"}, 2, "--bench: must be >= 0, got -1"},
	}
	for _, s := range steps {
		status, stderr := stagetest.Run(t, s.args...)
		if status != s.status || !strings.Contains(stderr, s.stderr) {
			t.Errorf("convert-imagenet %s: status %d, stderr %q; want %d and %q", strings.Join(s.args, " "), status, stderr, s.status, s.stderr)
		}
	}
	for _, f := range []string{"imagenet_train.beton", "imagenet_val.beton", "manifest.json"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	// A broken JPEG is bad input, named in the message.
	os.WriteFile(bad, []byte{0xFF, 0xD8, 0xFF, 0xC0, 0, 1}, 0o644)
	if status, stderr := stagetest.Run(t, "--src", src, "--out", filepath.Join(dir, "o4")); status != 2 || !strings.Contains(stderr, bad) {
		t.Errorf("broken JPEG: status %d, stderr %q", status, stderr)
	}
}
