package loader

import (
	"bytes"
	"encoding/json"
	"image"
	"image/jpeg"
	"math"
	"os"
	"runtime/debug"
	"slices"
	"testing"

	"pertnas/loader/imgkern"
	"pertnas/loader/turbojpeg"
)

// pilFixtures is loader/testdata/pil_fixtures.json, written by
// scripts/loader_pil_fixtures.py with PIL as torchvision uses it.
type pilFixtures struct {
	Images []struct {
		H, W int
		Pix  []byte
	}
	Jitter []struct {
		Image  int
		Op     string
		Factor float64
		Out    []byte
	}
	Resize []struct {
		Image int
		Box   [4]int
		OutH  int `json:"out_h"`
		OutW  int `json:"out_w"`
		Out   []byte
	}
	// ResizeBox resizes the fractional Box (x0, y0, x1, y1) within the
	// Region (top, left, h, w) of whole pixels.
	ResizeBox []struct {
		Image  int
		Region [4]int
		Box    [4]float64
		OutH   int `json:"out_h"`
		OutW   int `json:"out_w"`
		Out    []byte
	} `json:"resize_box"`
	Center []struct {
		Image, Resize, Size int
		Out                 []byte
	}
	JPEGs []struct {
		Name string
		JPEG []byte // base64 in the file
		H, W int
		Out  []byte
	}
}

func loadPIL(t *testing.T) *pilFixtures {
	t.Helper()
	b, err := os.ReadFile("testdata/pil_fixtures.json")
	if err != nil {
		t.Fatal(err)
	}
	var f pilFixtures
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Jitter) == 0 || len(f.Resize) == 0 || len(f.ResizeBox) == 0 || len(f.Center) == 0 || len(f.JPEGs) != 4 {
		t.Fatal("empty fixtures")
	}
	return &f
}

// firstDiff returns the first index where a and b differ, or -1.
func firstDiff(a, b []byte) int {
	if len(a) != len(b) {
		return 0
	}
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	return -1
}

func TestColorJitterMatchesPIL(t *testing.T) {
	defer imgkern.Use(imgkern.Current())
	for _, p := range imgkern.Supported() {
		if _, err := imgkern.Use(p); err != nil {
			t.Fatal(err)
		}
		t.Run(string(p), testColorJitterMatchesPIL)
	}
}

func testColorJitterMatchesPIL(t *testing.T) {
	f := loadPIL(t)
	ops := map[string]func([]byte, float64){"brightness": adjustBrightness, "contrast": adjustContrast,
		"saturation": adjustSaturation, "hue": adjustHue}
	for _, c := range f.Jitter {
		pix := slices.Clone(f.Images[c.Image].Pix)
		ops[c.Op](pix, c.Factor)
		if i := firstDiff(pix, c.Out); i >= 0 {
			t.Errorf("%s %v on image %d: byte %d is %d, PIL %d", c.Op, c.Factor, c.Image, i, pix[i], c.Out[i])
		}
	}
}

func TestBilinearMatchesPIL(t *testing.T) {
	defer imgkern.Use(imgkern.Current())
	for _, p := range imgkern.Supported() {
		if _, err := imgkern.Use(p); err != nil {
			t.Fatal(err)
		}
		t.Run(string(p), testBilinearMatchesPIL)
	}
}

