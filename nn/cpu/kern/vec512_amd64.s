//go:build amd64 && !purego

#include "textflag.h"

// AVX-512 forms of the vector and batch-norm loops of vec_amd64.s, with the
// same contracts and the same bits: each takes n (or 32*n32 elements per
// plane) a multiple of 32, runs 64 elements per iteration and then one
// 32-element step when n mod 64 = 32, with the operations and operand
// order of the AVX2 loop.

// func axpyZ(n int, alpha float32, x, y *float32)
TEXT ·axpyZ(SB), NOSPLIT, $0-32
	MOVQ         n+0(FP), CX
	VBROADCASTSS alpha+8(FP), Z8
	MOVQ         x+16(FP), SI
	MOVQ         y+24(FP), DI
	MOVQ         CX, DX
	SHRQ         $6, CX
	JZ           axpyz32

axpyzloop:
	VMULPS  (SI), Z8, Z0
	VMULPS  64(SI), Z8, Z1
	VMULPS  128(SI), Z8, Z2
	VMULPS  192(SI), Z8, Z3
	VADDPS  (DI), Z0, Z0
	VADDPS  64(DI), Z1, Z1
	VADDPS  128(DI), Z2, Z2
	VADDPS  192(DI), Z3, Z3
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	ADDQ    $256, SI
	ADDQ    $256, DI
	DECQ    CX
	JNZ     axpyzloop

axpyz32:
	TESTQ   $32, DX
	JZ      axpyzdone
	VMULPS  (SI), Z8, Z0
	VMULPS  64(SI), Z8, Z1
	VADDPS  (DI), Z0, Z0
	VADDPS  64(DI), Z1, Z1
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)

axpyzdone:
	VZEROUPPER
	RET

// func reluZ(n int, dst, src *float32)
// dst = MAXPS(0, src), as reluK.
TEXT ·reluZ(SB), NOSPLIT, $0-24
	MOVQ   n+0(FP), CX
	MOVQ   dst+8(FP), DI
	MOVQ   src+16(FP), SI
	VPXORD Z8, Z8, Z8
	MOVQ   CX, DX
	SHRQ   $6, CX
	JZ     reluz32

reluzloop:
	VMAXPS  (SI), Z8, Z0
	VMAXPS  64(SI), Z8, Z1
	VMAXPS  128(SI), Z8, Z2
	VMAXPS  192(SI), Z8, Z3
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	ADDQ    $256, SI
	ADDQ    $256, DI
	DECQ    CX
	JNZ     reluzloop

reluz32:
	TESTQ   $32, DX
	JZ      reluzdone
	VMAXPS  (SI), Z8, Z0
	VMAXPS  64(SI), Z8, Z1
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)

reluzdone:
	VZEROUPPER
	RET

// func reluBackwardZ(n int, dx, dy, y *float32)
// dx = dy where 0 < y (ordered compare), +0 elsewhere, as reluBackwardK.
TEXT ·reluBackwardZ(SB), NOSPLIT, $0-32
	MOVQ   n+0(FP), CX
	MOVQ   dx+8(FP), DI
	MOVQ   dy+16(FP), SI
	MOVQ   y+24(FP), BX
	VPXORD Z8, Z8, Z8
	MOVQ   CX, DX
	SHRQ   $6, CX
	JZ     relubz32

relubzloop:
	VCMPPS    $1, (BX), Z8, K1
	VCMPPS    $1, 64(BX), Z8, K2
	VCMPPS    $1, 128(BX), Z8, K3
	VCMPPS    $1, 192(BX), Z8, K4
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z 64(SI), K2, Z1
	VMOVUPS.Z 128(SI), K3, Z2
	VMOVUPS.Z 192(SI), K4, Z3
	VMOVUPS   Z0, (DI)
	VMOVUPS   Z1, 64(DI)
	VMOVUPS   Z2, 128(DI)
	VMOVUPS   Z3, 192(DI)
	ADDQ      $256, SI
	ADDQ      $256, DI
	ADDQ      $256, BX
	DECQ      CX
	JNZ       relubzloop

