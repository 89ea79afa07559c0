//go:build amd64 && !purego

#include "textflag.h"

// Go assembler operand order: VPCMPGTD b, a, K computes K = a > b (signed).


// func maxKeysZ(rows, w16 int, tail uint64, x *float32, xs int, dst *int32, ds int)
// For r < rows, i < 16*w16 + t (tail holds t low one bits, t < 16):
// dst[r*ds+i] = max(key(x[r*xs+i]), MinInt32+1), where key(v) = v ^ ((v >> 31)
// & 0x7fffffff) on the bits of v (arithmetic shift): an int32 with the order
// of the floats (-0 < +0).
TEXT ·maxKeysZ(SB), NOSPLIT, $0-56
	MOVQ         rows+0(FP), CX
	MOVQ         tail+16(FP), DX
	KMOVW        DX, K1
	MOVQ         x+24(FP), SI
	MOVQ         xs+32(FP), R8
	SHLQ         $2, R8
	MOVQ         dst+40(FP), DI
	MOVQ         ds+48(FP), R9
	SHLQ         $2, R9
	MOVL         $0x7fffffff, AX
	VPBROADCASTD AX, Z29
	MOVL         $0x80000001, AX
	VPBROADCASTD AX, Z28

mkrow:
	MOVQ  w16+8(FP), BX
	XORQ  AX, AX
	TESTQ BX, BX
	JZ    mktail

mkvec:
	VMOVDQU32 (SI)(AX*1), Z0
	VPSRAD    $31, Z0, Z1
	VPANDD    Z29, Z1, Z1
	VPXORD    Z1, Z0, Z0
	VPMAXSD   Z28, Z0, Z0
	VMOVDQU32 Z0, (DI)(AX*1)
	ADDQ      $64, AX
	DECQ      BX
	JNZ       mkvec

mktail:
	TESTQ       DX, DX
	JZ          mknext
	VMOVDQU32.Z (SI)(AX*1), K1, Z0
	VPSRAD      $31, Z0, Z1
	VPANDD      Z29, Z1, Z1
	VPXORD      Z1, Z0, Z0
	VPMAXSD     Z28, Z0, Z0
	VMOVDQU32   Z0, K1, (DI)(AX*1)

mknext:
	ADDQ R8, SI
	ADDQ R9, DI
	DECQ CX
	JNZ  mkrow
	VZEROUPPER
	RET

// maxGeom (a Go struct of ints, by byte offset): 0 rs: bytes between the
// keys of consecutive output rows; 8 dys: bytes between the key rows of one
// window; 16 d1, 24 d2: bytes from a window's first column of keys to its
// second and third; 32 ib: input index step per output row; 40 ci: input
// index step per 16-output chunk; 48 ow: outputs per row. Key chunks are 64
// bytes apart.

// func maxArg3Z(oh, nc int, tail uint64, keys *int32, geo *maxGeom, offs *[9]int32, lanes *[16]int32, idx *int32)
// 3×3 arg-max over a key plane padded with MinInt32 (see maxKeyPlane): for
// oy < oh and ox in nc 16-output chunks (the last one's lanes limited by
// tail, 0xffff for a whole chunk), idx[oy*ow+ox] = oy*ib + (ox/16)*ci +
// lanes[ox%16] + offs[3*dy+dx] for the first (dy, dx) in row-major order
// whose key is the window's maximum (later taps replace the running maximum
// only when strictly greater); the window's keys are at keys + oy*rs +
// (ox/16)*64 + 4*(ox%16) + dy*dys + {0, d1, d2}[dx].
TEXT ·maxArg3Z(SB), NOSPLIT, $0-64
	MOVQ         keys+24(FP), SI
	MOVQ         geo+32(FP), DI
	MOVQ         8(DI), R8
	MOVQ         16(DI), R9
	MOVQ         offs+40(FP), AX
	VPBROADCASTD (AX), Z16
	VPBROADCASTD 4(AX), Z17
	VPBROADCASTD 8(AX), Z18
	VPBROADCASTD 12(AX), Z19
	VPBROADCASTD 16(AX), Z20
	VPBROADCASTD 20(AX), Z21
	VPBROADCASTD 24(AX), Z22
	VPBROADCASTD 28(AX), Z23
	VPBROADCASTD 32(AX), Z24
	MOVQ         lanes+48(FP), AX
	VMOVDQU32    (AX), Z25
	MOVQ         idx+56(FP), R13
	XORQ         R10, R10 // oy*ib
	MOVQ         oh+0(FP), R11