func testBilinearMatchesPIL(t *testing.T) {
	f := loadPIL(t)
	var rs resizer
	for _, c := range f.Resize {
		img := f.Images[c.Image]
		dst := make([]byte, c.OutH*c.OutW*3)
		b := box{c.Box[0], c.Box[1], c.Box[2], c.Box[3]}
		rs.resize(dst, img.Pix, img.W, pixels(b.i, b.h), pixels(b.j, b.w), c.OutH, c.OutW, 0, 0, c.OutH, c.OutW)
		if i := firstDiff(dst, c.Out); i >= 0 {
			t.Errorf("resize box %v of image %d to %dx%d: byte %d is %d, PIL %d", c.Box, c.Image, c.OutH, c.OutW, i, dst[i], c.Out[i])
		}
	}
	for _, c := range f.ResizeBox {
		img := f.Images[c.Image]
		dst := make([]byte, c.OutH*c.OutW*3)
		r := c.Region
		v, h := span{r[0], r[2], c.Box[1], c.Box[3]}, span{r[1], r[3], c.Box[0], c.Box[2]}
		rs.resize(dst, img.Pix, img.W, v, h, c.OutH, c.OutW, 0, 0, c.OutH, c.OutW)
		if i := firstDiff(dst, c.Out); i >= 0 {
			t.Errorf("resize box %v in %v of image %d to %dx%d: byte %d is %d, PIL %d", c.Box, r, c.Image, c.OutH, c.OutW, i, dst[i], c.Out[i])
		}
	}
	for _, c := range f.Center {
		img := f.Images[c.Image]
		cr := ImageNetTestCrop(c.Size, c.Resize)
		dst := make([]byte, c.Size*c.Size*3)
		cr.apply(&rs, dst, img.Pix, img.H, img.W, nil)
		if i := firstDiff(dst, c.Out); i >= 0 {
			t.Errorf("resize %d, centre crop %d of image %d: byte %d is %d, PIL %d", c.Resize, c.Size, c.Image, i, dst[i], c.Out[i])
		}
	}
}

// TestCentreGeometry checks torchvision's Resize/CenterCrop arithmetic on
// the standard sizes.
func TestCentreGeometry(t *testing.T) {
	for _, c := range []struct{ h, w, shorter, size, rh, rw, top, left int }{
		{375, 500, 256, 224, 256, 341, 16, 58}, // int(256*500/375) = 341; (341-224)/2 = 58.5 -> 58
		{500, 333, 256, 224, 384, 256, 80, 16},
		{256, 256, 256, 224, 256, 256, 16, 16},
		{81, 96, 73, 64, 73, 86, 4, 11}, // (86-64)/2 = 11; (73-64)/2 = 4.5 -> 4
		{100, 97, 73, 64, 75, 73, 6, 4}, // 5.5 -> 6
	} {
		rh, rw := resizedSize(c.h, c.w, c.shorter)
		top, left := centerOffsets(rh, rw, c.size)
		if rh != c.rh || rw != c.rw || top != c.top || left != c.left {
			t.Errorf("%dx%d: resized %dx%d crop at (%d,%d); want %dx%d at (%d,%d)", c.h, c.w, rh, rw, top, left, c.rh, c.rw, c.top, c.left)
		}
	}
}

// TestRandomResizedCropBoxes draws many boxes and checks them against
// torchvision's bounds and distribution.
func TestRandomResizedCropBoxes(t *testing.T) {
	c, err := (&Crop{Mode: RandomResizedCrop, Size: 224}).normalized()
	if err != nil {
		t.Fatal(err)
	}
	const n = 20000
	for _, sz := range [][2]int{{375, 500}, {500, 333}, {64, 96}} {
		H, W := sz[0], sz[1]
		var sumScale, sumLogRatio float64
		fallback := 0
		for s := range n {
			r := newSampleRNG(7, 0, s)
			b := c.randomResizedBox(&r, H, W)
			if b.h <= 0 || b.w <= 0 || b.i < 0 || b.j < 0 || b.i+b.h > H || b.j+b.w > W {
				t.Fatalf("%dx%d: box %+v outside the image", H, W, b)
			}
			area := float64(b.h*b.w) / float64(H*W)
			ratio := float64(b.w) / float64(b.h)
			if b.h == H && b.w == W {
				fallback++
				continue
			}
			// Rounding w and h to integers moves area and ratio slightly.
			tol := 2 / float64(min(b.h, b.w))
			if area < 0.08*(1-2*tol) || area > 1+1e-9 || ratio < 0.75*(1-2*tol) || ratio > 4./3*(1+2*tol) {
				t.Fatalf("%dx%d: box %+v has area %.4f ratio %.4f", H, W, b, area, ratio)
			}
			sumScale += area
			sumLogRatio += math.Log(ratio)
		}
		m := float64(n - fallback)
		// Accepted draws are uniform in scale and log ratio, truncated where
		// the box does not fit: the mean area is below 0.54 (the untruncated
		// mean), well above 0.3; for a landscape image the accepted log
		// ratio leans positive, for a portrait one negative.
		meanScale, meanLR := sumScale/m, sumLogRatio/m
		if meanScale < 0.3 || meanScale > 0.55 {
			t.Errorf("%dx%d: mean area fraction %.3f", H, W, meanScale)
		}
		if (W > H) != (meanLR > 0) || math.Abs(meanLR) > math.Log(4./3) {
			t.Errorf("%dx%d: mean log aspect ratio %.3f", H, W, meanLR)
		}
		// Falling back takes 10 failures in a row: rare here.
		if fallback > n/100 {
			t.Errorf("%dx%d: %d fallbacks in %d", H, W, fallback, n)
		}
	}
	// An image far wider than 4:3 where no draw fits often falls back to
	// the centred box of ratio 4/3 (torchvision's fallback).
	tall := Crop{Mode: RandomResizedCrop, Size: 8, Scale: [2]float64{0.99, 1}, Ratio: [2]float64{3. / 4, 4. / 3}}
	r := newSampleRNG(1, 0, 0)
	if b := tall.randomResizedBox(&r, 10, 100); b != (box{0, (100 - 13) / 2, 10, 13}) {
		t.Errorf("fallback on 10x100: %+v, want the centred 10x13 box", b)
	}
	if b := tall.randomResizedBox(&r, 100, 10); b != (box{(100 - 13) / 2, 0, 13, 10}) {
		t.Errorf("fallback on 100x10: %+v, want the centred 13x10 box", b)
	}
}