relubz32:
	TESTQ     $32, DX
	JZ        relubzdone
	VCMPPS    $1, (BX), Z8, K1
	VCMPPS    $1, 64(BX), Z8, K2
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z 64(SI), K2, Z1
	VMOVUPS   Z0, (DI)
	VMOVUPS   Z1, 64(DI)

relubzdone:
	VZEROUPPER
	RET

// func reluBackwardAddZ(n int, dx, dy, y *float32)
// dx += (0 < y ? dy : +0), as reluBackwardAddK.
TEXT ·reluBackwardAddZ(SB), NOSPLIT, $0-32
	MOVQ   n+0(FP), CX
	MOVQ   dx+8(FP), DI
	MOVQ   dy+16(FP), SI
	MOVQ   y+24(FP), BX
	VPXORD Z8, Z8, Z8
	MOVQ   CX, DX
	SHRQ   $6, CX
	JZ     reluaz32

reluazloop:
	VCMPPS    $1, (BX), Z8, K1
	VCMPPS    $1, 64(BX), Z8, K2
	VCMPPS    $1, 128(BX), Z8, K3
	VCMPPS    $1, 192(BX), Z8, K4
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z 64(SI), K2, Z1
	VMOVUPS.Z 128(SI), K3, Z2
	VMOVUPS.Z 192(SI), K4, Z3
	VADDPS    (DI), Z0, Z0
	VADDPS    64(DI), Z1, Z1
	VADDPS    128(DI), Z2, Z2
	VADDPS    192(DI), Z3, Z3
	VMOVUPS   Z0, (DI)
	VMOVUPS   Z1, 64(DI)
	VMOVUPS   Z2, 128(DI)
	VMOVUPS   Z3, 192(DI)
	ADDQ      $256, SI
	ADDQ      $256, DI
	ADDQ      $256, BX
	DECQ      CX
	JNZ       reluazloop

reluaz32:
	TESTQ     $32, DX
	JZ        reluazdone
	VCMPPS    $1, (BX), Z8, K1
	VCMPPS    $1, 64(BX), Z8, K2
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z 64(SI), K2, Z1
	VADDPS    (DI), Z0, Z0
	VADDPS    64(DI), Z1, Z1
	VMOVUPS   Z0, (DI)
	VMOVUPS   Z1, 64(DI)

reluazdone:
	VZEROUPPER
	RET

// func scaleShiftReluZ(n int, y, x *float32, a, b float32)
// y = max(x*a + b, 0), as scaleShiftReluK.
TEXT ·scaleShiftReluZ(SB), NOSPLIT, $0-32
	MOVQ         n+0(FP), CX
	MOVQ         y+8(FP), DI
	MOVQ         x+16(FP), SI
	VBROADCASTSS a+24(FP), Z8
	VBROADCASTSS b+28(FP), Z9
	VPXORD       Z10, Z10, Z10
	MOVQ         CX, DX
	SHRQ         $6, CX
	JZ           ssrz32

ssrzloop:
	VMULPS  (SI), Z8, Z0
	VMULPS  64(SI), Z8, Z1
	VMULPS  128(SI), Z8, Z2
	VMULPS  192(SI), Z8, Z3
	VADDPS  Z9, Z0, Z0
	VADDPS  Z9, Z1, Z1
	VADDPS  Z9, Z2, Z2
	VADDPS  Z9, Z3, Z3
	VMAXPS  Z0, Z10, Z0
	VMAXPS  Z1, Z10, Z1
	VMAXPS  Z2, Z10, Z2
	VMAXPS  Z3, Z10, Z3
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	ADDQ    $256, SI
	ADDQ    $256, DI
	DECQ    CX
	JNZ     ssrzloop

ssrz32:
	TESTQ   $32, DX
	JZ      ssrzdone
	VMULPS  (SI), Z8, Z0
	VMULPS  64(SI), Z8, Z1
	VADDPS  Z9, Z0, Z0
	VADDPS  Z9, Z1, Z1
	VMAXPS  Z0, Z10, Z0
	VMAXPS  Z1, Z10, Z1
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)

ssrzdone:
	VZEROUPPER
	RET

