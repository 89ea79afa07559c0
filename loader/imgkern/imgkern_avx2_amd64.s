//go:build amd64 && !purego

#include "textflag.h"

// The AVX2 forms of the kernels that first had only AVX-512 ones: the
// resize's horizontal pass and the colour jitter. Each gives the bytes of
// its Go form (imgkern.go, hue.go).

// horizPerm picks, for the weighted bytes 8..15 of a chunk (dword lanes of
// the second accumulator), lanes whose channels match lanes 0..7 of the
// first (channel = lane mod 3): the first 8 dwords move bytes 9, 10, 8, 12,
// 13, 11 onto lanes 0..5 and the zero lane 15 onto 6 and 7; the second 8
// put byte 14 on lane 2 and lane 15 elsewhere.
DATA horizPerm<>+0(SB)/4, $1
DATA horizPerm<>+4(SB)/4, $2
DATA horizPerm<>+8(SB)/4, $0
DATA horizPerm<>+12(SB)/4, $4
DATA horizPerm<>+16(SB)/4, $5
DATA horizPerm<>+20(SB)/4, $3
DATA horizPerm<>+24(SB)/4, $7
DATA horizPerm<>+28(SB)/4, $7
DATA horizPerm<>+32(SB)/4, $7
DATA horizPerm<>+36(SB)/4, $7
DATA horizPerm<>+40(SB)/4, $6
DATA horizPerm<>+44(SB)/4, $7
DATA horizPerm<>+48(SB)/4, $7
DATA horizPerm<>+52(SB)/4, $7
DATA horizPerm<>+56(SB)/4, $7
DATA horizPerm<>+60(SB)/4, $7
GLOBL horizPerm<>(SB), RODATA|NOPTR, $64

// func horizAVX2(dst, src *byte, n int, off *int32, w *int32, chunks int)
// horizAVX512 with two accumulators of 8 dword lanes per pixel: bytes 0..7
// and 8..15 of each chunk times their weights. The second is moved onto the
// first's channels (horizPerm), the 8 lanes folded to the three channel sums
// by byte shifts, and half added, shifted, clipped (signed then unsigned
// saturating packs) and the 3 bytes (and one more) stored at dst+3j.
TEXT ·horizAVX2(SB), NOSPLIT, $0-48
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         n+16(FP), CX
	MOVQ         off+24(FP), R8
	MOVQ         w+32(FP), R9
	MOVQ         chunks+40(FP), R10
	VMOVDQU      horizPerm<>+0(SB), Y12
	VMOVDQU      horizPerm<>+32(SB), Y13
	MOVL         $0x200000, AX
	MOVQ         AX, X15
	VPBROADCASTD X15, X15
	TESTQ        CX, CX
	JZ           doneh2

pixh2:
	MOVLQSX (R8), R11
	ADDQ    SI, R11
	VPXOR   Y0, Y0, Y0
	VPXOR   Y1, Y1, Y1
	MOVQ    R10, R12

chunkh2:
	VPMOVZXBD (R11), Y2
	VPMULLD   (R9), Y2, Y2
	VPADDD    Y2, Y0, Y0
	VPMOVZXBD 8(R11), Y3
	VPMULLD   32(R9), Y3, Y3
	VPADDD    Y3, Y1, Y1
	ADDQ      $15, R11
	ADDQ      $64, R9
	DECQ      R12
	JNZ       chunkh2

	// Y0 lanes: channels 0 1 2 0 1 2 0 1, every tap's product in one.
	VPERMD       Y1, Y12, Y2
	VPADDD       Y2, Y0, Y0
	VPERMD       Y1, Y13, Y3
	VPADDD       Y3, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPSRLDQ      $12, X0, X2
	VPADDD       X2, X0, X0
	VPSRLDQ      $8, X1, X2
	VPADDD       X2, X0, X0
	VPSLLDQ      $4, X1, X2
	VPADDD       X2, X0, X0
	VPADDD       X15, X0, X0
	VPSRAD       $22, X0, X0
	VPACKSSDW    X0, X0, X0
	VPACKUSWB    X0, X0, X0
	VMOVD        X0, (DI)
	ADDQ         $3, DI
	ADDQ         $4, R8
	DECQ         CX
	JNZ          pixh2