// TestJitterDraws checks the factor ranges and that every order occurs.
func TestJitterDraws(t *testing.T) {
	j := ImageNetJitter
	orders := map[[4]int]int{}
	for s := range 5000 {
		r := newSampleRNG(3, 1, s)
		d := j.draw(&r)
		if !(d.doB && d.doC && d.doS && d.doH) {
			t.Fatal("an enabled jitter step is off")
		}
		for _, f := range []float64{d.b, d.c, d.s} {
			if f < 0.6 || f >= 1.4 {
				t.Fatalf("factor %v outside [0.6, 1.4)", f)
			}
		}
		if d.h < -0.2 || d.h >= 0.2 {
			t.Fatalf("hue %v outside [-0.2, 0.2)", d.h)
		}
		p := d.order
		sorted := slices.Clone(p[:])
		slices.Sort(sorted)
		if !slices.Equal(sorted, []int{0, 1, 2, 3}) {
			t.Fatalf("order %v is not a permutation", p)
		}
		orders[p]++
	}
	if len(orders) != 24 {
		t.Errorf("%d of 24 orders drawn", len(orders))
	}
	off := ColorJitter{Brightness: 0.5}
	r := newSampleRNG(3, 1, 0)
	if d := off.draw(&r); !d.doB || d.doC || d.doS || d.doH || d.b < 0.5 || d.b >= 1.5 {
		t.Errorf("brightness-only jitter drew %+v", d)
	}
	// Brightness 1 and hue 0 leave an image alone; a brighter factor
	// never darkens a pixel.
	img := []byte{0, 10, 200, 255, 128, 3}
	p := slices.Clone(img)
	adjustBrightness(p, 1)
	if !slices.Equal(p, img) {
		t.Errorf("brightness 1 changed %v to %v", img, p)
	}
	adjustBrightness(p, 1.3)
	for i := range p {
		if p[i] < img[i] {
			t.Errorf("brightness 1.3 darkened %v to %v", img, p)
		}
	}
}

// variedSource is a MemorySource-like source of raw images of varied sizes.
type variedSource struct {
	imgs   [][]byte
	hs, ws []int
}

func (s *variedSource) NumSamples() int { return len(s.imgs) }
func (s *variedSource) Page(int) int    { return 0 }
func (s *variedSource) Sample(i int) (Encoded, error) {
	return Encoded{Width: s.ws[i], Height: s.hs[i], Data: s.imgs[i], Label: int64(i % 5)}, nil
}

func newVaried(n int) *variedSource {
	s := &variedSource{}
	for i := range n {
		h, w := 20+i*7%23, 18+i*11%29
		img := make([]byte, h*w*3)
		for p := range img {
			img[p] = byte(p*13 + i*31 + p/7)
		}
		s.imgs, s.hs, s.ws = append(s.imgs, img), append(s.hs, h), append(s.ws, w)
	}
	return s
}

