package loader

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"log/slog"
	"sync"

	"pertnas/loader/turbojpeg"
)

// JPEG decoding has two implementations: libjpeg-turbo's TurboJPEG library
// (package turbojpeg, loaded at run time), whose pixels equal PIL's, and
// Go's image/jpeg with libjpeg's upsampling and colour conversion, the
// fallback where the library is absent. The first decode picks one and
// logs which, once.

// jpegBackend selects the decoder: "" picks libjpeg-turbo when it loads,
// "go" forces image/jpeg and "turbo" requires libjpeg-turbo (tests set it).
var jpegBackend = ""

var turboChoice struct {
	once sync.Once
	ok   bool
}

// useTurbo reports whether JPEGs are decoded with libjpeg-turbo.
func useTurbo() bool {
	switch jpegBackend {
	case "go":
		return false
	case "turbo":
		return true
	}
	turboChoice.once.Do(func() {
		if err := turbojpeg.Load(); err != nil {
			slog.Info("loader: JPEG decoding with Go's image/jpeg (pixels within a unit or two of PIL's)", "why", err)
			return
		}
		turboChoice.ok = true
		slog.Info("loader: JPEG decoding with libjpeg-turbo", "library", turbojpeg.Path())
	})
	return turboChoice.ok
}

// jpegDecoder decodes the JPEGs of one goroutine (one batch buffer),
// holding the libjpeg-turbo handle when that library is used.
type jpegDecoder struct {
	turbo *turbojpeg.Decoder
}

func (d *jpegDecoder) turboDecoder() (*turbojpeg.Decoder, error) {
	if d.turbo == nil {
		t, err := turbojpeg.NewDecoder()
		if err != nil {
			return nil, err
		}
		d.turbo = t
	}
	return d.turbo, nil
}

// decode decodes a whole JPEG payload into buf (grown when needed) as RGB
// HWC bytes, checking the decoded size against the recorded w x h.
func (d *jpegDecoder) decode(buf, data []byte, w, h int) ([]byte, error) {
	return d.decodeScaled(buf, data, w, h, 1)
}

// decodeScaled is decode at 1/denom in the DCT domain
// (turbojpeg.DecodeScaled): buf gets turbojpeg.ScaledSize(w, h, denom)
// pixels. Scales other than 1 need libjpeg-turbo (useTurbo).
func (d *jpegDecoder) decodeScaled(buf, data []byte, w, h, denom int) ([]byte, error) {
	if !useTurbo() {
		if denom != 1 {
			return buf, fmt.Errorf("decoding a JPEG at 1/%d needs libjpeg-turbo", denom)
		}
		return decodeJPEGGo(buf, data, w, h)
	}
	t, err := d.turboDecoder()
	if err != nil {
		return buf, err
	}
	sw, sh := turbojpeg.ScaledSize(w, h, denom)
	buf = growBytes(buf, sw*sh*3)
	return buf, t.DecodeScaled(buf, data, w, h, denom)
}

// close frees the libjpeg-turbo handle, if any.
func (d *jpegDecoder) close() {
	if d.turbo != nil {
		d.turbo.Close()
		d.turbo = nil
	}
}

// decodeJPEG decodes a whole JPEG payload with the decoder the loader uses
// (see useTurbo) into buf, growing it when needed.
func decodeJPEG(buf []byte, data []byte, w, h int) ([]byte, error) {
	var d jpegDecoder
	defer d.close()
	return d.decode(buf, data, w, h)
}

// decodeJPEGGo decodes a JPEG payload with image/jpeg into buf as RGB HWC
// bytes, growing buf when needed, and checks the decoded size against the
// recorded one.
//
// The pixels follow libjpeg(-turbo)'s defaults, which PIL (torchvision's
// loader) and FFCV decode with: chroma subsampled 2x horizontally (4:2:2)
// or in both directions (4:2:0) is upsampled with libjpeg's "fancy"
// triangle filter (jdsample.c, the edge rows and columns replicated), and
// YCbCr becomes RGB with libjpeg's fixed-point arithmetic (jdcolor.c). The
// inverse DCT is Go's, so a pixel may differ from libjpeg's by a unit or
// two. Other subsamplings replicate each chroma sample.
func decodeJPEGGo(buf []byte, data []byte, w, h int) ([]byte, error) {
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		return buf, fmt.Errorf("jpeg: %w", err)
	}
	b := img.Bounds()
	if b.Dx() != w || b.Dy() != h {
		return buf, fmt.Errorf("jpeg is %dx%d, metadata says %dx%d", b.Dx(), b.Dy(), w, h)
	}
	buf = growBytes(buf, w*h*3)
	switch m := img.(type) {
	case *image.YCbCr:
		ycbcrToRGB(buf, m)
	case *image.Gray:
		for y := range h {
			for x := range w {
				v := m.Pix[m.PixOffset(b.Min.X+x, b.Min.Y+y)]
				o := (y*w + x) * 3
				buf[o], buf[o+1], buf[o+2] = v, v, v
			}
		}
	default:
		for y := range h {
			for x := range w {
				c := color.RGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.RGBA)
				o := (y*w + x) * 3
				buf[o], buf[o+1], buf[o+2] = c.R, c.G, c.B
			}
		}
	}
	return buf, nil
}

