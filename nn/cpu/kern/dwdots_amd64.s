//go:build amd64 && !purego

#include "textflag.h"

// Filter gradient of stride-1 "same" depthwise convolutions, the shifted
// input rows made in registers (dwdots_amd64.go builds the tables). All
// four kernels share one signature:
//
//	func(np int, in *float32, ins int, dout *float32, douts int, nu int, tab *uint16, ctl *[14][16]int32, dwt *float32)
//
// For each of np planes (in and dout planes ins and douts bytes apart) and
// each pass, the accumulators Z0..Z15 start at zero. Every unit of the input
// plane (16 floats: one row of w = 16, two rows of w = 8; for w = 32 one
// row as two vectors, its left and right half) is loaded once, copies
// shifted along the row are made with VPERMPS (w = 8, 16) or VPERMI2PS
// (w = 32), their zero-masked lanes being the zero padding, and for each
// kernel row ky the dout vector that pairs with the unit is FMAed with
// each copy into accumulator ky·G + j (G copies per pass, copy 0 of a
// three-copy pass the unshifted unit). Each lane of an accumulator sums
// its column's products unit after unit, in order. At the end of the plane
// and pass the accumulators are reduced (DG_REDUCE16, DG_REDUCE10) to one
// vector whose lane 4q+r holds the lane sum of Z(4r+q), and added to the
// pass's running total Z17 or Z23, whose lanes are the taps' entries of
// dwt, permuted so, at the start, and permuted back at the end.
//
// The unit table (tab, 32 bytes a unit): uint16 lane masks at 0 (the input
// lanes inside the plane) and 2+2·ky (the lanes whose dout row and input
// row both lie inside it), at 14 all ones when every mask of the unit is,
// and int16 byte offsets at 16+2·ky from the unit's place to the dout
// vector to load: a whole vector when its mask is all ones, none when it is
// 0, else (w = 8) the 8 floats of the one row that counts, broadcast to
// both halves (and so for the input). No load touches memory outside the
// planes: a masked-out lane on an unmapped page can cost a microcode assist.
// A unit with flag 14 takes the fast body: whole loads, plain FMAs, the
// dout offsets from R8..R12; the others the masked body.
//
// ctl (int32s, rows of 16): row 0 the shift masks of slots 0..3 at lanes
// 0..3 (one table, or the left half) and 8..11 (right half); rows 1..4 the
// permutation indexes of slots 0..3 (one table or left half), rows 5..8
// those of the right half; row 9 the whole-vector dout offsets of ky 0..4
// at lanes 0..4, the masks of dwt[0:16], dwt[16:32] at lanes 8, 9 and the
// byte offset of the latter at lane 10 (0 when k = 3: no load or store then
// reaches past dwt[15]); rows 10, 11 the indexes into (dwt[0:16],
// dwt[16:32]) of the running totals of passes 0, 1; rows 12, 13 those into
// (Z17, Z23) of dwt[0:16], dwt[16:32]. k = 3: one pass, copies (unit, slot
// 0, slot 1). k = 5: pass 0 (unit, slot 0, slot 1), pass 1 (slot 2, slot 3).
//
// Registers: Z0..Z15 accumulators, Z18 (and Z19) the input unit, Z20, Z21
// shifted copies, Z22 dout, Z24..Z27 indexes, Z17, Z23 running totals, Z16,
// Z31 scratch; K1, K2 (K5, K6) shift masks, K3 input mask, K4 row mask;
// R8..R12 dout offsets, R14 an offset from the table, R13 and AX the input
// and dout planes, SI, DI the units, BX the table, CX units left, DX planes
// left.

#define DG_ZERO16 \
	VPXORD Z0, Z0, Z0 \
	VPXORD Z1, Z1, Z1 \
	VPXORD Z2, Z2, Z2 \
	VPXORD Z3, Z3, Z3 \
	VPXORD Z4, Z4, Z4 \
	VPXORD Z5, Z5, Z5 \
	VPXORD Z6, Z6, Z6 \
	VPXORD Z7, Z7, Z7 \
	VPXORD Z8, Z8, Z8 \
	VPXORD Z9, Z9, Z9 \
	VPXORD Z10, Z10, Z10 \
	VPXORD Z11, Z11, Z11 \
	VPXORD Z12, Z12, Z12 \
	VPXORD Z13, Z13, Z13 \
	VPXORD Z14, Z14, Z14 \
	VPXORD Z15, Z15, Z15