marow:
	XORQ R12, R12 // chunk
	MOVQ SI, BX   // keys of the chunk's window row 0

macol:
	MOVQ         geo+32(FP), DI
	MOVQ         40(DI), AX
	IMULQ        R12, AX
	ADDQ         R10, AX
	VPBROADCASTD AX, Z26
	VPADDD       Z25, Z26, Z26 // input index of each lane's output
	MOVQ         24(DI), AX    // d2
	LEAQ         (BX)(R8*1), CX
	LEAQ         (BX)(R8*2), DX
	// tap (0, 0)
	VMOVDQU32    (BX), Z0
	VPADDD       Z16, Z26, Z1
	// tap (0, 1)
	VMOVDQU32    (BX)(R9*1), Z2
	VPCMPGTD     Z0, Z2, K1
	VPMAXSD      Z2, Z0, Z0
	VPADDD       Z17, Z26, K1, Z1
	// tap (0, 2)
	VMOVDQU32    (BX)(AX*1), Z2
	VPCMPGTD     Z0, Z2, K1
	VPMAXSD      Z2, Z0, Z0
	VPADDD       Z18, Z26, K1, Z1
	// tap (1, 0)
	VMOVDQU32    (CX), Z2
	VPCMPGTD     Z0, Z2, K1
	VPMAXSD      Z2, Z0, Z0
	VPADDD       Z19, Z26, K1, Z1
	// tap (1, 1)
	VMOVDQU32    (CX)(R9*1), Z2
	VPCMPGTD     Z0, Z2, K1
	VPMAXSD      Z2, Z0, Z0
	VPADDD       Z20, Z26, K1, Z1
	// tap (1, 2)
	VMOVDQU32    (CX)(AX*1), Z2
	VPCMPGTD     Z0, Z2, K1
	VPMAXSD      Z2, Z0, Z0
	VPADDD       Z21, Z26, K1, Z1
	// tap (2, 0)
	VMOVDQU32    (DX), Z2
	VPCMPGTD     Z0, Z2, K1
	VPMAXSD      Z2, Z0, Z0
	VPADDD       Z22, Z26, K1, Z1
	// tap (2, 1)
	VMOVDQU32    (DX)(R9*1), Z2
	VPCMPGTD     Z0, Z2, K1
	VPMAXSD      Z2, Z0, Z0
	VPADDD       Z23, Z26, K1, Z1
	// tap (2, 2)
	VMOVDQU32    (DX)(AX*1), Z2
	VPCMPGTD     Z0, Z2, K1
	VPADDD       Z24, Z26, K1, Z1
	MOVQ         R12, DI
	SHLQ         $6, DI
	ADDQ         R13, DI
	INCQ         R12
	CMPQ         R12, nc+8(FP)
	JEQ          malast
	VMOVDQU32    Z1, (DI)
	ADDQ         $64, BX
	JMP          macol

malast:
	MOVQ      tail+16(FP), AX
	KMOVW     AX, K2
	VMOVDQU32 Z1, K2, (DI)
	MOVQ      geo+32(FP), DI
	ADDQ      (DI), SI
	ADDQ      32(DI), R10
	MOVQ      48(DI), AX
	LEAQ      (R13)(AX*4), R13
	DECQ      R11
	JNZ       marow
	VZEROUPPER
	RET

// func maxPool3Z(oh, nc int, tail uint64, keys *int32, geo *maxGeom, out *float32)
// 3×3 max over the key plane of maxArg3Z (same layout and chunks):
// out[oy*ow+ox] = the float whose key is the window's largest.
TEXT ·maxPool3Z(SB), NOSPLIT, $0-48
	MOVQ         keys+24(FP), SI
	MOVQ         geo+32(FP), DI
	MOVQ         8(DI), R8
	MOVQ         16(DI), R9
	MOVQ         out+40(FP), R13
	MOVQ         tail+16(FP), AX
	KMOVW        AX, K2
	MOVL         $0x7fffffff, AX
	VPBROADCASTD AX, Z29
	MOVQ         oh+0(FP), R11

