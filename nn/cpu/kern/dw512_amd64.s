//go:build amd64 && !purego

#include "textflag.h"

// Go assembler operand order: VFMADD231PS b, a, acc computes acc += a*b.

// func dwTilesZ(shape, nr int, src *float32, ss int, offs *int, ntaps int, wts *float32, dst *float32, ds int, add bool)
// AVX-512 form of dwTilesK over tiles of 16-float vectors, stacked down nr
// times: for every element (r, i) of the tiles, v = Σ_t wts[t]·src[r*ss +
// i + offs[t]], t summed in order from zero with FMA, then dst[r*ds + i] = v
// (or dst += v when add). Each element gets the operations of dwTilesK in
// the same order, so the two give the same bits. shape gives the tile's
// rows × vectors: 0: 8×2, 1: 8×1, 2: 1×2, 3: 1×1 (ntaps >= 1, nr >= 1).
TEXT ·dwTilesZ(SB), NOSPLIT, $0-73
	MOVQ    nr+8(FP), R8
	MOVQ    src+16(FP), SI
	MOVQ    ss+24(FP), BX
	SHLQ    $2, BX
	MOVQ    dst+56(FP), DI
	MOVQ    ds+64(FP), R13
	SHLQ    $2, R13
	MOVBLZX add+72(FP), R9
	LEAQ    (BX)(BX*2), R10
	MOVQ    shape+0(FP), AX
	CMPQ    AX, $0
	JEQ     dwz82
	CMPQ    AX, $1
	JEQ     dwz81
	CMPQ    AX, $2
	JEQ     dwz12
	JMP     dwz11

dwz82:
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	MOVQ   offs+32(FP), R11
	MOVQ   wts+48(FP), R12
	MOVQ   ntaps+40(FP), CX

dwz82tap:
	VBROADCASTSS (R12), Z31
	MOVQ         (R11), AX
	LEAQ         (SI)(AX*4), AX
	LEAQ         (AX)(BX*4), DX
	VFMADD231PS  (AX), Z31, Z0
	VFMADD231PS  64(AX), Z31, Z1
	VFMADD231PS  (AX)(BX*1), Z31, Z2
	VFMADD231PS  64(AX)(BX*1), Z31, Z3
	VFMADD231PS  (AX)(BX*2), Z31, Z4
	VFMADD231PS  64(AX)(BX*2), Z31, Z5
	VFMADD231PS  (AX)(R10*1), Z31, Z6
	VFMADD231PS  64(AX)(R10*1), Z31, Z7
	VFMADD231PS  (DX), Z31, Z8
	VFMADD231PS  64(DX), Z31, Z9
	VFMADD231PS  (DX)(BX*1), Z31, Z10
	VFMADD231PS  64(DX)(BX*1), Z31, Z11
	VFMADD231PS  (DX)(BX*2), Z31, Z12
	VFMADD231PS  64(DX)(BX*2), Z31, Z13
	VFMADD231PS  (DX)(R10*1), Z31, Z14
	VFMADD231PS  64(DX)(R10*1), Z31, Z15
	ADDQ         $8, R11
	ADDQ         $4, R12
	DECQ         CX
	JNZ          dwz82tap
	LEAQ         (R13)(R13*2), R10
	MOVQ         DI, AX
	LEAQ         (DI)(R13*4), DX
	TESTQ        R9, R9
	JZ           dwz82st
	VADDPS       (AX), Z0, Z0
	VADDPS       64(AX), Z1, Z1
	VADDPS       (AX)(R13*1), Z2, Z2
	VADDPS       64(AX)(R13*1), Z3, Z3
	VADDPS       (AX)(R13*2), Z4, Z4
	VADDPS       64(AX)(R13*2), Z5, Z5
	VADDPS       (AX)(R10*1), Z6, Z6
	VADDPS       64(AX)(R10*1), Z7, Z7
	VADDPS       (DX), Z8, Z8
	VADDPS       64(DX), Z9, Z9
	VADDPS       (DX)(R13*1), Z10, Z10
	VADDPS       64(DX)(R13*1), Z11, Z11
	VADDPS       (DX)(R13*2), Z12, Z12
	VADDPS       64(DX)(R13*2), Z13, Z13
	VADDPS       (DX)(R10*1), Z14, Z14
	VADDPS       64(DX)(R10*1), Z15, Z15

