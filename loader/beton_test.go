package loader

import (
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"testing"

	"pertnas/formats/beton"
	"pertnas/internal/testroot"
)

// TestGoldenBeton loads FFCV's own golden file (5 samples, image i filled
// with i except pixel (0,0) = 1,2,3, label i%10) through BetonSource.
func TestGoldenBeton(t *testing.T) {
	gz, err := os.Open(testroot.Path(t, "formats", "beton", "testdata", "ffcv-5x32-page2m.beton.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer gz.Close()
	zr, err := gzip.NewReader(gz)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "golden.beton")
	f, _ := os.Create(path)
	if _, err := io.Copy(f, zr); err != nil {
		t.Fatal(err)
	}
	f.Close()
	r, err := beton.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	src, err := NewBetonSource(r, "image", "label")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewBetonSource(r, "label", "image"); err == nil {
		t.Fatal("swapped field types accepted")
	}
	l, err := New(src, identityCfg(2))
	if err != nil {
		t.Fatal(err)
	}
	imgs, labels, ids := collect(t, l, 0)
	if len(ids) != 5 {
		t.Fatalf("%d samples", len(ids))
	}
	const plane = 32 * 32
	for i := range 5 {
		if labels[i] != int32(i%10) {
			t.Fatalf("sample %d label %d", i, labels[i])
		}
		img := imgs[i*3*plane : (i+1)*3*plane]
		for c := range 3 {
			if img[c*plane] != float32(c+1) {
				t.Fatalf("sample %d pixel (0,0) channel %d = %v, want %d", i, c, img[c*plane], c+1)
			}
			if img[c*plane+5*32+7] != float32(i) {
				t.Fatalf("sample %d pixel (5,7) channel %d = %v, want %d", i, c, img[c*plane+5*32+7], i)
			}
		}
	}
}
