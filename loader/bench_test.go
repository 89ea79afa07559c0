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

type jpegMemSource struct {
	data   [][]byte
	labels []int64
}

func (s *jpegMemSource) NumSamples() int { return len(s.data) }
func (s *jpegMemSource) Page(int) int    { return 0 }
func (s *jpegMemSource) Sample(i int) (Encoded, error) {
	return Encoded{JPEG: true, Width: 32, Height: 32, Data: s.data[i], Label: s.labels[i]}, nil
}
