// Package imgkern holds the image kernels of the ImageNet input pipeline
// that run in assembly where the CPU allows: PIL's fixed-point bilinear
// resampling (HorizRGB, the horizontal pass on RGB rows; Taps, the vertical
// one) and its colour jitter (BlendBytes for brightness and contrast, LumaSum
// for contrast's mean, Saturate, ShiftHue).
//
// Every kernel has a Go form, the reference; its AVX2 and AVX-512 forms
// give the same bytes (tested against the Go form on each path). The paths
// and the rules for the one a program starts on are internal/cpupath's,
// shared with the tensor kernels; the features are this package's: AVX512
// needs AVX-512 F, BW and VL, and its colour kernels VBMI besides (without
// it they run their AVX2 forms); AVX2 needs AVX2 alone. PERTNAS_PUREGO set
// in the environment or the purego build tag selects the Go forms;
// PERTNAS_IMGKERN (envPath) or Use pins any supported path.
package imgkern

import (
	"fmt"
	"os"
	"slices"

	"pertnas/internal/cpupath"
)

// Path names a set of kernels.
type Path = cpupath.Path

// The kernel paths, slowest first.
const (
	PureGo = cpupath.PureGo
	AVX2   = cpupath.AVX2
	AVX512 = cpupath.AVX512
)

// supported is the paths this CPU and build run (Supported).
var supported = cpupath.Supported(hasAVX2, hasAVX512)

// path is the kernels in use, at first the environment's choice
// (envPath); a choice this CPU cannot run stops the program.
var path = func() Path {
	p, err := envPath(os.Getenv("PERTNAS_IMGKERN"))
	if err != nil {
		panic(err)
	}
	return p
}()

// envPath returns the path a program starts with, given the value of the
// environment variable PERTNAS_IMGKERN: when it is empty or "auto",
// cpupath.Start's (the fastest path this CPU runs, PureGo when
// PERTNAS_PUREGO is set); else the path it names, which must be one this
// CPU runs, and PureGo all the same when PERTNAS_PUREGO is set.
// PERTNAS_IMGKERN pins the image kernels alone, for benchmarks and checks
// (the tensor kernels have --kernels).
func envPath(want string) (Path, error) {
	start := cpupath.Start(supported)
	if want == "" || want == cpupath.Auto {
		return start, nil
	}
	if err := cpupath.Check(Path(want), supported); err != nil {
		return PureGo, fmt.Errorf("imgkern: PERTNAS_IMGKERN=%s: %w", want, err)
	}
	if start == PureGo { // PERTNAS_PUREGO: want is supported, so not the CPU
		return PureGo, nil
	}
	return Path(want), nil
}

// Supported lists the paths this CPU and build can run, slowest first.
func Supported() []Path { return slices.Clone(supported) }

// Current returns the path in use.
func Current() Path { return path }

// Use selects a path and returns the previous one; a path that is unknown
// or that the CPU cannot run is an error. It must not be called while
// kernels run.
func Use(p Path) (Path, error) {
	if err := cpupath.Check(p, supported); err != nil {
		return path, fmt.Errorf("imgkern: %w", err)
	}
	old := path
	path = p
	return old, nil
}

// Precision is the number of fractional bits of the fixed-point weights
// (PIL's PRECISION_BITS for 8-bit images).
const Precision = 32 - 8 - 2

// Taps writes dst[i] = clip(half + sum_t src[t*stride+i]*k[t]) >> Precision
// for i < len(dst): the rounded, clipped weighted sum of len(k) rows of
// src, stride bytes apart, as PIL's ImagingResampleVertical_8bpc computes
// an output row (half = 1 << (Precision-1); clip gives 0 for a negative sum
// and 255 from 255 << Precision up). The sums must fit in an int32, as they
// do for PIL's normalised weights. It needs len(k) >= 1, stride >= len(dst)
// and len(src) >= (len(k)-1)*stride + len(dst).
func Taps(dst, src []byte, stride int, k []int32) {
	n := len(dst)
	if len(k) == 0 || stride < n || len(src) < (len(k)-1)*stride+n {
		panic(fmt.Sprintf("imgkern.Taps: %d taps, stride %d, %d outputs, %d source bytes", len(k), stride, n, len(src)))
	}
	done := 0
	if n > 0 {
		switch path {
		case AVX512:
			done = n &^ 15
			if done > 0 {
				tapsAVX512(&dst[0], &src[0], done, stride, &k[0], len(k))
			}
		case AVX2:
			done = n &^ 7
			if done > 0 {
				tapsAVX2(&dst[0], &src[0], done, stride, &k[0], len(k))
			}
		}
	}
	tapsGo(dst[done:], src[done:], stride, k)
}

