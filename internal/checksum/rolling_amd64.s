#include "textflag.h"

// Byte weights 32, 31, ..., 1: the multiplier of byte i of a 32-byte block
// in rsync's s2 += s1 recurrence.
DATA weights<>+0(SB)/8, $0x191a1b1c1d1e1f20
DATA weights<>+8(SB)/8, $0x1112131415161718
DATA weights<>+16(SB)/8, $0x090a0b0c0d0e0f10
DATA weights<>+24(SB)/8, $0x0102030405060708
GLOBL weights<>(SB), RODATA|NOPTR, $32

DATA ones8<>+0(SB)/8, $0x0101010101010101
DATA ones8<>+8(SB)/8, $0x0101010101010101
DATA ones8<>+16(SB)/8, $0x0101010101010101
DATA ones8<>+24(SB)/8, $0x0101010101010101
GLOBL ones8<>(SB), RODATA|NOPTR, $32

DATA ones16<>+0(SB)/8, $0x0001000100010001
DATA ones16<>+8(SB)/8, $0x0001000100010001
DATA ones16<>+16(SB)/8, $0x0001000100010001
DATA ones16<>+24(SB)/8, $0x0001000100010001
GLOBL ones16<>(SB), RODATA|NOPTR, $32

// func vectorSums(p *byte, n int) (t, pre, w uint32)
//
// Y0: per-lane sums of the bytes (signed), Y1: per-lane sums of Y0 as it
// stood before each block, Y2: per-lane weighted sums. VPMADDUBSW takes
// its first source (in Intel order) as unsigned and the data as signed
// bytes; pair sums stay within int16 (at most 63*128), and VPMADDWD with
// ones widens them to int32. The int32 lanes wrap, which is exact modulo
// 2^32.
TEXT ·vectorSums(SB), NOSPLIT, $0-28
	MOVQ p+0(FP), SI
	MOVQ n+8(FP), CX
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VMOVDQU weights<>(SB), Y3
	VMOVDQU ones8<>(SB), Y4
	VMOVDQU ones16<>(SB), Y5

loop:
	VMOVDQU (SI), Y6
	VPADDD Y0, Y1, Y1
	VPMADDUBSW Y6, Y4, Y7
	VPMADDWD Y5, Y7, Y7
	VPADDD Y7, Y0, Y0
	VPMADDUBSW Y6, Y3, Y8
	VPMADDWD Y5, Y8, Y8
	VPADDD Y8, Y2, Y2
	ADDQ $32, SI
	SUBQ $32, CX
	JNZ loop

	// Horizontal sums of the eight lanes of Y0, Y1, Y2.
	VEXTRACTI128 $1, Y0, X9
	VPADDD X9, X0, X0
	VPSHUFD $0x4e, X0, X9
	VPADDD X9, X0, X0
	VPSHUFD $0xb1, X0, X9
	VPADDD X9, X0, X0
	MOVQ X0, AX
	MOVL AX, t+16(FP)

	VEXTRACTI128 $1, Y1, X9
	VPADDD X9, X1, X1
	VPSHUFD $0x4e, X1, X9
	VPADDD X9, X1, X1
	VPSHUFD $0xb1, X1, X9
	VPADDD X9, X1, X1
	MOVQ X1, AX
	MOVL AX, pre+20(FP)

	VEXTRACTI128 $1, Y2, X9
	VPADDD X9, X2, X2
	VPSHUFD $0x4e, X2, X9
	VPADDD X9, X2, X2
	VPSHUFD $0xb1, X2, X9
	VPADDD X9, X2, X2
	MOVQ X2, AX
	MOVL AX, w+24(FP)

	VZEROUPPER
	RET