// ycbcrToRGB converts m into dst (RGB HWC), upsampling the chroma like
// libjpeg.
func ycbcrToRGB(dst []byte, m *image.YCbCr) {
	b := m.Bounds()
	w, h := b.Dx(), b.Dy()
	var cbRow, crRow []byte // one upsampled chroma row each
	cbRow, crRow = make([]byte, w), make([]byte, w)
	// Chroma plane geometry: (cw, ch) samples from (cx0, cy0).
	cx0, cy0 := b.Min.X, b.Min.Y
	hs, vs := 1, 1
	switch m.SubsampleRatio {
	case image.YCbCrSubsampleRatio420:
		hs, vs = 2, 2
	case image.YCbCrSubsampleRatio422:
		hs = 2
	}
	fancy := hs == 2 && b.Min == (image.Point{})
	cw, ch := (w+hs-1)/hs, (h+vs-1)/vs
	var tmpCb, tmpCr []int32
	if fancy {
		tmpCb, tmpCr = make([]int32, cw), make([]int32, cw)
	}
	for y := range h {
		if fancy {
			cy := y / vs
			// The vertically nearer and further chroma rows (libjpeg weights 3 and 1).
			near, far := cy, cy
			if vs == 2 {
				if y%2 == 0 {
					far = max(cy-1, 0)
				} else {
					far = min(cy+1, ch-1)
				}
			}
			for _, p := range []struct {
				plane []byte
				tmp   []int32
				out   []byte
			}{{m.Cb, tmpCb, cbRow}, {m.Cr, tmpCr, crRow}} {
				rn := p.plane[near*m.CStride : near*m.CStride+cw]
				if vs == 2 {
					rf := p.plane[far*m.CStride : far*m.CStride+cw]
					for i := range cw {
						p.tmp[i] = 3*int32(rn[i]) + int32(rf[i])
					}
					upsampleH2V2(p.out, p.tmp, w)
				} else {
					upsampleH2V1(p.out, rn, w)
				}
			}
		} else {
			for x := range w {
				ci := m.COffset(cx0+x, cy0+y)
				cbRow[x], crRow[x] = m.Cb[ci], m.Cr[ci]
			}
		}
		yrow := m.Y[(y+b.Min.Y-m.Rect.Min.Y)*m.YStride+(b.Min.X-m.Rect.Min.X):]
		drow := dst[y*w*3 : (y+1)*w*3]
		for x := range w {
			drow[x*3], drow[x*3+1], drow[x*3+2] = libjpegRGB(yrow[x], cbRow[x], crRow[x])
		}
	}
}

// upsampleH2V2 is libjpeg's h2v2_fancy_upsample for one output row: colsum
// holds 3*nearer + further chroma row per column; out gets w samples.
func upsampleH2V2(out []byte, colsum []int32, w int) {
	n := len(colsum)
	put := func(i int, v int32) {
		if i < w {
			out[i] = byte(v >> 4)
		}
	}
	if n == 1 {
		put(0, colsum[0]*4+8)
		put(1, colsum[0]*4+7)
		return
	}
	put(0, colsum[0]*4+8)
	put(1, colsum[0]*3+colsum[1]+7)
	for i := 1; i < n-1; i++ {
		put(2*i, colsum[i]*3+colsum[i-1]+8)
		put(2*i+1, colsum[i]*3+colsum[i+1]+7)
	}
	put(2*n-2, colsum[n-1]*3+colsum[n-2]+8)
	put(2*n-1, colsum[n-1]*4+7)
}

// upsampleH2V1 is libjpeg's h2v1_fancy_upsample for one row.
func upsampleH2V1(out []byte, in []byte, w int) {
	n := len(in)
	put := func(i int, v int32) {
		if i < w {
			out[i] = byte(v)
		}
	}
	if n == 1 {
		put(0, int32(in[0]))
		put(1, int32(in[0]))
		return
	}
	put(0, int32(in[0]))
	put(1, (int32(in[0])*3+int32(in[1])+2)>>2)
	for i := 1; i < n-1; i++ {
		v := int32(in[i]) * 3
		put(2*i, (v+int32(in[i-1])+1)>>2)
		put(2*i+1, (v+int32(in[i+1])+2)>>2)
	}
	put(2*n-2, (int32(in[n-1])*3+int32(in[n-2])+1)>>2)
	put(2*n-1, int32(in[n-1]))
}

// libjpegRGB is jdcolor.c's YCbCr -> RGB: R = Y + 1.402 Cr', G = Y -
// 0.34414 Cb' - 0.71414 Cr', B = Y + 1.772 Cb' in 16-bit fixed point with
// rounding, clamped; like libjpeg, through tables.
func libjpegRGB(y, cb, cr byte) (byte, byte, byte) {
	t := &colorTables
	yy := int32(y) + clampOffset
	return t.clamp[yy+t.crR[cr]], t.clamp[yy+(t.cbG[cb]+t.crG[cr])>>16], t.clamp[yy+t.cbB[cb]]
}

// clampOffset is the index of 0 in colorTables.clamp.
const clampOffset = 384

var colorTables = func() (t struct {
	crR, cbB, cbG, crG [256]int32
	clamp              [1024]byte
}) {
	const half = 1 << 15
	for i := range 256 {
		x := int32(i) - 128
		t.crR[i] = (91881*x + half) >> 16
		t.cbB[i] = (116130*x + half) >> 16
		t.cbG[i] = -22554 * x
		t.crG[i] = -46802*x + half
	}
	for i := range t.clamp {
		t.clamp[i] = byte(max(0, min(i-clampOffset, 255)))
	}
	return t
}()
