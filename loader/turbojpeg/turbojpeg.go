// Package turbojpeg decodes JPEG files with libjpeg-turbo's TurboJPEG
// library (Debian: libturbojpeg0), loaded at run time with purego, so the
// program builds without cgo and runs, with a pure-Go fallback chosen by the
// caller, where the library is absent.
//
// Decoding uses the accurate integer inverse DCT and libjpeg's "fancy"
// chroma upsampling, the defaults PIL decodes with, so the RGB pixels equal
// PIL's Image.open(...).convert("RGB") on the same library.
//
// Images are decoded whole, at full size (Decode) or scaled by 1/2, 1/4 or
// 1/8 in the inverse DCT (DecodeScaled: other pixels, which the loader
// uses only when asked to, loader.Config.JPEGDCTScale).
//
// Decoding only a crop window is left out. TurboJPEG 2.x (Debian 12's)
// decodes part of an image only after a lossless crop (tjTransform), which
// reads every block's entropy-coded data and writes the crop's again. With
// a margin of a pixel past the window (an iMCU where libjpeg would
// otherwise drop fancy upsampling) the window's pixels equal the whole
// decode's (crop_test.go's TestCropExact), but on textured 500x375 images
// at quality 90 and RandomResizedCrop's windows it costs 1.9-2.1 ms
// against 1.0-1.2 ms for the whole decode, and 1.0 ms at its smallest
// windows (8% of the image) (BenchmarkCrop, one core).
//
// The library is looked for once, on the first Load: the path in
// $PERTNAS_TURBOJPEG if set (the value "off" disables the library), else
// the sonames libturbojpeg.so.0 and libturbojpeg.so.
package turbojpeg

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"unsafe"

	"github.com/ebitengine/purego"
)

// EnvPath names the environment variable that overrides the library's
// path; the value "off" makes Load fail, as if the library were absent.
const EnvPath = "PERTNAS_TURBOJPEG"

// TurboJPEG 2.x constants (turbojpeg.h).
const (
	pfRGB        = 0
	flagAccurate = 4096
	errWarning   = 0
	numSubsamp   = 6
	maxSide      = 1 << 16
)

var lib struct {
	once sync.Once
	err  error
	path string

	initDecompress, destroy, header3, decompress2, errCode uintptr
	errString                                              func(h uintptr) string
}

// Load opens the library once and binds its functions; later calls return
// the first call's result.
func Load() error {
	lib.once.Do(func() { lib.err = load() })
	return lib.err
}

// Path is the file or soname the library was loaded from ("" before a
// successful Load).
func Path() string {
	if Load() != nil {
		return ""
	}
	return lib.path
}

func load() error {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		return errors.New("turbojpeg: only 64-bit targets are supported")
	}
	cands := []string{"libturbojpeg.so.0", "libturbojpeg.so"}
	if p := os.Getenv(EnvPath); p == "off" {
		return fmt.Errorf("turbojpeg: disabled by %s=off", EnvPath)
	} else if p != "" {
		cands = []string{p}
	}
	var why []error
	for _, c := range cands {
		h, err := purego.Dlopen(c, purego.RTLD_NOW|purego.RTLD_LOCAL)
		if err != nil {
			why = append(why, fmt.Errorf("%s: %w", c, err))
			continue
		}
		for _, s := range []struct {
			p    *uintptr
			name string
		}{{&lib.initDecompress, "tjInitDecompress"}, {&lib.destroy, "tjDestroy"}, {&lib.header3, "tjDecompressHeader3"},
			{&lib.decompress2, "tjDecompress2"}, {&lib.errCode, "tjGetErrorCode"}} {
			if *s.p, err = purego.Dlsym(h, s.name); err != nil {
				_ = purego.Dlclose(h)
				return fmt.Errorf("turbojpeg: %s lacks %s (TurboJPEG 2.0 or later is needed): %w", c, s.name, err)
			}
		}
		errStr, err := purego.Dlsym(h, "tjGetErrorStr2")
		if err != nil {
			_ = purego.Dlclose(h)
			return fmt.Errorf("turbojpeg: %s lacks tjGetErrorStr2 (TurboJPEG 2.0 or later is needed): %w", c, err)
		}
		purego.RegisterFunc(&lib.errString, errStr)
		lib.path = c
		return nil
	}
	return fmt.Errorf("turbojpeg: library not found (Debian: apt-get install libturbojpeg0; or set %s): %w", EnvPath, errors.Join(why...))
}

// Header describes a JPEG image.
type Header struct {
	Width, Height int
	// Subsamp is TurboJPEG's chroma subsampling code (0 4:4:4, 1 4:2:2,
	// 2 4:2:0, 3 greyscale, 4 4:4:0, 5 4:1:1).
	Subsamp int
}

// cmem is the part of a Decoder that C reads or writes: it lives on the
// heap for the Decoder's life, so passing its addresses is safe.
type cmem struct {
	w, h, subsamp, cs int32
	args              [9]uintptr // a call's arguments: SyscallN's variadic slice would escape
}

// call calls fn with args, passed through d.m.args so that the call
// allocates nothing.
func (d *Decoder) call(fn uintptr, args ...uintptr) uintptr {
	n := copy(d.m.args[:], args)
	r, _, _ := purego.SyscallN(fn, d.m.args[:n]...)
	return r
}

