package imagenet

import (
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"
)

// TestWriteBench: n training and 20 validation JPEGs of ImageNet's typical
// sizes, alternating landscape and portrait, in ten class folders; the same
// call writes the same bytes.
func TestWriteBench(t *testing.T) {
	dir := t.TempDir()
	if err := WriteBench(dir, 12); err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, split := range []string{"train", "val"} {
		paths, _ := filepath.Glob(filepath.Join(dir, split, "*", "*.JPEG"))
		count[split] = len(paths)
	}
	if count["train"] != 12 || count["val"] != 20 {
		t.Fatalf("wrote %v, want 12 train and 20 val images", count)
	}
	for i, want := range [][2]int{{500, 375}, {375, 500}} {
		f, err := os.Open(filepath.Join(dir, "train", SynthClass(i), "img0000"+string(rune('0'+i))+".JPEG"))
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := jpeg.DecodeConfig(f)
		f.Close()
		if err != nil || cfg.Width != want[0] || cfg.Height != want[1] {
			t.Fatalf("image %d: %dx%d (%v), want %dx%d", i, cfg.Width, cfg.Height, err, want[0], want[1])
		}
	}
	again := t.TempDir()
	if err := WriteBench(again, 12); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(filepath.Join(dir, "val", SynthClass(3), "img00013.JPEG"))
	b, _ := os.ReadFile(filepath.Join(again, "val", SynthClass(3), "img00013.JPEG"))
	if len(a) == 0 || string(a) != string(b) {
		t.Fatal("two calls wrote different bytes")
	}
	if err := WriteBench(t.TempDir(), 0); err == nil {
		t.Fatal("WriteBench(0) accepted")
	}
}
