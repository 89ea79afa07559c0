package convert

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"pertnas/formats/cifar"
)

// testdata/fashion-mnist holds a tiny Fashion-MNIST in the idx format: 6
// training images (labels 9, 0, 4, 1, 8, 3; extracted files) and 2 test images
// (labels 7, 2; gzipped files); pixel (y, x) of image i of a split is
// (base + 7i + 3y + x) mod 256 with base 10 (train) and 200 (test).
const fashionTestdata = "testdata/fashion-mnist"

func fashionPixel(base, i, y, x int) byte { return byte((base + 7*i + 3*y + x) % 256) }

// TestFashionMNIST: the archive holds every image padded with black to
// 32x32, grey copied to R, G and B, labels and order kept, class names
// written; the ordinary conversion reads it.
func TestFashionMNIST(t *testing.T) {
	dir := t.TempDir()
	archive := filepath.Join(dir, cifar.CIFAR10.ArchiveName())
	if err := WriteFashionMNIST(fashionTestdata, archive, 0, 0); err != nil {
		t.Fatal(err)
	}
	data, err := cifar.Load(archive, cifar.Options{Dataset: cifar.CIFAR10}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(data.Classes, FashionMNISTClasses) {
		t.Errorf("classes %q, want %q", data.Classes, FashionMNISTClasses)
	}
	for _, sp := range []struct {
		name   string
		split  *cifar.Split
		base   int
		labels []int
	}{{"train", &data.Train, 10, []int{9, 0, 4, 1, 8, 3}}, {"test", &data.Test, 200, []int{7, 2}}} {
		if sp.split.Len() != len(sp.labels) {
			t.Fatalf("%s: %d images, want %d", sp.name, sp.split.Len(), len(sp.labels))
		}
		for i, l := range sp.labels {
			if got := sp.split.Label(i); got != l {
				t.Errorf("%s image %d: label %d, want %d", sp.name, i, got, l)
			}
			planes := sp.split.Planes(i)
			for c := range 3 {
				for y := range cifar.Side {
					for x := range cifar.Side {
						want := byte(0)
						if y >= 2 && y < 30 && x >= 2 && x < 30 {
							want = fashionPixel(sp.base, i, y-2, x-2)
						}
						if got := planes[c*cifar.PlaneSize+y*cifar.Side+x]; got != want {
							t.Fatalf("%s image %d channel %d (%d,%d): %d, want %d", sp.name, i, c, y, x, got, want)
						}
					}
				}
			}
		}
	}
	// The ordinary conversion takes the archive from the output folder.
	res, err := Run(context.Background(), Options{Out: dir})
	if err != nil {
		t.Fatal(err)
	}
	if res.Manifest.Train.Samples != 6 || res.Manifest.Test.Samples != 2 {
		t.Errorf("converted %d/%d images, want 6/2", res.Manifest.Train.Samples, res.Manifest.Test.Samples)
	}
}

// TestFashionMNISTLimit keeps the first N images of each split.
func TestFashionMNISTLimit(t *testing.T) {
	archive := filepath.Join(t.TempDir(), "a.tar.gz")
	if err := WriteFashionMNIST(fashionTestdata, archive, 5, 1); err != nil {
		t.Fatal(err)
	}
	data, err := cifar.Load(archive, cifar.Options{Dataset: cifar.CIFAR10}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if data.Train.Len() != 5 || data.Test.Len() != 1 || data.Train.Label(4) != 8 || data.Test.Label(0) != 7 {
		t.Errorf("limited to %d/%d images (labels %d, %d), want the first 5/1 (8, 7)", data.Train.Len(), data.Test.Len(), data.Train.Label(4), data.Test.Label(0))
	}
}

// TestFashionMNISTBadInput: a missing or malformed source is bad input
// naming the file, and nothing is written.
func TestFashionMNISTBadInput(t *testing.T) {
	bad := t.TempDir()
	for _, f := range []string{"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"} {
		b, err := os.ReadFile(filepath.Join(fashionTestdata, f))
		if err != nil {
			t.Fatal(err)
		}
		if f == "train-labels-idx1-ubyte" {
			b[3] = 3 // an image file's magic
		}
		if err := os.WriteFile(filepath.Join(bad, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct{ src, want string }{
		{t.TempDir(), "no train-images-idx3-ubyte(.gz)"},
		{bad, "train-labels-idx1-ubyte: not an idx file of unsigned bytes with 1 dimensions"},
	} {
		out := filepath.Join(t.TempDir(), "out", "a.tar.gz")
		err := WriteFashionMNIST(tc.src, out, 0, 0)
		if err == nil || !IsBadInput(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("source %s: error %v, want bad input containing %q", tc.src, err, tc.want)
		}
		if _, err := os.Stat(filepath.Dir(out)); !os.IsNotExist(err) {
			t.Errorf("source %s: the output folder was created", tc.src)
		}
	}
}