dwz82st:
	VMOVUPS      Z0, (AX)
	VMOVUPS      Z1, 64(AX)
	VMOVUPS      Z2, (AX)(R13*1)
	VMOVUPS      Z3, 64(AX)(R13*1)
	VMOVUPS      Z4, (AX)(R13*2)
	VMOVUPS      Z5, 64(AX)(R13*2)
	VMOVUPS      Z6, (AX)(R10*1)
	VMOVUPS      Z7, 64(AX)(R10*1)
	VMOVUPS      Z8, (DX)
	VMOVUPS      Z9, 64(DX)
	VMOVUPS      Z10, (DX)(R13*1)
	VMOVUPS      Z11, 64(DX)(R13*1)
	VMOVUPS      Z12, (DX)(R13*2)
	VMOVUPS      Z13, 64(DX)(R13*2)
	VMOVUPS      Z14, (DX)(R10*1)
	VMOVUPS      Z15, 64(DX)(R10*1)
	LEAQ         (BX)(BX*2), R10
	LEAQ         (SI)(BX*8), SI
	LEAQ         (DI)(R13*8), DI
	DECQ         R8
	JNZ          dwz82
	JMP          dwzdone

dwz81:
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	MOVQ   offs+32(FP), R11
	MOVQ   wts+48(FP), R12
	MOVQ   ntaps+40(FP), CX

dwz81tap:
	VBROADCASTSS (R12), Z31
	MOVQ         (R11), AX
	LEAQ         (SI)(AX*4), AX
	LEAQ         (AX)(BX*4), DX
	VFMADD231PS  (AX), Z31, Z0
	VFMADD231PS  (AX)(BX*1), Z31, Z1
	VFMADD231PS  (AX)(BX*2), Z31, Z2
	VFMADD231PS  (AX)(R10*1), Z31, Z3
	VFMADD231PS  (DX), Z31, Z4
	VFMADD231PS  (DX)(BX*1), Z31, Z5
	VFMADD231PS  (DX)(BX*2), Z31, Z6
	VFMADD231PS  (DX)(R10*1), Z31, Z7
	ADDQ         $8, R11
	ADDQ         $4, R12
	DECQ         CX
	JNZ          dwz81tap
	LEAQ         (R13)(R13*2), R10
	MOVQ         DI, AX
	LEAQ         (DI)(R13*4), DX
	TESTQ        R9, R9
	JZ           dwz81st
	VADDPS       (AX), Z0, Z0
	VADDPS       (AX)(R13*1), Z1, Z1
	VADDPS       (AX)(R13*2), Z2, Z2
	VADDPS       (AX)(R10*1), Z3, Z3
	VADDPS       (DX), Z4, Z4
	VADDPS       (DX)(R13*1), Z5, Z5
	VADDPS       (DX)(R13*2), Z6, Z6
	VADDPS       (DX)(R10*1), Z7, Z7

dwz81st:
	VMOVUPS      Z0, (AX)
	VMOVUPS      Z1, (AX)(R13*1)
	VMOVUPS      Z2, (AX)(R13*2)
	VMOVUPS      Z3, (AX)(R10*1)
	VMOVUPS      Z4, (DX)
	VMOVUPS      Z5, (DX)(R13*1)
	VMOVUPS      Z6, (DX)(R13*2)
	VMOVUPS      Z7, (DX)(R10*1)
	LEAQ         (BX)(BX*2), R10
	LEAQ         (SI)(BX*8), SI
	LEAQ         (DI)(R13*8), DI
	DECQ         R8
	JNZ          dwz81
	JMP          dwzdone

dwz12:
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	MOVQ   offs+32(FP), R11
	MOVQ   wts+48(FP), R12
	MOVQ   ntaps+40(FP), CX

dwz12tap:
	VBROADCASTSS (R12), Z31
	MOVQ         (R11), AX
	LEAQ         (SI)(AX*4), AX
	VFMADD231PS  (AX), Z31, Z0
	VFMADD231PS  64(AX), Z31, Z1
	ADDQ         $8, R11
	ADDQ         $4, R12
	DECQ         CX
	JNZ          dwz12tap
	MOVQ         DI, AX
	TESTQ        R9, R9
	JZ           dwz12st
	VADDPS       (AX), Z0, Z0
	VADDPS       64(AX), Z1, Z1

dwz12st:
	VMOVUPS      Z0, (AX)
	VMOVUPS      Z1, 64(AX)
	ADDQ         BX, SI
	ADDQ         R13, DI
	DECQ         R8
	JNZ          dwz12
	JMP          dwzdone

dwz11:
	VPXORD Z0, Z0, Z0
	MOVQ   offs+32(FP), R11
	MOVQ   wts+48(FP), R12
	MOVQ   ntaps+40(FP), CX