doneh2:
	VZEROUPPER
	RET

// VPSHUFB controls for 8 RGB pixels loaded as bytes 0..15 (low lane) and
// 8..23 (high lane): shufRGB+0, +32 and +64 zero-extend their R, G and B
// into dwords; packRGB gathers the low 3 bytes of 4 dwords into 12 bytes in
// each lane.
DATA shufRGB<>+0(SB)/8, $0x8080800380808000
DATA shufRGB<>+8(SB)/8, $0x8080800980808006
DATA shufRGB<>+16(SB)/8, $0x8080800780808004
DATA shufRGB<>+24(SB)/8, $0x8080800d8080800a
DATA shufRGB<>+32(SB)/8, $0x8080800480808001
DATA shufRGB<>+40(SB)/8, $0x8080800a80808007
DATA shufRGB<>+48(SB)/8, $0x8080800880808005
DATA shufRGB<>+56(SB)/8, $0x8080800e8080800b
DATA shufRGB<>+64(SB)/8, $0x8080800580808002
DATA shufRGB<>+72(SB)/8, $0x8080800b80808008
DATA shufRGB<>+80(SB)/8, $0x8080800980808006
DATA shufRGB<>+88(SB)/8, $0x8080800f8080800c
GLOBL shufRGB<>(SB), RODATA|NOPTR, $96

DATA packRGB<>+0(SB)/8, $0x0908060504020100
DATA packRGB<>+8(SB)/8, $0x808080800e0d0c0a
DATA packRGB<>+16(SB)/8, $0x0908060504020100
DATA packRGB<>+24(SB)/8, $0x808080800e0d0c0a
GLOBL packRGB<>(SB), RODATA|NOPTR, $32

// packPerm moves the two lanes' 12 bytes next to each other.
DATA packPerm<>+0(SB)/4, $0
DATA packPerm<>+4(SB)/4, $1
DATA packPerm<>+8(SB)/4, $2
DATA packPerm<>+12(SB)/4, $4
DATA packPerm<>+16(SB)/4, $5
DATA packPerm<>+20(SB)/4, $6
DATA packPerm<>+24(SB)/4, $3
DATA packPerm<>+28(SB)/4, $7
GLOBL packPerm<>(SB), RODATA|NOPTR, $32

// LOADRGB8 loads the 8 pixels (24 bytes) at DI and leaves their R, G, B in
// the dword lanes of Y2, Y3, Y4.
#define LOADRGB8 \
	VMOVDQU     (DI), X0 \
	VINSERTI128 $1, 8(DI), Y0, Y0 \
	VPSHUFB     shufRGB<>+0(SB), Y0, Y2 \
	VPSHUFB     shufRGB<>+32(SB), Y0, Y3 \
	VPSHUFB     shufRGB<>+64(SB), Y0, Y4

// LUMA8 leaves the luma (19595 R + 38470 G + 7471 B + 0x8000) >> 16 of Y2,
// Y3, Y4 in Y5 (Y6 scratch; constants in Y9..Y12).
#define LUMA8 \
	VPMULLD Y12, Y2, Y5 \
	VPMULLD Y11, Y3, Y6 \
	VPADDD  Y6, Y5, Y5 \
	VPMULLD Y10, Y4, Y6 \
	VPADDD  Y6, Y5, Y5 \
	VPADDD  Y9, Y5, Y5 \
	VPSRLD  $16, Y5, Y5

#define LUMACONSTS8 \
	MOVL         $19595, AX \
	MOVQ         AX, X12 \
	VPBROADCASTD X12, Y12 \
	MOVL         $38470, AX \
	MOVQ         AX, X11 \
	VPBROADCASTD X11, Y11 \
	MOVL         $7471, AX \
	MOVQ         AX, X10 \
	VPBROADCASTD X10, Y10 \
	MOVL         $0x8000, AX \
	MOVQ         AX, X9 \
	VPBROADCASTD X9, Y9

