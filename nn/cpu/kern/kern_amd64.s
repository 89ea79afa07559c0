//go:build amd64 && !purego

#include "textflag.h"

// Go assembler operand order: VFMADD231PS b, a, acc computes acc += a*b.

// func gemmKern4x24(k int, a *float32, rsa, csa int, b *float32, ldb int, c *float32, ldc int, acc bool)
// C[4×24] (+)= A·B: element (r, p) of A at a[r*rsa+p*csa], row p of B at b[p*ldb].
// Each element sums p = 0..k-1 from zero with FMA, then adds the old C if acc.
TEXT ·gemmKern4x24(SB), NOSPLIT, $0-65
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ rsa+16(FP), R8
	SHLQ $2, R8
	MOVQ csa+24(FP), R10
	SHLQ $2, R10
	MOVQ b+32(FP), BX
	MOVQ ldb+40(FP), R12
	SHLQ $2, R12
	MOVQ c+48(FP), DI
	MOVQ ldc+56(FP), R11
	SHLQ $2, R11
	LEAQ (R8)(R8*2), R9
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11

gk24loop:
	VMOVUPS      (BX), Y12
	VMOVUPS      32(BX), Y13
	VMOVUPS      64(BX), Y14
	VBROADCASTSS (SI), Y15
	VFMADD231PS  Y12, Y15, Y0
	VFMADD231PS  Y13, Y15, Y1
	VFMADD231PS  Y14, Y15, Y2
	VBROADCASTSS (SI)(R8*1), Y15
	VFMADD231PS  Y12, Y15, Y3
	VFMADD231PS  Y13, Y15, Y4
	VFMADD231PS  Y14, Y15, Y5
	VBROADCASTSS (SI)(R8*2), Y15
	VFMADD231PS  Y12, Y15, Y6
	VFMADD231PS  Y13, Y15, Y7
	VFMADD231PS  Y14, Y15, Y8
	VBROADCASTSS (SI)(R9*1), Y15
	VFMADD231PS  Y12, Y15, Y9
	VFMADD231PS  Y13, Y15, Y10
	VFMADD231PS  Y14, Y15, Y11
	ADDQ         R10, SI
	ADDQ         R12, BX
	DECQ         CX
	JNZ          gk24loop

	LEAQ    (DI)(R11*2), DX
	MOVBLZX acc+64(FP), AX
	TESTQ   AX, AX
	JZ      gk24store
	VADDPS  (DI), Y0, Y0
	VADDPS  32(DI), Y1, Y1
	VADDPS  64(DI), Y2, Y2
	VADDPS  (DI)(R11*1), Y3, Y3
	VADDPS  32(DI)(R11*1), Y4, Y4
	VADDPS  64(DI)(R11*1), Y5, Y5
	VADDPS  (DX), Y6, Y6
	VADDPS  32(DX), Y7, Y7
	VADDPS  64(DX), Y8, Y8
	VADDPS  (DX)(R11*1), Y9, Y9
	VADDPS  32(DX)(R11*1), Y10, Y10
	VADDPS  64(DX)(R11*1), Y11, Y11

gk24store:
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, (DI)(R11*1)
	VMOVUPS Y4, 32(DI)(R11*1)
	VMOVUPS Y5, 64(DI)(R11*1)
	VMOVUPS Y6, (DX)
	VMOVUPS Y7, 32(DX)
	VMOVUPS Y8, 64(DX)
	VMOVUPS Y9, (DX)(R11*1)
	VMOVUPS Y10, 32(DX)(R11*1)
	VMOVUPS Y11, 64(DX)(R11*1)
	VZEROUPPER
	RET

// func gemmKern4x64Z(k int, a *float32, rsa, csa int, b *float32, ldb int, c *float32, ldc int, acc bool, cols uint64)
// AVX-512 form of gemmKern4x24 over 64 readable columns of B (row p at
// b[p*ldb]), element (r, p) of A at a[r*rsa+p*csa]: C[4×64] (+)= A·B on the
// columns whose bits are set in cols (the other columns of C are neither
// read nor written). Same order as gemmKern4x24:
// each element sums p = 0..k-1 from zero with FMA, then adds the old C if
// acc, so the two kernels give the same bits (k >= 1).
TEXT ·gemmKern4x64Z(SB), NOSPLIT, $0-80
	MOVQ  k+0(FP), CX
	MOVQ  a+8(FP), SI
	MOVQ  rsa+16(FP), R8
	SHLQ  $2, R8
	LEAQ  (R8)(R8*2), R9
	MOVQ  csa+24(FP), R10
	SHLQ  $2, R10
	MOVQ  b+32(FP), BX
	MOVQ  ldb+40(FP), R12
	SHLQ  $2, R12
	MOVQ  c+48(FP), DI
	MOVQ  ldc+56(FP), R11
	SHLQ  $2, R11
	MOVQ  cols+72(FP), AX
	KMOVW AX, K1
	SHRQ  $16, AX
	KMOVW AX, K2
	SHRQ  $16, AX
	KMOVW AX, K3
	SHRQ  $16, AX
	KMOVW AX, K4
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

gk64loop:
	VMOVUPS      (BX), Z16
	VMOVUPS      64(BX), Z17
	VMOVUPS      128(BX), Z18
	VMOVUPS      192(BX), Z19
	VBROADCASTSS (SI), Z20
	VBROADCASTSS (SI)(R8*1), Z21
	VBROADCASTSS (SI)(R8*2), Z22
	VBROADCASTSS (SI)(R9*1), Z23
	VFMADD231PS  Z16, Z20, Z0
	VFMADD231PS  Z17, Z20, Z1
	VFMADD231PS  Z18, Z20, Z2
	VFMADD231PS  Z19, Z20, Z3
	VFMADD231PS  Z16, Z21, Z4
	VFMADD231PS  Z17, Z21, Z5
	VFMADD231PS  Z18, Z21, Z6
	VFMADD231PS  Z19, Z21, Z7
	VFMADD231PS  Z16, Z22, Z8
	VFMADD231PS  Z17, Z22, Z9
	VFMADD231PS  Z18, Z22, Z10
	VFMADD231PS  Z19, Z22, Z11
	VFMADD231PS  Z16, Z23, Z12
	VFMADD231PS  Z17, Z23, Z13
	VFMADD231PS  Z18, Z23, Z14
	VFMADD231PS  Z19, Z23, Z15
	ADDQ         R10, SI
	ADDQ         R12, BX
	DECQ         CX
	JNZ          gk64loop

	LEAQ    (DI)(R11*2), DX
	MOVBLZX acc+64(FP), AX
	TESTQ   AX, AX
	JZ      gk64store
	VMOVUPS.Z (DI), K1, Z16
	VMOVUPS.Z 64(DI), K2, Z17
	VMOVUPS.Z 128(DI), K3, Z18
	VMOVUPS.Z 192(DI), K4, Z19
	VADDPS    Z16, Z0, Z0
	VADDPS    Z17, Z1, Z1
	VADDPS    Z18, Z2, Z2
	VADDPS    Z19, Z3, Z3
	VMOVUPS.Z (DI)(R11*1), K1, Z16
	VMOVUPS.Z 64(DI)(R11*1), K2, Z17
	VMOVUPS.Z 128(DI)(R11*1), K3, Z18
	VMOVUPS.Z 192(DI)(R11*1), K4, Z19
	VADDPS    Z16, Z4, Z4
	VADDPS    Z17, Z5, Z5
	VADDPS    Z18, Z6, Z6
	VADDPS    Z19, Z7, Z7
	VMOVUPS.Z (DX), K1, Z16
	VMOVUPS.Z 64(DX), K2, Z17
	VMOVUPS.Z 128(DX), K3, Z18
	VMOVUPS.Z 192(DX), K4, Z19
	VADDPS    Z16, Z8, Z8
	VADDPS    Z17, Z9, Z9
	VADDPS    Z18, Z10, Z10
	VADDPS    Z19, Z11, Z11
	VMOVUPS.Z (DX)(R11*1), K1, Z16
	VMOVUPS.Z 64(DX)(R11*1), K2, Z17
	VMOVUPS.Z 128(DX)(R11*1), K3, Z18
	VMOVUPS.Z 192(DX)(R11*1), K4, Z19
	VADDPS    Z16, Z12, Z12
	VADDPS    Z17, Z13, Z13
	VADDPS    Z18, Z14, Z14
	VADDPS    Z19, Z15, Z15

