package turbojpeg

// Cropped decoding, measured and left out (see the package doc): a lossless
// crop (tjTransform, TJXOPT_CROP) of the window with a margin, decoded, has
// exactly the whole decode's pixels (TestCropExact) but costs more than the
// whole decode for RandomResizedCrop's windows (BenchmarkCrop).

import (
	"bytes"
	"encoding/json"
	"errors"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"testing"
	"unsafe"

	"github.com/ebitengine/purego"

	"pertnas/convert/imagenet"
)

// cropper decodes a window of a JPEG through a lossless crop.
type cropper struct {
	d                  *Decoder
	h                  uintptr // a tjInitTransform handle
	transform, bufSize uintptr
	crop, region       []byte
	m                  *struct {
		xf struct {
			x, y, w, h, op, options int32
			data, filter            uintptr
		} // tjtransform
		buf  uintptr
		size uint64
	}
}

func newCropper(t testing.TB) *cropper {
	d := decoder(t)
	lh, err := purego.Dlopen(lib.path, purego.RTLD_NOW|purego.RTLD_LOCAL)
	if err != nil {
		t.Fatal(err)
	}
	c := &cropper{d: d, m: new(struct {
		xf struct {
			x, y, w, h, op, options int32
			data, filter            uintptr
		}
		buf  uintptr
		size uint64
	})}
	var initTransform, destroy uintptr
	for _, s := range []struct {
		p    *uintptr
		name string
	}{{&initTransform, "tjInitTransform"}, {&destroy, "tjDestroy"}, {&c.transform, "tjTransform"}, {&c.bufSize, "tjBufSize"}} {
		if *s.p, err = purego.Dlsym(lh, s.name); err != nil {
			t.Fatal(err)
		}
	}
	c.h, _, _ = purego.SyscallN(initTransform)
	if c.h == 0 {
		t.Fatal("tjInitTransform failed")
	}
	t.Cleanup(func() { purego.SyscallN(destroy, c.h) })
	return c
}

// decode decodes the w x h window at (x, y) of jpeg (an iw x ih image) into
// dst: a lossless crop on iMCU boundaries with a margin of a pixel past the
// window where the image goes on, so that the chroma upsampling at the
// window's edges sees the same neighbours, then a decode of that.
func (c *cropper) decode(dst, jpeg []byte, iw, ih, x, y, w, h int) error {
	hd, err := c.d.Header(jpeg)
	if err != nil {
		return err
	}
	mw := [numSubsamp]int{8, 16, 16, 8, 8, 32}[hd.Subsamp] // tjMCUWidth
	mh := [numSubsamp]int{8, 8, 16, 8, 16, 8}[hd.Subsamp]  // tjMCUHeight
	rx0, ry0 := max(x-1, 0)/mw*mw, max(y-1, 0)/mh*mh
	// libjpeg upsamples chroma rows of 2 samples or fewer without the
	// fancy filter: the region spans an iMCU at least where the image does.
	rx1, ry1 := min(max(x+w+1, rx0+mw), iw), min(max(y+h+1, ry0+mh), ih)
	if rx1-rx0 < mw && rx0 > 0 {
		rx0 -= mw
	}
	if ry1-ry0 < mh && ry0 > 0 {
		ry0 -= mh
	}
	rw, rh := rx1-rx0, ry1-ry0
	c.region = grow(c.region, rw*rh*3)
	if rx0 == 0 && ry0 == 0 && rx1 == iw && ry1 == ih {
		if err := c.d.Decode(c.region, jpeg, iw, ih); err != nil {
			return err
		}
	} else {
		const noRealloc, crop, copyNone = 1024, 4, 64
		m := c.m
		n, _, _ := purego.SyscallN(c.bufSize, uintptr(rw), uintptr(rh), uintptr(hd.Subsamp))
		c.crop = grow(c.crop, int(n))
		m.buf, m.size = ptr(c.crop), uint64(n)
		m.xf.x, m.xf.y, m.xf.w, m.xf.h, m.xf.options = int32(rx0), int32(ry0), int32(rw), int32(rh), crop|copyNone
		r, _, _ := purego.SyscallN(c.transform, c.h, ptr(jpeg), uintptr(len(jpeg)), 1,
			uintptr(unsafe.Pointer(&m.buf)), uintptr(unsafe.Pointer(&m.size)), uintptr(unsafe.Pointer(&m.xf)), noRealloc)
		runtime.KeepAlive(jpeg)
		runtime.KeepAlive(c.crop)
		if int32(r) != 0 {
			return errors.New("tjTransform failed")
		}
		if err := c.d.Decode(c.region, c.crop[:m.size], rw, rh); err != nil {
			return err
		}
	}
	cut(dst, c.region, rw, x-rx0, y-ry0, w, h)
	return nil
}