mprow:
	XORQ R12, R12 // chunk
	MOVQ SI, BX

mpcol:
	MOVQ      geo+32(FP), DI
	MOVQ      24(DI), AX
	LEAQ      (BX)(R8*1), CX
	LEAQ      (BX)(R8*2), DX
	VMOVDQU32 (BX), Z0
	VPMAXSD   (BX)(R9*1), Z0, Z0
	VPMAXSD   (BX)(AX*1), Z0, Z0
	VPMAXSD   (CX), Z0, Z0
	VPMAXSD   (CX)(R9*1), Z0, Z0
	VPMAXSD   (CX)(AX*1), Z0, Z0
	VPMAXSD   (DX), Z0, Z0
	VPMAXSD   (DX)(R9*1), Z0, Z0
	VPMAXSD   (DX)(AX*1), Z0, Z0
	VPSRAD    $31, Z0, Z1
	VPANDD    Z29, Z1, Z1
	VPXORD    Z1, Z0, Z0
	MOVQ      R12, DI
	SHLQ      $6, DI
	ADDQ      R13, DI
	INCQ      R12
	CMPQ      R12, nc+8(FP)
	JEQ       mplast
	VMOVDQU32 Z0, (DI)
	ADDQ      $64, BX
	JMP       mpcol

mplast:
	VMOVDQU32 Z0, K2, (DI)
	MOVQ      geo+32(FP), DI
	ADDQ      (DI), SI
	MOVQ      48(DI), AX
	LEAQ      (R13)(AX*4), R13
	DECQ      R11
	JNZ       mprow
	VZEROUPPER
	RET

// func avgPool3Z(h, nc int, tail uint64, xp *float32, kp int, drow, dcol, out *float32, w int)
// 3×3 average (count_include_pad=False) over a plane zero-padded by one row
// and column on every side (pitch kp >= 16*nc+2; input (iy, ix) at
// xp[(iy+1)*kp+ix+1]), chunks as maxArg3Z: the row sums T = ((0 + a) + b)
// + c, then o = (T0 + T1) + T2, out[oy*w+ox] = o / (drow[oy]·dcol[ox])
// (dcol: 16*nc divisors).
TEXT ·avgPool3Z(SB), NOSPLIT, $0-72
	MOVQ   xp+24(FP), SI
	MOVQ   kp+32(FP), R8
	SHLQ   $2, R8
	MOVQ   drow+40(FP), R13
	MOVQ   out+56(FP), DI
	MOVQ   w+64(FP), R9
	SHLQ   $2, R9
	MOVQ   tail+16(FP), AX
	KMOVW  AX, K2
	VPXORD Z31, Z31, Z31
	MOVQ   h+0(FP), R11

aprow:
	XORQ         R12, R12 // chunk
	MOVQ         SI, BX
	MOVQ         DI, R10
	MOVQ         dcol+48(FP), DX
	VBROADCASTSS (R13), Z30

apcol:
	LEAQ    (BX)(R8*1), CX
	LEAQ    (BX)(R8*2), AX
	VADDPS  (BX), Z31, Z0
	VADDPS  4(BX), Z0, Z0
	VADDPS  8(BX), Z0, Z0
	VADDPS  (CX), Z31, Z1
	VADDPS  4(CX), Z1, Z1
	VADDPS  8(CX), Z1, Z1
	VADDPS  (AX), Z31, Z2
	VADDPS  4(AX), Z2, Z2
	VADDPS  8(AX), Z2, Z2
	VADDPS  Z1, Z0, Z0
	VADDPS  Z2, Z0, Z0
	VMULPS  (DX), Z30, Z3
	VDIVPS  Z3, Z0, Z0
	INCQ    R12
	CMPQ    R12, nc+8(FP)
	JEQ     aplast
	VMOVUPS Z0, (R10)
	ADDQ    $64, BX
	ADDQ    $64, R10
	ADDQ    $64, DX
	JMP     apcol

aplast:
	VMOVUPS Z0, K2, (R10)
	ADDQ    R8, SI
	ADDQ    R9, DI
	ADDQ    $4, R13
	DECQ    R11
	JNZ     aprow
	VZEROUPPER
	RET