gk64store:
	VMOVUPS Z0, K1, (DI)
	VMOVUPS Z1, K2, 64(DI)
	VMOVUPS Z2, K3, 128(DI)
	VMOVUPS Z3, K4, 192(DI)
	VMOVUPS Z4, K1, (DI)(R11*1)
	VMOVUPS Z5, K2, 64(DI)(R11*1)
	VMOVUPS Z6, K3, 128(DI)(R11*1)
	VMOVUPS Z7, K4, 192(DI)(R11*1)
	VMOVUPS Z8, K1, (DX)
	VMOVUPS Z9, K2, 64(DX)
	VMOVUPS Z10, K3, 128(DX)
	VMOVUPS Z11, K4, 192(DX)
	VMOVUPS Z12, K1, (DX)(R11*1)
	VMOVUPS Z13, K2, 64(DX)(R11*1)
	VMOVUPS Z14, K3, 128(DX)(R11*1)
	VMOVUPS Z15, K4, 192(DX)(R11*1)
	VZEROUPPER
	RET

// func packPanel64Z(k int, b *float32, ldb int, panel *float32, cols uint64)
// panel[p*64+j] = b[p*ldb+j] for p < k, j < 64, reading only the columns
// whose bits are set in cols and writing zero for the others (k >= 1). Each
// row also prefetches the next 256 bytes, the same row of the next panel:
// with rows 4 KiB apart the hardware prefetchers do not follow.
TEXT ·packPanel64Z(SB), NOSPLIT, $0-40
	MOVQ  k+0(FP), CX
	MOVQ  b+8(FP), SI
	MOVQ  ldb+16(FP), R8
	SHLQ  $2, R8
	MOVQ  panel+24(FP), DI
	MOVQ  cols+32(FP), AX
	KMOVW AX, K1
	SHRQ  $16, AX
	KMOVW AX, K2
	SHRQ  $16, AX
	KMOVW AX, K3
	SHRQ  $16, AX
	KMOVW AX, K4

pp64loop:
	PREFETCHT0 256(SI)
	PREFETCHT0 320(SI)
	PREFETCHT0 384(SI)
	PREFETCHT0 448(SI)
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z 64(SI), K2, Z1
	VMOVUPS.Z 128(SI), K3, Z2
	VMOVUPS.Z 192(SI), K4, Z3
	VMOVUPS   Z0, (DI)
	VMOVUPS   Z1, 64(DI)
	VMOVUPS   Z2, 128(DI)
	VMOVUPS   Z3, 192(DI)
	ADDQ      R8, SI
	ADDQ      $256, DI
	DECQ      CX
	JNZ       pp64loop
	VZEROUPPER
	RET

// func gemmDot4x4Z(n16 int, tail uint64, a *float32, lda int, b *float32, ldb int, out *[16]float32)
// AVX-512 dot-product tile: out[4r+j] = Σ_p A[r][p]·B[j][p] over p <
// 16*n16 + t, rows of A at a+r*lda, rows of B at b+j*ldb, where tail holds
// t low one bits (t < 16; the last t elements are read with masked loads).
// Lane l of each accumulator sums p ≡ l (mod 16) in order with FMA; the 16
// lanes are then added as (l, l+8), then (l, l+4), (l, l+2), (l, l+1).
TEXT ·gemmDot4x4Z(SB), NOSPLIT, $0-56
	MOVQ n16+0(FP), CX
	MOVQ a+16(FP), SI
	MOVQ lda+24(FP), R8
	SHLQ $2, R8
	LEAQ (R8)(R8*2), R9
	MOVQ b+32(FP), BX
	MOVQ ldb+40(FP), R10
	SHLQ $2, R10
	LEAQ (R10)(R10*2), R11
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
	TESTQ CX, CX
	JZ    gd44tail

gd44loop:
	VMOVUPS (BX), Z16
	VMOVUPS (BX)(R10*1), Z17
	VMOVUPS (BX)(R10*2), Z18
	VMOVUPS (BX)(R11*1), Z19
	VMOVUPS (SI), Z20
	VMOVUPS (SI)(R8*1), Z21
	VMOVUPS (SI)(R8*2), Z22
	VMOVUPS (SI)(R9*1), Z23
	VFMADD231PS Z16, Z20, Z0
	VFMADD231PS Z17, Z20, Z2
	VFMADD231PS Z18, Z20, Z1
	VFMADD231PS Z19, Z20, Z3
	VFMADD231PS Z16, Z21, Z8
	VFMADD231PS Z17, Z21, Z10
	VFMADD231PS Z18, Z21, Z9
	VFMADD231PS Z19, Z21, Z11
	VFMADD231PS Z16, Z22, Z4
	VFMADD231PS Z17, Z22, Z6
	VFMADD231PS Z18, Z22, Z5
	VFMADD231PS Z19, Z22, Z7
	VFMADD231PS Z16, Z23, Z12
	VFMADD231PS Z17, Z23, Z14
	VFMADD231PS Z18, Z23, Z13
	VFMADD231PS Z19, Z23, Z15
	ADDQ $64, SI
	ADDQ $64, BX
	DECQ CX
	JNZ  gd44loop

