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