// STORERGB8 stores the bytes in the dword lanes of Y2 (R), Y3 (G), Y4 (B)
// as 8 RGB pixels (24 bytes) at DI; Y8 holds packPerm. Y3 and Y4 are
// clobbered.
#define STORERGB8 \
	VPSLLD       $8, Y3, Y3 \
	VPOR         Y3, Y2, Y2 \
	VPSLLD       $16, Y4, Y4 \
	VPOR         Y4, Y2, Y2 \
	VPSHUFB      packRGB<>(SB), Y2, Y2 \
	VPERMD       Y2, Y8, Y2 \
	VMOVDQU      X2, (DI) \
	VEXTRACTI128 $1, Y2, X2 \
	VMOVQ        X2, 16(DI)

// BLENDCH8 is BLENDCH on 8 lanes: channel X of the saturation blend,
// clamp(fl + a*float32(X - L), 0, 255) truncated, in place (L in Y5, fl in
// Y6, a in Y15, 0 and 255.0 in Y14 and Y13).
#define BLENDCH8(X) \
	VPSUBD     Y5, X, X \
	VCVTDQ2PS  X, X \
	VMULPS     Y15, X, X \
	VADDPS     X, Y6, X \
	VMAXPS     Y14, X, X \
	VMINPS     Y13, X, X \
	VCVTTPS2DQ X, X

// func saturateAVX2(pix *byte, n int, a float32)
// Saturation blend of n pixels (n a multiple of 8) in place, 8 at a time.
TEXT ·saturateAVX2(SB), NOSPLIT, $0-20
	MOVQ         pix+0(FP), DI
	MOVQ         n+8(FP), CX
	VBROADCASTSS a+16(FP), Y15
	LUMACONSTS8
	VMOVDQU      packPerm<>(SB), Y8
	VXORPS       Y14, Y14, Y14
	MOVL         $0x437f0000, AX
	MOVQ         AX, X13
	VPBROADCASTD X13, Y13
	SHRQ         $3, CX
	JZ           dones2

pixs2:
	LOADRGB8
	LUMA8
	VCVTDQ2PS Y5, Y6
	BLENDCH8(Y2)
	BLENDCH8(Y3)
	BLENDCH8(Y4)
	STORERGB8
	ADDQ      $24, DI
	DECQ      CX
	JNZ       pixs2

dones2:
	VZEROUPPER
	RET

// func lumaSumAVX2(pix *byte, n int) uint64
// The sum of the lumas of n pixels (n a multiple of 8): each luma is below
// 256, so VPSADBW adds a lane pair's into a qword.
TEXT ·lumaSumAVX2(SB), NOSPLIT, $0-24
	MOVQ  pix+0(FP), DI
	MOVQ  n+8(FP), CX
	LUMACONSTS8
	VPXOR Y14, Y14, Y14
	VPXOR Y13, Y13, Y13
	SHRQ  $3, CX
	JZ    donel2

pixl2:
	LOADRGB8
	LUMA8
	VPSADBW Y14, Y5, Y5
	VPADDQ  Y5, Y13, Y13
	ADDQ    $24, DI
	DECQ    CX
	JNZ     pixl2

donel2:
	VEXTRACTI128 $1, Y13, X1
	VPADDQ       X1, X13, X0
	VPSHUFD      $0x4e, X0, X1
	VPADDQ       X1, X0, X0
	VMOVQ        X0, AX
	MOVQ         AX, ret+16(FP)
	VZEROUPPER
	RET

