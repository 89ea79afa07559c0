// Package turbojpeg decodes JPEG files with libjpeg-turbo's TurboJPEG
// library (Debian: libturbojpeg0), loaded at run time with purego, so the
// program builds without cgo and runs, with a pure-Go fallback chosen by the
// caller, where the library is absent.
//
// Decoding uses the accurate integer inverse DCT and libjpeg's "fancy"
// chroma upsampling, the defaults PIL decodes with, so the RGB pixels equal
// PIL's Image.open(...).convert("RGB") on the same library. Besides whole
// images a Decoder decodes a window (DecodeRegion: a lossless crop to the
// MCU-aligned blocks around the window, then a decode of only those blocks;
// the window's pixels equal the whole decode's) and decodes at 1/2, 1/4 or
// 1/8 of the size by scaling in the DCT domain (Decode with a smaller
// size), which is faster and changes pixels.
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
	pfRGB          = 0
	flagNoRealloc  = 1024
	flagAccurate   = 4096
	xoptCrop       = 4
	errWarning     = 0
	numSubsamp     = 6
	subsampGray    = 3
	maxScaledSide  = 1 << 16
	transformBytes = 40 // sizeof(tjtransform) on 64-bit targets
)

// mcuW and mcuH are tjMCUWidth and tjMCUHeight by subsampling (444, 422,
// 420, gray, 440, 411).
var (
	mcuW = [numSubsamp]int{8, 16, 16, 8, 8, 32}
	mcuH = [numSubsamp]int{8, 8, 16, 8, 16, 8}
)

