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

// func sumK(n int, x *float32, p *[16]float64, squares bool)
// p[l] += x[i] (or x[i]²) for i ≡ l (mod 16), in index order, in float64.
TEXT ·sumK(SB), NOSPLIT, $0-25
	MOVQ    n+0(FP), CX
	MOVQ    x+8(FP), SI
	MOVQ    p+16(FP), DI
	VMOVUPD (DI), Y0
	VMOVUPD 32(DI), Y1
	VMOVUPD 64(DI), Y2
	VMOVUPD 96(DI), Y3
	MOVBLZX squares+24(FP), AX
	TESTQ   AX, AX
	JNZ     sumsq

sumloop:
	VCVTPS2PD (SI), Y4
	VCVTPS2PD 16(SI), Y5
	VCVTPS2PD 32(SI), Y6
	VCVTPS2PD 48(SI), Y7
	VADDPD    Y4, Y0, Y0
	VADDPD    Y5, Y1, Y1
	VADDPD    Y6, Y2, Y2
	VADDPD    Y7, Y3, Y3
	ADDQ      $64, SI
	SUBQ      $16, CX
	JNZ       sumloop
	JMP       sumdone

sumsq:
	VCVTPS2PD   (SI), Y4
	VCVTPS2PD   16(SI), Y5
	VCVTPS2PD   32(SI), Y6
	VCVTPS2PD   48(SI), Y7
	VFMADD231PD Y4, Y4, Y0
	VFMADD231PD Y5, Y5, Y1
	VFMADD231PD Y6, Y6, Y2
	VFMADD231PD Y7, Y7, Y3
	ADDQ        $64, SI
	SUBQ        $16, CX
	JNZ         sumsq

sumdone:
	VMOVUPD Y0, (DI)
	VMOVUPD Y1, 32(DI)
	VMOVUPD Y2, 64(DI)
	VMOVUPD Y3, 96(DI)
	VZEROUPPER
	RET

// func shiftedMomentsK(n int, x *float32, k float32, s, q *[16]float32)
// d = x[i]-k; s[i%16] += d; q[i%16] += d*d (multiply and add rounded
// separately), for i < n (n a multiple of 16); s and q start from their
// current values.
TEXT ·shiftedMomentsK(SB), NOSPLIT, $0-40
	MOVQ         n+0(FP), CX
	MOVQ         x+8(FP), SI
	VBROADCASTSS k+16(FP), Y8
	MOVQ         s+24(FP), DI
	MOVQ         q+32(FP), DX
	VMOVUPS      (DI), Y0
	VMOVUPS      32(DI), Y1
	VMOVUPS      (DX), Y2
	VMOVUPS      32(DX), Y3

smloop:
	VMOVUPS (SI), Y4
	VMOVUPS 32(SI), Y5
	VSUBPS  Y8, Y4, Y4
	VSUBPS  Y8, Y5, Y5
	VADDPS  Y4, Y0, Y0
	VADDPS  Y5, Y1, Y1
	VMULPS  Y4, Y4, Y4
	VMULPS  Y5, Y5, Y5
	VADDPS  Y4, Y2, Y2
	VADDPS  Y5, Y3, Y3
	ADDQ    $64, SI
	SUBQ    $16, CX
	JNZ     smloop
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, (DX)
	VMOVUPS Y3, 32(DX)
	VZEROUPPER
	RET

// func dotDevK(n int, dy, x *float32, m float32, a, b *[16]float32)
// a[i%16] += dy[i]; b[i%16] += dy[i]*(x[i]-m) (rounded separately), i < n
// (n a multiple of 16).
TEXT ·dotDevK(SB), NOSPLIT, $0-48
	MOVQ         n+0(FP), CX
	MOVQ         dy+8(FP), SI
	MOVQ         x+16(FP), BX
	VBROADCASTSS m+24(FP), Y8
	MOVQ         a+32(FP), DI
	MOVQ         b+40(FP), DX
	VMOVUPS      (DI), Y0
	VMOVUPS      32(DI), Y1
	VMOVUPS      (DX), Y2
	VMOVUPS      32(DX), Y3

ddloop:
	VMOVUPS (SI), Y4
	VMOVUPS 32(SI), Y5
	VMOVUPS (BX), Y6
	VMOVUPS 32(BX), Y7
	VADDPS  Y4, Y0, Y0
	VADDPS  Y5, Y1, Y1
	VSUBPS  Y8, Y6, Y6
	VSUBPS  Y8, Y7, Y7
	VMULPS  Y6, Y4, Y4
	VMULPS  Y7, Y5, Y5
	VADDPS  Y4, Y2, Y2
	VADDPS  Y5, Y3, Y3
	ADDQ    $64, SI
	ADDQ    $64, BX
	SUBQ    $16, CX
	JNZ     ddloop
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, (DX)
	VMOVUPS Y3, 32(DX)
	VZEROUPPER
	RET

// func scaleShiftK(n int, y, x *float32, a, b float32)
// y = x*a + b (rounded separately), n a multiple of 32.
TEXT ·scaleShiftK(SB), NOSPLIT, $0-32
	MOVQ         n+0(FP), CX
	MOVQ         y+8(FP), DI
	MOVQ         x+16(FP), SI
	VBROADCASTSS a+24(FP), Y8
	VBROADCASTSS b+28(FP), Y9

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
	SUBQ    $32, CX
	JNZ     ssloop
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

// func affineAxpyK(n int, dst, x, g *float32, a, b, k float32, add bool)
// t = (x*a + b) + k*g, every product and sum rounded on its own; dst = t,
// or dst += t when add. n a multiple of 32.
TEXT ·affineAxpyK(SB), NOSPLIT, $0-45
	MOVQ         n+0(FP), CX
	MOVQ         dst+8(FP), DI
	MOVQ         x+16(FP), SI
	MOVQ         gy+24(FP), DX
	VBROADCASTSS a+32(FP), Y8
	VBROADCASTSS b+36(FP), Y9
	VBROADCASTSS k+40(FP), Y10
	MOVBLZX      add+44(FP), AX
	TESTQ        AX, AX
	JNZ          aaaddloop

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
	SUBQ    $32, CX
	JNZ     aasetloop
	VZEROUPPER
	RET

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
	SUBQ    $32, CX
	JNZ     aaaddloop
	VZEROUPPER
	RET
