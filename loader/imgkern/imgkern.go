// Package imgkern holds the image kernels of the ImageNet input pipeline
// that run in assembly where the CPU allows: Taps, the weighted sum of rows
// with which PIL's fixed-point bilinear resampling makes each output row.
//
// Every kernel has a Go form, the reference; the AVX2 and AVX-512 forms
// give the same bytes (integer arithmetic, tested against the Go form on
// each path). The path is picked at run time from the CPU's features;
// PERTNAS_PUREGO set in the environment, the purego build tag or Use
// selects the Go forms.
package imgkern

import (
	"fmt"
	"os"
)

// Path names a set of kernels.
type Path string

// The kernel paths, slowest first.
const (
	PureGo Path = "purego"
	AVX2   Path = "avx2"
	AVX512 Path = "avx512"
)

// path is the kernels in use.
var path = best()

func best() Path {
	switch {
	case os.Getenv("PERTNAS_PUREGO") != "":
		return PureGo
	case hasAVX512:
		return AVX512
	case hasAVX2:
		return AVX2
	}
	return PureGo
}

// Supported lists the paths this CPU and build can run, slowest first.
func Supported() []Path {
	ps := []Path{PureGo}
	if hasAVX2 {
		ps = append(ps, AVX2)
	}
	if hasAVX512 {
		ps = append(ps, AVX512)
	}
	return ps
}

// Current returns the path in use.
func Current() Path { return path }

// Use selects a path and returns the previous one; a path the CPU cannot
// run is an error. It must not be called while kernels run.
func Use(p Path) (Path, error) {
	for _, s := range Supported() {
		if s == p {
			old := path
			path = p
			return old, nil
		}
	}
	return path, fmt.Errorf("imgkern: path %q not supported here (supported: %v)", p, Supported())
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
