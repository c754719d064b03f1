package wire

import "fmt"

// File-list index values with special meaning. rsync: rsync.h NDX_*.
const (
	NdxDone       int32 = -1
	NdxFlistEOF   int32 = -2
	NdxDelStats   int32 = -3
	NdxFlistStart int32 = -101 // NDX_FLIST_OFFSET
)

// NdxCodec encodes and decodes file-list indexes. From protocol 30 they are
// sent as differences from the previous index of the same sign, so each
// direction keeps its own codec. rsync: io.c write_ndx/read_ndx.
type NdxCodec struct {
	Protocol     int
	prevPositive int32
	prevNegative int32
}

// NewNdxCodec returns a codec in rsync's initial state.
func NewNdxCodec(protocol int) *NdxCodec {
	return &NdxCodec{Protocol: protocol, prevPositive: -1, prevNegative: 1}
}

// Write encodes ndx.
func (c *NdxCodec) Write(w *Writer, ndx int32) {
	if c.Protocol < 30 {
		w.WriteInt(ndx)
		return
	}
	var b [6]byte
	n := 0
	var diff int32
	switch {
	case ndx >= 0:
		diff = ndx - c.prevPositive
		c.prevPositive = ndx
	case ndx == NdxDone:
		w.WriteByte(0)
		return
	default:
		b[n] = 0xff
		n++
		ndx = -ndx
		diff = ndx - c.prevNegative
		c.prevNegative = ndx
	}
	switch {
	case diff > 0 && diff < 0xfe:
		b[n] = byte(diff)
		n++
	case diff < 0 || diff > 0x7fff:
		b[n] = 0xfe
		b[n+1] = byte(ndx>>24) | 0x80
		b[n+2] = byte(ndx)
		b[n+3] = byte(ndx >> 8)
		b[n+4] = byte(ndx >> 16)
		n += 5
	default:
		b[n] = 0xfe
		b[n+1] = byte(diff >> 8)
		b[n+2] = byte(diff)
		n += 3
	}
	w.Write(b[:n])
}

// Read decodes an index.
func (c *NdxCodec) Read(r *Reader) (int32, error) {
	if c.Protocol < 30 {
		return r.ReadInt()
	}
	b, err := r.ReadByte()
	if err != nil {
		return 0, err
	}
	prev := &c.prevPositive
	if b == 0xff {
		if b, err = r.ReadByte(); err != nil {
			return 0, err
		}
		prev = &c.prevNegative
	} else if b == 0 {
		return NdxDone, nil
	}
	var u uint32
	if b == 0xfe {
		var x [4]byte
		if err := r.ReadFull(x[:2]); err != nil {
			return 0, err
		}
		if x[0]&0x80 != 0 {
			x[3] = x[0] &^ 0x80
			x[0] = x[1]
			if err := r.ReadFull(x[1:3]); err != nil {
				return 0, err
			}
			u = uint32(x[0]) | uint32(x[1])<<8 | uint32(x[2])<<16 | uint32(x[3])<<24
		} else {
			u = uint32(x[0])<<8 + uint32(x[1]) + uint32(*prev)
		}
	} else {
		u = uint32(b) + uint32(*prev)
	}
	if u > 0x7fffffff {
		return 0, fmt.Errorf("invalid file index %d: %w", u, ErrIncompatible)
	}
	*prev = int32(u)
	if prev == &c.prevNegative {
		return -int32(u), nil
	}
	return int32(u), nil
}
