package checksum

import "encoding/binary"

// Constants for the SWAR evaluation of the weak sum, eight bytes per 64-bit
// word. Each byte is flipped with 0x80 so that its unsigned value is the
// signed char plus 128 (the bias is removed once per chunk), and a word is
// split into its even and odd bytes, each in a 16-bit lane.
const (
	flip    = 0x8080808080808080
	lanes16 = 0x00ff00ff00ff00ff
	lanes32 = 0x0000ffff0000ffff
	ones16  = 0x0001000100010001
	ones32  = 0x0000000100000001
	// Weights of the even bytes (halved: 4,3,2,1 for bytes 0,2,4,6) and of
	// the odd bytes (7,5,3,1 for bytes 1,3,5,7) of a word in rsync's
	// s2 += s1 recurrence, packed so that the top 16-bit lane of a product
	// collects the weighted sum of the lanes.
	wEvenHalf = 1 | 2<<16 | 3<<32 | 4<<48
	wOdd      = 1 | 3<<16 | 5<<32 | 7<<48
	// chunkWords is how many words are summed lane-wise before the lanes
	// are folded into s1 and s2: the prefix-sum lanes reach
	// 510*(15+14+...+1) = 61200, the most that fits in 16 bits.
	chunkWords = 16
	chunkBytes = 8 * chunkWords
)

// evenMask holds lanes16 in a variable rather than a constant so that the
// compiler keeps it in a register instead of rematerialising a 10-byte
// immediate for every word.
var evenMask uint64 = lanes16

// Checksum1 returns rsync's rolling weak checksum of buf, bit-for-bit equal
// to get_checksum1 (bytes taken as signed chars, CHAR_OFFSET 0).
//
// rsync: checksum.c get_checksum1
func Checksum1(buf []byte) uint32 {
	s1, s2 := sums(buf)
	return s1&0xffff | s2<<16
}

// sums returns get_checksum1's unmasked s1 and s2 of buf: with AVX2, 32
// bytes at a time in vector registers (rolling_amd64.s), the rest here.
func sums(buf []byte) (s1, s2 uint32) {
	n := len(buf) &^ 31
	if !haveVectorSums || n < vectorMin {
		return sumsGeneric(buf)
	}
	t, pre, w := vectorSums(&buf[0], n)
	// Block k of 32 bytes adds 32*(s1 before it) plus its weighted bytes
	// to s2; vectorSums returns the blocks' total, the sum of their s1
	// prefixes and of their weighted bytes, all modulo 2^32 as rsync's
	// own unsigned sums are.
	s1, s2 = t, 32*pre+w
	r1, r2 := sumsGeneric(buf[n:])
	return s1 + r1, s2 + uint32(len(buf)-n)*s1 + r2
}

// sumsGeneric returns get_checksum1's unmasked s1 and s2 of buf.
//
// Whole words are taken a chunk of up to chunkWords at a time. For a chunk
// of n words, with S_k the sum of the bytes x[k][0..7] of word k, rsync's
// per-byte recurrence adds to s2
//
//	8n*s1 + 8*sum_k (n-1-k)*S_k + sum_k sum_j (8-j)*x[k][j]
//
// and sum_k S_k to s1. The sums are kept lane-wise, with no carries between
// lanes, so that a word costs only a load, masks and adds; the lanes are
// folded once per chunk.
func sumsGeneric(buf []byte) (s1, s2 uint32) {
	m := evenMask
	for len(buf) >= chunkBytes {
		p := (*[chunkBytes]byte)(buf)
		var t, e, u uint64
		t, e, u = addWord(m, t, e, u, p[0:])
		t, e, u = addWord(m, t, e, u, p[8:])
		t, e, u = addWord(m, t, e, u, p[16:])
		t, e, u = addWord(m, t, e, u, p[24:])
		t, e, u = addWord(m, t, e, u, p[32:])
		t, e, u = addWord(m, t, e, u, p[40:])
		t, e, u = addWord(m, t, e, u, p[48:])
		t, e, u = addWord(m, t, e, u, p[56:])
		t, e, u = addWord(m, t, e, u, p[64:])
		t, e, u = addWord(m, t, e, u, p[72:])
		t, e, u = addWord(m, t, e, u, p[80:])
		t, e, u = addWord(m, t, e, u, p[88:])
		t, e, u = addWord(m, t, e, u, p[96:])
		t, e, u = addWord(m, t, e, u, p[104:])
		t, e, u = addWord(m, t, e, u, p[112:])
		t, e, u = addWord(m, t, e, u, p[120:])
		s1, s2 = fold(s1, s2, t, e, u, chunkBytes)
		buf = buf[chunkBytes:]
	}
	if n := len(buf) / 8; n > 0 {
		var t, e, u uint64
		for i := range n {
			t, e, u = addWord(m, t, e, u, buf[8*i:])
		}
		s1, s2 = fold(s1, s2, t, e, u, uint32(8*n))
		buf = buf[8*n:]
	}
	for _, c := range buf {
		s1 += uint32(int8(c))
		s2 += s1
	}
	return s1, s2
}

// addWord adds the word at the start of p to a chunk's lane sums: t, the
// sums of all bytes so far; e, of the even bytes only; and u, of t as it
// stood before each word. m is lanes16.
func addWord(m, t, e, u uint64, p []byte) (uint64, uint64, uint64) {
	w := binary.LittleEndian.Uint64(p) ^ flip
	we := w & m
	return t + we + (w-we)>>8, e + we, u + t
}

// fold adds a chunk of nb bytes, summed lane-wise by addWord into t, e and
// u, to s1 and s2. Every multiply collects a weighted sum of 16-bit (or
// 32-bit) lanes in its top lane, and the lanes are small enough that no
// partial sum carries into it: t lanes are at most 16*510, e and t-e lanes
// at most 16*255, u's are split into 32-bit lanes first.
func fold(s1, s2 uint32, t, e, u uint64, nb uint32) (uint32, uint32) {
	sumT := uint32((t * ones16) >> 48)
	sumU := uint32((((u & lanes32) + (u>>16)&lanes32) * ones32) >> 32)
	sumW := 2*uint32((e*wEvenHalf)>>48) + uint32(((t-e)*wOdd)>>48)
	// The 0x80 flip added 128 to each byte: 128*nb to s1 and
	// 128*(nb+(nb-1)+...+1) to s2.
	s2 += nb*s1 + 8*sumU + sumW - 128*(nb*(nb+1)/2)
	s1 += sumT - 128*nb
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
	r.s1, r.s2 = sums(block)
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

// VectorRoll reports whether the rolling sum runs its vector (AVX2)
// assembly on this CPU, as --version's "SIMD-roll" says.
func VectorRoll() bool { return haveVectorSums }
