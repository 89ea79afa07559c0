//go:build amd64 && !purego

#include "textflag.h"

// All loops take n > 0, a multiple of 32 (sumK: 16).

// func axpyK(n int, alpha float32, x, y *float32)
// y += alpha*x with a separate multiply and add (matches the Go loop bitwise).
TEXT ·axpyK(SB), NOSPLIT, $0-32
	MOVQ         n+0(FP), CX
	VBROADCASTSS alpha+8(FP), Y8
	MOVQ         x+16(FP), SI
	MOVQ         y+24(FP), DI

axpyloop:
	VMULPS  (SI), Y8, Y0
	VMULPS  32(SI), Y8, Y1
	VMULPS  64(SI), Y8, Y2
	VMULPS  96(SI), Y8, Y3
	VADDPS  (DI), Y0, Y0
	VADDPS  32(DI), Y1, Y1
	VADDPS  64(DI), Y2, Y2
	VADDPS  96(DI), Y3, Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ    $128, SI
	ADDQ    $128, DI
	SUBQ    $32, CX
	JNZ     axpyloop
	VZEROUPPER
	RET

// func scaleK(n int, alpha float32, x *float32)
TEXT ·scaleK(SB), NOSPLIT, $0-24
	MOVQ         n+0(FP), CX
	VBROADCASTSS alpha+8(FP), Y8
	MOVQ         x+16(FP), SI

scaleloop:
	VMULPS  (SI), Y8, Y0
	VMULPS  32(SI), Y8, Y1
	VMULPS  64(SI), Y8, Y2
	VMULPS  96(SI), Y8, Y3
	VMOVUPS Y0, (SI)
	VMOVUPS Y1, 32(SI)
	VMOVUPS Y2, 64(SI)
	VMOVUPS Y3, 96(SI)
	ADDQ    $128, SI
	SUBQ    $32, CX
	JNZ     scaleloop
	VZEROUPPER
	RET

// func reluK(n int, dst, src *float32)
// dst = MAXPS(0, src): returns src when either is NaN or both are zero.
TEXT ·reluK(SB), NOSPLIT, $0-24
	MOVQ   n+0(FP), CX
	MOVQ   dst+8(FP), DI
	MOVQ   src+16(FP), SI
	VXORPS Y8, Y8, Y8

reluloop:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS 64(SI), Y2
	VMOVUPS 96(SI), Y3
	VMAXPS  Y0, Y8, Y0
	VMAXPS  Y1, Y8, Y1
	VMAXPS  Y2, Y8, Y2
	VMAXPS  Y3, Y8, Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ    $128, SI
	ADDQ    $128, DI
	SUBQ    $32, CX
	JNZ     reluloop
	VZEROUPPER
	RET

// func reluBackwardK(n int, dx, dy, y *float32)
// dx = dy AND (0 < y) (ordered compare: NaN gives 0).
TEXT ·reluBackwardK(SB), NOSPLIT, $0-32
	MOVQ   n+0(FP), CX
	MOVQ   dx+8(FP), DI
	MOVQ   dy+16(FP), SI
	MOVQ   y+24(FP), DX
	VXORPS Y8, Y8, Y8

relubloop:
	VCMPPS  $1, (DX), Y8, Y0
	VCMPPS  $1, 32(DX), Y8, Y1
	VCMPPS  $1, 64(DX), Y8, Y2
	VCMPPS  $1, 96(DX), Y8, Y3
	VANDPS  (SI), Y0, Y0
	VANDPS  32(SI), Y1, Y1
	VANDPS  64(SI), Y2, Y2
	VANDPS  96(SI), Y3, Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ    $128, SI
	ADDQ    $128, DI
	ADDQ    $128, DX
	SUBQ    $32, CX
	JNZ     relubloop
	VZEROUPPER
	RET

// func reluBackwardAddK(n int, dx, dy, y *float32)
// dx += dy AND (0 < y).
TEXT ·reluBackwardAddK(SB), NOSPLIT, $0-32
	MOVQ   n+0(FP), CX
	MOVQ   dx+8(FP), DI
	MOVQ   dy+16(FP), SI
	MOVQ   y+24(FP), DX
	VXORPS Y8, Y8, Y8

reluaddloop:
	VCMPPS  $1, (DX), Y8, Y0
	VCMPPS  $1, 32(DX), Y8, Y1
	VCMPPS  $1, 64(DX), Y8, Y2
	VCMPPS  $1, 96(DX), Y8, Y3
	VANDPS  (SI), Y0, Y0
	VANDPS  32(SI), Y1, Y1
	VANDPS  64(SI), Y2, Y2
	VANDPS  96(SI), Y3, Y3
	VADDPS  (DI), Y0, Y0
	VADDPS  32(DI), Y1, Y1
	VADDPS  64(DI), Y2, Y2
	VADDPS  96(DI), Y3, Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ    $128, SI
	ADDQ    $128, DI
	ADDQ    $128, DX
	SUBQ    $32, CX
	JNZ     reluaddloop
	VZEROUPPER
	RET