gd44tail:
	MOVQ  tail+8(FP), AX
	TESTQ AX, AX
	JZ    gd44reduce
	KMOVW AX, K1
	VMOVUPS.Z (BX), K1, Z16
	VMOVUPS.Z (BX)(R10*1), K1, Z17
	VMOVUPS.Z (BX)(R10*2), K1, Z18
	VMOVUPS.Z (BX)(R11*1), K1, Z19
	VMOVUPS.Z (SI), K1, Z20
	VMOVUPS.Z (SI)(R8*1), K1, Z21
	VMOVUPS.Z (SI)(R8*2), K1, Z22
	VMOVUPS.Z (SI)(R9*1), K1, Z23
	VFMADD231PS Z16, Z20, Z0
	VFMADD231PS Z17, Z20, Z2
	VFMADD231PS Z18, Z20, Z1
	VFMADD231PS Z19, Z20, Z3
	VFMADD231PS Z16, Z21, Z8
	VFMADD231PS Z17, Z21, Z10
	VFMADD231PS Z18, Z21, Z9
	VFMADD231PS Z19, Z21, Z11
	VFMADD231PS Z16, Z22, Z4
	VFMADD231PS Z17, Z22, Z6
	VFMADD231PS Z18, Z22, Z5
	VFMADD231PS Z19, Z22, Z7
	VFMADD231PS Z16, Z23, Z12
	VFMADD231PS Z17, Z23, Z14
	VFMADD231PS Z18, Z23, Z13
	VFMADD231PS Z19, Z23, Z15

gd44reduce:
	VSHUFF64X2 $0x44, Z8, Z0, Z24
	VSHUFF64X2 $0xEE, Z8, Z0, Z25
	VADDPS     Z25, Z24, Z0
	VSHUFF64X2 $0x44, Z9, Z1, Z24
	VSHUFF64X2 $0xEE, Z9, Z1, Z25
	VADDPS     Z25, Z24, Z1
	VSHUFF64X2 $0x44, Z10, Z2, Z24
	VSHUFF64X2 $0xEE, Z10, Z2, Z25
	VADDPS     Z25, Z24, Z2
	VSHUFF64X2 $0x44, Z11, Z3, Z24
	VSHUFF64X2 $0xEE, Z11, Z3, Z25
	VADDPS     Z25, Z24, Z3
	VSHUFF64X2 $0x44, Z12, Z4, Z24
	VSHUFF64X2 $0xEE, Z12, Z4, Z25
	VADDPS     Z25, Z24, Z4
	VSHUFF64X2 $0x44, Z13, Z5, Z24
	VSHUFF64X2 $0xEE, Z13, Z5, Z25
	VADDPS     Z25, Z24, Z5
	VSHUFF64X2 $0x44, Z14, Z6, Z24
	VSHUFF64X2 $0xEE, Z14, Z6, Z25
	VADDPS     Z25, Z24, Z6
	VSHUFF64X2 $0x44, Z15, Z7, Z24
	VSHUFF64X2 $0xEE, Z15, Z7, Z25
	VADDPS     Z25, Z24, Z7
	VSHUFF32X4 $0x88, Z4, Z0, Z24
	VSHUFF32X4 $0xDD, Z4, Z0, Z25
	VADDPS     Z25, Z24, Z0
	VSHUFF32X4 $0x88, Z5, Z1, Z24
	VSHUFF32X4 $0xDD, Z5, Z1, Z25
	VADDPS     Z25, Z24, Z1
	VSHUFF32X4 $0x88, Z6, Z2, Z24
	VSHUFF32X4 $0xDD, Z6, Z2, Z25
	VADDPS     Z25, Z24, Z2
	VSHUFF32X4 $0x88, Z7, Z3, Z24
	VSHUFF32X4 $0xDD, Z7, Z3, Z25
	VADDPS     Z25, Z24, Z3
	VUNPCKLPD  Z2, Z0, Z24
	VUNPCKHPD  Z2, Z0, Z25
	VADDPS     Z25, Z24, Z0
	VUNPCKLPD  Z3, Z1, Z24
	VUNPCKHPD  Z3, Z1, Z25
	VADDPS     Z25, Z24, Z1
	VSHUFPS    $0x88, Z1, Z0, Z24
	VSHUFPS    $0xDD, Z1, Z0, Z25
	VADDPS     Z25, Z24, Z0
	MOVQ    out+48(FP), DI
	VMOVUPS Z0, (DI)
	VZEROUPPER
	RET

// HSUM reduces the 8 lanes of Y(acc) into its lowest lane using X(tmp).
#define HSUM(acc, xacc, xtmp) \
	VEXTRACTF128 $1, acc, xtmp \
	VADDPS       xtmp, xacc, xacc \
	VHADDPS      xacc, xacc, xacc \
	VHADDPS      xacc, xacc, xacc

// func gemmDot4x3(n8, tail int, a *float32, lda int, b *float32, ldb int, mask *int32, out *[12]float32)
// out[3r+j] = Σ_p A[r][p]·B[j][p] over p < 8*n8+tail, rows of A at a+r*lda,
// rows of B at b+j*ldb; mask holds tail all-ones lanes then zeros. Lane l of
// the accumulator sums p ≡ l (mod 8) in order; lanes are then added pairwise.
TEXT ·gemmDot4x3(SB), NOSPLIT, $0-64
	MOVQ n8+0(FP), CX
	MOVQ a+16(FP), SI
	MOVQ lda+24(FP), R8
	SHLQ $2, R8
	LEAQ (R8)(R8*2), R9
	MOVQ b+32(FP), BX
	MOVQ ldb+40(FP), R10
	SHLQ $2, R10
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	TESTQ  CX, CX
	JZ     gd43tail

gd43loop:
	VMOVUPS     (BX), Y12
	VMOVUPS     (BX)(R10*1), Y13
	VMOVUPS     (BX)(R10*2), Y14
	VMOVUPS     (SI), Y15
	VFMADD231PS Y12, Y15, Y0
	VFMADD231PS Y13, Y15, Y1
	VFMADD231PS Y14, Y15, Y2
	VMOVUPS     (SI)(R8*1), Y15
	VFMADD231PS Y12, Y15, Y3
	VFMADD231PS Y13, Y15, Y4
	VFMADD231PS Y14, Y15, Y5
	VMOVUPS     (SI)(R8*2), Y15
	VFMADD231PS Y12, Y15, Y6
	VFMADD231PS Y13, Y15, Y7
	VFMADD231PS Y14, Y15, Y8
	VMOVUPS     (SI)(R9*1), Y15
	VFMADD231PS Y12, Y15, Y9
	VFMADD231PS Y13, Y15, Y10
	VFMADD231PS Y14, Y15, Y11
	ADDQ        $32, SI
	ADDQ        $32, BX
	DECQ        CX
	JNZ         gd43loop

gd43tail:
	MOVQ        tail+8(FP), AX
	TESTQ       AX, AX
	JZ          gd43reduce
	MOVQ        mask+48(FP), DX
	VMOVUPS     (DX), Y15
	VMASKMOVPS  (BX), Y15, Y12
	VMASKMOVPS  (BX)(R10*1), Y15, Y13
	VMASKMOVPS  (BX)(R10*2), Y15, Y14
	VMASKMOVPS  (SI), Y15, Y15
	VFMADD231PS Y12, Y15, Y0
	VFMADD231PS Y13, Y15, Y1
	VFMADD231PS Y14, Y15, Y2
	VMOVUPS     (DX), Y15
	VMASKMOVPS  (SI)(R8*1), Y15, Y15
	VFMADD231PS Y12, Y15, Y3
	VFMADD231PS Y13, Y15, Y4
	VFMADD231PS Y14, Y15, Y5
	VMOVUPS     (DX), Y15
	VMASKMOVPS  (SI)(R8*2), Y15, Y15
	VFMADD231PS Y12, Y15, Y6
	VFMADD231PS Y13, Y15, Y7
	VFMADD231PS Y14, Y15, Y8
	VMOVUPS     (DX), Y15
	VMASKMOVPS  (SI)(R9*1), Y15, Y15
	VFMADD231PS Y12, Y15, Y9
	VFMADD231PS Y13, Y15, Y10
	VFMADD231PS Y14, Y15, Y11