// DG_R1: a = [a.lo+a.hi (8 lanes), b.lo+b.hi (8 lanes)] (256-bit halves).
#define DG_R1(a, b, yb) \
	VSHUFF64X2   $0xEE, b, a, Z31 \
	VINSERTF64X4 $1, yb, a, a \
	VADDPS       Z31, a, a

// DG_R2: a, c of DG_R1's form [A, B], [C, D] give the 128-bit quarters
// [A, B, C, D], each the sum of its two 128-bit parts.
#define DG_R2(a, c) \
	VSHUFF32X4 $0xDD, c, a, Z31 \
	VSHUFF32X4 $0x88, c, a, a \
	VADDPS     Z31, a, a

// DG_R3: within each 128-bit quarter, a = (a0+a2, a1+a3, e0+e2, e1+e3).
#define DG_R3(a, e) \
	VSHUFPS $0xEE, e, a, Z31 \
	VSHUFPS $0x44, e, a, a \
	VADDPS  Z31, a, a

// DG_R4: within each 128-bit quarter, a = (a0+a1, a2+a3, e0+e1, e2+e3).
#define DG_R4(a, e) \
	VSHUFPS $0xDD, e, a, Z31 \
	VSHUFPS $0x88, e, a, a \
	VADDPS  Z31, a, a

// DG_TOT: tot += Z0.
#define DG_TOT(tot) \
	VADDPS Z0, tot, tot

// DG_REDUCE16: lane 4q+r of Z0 = the lane sum of Z(4r+q) (q, r < 4), then
// DG_TOT(tot).
#define DG_REDUCE16(tot) \
	DG_R1(Z0, Z1, Y1) \
	DG_R1(Z2, Z3, Y3) \
	DG_R1(Z4, Z5, Y5) \
	DG_R1(Z6, Z7, Y7) \
	DG_R1(Z8, Z9, Y9) \
	DG_R1(Z10, Z11, Y11) \
	DG_R1(Z12, Z13, Y13) \
	DG_R1(Z14, Z15, Y15) \
	DG_R2(Z0, Z2) \
	DG_R2(Z4, Z6) \
	DG_R2(Z8, Z10) \
	DG_R2(Z12, Z14) \
	DG_R3(Z0, Z4) \
	DG_R3(Z8, Z12) \
	DG_R4(Z0, Z8) \
	DG_TOT(tot)

// DG_REDUCE10: DG_REDUCE16 when Z10..Z15 are zero (the steps that would
// only add zeros to zeros left out).
#define DG_REDUCE10(tot) \
	DG_R1(Z0, Z1, Y1) \
	DG_R1(Z2, Z3, Y3) \
	DG_R1(Z4, Z5, Y5) \
	DG_R1(Z6, Z7, Y7) \
	DG_R1(Z8, Z9, Y9) \
	DG_R2(Z0, Z2) \
	DG_R2(Z4, Z6) \
	DG_R2(Z8, Z10) \
	DG_R3(Z0, Z4) \
	DG_R3(Z8, Z12) \
	DG_R4(Z0, Z8) \
	DG_TOT(tot)

// DG_FMA3: a0 += Z22·s0, a1 += Z22·Z20, a2 += Z22·Z21; DG_FMA3M the same
// in the lanes of K4.
#define DG_FMA3(s0, a0, a1, a2) \
	VFMADD231PS Z22, s0, a0 \
	VFMADD231PS Z22, Z20, a1 \
	VFMADD231PS Z22, Z21, a2

#define DG_FMA3M(s0, a0, a1, a2) \
	VFMADD231PS Z22, s0, K4, a0 \
	VFMADD231PS Z22, Z20, K4, a1 \
	VFMADD231PS Z22, Z21, K4, a2

// DG_FMA2: a0 += Z22·Z20, a1 += Z22·Z21; DG_FMA2M in the lanes of K4.
#define DG_FMA2(a0, a1) \
	VFMADD231PS Z22, Z20, a0 \
	VFMADD231PS Z22, Z21, a1

#define DG_FMA2M(a0, a1) \
	VFMADD231PS Z22, Z20, K4, a0 \
	VFMADD231PS Z22, Z21, K4, a1

