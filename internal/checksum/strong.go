package checksum

import (
	"crypto/md5"
	"crypto/sha1"
	"encoding/binary"
	"hash"

	"github.com/cespare/xxhash/v2"
	"github.com/zeebo/xxh3"
	//lint:ignore SA1019 rsync's protocols before 30 (and "md4" when negotiated) require MD4.
	"golang.org/x/crypto/md4"
)

// hashes holds lazily created hash states so that a BlockHasher or a
// FileHasher allocates only once per algorithm, not per block or file.
type hashes struct {
	md4, md5, sha1 hash.Hash
	xxh64          *xxhash.Digest
	xxh3           *xxh3.Hasher
	xxh128         *xxh3.Hasher128
}

func (h *hashes) md(k Kind) hash.Hash {
	switch k {
	case MD4Old, MD4:
		if h.md4 == nil {
			h.md4 = md4.New()
		}
		h.md4.Reset()
		return h.md4
	case MD5:
		if h.md5 == nil {
			h.md5 = md5.New()
		}
		h.md5.Reset()
		return h.md5
	case SHA1:
		if h.sha1 == nil {
			h.sha1 = sha1.New()
		}
		h.sha1.Reset()
		return h.sha1
	}
	return nil
}

// xxSeed converts rsync's int checksum_seed to the unsigned long long seed
// of the xxhash functions, sign-extending as C does.
func xxSeed(seed int32) uint64 { return uint64(int64(seed)) }

// BlockHasher computes rsync's strong sum of single blocks. It is not safe
// for concurrent use; give each goroutine its own.
type BlockHasher struct {
	p    Params
	h    hashes
	seed [4]byte
	out  [MaxDigestLen]byte
}

// NewBlockHasher returns a BlockHasher for p.
func NewBlockHasher(p Params) *BlockHasher {
	b := &BlockHasher{p: p}
	binary.LittleEndian.PutUint32(b.seed[:], uint32(p.Seed))
	return b
}

// Params returns the parameters b was created with.
func (b *BlockHasher) Params() Params { return b.p }

// Size returns the digest length Sum writes.
func (b *BlockHasher) Size() int { return DigestLen(b.p.Kind) }

// Sum writes the strong sum of block to dst, which must hold Size() bytes,
// and returns the number of bytes written. A zero seed is not hashed.
//
// rsync: checksum.c get_checksum2. MD4 hashes the seed after the data (the
// built-in mdfour path; OpenSSL 3 has no MD4), SHA1 before it (the EVP
// path), MD5 before it only with ProperSeedOrder.
func (b *BlockHasher) Sum(dst, block []byte) int {
	k := b.p.Kind
	switch k {
	case XXH64:
		if b.h.xxh64 == nil {
			b.h.xxh64 = xxhash.NewWithSeed(xxSeed(b.p.Seed))
		} else {
			b.h.xxh64.ResetWithSeed(xxSeed(b.p.Seed))
		}
		b.h.xxh64.Write(block)
		binary.LittleEndian.PutUint64(dst, b.h.xxh64.Sum64())
		return 8
	case XXH3:
		binary.LittleEndian.PutUint64(dst, xxh3.HashSeed(block, xxSeed(b.p.Seed)))
		return 8
	case XXH128:
		d := xxh3.Hash128Seed(block, xxSeed(b.p.Seed))
		binary.LittleEndian.PutUint64(dst, d.Lo)
		binary.LittleEndian.PutUint64(dst[8:], d.Hi)
		return 16
	case None:
		dst[0] = 0
		return 1
	}
	h := b.h.md(k)
	seedFirst := k == SHA1 || (k == MD5 && b.p.ProperSeedOrder)
	if b.p.Seed != 0 && seedFirst {
		h.Write(b.seed[:])
	}
	h.Write(block)
	if b.p.Seed != 0 && !seedFirst {
		h.Write(b.seed[:])
	}
	return copy(dst, h.Sum(b.out[:0]))
}

// FileHasher accumulates rsync's whole-file checksum, the one the sender
// sends after a file's tokens and the receiver verifies. Its zero value is
// not usable; call Reset first.
//
// rsync: checksum.c sum_init, sum_update, sum_end
type FileHasher struct {
	kind Kind
	h    hashes
	cur  hash.Hash
	seed [4]byte
	out  [MaxDigestLen]byte
}

// NewFileHasher returns a FileHasher reset for p.
func NewFileHasher(p Params) *FileHasher {
	f := &FileHasher{}
	f.Reset(p)
	return f
}

// Reset starts a new sum for p. Only MD4Old uses the seed, feeding it
// before the data; the xxhash sums are unseeded.
func (f *FileHasher) Reset(p Params) {
	f.kind = p.Kind
	f.cur = nil
	switch p.Kind {
	case XXH64:
		if f.h.xxh64 == nil {
			f.h.xxh64 = xxhash.New()
		}
		f.h.xxh64.Reset()
		f.cur = f.h.xxh64
	case XXH3:
		if f.h.xxh3 == nil {
			f.h.xxh3 = xxh3.New()
		}
		f.h.xxh3.Reset()
		f.cur = f.h.xxh3
	case XXH128:
		if f.h.xxh128 == nil {
			f.h.xxh128 = xxh3.New128()
		}
		f.h.xxh128.Reset()
	case None:
	default:
		f.cur = f.h.md(p.Kind)
		if p.Kind == MD4Old {
			binary.LittleEndian.PutUint32(f.seed[:], uint32(p.Seed))
			f.cur.Write(f.seed[:])
		}
	}
}

// Kind returns the algorithm of the current sum.
func (f *FileHasher) Kind() Kind { return f.kind }

// Size returns the length of the digest Sum appends.
func (f *FileHasher) Size() int { return DigestLen(f.kind) }

// Write adds p to the sum; it never fails.
func (f *FileHasher) Write(p []byte) (int, error) {
	switch {
	case f.cur != nil:
		f.cur.Write(p)
	case f.kind == XXH128:
		f.h.xxh128.Write(p)
	}
	return len(p), nil
}

// Sum appends the digest to dst as rsync sends it (xxhash values little
// endian, xxh128 low half first) and returns the result.
func (f *FileHasher) Sum(dst []byte) []byte {
	switch f.kind {
	case None:
		return append(dst, 0)
	case XXH64:
		return binary.LittleEndian.AppendUint64(dst, f.h.xxh64.Sum64())
	case XXH3:
		return binary.LittleEndian.AppendUint64(dst, f.h.xxh3.Sum64())
	case XXH128:
		d := f.h.xxh128.Sum128()
		dst = binary.LittleEndian.AppendUint64(dst, d.Lo)
		return binary.LittleEndian.AppendUint64(dst, d.Hi)
	}
	return append(dst, f.cur.Sum(f.out[:0])...)
}