gd43reduce:
	MOVQ   out+56(FP), DI
	HSUM(Y0, X0, X12)
	VMOVSS X0, (DI)
	HSUM(Y1, X1, X12)
	VMOVSS X1, 4(DI)
	HSUM(Y2, X2, X12)
	VMOVSS X2, 8(DI)
	HSUM(Y3, X3, X12)
	VMOVSS X3, 12(DI)
	HSUM(Y4, X4, X12)
	VMOVSS X4, 16(DI)
	HSUM(Y5, X5, X12)
	VMOVSS X5, 20(DI)
	HSUM(Y6, X6, X12)
	VMOVSS X6, 24(DI)
	HSUM(Y7, X7, X12)
	VMOVSS X7, 28(DI)
	HSUM(Y8, X8, X12)
	VMOVSS X8, 32(DI)
	HSUM(Y9, X9, X12)
	VMOVSS X9, 36(DI)
	HSUM(Y10, X10, X12)
	VMOVSS X10, 40(DI)
	HSUM(Y11, X11, X12)
	VMOVSS X11, 44(DI)
	VZEROUPPER
	RET

// func flatConvK(n int, src *float32, offs *int, ntaps int, wts *float32, dst *float32)
// dst[q] = Σ_t wts[t]·src[q+offs[t]] for q < n (n a multiple of 8, ntaps >= 1),
// t summed in order from zero with FMA.
TEXT ·flatConvK(SB), NOSPLIT, $0-48
	MOVQ n+0(FP), CX
	MOVQ src+8(FP), SI
	MOVQ offs+16(FP), R8
	MOVQ ntaps+24(FP), R9
	MOVQ wts+32(FP), R10
	MOVQ dst+40(FP), DI

fc64:
	CMPQ   CX, $64
	JLT    fc32
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	MOVQ   R8, R11
	MOVQ   R10, R12
	MOVQ   R9, R13

fc64tap:
	VBROADCASTSS (R12), Y8
	MOVQ         (R11), AX
	LEAQ         (SI)(AX*4), AX
	VFMADD231PS  (AX), Y8, Y0
	VFMADD231PS  32(AX), Y8, Y1
	VFMADD231PS  64(AX), Y8, Y2
	VFMADD231PS  96(AX), Y8, Y3
	VFMADD231PS  128(AX), Y8, Y4
	VFMADD231PS  160(AX), Y8, Y5
	VFMADD231PS  192(AX), Y8, Y6
	VFMADD231PS  224(AX), Y8, Y7
	ADDQ         $8, R11
	ADDQ         $4, R12
	DECQ         R13
	JNZ          fc64tap
	VMOVUPS      Y0, (DI)
	VMOVUPS      Y1, 32(DI)
	VMOVUPS      Y2, 64(DI)
	VMOVUPS      Y3, 96(DI)
	VMOVUPS      Y4, 128(DI)
	VMOVUPS      Y5, 160(DI)
	VMOVUPS      Y6, 192(DI)
	VMOVUPS      Y7, 224(DI)
	ADDQ         $256, SI
	ADDQ         $256, DI
	SUBQ         $64, CX
	JMP          fc64

fc32:
	CMPQ   CX, $32
	JLT    fc8
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	MOVQ   R8, R11
	MOVQ   R10, R12
	MOVQ   R9, R13

fc32tap:
	VBROADCASTSS (R12), Y8
	MOVQ         (R11), AX
	LEAQ         (SI)(AX*4), AX
	VFMADD231PS  (AX), Y8, Y0
	VFMADD231PS  32(AX), Y8, Y1
	VFMADD231PS  64(AX), Y8, Y2
	VFMADD231PS  96(AX), Y8, Y3
	ADDQ         $8, R11
	ADDQ         $4, R12
	DECQ         R13
	JNZ          fc32tap
	VMOVUPS      Y0, (DI)
	VMOVUPS      Y1, 32(DI)
	VMOVUPS      Y2, 64(DI)
	VMOVUPS      Y3, 96(DI)
	ADDQ         $128, SI
	ADDQ         $128, DI
	SUBQ         $32, CX

fc8:
	TESTQ  CX, CX
	JZ     fcdone
	VXORPS Y0, Y0, Y0
	MOVQ   R8, R11
	MOVQ   R10, R12
	MOVQ   R9, R13

fc8tap:
	VBROADCASTSS (R12), Y8
	MOVQ         (R11), AX
	VFMADD231PS  (SI)(AX*4), Y8, Y0
	ADDQ         $8, R11
	ADDQ         $4, R12
	DECQ         R13
	JNZ          fc8tap
	VMOVUPS      Y0, (DI)
	ADDQ         $32, SI
	ADDQ         $32, DI
	SUBQ         $8, CX
	JMP          fc8

fcdone:
	VZEROUPPER
	RET

// func flatDotsK(n int, x, src *float32, offs *int, ntaps int, out *float32)
// out[t] = Σ_{q<n} x[q]·src[q+offs[t]] (n a multiple of 8, ntaps >= 1). Four
// accumulators per tap take the 8-element blocks of each 32-element block in
// turn, the last n mod 32 elements go to the first, then
// ((acc0+acc1)+(acc2+acc3)) and the lanes are added pairwise. Taps are done
// two at a time sharing the loads of x (the order per tap is the same).
TEXT ·flatDotsK(SB), NOSPLIT, $0-48
	MOVQ x+8(FP), R10
	MOVQ src+16(FP), SI
	MOVQ offs+24(FP), R8
	MOVQ ntaps+32(FP), R9
	MOVQ out+40(FP), DI

fdpair:
	CMPQ   R9, $2
	JLT    fdtap
	MOVQ   n+0(FP), CX
	MOVQ   R10, DX
	MOVQ   (R8), AX
	LEAQ   (SI)(AX*4), AX
	MOVQ   8(R8), BX
	LEAQ   (SI)(BX*4), BX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7

fdp32:
	CMPQ        CX, $32
	JLT         fdp8
	VMOVUPS     (DX), Y8
	VMOVUPS     32(DX), Y9
	VMOVUPS     64(DX), Y10
	VMOVUPS     96(DX), Y11
	VFMADD231PS (AX), Y8, Y0
	VFMADD231PS 32(AX), Y9, Y1
	VFMADD231PS 64(AX), Y10, Y2
	VFMADD231PS 96(AX), Y11, Y3
	VFMADD231PS (BX), Y8, Y4
	VFMADD231PS 32(BX), Y9, Y5
	VFMADD231PS 64(BX), Y10, Y6
	VFMADD231PS 96(BX), Y11, Y7
	ADDQ        $128, AX
	ADDQ        $128, BX
	ADDQ        $128, DX
	SUBQ        $32, CX
	JMP         fdp32

