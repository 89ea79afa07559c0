package loader

import (
	"fmt"
	"math"
	"slices"
	"testing"
)

// The bounds TestJPEGDCTScale holds JPEGDCTScale's images to, per 8-bit
// value against the exact path: the mean absolute difference over an
// image, and the largest difference of any value.
const (
	dctScaleMeanBound = 3
	dctScaleMaxBound  = 64
)

// dctScaleCases are the crops TestJPEGDCTScale and BenchmarkJPEGDCTScale
// run: ImageNet's train and eval crops at 224 (where 500x375 images are
// never scaled: no box reaches 448 pixels in both directions), 112 and 64
// (train-eval's quick preset).
var dctScaleCases = []struct {
	name string
	crop Crop
}{
	{"train-224", ImageNetTrainCrop(224)}, {"eval-224", ImageNetTestCrop(224, 256)},
	{"train-112", ImageNetTrainCrop(112)}, {"eval-112", ImageNetTestCrop(112, 128)},
	{"train-64", ImageNetTrainCrop(64)}, {"eval-64", ImageNetTestCrop(64, 73)},
}

// TestJPEGDCTScale compares the loader with and without JPEGDCTScale on
// the bench images (500x375 and 375x500, quality 90): the images it does
// not scale are equal, those it scales within the stated bounds, and the
// smaller crops do scale some.
func TestJPEGDCTScale(t *testing.T) {
	withJPEG(t, "turbo")
	src := imagenetSized(t, 32)
	for _, c := range dctScaleCases {
		t.Run(c.name, func(t *testing.T) {
			var out [2][]float32
			for k, on := range []bool{false, true} {
				out[k] = firstImages(t, src, Config{BatchSize: src.NumSamples(), Order: Sequential, Seed: 7, Crop: c.crop,
					Std: [3]float32{1, 1, 1}, JPEGDCTScale: on})
			}
			crop, _ := c.crop.normalized()
			size := 3 * crop.Size * crop.Size
			scaled := map[int]int{}
			var sumMean, worst float64
			for s := range src.NumSamples() {
				r := newSampleRNG(7, 0, s)
				p := crop.plan(&r, src.h[s], src.w[s])
				d := p.dctDenom(src.h[s], src.w[s])
				scaled[d]++
				var sum, mx float64
				for i := s * size; i < (s+1)*size; i++ {
					diff := math.Abs(float64(out[0][i] - out[1][i]))
					sum += diff
					mx = max(mx, diff)
				}
				mean := sum / float64(size)
				if d == 1 && mx != 0 {
					t.Errorf("sample %d, not scaled: pixels differ by up to %v", s, mx)
				}
				if d > 1 {
					sumMean += mean
					worst = max(worst, mx)
				}
				if mean > dctScaleMeanBound || mx > dctScaleMaxBound {
					t.Errorf("sample %d at 1/%d: mean difference %.2f, largest %v; bounds %v and %v", s, d, mean, mx, dctScaleMeanBound, dctScaleMaxBound)
				}
			}
			if n := src.NumSamples() - scaled[1]; n > 0 {
				t.Logf("scaled %d of %d images (1/2: %d, 1/4: %d, 1/8: %d): mean difference %.3f, largest %v",
					n, src.NumSamples(), scaled[2], scaled[4], scaled[8], sumMean/float64(n), worst)
			} else if crop.Size < 224 {
				t.Errorf("no image scaled at size %d", crop.Size)
			}
		})
	}
}

// BenchmarkJPEGDCTScale times the loader with and without JPEGDCTScale on
// 64 bench images, batch 32, no augmentation, the crops of dctScaleCases
// (img/cpu-s: images per CPU second). Run with
//
//	go test -run '^$' -bench JPEGDCTScale -cpu 1,2 ./loader
func BenchmarkJPEGDCTScale(b *testing.B) {
	withJPEG(b, "turbo")
	src := imagenetSized(b, 64)
	for _, c := range dctScaleCases {
		for _, on := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/dct=%v", c.name, on), func(b *testing.B) {
				l, err := New(src, Config{BatchSize: 32, Order: Random, DropLast: true, Crop: c.crop, JPEGDCTScale: on})
				if err != nil {
					b.Fatal(err)
				}
				benchEpochs(b, l)
			})
		}
	}
}

// TestJPEGDCTScaleGo checks that the Go decoder ignores JPEGDCTScale and
// that the option without a crop is refused.
func TestJPEGDCTScaleGo(t *testing.T) {
	withJPEG(t, "go")
	src := imagenetSized(t, 4)
	var out [2][]float32
	for k, on := range []bool{false, true} {
		out[k] = firstImages(t, src, Config{BatchSize: 4, Order: Sequential, Crop: ImageNetTrainCrop(64), JPEGDCTScale: on})
	}
	if !slices.Equal(out[0], out[1]) {
		t.Error("the Go decoder's images change with JPEGDCTScale")
	}
	if _, err := New(src, Config{BatchSize: 4, JPEGDCTScale: true}); err == nil {
		t.Error("JPEGDCTScale without a crop accepted")
	}
}

// firstImages returns a copy of the images of epoch 0's first batch of a
// loader over src with cfg.
func firstImages(t *testing.T, src Source, cfg Config) []float32 {
	t.Helper()
	l, err := New(src, cfg)
	if err != nil {
		t.Fatal(err)
	}
	it := l.Epoch(0)
	defer it.Close()
	if !it.Next() {
		t.Fatal(it.Err())
	}
	return append([]float32(nil), it.Batch().Images...)
}