// Constants of shiftHueAVX2: float64 1.0, 0.5, 6.0 and 255.0; dwords -2,
// 4, 150, the float32 mantissa mask and implicit bit, and 255.
DATA hueConst<>+0(SB)/8, $0x3ff0000000000000
DATA hueConst<>+8(SB)/8, $0x3ff0000000000000
DATA hueConst<>+16(SB)/8, $0x3ff0000000000000
DATA hueConst<>+24(SB)/8, $0x3ff0000000000000
DATA hueConst<>+32(SB)/8, $0x3fe0000000000000
DATA hueConst<>+40(SB)/8, $0x3fe0000000000000
DATA hueConst<>+48(SB)/8, $0x3fe0000000000000
DATA hueConst<>+56(SB)/8, $0x3fe0000000000000
DATA hueConst<>+64(SB)/8, $0x4018000000000000
DATA hueConst<>+72(SB)/8, $0x4018000000000000
DATA hueConst<>+80(SB)/8, $0x4018000000000000
DATA hueConst<>+88(SB)/8, $0x4018000000000000
DATA hueConst<>+96(SB)/8, $0x406fe00000000000
DATA hueConst<>+104(SB)/8, $0x406fe00000000000
DATA hueConst<>+112(SB)/8, $0x406fe00000000000
DATA hueConst<>+120(SB)/8, $0x406fe00000000000
DATA hueConst<>+128(SB)/8, $0xfffffffefffffffe
DATA hueConst<>+136(SB)/8, $0xfffffffefffffffe
DATA hueConst<>+144(SB)/8, $0xfffffffefffffffe
DATA hueConst<>+152(SB)/8, $0xfffffffefffffffe
DATA hueConst<>+160(SB)/8, $0x0000000400000004
DATA hueConst<>+168(SB)/8, $0x0000000400000004
DATA hueConst<>+176(SB)/8, $0x0000000400000004
DATA hueConst<>+184(SB)/8, $0x0000000400000004
DATA hueConst<>+192(SB)/8, $0x0000009600000096
DATA hueConst<>+200(SB)/8, $0x0000009600000096
DATA hueConst<>+208(SB)/8, $0x0000009600000096
DATA hueConst<>+216(SB)/8, $0x0000009600000096
DATA hueConst<>+224(SB)/8, $0x007fffff007fffff
DATA hueConst<>+232(SB)/8, $0x007fffff007fffff
DATA hueConst<>+240(SB)/8, $0x007fffff007fffff
DATA hueConst<>+248(SB)/8, $0x007fffff007fffff
DATA hueConst<>+256(SB)/8, $0x0080000000800000
DATA hueConst<>+264(SB)/8, $0x0080000000800000
DATA hueConst<>+272(SB)/8, $0x0080000000800000
DATA hueConst<>+280(SB)/8, $0x0080000000800000
DATA hueConst<>+288(SB)/8, $0x000000ff000000ff
DATA hueConst<>+296(SB)/8, $0x000000ff000000ff
DATA hueConst<>+304(SB)/8, $0x000000ff000000ff
DATA hueConst<>+312(SB)/8, $0x000000ff000000ff
GLOBL hueConst<>(SB), RODATA|NOPTR, $320

// rnd32: qwords 1, 0x0fffffff and ^0x1fffffff, which round a float64 to
// float32's 24-bit mantissa (to nearest, ties to even) in its own format.
DATA rnd32<>+0(SB)/8, $1
DATA rnd32<>+8(SB)/8, $1
DATA rnd32<>+16(SB)/8, $1
DATA rnd32<>+24(SB)/8, $1
DATA rnd32<>+32(SB)/8, $0x0fffffff
DATA rnd32<>+40(SB)/8, $0x0fffffff
DATA rnd32<>+48(SB)/8, $0x0fffffff
DATA rnd32<>+56(SB)/8, $0x0fffffff
DATA rnd32<>+64(SB)/8, $0xffffffffe0000000
DATA rnd32<>+72(SB)/8, $0xffffffffe0000000
DATA rnd32<>+80(SB)/8, $0xffffffffe0000000
DATA rnd32<>+88(SB)/8, $0xffffffffe0000000
GLOBL rnd32<>(SB), RODATA|NOPTR, $96

#define ONE hueConst<>+0(SB)
#define HALF hueConst<>+32(SB)
#define SIX hueConst<>+64(SB)
#define F255 hueConst<>+96(SB)

// ALLONES sets Y1, the mask of the next gather, to all lanes.
#define ALLONES VPCMPEQD Y1, Y1, Y1