fdp8:
	TESTQ       CX, CX
	JZ          fdpred
	VMOVUPS     (DX), Y8
	VFMADD231PS (AX), Y8, Y0
	VFMADD231PS (BX), Y8, Y4
	ADDQ        $32, AX
	ADDQ        $32, BX
	ADDQ        $32, DX
	SUBQ        $8, CX
	JMP         fdp8

fdpred:
	VADDPS Y1, Y0, Y0
	VADDPS Y3, Y2, Y2
	VADDPS Y2, Y0, Y0
	HSUM(Y0, X0, X1)
	VMOVSS X0, (DI)
	VADDPS Y5, Y4, Y4
	VADDPS Y7, Y6, Y6
	VADDPS Y6, Y4, Y4
	HSUM(Y4, X4, X5)
	VMOVSS X4, 4(DI)
	ADDQ   $8, DI
	ADDQ   $16, R8
	SUBQ   $2, R9
	JMP    fdpair

fdtap:
	TESTQ  R9, R9
	JZ     fddone
	MOVQ   n+0(FP), CX
	MOVQ   R10, DX
	MOVQ   (R8), AX
	LEAQ   (SI)(AX*4), AX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3

fd32:
	CMPQ        CX, $32
	JLT         fd8
	VMOVUPS     (DX), Y4
	VMOVUPS     32(DX), Y5
	VMOVUPS     64(DX), Y6
	VMOVUPS     96(DX), Y7
	VFMADD231PS (AX), Y4, Y0
	VFMADD231PS 32(AX), Y5, Y1
	VFMADD231PS 64(AX), Y6, Y2
	VFMADD231PS 96(AX), Y7, Y3
	ADDQ        $128, AX
	ADDQ        $128, DX
	SUBQ        $32, CX
	JMP         fd32

fd8:
	TESTQ       CX, CX
	JZ          fdred
	VMOVUPS     (DX), Y4
	VFMADD231PS (AX), Y4, Y0
	ADDQ        $32, AX
	ADDQ        $32, DX
	SUBQ        $8, CX
	JMP         fd8

fdred:
	VADDPS Y1, Y0, Y0
	VADDPS Y3, Y2, Y2
	VADDPS Y2, Y0, Y0
	HSUM(Y0, X0, X1)
	VMOVSS X0, (DI)

fddone:
	VZEROUPPER
	RET

// func deinterleaveK(rows, n16 int, src *float32, ss int, even, odd *float32, ds int)
// For r < rows: even[r*ds+j] = src[r*ss+2j], odd[r*ds+j] = src[r*ss+2j+1]
// for j < 8*n16 (rows, n16 >= 1).
TEXT ·deinterleaveK(SB), NOSPLIT, $0-56
	MOVQ rows+0(FP), R8
	MOVQ src+16(FP), SI
	MOVQ ss+24(FP), R9
	SHLQ $2, R9
	MOVQ even+32(FP), DI
	MOVQ odd+40(FP), DX
	MOVQ ds+48(FP), R10
	SHLQ $2, R10

dilrow:
	MOVQ n16+8(FP), CX
	XORQ AX, AX // byte offset in the source row
	XORQ BX, BX // byte offset in the destination rows

dilloop:
	VMOVUPS (SI)(AX*1), Y0
	VMOVUPS 32(SI)(AX*1), Y1
	VSHUFPS $0x88, Y1, Y0, Y2 // a0 a2 b0 b2 | a4 a6 b4 b6
	VSHUFPS $0xDD, Y1, Y0, Y3 // a1 a3 b1 b3 | a5 a7 b5 b7
	VPERMPD $0xD8, Y2, Y2     // a0 a2 a4 a6 b0 b2 b4 b6
	VPERMPD $0xD8, Y3, Y3
	VMOVUPS Y2, (DI)(BX*1)
	VMOVUPS Y3, (DX)(BX*1)
	ADDQ    $64, AX
	ADDQ    $32, BX
	DECQ    CX
	JNZ     dilloop
	ADDQ    R9, SI
	ADDQ    R10, DI
	ADDQ    R10, DX
	DECQ    R8
	JNZ     dilrow
	VZEROUPPER
	RET

// func addStrided2K(rows, n8 int, dst *float32, ds int, src *float32, ss int, odd bool)
// For r < rows: dst[r*ds+2j+odd] += src[r*ss+j] for j < 8*n8 (rows, n8 >= 1),
// by adding the interleave of src with zeros to dst[r*ds : r*ds+16*n8] (the
// other positions get +0).
TEXT ·addStrided2K(SB), NOSPLIT, $0-49
	MOVQ    rows+0(FP), R8
	MOVQ    dst+16(FP), DI
	MOVQ    ds+24(FP), R9
	SHLQ    $2, R9
	MOVQ    src+32(FP), SI
	MOVQ    ss+40(FP), R10
	SHLQ    $2, R10
	MOVBLZX odd+48(FP), DX
	VXORPS  Y8, Y8, Y8

as2row:
	MOVQ  n8+8(FP), CX
	XORQ  AX, AX // byte offset in the source row
	XORQ  BX, BX // byte offset in the destination row
	TESTQ DX, DX
	JNZ   as2odd

as2even:
	VMOVUPS    (SI)(AX*1), Y0
	VUNPCKLPS  Y8, Y0, Y2       // s0 0 s1 0 | s4 0 s5 0
	VUNPCKHPS  Y8, Y0, Y3       // s2 0 s3 0 | s6 0 s7 0
	VPERM2F128 $0x20, Y3, Y2, Y4
	VPERM2F128 $0x31, Y3, Y2, Y5
	VADDPS     (DI)(BX*1), Y4, Y4
	VADDPS     32(DI)(BX*1), Y5, Y5
	VMOVUPS    Y4, (DI)(BX*1)
	VMOVUPS    Y5, 32(DI)(BX*1)
	ADDQ       $32, AX
	ADDQ       $64, BX
	DECQ       CX
	JNZ        as2even
	JMP        as2next

as2odd:
	VMOVUPS    (SI)(AX*1), Y0
	VUNPCKLPS  Y0, Y8, Y2       // 0 s0 0 s1 | 0 s4 0 s5
	VUNPCKHPS  Y0, Y8, Y3
	VPERM2F128 $0x20, Y3, Y2, Y4
	VPERM2F128 $0x31, Y3, Y2, Y5
	VADDPS     (DI)(BX*1), Y4, Y4
	VADDPS     32(DI)(BX*1), Y5, Y5
	VMOVUPS    Y4, (DI)(BX*1)
	VMOVUPS    Y5, 32(DI)(BX*1)
	ADDQ       $32, AX
	ADDQ       $64, BX
	DECQ       CX
	JNZ        as2odd

as2next:
	ADDQ R9, DI
	ADDQ R10, SI
	DECQ R8
	JNZ  as2row
	VZEROUPPER
	RET

