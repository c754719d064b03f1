package checksum

import "golang.org/x/sys/cpu"

// haveVectorSums says whether vectorSums may run: it needs AVX2.
var haveVectorSums = cpu.X86.HasAVX2

// vectorMin is the shortest run worth the vector loop's set-up and
// horizontal sums.
const vectorMin = 128

// vectorSums sums n bytes at p (n a positive multiple of 32) as 32-byte
// blocks: t is the sum of all bytes as signed chars, pre the sum over the
// blocks of the bytes before each block, and w the sum over the blocks of
// (32-i)*x[i] within each block, all modulo 2^32.
//
//go:noescape
func vectorSums(p *byte, n int) (t, pre, w uint32)