func TestImageNetPipelineDeterministic(t *testing.T) {
	src := newVaried(29)
	orig := make([][]byte, len(src.imgs))
	for i, b := range src.imgs {
		orig[i] = slices.Clone(b)
	}
	for _, test := range []struct {
		name string
		crop Crop
		aug  Augment
	}{
		{"train", ImageNetTrainCrop(16), Augment{Flip: true, Jitter: ImageNetJitter}},
		{"test", ImageNetTestCrop(16, 18), Augment{}},
	} {
		var ref []float32
		for _, workers := range []int{1, 2, 4} {
			l, err := New(src, Config{BatchSize: 4, Order: Random, Seed: 9, Workers: workers, Crop: test.crop,
				Augment: test.aug, Mean: ImageNetMean, Std: ImageNetStd})
			if err != nil {
				t.Fatal(err)
			}
			if c, h, w := l.Shape(); c != 3 || h != 16 || w != 16 {
				t.Fatalf("shape %d %d %d", c, h, w)
			}
			imgs, _, _ := collect(t, l, 2)
			if ref == nil {
				ref = imgs
				continue
			}
			if !slices.Equal(imgs, ref) {
				t.Fatalf("%s: %d workers differ from 1", test.name, workers)
			}
		}
		for i := range orig {
			if !slices.Equal(orig[i], src.imgs[i]) {
				t.Fatalf("%s: the source image %d was modified", test.name, i)
			}
		}
	}
}