// func packPanel24K(k int, b *float32, ldb int, panel *float32)
// panel[p*24 : p*24+24] = b[p*ldb : p*ldb+24] for p < k (k >= 1), each row
// prefetching the next panel's part of it (as packPanel64Z).
TEXT ·packPanel24K(SB), NOSPLIT, $0-32
	MOVQ k+0(FP), CX
	MOVQ b+8(FP), SI
	MOVQ ldb+16(FP), R8
	SHLQ $2, R8
	MOVQ panel+24(FP), DI

pp24loop:
	PREFETCHT0 96(SI)
	PREFETCHT0 160(SI)
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS 64(SI), Y2
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	ADDQ    R8, SI
	ADDQ    $96, DI
	DECQ    CX
	JNZ     pp24loop
	VZEROUPPER
	RET

// func copyRowsK(rows, w8 int, mask *int32, src *float32, sstride int, dst *float32, dstride int, add bool)
// For r < rows: dst[r*dstride + i] = src[r*sstride + i] (or += when add) for
// i < 8*w8 + t, where mask (nil when t = 0) holds t all-ones lanes then zeros;
// the tail is read and written with masked moves.
TEXT ·copyRowsK(SB), NOSPLIT, $0-57
	MOVQ    rows+0(FP), CX
	MOVQ    mask+16(FP), DX
	MOVQ    src+24(FP), SI
	MOVQ    sstride+32(FP), R8
	SHLQ    $2, R8
	MOVQ    dst+40(FP), DI
	MOVQ    dstride+48(FP), R9
	SHLQ    $2, R9
	MOVBLZX add+56(FP), R12
	TESTQ   DX, DX
	JZ      crrow
	VMOVUPS (DX), Y15

crrow:
	MOVQ w8+8(FP), BX
	XORQ AX, AX // byte offset in the row
	TESTQ BX, BX
	JZ   crtail

crvec:
	VMOVUPS (SI)(AX*1), Y0
	TESTQ   R12, R12
	JZ      crstore
	VADDPS  (DI)(AX*1), Y0, Y0

crstore:
	VMOVUPS Y0, (DI)(AX*1)
	ADDQ    $32, AX
	DECQ    BX
	JNZ     crvec

crtail:
	TESTQ      DX, DX
	JZ         crnext
	VMASKMOVPS (SI)(AX*1), Y15, Y0
	TESTQ      R12, R12
	JZ         crtstore
	VMASKMOVPS (DI)(AX*1), Y15, Y1
	VADDPS     Y1, Y0, Y0

crtstore:
	VMASKMOVPS Y0, Y15, (DI)(AX*1)

crnext:
	ADDQ R8, SI
	ADDQ R9, DI
	DECQ CX
	JNZ  crrow
	VZEROUPPER
	RET

// func dwTilesK(shape, nr int, src *float32, ss int, offs *int, ntaps int, wts *float32, dst *float32, ds int, add bool)
// A 2-D multi-tap filter over tiles of 8-float vectors, stacked down nr
// times: for every element (r, i) of the tiles, v = Σ_t wts[t]·src[r*ss +
// i + offs[t]], t summed in order from zero with FMA, then dst[r*ds + i] = v
// (or dst += v when add). shape gives the tile's rows × vectors: 0: 1×8,
// 1: 2×4, 2: 4×2, 3: 8×1, 4: 1×1 (ntaps >= 1, nr >= 1).
#define DWT_ZERO \
	VXORPS Y0, Y0, Y0 \
	VXORPS Y1, Y1, Y1 \
	VXORPS Y2, Y2, Y2 \
	VXORPS Y3, Y3, Y3 \
	VXORPS Y4, Y4, Y4 \
	VXORPS Y5, Y5, Y5 \
	VXORPS Y6, Y6, Y6 \
	VXORPS Y7, Y7, Y7

#define DWT_TAP \
	VBROADCASTSS (R12), Y8 \
	MOVQ         (R11), AX \
	LEAQ         (SI)(AX*4), AX

#define DWT_NEXT \
	ADDQ $8, R11 \
	ADDQ $4, R12 \
	DECQ CX

TEXT ·dwTilesK(SB), NOSPLIT, $0-73
	MOVQ    nr+8(FP), R8
	MOVQ    src+16(FP), SI
	MOVQ    ss+24(FP), BX
	SHLQ    $2, BX
	MOVQ    dst+56(FP), DI
	MOVQ    ds+64(FP), R13
	SHLQ    $2, R13
	MOVBLZX add+72(FP), R9
	MOVQ    shape+0(FP), AX
	CMPQ    AX, $0
	JEQ     dwt18
	CMPQ    AX, $1
	JEQ     dwt24
	CMPQ    AX, $2
	JEQ     dwt42
	CMPQ    AX, $3
	JEQ     dwt81
	JMP     dwt11

dwt18:
	DWT_ZERO
	MOVQ offs+32(FP), R11
	MOVQ wts+48(FP), R12
	MOVQ ntaps+40(FP), CX

dwt18tap:
	DWT_TAP
	VFMADD231PS (AX), Y8, Y0
	VFMADD231PS 32(AX), Y8, Y1
	VFMADD231PS 64(AX), Y8, Y2
	VFMADD231PS 96(AX), Y8, Y3
	VFMADD231PS 128(AX), Y8, Y4
	VFMADD231PS 160(AX), Y8, Y5
	VFMADD231PS 192(AX), Y8, Y6
	VFMADD231PS 224(AX), Y8, Y7
	DWT_NEXT
	JNZ         dwt18tap
	TESTQ       R9, R9
	JZ          dwt18st
	VADDPS      (DI), Y0, Y0
	VADDPS      32(DI), Y1, Y1
	VADDPS      64(DI), Y2, Y2
	VADDPS      96(DI), Y3, Y3
	VADDPS      128(DI), Y4, Y4
	VADDPS      160(DI), Y5, Y5
	VADDPS      192(DI), Y6, Y6
	VADDPS      224(DI), Y7, Y7

dwt18st:
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	VMOVUPS Y4, 128(DI)
	VMOVUPS Y5, 160(DI)
	VMOVUPS Y6, 192(DI)
	VMOVUPS Y7, 224(DI)
	ADDQ    BX, SI
	ADDQ    R13, DI
	DECQ    R8
	JNZ     dwt18
	JMP     dwtdone

dwt24:
	DWT_ZERO
	MOVQ offs+32(FP), R11
	MOVQ wts+48(FP), R12
	MOVQ ntaps+40(FP), CX

dwt24tap:
	DWT_TAP
	VFMADD231PS (AX), Y8, Y0
	VFMADD231PS 32(AX), Y8, Y1
	VFMADD231PS 64(AX), Y8, Y2
	VFMADD231PS 96(AX), Y8, Y3
	VFMADD231PS (AX)(BX*1), Y8, Y4
	VFMADD231PS 32(AX)(BX*1), Y8, Y5
	VFMADD231PS 64(AX)(BX*1), Y8, Y6
	VFMADD231PS 96(AX)(BX*1), Y8, Y7
	DWT_NEXT
	JNZ         dwt24tap
	TESTQ       R9, R9
	JZ          dwt24st
	VADDPS      (DI), Y0, Y0
	VADDPS      32(DI), Y1, Y1
	VADDPS      64(DI), Y2, Y2
	VADDPS      96(DI), Y3, Y3
	VADDPS      (DI)(R13*1), Y4, Y4
	VADDPS      32(DI)(R13*1), Y5, Y5
	VADDPS      64(DI)(R13*1), Y6, Y6
	VADDPS      96(DI)(R13*1), Y7, Y7

