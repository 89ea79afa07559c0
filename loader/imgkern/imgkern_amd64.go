//go:build amd64 && !purego

package imgkern

import "golang.org/x/sys/cpu"

// The AVX-512 kernels use AVX-512 F and BW (byte moves) with VL forms; the
// OS saving ZMM state is checked by x/sys/cpu.
var (
	hasAVX2   = cpu.X86.HasAVX2
	hasAVX512 = hasAVX2 && cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL
)

// tapsAVX2 is Taps for n outputs, n a multiple of 8 (imgkern_amd64.s).
//
//go:noescape
func tapsAVX2(dst, src *byte, n, stride int, k *int32, nk int)

// tapsAVX512 is Taps for n outputs, n a multiple of 16.
//
//go:noescape
func tapsAVX512(dst, src *byte, n, stride int, k *int32, nk int)

// horizAVX2 is HorizRGB for n pixels whose reads (16 bytes per chunk) stay
// inside the source and whose 4-byte writes stay inside dst
// (imgkern_avx2_amd64.s).
//
//go:noescape
func horizAVX2(dst, src *byte, n int, off *int32, w *int32, chunks int)

// horizAVX512 is HorizRGB for n pixels whose reads (16 bytes per chunk)
// stay inside the source and whose 4-byte writes stay inside dst.
//
//go:noescape
func horizAVX512(dst, src *byte, n int, off *int32, w *int32, chunks int)

// hasVBMI: the RGB kernels deinterleave pixels with VPERMB (AVX-512 VBMI).
var hasVBMI = hasAVX512 && cpu.X86.HasAVX512VBMI

// saturateAVX512 is Saturate for n pixels, n a multiple of 16.
//
//go:noescape
func saturateAVX512(pix *byte, n int, a float32)

// lumaSumAVX512 is LumaSum for n pixels, n a multiple of 16.
//
//go:noescape
func lumaSumAVX512(pix *byte, n int) uint64

// shiftHueAVX512 is ShiftHue for n pixels, n a multiple of 16.
//
//go:noescape
func shiftHueAVX512(pix *byte, n int, t *HueTables, sh *HueShift, shifts *[3][16]uint32)

// mapBytesAVX512 is mapBytes for n bytes, n a multiple of 64.
//
//go:noescape
func mapBytesAVX512(pix *byte, n int, table *[256]byte)

// saturateAVX2 is Saturate for n pixels, n a multiple of 8.
//
//go:noescape
func saturateAVX2(pix *byte, n int, a float32)

// lumaSumAVX2 is LumaSum for n pixels, n a multiple of 8.
//
//go:noescape
func lumaSumAVX2(pix *byte, n int) uint64

// shiftHueAVX2 is ShiftHue for n pixels, n a multiple of 8.
//
//go:noescape
func shiftHueAVX2(pix *byte, n int, t *HueTables, sh *HueShift, shifts *[3][16]uint32)

// blendAVX2 is BlendBytes for n bytes, n a multiple of 32, in1 given as a
// float32 (imgkern_avx2_amd64.s).
//
//go:noescape
func blendAVX2(pix *byte, n int, in1, alpha float32)
