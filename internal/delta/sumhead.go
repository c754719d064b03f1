package delta

import (
	"fmt"

	"github.com/gorsync/gorsync/internal/checksum"
	"github.com/gorsync/gorsync/internal/wire"
)

// SumHead describes a block signature (count, block length, strong-sum
// length, short last block); it is the checksum package's type.
type SumHead = checksum.SumHead

// ReadSumHead reads a sum head and validates it as rsync does: digestLen
// is the negotiated checksum's digest length, which bounds S2Len. Protocols
// before 27 (no S2Len on the wire) are not supported.
//
// rsync: io.c read_sum_head
func ReadSumHead(r *wire.Reader, protocol, digestLen int) (SumHead, error) {
	var h SumHead
	var err error
	if h.Count, err = r.ReadInt(); err != nil {
		return h, fmt.Errorf("read sum head count: %w", err)
	}
	if h.Count < 0 {
		return h, fmt.Errorf("invalid checksum count %d: %w", h.Count, wire.ErrIncompatible)
	}
	if h.BlockLen, err = r.ReadInt(); err != nil {
		return h, fmt.Errorf("read sum head block length: %w", err)
	}
	if h.BlockLen < 0 || h.BlockLen > checksum.MaxBlockLen(protocol) {
		return h, fmt.Errorf("invalid block length %d: %w", h.BlockLen, wire.ErrIncompatible)
	}
	if h.Count != 0 && h.BlockLen == 0 {
		return h, fmt.Errorf("invalid zero block length: %w", wire.ErrIncompatible)
	}
	if h.S2Len, err = r.ReadInt(); err != nil {
		return h, fmt.Errorf("read sum head checksum length: %w", err)
	}
	if h.S2Len < 0 || int(h.S2Len) > digestLen {
		return h, fmt.Errorf("invalid checksum length %d: %w", h.S2Len, wire.ErrIncompatible)
	}
	if h.Remainder, err = r.ReadInt(); err != nil {
		return h, fmt.Errorf("read sum head remainder: %w", err)
	}
	if h.Remainder < 0 || h.Remainder > h.BlockLen {
		return h, fmt.Errorf("invalid remainder length %d: %w", h.Remainder, wire.ErrIncompatible)
	}
	return h, nil
}

// WriteSumHead writes h (protocol 27 and later); errors are left in w.
//
// rsync: io.c write_sum_head
func WriteSumHead(w *wire.Writer, h SumHead) {
	w.WriteInt(h.Count)
	w.WriteInt(h.BlockLen)
	w.WriteInt(h.S2Len)
	w.WriteInt(h.Remainder)
}

// blockLen returns the length of block i under h.
func blockLen(h *SumHead, i int32) int32 {
	if i == h.Count-1 && h.Remainder != 0 {
		return h.Remainder
	}
	return h.BlockLen
}

// fileLen returns the length of the basis file h describes.
func fileLen(h *SumHead) int64 {
	n := int64(h.Count) * int64(h.BlockLen)
	if h.Remainder != 0 {
		n -= int64(h.BlockLen - h.Remainder)
	}
	return n
}