// func scaleShiftPlanesZ(planes, n32 int, y, x *float32, stride int, a, b float32)
// scaleShiftPlanesK with AVX-512.
TEXT ·scaleShiftPlanesZ(SB), NOSPLIT, $0-48
	MOVQ         planes+0(FP), R9
	MOVQ         y+16(FP), R10
	MOVQ         x+24(FP), R11
	MOVQ         stride+32(FP), R8
	SHLQ         $2, R8
	VBROADCASTSS a+40(FP), Z8
	VBROADCASTSS b+44(FP), Z9
	MOVQ         n32+8(FP), DX

sszplane:
	MOVQ R10, DI
	MOVQ R11, SI
	MOVQ DX, CX
	SHRQ $1, CX
	JZ   ssz32

sszloop:
	VMULPS  (SI), Z8, Z0
	VMULPS  64(SI), Z8, Z1
	VMULPS  128(SI), Z8, Z2
	VMULPS  192(SI), Z8, Z3
	VADDPS  Z9, Z0, Z0
	VADDPS  Z9, Z1, Z1
	VADDPS  Z9, Z2, Z2
	VADDPS  Z9, Z3, Z3
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	ADDQ    $256, SI
	ADDQ    $256, DI
	DECQ    CX
	JNZ     sszloop

ssz32:
	TESTQ   $1, DX
	JZ      ssznext
	VMULPS  (SI), Z8, Z0
	VMULPS  64(SI), Z8, Z1
	VADDPS  Z9, Z0, Z0
	VADDPS  Z9, Z1, Z1
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)

ssznext:
	ADDQ R8, R10
	ADDQ R8, R11
	DECQ R9
	JNZ  sszplane
	VZEROUPPER
	RET

// AFFINE2(off) computes t = (x*a + b) + k*g for the 32 elements at byte
// offset off (x at SI, g at BX) into Z0, Z1, as affineAxpyPlanesK.
#define AFFINE2(off) \
	VMULPS off(SI), Z8, Z0 \
	VMULPS off+64(SI), Z8, Z1 \
	VMULPS off(BX), Z10, Z4 \
	VMULPS off+64(BX), Z10, Z5 \
	VADDPS Z9, Z0, Z0 \
	VADDPS Z9, Z1, Z1 \
	VADDPS Z4, Z0, Z0 \
	VADDPS Z5, Z1, Z1

// func affineAxpyPlanesZ(planes, n32 int, dst, x, gy *float32, stride int, a, b, k float32, add bool)
// affineAxpyPlanesK with AVX-512.
TEXT ·affineAxpyPlanesZ(SB), NOSPLIT, $0-61
	MOVQ         planes+0(FP), R9
	MOVQ         dst+16(FP), R10
	MOVQ         x+24(FP), R11
	MOVQ         gy+32(FP), R12
	MOVQ         stride+40(FP), R8
	SHLQ         $2, R8
	VBROADCASTSS a+48(FP), Z8
	VBROADCASTSS b+52(FP), Z9
	VBROADCASTSS k+56(FP), Z10
	MOVBLZX      add+60(FP), AX
	MOVQ         n32+8(FP), DX

aazplane:
	MOVQ  R10, DI
	MOVQ  R11, SI
	MOVQ  R12, BX
	MOVQ  DX, CX
	TESTQ AX, AX
	JNZ   aazadd

aazset:
	AFFINE2(0)
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	ADDQ    $128, SI
	ADDQ    $128, BX
	ADDQ    $128, DI
	DECQ    CX
	JNZ     aazset
	JMP     aaznext

aazadd:
	AFFINE2(0)
	VADDPS  (DI), Z0, Z0
	VADDPS  64(DI), Z1, Z1
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	ADDQ    $128, SI
	ADDQ    $128, BX
	ADDQ    $128, DI
	DECQ    CX
	JNZ     aazadd

aaznext:
	ADDQ R8, R10
	ADDQ R8, R11
	ADDQ R8, R12
	DECQ R9
	JNZ  aazplane
	VZEROUPPER
	RET

// The plane reductions sum each plane as momentsPlanesK and dotDevPlanesK
// do (16 float32 partials from +0, element i to partial i mod 16 in index
// order, then float64(p[l]) added to sum l plane after plane), two planes
// at a time in separate registers so that their addition chains overlap;
// the float64 sums stay in Z20-Z23 until the end. The last n mod 16
// elements of a plane are read with the mask tail (t low one bits, 0 when
// none), lanes past them contributing +0 as in the AVX2 loops.