// DG_DROW: Z22 = the dout vector of a masked-body row (mask at mo(BX),
// offset at oo(BX)), K4 its mask; to skip when the mask is 0; a whole
// vector at disp(DI)(offset) when it is all ones, else the 8 floats there
// broadcast.
#define DG_DROW(mo, oo, disp, skip, part, fma) \
	KMOVW           mo(BX), K4 \
	MOVWQSX         oo(BX), R14 \
	KORTESTW        K4, K4 \
	JZ              skip \
	JCC             part \
	VMOVUPS         disp(DI)(R14*1), Z22 \
	JMP             fma \
part: \
	VBROADCASTF32X8 disp(DI)(R14*1), Z22 \
fma:

// DG_FROW: DG_DROW for whole-row masks (w = 16, 32): all ones or 0.
#define DG_FROW(mo, oo, disp, skip) \
	KMOVW    mo(BX), K4 \
	MOVWQSX  oo(BX), R14 \
	KORTESTW K4, K4 \
	JZ       skip \
	VMOVUPS  disp(DI)(R14*1), Z22

// DG_FAST: to lbl unless the unit takes the fast body (flag at 14(BX)).
#define DG_FAST(lbl) \
	KMOVW    14(BX), K4 \
	KORTESTW K4, K4 \
	JCC      lbl

// DG_IN1: the input unit into Z18 (when the second of two w = 8 rows lies
// outside the plane, the first, broadcast and masked by K3).
#define DG_IN1(part, done) \
	KMOVW             (BX), K3 \
	KORTESTW          K3, K3 \
	JCC               part \
	VMOVUPS           (SI), Z18 \
	JMP               done \
part: \
	VBROADCASTF32X8.Z (SI), K3, Z18 \
done:

// DG_SHIFT1: Z20, Z21 = the copies of Z18 by the indexes Z24, Z25 under
// the masks K1, K2.
#define DG_SHIFT1 \
	VPERMPS.Z Z18, Z24, K1, Z20 \
	VPERMPS.Z Z18, Z25, K2, Z21

// DG_SHIFT2(ia, ib, ka, kb): Z20, Z21 = the copies of the row (Z18, Z19)
// by the two-table indexes ia, ib under the masks ka, kb.
#define DG_SHIFT2(ia, ib, ka, kb) \
	VMOVAPS     ia, Z20 \
	VPERMI2PS.Z Z19, Z18, ka, Z20 \
	VMOVAPS     ib, Z21 \
	VPERMI2PS.Z Z19, Z18, kb, Z21

// DG_START: the plane loop's registers; the running totals from dwt.
#define DG_START \
	MOVQ        ctl+56(FP), CX \
	MOVLQSX     576(CX), R8 \
	MOVLQSX     580(CX), R9 \
	MOVLQSX     584(CX), R10 \
	MOVLQSX     588(CX), R11 \
	MOVLQSX     592(CX), R12 \
	KMOVW       608(CX), K3 \
	KMOVW       612(CX), K4 \
	MOVLQSX     616(CX), R14 \
	VMOVUPS     640(CX), Z17 \
	VMOVUPS     704(CX), Z23 \
	MOVQ        dwt+64(FP), CX \
	VMOVUPS.Z   (CX), K3, Z16 \
	VMOVUPS.Z   (CX)(R14*1), K4, Z31 \
	VPERMI2PS   Z31, Z16, Z17 \
	VPERMI2PS   Z31, Z16, Z23 \
	MOVQ        np+0(FP), DX \
	MOVQ        in+8(FP), R13 \
	MOVQ        dout+24(FP), AX

// DG_END: the running totals back to dwt.
#define DG_END \
	MOVQ      ctl+56(FP), CX \
	KMOVW     608(CX), K3 \
	KMOVW     612(CX), K4 \
	MOVLQSX   616(CX), R14 \
	VMOVUPS   768(CX), Z16 \
	VMOVUPS   832(CX), Z31 \
	VPERMI2PS Z23, Z17, Z16 \
	VPERMI2PS Z23, Z17, Z31 \
	MOVQ      dwt+64(FP), CX \
	VMOVUPS   Z16, K3, (CX) \
	VMOVUPS   Z31, K4, (CX)(R14*1) \
	VZEROUPPER \
	RET