dwz11tap:
	VBROADCASTSS (R12), Z31
	MOVQ         (R11), AX
	LEAQ         (SI)(AX*4), AX
	VFMADD231PS  (AX), Z31, Z0
	ADDQ         $8, R11
	ADDQ         $4, R12
	DECQ         CX
	JNZ          dwz11tap
	MOVQ         DI, AX
	TESTQ        R9, R9
	JZ           dwz11st
	VADDPS       (AX), Z0, Z0

dwz11st:
	VMOVUPS      Z0, (AX)
	ADDQ         BX, SI
	ADDQ         R13, DI
	DECQ         R8
	JNZ          dwz11
	JMP          dwzdone

dwzdone:
	VZEROUPPER
	RET

// func copyRowsZ(rows, w16 int, tail uint64, src *float32, sstride int, dst *float32, dstride int, add bool)
// AVX-512 copyRowsK: for r < rows, dst[r*dstride + i] = src[r*sstride + i]
// (or += when add) for i < 16*w16 + t, where tail holds t low one bits (t <
// 16); the tail is read and written with masked moves.
TEXT ·copyRowsZ(SB), NOSPLIT, $0-57
	MOVQ    rows+0(FP), CX
	MOVQ    tail+16(FP), DX
	KMOVW   DX, K1
	MOVQ    src+24(FP), SI
	MOVQ    sstride+32(FP), R8
	SHLQ    $2, R8
	MOVQ    dst+40(FP), DI
	MOVQ    dstride+48(FP), R9
	SHLQ    $2, R9
	MOVBLZX add+56(FP), R12
	TESTQ   R12, R12
	JNZ     crzadd

crzrow:
	MOVQ  w16+8(FP), BX
	XORQ  AX, AX // byte offset in the row
	TESTQ BX, BX
	JZ    crztail

crzvec:
	VMOVUPS (SI)(AX*1), Z0
	VMOVUPS Z0, (DI)(AX*1)
	ADDQ    $64, AX
	DECQ    BX
	JNZ     crzvec

crztail:
	TESTQ     DX, DX
	JZ        crznext
	VMOVUPS.Z (SI)(AX*1), K1, Z0
	VMOVUPS   Z0, K1, (DI)(AX*1)

crznext:
	ADDQ R8, SI
	ADDQ R9, DI
	DECQ CX
	JNZ  crzrow
	VZEROUPPER
	RET

crzadd:
	MOVQ  w16+8(FP), BX
	XORQ  AX, AX
	TESTQ BX, BX
	JZ    crzatail

crzavec:
	VMOVUPS (SI)(AX*1), Z0
	VADDPS  (DI)(AX*1), Z0, Z0
	VMOVUPS Z0, (DI)(AX*1)
	ADDQ    $64, AX
	DECQ    BX
	JNZ     crzavec

crzatail:
	TESTQ     DX, DX
	JZ        crzanext
	VMOVUPS.Z (SI)(AX*1), K1, Z0
	VMOVUPS.Z (DI)(AX*1), K1, Z1
	VADDPS    Z1, Z0, Z0
	VMOVUPS   Z0, K1, (DI)(AX*1)

crzanext:
	ADDQ R8, SI
	ADDQ R9, DI
	DECQ CX
	JNZ  crzadd
	VZEROUPPER
	RET

// Indices of the even and of the odd elements of a 32-element table.
DATA dilidx<>+0(SB)/4, $0
DATA dilidx<>+4(SB)/4, $2
DATA dilidx<>+8(SB)/4, $4
DATA dilidx<>+12(SB)/4, $6
DATA dilidx<>+16(SB)/4, $8
DATA dilidx<>+20(SB)/4, $10
DATA dilidx<>+24(SB)/4, $12
DATA dilidx<>+28(SB)/4, $14
DATA dilidx<>+32(SB)/4, $16
DATA dilidx<>+36(SB)/4, $18
DATA dilidx<>+40(SB)/4, $20
DATA dilidx<>+44(SB)/4, $22
DATA dilidx<>+48(SB)/4, $24
DATA dilidx<>+52(SB)/4, $26
DATA dilidx<>+56(SB)/4, $28
DATA dilidx<>+60(SB)/4, $30
DATA dilidx<>+64(SB)/4, $1
DATA dilidx<>+68(SB)/4, $3
DATA dilidx<>+72(SB)/4, $5
DATA dilidx<>+76(SB)/4, $7
DATA dilidx<>+80(SB)/4, $9
DATA dilidx<>+84(SB)/4, $11
DATA dilidx<>+88(SB)/4, $13
DATA dilidx<>+92(SB)/4, $15
DATA dilidx<>+96(SB)/4, $17
DATA dilidx<>+100(SB)/4, $19
DATA dilidx<>+104(SB)/4, $21
DATA dilidx<>+108(SB)/4, $23
DATA dilidx<>+112(SB)/4, $25
DATA dilidx<>+116(SB)/4, $27
DATA dilidx<>+120(SB)/4, $29
DATA dilidx<>+124(SB)/4, $31
GLOBL dilidx<>(SB), RODATA|NOPTR, $128

