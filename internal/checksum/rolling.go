package checksum

import "encoding/binary"

// Constants for the SWAR evaluation of eight bytes at a time. Bytes are
// flipped with 0x80 so that each unsigned lane equals the signed byte plus
// 128; the bias is removed with the constants below.
const (
	lanes16 = 0x00ff00ff00ff00ff
	ones16  = 0x0001000100010001
	// Weights, for a 16-byte step, of the even and odd bytes of the first
	// and second 8-byte word, packed so that the top 16-bit lane of the
	// product collects sum(weight*byte) without carries.
	wEvenA = 10 | 12<<16 | 14<<32 | 16<<48
	wOddA  = 9 | 11<<16 | 13<<32 | 15<<48
	wEvenB = 2 | 4<<16 | 6<<32 | 8<<48
	wOddB  = 1 | 3<<16 | 5<<32 | 7<<48
	// Bias introduced by the 0x80 flip over 16 bytes: 128*16 for s1 and
	// 128*(16+15+...+1) for s2.
	biasS1 = 128 * 16
	biasS2 = 128 * 136
)

// Checksum1 returns rsync's rolling weak checksum of buf, bit-for-bit equal
// to get_checksum1 (bytes taken as signed chars, CHAR_OFFSET 0).
//
// rsync: checksum.c get_checksum1
func Checksum1(buf []byte) uint32 {
	s1, s2 := sums16(buf)
	return s1&0xffff | s2<<16
}

// sums16 returns the unmasked s1 and s2 of buf. The body evaluates 16 bytes
// per step: s2 += 16*s1 + sum((16-j)*x[j]) and s1 += sum(x[j]).
func sums16(buf []byte) (s1, s2 uint32) {
	for len(buf) >= 32 {
		a := binary.LittleEndian.Uint64(buf) ^ 0x8080808080808080
		b := binary.LittleEndian.Uint64(buf[8:]) ^ 0x8080808080808080
		c := binary.LittleEndian.Uint64(buf[16:]) ^ 0x8080808080808080
		d := binary.LittleEndian.Uint64(buf[24:]) ^ 0x8080808080808080
		ae, ao := a&lanes16, (a>>8)&lanes16
		be, bo := b&lanes16, (b>>8)&lanes16
		ce, co := c&lanes16, (c>>8)&lanes16
		de, do := d&lanes16, (d>>8)&lanes16
		w1 := uint32((ae*wEvenA + ao*wOddA + be*wEvenB + bo*wOddB) >> 48)
		w2 := uint32((ce*wEvenA + co*wOddA + de*wEvenB + do*wOddB) >> 48)
		h1 := uint32(((ae + ao + be + bo) * ones16) >> 48)
		h2 := uint32(((ce + co + de + do) * ones16) >> 48)
		s2 += 32*s1 + 16*h1 + w1 + w2 - 16*biasS1 - 2*biasS2
		s1 += h1 + h2 - 2*biasS1
		buf = buf[32:]
	}
	for len(buf) >= 16 {
		a := binary.LittleEndian.Uint64(buf) ^ 0x8080808080808080
		b := binary.LittleEndian.Uint64(buf[8:]) ^ 0x8080808080808080
		ae, ao := a&lanes16, (a>>8)&lanes16
		be, bo := b&lanes16, (b>>8)&lanes16
		w := uint32((ae*wEvenA + ao*wOddA + be*wEvenB + bo*wOddB) >> 48)
		h := uint32(((ae + ao + be + bo) * ones16) >> 48)
		s2 += 16*s1 + w - biasS2
		s1 += h - biasS1
		buf = buf[16:]
	}
	for _, c := range buf {
		s1 += uint32(int8(c))
		s2 += s1
	}
	return s1, s2
}

// Rolling is rsync's weak checksum over a sliding window, updated one byte
// at a time as match.c hash_search does. The zero value is an empty window.
type Rolling struct {
	s1, s2 uint32
	n      uint32
}

// Init sets the window to block.
func (r *Rolling) Init(block []byte) {
	r.s1, r.s2 = sums16(block)
	r.n = uint32(len(block))
}

// Roll removes the byte out from the front of the window and appends in,
// keeping the window length.
//
// rsync: match.c hash_search (trim the first byte, add on the next)
func (r *Rolling) Roll(out, in byte) {
	o := uint32(int8(out))
	r.s1 += uint32(int8(in)) - o
	r.s2 += r.s1 - r.n*o
}

// RollOut removes the byte out from the front of the window, shrinking it;
// rsync does this once the window reaches the end of the file.
func (r *Rolling) RollOut(out byte) {
	o := uint32(int8(out))
	r.s1 -= o
	r.s2 -= r.n * o
	r.n--
}

// Sum returns the checksum of the current window.
func (r *Rolling) Sum() uint32 { return r.s1&0xffff | r.s2<<16 }

// Len returns the current window length.
func (r *Rolling) Len() int { return int(r.n) }