// FLOOR255 is int(255*x) for the 8 float32 x in SRC, from 0 to 1 (x =
// m * 2^(e-23) with the 24-bit mantissa m: (255*m) >> (23-e), exact), into
// DST (TMP scratch). Zero gives 0 and so do NaNs: their shifts pass 31.
#define FLOOR255(SRC, DST, TMP) \
	VPSRLD  $23, SRC, TMP \
	VMOVDQU hueConst<>+192(SB), DST \
	VPSUBD  TMP, DST, DST \
	VPAND   hueConst<>+224(SB), SRC, TMP \
	VPOR    hueConst<>+256(SB), TMP, TMP \
	VPMULLD hueConst<>+288(SB), TMP, TMP \
	VPSRLVD DST, TMP, DST

// HUE4 is rgb2hsv's hue for 4 lanes before its scaling to a byte: X12 and
// X13 hold the float32 quotients x and y of the hue's formula and X14 its
// constant k (dwords: 0, 2 or 4). The hue k + x - y is exact in float64 (x
// and y are multiples of 2^-32 below 1) and rounded once to float32's
// precision (rnd32, staying in float64: a normal float32 or zero), as
// PIL's float32 subtraction or float64 sum rounds it; then h = float32(h/6
// + 1, less 1 from 1 up) lands in X1. Y2, Y3 scratch.
#define HUE4 \
	VCVTDQ2PD   X14, Y2 \
	VCVTPS2PD   X12, Y3 \
	VADDPD      Y3, Y2, Y2 \
	VCVTPS2PD   X13, Y3 \
	VSUBPD      Y3, Y2, Y2 \
	VPSRLQ      $29, Y2, Y3 \
	VPAND       rnd32<>+0(SB), Y3, Y3 \
	VPADDQ      rnd32<>+32(SB), Y3, Y3 \
	VPADDQ      Y3, Y2, Y2 \
	VPAND       rnd32<>+64(SB), Y2, Y2 \
	VDIVPD      SIX, Y2, Y2 \
	VADDPD      ONE, Y2, Y2 \
	VCMPPD      $13, ONE, Y2, Y3 \
	VANDPD      ONE, Y3, Y3 \
	VSUBPD      Y3, Y2, Y2 \
	VCVTPD2PSY  Y2, X1

// PQT4 is hsv2rgb's p, q and t for 4 lanes: X7 holds v (dwords), X8
// fs*f, X9 f and X10 fs (float32); p = v*(1 - fs), q = v*(1 - fs*f) and
// t = v*(1 - fs*(1-f)) in float64, each rounded as floor(x+0.5), land in
// X13, X11 and X12. Y3 and Y14 scratch.
#define PQT4 \
	VCVTDQ2PD   X7, Y13 \
	VCVTPS2PD   X8, Y14 \
	VMOVUPD     ONE, Y11 \
	VSUBPD      Y14, Y11, Y11 \
	VMULPD      Y11, Y13, Y11 \
	VADDPD      HALF, Y11, Y11 \
	VCVTTPD2DQY Y11, X11 \
	VCVTPS2PD   X9, Y14 \
	VMOVUPD     ONE, Y12 \
	VSUBPD      Y14, Y12, Y12 \
	VCVTPS2PD   X10, Y14 \
	VMULPD      Y12, Y14, Y12 \
	VMOVUPD     ONE, Y3 \
	VSUBPD      Y12, Y3, Y12 \
	VMULPD      Y12, Y13, Y12 \
	VADDPD      HALF, Y12, Y12 \
	VCVTTPD2DQY Y12, X12 \
	VMOVUPD     ONE, Y3 \
	VSUBPD      Y14, Y3, Y3 \
	VMULPD      Y3, Y13, Y3 \
	VADDPD      HALF, Y3, Y3 \
	VCVTTPD2DQY Y3, X13