// func deinterleaveZ(rows, n32 int, src *float32, ss int, even, odd *float32, ds int)
// AVX-512 deinterleaveK: for r < rows, even[r*ds+j] = src[r*ss+2j] and
// odd[r*ds+j] = src[r*ss+2j+1] for j < 16*n32 (rows, n32 >= 1).
TEXT ·deinterleaveZ(SB), NOSPLIT, $0-56
	MOVQ    rows+0(FP), R8
	MOVQ    src+16(FP), SI
	MOVQ    ss+24(FP), R9
	SHLQ    $2, R9
	MOVQ    even+32(FP), DI
	MOVQ    odd+40(FP), DX
	MOVQ    ds+48(FP), R10
	SHLQ    $2, R10
	VMOVUPS dilidx<>+0(SB), Z30
	VMOVUPS dilidx<>+64(SB), Z31

dilzrow:
	MOVQ n32+8(FP), CX
	XORQ AX, AX // byte offset in the source row
	XORQ BX, BX // byte offset in the destination rows

dilzloop:
	VMOVUPS   (SI)(AX*1), Z0
	VMOVUPS   64(SI)(AX*1), Z1
	VMOVAPS   Z0, Z2
	VPERMT2PS Z1, Z30, Z2
	VPERMT2PS Z1, Z31, Z0
	VMOVUPS   Z2, (DI)(BX*1)
	VMOVUPS   Z0, (DX)(BX*1)
	ADDQ      $128, AX
	ADDQ      $64, BX
	DECQ      CX
	JNZ       dilzloop
	ADDQ      R9, SI
	ADDQ      R10, DI
	ADDQ      R10, DX
	DECQ      R8
	JNZ       dilzrow
	VZEROUPPER
	RET

// func dwDotsZ(rows, w16 int, x *float32, xs int, src *float32, ss int, offs *int, ntaps int, out *float32)
// AVX-512 dwDotsK over 16-float vectors: out[t] = Σ_{r<rows, i<16*w16}
// x[r*xs+i]·src[r*ss+i+offs[t]] (rows, w16, ntaps >= 1). Per tap,
// accumulator A sums the even rows and B the odd rows, each row by row and
// vector by vector in order (lane l takes i ≡ l mod 16), then out[t] is the
// lane sum of A+B: lanes (l, l+8), then pairwise as HSUM. Taps go four at a
// time sharing the loads of x, then one at a time.
#define DZ_ZERO \
	VPXORD Z0, Z0, Z0 \
	VPXORD Z1, Z1, Z1 \
	VPXORD Z2, Z2, Z2 \
	VPXORD Z3, Z3, Z3 \
	VPXORD Z4, Z4, Z4 \
	VPXORD Z5, Z5, Z5 \
	VPXORD Z6, Z6, Z6 \
	VPXORD Z7, Z7, Z7

#define DZ_FMA4(xv, col, a0, a1, a2, a3) \
	VFMADD231PS (AX)(col*1), xv, a0 \
	VFMADD231PS (BX)(col*1), xv, a1 \
	VFMADD231PS (DX)(col*1), xv, a2 \
	VFMADD231PS (SI)(col*1), xv, a3

// DZ_OUT stores the lane sum of a+b (a, b: Z registers; ya, yt, xa, xt: the
// Y and X forms of a and of a scratch register).
#define DZ_OUT(a, b, ya, yt, xa, xt, dst) \
	VADDPS         a, b, a \
	VEXTRACTF64X4  $1, a, yt \
	VADDPS         yt, ya, ya \
	VEXTRACTF128   $1, ya, xt \
	VADDPS         xt, xa, xa \
	VHADDPS        xa, xa, xa \
	VHADDPS        xa, xa, xa \
	VMOVSS         xa, dst

TEXT ·dwDotsZ(SB), NOSPLIT, $24-72
	MOVQ xs+24(FP), R13
	SHLQ $2, R13
	MOVQ ss+40(FP), R12
	SHLQ $2, R12
	MOVQ offs+48(FP), AX
	MOVQ AX, offp-8(SP)
	MOVQ ntaps+56(FP), AX
	MOVQ AX, left-16(SP)
	MOVQ out+64(FP), AX
	MOVQ AX, outp-24(SP)