// Decoder decodes JPEG files. It is not safe for concurrent use; use one per
// goroutine. Its buffers are reused, so steady-state decoding allocates
// nothing.
type Decoder struct {
	h uintptr
	m *cmem
}

// NewDecoder loads the library if needed and returns a Decoder.
func NewDecoder() (*Decoder, error) {
	if err := Load(); err != nil {
		return nil, err
	}
	h, _, _ := purego.SyscallN(lib.initDecompress)
	if h == 0 {
		return nil, errors.New("turbojpeg: tjInitDecompress failed")
	}
	d := &Decoder{h: h, m: new(cmem)}
	runtime.SetFinalizer(d, (*Decoder).Close)
	return d, nil
}

// Close frees the library's handle; the Decoder must not be used after.
func (d *Decoder) Close() {
	if d.h != 0 {
		purego.SyscallN(lib.destroy, d.h)
		d.h = 0
		runtime.SetFinalizer(d, nil)
	}
}

func (d *Decoder) err(what string) error {
	return fmt.Errorf("turbojpeg: %s: %s", what, lib.errString(d.h))
}

// fatal reports whether the last call's failure was an error rather than a
// warning. A warning still gives an image, as in FFCV's decoding: stray
// bytes before a marker, or a truncated file, whose missing blocks libjpeg
// fills with grey (PIL rejects truncated files by default, as image/jpeg
// does).
func (d *Decoder) fatal() bool {
	c := d.call(lib.errCode, d.h)
	return int32(c) != errWarning
}

func ptr(b []byte) uintptr {
	if len(b) == 0 {
		return 0
	}
	return uintptr(unsafe.Pointer(&b[0]))
}

// Header reads the size and subsampling of a JPEG file.
func (d *Decoder) Header(jpeg []byte) (Header, error) {
	if len(jpeg) == 0 {
		return Header{}, errors.New("turbojpeg: empty JPEG")
	}
	m := d.m
	r := d.call(lib.header3, d.h, ptr(jpeg), uintptr(len(jpeg)),
		uintptr(unsafe.Pointer(&m.w)), uintptr(unsafe.Pointer(&m.h)), uintptr(unsafe.Pointer(&m.subsamp)), uintptr(unsafe.Pointer(&m.cs)))
	runtime.KeepAlive(jpeg)
	if int32(r) != 0 {
		return Header{}, d.err("reading the header")
	}
	if m.subsamp < 0 || m.subsamp >= numSubsamp {
		return Header{}, fmt.Errorf("turbojpeg: unsupported chroma subsampling %d", m.subsamp)
	}
	return Header{Width: int(m.w), Height: int(m.h), Subsamp: int(m.subsamp)}, nil
}

// Decode decodes jpeg into dst as RGB HWC bytes. The image must be w x h
// pixels (an error says otherwise) and dst must hold w*h*3 bytes.
func (d *Decoder) Decode(dst, jpeg []byte, w, h int) error {
	return d.DecodeScaled(dst, jpeg, w, h, 1)
}

// ScaledSize is the size of a w x h image decoded at 1/denom:
// ceil(w/denom) x ceil(h/denom), libjpeg's rounding.
func ScaledSize(w, h, denom int) (sw, sh int) {
	return (w + denom - 1) / denom, (h + denom - 1) / denom
}

// MinScaledSide is the side, width or height, an image must reach to be
// decoded at 1/2, 1/4 or 1/8: below it TurboJPEG's choice of factor for a
// size is ambiguous (its factors go by eighths).
const MinScaledSide = 8

// DecodeScaled decodes the w x h image jpeg at 1/denom (1, 2, 4 or 8) into
// dst, which must hold sw*sh*3 bytes (ScaledSize). Scaling happens in the
// inverse DCT (libjpeg-turbo's reduced-size transforms: each output pixel
// approximates the mean of a denom x denom block), so it is cheaper than
// decoding the whole image, and its pixels are not those of any resize of
// Decode's.
func (d *Decoder) DecodeScaled(dst, jpeg []byte, w, h, denom int) error {
	hd, err := d.Header(jpeg)
	if err != nil {
		return err
	}
	if hd.Width != w || hd.Height != h {
		return fmt.Errorf("turbojpeg: the image is %dx%d, not %dx%d", hd.Width, hd.Height, w, h)
	}
	if denom != 1 && denom != 2 && denom != 4 && denom != 8 {
		return fmt.Errorf("turbojpeg: scale 1/%d: want 1/1, 1/2, 1/4 or 1/8", denom)
	}
	if denom > 1 && max(w, h) < MinScaledSide {
		return fmt.Errorf("turbojpeg: a %dx%d image is too small to decode at 1/%d", w, h, denom)
	}
	sw, sh := ScaledSize(w, h, denom)
	if w > maxSide || h > maxSide || len(dst) < sw*sh*3 {
		return fmt.Errorf("turbojpeg: a %dx%d image in a %d-byte buffer", sw, sh, len(dst))
	}
	r := d.call(lib.decompress2, d.h, ptr(jpeg), uintptr(len(jpeg)), ptr(dst),
		uintptr(sw), uintptr(sw*3), uintptr(sh), pfRGB, flagAccurate)
	runtime.KeepAlive(jpeg)
	runtime.KeepAlive(dst)
	if int32(r) != 0 && d.fatal() {
		return d.err("decoding")
	}
	return nil
}