var lib struct {
	once sync.Once
	err  error
	path string

	initTransform, destroy, header3, decompress2, transform, bufSize, errCode uintptr
	errString                                                                 func(h uintptr) string
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
		}{{&lib.initTransform, "tjInitTransform"}, {&lib.destroy, "tjDestroy"}, {&lib.header3, "tjDecompressHeader3"},
			{&lib.decompress2, "tjDecompress2"}, {&lib.transform, "tjTransform"}, {&lib.bufSize, "tjBufSize"},
			{&lib.errCode, "tjGetErrorCode"}} {
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

// MCU returns the width and height of the image's minimum coded unit, the
// granularity of lossless crops.
func (h Header) MCU() (w, h2 int) { return mcuW[h.Subsamp], mcuH[h.Subsamp] }

// cmem is the part of a Decoder that C reads or writes: it lives on the
// heap for the Decoder's life, so passing its addresses is safe.
type cmem struct {
	w, h, subsamp, cs int32
	xf                [transformBytes]byte
	dstPtr            uintptr
	dstSize           uint64
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
	h   uintptr
	m   *cmem
	tmp []byte // the lossless crop of DecodeRegion
}

// NewDecoder loads the library if needed and returns a Decoder.
func NewDecoder() (*Decoder, error) {
	if err := Load(); err != nil {
		return nil, err
	}
	h, _, _ := purego.SyscallN(lib.initTransform)
	if h == 0 {
		return nil, errors.New("turbojpeg: tjInitTransform failed")
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
// warning (a warning, such as a truncated file, still gives an image, as it
// does in PIL).
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

// Scaled is the size libjpeg-turbo decodes a side of n pixels to at the
// scale 1/denom (denom 1, 2, 4 or 8): ceil(n/denom).
func Scaled(n, denom int) int { return (n + denom - 1) / denom }

// Decode decodes jpeg into dst as RGB HWC bytes, w x h pixels. w and h are
// the image's size, or Scaled(size, denom) for denom 2, 4 or 8 to decode
// scaled down in the DCT domain. dst must hold w*h*3 bytes.
func (d *Decoder) Decode(dst, jpeg []byte, w, h int) error {
	if len(jpeg) == 0 {
		return errors.New("turbojpeg: empty JPEG")
	}
	if w <= 0 || h <= 0 || w > maxScaledSide || h > maxScaledSide || len(dst) < w*h*3 {
		return fmt.Errorf("turbojpeg: bad output %dx%d for a %d-byte buffer", w, h, len(dst))
	}
	r := d.call(lib.decompress2, d.h, ptr(jpeg), uintptr(len(jpeg)), ptr(dst),
		uintptr(w), uintptr(w*3), uintptr(h), pfRGB, flagAccurate)
	runtime.KeepAlive(jpeg)
	runtime.KeepAlive(dst)
	if int32(r) != 0 && d.fatal() {
		return d.err("decoding")
	}
	return nil
}

// Region is a rectangle of an image: left X, top Y, width W, height H.
type Region struct{ X, Y, W, H int }

// RegionFor is the rectangle DecodeRegion decodes for the window win of an
// image with header hd: win grown by a margin of 4 pixels (the reach of
// libjpeg's chroma upsampling is one pixel), clipped to the image, its left
// and top edges moved down to multiples of the MCU size.
func RegionFor(hd Header, win Region) Region {
	const margin = 4
	mw, mh := hd.MCU()
	x0, y0 := max(win.X-margin, 0), max(win.Y-margin, 0)
	x1, y1 := min(win.X+win.W+margin, hd.Width), min(win.Y+win.H+margin, hd.Height)
	x0, y0 = x0/mw*mw, y0/mh*mh
	return Region{x0, y0, x1 - x0, y1 - y0}
}

// DecodeRegion decodes the part of jpeg (whose header is hd) that covers
// the window win into dst as RGB HWC bytes and returns the rectangle r it
// decoded (RegionFor(hd, win)): dst holds r.W x r.H pixels, and every pixel
// of win equals the same pixel of a whole-image Decode. dst must hold
// r.W*r.H*3 bytes (at most hd.Width*hd.Height*3).
func (d *Decoder) DecodeRegion(dst, jpeg []byte, hd Header, win Region) (Region, error) {
	if win.W <= 0 || win.H <= 0 || win.X < 0 || win.Y < 0 || win.X+win.W > hd.Width || win.Y+win.H > hd.Height {
		return Region{}, fmt.Errorf("turbojpeg: window %+v outside the %dx%d image", win, hd.Width, hd.Height)
	}
	r := RegionFor(hd, win)
	if len(dst) < r.W*r.H*3 {
		return Region{}, fmt.Errorf("turbojpeg: region %+v needs %d bytes, have %d", r, r.W*r.H*3, len(dst))
	}
	if r == (Region{0, 0, hd.Width, hd.Height}) {
		return r, d.Decode(dst, jpeg, r.W, r.H)
	}
	n := d.call(lib.bufSize, uintptr(r.W), uintptr(r.H), uintptr(hd.Subsamp))
	// tjBufSize bounds a re-encoding of the region; the lossless crop
	// also keeps the blocks' full padding and the file's tables.
	need := int(n) + len(jpeg)/8 + 4096
	if cap(d.tmp) < need {
		d.tmp = make([]byte, need)
	}
	d.tmp = d.tmp[:cap(d.tmp)]
	m := d.m
	xf := (*[4]int32)(unsafe.Pointer(&m.xf[0]))
	clear(m.xf[:])
	xf[0], xf[1], xf[2], xf[3] = int32(r.X), int32(r.Y), int32(r.W), int32(r.H)
	*(*int32)(unsafe.Pointer(&m.xf[20])) = xoptCrop // options; op (offset 16) is TJXOP_NONE
	m.dstPtr, m.dstSize = ptr(d.tmp), uint64(len(d.tmp))
	rc := d.call(lib.transform, d.h, ptr(jpeg), uintptr(len(jpeg)), 1,
		uintptr(unsafe.Pointer(&m.dstPtr)), uintptr(unsafe.Pointer(&m.dstSize)), uintptr(unsafe.Pointer(&m.xf[0])), flagNoRealloc)
	runtime.KeepAlive(jpeg)
	runtime.KeepAlive(d.tmp)
	if int32(rc) != 0 && d.fatal() {
		return Region{}, d.err(fmt.Sprintf("cropping to %+v", r))
	}
	if m.dstSize == 0 || m.dstSize > uint64(len(d.tmp)) {
		return Region{}, fmt.Errorf("turbojpeg: cropping to %+v wrote %d bytes", r, m.dstSize)
	}
	return r, d.Decode(dst, d.tmp[:m.dstSize], r.W, r.H)
}