// func shiftHueAVX2(pix *byte, n int, t *HueTables, sh *HueShift, shifts *[3][16]uint32)
// ShiftHue on 8 pixels at a time (n a multiple of 8), computing what the
// 64K-entry tables hold (rgb2hsv's hue and saturation, hsv2rgb's p) in
// PIL's float arithmetic instead of looking it up: only FS and the shift's
// sector and fraction (small tables) are gathered. A grey pixel (C = 0)
// divides 0 by 0 (or by M = 0); FLOOR255 turns its NaNs into 0, S and H
// are masked to 0..255 before any gather all the same, and its output is
// (m, m, m) as every S = 0 pixel's.
// HueTables offset of FS: 327680; HueShift: Sector 0, Frac 256.
// No gather takes Y4 as its index: QEMU 7.2 reads VSIB index 4 as none
// (every lane from the base), which scripts/ci/kernels-qemu.sh would catch.
TEXT ·shiftHueAVX2(SB), NOSPLIT, $0-40
	MOVQ         pix+0(FP), DI
	MOVQ         n+8(FP), CX
	MOVQ         t+16(FP), SI
	MOVQ         sh+24(FP), DX
	MOVQ         shifts+32(FP), R8
	MOVL         $0xff, AX
	MOVQ         AX, X15
	VPBROADCASTD X15, Y15
	SHRQ         $3, CX
	JZ           doneu2

pixu2:
	LOADRGB8

	// Y5 = M = max, Y6 = C = M - min; Y7, Y8 = the masks G = M, R = M
	VPMAXUD  Y3, Y2, Y5
	VPMAXUD  Y4, Y5, Y5
	VPMINUD  Y3, Y2, Y6
	VPMINUD  Y4, Y6, Y6
	VPSUBD   Y6, Y5, Y6
	VPCMPEQD Y5, Y3, Y7
	VPCMPEQD Y5, Y2, Y8

	// the hue's numerators x (Y12), y (Y13) and constant k (Y14): M-B,
	// M-G, 0 when red is the maximum; M-R, M-B, 2 when green is; M-G,
	// M-R, 4 else
	VPSUBD    Y2, Y5, Y9
	VPSUBD    Y3, Y5, Y10
	VPSUBD    Y4, Y5, Y11
	VPBLENDVB Y7, Y9, Y10, Y12
	VPBLENDVB Y8, Y11, Y12, Y12
	VPBLENDVB Y7, Y11, Y9, Y13
	VPBLENDVB Y8, Y10, Y13, Y13
	VPAND     hueConst<>+128(SB), Y7, Y14
	VPADDD    hueConst<>+160(SB), Y14, Y14
	VPANDN    Y14, Y8, Y14

	// float32: Y8 = s = C/M, Y12 = x/C, Y13 = y/C
	VCVTDQ2PS Y6, Y6
	VCVTDQ2PS Y5, Y7
	VDIVPS    Y7, Y6, Y8
	VCVTDQ2PS Y12, Y12
	VDIVPS    Y6, Y12, Y12
	VCVTDQ2PS Y13, Y13
	VDIVPS    Y6, Y13, Y13

	// Y6 = S, Y2 = H (the hue in float32 in Y7, low then high 4 lanes)
	FLOOR255(Y8, Y6, Y7)
	HUE4
	VMOVDQA       X1, X7
	VEXTRACTF128  $1, Y12, X12
	VEXTRACTF128  $1, Y13, X13
	VEXTRACTI128  $1, Y14, X14
	HUE4
	VINSERTF128   $1, X1, Y7, Y7
	FLOOR255(Y7, Y2, Y3)
	VPAND         Y15, Y6, Y6
	VPAND         Y15, Y2, Y2

	// Y0 = sector, Y9 = fraction, Y10 = fs; Y6 = the mask S = 0
	ALLONES
	VPGATHERDD Y1, (DX)(Y2*1), Y0
	VPAND      Y15, Y0, Y0
	ALLONES
	VPGATHERDD Y1, 256(DX)(Y2*4), Y9
	ALLONES
	VPGATHERDD Y1, 327680(SI)(Y6*4), Y10
	VPXOR      Y1, Y1, Y1
	VPCMPEQD   Y1, Y6, Y6

	// p, q, t, low then high 4 lanes, into Y4, Y2, Y1; Y8 = fs*f
	VMULPS       Y9, Y10, Y8
	VMOVDQA      X5, X7
	PQT4
	VMOVDQA      X13, X4
	VMOVDQA      X11, X2
	VMOVDQA      X12, X1
	VEXTRACTI128 $1, Y5, X7
	VEXTRACTF128 $1, Y8, X8
	VEXTRACTF128 $1, Y9, X9
	VEXTRACTF128 $1, Y10, X10
	PQT4
	VINSERTI128  $1, X13, Y4, Y4
	VINSERTI128  $1, X11, Y2, Y2
	VINSERTI128  $1, X12, Y1, Y1

	// Y7 = packed v | p<<8 | q<<16 | t<<24; pick by the sector's shifts
	VPSLLD  $8, Y4, Y4
	VPOR    Y5, Y4, Y7
	VPSLLD  $16, Y2, Y2
	VPOR    Y2, Y7, Y7
	VPSLLD  $24, Y1, Y1
	VPOR    Y1, Y7, Y7
	VPERMD  (R8), Y0, Y2
	VPSRLVD Y2, Y7, Y2
	VPAND   Y15, Y2, Y2
	VPERMD  64(R8), Y0, Y3
	VPSRLVD Y3, Y7, Y3
	VPAND   Y15, Y3, Y3
	VPERMD  128(R8), Y0, Y4
	VPSRLVD Y4, Y7, Y4
	VPAND   Y15, Y4, Y4

	// saturation 0: (m, m, m)
	VPBLENDVB Y6, Y5, Y2, Y2
	VPBLENDVB Y6, Y5, Y3, Y3
	VPBLENDVB Y6, Y5, Y4, Y4

	VMOVDQU packPerm<>(SB), Y8
	STORERGB8
	ADDQ    $24, DI
	DECQ    CX
	JNZ     pixu2

