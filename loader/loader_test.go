package loader

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"slices"
	"testing"
)

// synthetic returns n raw h x w images whose pixel (y, x) of sample i holds
// bytes (i, y*w+x, c) mixed so every pixel and sample differ, labels i%10.
func synthetic(n, h, w int) *MemorySource {
	m := &MemorySource{Width: w, Height: h}
	for i := range n {
		img := make([]byte, h*w*3)
		for p := range h * w {
			for c := range 3 {
				img[p*3+c] = byte(i*7 + p*3 + c*50)
			}
		}
		m.Images = append(m.Images, img)
		m.Labels = append(m.Labels, int64(i%10))
		m.PageOf = append(m.PageOf, i/5)
	}
	return m
}

// identity normalisation: output equals the byte value.
var identity = Config{Mean: [3]float32{0, 0, 0}, Std: [3]float32{1, 1, 1}}

func collect(t *testing.T, l *Loader, epoch int) ([]float32, []int32, []int) {
	t.Helper()
	it := l.Epoch(epoch)
	defer it.Close()
	var imgs []float32
	var labels []int32
	var ids []int
	k := 0
	for it.Next() {
		b := it.Batch()
		if b.Index != k {
			t.Fatalf("batch %d arrived as %d", b.Index, k)
		}
		k++
		imgs = append(imgs, b.Images[:b.N*3*b.H*b.W]...)
		labels = append(labels, b.Labels[:b.N]...)
		ids = append(ids, b.Samples[:b.N]...)
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	if k != l.NumBatches() {
		t.Fatalf("got %d batches, want %d", k, l.NumBatches())
	}
	return imgs, labels, ids
}

func TestDeterministicAcrossWorkers(t *testing.T) {
	src := synthetic(53, 8, 8)
	for _, order := range []Order{Sequential, Random, QuasiRandom} {
		var ref []float32
		var refIDs []int
		for _, workers := range []int{1, 2, 5} {
			cfg := Config{BatchSize: 7, Order: order, Seed: 42, Workers: workers, Prefetch: workers + 1,
				Window: 2, Augment: Augment{Flip: true, Pad: 2, Fill: [3]uint8{9, 8, 7}, Cutout: 3}}
			l, err := New(src, cfg)
			if err != nil {
				t.Fatal(err)
			}
			imgs, _, ids := collect(t, l, 3)
			if ref == nil {
				ref, refIDs = imgs, ids
				continue
			}
			if !slices.Equal(ids, refIDs) || !slices.Equal(imgs, ref) {
				t.Fatalf("%v: %d workers differ from 1 worker", order, workers)
			}
		}
		// Another epoch gives other augmentations (and for random orders
		// another order).
		l, _ := New(src, Config{BatchSize: 7, Order: order, Seed: 42, Augment: Augment{Flip: true, Pad: 2, Cutout: 3}})
		imgs4, _, ids4 := collect(t, l, 4)
		if slices.Equal(imgs4, ref) {
			t.Fatalf("%v: epochs 3 and 4 identical", order)
		}
		if order != Sequential && slices.Equal(ids4, refIDs) {
			t.Fatalf("%v: epochs 3 and 4 have the same order", order)
		}
	}
}

func TestOrders(t *testing.T) {
	src := synthetic(40, 2, 2)
	for _, order := range []Order{Sequential, Random, QuasiRandom} {
		l, err := New(src, Config{BatchSize: 6, Order: order, Seed: 1, Window: 2})
		if err != nil {
			t.Fatal(err)
		}
		_, labels, ids := collect(t, l, 0)
		if len(ids) != 40 {
			t.Fatalf("%v: %d samples, want 40 (no drop_last)", order, len(ids))
		}
		for j, s := range ids {
			if labels[j] != int32(s%10) {
				t.Fatalf("%v: sample %d has label %d", order, s, labels[j])
			}
		}
		sorted := slices.Sorted(slices.Values(ids))
		for i, s := range sorted {
			if s != i {
				t.Fatalf("%v: not a permutation: %v", order, ids)
			}
		}
		switch order {
		case Sequential:
			if !slices.Equal(ids, sorted) {
				t.Fatalf("sequential out of order: %v", ids)
			}
		case QuasiRandom:
			// Pages hold 5 samples; a window is 2 pages = 10 consecutive
			// positions, all drawn from the same 2 pages.
			for w := 0; w < 40; w += 10 {
				pages := map[int]bool{}
				for _, s := range ids[w : w+10] {
					pages[s/5] = true
				}
				if len(pages) != 2 {
					t.Fatalf("quasi-random window at %d spans pages %v", w, pages)
				}
			}
			if slices.Equal(ids, sorted) {
				t.Fatal("quasi-random gave sequential order")
			}
		}
	}
	l, _ := New(src, Config{BatchSize: 6, DropLast: true})
	_, _, ids := collect(t, l, 0)
	if len(ids) != 36 || l.NumBatches() != 6 {
		t.Fatalf("drop_last: %d samples in %d batches, want 36 in 6", len(ids), l.NumBatches())
	}
}

func TestNormalisation(t *testing.T) {
	// One 1x1 image (R,G,B) = (0, 128, 255) with the FFCV constants and the
	// DARTS constants; expected values computed by hand: (v - mean) / std.
	src := &MemorySource{Width: 1, Height: 1, Images: [][]byte{{0, 128, 255}}, Labels: []int64{3}}
	for _, tc := range []struct {
		mean, std [3]float32
		want      [3]float64
	}{
		{FFCVMean, FFCVStd, [3]float64{-125.307 / 51.5865, (128 - 122.961) / 50.847, (255 - 113.8575) / 51.255}},
		{DARTSMean, DARTSStd, [3]float64{-0.49139968 / 0.24703233, (128.0/255 - 0.48215827) / 0.24348505, (1 - 0.44653124) / 0.26158768}},
	} {
		l, err := New(src, Config{BatchSize: 1, Mean: tc.mean, Std: tc.std})
		if err != nil {
			t.Fatal(err)
		}
		imgs, labels, _ := collect(t, l, 0)
		for c := range 3 {
			if math.Abs(float64(imgs[c])-tc.want[c]) > 1e-5 {
				t.Errorf("channel %d: got %v want %v", c, imgs[c], tc.want[c])
			}
		}
		if labels[0] != 3 {
			t.Errorf("label %d", labels[0])
		}
	}
	// The zero Std means the DARTS constants.
	l, _ := New(src, Config{BatchSize: 1})
	imgs, _, _ := collect(t, l, 0)
	if math.Abs(float64(imgs[0])+0.49139968/0.24703233) > 1e-5 {
		t.Errorf("default normalisation: got %v", imgs[0])
	}
}

// TestTranslateFlip checks the crop offsets and the flip against a direct
// construction of the padded image, for every draw.
func TestTranslateFlip(t *testing.T) {
	const h, w, pad = 4, 5, 2
	src := synthetic(1, h, w).Images[0]
	fill := [3]uint8{200, 201, 202}
	a := Augment{Flip: true, Pad: pad, Fill: fill}
	lut := newNormLUT([3]float32{}, [3]float32{1, 1, 1})
	seenOY, seenOX := map[int]bool{}, map[int]bool{}
	flips := 0
	const trials = 2000
	for s := range trials {
		r := newSampleRNG(5, 0, s)
		d := a.draw(&r, h, w)
		if d.oy < 0 || d.oy > 2*pad || d.ox < 0 || d.ox > 2*pad {
			t.Fatalf("offsets (%d, %d) outside [0, %d]", d.oy, d.ox, 2*pad)
		}
		seenOY[d.oy], seenOX[d.ox] = true, true
		if d.flip {
			flips++
		}
		dst := make([]float32, 3*h*w)
		a.transform(dst, src, h, w, d, lut)
		for y := range h {
			for x := range w {
				// Crop of the padded image, then flip.
				cx := x
				if d.flip {
					cx = w - 1 - x
				}
				py, px := y+d.oy, cx+d.ox // coordinates in the padded image
				for c := range 3 {
					want := fill[c]
					if py >= pad && py < h+pad && px >= pad && px < w+pad {
						want = src[((py-pad)*w+(px-pad))*3+c]
					}
					if got := dst[c*h*w+y*w+x]; got != float32(want) {
						t.Fatalf("draw %+v pixel (%d,%d,%d): got %v want %v", d, c, y, x, got, want)
					}
				}
			}
		}
	}
	if len(seenOY) != 2*pad+1 || len(seenOX) != 2*pad+1 {
		t.Fatalf("offsets seen %v %v, want all of 0..%d", seenOY, seenOX, 2*pad)
	}
	if flips < trials*45/100 || flips > trials*55/100 {
		t.Fatalf("%d flips in %d draws, want about half", flips, trials)
	}
}

// TestCutout checks DARTS's Cutout semantics: centre uniform over the image,
// square of side 2*(s/2) clipped at the borders, zero after normalisation.
func TestCutout(t *testing.T) {
	const h, w, side = 6, 7, 4
	src := make([]byte, h*w*3)
	for i := range src {
		src[i] = 100
	}
	a := Augment{Cutout: side}
	lut := newNormLUT([3]float32{}, [3]float32{1, 1, 1})
	centres := map[[2]int]bool{}
	for s := range 3000 {
		r := newSampleRNG(9, 1, s)
		d := a.draw(&r, h, w)
		if d.cy < 0 || d.cy >= h || d.cx < 0 || d.cx >= w {
			t.Fatalf("centre (%d,%d) outside the image", d.cy, d.cx)
		}
		centres[[2]int{d.cy, d.cx}] = true
		dst := make([]float32, 3*h*w)
		a.transform(dst, src, h, w, d, lut)
		y1, y2 := max(d.cy-side/2, 0), min(d.cy+side/2, h)
		x1, x2 := max(d.cx-side/2, 0), min(d.cx+side/2, w)
		zeros := 0
		for c := range 3 {
			for y := range h {
				for x := range w {
					in := y >= y1 && y < y2 && x >= x1 && x < x2
					v := dst[c*h*w+y*w+x]
					if in && v != 0 || !in && v != 100 {
						t.Fatalf("centre (%d,%d) pixel (%d,%d,%d) = %v", d.cy, d.cx, c, y, x, v)
					}
					if v == 0 {
						zeros++
					}
				}
			}
		}
		if want := 3 * (y2 - y1) * (x2 - x1); zeros != want {
			t.Fatalf("cut area %d, want %d", zeros, want)
		}
		if d.cy >= side/2 && d.cy+side/2 <= h && d.cx >= side/2 && d.cx+side/2 <= w && zeros != 3*side*side {
			t.Fatalf("interior cut area %d, want %d", zeros, 3*side*side)
		}
	}
	if len(centres) != h*w {
		t.Fatalf("saw %d distinct centres, want all %d", len(centres), h*w)
	}
}

func TestSplit(t *testing.T) {
	train, val, err := Split(1000, 0.1, 7)
	if err != nil {
		t.Fatal(err)
	}
	if len(val) != 100 || len(train) != 900 {
		t.Fatalf("sizes %d/%d", len(train), len(val))
	}
	all := slices.Sorted(slices.Values(append(slices.Clone(train), val...)))
	for i, s := range all {
		if s != i {
			t.Fatal("split not a partition of 0..999")
		}
	}
	train2, val2, _ := Split(1000, 0.1, 7)
	if !slices.Equal(train, train2) || !slices.Equal(val, val2) {
		t.Fatal("split not deterministic")
	}
	_, val3, _ := Split(1000, 0.1, 8)
	if slices.Equal(val, val3) {
		t.Fatal("split ignores the seed")
	}
	if _, _, err := Split(10, 1.5, 0); err == nil {
		t.Fatal("fraction 1.5 accepted")
	}
	// A loader over the subset visits exactly it.
	src := synthetic(1000, 1, 1)
	l, err := New(src, Config{BatchSize: 64, Indices: val, Order: Random})
	if err != nil {
		t.Fatal(err)
	}
	_, _, ids := collect(t, l, 0)
	if !slices.Equal(slices.Sorted(slices.Values(ids)), val) {
		t.Fatal("loader over the validation subset visited other samples")
	}
}

func TestJPEG(t *testing.T) {
	const h, w = 16, 16
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(16 * x), uint8(16 * y), 128, 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 100}); err != nil {
		t.Fatal(err)
	}
	src := &jpegSource{data: buf.Bytes(), w: w, h: h}
	l, err := New(src, identityCfg(1))
	if err != nil {
		t.Fatal(err)
	}
	imgs, _, _ := collect(t, l, 0)
	// Reference: decodeJPEG (checked against PIL in TestDecodeMatchesPIL),
	// laid out as CHW; every pixel near the source gradient (4:2:0 chroma
	// subsampling blurs the colour a little).
	ref, err := decodeJPEG(nil, buf.Bytes(), w, h)
	if err != nil {
		t.Fatal(err)
	}
	for y := range h {
		for x := range w {
			want := ref[(y*w+x)*3 : (y*w+x)*3+3]
			src := img.RGBAAt(x, y)
			if d := max(absDiff(want[0], src.R), absDiff(want[1], src.G), absDiff(want[2], src.B)); d > 12 {
				t.Fatalf("pixel (%d,%d) decoded as %v, source %v", y, x, want, src)
			}
			for ch := range 3 {
				if got := imgs[ch*h*w+y*w+x]; got != float32(want[ch]) {
					t.Fatalf("pixel (%d,%d,%d): got %v want %v", ch, y, x, got, want[ch])
				}
			}
		}
	}
	// A corrupt payload is an error naming the sample.
	src.data = buf.Bytes()[:20]
	l, _ = New(src, identityCfg(1))
	it := l.Epoch(0)
	defer it.Close()
	if it.Next() || it.Err() == nil {
		t.Fatal("corrupt JPEG accepted")
	}
}

