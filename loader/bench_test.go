package loader

import (
	"bytes"
	"image"
	"image/jpeg"
	"testing"
)

// BenchmarkCIFARTrain measures the training pipeline on CIFAR-sized raw
// images (32x32, batch 256, random order, pad-4 crop + flip + cutout 16 +
// normalise). Run on 2 cores with
//
//	go test -run '^$' -bench CIFARTrain -cpu 2 ./loader
//
// it reports images/s.
func BenchmarkCIFARTrain(b *testing.B) {
	src := synthetic(10000, 32, 32)
	l, err := New(src, Config{BatchSize: 256, Order: Random, DropLast: true, Augment: DARTSTrain(16)})
	if err != nil {
		b.Fatal(err)
	}
	benchEpochs(b, l)
}

// BenchmarkCIFARTrainJPEG is BenchmarkCIFARTrain with JPEG-stored images
// (quality 90): decoding dominates.
func BenchmarkCIFARTrainJPEG(b *testing.B) {
	raw := synthetic(2000, 32, 32)
	src := &jpegMemSource{}
	for i, img := range raw.Images {
		rgba := image.NewRGBA(image.Rect(0, 0, 32, 32))
		for p := range 32 * 32 {
			copy(rgba.Pix[p*4:], img[p*3:p*3+3])
			rgba.Pix[p*4+3] = 255
		}
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, rgba, &jpeg.Options{Quality: 90}); err != nil {
			b.Fatal(err)
		}
		src.data = append(src.data, buf.Bytes())
		src.labels = append(src.labels, raw.Labels[i])
	}
	l, err := New(src, Config{BatchSize: 256, Order: Random, DropLast: true, Augment: DARTSTrain(16)})
	if err != nil {
		b.Fatal(err)
	}
	benchEpochs(b, l)
}

type jpegMemSource struct {
	data   [][]byte
	labels []int64
}

func (s *jpegMemSource) NumSamples() int { return len(s.data) }
func (s *jpegMemSource) Page(int) int    { return 0 }
func (s *jpegMemSource) Sample(i int) (Encoded, error) {
	return Encoded{JPEG: true, Width: 32, Height: 32, Data: s.data[i], Label: s.labels[i]}, nil
}

// sizedJPEGSource serves JPEG images of their own sizes.
type sizedJPEGSource struct {
	data [][]byte
	w, h []int
}

func (s *sizedJPEGSource) NumSamples() int { return len(s.data) }
func (s *sizedJPEGSource) Page(int) int    { return 0 }
func (s *sizedJPEGSource) Sample(i int) (Encoded, error) {
	return Encoded{JPEG: true, Width: s.w[i], Height: s.h[i], Data: s.data[i], Label: int64(i % 10)}, nil
}

// imagenetSized returns n textured JPEGs (quality 90) of ImageNet's typical
// sizes (500x375 and 375x500 alternately).
func imagenetSized(b *testing.B, n int) *sizedJPEGSource {
	src := &sizedJPEGSource{}
	for i := range n {
		w, h := 500, 375
		if i%2 == 1 {
			w, h = h, w
		}
		img := image.NewRGBA(image.Rect(0, 0, w, h))
		for p := range w * h {
			x, y := p%w, p/w
			img.Pix[p*4], img.Pix[p*4+1], img.Pix[p*4+2], img.Pix[p*4+3] = byte(x*3+i), byte(y*5), byte((x^y)+i*7), 255
		}
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
			b.Fatal(err)
		}
		src.data, src.w, src.h = append(src.data, buf.Bytes()), append(src.w, w), append(src.h, h)
	}
	return src
}

// benchEpochs runs l over epochs until b.N images and reports images/s.
func benchEpochs(b *testing.B, l *Loader) {
	b.ResetTimer()
	images := 0
	for epoch := 0; images < b.N; epoch++ {
		it := l.Epoch(epoch)
		for images < b.N && it.Next() {
			images += it.Batch().N
		}
		if err := it.Err(); err != nil {
			b.Fatal(err)
		}
		it.Close()
	}
	b.ReportMetric(float64(images)/b.Elapsed().Seconds(), "images/s")
}

// BenchmarkImageNetTrain measures the ImageNet training pipeline on
// 500x375 JPEGs: decode, RandomResizedCrop 224, flip, colour jitter,
// normalise (batch 32). Run with
//
//	go test -run '^$' -bench ImageNet -cpu 2 ./loader
func BenchmarkImageNetTrain(b *testing.B) {
	l, err := New(imagenetSized(b, 64), Config{BatchSize: 32, Order: Random, DropLast: true,
		Crop: ImageNetTrainCrop(224), Augment: Augment{Flip: true, Jitter: ImageNetJitter}, Mean: ImageNetMean, Std: ImageNetStd})
	if err != nil {
		b.Fatal(err)
	}
	benchEpochs(b, l)
}

// BenchmarkImageNetTest measures the evaluation pipeline: decode, resize
// to 256, centre crop 224, normalise.
func BenchmarkImageNetTest(b *testing.B) {
	l, err := New(imagenetSized(b, 64), Config{BatchSize: 32, Crop: ImageNetTestCrop(224, 256), Mean: ImageNetMean, Std: ImageNetStd})
	if err != nil {
		b.Fatal(err)
	}
	benchEpochs(b, l)
}