// DG_CTL1(m0, m1, i0, i1): shift masks K1, K2 and indexes Z24, Z25 (one
// table, or the left half) from ctl (CX is clobbered).
#define DG_CTL1(m0, m1, i0, i1) \
	MOVQ    ctl+56(FP), CX \
	KMOVW   m0(CX), K1 \
	KMOVW   m1(CX), K2 \
	VMOVUPS i0(CX), Z24 \
	VMOVUPS i1(CX), Z25

// DG_CTL2(m0, m1, i0, i1): those of the right half, K5, K6, Z26, Z27.
#define DG_CTL2(m0, m1, i0, i1) \
	MOVQ    ctl+56(FP), CX \
	KMOVW   m0(CX), K5 \
	KMOVW   m1(CX), K6 \
	VMOVUPS i0(CX), Z26 \
	VMOVUPS i1(CX), Z27

// DG_UNITS: the unit loop's registers for one pass over a plane.
#define DG_UNITS \
	DG_ZERO16 \
	MOVQ R13, SI \
	MOVQ AX, DI \
	MOVQ tab+48(FP), BX \
	MOVQ nu+40(FP), CX

// DG_NEXT: on to the next unit, to lbl while any is left.
#define DG_NEXT(step, lbl) \
	ADDQ $step, SI \
	ADDQ $step, DI \
	ADDQ $32, BX \
	DECQ CX \
	JNZ  lbl

// DG_NEXTPLANE: on to the next plane, to lbl while any is left, else
// DG_END.
#define DG_NEXTPLANE(lbl) \
	ADDQ ins+16(FP), R13 \
	ADDQ douts+32(FP), AX \
	DECQ DX \
	JNZ  lbl \
	DG_END

// func dwGradV1K3(np int, in *float32, ins int, dout *float32, douts int, nu int, tab *uint16, ctl *[14][16]int32, dwt *float32)
// w = 8 or 16, k = 3: copies (unit, slot 0, slot 1).
TEXT ·dwGradV1K3(SB), NOSPLIT, $0-72
	DG_START
	DG_CTL1(0, 4, 64, 128)

g13plane:
	DG_UNITS

g13u0:
	DG_FAST(g13u0m)
	VMOVUPS (SI), Z18
	DG_SHIFT1
	VMOVUPS (DI)(R8*1), Z22
	DG_FMA3(Z18, Z0, Z1, Z2)
	VMOVUPS (DI)(R9*1), Z22
	DG_FMA3(Z18, Z3, Z4, Z5)
	VMOVUPS (DI)(R10*1), Z22
	DG_FMA3(Z18, Z6, Z7, Z8)
	JMP g13u0n

g13u0m:
	DG_IN1(g13u0ip, g13u0id)
	DG_SHIFT1
	DG_DROW(2, 16, 0, g13u0s0, g13u0p0, g13u0f0)
	DG_FMA3M(Z18, Z0, Z1, Z2)

g13u0s0:
	DG_DROW(4, 18, 0, g13u0s1, g13u0p1, g13u0f1)
	DG_FMA3M(Z18, Z3, Z4, Z5)

g13u0s1:
	DG_DROW(6, 20, 0, g13u0s2, g13u0p2, g13u0f2)
	DG_FMA3M(Z18, Z6, Z7, Z8)

g13u0s2:

g13u0n:
	DG_NEXT(64, g13u0)
	DG_REDUCE10(Z17)
	DG_NEXTPLANE(g13plane)

// func dwGradV1K5(np int, in *float32, ins int, dout *float32, douts int, nu int, tab *uint16, ctl *[14][16]int32, dwt *float32)
// w = 8 or 16, k = 5: pass 0 (unit, slot 0, slot 1), pass 1 (slot 2, slot 3).
TEXT ·dwGradV1K5(SB), NOSPLIT, $0-72
	DG_START

g15plane:
	DG_CTL1(0, 4, 64, 128)
	DG_UNITS

g15u0:
	DG_FAST(g15u0m)
	VMOVUPS (SI), Z18
	DG_SHIFT1
	VMOVUPS (DI)(R8*1), Z22
	DG_FMA3(Z18, Z0, Z1, Z2)
	VMOVUPS (DI)(R9*1), Z22
	DG_FMA3(Z18, Z3, Z4, Z5)
	VMOVUPS (DI)(R10*1), Z22
	DG_FMA3(Z18, Z6, Z7, Z8)
	VMOVUPS (DI)(R11*1), Z22
	DG_FMA3(Z18, Z9, Z10, Z11)
	VMOVUPS (DI)(R12*1), Z22
	DG_FMA3(Z18, Z12, Z13, Z14)
	JMP g15u0n