// TestImageNetTrainSample checks one training sample against the steps
// done by hand: crop box, resize, jitter, flip, normalise.
func TestImageNetTrainSample(t *testing.T) {
	src := newVaried(3)
	crop := ImageNetTrainCrop(12)
	aug := Augment{Flip: true, Jitter: ImageNetJitter}
	l, err := New(src, Config{BatchSize: 1, Seed: 5, Workers: 1, Crop: crop, Augment: aug, Mean: ImageNetMean, Std: ImageNetStd})
	if err != nil {
		t.Fatal(err)
	}
	it := l.Epoch(1)
	defer it.Close()
	for s := 0; it.Next(); s++ {
		got := it.Batch().Images[:3*12*12]
		r := newSampleRNG(5, 1, s)
		b := crop.randomResizedBox(&r, src.hs[s], src.ws[s])
		pix := make([]byte, 12*12*3)
		var rs resizer
		rs.resize(pix, src.imgs[s], src.ws[s], pixels(b.i, b.h), pixels(b.j, b.w), 12, 12, 0, 0, 12, 12)
		flip := r.coin()
		d := ImageNetJitter.draw(&r)
		d.apply(pix)
		for y := range 12 {
			for x := range 12 {
				sx := x
				if flip {
					sx = 11 - x
				}
				for c := range 3 {
					want := (float32(pix[(y*12+sx)*3+c]) - ImageNetMean[c]) / ImageNetStd[c]
					if g := got[c*144+y*12+x]; g != want {
						t.Fatalf("sample %d pixel (%d,%d,%d): %v, want %v", s, y, x, c, g, want)
					}
				}
			}
		}
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
}

func TestCropRejects(t *testing.T) {
	src := newVaried(2)
	for _, c := range []Crop{
		{Mode: CenterCrop, Size: 16, Resize: 15},
		{Mode: RandomResizedCrop, Size: 0},
		{Mode: RandomResizedCrop, Size: 8, Scale: [2]float64{0.5, 0.1}},
		{Mode: CropMode(9), Size: 8},
	} {
		if _, err := New(src, Config{BatchSize: 1, Crop: c}); err == nil {
			t.Errorf("crop %+v accepted", c)
		}
	}
	if _, err := New(src, Config{BatchSize: 1, Crop: ImageNetTrainCrop(8), Augment: Augment{Jitter: ColorJitter{Hue: 0.7}}}); err == nil {
		t.Error("hue 0.7 accepted")
	}
}

// withJPEG makes the loader decode JPEGs with backend ("go" or "turbo")
// until the test ends; "turbo" skips the test where libjpeg-turbo is absent.
func withJPEG(t testing.TB, backend string) {
	t.Helper()
	if backend == "turbo" {
		if err := turbojpeg.Load(); err != nil {
			if os.Getenv("PERTNAS_REQUIRE_TURBOJPEG") != "" {
				t.Fatalf("PERTNAS_REQUIRE_TURBOJPEG is set: %v", err)
			}
			t.Skipf("libturbojpeg not available (Debian: apt-get install libturbojpeg0): %v", err)
		}
	}
	old := jpegBackend
	jpegBackend = backend
	t.Cleanup(func() { jpegBackend = old })
}

// TestDecodeMatchesPIL decodes JPEGs written by PIL (4:2:0, 4:2:2, 4:4:4,
// greyscale; odd sizes) and compares with PIL's decoding: with
// libjpeg-turbo, the library PIL decodes with, every byte is equal; with
// image/jpeg the upsampling and colour conversion are libjpeg's but the
// inverse DCT is Go's, so pixels agree to a few units and almost all
// exactly.
func TestDecodeMatchesPIL(t *testing.T) {
	f := loadPIL(t)
	for _, backend := range []string{"turbo", "go"} {
		t.Run(backend, func(t *testing.T) {
			withJPEG(t, backend)
			for _, c := range f.JPEGs {
				got, err := decodeJPEG(nil, c.JPEG, c.W, c.H)
				if err != nil {
					t.Fatalf("%s: %v", c.Name, err)
				}
				if len(got) != len(c.Out) {
					t.Fatalf("%s: %d bytes, PIL %d", c.Name, len(got), len(c.Out))
				}
				if backend == "turbo" {
					if i := firstDiff(got, c.Out); i >= 0 {
						t.Errorf("%s: byte %d is %d, PIL %d", c.Name, i, got[i], c.Out[i])
					}
					continue
				}
				var sum, worst int
				for i := range got {
					d := absDiff(got[i], c.Out[i])
					sum += d
					worst = max(worst, d)
				}
				mean := float64(sum) / float64(len(got))
				if worst > 3 || mean > 0.2 {
					t.Errorf("%s: mean |Go - PIL| %.3f, max %d", c.Name, mean, worst)
				}
				t.Logf("%s: mean |Go - PIL| %.3f, max %d", c.Name, mean, worst)
			}
		})
	}
}

// TestDecodeRejects checks that a payload whose size disagrees with the
// metadata, or that is not a JPEG, is an error on both paths.
func TestDecodeRejects(t *testing.T) {
	f := loadPIL(t)
	c := f.JPEGs[0]
	for _, backend := range []string{"turbo", "go"} {
		t.Run(backend, func(t *testing.T) {
			withJPEG(t, backend)
			if _, err := decodeJPEG(nil, c.JPEG, c.W+1, c.H); err == nil {
				t.Error("wrong width accepted")
			}
			if _, err := decodeJPEG(nil, c.JPEG[:30], c.W, c.H); err == nil {
				t.Error("truncated header accepted")
			}
			if _, err := decodeJPEG(nil, []byte("junk"), c.W, c.H); err == nil {
				t.Error("junk accepted")
			}
		})
	}
}

// jpegSet encodes n textured images of varied sizes (some odd) as JPEGs.
func jpegSet(t testing.TB, n int) *sizedJPEGSource {
	src := &sizedJPEGSource{}
	for i := range n {
		w, h := 61+i*37%90, 47+i*53%80
		img := image.NewRGBA(image.Rect(0, 0, w, h))
		for p := range w * h {
			x, y := p%w, p/w
			img.Pix[p*4], img.Pix[p*4+1], img.Pix[p*4+2], img.Pix[p*4+3] = byte(x*7+i+(x*y)%13), byte(y*5+x), byte((x^y)*3+i*7), 255
		}
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
			t.Fatal(err)
		}
		src.data, src.w, src.h = append(src.data, buf.Bytes()), append(src.w, w), append(src.h, h)
	}
	return src
}