// FOLD adds the 16 float32 partials of zp (yp: its low half) to the float64
// sums lo (lanes 0-7) and hi (lanes 8-15).
#define FOLD(zp, yp, lo, hi) \
	VCVTPS2PD     yp, Z12 \
	VADDPD        lo, Z12, lo \
	VEXTRACTF64X4 $1, zp, Y13 \
	VCVTPS2PD     Y13, Z13 \
	VADDPD        hi, Z13, hi

// MPSTEP: d = x - k from src; s += d; q += d*d.
#define MPSTEP(src, zx, zs, zq) \
	VMOVUPS src, zx \
	VSUBPS  Z14, zx, zx \
	VADDPS  zx, zs, zs \
	VMULPS  zx, zx, zx \
	VADDPS  zx, zq, zq

#define MPTAIL(src, zx, zs, zq) \
	VMOVUPS.Z src, K1, zx \
	VSUBPS.Z  Z14, zx, K1, zx \
	VADDPS    zx, zs, zs \
	VMULPS    zx, zx, zx \
	VADDPS    zx, zq, zq

// func momentsPlanesZ(planes, n16 int, x *float32, stride int, k float32, tail uint64, s, q *[16]float64)
// momentsPlanesK with AVX-512 (planes >= 1, 16*n16 + t >= 1).
TEXT ·momentsPlanesZ(SB), NOSPLIT, $0-64
	MOVQ         planes+0(FP), R9
	MOVQ         n16+8(FP), DX
	MOVQ         x+16(FP), SI
	MOVQ         stride+24(FP), R8
	SHLQ         $2, R8
	VBROADCASTSS k+32(FP), Z14
	MOVQ         tail+40(FP), R10
	KMOVW        R10, K1
	MOVQ         s+48(FP), DI
	MOVQ         q+56(FP), R11
	VMOVUPD      (DI), Z20
	VMOVUPD      64(DI), Z21
	VMOVUPD      (R11), Z22
	VMOVUPD      64(R11), Z23
	CMPQ         R9, $2
	JLT          mpzsingle

mpzpair:
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	MOVQ   SI, AX
	LEAQ   (SI)(R8*1), BX
	MOVQ   DX, CX
	TESTQ  CX, CX
	JZ     mpzpairtail

mpzpairloop:
	MPSTEP((AX), Z8, Z0, Z1)
	MPSTEP((BX), Z9, Z2, Z3)
	ADDQ $64, AX
	ADDQ $64, BX
	DECQ CX
	JNZ  mpzpairloop

mpzpairtail:
	TESTQ R10, R10
	JZ    mpzpairfold
	MPTAIL((AX), Z8, Z0, Z1)
	MPTAIL((BX), Z9, Z2, Z3)

mpzpairfold:
	FOLD(Z0, Y0, Z20, Z21)
	FOLD(Z1, Y1, Z22, Z23)
	FOLD(Z2, Y2, Z20, Z21)
	FOLD(Z3, Y3, Z22, Z23)
	LEAQ (SI)(R8*2), SI
	SUBQ $2, R9
	CMPQ R9, $2
	JGE  mpzpair

mpzsingle:
	TESTQ  R9, R9
	JZ     mpzdone
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	MOVQ   SI, AX
	MOVQ   DX, CX
	TESTQ  CX, CX
	JZ     mpzsingletail

mpzsingleloop:
	MPSTEP((AX), Z8, Z0, Z1)
	ADDQ $64, AX
	DECQ CX
	JNZ  mpzsingleloop

mpzsingletail:
	TESTQ R10, R10
	JZ    mpzsinglefold
	MPTAIL((AX), Z8, Z0, Z1)

mpzsinglefold:
	FOLD(Z0, Y0, Z20, Z21)
	FOLD(Z1, Y1, Z22, Z23)

mpzdone:
	VMOVUPD Z20, (DI)
	VMOVUPD Z21, 64(DI)
	VMOVUPD Z22, (R11)
	VMOVUPD Z23, 64(R11)
	VZEROUPPER
	RET