// func avgQuotZ(h, nc int, tail uint64, gr *float32, w int, drow, dcol, q *float32, kp int)
// For oy < h and ox < 16*nc: q[oy*kp+ox] = gr[oy*w+ox] / (drow[oy]·dcol[ox]),
// gr read as zero at ox >= w (the last chunk's lanes outside tail).
TEXT ·avgQuotZ(SB), NOSPLIT, $0-72
	MOVQ   gr+24(FP), SI
	MOVQ   w+32(FP), R9
	SHLQ   $2, R9
	MOVQ   drow+40(FP), R13
	MOVQ   q+56(FP), DI
	MOVQ   kp+64(FP), R8
	SHLQ   $2, R8
	MOVQ   tail+16(FP), AX
	KMOVW  AX, K2
	MOVQ   h+0(FP), R11

aqrow:
	XORQ         R12, R12
	MOVQ         SI, BX
	MOVQ         DI, R10
	MOVQ         dcol+48(FP), DX
	VBROADCASTSS (R13), Z30

aqcol:
	INCQ      R12
	CMPQ      R12, nc+8(FP)
	JEQ       aqlast
	VMOVUPS   (BX), Z0
	JMP       aqdiv

aqlast:
	VMOVUPS.Z (BX), K2, Z0

aqdiv:
	VMULPS  (DX), Z30, Z3
	VDIVPS  Z3, Z0, Z0
	VMOVUPS Z0, (R10)
	ADDQ    $64, BX
	ADDQ    $64, R10
	ADDQ    $64, DX
	CMPQ    R12, nc+8(FP)
	JNE     aqcol
	ADDQ    R9, SI
	ADDQ    R8, DI
	ADDQ    $4, R13
	DECQ    R11
	JNZ     aqrow
	VZEROUPPER
	RET

// func avgSpreadZ(h, nc int, tail uint64, q *float32, kp int, trow *float32, din *float32, w int)
// The backward spread of avgPool3Z: for iy < h, the column sums t =
// ((0 + q[iy]) + q[iy+1]) + q[iy+2] of rows of q (zero rows above and
// below: q at row iy+1 holds output row iy) go to trow[1 : 1+w] (trow: kp
// floats, zero at 0 and from w+1), then din[iy*w+ix] = ((din + t[ix-1]) +
// t[ix]) + t[ix+1] for ix < w.
TEXT ·avgSpreadZ(SB), NOSPLIT, $0-64
	MOVQ   q+24(FP), SI
	MOVQ   kp+32(FP), R8
	SHLQ   $2, R8
	MOVQ   trow+40(FP), R13
	MOVQ   din+48(FP), DI
	MOVQ   w+56(FP), R9
	SHLQ   $2, R9
	MOVQ   tail+16(FP), AX
	KMOVW  AX, K2
	VPXORD Z31, Z31, Z31
	MOVQ   h+0(FP), R11

asrow:
	XORQ R12, R12
	MOVQ SI, BX
	LEAQ 4(R13), R10

ascol:
	LEAQ    (BX)(R8*1), CX
	VADDPS  (BX), Z31, Z0
	VADDPS  (CX), Z0, Z0
	VADDPS  (CX)(R8*1), Z0, Z0
	INCQ    R12
	CMPQ    R12, nc+8(FP)
	JEQ     astlast
	VMOVUPS Z0, (R10)
	ADDQ    $64, BX
	ADDQ    $64, R10
	JMP     ascol

astlast:
	VMOVUPS Z0, K2, (R10)
	XORQ    R12, R12
	MOVQ    R13, BX
	MOVQ    DI, R10

asdin:
	INCQ      R12
	CMPQ      R12, nc+8(FP)
	JEQ       asdlast
	VMOVUPS   (R10), Z0
	VADDPS    (BX), Z0, Z0
	VADDPS    4(BX), Z0, Z0
	VADDPS    8(BX), Z0, Z0
	VMOVUPS   Z0, (R10)
	ADDQ      $64, BX
	ADDQ      $64, R10
	JMP       asdin

asdlast:
	VMOVUPS.Z (R10), K2, Z0
	VADDPS    (BX), Z0, Z0
	VADDPS    4(BX), Z0, Z0
	VADDPS    8(BX), Z0, Z0
	VMOVUPS   Z0, K2, (R10)
	ADDQ      R8, SI
	ADDQ      R9, DI
	DECQ      R11
	JNZ       asrow
	VZEROUPPER
	RET