// TestImageNetNoAllocs checks that filling a batch of JPEG samples
// allocates nothing once the buffers have grown.
func TestImageNetNoAllocs(t *testing.T) {
	src := jpegSet(t, 8)
	for _, backend := range []string{"turbo", "go"} {
		t.Run(backend, func(t *testing.T) {
			withJPEG(t, backend)
			l, err := New(src, Config{BatchSize: 8, Workers: 1, Crop: ImageNetTrainCrop(32),
				Augment: Augment{Flip: true, Jitter: ImageNetJitter}, Mean: ImageNetMean, Std: ImageNetStd})
			if err != nil {
				t.Fatal(err)
			}
			b := <-l.ring
			order := []int{0, 1, 2, 3, 4, 5, 6, 7}
			// A few epochs grow the buffers to their largest sizes.
			epoch := 0
			for ; epoch < 4; epoch++ {
				l.fill(b, order, epoch)
				if b.err != nil {
					t.Fatal(b.err)
				}
			}
			n := testing.AllocsPerRun(5, func() {
				epoch++
				l.fill(b, order, epoch)
			})
			if b.err != nil {
				t.Fatal(b.err)
			}
			// image/jpeg allocates its own image on every decode; the race
			// detector allocates too.
			if backend == "turbo" && n != 0 && !raceBuild() {
				t.Errorf("%v allocations per batch of 8", n)
			}
			t.Logf("%s: %v allocations per batch of 8", backend, n)
		})
	}
}

// TestHueTablesExhaustive checks the hue and saturation tables against
// rgbToHSV and hsvSector against hsvToRGB on every input (every 7th one
// with -short).
func TestHueTablesExhaustive(t *testing.T) {
	step := 1
	if testing.Short() {
		step = 7
	}
	tb := hueLUT()
	for i := 0; i < 1<<24; i += step {
		r, g, b := byte(i>>16), byte(i>>8), byte(i)
		h, s, _ := rgbToHSV(r, g, b)
		m, c := max(r, g, b), max(r, g, b)-min(r, g, b)
		if c == 0 {
			continue
		}
		var th byte
		switch {
		case r == m:
			th = tb.Hue[0][int(m-g)<<8|int(m-b)]
		case g == m:
			th = tb.Hue[1][int(m-r)<<8|int(m-b)]
		default:
			th = tb.Hue[2][int(m-r)<<8|int(m-g)]
		}
		if ts := tb.Sat[int(c)<<8|int(m)]; th != h || ts != s {
			t.Fatalf("rgb %d,%d,%d: tables give h %d s %d, rgbToHSV %d %d", r, g, b, th, ts, h, s)
		}
	}
	var hs imgkern.HueShift
	hueShift(&hs, 0)
	for i := 0; i < 1<<24; i += step {
		h, s, v := byte(i>>16), byte(i>>8), byte(i)
		if s == 0 {
			continue
		}
		r, g, b := imgkern.HSVSector(tb, hs.Sector[h], hs.Frac[h], s, v)
		if wr, wg, wb := hsvToRGB(h, s, v); r != wr || g != wg || b != wb {
			t.Fatalf("hsv %d,%d,%d: %d,%d,%d, hsvToRGB %d,%d,%d", h, s, v, r, g, b, wr, wg, wb)
		}
	}
}

// The per-pixel forms of the jitter operations, as PIL computes them.
func refBrightness(pix []byte, f float64) {
	for i, v := range pix {
		pix[i] = imgkern.Blend(0, v, float32(f))
	}
}

func refContrast(pix []byte, f float64) {
	var sum uint64
	for p := 0; p+2 < len(pix); p += 3 {
		sum += uint64(imgkern.Luma(pix[p], pix[p+1], pix[p+2]))
	}
	mean := byte(int(float64(sum)/float64(len(pix)/3) + 0.5))
	for i, v := range pix {
		pix[i] = imgkern.Blend(mean, v, float32(f))
	}
}

func refSaturation(pix []byte, f float64) {
	for p := 0; p+2 < len(pix); p += 3 {
		l := imgkern.Luma(pix[p], pix[p+1], pix[p+2])
		for c := range 3 {
			pix[p+c] = imgkern.Blend(l, pix[p+c], float32(f))
		}
	}
}

func refHue(pix []byte, f float64) {
	shift := byte(int(f * 255))
	for p := 0; p+2 < len(pix); p += 3 {
		h, s, v := rgbToHSV(pix[p], pix[p+1], pix[p+2])
		pix[p], pix[p+1], pix[p+2] = hsvToRGB(h+shift, s, v)
	}
}