dzdquad:
	CMPQ left-16(SP), $4
	JLT  dzdone
	MOVQ src+32(FP), CX
	MOVQ offp-8(SP), R8
	MOVQ (R8), AX
	LEAQ (CX)(AX*4), AX
	MOVQ 8(R8), BX
	LEAQ (CX)(BX*4), BX
	MOVQ 16(R8), DX
	LEAQ (CX)(DX*4), DX
	MOVQ 24(R8), SI
	LEAQ (CX)(SI*4), SI
	MOVQ x+16(FP), DI
	DZ_ZERO
	MOVQ rows+0(FP), R11

dzdqpair:
	CMPQ R11, $2
	JLT  dzdqlast
	XORQ CX, CX
	MOVQ R12, R8
	MOVQ R13, R9
	MOVQ w16+8(FP), R10

dzdqpcol:
	VMOVUPS (DI)(CX*1), Z8
	VMOVUPS (DI)(R9*1), Z9
	DZ_FMA4(Z8, CX, Z0, Z2, Z4, Z6)
	DZ_FMA4(Z9, R8, Z1, Z3, Z5, Z7)
	ADDQ    $64, CX
	ADDQ    $64, R8
	ADDQ    $64, R9
	DECQ    R10
	JNZ     dzdqpcol
	LEAQ    (AX)(R12*2), AX
	LEAQ    (BX)(R12*2), BX
	LEAQ    (DX)(R12*2), DX
	LEAQ    (SI)(R12*2), SI
	LEAQ    (DI)(R13*2), DI
	SUBQ    $2, R11
	JMP     dzdqpair

dzdqlast:
	TESTQ R11, R11
	JZ    dzdqout
	XORQ  CX, CX
	MOVQ  w16+8(FP), R10

dzdqlcol:
	VMOVUPS (DI)(CX*1), Z8
	DZ_FMA4(Z8, CX, Z0, Z2, Z4, Z6)
	ADDQ    $64, CX
	DECQ    R10
	JNZ     dzdqlcol

dzdqout:
	MOVQ outp-24(SP), R8
	DZ_OUT(Z0, Z1, Y0, Y1, X0, X1, (R8))
	DZ_OUT(Z2, Z3, Y2, Y3, X2, X3, 4(R8))
	DZ_OUT(Z4, Z5, Y4, Y5, X4, X5, 8(R8))
	DZ_OUT(Z6, Z7, Y6, Y7, X6, X7, 12(R8))
	ADDQ $16, outp-24(SP)
	ADDQ $32, offp-8(SP)
	SUBQ $4, left-16(SP)
	JMP  dzdquad

dzdone:
	CMPQ   left-16(SP), $0
	JEQ    dzddone
	MOVQ   src+32(FP), CX
	MOVQ   offp-8(SP), R8
	MOVQ   (R8), AX
	LEAQ   (CX)(AX*4), AX
	MOVQ   x+16(FP), DI
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	MOVQ   rows+0(FP), R11

dzdopair:
	CMPQ R11, $2
	JLT  dzdolast
	XORQ CX, CX
	LEAQ (AX)(R12*1), BX
	LEAQ (DI)(R13*1), DX
	MOVQ w16+8(FP), SI

dzdopcol:
	VMOVUPS     (DI)(CX*1), Z8
	VMOVUPS     (DX)(CX*1), Z9
	VFMADD231PS (AX)(CX*1), Z8, Z0
	VFMADD231PS (BX)(CX*1), Z9, Z1
	ADDQ        $64, CX
	DECQ        SI
	JNZ         dzdopcol
	LEAQ        (AX)(R12*2), AX
	LEAQ        (DI)(R13*2), DI
	SUBQ        $2, R11
	JMP         dzdopair

dzdolast:
	TESTQ R11, R11
	JZ    dzdoout
	XORQ  CX, CX
	MOVQ  w16+8(FP), SI

dzdolcol:
	VMOVUPS     (DI)(CX*1), Z8
	VFMADD231PS (AX)(CX*1), Z8, Z0
	ADDQ        $64, CX
	DECQ        SI
	JNZ         dzdolcol

dzdoout:
	MOVQ outp-24(SP), R8
	DZ_OUT(Z0, Z1, Y0, Y1, X0, X1, (R8))
	ADDQ $4, outp-24(SP)
	ADDQ $8, offp-8(SP)
	DECQ left-16(SP)
	JMP  dzdone

dzddone:
	VZEROUPPER
	RET

