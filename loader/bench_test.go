package loader

import (
	"bytes"
	"image"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"syscall"
	"testing"
	"time"

	"pertnas/convert/imagenet"
	"pertnas/formats/beton"
	"pertnas/loader/imgkern"
	"pertnas/loader/turbojpeg"
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
// sizes: imagenet.BenchImage, the images scripts/bench-imagenet.sh times.
func imagenetSized(b testing.TB, n int) *sizedJPEGSource {
	src := &sizedJPEGSource{}
	rng := rand.New(rand.NewPCG(imagenet.BenchSeed, 0))
	for i := range n {
		img := imagenet.BenchImage(rng, i)
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
			b.Fatal(err)
		}
		w, h := img.Rect.Dx(), img.Rect.Dy()
		src.data, src.w, src.h = append(src.data, buf.Bytes()), append(src.w, w), append(src.h, h)
	}
	return src
}

// cpuTime is the CPU time (user + system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the process's CPU time per operation since start
// (cpu-ns/op): on a machine shared with other work it varies far less
// than the wall time.
func reportCPU(b *testing.B, start time.Duration, ops int) {
	b.ReportMetric(float64(cpuTime()-start)/float64(ops), "cpu-ns/op")
}

// benchEpochs runs l over epochs until b.N images and reports images/s
// and images per CPU second (img/cpu-s: per core).
func benchEpochs(b *testing.B, l *Loader) {
	b.ResetTimer()
	cpu0 := cpuTime()
	defer func() {
		b.ReportMetric(float64(b.N)/(cpuTime()-cpu0).Seconds(), "img/cpu-s")
	}()
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

// BenchmarkImageNetStages measures the ImageNet steps one at a time on one
// goroutine, per image: decoding with each decoder, the crops' resizing and
// the colour jitter (cpu-ns/op: the CPU time per image). The resize and
// jitter kernels run the fastest path the CPU has; PERTNAS_IMGKERN=purego,
// avx2 or avx512 in the environment pins one (loader/imgkern), here and in
// every other benchmark, e.g. the avx2 path of an AVX2-only CPU on an
// AVX-512 one:
//
//	go test -run '^$' -bench ImageNetStages ./loader
//	PERTNAS_IMGKERN=avx2 go test -run '^$' -bench ImageNetStages ./loader
func BenchmarkImageNetStages(b *testing.B) {
	src := imagenetSized(b, 16)
	for _, backend := range []string{"turbo", "go"} {
		b.Run("decode/"+backend, func(b *testing.B) {
			withJPEG(b, backend)
			var d jpegDecoder
			defer d.close()
			var buf []byte
			var err error
			cpu0, n := cpuTime(), 0
			for i := 0; b.Loop(); i++ {
				s := i % len(src.data)
				if buf, err = d.decode(buf, src.data[s], src.w[s], src.h[s]); err != nil {
					b.Fatal(err)
				}
				n++
			}
			reportCPU(b, cpu0, n)
		})
	}
	train, test := ImageNetTrainCrop(224), ImageNetTestCrop(224, 256)
	whole := make([][]byte, len(src.data))
	for s := range whole {
		var err error
		if whole[s], err = decodeJPEGGo(nil, src.data[s], src.w[s], src.h[s]); err != nil {
			b.Fatal(err)
		}
	}
	out := make([]byte, 224*224*3)
	for _, c := range []struct {
		name string
		crop Crop
	}{{"resize-train", train}, {"resize-test", test}} {
		b.Run(c.name, func(b *testing.B) {
			var rs resizer
			cr, _ := c.crop.normalized()
			cpu0, n := cpuTime(), 0
			defer func() { reportCPU(b, cpu0, n) }()
			for i := 0; b.Loop(); i++ {
				n++
				s := i % len(src.data)
				r := newSampleRNG(1, 0, i)
				cr.apply(&rs, out, whole[s], src.h[s], src.w[s], &r)
			}
		})
	}
	var rs resizer
	r := newSampleRNG(1, 0, 0)
	train.apply(&rs, out, whole[0], src.h[0], src.w[0], &r)
	pix := make([]byte, len(out))
	for _, op := range []string{"brightness", "contrast", "saturation", "hue", "all4"} {
		b.Run("jitter-"+op, func(b *testing.B) {
			hueLUT() // built once per process
			cpu0, n := cpuTime(), 0
			defer func() { reportCPU(b, cpu0, n) }()
			for i := 0; b.Loop(); i++ {
				n++
				copy(pix, out)
				r := newSampleRNG(2, 0, i)
				d := ImageNetJitter.draw(&r)
				switch op {
				case "brightness":
					adjustBrightness(pix, d.b)
				case "contrast":
					adjustContrast(pix, d.c)
				case "saturation":
					adjustSaturation(pix, d.s)
				case "hue":
					adjustHue(pix, d.h)
				default:
					d.apply(pix)
				}
			}
		})
	}
}

// BenchmarkImageNetBeton measures the ImageNet pipelines on a JPEG .beton
// named by $PERTNAS_BENCH_BETON (scripts/bench-imagenet.sh writes one),
// batch 32, one worker per GOMAXPROCS, like FFCV's loader with as many
// workers: train (RandomResizedCrop 224 + flip, with and without the
// recipe's colour jitter, normalise) in random order, eval (resize 256 +
// centre crop 224, normalise) in order. One epoch warms the page cache
// first; images/s is the wall-clock rate and img/cpu-s the images per
// CPU second of the whole process. PERTNAS_IMGKERN pins the image
// kernels' path (see BenchmarkImageNetStages), also through
// scripts/bench-imagenet.sh, whose runs inherit the environment.
func BenchmarkImageNetBeton(b *testing.B) {
	path := os.Getenv("PERTNAS_BENCH_BETON")
	if path == "" {
		b.Skip("set PERTNAS_BENCH_BETON to a JPEG .beton (scripts/bench-imagenet.sh)")
	}
	r, err := beton.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	src, err := NewBetonSource(r, "image", "label")
	if err != nil {
		b.Fatal(err)
	}
	decoder := "pure Go (image/jpeg)"
	if turbojpeg.Load() == nil {
		decoder = "libjpeg-turbo " + turbojpeg.Path()
	}
	for _, c := range []struct {
		name string
		cfg  Config
	}{
		{"train", Config{Order: Random, Crop: ImageNetTrainCrop(224), Augment: Augment{Flip: true}}},
		{"train-jitter", Config{Order: Random, Crop: ImageNetTrainCrop(224), Augment: Augment{Flip: true, Jitter: ImageNetJitter}}},
		{"eval", Config{Order: Sequential, Crop: ImageNetTestCrop(224, 256)}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.Logf("decoder: %s; image kernels: %s", decoder, imgkern.Current())
			cfg := c.cfg
			cfg.BatchSize, cfg.DropLast, cfg.Mean, cfg.Std = 32, true, ImageNetMean, ImageNetStd
			l, err := New(src, cfg)
			if err != nil {
				b.Fatal(err)
			}
			it := l.Epoch(1000) // warm-up
			for it.Next() {
			}
			if err := it.Err(); err != nil {
				b.Fatal(err)
			}
			it.Close()
			benchEpochs(b, l)
		})
	}
}