// func scaleShiftPlanesK(planes, n32 int, y, x *float32, stride int, a, b float32)
// y = x*a + b (rounded separately) over planes planes of 32*n32 elements,
// plane p at y + p*stride and x + p*stride (in elements).
TEXT ·scaleShiftPlanesK(SB), NOSPLIT, $0-48
	MOVQ         planes+0(FP), R9
	MOVQ         y+16(FP), R10
	MOVQ         x+24(FP), R11
	MOVQ         stride+32(FP), R8
	SHLQ         $2, R8
	VBROADCASTSS a+40(FP), Y8
	VBROADCASTSS b+44(FP), Y9

ssplane:
	MOVQ n32+8(FP), CX
	MOVQ R10, DI
	MOVQ R11, SI

ssloop:
	VMULPS  (SI), Y8, Y0
	VMULPS  32(SI), Y8, Y1
	VMULPS  64(SI), Y8, Y2
	VMULPS  96(SI), Y8, Y3
	VADDPS  Y9, Y0, Y0
	VADDPS  Y9, Y1, Y1
	VADDPS  Y9, Y2, Y2
	VADDPS  Y9, Y3, Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ    $128, SI
	ADDQ    $128, DI
	DECQ    CX
	JNZ     ssloop
	ADDQ    R8, R10
	ADDQ    R8, R11
	DECQ    R9
	JNZ     ssplane
	VZEROUPPER
	RET

// func scaleShiftReluK(n int, y, x *float32, a, b float32)
// y = max(x*a + b, 0) (product and sum rounded separately; the max as reluK's,
// so NaN and -0 pass through), n a multiple of 32.
TEXT ·scaleShiftReluK(SB), NOSPLIT, $0-32
	MOVQ         n+0(FP), CX
	MOVQ         y+8(FP), DI
	MOVQ         x+16(FP), SI
	VBROADCASTSS a+24(FP), Y8
	VBROADCASTSS b+28(FP), Y9
	VXORPS       Y10, Y10, Y10

ssrloop:
	VMULPS  (SI), Y8, Y0
	VMULPS  32(SI), Y8, Y1
	VMULPS  64(SI), Y8, Y2
	VMULPS  96(SI), Y8, Y3
	VADDPS  Y9, Y0, Y0
	VADDPS  Y9, Y1, Y1
	VADDPS  Y9, Y2, Y2
	VADDPS  Y9, Y3, Y3
	VMAXPS  Y0, Y10, Y0
	VMAXPS  Y1, Y10, Y1
	VMAXPS  Y2, Y10, Y2
	VMAXPS  Y3, Y10, Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ    $128, SI
	ADDQ    $128, DI
	SUBQ    $32, CX
	JNZ     ssrloop
	VZEROUPPER
	RET

// func affineAxpyPlanesK(planes, n32 int, dst, x, gy *float32, stride int, a, b, k float32, add bool)
// t = (x*a + b) + k*g, every product and sum rounded on its own; dst = t,
// or dst += t when add, over planes planes of 32*n32 elements, plane p at
// dst, x, gy + p*stride (in elements).
TEXT ·affineAxpyPlanesK(SB), NOSPLIT, $0-61
	MOVQ         planes+0(FP), R9
	MOVQ         dst+16(FP), R10
	MOVQ         x+24(FP), R11
	MOVQ         gy+32(FP), R12
	MOVQ         stride+40(FP), R8
	SHLQ         $2, R8
	VBROADCASTSS a+48(FP), Y8
	VBROADCASTSS b+52(FP), Y9
	VBROADCASTSS k+56(FP), Y10
	MOVBLZX      add+60(FP), AX

aaplane:
	MOVQ  n32+8(FP), CX
	MOVQ  R10, DI
	MOVQ  R11, SI
	MOVQ  R12, DX
	TESTQ AX, AX
	JNZ   aaaddloop

aasetloop:
	VMULPS  (SI), Y8, Y0
	VMULPS  32(SI), Y8, Y1
	VMULPS  64(SI), Y8, Y2
	VMULPS  96(SI), Y8, Y3
	VMULPS  (DX), Y10, Y4
	VMULPS  32(DX), Y10, Y5
	VMULPS  64(DX), Y10, Y6
	VMULPS  96(DX), Y10, Y7
	VADDPS  Y9, Y0, Y0
	VADDPS  Y9, Y1, Y1
	VADDPS  Y9, Y2, Y2
	VADDPS  Y9, Y3, Y3
	VADDPS  Y4, Y0, Y0
	VADDPS  Y5, Y1, Y1
	VADDPS  Y6, Y2, Y2
	VADDPS  Y7, Y3, Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ    $128, SI
	ADDQ    $128, DX
	ADDQ    $128, DI
	DECQ    CX
	JNZ     aasetloop
	JMP     aanext