// tapsGo is Taps in Go, the reference.
func tapsGo(dst, src []byte, stride int, k []int32) {
	const half = 1 << (Precision - 1)
	for i := range dst {
		s := int32(half)
		for t, kv := range k {
			s += int32(src[t*stride+i]) * kv
		}
		dst[i] = Clip8(s)
	}
}

// Clip8 is PIL's clip8: a fixed-point sum rounded down to a byte, 0 below
// zero and 255 from 255 << Precision up.
func Clip8(v int32) byte {
	if v >= 1<<Precision<<8 {
		return 255
	}
	if v <= 0 {
		return 0
	}
	return byte(v >> Precision)
}

// ChunkTaps is the number of taps of one chunk of HorizRGB's weights: one
// 16-byte load covers 5 RGB pixels.
const ChunkTaps = 5

// HorizWeights lays out the weights of one output pixel for HorizRGB:
// chunks blocks of 16 int32, tap t of the pixel at index (t/5)*16 +
// (t%5)*3 + c for each channel c (the weight repeated three times, lane 15
// of a block zero). It writes them into w[:16*chunks], which must be zero
// beyond the taps, and needs len(k) <= 5*chunks.
func HorizWeights(w []int32, k []int32, chunks int) {
	w = w[:16*chunks]
	clear(w)
	for t, kv := range k {
		o := t/ChunkTaps*16 + t%ChunkTaps*3
		w[o], w[o+1], w[o+2] = kv, kv, kv
	}
}

// HorizRGB computes n pixels of one row of PIL's horizontal resampling
// pass on RGB bytes: output pixel j is dst[3j:3j+3], channel c of it
// Clip8(half + sum_t src[off[j]+3t+c] * k_j[t]), the weights k_j laid out
// by HorizWeights in w[j*16*chunks:]. Taps with weight zero are not read,
// so off[j]+3t+c need only be inside src for the others; off must not
// decrease.
func HorizRGB(dst, src []byte, off []int32, w []int32, chunks int) {
	n := len(off)
	if len(dst) < 3*n || len(w) < n*16*chunks || chunks < 1 {
		panic(fmt.Sprintf("imgkern.HorizRGB: %d pixels, %d output bytes, %d weights, %d chunks", n, len(dst), len(w), chunks))
	}
	done := 0
	if path != PureGo && n > 1 {
		// The kernels read 16 bytes per chunk from off[j] and write 4
		// bytes per pixel: they take the pixels before the last whose
		// reads stay inside src.
		reach := int32(len(src) - 16 - 15*(chunks-1))
		done = n - 1
		for done > 0 && off[done-1] > reach {
			done--
		}
		if done > 0 {
			if off[0] < 0 {
				panic("imgkern.HorizRGB: negative offset")
			}
			if path == AVX512 {
				horizAVX512(&dst[0], &src[0], done, &off[0], &w[0], chunks)
			} else {
				horizAVX2(&dst[0], &src[0], done, &off[0], &w[0], chunks)
			}
		}
	}
	horizGo(dst[3*done:], src, off[done:], w[done*16*chunks:], chunks)
}

// horizGo is HorizRGB in Go, the reference.
func horizGo(dst, src []byte, off []int32, w []int32, chunks int) {
	const half = 1 << (Precision - 1)
	for j, o := range off {
		wj := w[j*16*chunks : (j+1)*16*chunks]
		s0, s1, s2 := int32(half), int32(half), int32(half)
		for t := range ChunkTaps * chunks {
			kv := wj[t/ChunkTaps*16+t%ChunkTaps*3]
			if kv == 0 {
				continue
			}
			p := src[int(o)+3*t : int(o)+3*t+3]
			s0 += int32(p[0]) * kv
			s1 += int32(p[1]) * kv
			s2 += int32(p[2]) * kv
		}
		dst[3*j], dst[3*j+1], dst[3*j+2] = Clip8(s0), Clip8(s1), Clip8(s2)
	}
}

// Luma is PIL's RGB -> L conversion of one pixel.
func Luma(r, g, b byte) byte {
	return byte((uint32(r)*19595 + uint32(g)*38470 + uint32(b)*7471 + 0x8000) >> 16)
}