func identityCfg(bs int) Config {
	c := identity
	c.BatchSize = bs
	return c
}

type jpegSource struct {
	data []byte
	w, h int
}

func (s *jpegSource) NumSamples() int { return 1 }
func (s *jpegSource) Page(int) int    { return 0 }
func (s *jpegSource) Sample(int) (Encoded, error) {
	return Encoded{JPEG: true, Width: s.w, Height: s.h, Data: s.data, Label: 1}, nil
}

func TestBadInput(t *testing.T) {
	src := synthetic(4, 2, 2)
	src.Images[2] = src.Images[2][:5]
	l, err := New(src, Config{BatchSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	it := l.Epoch(0)
	for it.Next() {
	}
	if it.Err() == nil {
		t.Fatal("short raw image accepted")
	}
	it.Close()
	src = synthetic(4, 2, 2)
	l, _ = New(src, Config{BatchSize: 2, Classes: 2})
	it = l.Epoch(0)
	for it.Next() {
	}
	if it.Err() == nil {
		t.Fatal("label 3 accepted with 2 classes")
	}
	it.Close()
	if _, err := New(src, Config{BatchSize: 0}); err == nil {
		t.Fatal("batch size 0 accepted")
	}
	if _, err := New(src, Config{BatchSize: 1, Indices: []int{9}}); err == nil {
		t.Fatal("index out of range accepted")
	}
}

// TestEarlyClose closes an iterator mid-epoch and checks the loader still
// serves a full next epoch (every ring buffer came back).
func TestEarlyClose(t *testing.T) {
	src := synthetic(100, 4, 4)
	l, _ := New(src, Config{BatchSize: 3, Workers: 3, Prefetch: 4, Order: Random})
	it := l.Epoch(0)
	it.Next()
	it.Next()
	it.Close()
	if len(l.ring) != 4 {
		t.Fatalf("%d of 4 buffers back in the ring", len(l.ring))
	}
	collect(t, l, 1)
}

func absDiff(a, b uint8) int { return max(int(a)-int(b), int(b)-int(a)) }
