//go:build amd64 && !purego

#include "textflag.h"

// Index tables for VPERMT2PS (lane i of the result takes lane idx[i] of the
// 32-lane concatenation of its two tables).
// s2even: the even lanes 0, 2, ..., 30.
DATA s2even<>+0(SB)/4, $0
DATA s2even<>+4(SB)/4, $2
DATA s2even<>+8(SB)/4, $4
DATA s2even<>+12(SB)/4, $6
DATA s2even<>+16(SB)/4, $8
DATA s2even<>+20(SB)/4, $10
DATA s2even<>+24(SB)/4, $12
DATA s2even<>+28(SB)/4, $14
DATA s2even<>+32(SB)/4, $16
DATA s2even<>+36(SB)/4, $18
DATA s2even<>+40(SB)/4, $20
DATA s2even<>+44(SB)/4, $22
DATA s2even<>+48(SB)/4, $24
DATA s2even<>+52(SB)/4, $26
DATA s2even<>+56(SB)/4, $28
DATA s2even<>+60(SB)/4, $30
GLOBL s2even<>(SB), RODATA|NOPTR, $64

// s2lo / s2hi: lanes 2i take lane i (s2lo) or 8+i (s2hi) of the first
// table, lanes 2i+1 take lane 16 (the first lane of the second table, a
// zero register).
DATA s2lo<>+0(SB)/4, $0
DATA s2lo<>+4(SB)/4, $16
DATA s2lo<>+8(SB)/4, $1
DATA s2lo<>+12(SB)/4, $16
DATA s2lo<>+16(SB)/4, $2
DATA s2lo<>+20(SB)/4, $16
DATA s2lo<>+24(SB)/4, $3
DATA s2lo<>+28(SB)/4, $16
DATA s2lo<>+32(SB)/4, $4
DATA s2lo<>+36(SB)/4, $16
DATA s2lo<>+40(SB)/4, $5
DATA s2lo<>+44(SB)/4, $16
DATA s2lo<>+48(SB)/4, $6
DATA s2lo<>+52(SB)/4, $16
DATA s2lo<>+56(SB)/4, $7
DATA s2lo<>+60(SB)/4, $16
GLOBL s2lo<>(SB), RODATA|NOPTR, $64
DATA s2hi<>+0(SB)/4, $8
DATA s2hi<>+4(SB)/4, $16
DATA s2hi<>+8(SB)/4, $9
DATA s2hi<>+12(SB)/4, $16
DATA s2hi<>+16(SB)/4, $10
DATA s2hi<>+20(SB)/4, $16
DATA s2hi<>+24(SB)/4, $11
DATA s2hi<>+28(SB)/4, $16
DATA s2hi<>+32(SB)/4, $12
DATA s2hi<>+36(SB)/4, $16
DATA s2hi<>+40(SB)/4, $13
DATA s2hi<>+44(SB)/4, $16
DATA s2hi<>+48(SB)/4, $14
DATA s2hi<>+52(SB)/4, $16
DATA s2hi<>+56(SB)/4, $15
DATA s2hi<>+60(SB)/4, $16
GLOBL s2hi<>(SB), RODATA|NOPTR, $64

// func subsample2Z(rows, nfull int, tail uint64, src *float32, ss int, dst *float32, ds int)
// For r < rows: dst[r*ds+j] = src[r*ss+2j] for j < 16*nfull (reading
// src[r*ss : r*ss+32*nfull]), then a tail block at j0 = 16*nfull:
// tail bits 0-15 mask the source lanes j0*2+i read into the first table,
// bits 16-31 those into the second (masked loads: lanes off are neither
// read nor faulted), bits 32-47 the outputs dst[r*ds+j0+i] stored.
TEXT ·subsample2Z(SB), NOSPLIT, $0-56
	MOVQ    rows+0(FP), R8
	MOVQ    tail+16(FP), AX
	KMOVW   AX, K1
	SHRQ    $16, AX
	KMOVW   AX, K2
	SHRQ    $16, AX
	KMOVW   AX, K3
	MOVQ    src+24(FP), SI
	MOVQ    ss+32(FP), R9
	SHLQ    $2, R9
	MOVQ    dst+40(FP), DI
	MOVQ    ds+48(FP), R10
	SHLQ    $2, R10
	VMOVUPS s2even<>+0(SB), Z31

s2srow:
	MOVQ nfull+8(FP), CX
	XORQ AX, AX // byte offset in the source row
	XORQ BX, BX // byte offset in the destination row
	TESTQ CX, CX
	JZ    s2stail