dwt24st:
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	VMOVUPS Y4, (DI)(R13*1)
	VMOVUPS Y5, 32(DI)(R13*1)
	VMOVUPS Y6, 64(DI)(R13*1)
	VMOVUPS Y7, 96(DI)(R13*1)
	LEAQ    (SI)(BX*2), SI
	LEAQ    (DI)(R13*2), DI
	DECQ    R8
	JNZ     dwt24
	JMP     dwtdone

dwt42:
	DWT_ZERO
	MOVQ offs+32(FP), R11
	MOVQ wts+48(FP), R12
	MOVQ ntaps+40(FP), CX

dwt42tap:
	DWT_TAP
	LEAQ        (AX)(BX*2), DX
	VFMADD231PS (AX), Y8, Y0
	VFMADD231PS 32(AX), Y8, Y1
	VFMADD231PS (AX)(BX*1), Y8, Y2
	VFMADD231PS 32(AX)(BX*1), Y8, Y3
	VFMADD231PS (DX), Y8, Y4
	VFMADD231PS 32(DX), Y8, Y5
	VFMADD231PS (DX)(BX*1), Y8, Y6
	VFMADD231PS 32(DX)(BX*1), Y8, Y7
	DWT_NEXT
	JNZ         dwt42tap
	LEAQ        (DI)(R13*2), DX
	TESTQ       R9, R9
	JZ          dwt42st
	VADDPS      (DI), Y0, Y0
	VADDPS      32(DI), Y1, Y1
	VADDPS      (DI)(R13*1), Y2, Y2
	VADDPS      32(DI)(R13*1), Y3, Y3
	VADDPS      (DX), Y4, Y4
	VADDPS      32(DX), Y5, Y5
	VADDPS      (DX)(R13*1), Y6, Y6
	VADDPS      32(DX)(R13*1), Y7, Y7

dwt42st:
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, (DI)(R13*1)
	VMOVUPS Y3, 32(DI)(R13*1)
	VMOVUPS Y4, (DX)
	VMOVUPS Y5, 32(DX)
	VMOVUPS Y6, (DX)(R13*1)
	VMOVUPS Y7, 32(DX)(R13*1)
	LEAQ    (SI)(BX*4), SI
	LEAQ    (DI)(R13*4), DI
	DECQ    R8
	JNZ     dwt42
	JMP     dwtdone

dwt81:
	DWT_ZERO
	MOVQ offs+32(FP), R11
	MOVQ wts+48(FP), R12
	MOVQ ntaps+40(FP), CX

dwt81tap:
	DWT_TAP
	VFMADD231PS (AX), Y8, Y0
	VFMADD231PS (AX)(BX*1), Y8, Y1
	VFMADD231PS (AX)(BX*2), Y8, Y2
	LEAQ        (AX)(BX*2), DX
	VFMADD231PS (DX)(BX*1), Y8, Y3
	VFMADD231PS (AX)(BX*4), Y8, Y4
	LEAQ        (AX)(BX*4), DX
	VFMADD231PS (DX)(BX*1), Y8, Y5
	VFMADD231PS (DX)(BX*2), Y8, Y6
	LEAQ        (DX)(BX*2), DX
	VFMADD231PS (DX)(BX*1), Y8, Y7
	DWT_NEXT
	JNZ         dwt81tap
	TESTQ       R9, R9
	JZ          dwt81st
	VADDPS      (DI), Y0, Y0
	VADDPS      (DI)(R13*1), Y1, Y1
	VADDPS      (DI)(R13*2), Y2, Y2
	LEAQ        (DI)(R13*2), DX
	VADDPS      (DX)(R13*1), Y3, Y3
	VADDPS      (DI)(R13*4), Y4, Y4
	LEAQ        (DI)(R13*4), DX
	VADDPS      (DX)(R13*1), Y5, Y5
	VADDPS      (DX)(R13*2), Y6, Y6
	LEAQ        (DX)(R13*2), DX
	VADDPS      (DX)(R13*1), Y7, Y7

dwt81st:
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, (DI)(R13*1)
	VMOVUPS Y2, (DI)(R13*2)
	LEAQ    (DI)(R13*2), DX
	VMOVUPS Y3, (DX)(R13*1)
	VMOVUPS Y4, (DI)(R13*4)
	LEAQ    (DI)(R13*4), DX
	VMOVUPS Y5, (DX)(R13*1)
	VMOVUPS Y6, (DX)(R13*2)
	LEAQ    (DX)(R13*2), DX
	VMOVUPS Y7, (DX)(R13*1)
	LEAQ    (SI)(BX*8), SI
	LEAQ    (DI)(R13*8), DI
	DECQ    R8
	JNZ     dwt81
	JMP     dwtdone

dwt11:
	VXORPS Y0, Y0, Y0
	MOVQ   offs+32(FP), R11
	MOVQ   wts+48(FP), R12
	MOVQ   ntaps+40(FP), CX

dwt11tap:
	DWT_TAP
	VFMADD231PS (AX), Y8, Y0
	DWT_NEXT
	JNZ         dwt11tap
	TESTQ       R9, R9
	JZ          dwt11st
	VADDPS      (DI), Y0, Y0

dwt11st:
	VMOVUPS Y0, (DI)
	ADDQ    BX, SI
	ADDQ    R13, DI
	DECQ    R8
	JNZ     dwt11

dwtdone:
	VZEROUPPER
	RET

// func dwDotsK(rows, w8 int, x *float32, xs int, src *float32, ss int, offs *int, ntaps int, out *float32)
// out[t] = Σ_{r<rows, i<8*w8} x[r*xs+i]·src[r*ss+i+offs[t]] (rows, w8,
// ntaps >= 1). Per tap, accumulator A sums the even rows and B the odd rows,
// each row by row and vector by vector in order (lane l takes i ≡ l mod 8),
// then out[t] is the pairwise lane sum of A+B. Taps go four at a time
// sharing the loads of x, then one at a time.
#define DWD_FMA4(xv, col, a0, a1, a2, a3) \
	VFMADD231PS (AX)(col*1), xv, a0 \
	VFMADD231PS (BX)(col*1), xv, a1 \
	VFMADD231PS (DX)(col*1), xv, a2 \
	VFMADD231PS (SI)(col*1), xv, a3

#define DWD_OUT(a, b, xa, xb, dst) \
	VADDPS a, b, a \
	HSUM(a, xa, xb) \
	VMOVSS xa, dst

TEXT ·dwDotsK(SB), NOSPLIT, $24-72
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

dwdquad:
	CMPQ left-16(SP), $4
	JLT  dwdone
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
	DWT_ZERO
	MOVQ rows+0(FP), R11

dwdqpair:
	CMPQ R11, $2
	JLT  dwdqlast
	XORQ CX, CX
	MOVQ R12, R8
	MOVQ R13, R9
	MOVQ w8+8(FP), R10