g15u0m:
	DG_IN1(g15u0ip, g15u0id)
	DG_SHIFT1
	DG_DROW(2, 16, 0, g15u0s0, g15u0p0, g15u0f0)
	DG_FMA3M(Z18, Z0, Z1, Z2)

g15u0s0:
	DG_DROW(4, 18, 0, g15u0s1, g15u0p1, g15u0f1)
	DG_FMA3M(Z18, Z3, Z4, Z5)

g15u0s1:
	DG_DROW(6, 20, 0, g15u0s2, g15u0p2, g15u0f2)
	DG_FMA3M(Z18, Z6, Z7, Z8)

g15u0s2:
	DG_DROW(8, 22, 0, g15u0s3, g15u0p3, g15u0f3)
	DG_FMA3M(Z18, Z9, Z10, Z11)

g15u0s3:
	DG_DROW(10, 24, 0, g15u0s4, g15u0p4, g15u0f4)
	DG_FMA3M(Z18, Z12, Z13, Z14)

g15u0s4:

g15u0n:
	DG_NEXT(64, g15u0)
	DG_REDUCE16(Z17)
	DG_CTL1(8, 12, 192, 256)
	DG_UNITS

g15u1:
	DG_FAST(g15u1m)
	VMOVUPS (SI), Z18
	DG_SHIFT1
	VMOVUPS (DI)(R8*1), Z22
	DG_FMA2(Z0, Z1)
	VMOVUPS (DI)(R9*1), Z22
	DG_FMA2(Z2, Z3)
	VMOVUPS (DI)(R10*1), Z22
	DG_FMA2(Z4, Z5)
	VMOVUPS (DI)(R11*1), Z22
	DG_FMA2(Z6, Z7)
	VMOVUPS (DI)(R12*1), Z22
	DG_FMA2(Z8, Z9)
	JMP g15u1n

g15u1m:
	DG_IN1(g15u1ip, g15u1id)
	DG_SHIFT1
	DG_DROW(2, 16, 0, g15u1s0, g15u1p0, g15u1f0)
	DG_FMA2M(Z0, Z1)

g15u1s0:
	DG_DROW(4, 18, 0, g15u1s1, g15u1p1, g15u1f1)
	DG_FMA2M(Z2, Z3)

g15u1s1:
	DG_DROW(6, 20, 0, g15u1s2, g15u1p2, g15u1f2)
	DG_FMA2M(Z4, Z5)

g15u1s2:
	DG_DROW(8, 22, 0, g15u1s3, g15u1p3, g15u1f3)
	DG_FMA2M(Z6, Z7)

g15u1s3:
	DG_DROW(10, 24, 0, g15u1s4, g15u1p4, g15u1f4)
	DG_FMA2M(Z8, Z9)

g15u1s4:

g15u1n:
	DG_NEXT(64, g15u1)
	DG_REDUCE10(Z23)
	DG_NEXTPLANE(g15plane)

// func dwGradV2K3(np int, in *float32, ins int, dout *float32, douts int, nu int, tab *uint16, ctl *[14][16]int32, dwt *float32)
// w = 32, k = 3: copies (unit, slot 0, slot 1) of each half.
TEXT ·dwGradV2K3(SB), NOSPLIT, $0-72
	DG_START
	DG_CTL1(0, 4, 64, 128)
	DG_CTL2(32, 36, 320, 384)

g23plane:
	DG_UNITS

g23u0:
	DG_FAST(g23u0m)
	VMOVUPS (SI), Z18
	VMOVUPS 64(SI), Z19
	DG_SHIFT2(Z24, Z25, K1, K2)
	VMOVUPS (DI)(R8*1), Z22
	DG_FMA3(Z18, Z0, Z1, Z2)
	VMOVUPS (DI)(R9*1), Z22
	DG_FMA3(Z18, Z3, Z4, Z5)
	VMOVUPS (DI)(R10*1), Z22
	DG_FMA3(Z18, Z6, Z7, Z8)
	DG_SHIFT2(Z26, Z27, K5, K6)
	VMOVUPS 64(DI)(R8*1), Z22
	DG_FMA3(Z19, Z0, Z1, Z2)
	VMOVUPS 64(DI)(R9*1), Z22
	DG_FMA3(Z19, Z3, Z4, Z5)
	VMOVUPS 64(DI)(R10*1), Z22
	DG_FMA3(Z19, Z6, Z7, Z8)
	JMP g23u0n