s2sloop:
	VMOVUPS   (SI)(AX*1), Z0
	VMOVUPS   64(SI)(AX*1), Z1
	VPERMT2PS Z1, Z31, Z0
	VMOVUPS   Z0, (DI)(BX*1)
	ADDQ      $128, AX
	ADDQ      $64, BX
	DECQ      CX
	JNZ       s2sloop

s2stail:
	KORTESTW  K3, K3
	JZ        s2snext
	LEAQ      (SI)(AX*1), DX
	VMOVUPS.Z (DX), K1, Z0
	VMOVUPS.Z 64(DX), K2, Z1
	VPERMT2PS Z1, Z31, Z0
	LEAQ      (DI)(BX*1), DX
	VMOVUPS   Z0, K3, (DX)

s2snext:
	ADDQ R9, SI
	ADDQ R10, DI
	DECQ R8
	JNZ  s2srow
	VZEROUPPER
	RET

// func spread2Z(rows, nfull int, tail uint64, src *float32, ss int, dst *float32, ds int, add bool)
// For r < rows: over dst[r*ds : r*ds+32*nfull], even lanes 2j take
// src[r*ss+j] and odd lanes +0 (add: the even lanes add src[r*ss+j], the
// odd lanes are left as they are); then a tail block at 32*nfull in dst:
// tail bits 0-15 mask the source lanes read, bits 16-31 and 32-47 the
// destination lanes written in its first and second 16 (add: only their
// even lanes change).
TEXT ·spread2Z(SB), NOSPLIT, $0-57
	MOVQ    rows+0(FP), R8
	MOVQ    tail+16(FP), AX
	KMOVW   AX, K1
	SHRQ    $16, AX
	KMOVW   AX, K2
	SHRQ    $16, AX
	KMOVW   AX, K3
	MOVL    $0x5555, AX
	KMOVW   AX, K4
	KANDW   K4, K2, K5
	KANDW   K4, K3, K6
	MOVQ    src+24(FP), SI
	MOVQ    ss+32(FP), R9
	SHLQ    $2, R9
	MOVQ    dst+40(FP), DI
	MOVQ    ds+48(FP), R10
	SHLQ    $2, R10
	MOVBLZX add+56(FP), R11
	VMOVUPS s2lo<>+0(SB), Z30
	VMOVUPS s2hi<>+0(SB), Z31
	VPXORD  Z29, Z29, Z29

s2prow:
	MOVQ nfull+8(FP), CX
	XORQ AX, AX // byte offset in the source row
	XORQ BX, BX // byte offset in the destination row
	TESTQ CX, CX
	JZ    s2ptail

s2ploop:
	VMOVUPS   (SI)(AX*1), Z0
	VMOVAPS   Z0, Z1
	VPERMT2PS Z29, Z30, Z0
	VPERMT2PS Z29, Z31, Z1
	TESTQ     R11, R11
	JZ        s2pset
	VMOVUPS   (DI)(BX*1), Z2
	VMOVUPS   64(DI)(BX*1), Z3
	VADDPS    Z0, Z2, K4, Z2
	VADDPS    Z1, Z3, K4, Z3
	VMOVUPS   Z2, (DI)(BX*1)
	VMOVUPS   Z3, 64(DI)(BX*1)
	JMP       s2pnext

s2pset:
	VMOVUPS Z0, (DI)(BX*1)
	VMOVUPS Z1, 64(DI)(BX*1)

s2pnext:
	ADDQ $64, AX
	ADDQ $128, BX
	DECQ CX
	JNZ  s2ploop

s2ptail:
	KORTESTW  K1, K1
	JZ        s2prnext
	LEAQ      (SI)(AX*1), DX
	VMOVUPS.Z (DX), K1, Z0
	VMOVAPS   Z0, Z1
	VPERMT2PS Z29, Z30, Z0
	VPERMT2PS Z29, Z31, Z1
	LEAQ      (DI)(BX*1), DX
	TESTQ     R11, R11
	JZ        s2ptset
	VMOVUPS.Z (DX), K2, Z2
	VMOVUPS.Z 64(DX), K3, Z3
	VADDPS    Z0, Z2, K5, Z2
	VADDPS    Z1, Z3, K6, Z3
	VMOVUPS   Z2, K2, (DX)
	VMOVUPS   Z3, K3, 64(DX)
	JMP       s2prnext

s2ptset:
	VMOVUPS Z0, K2, (DX)
	VMOVUPS Z1, K3, 64(DX)

s2prnext:
	ADDQ R9, SI
	ADDQ R10, DI
	DECQ R8
	JNZ  s2prow
	VZEROUPPER
	RET