dwdqpcol:
	VMOVUPS (DI)(CX*1), Y8
	VMOVUPS (DI)(R9*1), Y9
	DWD_FMA4(Y8, CX, Y0, Y2, Y4, Y6)
	DWD_FMA4(Y9, R8, Y1, Y3, Y5, Y7)
	ADDQ    $32, CX
	ADDQ    $32, R8
	ADDQ    $32, R9
	DECQ    R10
	JNZ     dwdqpcol
	LEAQ    (AX)(R12*2), AX
	LEAQ    (BX)(R12*2), BX
	LEAQ    (DX)(R12*2), DX
	LEAQ    (SI)(R12*2), SI
	LEAQ    (DI)(R13*2), DI
	SUBQ    $2, R11
	JMP     dwdqpair

dwdqlast:
	TESTQ R11, R11
	JZ    dwdqout
	XORQ  CX, CX
	MOVQ  w8+8(FP), R10

dwdqlcol:
	VMOVUPS (DI)(CX*1), Y8
	DWD_FMA4(Y8, CX, Y0, Y2, Y4, Y6)
	ADDQ    $32, CX
	DECQ    R10
	JNZ     dwdqlcol

dwdqout:
	MOVQ outp-24(SP), R8
	DWD_OUT(Y0, Y1, X0, X1, (R8))
	DWD_OUT(Y2, Y3, X2, X3, 4(R8))
	DWD_OUT(Y4, Y5, X4, X5, 8(R8))
	DWD_OUT(Y6, Y7, X6, X7, 12(R8))
	ADDQ $16, outp-24(SP)
	ADDQ $32, offp-8(SP)
	SUBQ $4, left-16(SP)
	JMP  dwdquad

dwdone:
	CMPQ   left-16(SP), $0
	JEQ    dwddone
	MOVQ   src+32(FP), CX
	MOVQ   offp-8(SP), R8
	MOVQ   (R8), AX
	LEAQ   (CX)(AX*4), AX
	MOVQ   x+16(FP), DI
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	MOVQ   rows+0(FP), R11

dwdopair:
	CMPQ R11, $2
	JLT  dwdolast
	XORQ CX, CX
	LEAQ (AX)(R12*1), BX
	LEAQ (DI)(R13*1), DX
	MOVQ w8+8(FP), SI

dwdopcol:
	VMOVUPS     (DI)(CX*1), Y8
	VMOVUPS     (DX)(CX*1), Y9
	VFMADD231PS (AX)(CX*1), Y8, Y0
	VFMADD231PS (BX)(CX*1), Y9, Y1
	ADDQ        $32, CX
	DECQ        SI
	JNZ         dwdopcol
	LEAQ        (AX)(R12*2), AX
	LEAQ        (DI)(R13*2), DI
	SUBQ        $2, R11
	JMP         dwdopair

dwdolast:
	TESTQ R11, R11
	JZ    dwdoout
	XORQ  CX, CX
	MOVQ  w8+8(FP), SI

dwdolcol:
	VMOVUPS     (DI)(CX*1), Y8
	VFMADD231PS (AX)(CX*1), Y8, Y0
	ADDQ        $32, CX
	DECQ        SI
	JNZ         dwdolcol

dwdoout:
	MOVQ outp-24(SP), R8
	DWD_OUT(Y0, Y1, X0, X1, (R8))
	ADDQ $4, outp-24(SP)
	ADDQ $8, offp-8(SP)
	DECQ left-16(SP)
	JMP  dwdone

dwddone:
	VZEROUPPER
	RET

// func transposePanelK(nr8, k8 int, b *float32, ldb int, panel *float32, ldp int)
// panel[p*ldp + j] = b[j*ldb + p] for j < 8*nr8, p < 8*k8 (nr8, k8 >= 1), in
// 8×8 blocks (unpack, shuffle, 128-bit permute).
TEXT ·transposePanelK(SB), NOSPLIT, $0-48
	MOVQ nr8+0(FP), DX
	MOVQ b+16(FP), SI
	MOVQ ldb+24(FP), R8
	SHLQ $2, R8
	LEAQ (R8)(R8*2), R9
	MOVQ panel+32(FP), DI
	MOVQ ldp+40(FP), R11
	SHLQ $2, R11
	LEAQ (R11)(R11*2), R12

tpgroup:
	MOVQ k8+8(FP), CX
	MOVQ SI, AX
	LEAQ (SI)(R8*4), BX
	MOVQ DI, R10

tpblock:
	VMOVUPS     (AX), Y0
	VMOVUPS     (AX)(R8*1), Y1
	VMOVUPS     (AX)(R8*2), Y2
	VMOVUPS     (AX)(R9*1), Y3
	VMOVUPS     (BX), Y4
	VMOVUPS     (BX)(R8*1), Y5
	VMOVUPS     (BX)(R8*2), Y6
	VMOVUPS     (BX)(R9*1), Y7
	VUNPCKLPS   Y1, Y0, Y8
	VUNPCKHPS   Y1, Y0, Y9
	VUNPCKLPS   Y3, Y2, Y10
	VUNPCKHPS   Y3, Y2, Y11
	VUNPCKLPS   Y5, Y4, Y12
	VUNPCKHPS   Y5, Y4, Y13
	VUNPCKLPS   Y7, Y6, Y14
	VUNPCKHPS   Y7, Y6, Y15
	VSHUFPS     $0x44, Y10, Y8, Y0
	VSHUFPS     $0xEE, Y10, Y8, Y1
	VSHUFPS     $0x44, Y11, Y9, Y2
	VSHUFPS     $0xEE, Y11, Y9, Y3
	VSHUFPS     $0x44, Y14, Y12, Y4
	VSHUFPS     $0xEE, Y14, Y12, Y5
	VSHUFPS     $0x44, Y15, Y13, Y6
	VSHUFPS     $0xEE, Y15, Y13, Y7
	VPERM2F128  $0x20, Y4, Y0, Y8
	VPERM2F128  $0x20, Y5, Y1, Y9
	VPERM2F128  $0x20, Y6, Y2, Y10
	VPERM2F128  $0x20, Y7, Y3, Y11
	VPERM2F128  $0x31, Y4, Y0, Y12
	VPERM2F128  $0x31, Y5, Y1, Y13
	VPERM2F128  $0x31, Y6, Y2, Y14
	VPERM2F128  $0x31, Y7, Y3, Y15
	LEAQ        (R10)(R11*4), R13
	VMOVUPS     Y8, (R10)
	VMOVUPS     Y9, (R10)(R11*1)
	VMOVUPS     Y10, (R10)(R11*2)
	VMOVUPS     Y11, (R10)(R12*1)
	VMOVUPS     Y12, (R13)
	VMOVUPS     Y13, (R13)(R11*1)
	VMOVUPS     Y14, (R13)(R11*2)
	VMOVUPS     Y15, (R13)(R12*1)
	ADDQ        $32, AX
	ADDQ        $32, BX
	LEAQ        (R10)(R11*8), R10
	DECQ        CX
	JNZ         tpblock

	LEAQ (SI)(R8*8), SI
	ADDQ $32, DI
	DECQ DX
	JNZ  tpgroup
	VZEROUPPER
	RET