g23u0m:
	VMOVUPS (SI), Z18
	VMOVUPS 64(SI), Z19
	DG_SHIFT2(Z24, Z25, K1, K2)
	DG_FROW(2, 16, 0, g23u0l0)
	DG_FMA3M(Z18, Z0, Z1, Z2)

g23u0l0:
	DG_FROW(4, 18, 0, g23u0l1)
	DG_FMA3M(Z18, Z3, Z4, Z5)

g23u0l1:
	DG_FROW(6, 20, 0, g23u0l2)
	DG_FMA3M(Z18, Z6, Z7, Z8)

g23u0l2:
	DG_SHIFT2(Z26, Z27, K5, K6)
	DG_FROW(2, 16, 64, g23u0r0)
	DG_FMA3M(Z19, Z0, Z1, Z2)

g23u0r0:
	DG_FROW(4, 18, 64, g23u0r1)
	DG_FMA3M(Z19, Z3, Z4, Z5)

g23u0r1:
	DG_FROW(6, 20, 64, g23u0r2)
	DG_FMA3M(Z19, Z6, Z7, Z8)

g23u0r2:

g23u0n:
	DG_NEXT(128, g23u0)
	DG_REDUCE10(Z17)
	DG_NEXTPLANE(g23plane)

// func dwGradV2K5(np int, in *float32, ins int, dout *float32, douts int, nu int, tab *uint16, ctl *[14][16]int32, dwt *float32)
// w = 32, k = 5: pass 0 (unit, slot 0, slot 1), pass 1 (slot 2, slot 3) of
// each half.
TEXT ·dwGradV2K5(SB), NOSPLIT, $0-72
	DG_START

g25plane:
	DG_CTL1(0, 4, 64, 128)
	DG_CTL2(32, 36, 320, 384)
	DG_UNITS

g25u0:
	DG_FAST(g25u0m)
	VMOVUPS (SI), Z18
	VMOVUPS 64(SI), Z19
	DG_SHIFT2(Z24, Z25, K1, K2)
	VMOVUPS (DI)(R8*1), Z22
	DG_FMA3(Z18, Z0, Z1, Z2)
	VMOVUPS (DI)(R9*1), Z22
	DG_FMA3(Z18, Z3, Z4, Z5)
	VMOVUPS (DI)(R10*1), Z22
	DG_FMA3(Z18, Z6, Z7, Z8)
	VMOVUPS (DI)(R11*1), Z22
	DG_FMA3(Z18, Z9, Z10, Z11)
	VMOVUPS (DI)(R12*1), Z22
	DG_FMA3(Z18, Z12, Z13, Z14)
	DG_SHIFT2(Z26, Z27, K5, K6)
	VMOVUPS 64(DI)(R8*1), Z22
	DG_FMA3(Z19, Z0, Z1, Z2)
	VMOVUPS 64(DI)(R9*1), Z22
	DG_FMA3(Z19, Z3, Z4, Z5)
	VMOVUPS 64(DI)(R10*1), Z22
	DG_FMA3(Z19, Z6, Z7, Z8)
	VMOVUPS 64(DI)(R11*1), Z22
	DG_FMA3(Z19, Z9, Z10, Z11)
	VMOVUPS 64(DI)(R12*1), Z22
	DG_FMA3(Z19, Z12, Z13, Z14)
	JMP g25u0n

g25u0m:
	VMOVUPS (SI), Z18
	VMOVUPS 64(SI), Z19
	DG_SHIFT2(Z24, Z25, K1, K2)
	DG_FROW(2, 16, 0, g25u0l0)
	DG_FMA3M(Z18, Z0, Z1, Z2)

g25u0l0:
	DG_FROW(4, 18, 0, g25u0l1)
	DG_FMA3M(Z18, Z3, Z4, Z5)

g25u0l1:
	DG_FROW(6, 20, 0, g25u0l2)
	DG_FMA3M(Z18, Z6, Z7, Z8)

