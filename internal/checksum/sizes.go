package checksum

import "fmt"

// Block and sum-length constants of rsync.h.
const (
	BlockSize       = 700     // BLOCK_SIZE: default and minimum heuristic block length
	MaxBlockSize    = 1 << 17 // MAX_BLOCK_SIZE, protocol 30+
	OldMaxBlockSize = 1 << 29 // OLD_MAX_BLOCK_SIZE, protocols before 30
	SumLength       = 16      // SUM_LENGTH: csum_length on a redo pass
	ShortSumLength  = 2       // SHORT_SUM_LENGTH: csum_length normally
	blocksumBias    = 10      // BLOCKSUM_BIAS
)

// MaxBlockLen returns the largest block length protocol allows.
func MaxBlockLen(protocol int) int32 {
	if protocol < 30 {
		return OldMaxBlockSize
	}
	return MaxBlockSize
}

// SumHead describes a basis file's block signature: how many blocks, their
// length, how many bytes of each strong sum are sent, and the length of the
// short last block (0 if the last block is full).
type SumHead struct {
	Count     int32
	BlockLen  int32
	S2Len     int32
	Remainder int32
}

// SumSizes computes the SumHead for a basis of fileLen bytes exactly as the
// generator does. blockSize is --block-size (0 for the heuristic),
// csumLength is ShortSumLength, or SumLength on the redo pass, and
// digestLen is the negotiated checksum's DigestLen, which caps S2Len.
//
// rsync: generator.c sum_sizes_sqroot
func SumSizes(fileLen int64, blockSize int32, protocol, csumLength, digestLen int) (SumHead, error) {
	if fileLen < 0 {
		return SumHead{}, fmt.Errorf("sum sizes: negative file length %d", fileLen)
	}
	maxS2 := int64(min(SumLength, digestLen))
	var blen int64
	switch {
	case blockSize > 0:
		blen = int64(blockSize)
	case fileLen <= BlockSize*BlockSize:
		blen = BlockSize
	default:
		maxBlen := int64(MaxBlockLen(protocol))
		c := int64(1)
		for l := fileLen >> 2; l != 0; l >>= 2 {
			c <<= 1
		}
		if c >= maxBlen {
			blen = maxBlen
		} else {
			for ; c >= 8; c >>= 1 { // round to a multiple of 8
				blen |= c
				if fileLen < blen*blen {
					blen &^= c
				}
			}
			blen = max(blen, BlockSize)
		}
	}

	var s2 int64
	if csumLength == SumLength {
		s2 = maxS2
	} else {
		b := int64(blocksumBias)
		for l := fileLen >> 1; l != 0; l >>= 1 {
			b += 2
		}
		for c := blen >> 1; c != 0 && b != 0; c >>= 1 {
			b--
		}
		s2 = (b + 1 - 32 + 7) / 8 // add a bit, subtract rollsum, round up
		s2 = max(s2, int64(csumLength))
		s2 = min(s2, maxS2)
	}

	rem := fileLen % blen
	count := fileLen / blen
	if rem != 0 {
		count++
	}
	if count > 1<<31-1 {
		return SumHead{}, fmt.Errorf("sum sizes: %d blocks of %d bytes overflow the block count", count, blen)
	}
	return SumHead{Count: int32(count), BlockLen: int32(blen), S2Len: int32(s2), Remainder: int32(rem)}, nil
}