aaaddloop:
	VMULPS  (SI), Y8, Y0
	VMULPS  32(SI), Y8, Y1
	VMULPS  64(SI), Y8, Y2
	VMULPS  96(SI), Y8, Y3
	VMULPS  (DX), Y10, Y4
	VMULPS  32(DX), Y10, Y5
	VMULPS  64(DX), Y10, Y6
	VMULPS  96(DX), Y10, Y7
	VADDPS  Y9, Y0, Y0
	VADDPS  Y9, Y1, Y1
	VADDPS  Y9, Y2, Y2
	VADDPS  Y9, Y3, Y3
	VADDPS  Y4, Y0, Y0
	VADDPS  Y5, Y1, Y1
	VADDPS  Y6, Y2, Y2
	VADDPS  Y7, Y3, Y3
	VADDPS  (DI), Y0, Y0
	VADDPS  32(DI), Y1, Y1
	VADDPS  64(DI), Y2, Y2
	VADDPS  96(DI), Y3, Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ    $128, SI
	ADDQ    $128, DX
	ADDQ    $128, DI
	DECQ    CX
	JNZ     aaaddloop

aanext:
	ADDQ R8, R10
	ADDQ R8, R11
	ADDQ R8, R12
	DECQ R9
	JNZ  aaplane
	VZEROUPPER
	RET

// Shared by momentsPlanesK and dotDevPlanesK: each plane is summed into 16
// float32 partials (element i of the plane to partial i mod 16, in index
// order, from +0), then float64(p[l]) is added to the float64 sum l. A
// plane's last n mod 16 elements are read with masked loads (mask: t
// all-ones lanes then zeros, nil when t = 0) and the lanes past them
// contribute +0.

// func momentsPlanesK(planes, n16 int, x *float32, stride int, k float32, mask *int32, s, q *[16]float64)
// For each of the planes x + p*stride (in elements): d = x[i]-k; s-partial
// += d; q-partial += d*d (multiply and add rounded separately).
TEXT ·momentsPlanesK(SB), NOSPLIT, $0-64
	MOVQ         planes+0(FP), R9
	MOVQ         x+16(FP), SI
	MOVQ         stride+24(FP), R8
	SHLQ         $2, R8
	VBROADCASTSS k+32(FP), Y14
	MOVQ         mask+40(FP), R10
	MOVQ         s+48(FP), DI
	MOVQ         q+56(FP), DX

mpplane:
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	MOVQ   SI, AX
	MOVQ   n16+8(FP), CX
	TESTQ  CX, CX
	JZ     mptail

mploop:
	VMOVUPS (AX), Y8
	VMOVUPS 32(AX), Y9
	VSUBPS  Y14, Y8, Y8
	VSUBPS  Y14, Y9, Y9
	VADDPS  Y8, Y0, Y0
	VADDPS  Y9, Y1, Y1
	VMULPS  Y8, Y8, Y8
	VMULPS  Y9, Y9, Y9
	VADDPS  Y8, Y2, Y2
	VADDPS  Y9, Y3, Y3
	ADDQ    $64, AX
	DECQ    CX
	JNZ     mploop

mptail:
	TESTQ      R10, R10
	JZ         mpfold
	VMOVUPS    (R10), Y12
	VMASKMOVPS (AX), Y12, Y8
	VSUBPS     Y14, Y8, Y8
	VANDPS     Y12, Y8, Y8
	VMOVUPS    32(R10), Y13
	VMASKMOVPS 32(AX), Y13, Y9
	VSUBPS     Y14, Y9, Y9
	VANDPS     Y13, Y9, Y9
	VADDPS     Y8, Y0, Y0
	VADDPS     Y9, Y1, Y1
	VMULPS     Y8, Y8, Y8
	VMULPS     Y9, Y9, Y9
	VADDPS     Y8, Y2, Y2
	VADDPS     Y9, Y3, Y3