// cut copies the w x h window at (x, y) of src (sw pixels wide) to dst.
func cut(dst, src []byte, sw, x, y, w, h int) {
	for r := range h {
		copy(dst[r*w*3:(r+1)*w*3], src[((y+r)*sw+x)*3:])
	}
}

func grow(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}

type fixture struct {
	Name string
	JPEG []byte
	H, W int
	Out  []byte
}

func fixtures(t testing.TB) []fixture {
	raw, err := os.ReadFile("../testdata/pil_fixtures.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct{ JPEGs []fixture }
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	return f.JPEGs
}

// rrcWindow draws a RandomResizedCrop box (scale 0.08-1, ratio 3/4-4/3).
func rrcWindow(rng *rand.Rand, iw, ih int) (x, y, w, h int) {
	area := float64(iw * ih)
	for range 10 {
		t := area * (0.08 + 0.92*rng.Float64())
		a := math.Exp(math.Log(3./4) + rng.Float64()*(math.Log(4./3)-math.Log(3./4)))
		w, h := int(math.RoundToEven(math.Sqrt(t*a))), int(math.RoundToEven(math.Sqrt(t/a)))
		if 0 < w && w <= iw && 0 < h && h <= ih {
			return rng.IntN(iw - w + 1), rng.IntN(ih - h + 1), w, h
		}
	}
	return 0, 0, iw, ih
}

func benchSet(t testing.TB, n int) (data [][]byte, ws, hs []int) {
	rng := rand.New(rand.NewPCG(imagenet.BenchSeed, 0))
	for i := range n {
		img := imagenet.BenchImage(rng, i)
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
			t.Fatal(err)
		}
		data, ws, hs = append(data, buf.Bytes()), append(ws, img.Rect.Dx()), append(hs, img.Rect.Dy())
	}
	return
}

// TestCropExact checks the cropped decode's pixels against the whole
// decode's on the PIL fixtures and bench images, for RandomResizedCrop's
// windows and windows of any size.
func TestCropExact(t *testing.T) {
	c := newCropper(t)
	d := c.d
	rng := rand.New(rand.NewPCG(3, 4))
	type img struct {
		name string
		data []byte
		w, h int
	}
	var imgs []img
	for _, f := range fixtures(t) {
		imgs = append(imgs, img{f.Name, f.JPEG, f.W, f.H})
	}
	data, ws, hs := benchSet(t, 4)
	for i := range data {
		imgs = append(imgs, img{"bench", data[i], ws[i], hs[i]})
	}
	for _, im := range imgs {
		full := make([]byte, im.w*im.h*3)
		if err := d.Decode(full, im.data, im.w, im.h); err != nil {
			t.Fatal(err)
		}
		for k := range 300 {
			x, y, w, h := rrcWindow(rng, im.w, im.h)
			if k%3 == 0 {
				w, h = 1+rng.IntN(im.w), 1+rng.IntN(im.h)
				x, y = rng.IntN(im.w-w+1), rng.IntN(im.h-h+1)
			}
			got := make([]byte, w*h*3)
			if err := c.decode(got, im.data, im.w, im.h, x, y, w, h); err != nil {
				t.Fatal(err)
			}
			want := make([]byte, w*h*3)
			cut(want, full, im.w, x, y, w, h)
			if !bytes.Equal(got, want) {
				for q := range got {
					if got[q] != want[q] {
						t.Logf("first diff at pixel (%d,%d) ch %d: %d vs %d", q/3%w, q/3/w, q%3, got[q], want[q])
						break
					}
				}
				t.Fatalf("%s %dx%d: window %dx%d at (%d,%d) differs", im.name, im.w, im.h, w, h, x, y)
			}
		}
	}
}

// BenchmarkCrop times the whole decode against the cropped one, for
// RandomResizedCrop's windows and for its smallest (8% of the image), on
// 16 bench images (500x375 and 375x500, quality 90):
//
//	go test -run '^$' -bench Crop -cpu 1 ./loader/turbojpeg
func BenchmarkCrop(b *testing.B) {
	c := newCropper(b)
	d := c.d
	data, ws, hs := benchSet(b, 16)
	buf := make([]byte, 500*500*3)
	for _, mode := range []string{"whole", "crop", "crop-small"} {
		b.Run(mode, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(5, 6))
			for i := 0; b.Loop(); i++ {
				s := i % len(data)
				x, y, w, h := rrcWindow(rng, ws[s], hs[s])
				if mode == "crop-small" {
					w, h = int(math.Sqrt(0.08*float64(ws[s]*hs[s]))), int(math.Sqrt(0.08*float64(ws[s]*hs[s])))
					x, y = rng.IntN(ws[s]-w+1), rng.IntN(hs[s]-h+1)
				}
				var err error
				if mode == "whole" {
					err = d.Decode(buf, data[s], ws[s], hs[s])
				} else {
					err = c.decode(buf, data[s], ws[s], hs[s], x, y, w, h)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