// rgbPath returns the kernels that run on n RGB pixels (a block's worth at
// least, else PureGo): the AVX-512 ones need VBMI (VPERMB), which some
// AVX-512 CPUs lack; those run the AVX2 ones.
func rgbPath(n int) Path {
	switch {
	case path == AVX512 && hasVBMI && n >= 16:
		return AVX512
	case path != PureGo && n >= 8:
		return AVX2
	}
	return PureGo
}

// LumaSum returns the sum of Luma over the RGB pixels of pix (len(pix)/3
// of them).
func LumaSum(pix []byte) uint64 {
	n, done := len(pix)/3, 0
	var sum uint64
	switch rgbPath(n) {
	case AVX512:
		done = n &^ 15
		sum = lumaSumAVX512(&pix[0], done)
	case AVX2:
		done = n &^ 7
		sum = lumaSumAVX2(&pix[0], done)
	}
	for p := done * 3; p+2 < len(pix); p += 3 {
		sum += uint64(Luma(pix[p], pix[p+1], pix[p+2]))
	}
	return sum
}

// Saturate is PIL's ImageEnhance.Color(a) on RGB pixels in place: each
// channel v of a pixel with luma l becomes fl + a*float32(v - l) in float32
// (fl = float32(l), the product rounded first), clipped to [0, 255] and
// truncated, PIL's blend of the pixel's grey and itself.
func Saturate(pix []byte, a float32) {
	n, done := len(pix)/3, 0
	switch rgbPath(n) {
	case AVX512:
		done = n &^ 15
		saturateAVX512(&pix[0], done, a)
	case AVX2:
		done = n &^ 7
		saturateAVX2(&pix[0], done, a)
	}
	saturateGo(pix[done*3:], a)
}

// saturateGo is Saturate in Go, the reference.
func saturateGo(pix []byte, a float32) {
	for p := 0; p+2 < len(pix); p += 3 {
		q := pix[p : p+3]
		l := Luma(q[0], q[1], q[2])
		fl := float32(l)
		for c := range q {
			q[c] = byte(min(max(fl+float32(a*float32(int(q[c])-int(l))), 0), 255))
		}
	}
}

// Blend is PIL's ImageChops blend of two bytes, in1 + alpha*(in2 - in1)
// in float32 (the product rounded first, no fused multiply-add), truncated
// to a byte; for alpha outside [0, 1] the result is clipped to [0, 255]
// first (inside it needs no clipping). alpha must be finite.
func Blend(in1, in2 byte, alpha float32) byte {
	v := float32(float32(in1) + float32(alpha*float32(int(in2)-int(in1))))
	if alpha >= 0 && alpha <= 1 {
		return byte(v)
	}
	if v <= 0 {
		return 0
	}
	if v >= 255 {
		return 255
	}
	return byte(v)
}

// BlendBytes replaces every byte v of pix by Blend(in1, v, alpha), PIL's
// brightness (in1 0) and contrast (in1 the mean grey) on any channels.
// alpha must be finite. The AVX2 form does the blend's arithmetic on 32
// bytes at a time (clipping for every alpha: inside [0, 1] the result lies
// between in1 and v, so the clip changes nothing); the others map the bytes
// through a table of Blend's 256 results (AVX-512 VBMI looks up 64 bytes
// with two VPERMI2B).
func BlendBytes(pix []byte, in1 byte, alpha float32) {
	if (path == AVX2 || path == AVX512 && !hasVBMI) && len(pix) >= 32 {
		done := len(pix) &^ 31
		blendAVX2(&pix[0], done, float32(in1), alpha)
		rest := pix[done:]
		for i, v := range rest {
			rest[i] = Blend(in1, v, alpha)
		}
		return
	}
	var t [256]byte
	for v := range t {
		t[v] = Blend(in1, byte(v), alpha)
	}
	mapBytes(pix, &t)
}

// mapBytes replaces every byte v of pix by table[v], with AVX-512 VBMI
// where the path allows.
func mapBytes(pix []byte, table *[256]byte) {
	done := 0
	if path == AVX512 && hasVBMI && len(pix) >= 64 {
		done = len(pix) &^ 63
		mapBytesAVX512(&pix[0], done, table)
	}
	rest := pix[done:]
	for i, v := range rest {
		rest[i] = table[v]
	}
}