mpfold:
	VCVTPS2PD    X0, Y12
	VADDPD       0(DI), Y12, Y12
	VMOVUPD      Y12, 0(DI)
	VEXTRACTF128 $1, Y0, X12
	VCVTPS2PD    X12, Y12
	VADDPD       32(DI), Y12, Y12
	VMOVUPD      Y12, 32(DI)
	VCVTPS2PD    X1, Y12
	VADDPD       64(DI), Y12, Y12
	VMOVUPD      Y12, 64(DI)
	VEXTRACTF128 $1, Y1, X12
	VCVTPS2PD    X12, Y12
	VADDPD       96(DI), Y12, Y12
	VMOVUPD      Y12, 96(DI)
	VCVTPS2PD    X2, Y12
	VADDPD       0(DX), Y12, Y12
	VMOVUPD      Y12, 0(DX)
	VEXTRACTF128 $1, Y2, X12
	VCVTPS2PD    X12, Y12
	VADDPD       32(DX), Y12, Y12
	VMOVUPD      Y12, 32(DX)
	VCVTPS2PD    X3, Y12
	VADDPD       64(DX), Y12, Y12
	VMOVUPD      Y12, 64(DX)
	VEXTRACTF128 $1, Y3, X12
	VCVTPS2PD    X12, Y12
	VADDPD       96(DX), Y12, Y12
	VMOVUPD      Y12, 96(DX)
	ADDQ R8, SI
	DECQ R9
	JNZ  mpplane
	VZEROUPPER
	RET

// func dotDevPlanesK(planes, n16 int, dy, x *float32, stride int, m float32, mask *int32, a, b *[16]float64)
// For each of the planes dy + p*stride, x + p*stride (in elements): a-partial
// += dy[i]; b-partial += dy[i]*(x[i]-m) (rounded separately).
TEXT ·dotDevPlanesK(SB), NOSPLIT, $0-72
	MOVQ         planes+0(FP), R9
	MOVQ         dy+16(FP), SI
	MOVQ         x+24(FP), BX
	MOVQ         stride+32(FP), R8
	SHLQ         $2, R8
	VBROADCASTSS m+40(FP), Y14
	MOVQ         mask+48(FP), R10
	MOVQ         a+56(FP), DI
	MOVQ         b+64(FP), DX

ddplane:
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	XORQ   AX, AX
	MOVQ   n16+8(FP), CX
	TESTQ  CX, CX
	JZ     ddtail

ddploop:
	VMOVUPS (SI)(AX*1), Y8
	VMOVUPS 32(SI)(AX*1), Y9
	VMOVUPS (BX)(AX*1), Y10
	VMOVUPS 32(BX)(AX*1), Y11
	VADDPS  Y8, Y0, Y0
	VADDPS  Y9, Y1, Y1
	VSUBPS  Y14, Y10, Y10
	VSUBPS  Y14, Y11, Y11
	VMULPS  Y10, Y8, Y8
	VMULPS  Y11, Y9, Y9
	VADDPS  Y8, Y2, Y2
	VADDPS  Y9, Y3, Y3
	ADDQ    $64, AX
	DECQ    CX
	JNZ     ddploop

ddtail:
	TESTQ      R10, R10
	JZ         ddfold
	VMOVUPS    (R10), Y12
	VMASKMOVPS (SI)(AX*1), Y12, Y8
	VMASKMOVPS (BX)(AX*1), Y12, Y10
	VMOVUPS    32(R10), Y13
	VMASKMOVPS 32(SI)(AX*1), Y13, Y9
	VMASKMOVPS 32(BX)(AX*1), Y13, Y11
	VADDPS     Y8, Y0, Y0
	VADDPS     Y9, Y1, Y1
	VSUBPS     Y14, Y10, Y10
	VSUBPS     Y14, Y11, Y11
	VMULPS     Y10, Y8, Y8
	VMULPS     Y11, Y9, Y9
	VADDPS     Y8, Y2, Y2
	VADDPS     Y9, Y3, Y3

ddfold:
	VCVTPS2PD    X0, Y12
	VADDPD       0(DI), Y12, Y12
	VMOVUPD      Y12, 0(DI)
	VEXTRACTF128 $1, Y0, X12
	VCVTPS2PD    X12, Y12
	VADDPD       32(DI), Y12, Y12
	VMOVUPD      Y12, 32(DI)
	VCVTPS2PD    X1, Y12
	VADDPD       64(DI), Y12, Y12
	VMOVUPD      Y12, 64(DI)
	VEXTRACTF128 $1, Y1, X12
	VCVTPS2PD    X12, Y12
	VADDPD       96(DI), Y12, Y12
	VMOVUPD      Y12, 96(DI)
	VCVTPS2PD    X2, Y12
	VADDPD       0(DX), Y12, Y12
	VMOVUPD      Y12, 0(DX)
	VEXTRACTF128 $1, Y2, X12
	VCVTPS2PD    X12, Y12
	VADDPD       32(DX), Y12, Y12
	VMOVUPD      Y12, 32(DX)
	VCVTPS2PD    X3, Y12
	VADDPD       64(DX), Y12, Y12
	VMOVUPD      Y12, 64(DX)
	VEXTRACTF128 $1, Y3, X12
	VCVTPS2PD    X12, Y12
	VADDPD       96(DX), Y12, Y12
	VMOVUPD      Y12, 96(DX)
	ADDQ R8, SI
	ADDQ R8, BX
	DECQ R9
	JNZ  ddplane
	VZEROUPPER
	RET