// DDSTEP: a += g; b += g*(x - m) (g from gsrc, x from xsrc).
#define DDSTEP(gsrc, xsrc, zg, zx, za, zb) \
	VMOVUPS gsrc, zg \
	VMOVUPS xsrc, zx \
	VADDPS  zg, za, za \
	VSUBPS  Z14, zx, zx \
	VMULPS  zx, zg, zg \
	VADDPS  zg, zb, zb

#define DDTAIL(gsrc, xsrc, zg, zx, za, zb) \
	VMOVUPS.Z gsrc, K1, zg \
	VMOVUPS.Z xsrc, K1, zx \
	VADDPS    zg, za, za \
	VSUBPS    Z14, zx, zx \
	VMULPS    zx, zg, zg \
	VADDPS    zg, zb, zb

// func dotDevPlanesZ(planes, n16 int, dy, x *float32, stride int, m float32, tail uint64, a, b *[16]float64)
// dotDevPlanesK with AVX-512 (planes >= 1, 16*n16 + t >= 1).
TEXT ·dotDevPlanesZ(SB), NOSPLIT, $0-72
	MOVQ         planes+0(FP), R9
	MOVQ         n16+8(FP), DX
	MOVQ         dy+16(FP), SI
	MOVQ         x+24(FP), BX
	MOVQ         stride+32(FP), R8
	SHLQ         $2, R8
	VBROADCASTSS m+40(FP), Z14
	MOVQ         tail+48(FP), R10
	KMOVW        R10, K1
	MOVQ         a+56(FP), DI
	MOVQ         b+64(FP), R11
	VMOVUPD      (DI), Z20
	VMOVUPD      64(DI), Z21
	VMOVUPD      (R11), Z22
	VMOVUPD      64(R11), Z23
	CMPQ         R9, $2
	JLT          ddzsingle

ddzpair:
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	LEAQ   (SI)(R8*1), R12
	LEAQ   (BX)(R8*1), R13
	XORQ   AX, AX
	MOVQ   DX, CX
	TESTQ  CX, CX
	JZ     ddzpairtail

ddzpairloop:
	DDSTEP((SI)(AX*1), (BX)(AX*1), Z8, Z10, Z0, Z1)
	DDSTEP((R12)(AX*1), (R13)(AX*1), Z9, Z11, Z2, Z3)
	ADDQ $64, AX
	DECQ CX
	JNZ  ddzpairloop

ddzpairtail:
	TESTQ R10, R10
	JZ    ddzpairfold
	DDTAIL((SI)(AX*1), (BX)(AX*1), Z8, Z10, Z0, Z1)
	DDTAIL((R12)(AX*1), (R13)(AX*1), Z9, Z11, Z2, Z3)

ddzpairfold:
	FOLD(Z0, Y0, Z20, Z21)
	FOLD(Z1, Y1, Z22, Z23)
	FOLD(Z2, Y2, Z20, Z21)
	FOLD(Z3, Y3, Z22, Z23)
	LEAQ (SI)(R8*2), SI
	LEAQ (BX)(R8*2), BX
	SUBQ $2, R9
	CMPQ R9, $2
	JGE  ddzpair

ddzsingle:
	TESTQ  R9, R9
	JZ     ddzdone
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	XORQ   AX, AX
	MOVQ   DX, CX
	TESTQ  CX, CX
	JZ     ddzsingletail

ddzsingleloop:
	DDSTEP((SI)(AX*1), (BX)(AX*1), Z8, Z10, Z0, Z1)
	ADDQ $64, AX
	DECQ CX
	JNZ  ddzsingleloop

ddzsingletail:
	TESTQ R10, R10
	JZ    ddzsinglefold
	DDTAIL((SI)(AX*1), (BX)(AX*1), Z8, Z10, Z0, Z1)

ddzsinglefold:
	FOLD(Z0, Y0, Z20, Z21)
	FOLD(Z1, Y1, Z22, Z23)

ddzdone:
	VMOVUPD Z20, (DI)
	VMOVUPD Z21, 64(DI)
	VMOVUPD Z22, (R11)
	VMOVUPD Z23, 64(R11)
	VZEROUPPER
	RET
