//go:build amd64 && !purego

#include "textflag.h"

// func tapsAVX2(dst, src *byte, n, stride int, k *int32, nk int)
// For each block of 8 outputs i: sum = half + sum_t zx(src[t*stride+i]) * k[t]
// in int32 lanes, then clamp(sum >> 22, 0, 255) stored as bytes. n is a
// multiple of 8, nk >= 1.
TEXT ·tapsAVX2(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ stride+24(FP), R8
	MOVQ k+32(FP), R9
	MOVQ nk+40(FP), R10
	MOVL $0x200000, AX
	MOVQ AX, X15
	VPBROADCASTD X15, Y15
	VPXOR Y14, Y14, Y14
	MOVL $255, AX
	MOVQ AX, X13
	VPBROADCASTD X13, Y13
	SHRQ $3, CX
	JZ   done2

block2:
	VMOVDQA Y15, Y0
	MOVQ    SI, R11
	MOVQ    R9, R12
	MOVQ    R10, R13

tap2:
	VPMOVZXBD    (R11), Y1
	VPBROADCASTD (R12), Y2
	VPMULLD      Y2, Y1, Y1
	VPADDD       Y1, Y0, Y0
	ADDQ         R8, R11
	ADDQ         $4, R12
	DECQ         R13
	JNZ          tap2

	VPSRAD       $22, Y0, Y0
	VPMAXSD      Y14, Y0, Y0
	VPMINSD      Y13, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPACKUSDW    X1, X0, X0
	VPACKUSWB    X0, X0, X0
	MOVQ         X0, (DI)
	ADDQ         $8, SI
	ADDQ         $8, DI
	DECQ         CX
	JNZ          block2

done2:
	VZEROUPPER
	RET

// func tapsAVX512(dst, src *byte, n, stride int, k *int32, nk int)
// tapsAVX2 on blocks of 16 outputs; the clamp to 255 is the unsigned
// saturation of VPMOVUSDB. n is a multiple of 16, nk >= 1.
TEXT ·tapsAVX512(SB), NOSPLIT, $0-48
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         n+16(FP), CX
	MOVQ         stride+24(FP), R8
	MOVQ         k+32(FP), R9
	MOVQ         nk+40(FP), R10
	MOVL         $0x200000, AX
	VPBROADCASTD AX, Z15
	VPXORD       Z14, Z14, Z14
	SHRQ         $4, CX
	JZ           done5

block5:
	VMOVDQA32 Z15, Z0
	MOVQ      SI, R11
	MOVQ      R9, R12
	MOVQ      R10, R13

tap5:
	VPMOVZXBD    (R11), Z1
	VPBROADCASTD (R12), Z2
	VPMULLD      Z2, Z1, Z1
	VPADDD       Z1, Z0, Z0
	ADDQ         R8, R11
	ADDQ         $4, R12
	DECQ         R13
	JNZ          tap5

	VPSRAD    $22, Z0, Z0
	VPMAXSD   Z14, Z0, Z0
	VPMOVUSDB Z0, X1
	VMOVDQU   X1, (DI)
	ADDQ      $16, SI
	ADDQ      $16, DI
	DECQ      CX
	JNZ       block5

done5:
	VZEROUPPER
	RET

// func horizAVX512(dst, src *byte, n int, off *int32, w *int32, chunks int)
// For each pixel j: p = sum over chunks of zx(16 bytes at src+off[j]+15*chunk)
// * w (16 int32 lanes: tap t%5 channel c in lane 3*(t%5)+c); the lanes of
// each channel (c, c+3, ..., c+12) are summed by rotations, half added,
// shifted, clamped and the 3 bytes (and one more) stored at dst+3j.
TEXT ·horizAVX512(SB), NOSPLIT, $0-48
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         n+16(FP), CX
	MOVQ         off+24(FP), R8
	MOVQ         w+32(FP), R9
	MOVQ         chunks+40(FP), R10
	MOVL         $0x200000, AX
	VPBROADCASTD AX, Z15
	VPXORD       Z14, Z14, Z14
	TESTQ        CX, CX
	JZ           doneh

pixh:
	MOVLQSX (R8), R11
	ADDQ    SI, R11
	VPXORD  Z0, Z0, Z0
	MOVQ    R10, R12

chunkh:
	VPMOVZXBD (R11), Z1
	VPMULLD   (R9), Z1, Z1
	VPADDD    Z1, Z0, Z0
	ADDQ      $15, R11
	ADDQ      $64, R9
	DECQ      R12
	JNZ       chunkh

	VALIGND   $3, Z0, Z0, Z1
	VPADDD    Z1, Z0, Z1
	VALIGND   $6, Z1, Z1, Z2
	VPADDD    Z2, Z1, Z1
	VALIGND   $12, Z0, Z0, Z2
	VPADDD    Z2, Z1, Z1
	VPADDD    Z15, Z1, Z1
	VPSRAD    $22, Z1, Z1
	VPMAXSD   Z14, Z1, Z1
	VPMOVUSDB Z1, X1
	VMOVD     X1, (DI)
	ADDQ      $3, DI
	ADDQ      $4, R8
	DECQ      CX
	JNZ       pixh

doneh:
	VZEROUPPER
	RET

// Byte permutations for VPERMB: deintRGB gathers 16 RGB pixels (48 bytes)
// into 16 R, 16 G and 16 B bytes; interRGB interleaves them back.
DATA deintRGB<>+0(SB)/8, $0x15120f0c09060300
DATA deintRGB<>+8(SB)/8, $0x2d2a2724211e1b18
DATA deintRGB<>+16(SB)/8, $0x1613100d0a070401
DATA deintRGB<>+24(SB)/8, $0x2e2b2825221f1c19
DATA deintRGB<>+32(SB)/8, $0x1714110e0b080502
DATA deintRGB<>+40(SB)/8, $0x2f2c292623201d1a
DATA deintRGB<>+48(SB)/8, $0x0000000000000000
DATA deintRGB<>+56(SB)/8, $0x0000000000000000
GLOBL deintRGB<>(SB), RODATA|NOPTR, $64

DATA interRGB<>+0(SB)/8, $0x1202211101201000
DATA interRGB<>+8(SB)/8, $0x0524140423130322
DATA interRGB<>+16(SB)/8, $0x2717072616062515
DATA interRGB<>+24(SB)/8, $0x1a0a291909281808
DATA interRGB<>+32(SB)/8, $0x0d2c1c0c2b1b0b2a
DATA interRGB<>+40(SB)/8, $0x2f1f0f2e1e0e2d1d
DATA interRGB<>+48(SB)/8, $0x0000000000000000
DATA interRGB<>+56(SB)/8, $0x0000000000000000
GLOBL interRGB<>(SB), RODATA|NOPTR, $64

// LOAD48 loads the 48 bytes at DI into the low 48 bytes of Z0 and STORE48
// stores the low 48 bytes of REG there (a 32- and a 16-byte move, X14
// scratch): masked moves of 48 bytes are several times slower on AMD's
// Zen 4.
#define LOAD48 \
	VMOVDQU       (DI), Y0 \
	VINSERTI32X4  $2, 32(DI), Z0, Z0

#define STORE48(REG, YREG) \
	VMOVDQU       YREG, (DI) \
	VEXTRACTI32X4 $2, REG, X14 \
	VMOVDQU       X14, 32(DI)

// LOADRGB loads 16 pixels at DI (LOAD48) and leaves
// their R, G, B in the dword lanes of Z2, Z3, Z4 and their luma
// (19595 R + 38470 G + 7471 B + 0x8000) >> 16 in Z5.
#define LOADRGB \
	LOAD48 \
	VPERMB        Z0, Z21, Z1 \
	VPMOVZXBD     X1, Z2 \
	VEXTRACTI32X4 $1, Z1, X3 \
	VPMOVZXBD     X3, Z3 \
	VEXTRACTI32X4 $2, Z1, X4 \
	VPMOVZXBD     X4, Z4 \
	VPMULLD       Z23, Z2, Z5 \
	VPMULLD       Z24, Z3, Z6 \
	VPADDD        Z6, Z5, Z5 \
	VPMULLD       Z25, Z4, Z6 \
	VPADDD        Z6, Z5, Z5 \
	VPADDD        Z26, Z5, Z5 \
	VPSRLD        $16, Z5, Z5

#define LUMACONSTS \
	VMOVDQU8     deintRGB<>(SB), Z21 \
	MOVL         $19595, AX \
	VPBROADCASTD AX, Z23 \
	MOVL         $38470, AX \
	VPBROADCASTD AX, Z24 \
	MOVL         $7471, AX \
	VPBROADCASTD AX, Z25 \
	MOVL         $0x8000, AX \
	VPBROADCASTD AX, Z26

// BLENDCH computes channel X (Z register) of the saturation blend:
// clamp(fl + a*float32(X - L), 0, 255) truncated, into dword lanes of OUT.
#define BLENDCH(X, OUT) \
	VPSUBD     Z5, X, OUT \
	VCVTDQ2PS  OUT, OUT \
	VMULPS     Z20, OUT, OUT \
	VADDPS     OUT, Z6, OUT \
	VMAXPS     Z27, OUT, OUT \
	VMINPS     Z28, OUT, OUT \
	VCVTTPS2DQ OUT, OUT

// func saturateAVX512(pix *byte, n int, a float32)
// Saturation blend of n pixels (n a multiple of 16) in place, 16 at a time.
TEXT ·saturateAVX512(SB), NOSPLIT, $0-20
	MOVQ         pix+0(FP), DI
	MOVQ         n+8(FP), CX
	VBROADCASTSS a+16(FP), Z20
	LUMACONSTS
	VMOVDQU8     interRGB<>(SB), Z22
	VXORPS       Z27, Z27, Z27
	MOVL         $0x437f0000, AX
	VPBROADCASTD AX, Z28
	SHRQ         $4, CX
	JZ           dones

pixs:
	LOADRGB
	VCVTDQ2PS     Z5, Z6
	BLENDCH(Z2, Z7)
	BLENDCH(Z3, Z8)
	BLENDCH(Z4, Z9)
	VPMOVDB       Z7, X10
	VPMOVDB       Z8, X11
	VPMOVDB       Z9, X12
	VINSERTI32X4  $1, X11, Z10, Z10
	VINSERTI32X4  $2, X12, Z10, Z10
	VPERMB        Z10, Z22, Z13
	STORE48(Z13, Y13)
	ADDQ          $48, DI
	DECQ          CX
	JNZ           pixs

dones:
	VZEROUPPER
	RET

// func lumaSumAVX512(pix *byte, n int) uint64
// The sum of the lumas of n pixels (n a multiple of 16).
TEXT ·lumaSumAVX512(SB), NOSPLIT, $0-24
	MOVQ   pix+0(FP), DI
	MOVQ   n+8(FP), CX
	LUMACONSTS
	VPXORQ Z30, Z30, Z30
	SHRQ   $4, CX
	JZ     donel

pixl:
	LOADRGB
	VPMOVZXDQ     Y5, Z6
	VPADDQ        Z6, Z30, Z30
	VEXTRACTI64X4 $1, Z5, Y7
	VPMOVZXDQ     Y7, Z7
	VPADDQ        Z7, Z30, Z30
	ADDQ          $48, DI
	DECQ          CX
	JNZ           pixl

donel:
	VEXTRACTI64X4 $1, Z30, Y1
	VPADDQ        Y1, Y30, Y0
	VEXTRACTI128  $1, Y0, X1
	VPADDQ        X1, X0, X0
	VPSHUFD       $0x4e, X0, X1
	VPADDQ        X1, X0, X0
	VMOVQ         X0, AX
	MOVQ          AX, ret+16(FP)
	VZEROUPPER
	RET

// func shiftHueAVX512(pix *byte, n int, t *HueTables, sh *HueShift, shifts *[3][16]uint32)
// shiftHueGo on 16 pixels at a time (n a multiple of 16): the table lookups
// are dword gathers at byte (or float32) offsets masked to their byte,
// hsv2rgb's q and t are computed in float64 halves of 8 lanes, and the
// outputs are picked from (v, p, q, t) packed in a dword by per-sector
// shifts (VPERMD from the shifts table, VPSRLVD).
// HueTables offsets: Hue 0, Sat 196608, P 262144, FS 327680; HueShift:
// Sector 0, Frac 256.
TEXT ·shiftHueAVX512(SB), NOSPLIT, $0-40
	MOVQ         pix+0(FP), DI
	MOVQ         n+8(FP), CX
	MOVQ         t+16(FP), SI
	MOVQ         sh+24(FP), DX
	MOVQ         shifts+32(FP), AX
	VMOVDQU32    (AX), Z18
	VMOVDQU32    64(AX), Z19
	VMOVDQU32    128(AX), Z20
	VMOVDQU8     deintRGB<>(SB), Z21
	VMOVDQU8     interRGB<>(SB), Z22
	MOVL         $0xff, AX
	VPBROADCASTD AX, Z16
	MOVL         $65536, AX
	VPBROADCASTD AX, Z17
	MOVQ         $0x3ff0000000000000, AX
	VPBROADCASTQ AX, Z23
	MOVQ         $0x3fe0000000000000, AX
	VPBROADCASTQ AX, Z24
	SHRQ         $4, CX
	JZ           doneu

pixu:
	LOAD48
	VPERMB        Z0, Z21, Z1
	VPMOVZXBD     X1, Z2
	VEXTRACTI32X4 $1, Z1, X3
	VPMOVZXBD     X3, Z3
	VEXTRACTI32X4 $2, Z1, X4
	VPMOVZXBD     X4, Z4

	// M = max, C = M - min, S = Sat[C<<8|M]
	VPMAXUD    Z3, Z2, Z5
	VPMAXUD    Z4, Z5, Z5
	VPMINUD    Z3, Z2, Z6
	VPMINUD    Z4, Z6, Z6
	VPSUBD     Z6, Z5, Z6
	VPSLLD     $8, Z6, Z7
	VPORD      Z5, Z7, Z7
	KXNORW     K0, K0, K2
	VPGATHERDD 196608(SI)(Z7*1), K2, Z8
	VPANDD     Z16, Z8, Z8

	// the hue's index by which channel is the maximum (red first)
	VPSUBD     Z3, Z5, Z9
	VPSUBD     Z4, Z5, Z10
	VPSUBD     Z2, Z5, Z11
	VPSLLD     $8, Z9, Z12
	VPORD      Z10, Z12, Z12
	VPSLLD     $8, Z11, Z13
	VPORD      Z10, Z13, Z13
	VPADDD     Z17, Z13, Z13
	VPSLLD     $8, Z11, Z14
	VPORD      Z9, Z14, Z14
	VPADDD     Z17, Z14, Z14
	VPADDD     Z17, Z14, Z14
	VPCMPEQD   Z5, Z2, K3
	VPCMPEQD   Z5, Z3, K4
	VMOVDQA32  Z13, K4, Z14
	VMOVDQA32  Z12, K3, Z14
	KXNORW     K0, K0, K2
	VPGATHERDD (SI)(Z14*1), K2, Z15
	VPANDD     Z16, Z15, Z15

	// sector, fraction, fs, p
	KXNORW     K0, K0, K2
	VPGATHERDD (DX)(Z15*1), K2, Z9
	VPANDD     Z16, Z9, Z9
	KXNORW     K0, K0, K2
	VPGATHERDD 256(DX)(Z15*4), K2, Z10
	KXNORW     K0, K0, K2
	VPGATHERDD 327680(SI)(Z8*4), K2, Z11
	VPSLLD     $8, Z8, Z12
	VPORD      Z5, Z12, Z12
	KXNORW     K0, K0, K2
	VPGATHERDD 262144(SI)(Z12*1), K2, Z13
	VPANDD     Z16, Z13, Z13

	// q = v*(1 - fs*f) and t = v*(1 - fs*(1-f)), rounded: low 8 lanes
	VMULPS     Z10, Z11, Z12
	VCVTDQ2PD  Y5, Z25
	VCVTPS2PD  Y12, Z26
	VSUBPD     Z26, Z23, Z27
	VMULPD     Z27, Z25, Z27
	VADDPD     Z24, Z27, Z27
	VCVTTPD2DQ Z27, Y27
	VCVTPS2PD  Y10, Z28
	VSUBPD     Z28, Z23, Z28
	VCVTPS2PD  Y11, Z29
	VMULPD     Z28, Z29, Z28
	VSUBPD     Z28, Z23, Z28
	VMULPD     Z28, Z25, Z28
	VADDPD     Z24, Z28, Z28
	VCVTTPD2DQ Z28, Y28

	// high 8 lanes
	VEXTRACTI64X4 $1, Z5, Y0
	VEXTRACTF64X4 $1, Z12, Y1
	VEXTRACTF64X4 $1, Z10, Y2
	VEXTRACTF64X4 $1, Z11, Y3
	VCVTDQ2PD     Y0, Z25
	VCVTPS2PD     Y1, Z26
	VSUBPD        Z26, Z23, Z30
	VMULPD        Z30, Z25, Z30
	VADDPD        Z24, Z30, Z30
	VCVTTPD2DQ    Z30, Y30
	VCVTPS2PD     Y2, Z26
	VSUBPD        Z26, Z23, Z26
	VCVTPS2PD     Y3, Z29
	VMULPD        Z26, Z29, Z26
	VSUBPD        Z26, Z23, Z26
	VMULPD        Z26, Z25, Z26
	VADDPD        Z24, Z26, Z26
	VCVTTPD2DQ    Z26, Y31
	VINSERTI64X4  $1, Y30, Z27, Z27
	VINSERTI64X4  $1, Y31, Z28, Z28

	// packed = v | p<<8 | q<<16 | t<<24; pick by the sector's shifts
	VPSLLD   $8, Z13, Z13
	VPORD    Z13, Z5, Z0
	VPSLLD   $16, Z27, Z27
	VPORD    Z27, Z0, Z0
	VPSLLD   $24, Z28, Z28
	VPORD    Z28, Z0, Z0
	VPERMD   Z18, Z9, Z1
	VPSRLVD  Z1, Z0, Z1
	VPANDD   Z16, Z1, Z1
	VPERMD   Z19, Z9, Z2
	VPSRLVD  Z2, Z0, Z2
	VPANDD   Z16, Z2, Z2
	VPERMD   Z20, Z9, Z3
	VPSRLVD  Z3, Z0, Z3
	VPANDD   Z16, Z3, Z3

	// saturation 0: (m, m, m)
	VPTESTNMD Z8, Z8, K5
	VMOVDQA32 Z5, K5, Z1
	VMOVDQA32 Z5, K5, Z2
	VMOVDQA32 Z5, K5, Z3

	VPMOVDB      Z1, X10
	VPMOVDB      Z2, X11
	VPMOVDB      Z3, X12
	VINSERTI32X4 $1, X11, Z10, Z10
	VINSERTI32X4 $2, X12, Z10, Z10
	VPERMB       Z10, Z22, Z13
	STORE48(Z13, Y13)
	ADDQ         $48, DI
	DECQ         CX
	JNZ          pixu

doneu:
	VZEROUPPER
	RET

// func mapBytesAVX512(pix *byte, n int, table *[256]byte)
// pix[i] = table[pix[i]] for n bytes (n a multiple of 64): two VPERMI2B
// lookups in the table's halves, picked by each byte's top bit.
TEXT ·mapBytesAVX512(SB), NOSPLIT, $0-24
	MOVQ      pix+0(FP), DI
	MOVQ      n+8(FP), CX
	MOVQ      table+16(FP), AX
	VMOVDQU8  (AX), Z16
	VMOVDQU8  64(AX), Z17
	VMOVDQU8  128(AX), Z18
	VMOVDQU8  192(AX), Z19
	SHRQ      $6, CX
	JZ        donem

bytesm:
	VMOVDQU8  (DI), Z0
	VMOVDQA64 Z0, Z1
	VPERMI2B  Z17, Z16, Z1
	VMOVDQA64 Z0, Z2
	VPERMI2B  Z19, Z18, Z2
	VPMOVB2M  Z0, K2
	VMOVDQU8  Z2, K2, Z1
	VMOVDQU8  Z1, (DI)
	ADDQ      $64, DI
	DECQ      CX
	JNZ       bytesm

donem:
	VZEROUPPER
	RET