g25u0l2:
	DG_FROW(8, 22, 0, g25u0l3)
	DG_FMA3M(Z18, Z9, Z10, Z11)

g25u0l3:
	DG_FROW(10, 24, 0, g25u0l4)
	DG_FMA3M(Z18, Z12, Z13, Z14)

g25u0l4:
	DG_SHIFT2(Z26, Z27, K5, K6)
	DG_FROW(2, 16, 64, g25u0r0)
	DG_FMA3M(Z19, Z0, Z1, Z2)

g25u0r0:
	DG_FROW(4, 18, 64, g25u0r1)
	DG_FMA3M(Z19, Z3, Z4, Z5)

g25u0r1:
	DG_FROW(6, 20, 64, g25u0r2)
	DG_FMA3M(Z19, Z6, Z7, Z8)

g25u0r2:
	DG_FROW(8, 22, 64, g25u0r3)
	DG_FMA3M(Z19, Z9, Z10, Z11)

g25u0r3:
	DG_FROW(10, 24, 64, g25u0r4)
	DG_FMA3M(Z19, Z12, Z13, Z14)

g25u0r4:

g25u0n:
	DG_NEXT(128, g25u0)
	DG_REDUCE16(Z17)
	DG_CTL1(8, 12, 192, 256)
	DG_CTL2(40, 44, 448, 512)
	DG_UNITS

g25u1:
	DG_FAST(g25u1m)
	VMOVUPS (SI), Z18
	VMOVUPS 64(SI), Z19
	DG_SHIFT2(Z24, Z25, K1, K2)
	VMOVUPS (DI)(R8*1), Z22
	DG_FMA2(Z0, Z1)
	VMOVUPS (DI)(R9*1), Z22
	DG_FMA2(Z2, Z3)
	VMOVUPS (DI)(R10*1), Z22
	DG_FMA2(Z4, Z5)
	VMOVUPS (DI)(R11*1), Z22
	DG_FMA2(Z6, Z7)
	VMOVUPS (DI)(R12*1), Z22
	DG_FMA2(Z8, Z9)
	DG_SHIFT2(Z26, Z27, K5, K6)
	VMOVUPS 64(DI)(R8*1), Z22
	DG_FMA2(Z0, Z1)
	VMOVUPS 64(DI)(R9*1), Z22
	DG_FMA2(Z2, Z3)
	VMOVUPS 64(DI)(R10*1), Z22
	DG_FMA2(Z4, Z5)
	VMOVUPS 64(DI)(R11*1), Z22
	DG_FMA2(Z6, Z7)
	VMOVUPS 64(DI)(R12*1), Z22
	DG_FMA2(Z8, Z9)
	JMP g25u1n

g25u1m:
	VMOVUPS (SI), Z18
	VMOVUPS 64(SI), Z19
	DG_SHIFT2(Z24, Z25, K1, K2)
	DG_FROW(2, 16, 0, g25u1l0)
	DG_FMA2M(Z0, Z1)

g25u1l0:
	DG_FROW(4, 18, 0, g25u1l1)
	DG_FMA2M(Z2, Z3)

g25u1l1:
	DG_FROW(6, 20, 0, g25u1l2)
	DG_FMA2M(Z4, Z5)

g25u1l2:
	DG_FROW(8, 22, 0, g25u1l3)
	DG_FMA2M(Z6, Z7)

g25u1l3:
	DG_FROW(10, 24, 0, g25u1l4)
	DG_FMA2M(Z8, Z9)

g25u1l4:
	DG_SHIFT2(Z26, Z27, K5, K6)
	DG_FROW(2, 16, 64, g25u1r0)
	DG_FMA2M(Z0, Z1)

g25u1r0:
	DG_FROW(4, 18, 64, g25u1r1)
	DG_FMA2M(Z2, Z3)

g25u1r1:
	DG_FROW(6, 20, 64, g25u1r2)
	DG_FMA2M(Z4, Z5)

g25u1r2:
	DG_FROW(8, 22, 64, g25u1r3)
	DG_FMA2M(Z6, Z7)

g25u1r3:
	DG_FROW(10, 24, 64, g25u1r4)
	DG_FMA2M(Z8, Z9)

g25u1r4:

g25u1n:
	DG_NEXT(128, g25u1)
	DG_REDUCE10(Z23)
	DG_NEXTPLANE(g25plane)