doneu2:
	VZEROUPPER
	RET

// BLEND8 blends 8 bytes in R, each the float32 2^23 + v (Y14 holds 2^23 +
// in1, Y12 in1): in1 + rounded alpha*(v - in1) (multiply then add, as
// Blend: no FMA), at most 255 and truncated to an int32. The unsigned
// saturating packs then give 0 for the negatives, as Blend's clip does (the
// minimum keeps sums of 2^31 and up from converting to the negative
// "integer indefinite").
#define BLEND8(R) \
	VSUBPS     Y14, R, R \
	VMULPS     Y13, R, R \
	VADDPS     Y12, R, R \
	VMINPS     Y11, R, R \
	VCVTTPS2DQ R, R

// func blendAVX2(pix *byte, n int, in1, alpha float32)
// pix[i] = Blend(in1, pix[i], alpha) for n bytes (n a multiple of 32),
// in1 passed as a float32. Unpacking the bytes with zero bytes and then
// with the words 0x4b00 makes the float32s 2^23 + v; the packs undo the
// unpacks' order.
TEXT ·blendAVX2(SB), NOSPLIT, $0-24
	MOVQ         pix+0(FP), DI
	MOVQ         n+8(FP), CX
	VBROADCASTSS in1+16(FP), Y12
	VBROADCASTSS alpha+20(FP), Y13
	MOVL         $0x4b000000, BX // 2^23
	MOVQ         BX, X14
	VBROADCASTSS X14, Y14
	VADDPS       Y12, Y14, Y14
	MOVL         $0x437f0000, BX // 255.0
	MOVQ         BX, X11
	VBROADCASTSS X11, Y11
	MOVL         $0x4b004b00, BX
	MOVQ         BX, X10
	VPBROADCASTD X10, Y10
	VPXOR        Y9, Y9, Y9
	SHRQ         $5, CX
	JZ           doneb2

bytesb2:
	VMOVDQU    (DI), Y0
	VPUNPCKHBW Y9, Y0, Y2
	VPUNPCKLBW Y9, Y0, Y0
	VPUNPCKHWD Y10, Y2, Y3
	VPUNPCKLWD Y10, Y2, Y2
	VPUNPCKHWD Y10, Y0, Y1
	VPUNPCKLWD Y10, Y0, Y0
	BLEND8(Y0)
	BLEND8(Y1)
	BLEND8(Y2)
	BLEND8(Y3)
	VPACKUSDW  Y1, Y0, Y0
	VPACKUSDW  Y3, Y2, Y2
	VPACKUSWB  Y2, Y0, Y0
	VMOVDQU    Y0, (DI)
	ADDQ       $32, DI
	DECQ       CX
	JNZ        bytesb2

doneb2:
	VZEROUPPER
	RET