// TestJitterMatchesReference compares the table-driven operations with
// the per-pixel ones on random images, factors and hue shifts (every shift
// from -0.5 to 0.5).
func TestJitterMatchesReference(t *testing.T) {
	defer imgkern.Use(imgkern.Current())
	for _, p := range imgkern.Supported() {
		if _, err := imgkern.Use(p); err != nil {
			t.Fatal(err)
		}
		t.Run(string(p), testJitterMatchesReference)
	}
}

func testJitterMatchesReference(t *testing.T) {
	rng := newSampleRNG(11, 0, 0)
	img := make([]byte, 3*4096)
	for i := range img {
		img[i] = byte(rng.intn(256))
	}
	// Some grey and nearly grey pixels.
	for p := 0; p < 300; p += 3 {
		img[p+1], img[p+2] = img[p], img[p]+byte(p%3)
	}
	type op struct {
		name      string
		fast, ref func([]byte, float64)
	}
	ops := []op{{"brightness", adjustBrightness, refBrightness}, {"contrast", adjustContrast, refContrast},
		{"saturation", adjustSaturation, refSaturation}, {"hue", adjustHue, refHue}}
	for _, o := range ops {
		var factors []float64
		if o.name == "hue" {
			for s := -128; s <= 128; s++ {
				factors = append(factors, float64(s)/256+0.001)
			}
		} else {
			factors = []float64{0, 0.3, 0.6, 0.77, 0.999, 1, 1.001, 1.25, 1.4, 2.5}
			for range 30 {
				factors = append(factors, rng.uniform(0.6, 1.4))
			}
		}
		for _, f := range factors {
			got, want := slices.Clone(img), slices.Clone(img)
			o.fast(got, f)
			o.ref(want, f)
			if i := firstDiff(got, want); i >= 0 {
				t.Fatalf("%s %v: byte %d is %d, reference %d", o.name, f, i, got[i], want[i])
			}
		}
	}
}

// TestImageNetJPEGWorkers checks that JPEG batches (train crop with
// jitter) do not depend on the number of workers with either decoder, and
// that each batch's first image equals the steps done by hand.
func TestImageNetJPEGWorkers(t *testing.T) {
	src := jpegSet(t, 13)
	for _, backend := range []string{"turbo", "go"} {
		t.Run(backend, func(t *testing.T) {
			withJPEG(t, backend)
			var ref []float32
			for _, workers := range []int{1, 3} {
				l, err := New(src, Config{BatchSize: 4, Order: Random, Seed: 4, Workers: workers, Crop: ImageNetTrainCrop(20),
					Augment: Augment{Flip: true, Jitter: ImageNetJitter}, Mean: ImageNetMean, Std: ImageNetStd})
				if err != nil {
					t.Fatal(err)
				}
				imgs, _, samples := collect(t, l, 1)
				if ref == nil {
					ref = imgs
					// The first sample by hand: decode, crop, jitter, flip, normalise.
					s := samples[0]
					pix, err := decodeJPEG(nil, src.data[s], src.w[s], src.h[s])
					if err != nil {
						t.Fatal(err)
					}
					r := newSampleRNG(4, 1, s)
					crop := ImageNetTrainCrop(20)
					out := make([]byte, 20*20*3)
					var rs resizer
					crop.apply(&rs, out, pix, src.h[s], src.w[s], &r)
					d := (&Augment{Flip: true, Jitter: ImageNetJitter}).draw(&r, 20, 20)
					d.jitter.apply(out)
					for y := range 20 {
						for x := range 20 {
							sx := x
							if d.flip {
								sx = 19 - x
							}
							for c := range 3 {
								want := (float32(out[(y*20+sx)*3+c]) - ImageNetMean[c]) / ImageNetStd[c]
								if g := imgs[c*400+y*20+x]; g != want {
									t.Fatalf("sample %d pixel (%d,%d,%d): %v, want %v", s, y, x, c, g, want)
								}
							}
						}
					}
					continue
				}
				if !slices.Equal(imgs, ref) {
					t.Fatalf("%d workers differ from 1", workers)
				}
			}
		})
	}
}

// raceBuild reports whether the test binary was built with -race.
func raceBuild() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, kv := range bi.Settings {
		if kv.Key == "-race" && kv.Value == "true" {
			return true
		}
	}
	return false
}
