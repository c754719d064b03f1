package delta

import (
	"bytes"
	"fmt"

	"github.com/gorsync/gorsync/internal/checksum"
)

// maxChainLen caps the same-weak-sum candidates compared at one offset,
// like upstream's MAX_CHAIN_LEN; skipped data goes out as literal.
const maxChainLen = 1024

// MatchResult reports what a block search sent.
type MatchResult struct {
	// Literal is the number of literal bytes sent (rsync's literal_data).
	Literal int64
	// Matched is the number of bytes sent as block matches (matched_data).
	Matched int64
	// Matches, HashHits and FalseAlarms are rsync's --debug=deltasum counts.
	Matches, HashHits, FalseAlarms int
	// Sum is the whole-file checksum of the source, to be sent after the
	// tokens; it is valid until the Matcher's next search.
	Sum []byte
}

// Matcher runs the sender's block search. It reuses its buffers across
// files; it is not safe for concurrent use.
type Matcher struct {
	p       checksum.Params
	block   *checksum.BlockHasher
	file    *checksum.FileHasher
	sum     [checksum.MaxDigestLen]byte
	inplace bool

	// Per-search state. win holds the source's bytes from base on: the
	// whole file, or, with a Source, a window that slides forward.
	source    Source
	win       []byte
	base      int64
	n         int64
	s         *Sums
	tw        TokenWriter
	lastMatch int64
	res       MatchResult
}

// Source is a file the block search reads through a sliding window, like
// rsync's map_ptr, for a file that is not held in memory whole.
type Source interface {
	// Window returns the file's bytes from off on: at least want of them
	// (want never reaches past the end of the file), and as many more as
	// the source holds. The slice is valid until the next call; off never
	// decreases from one call to the next. A source that cannot read
	// zero-fills, as map_ptr does, and reports the failure by other means.
	Window(off int64, want int) []byte
}

// NewMatcher returns a Matcher for the transfer checksum p. inplace is
// rsync's updating_basis_file (--inplace): a match must not come from
// basis data the receiver has already overwritten.
func NewMatcher(p checksum.Params, inplace bool) *Matcher {
	return &Matcher{
		p:       p,
		block:   checksum.NewBlockHasher(p),
		file:    checksum.NewFileHasher(p),
		inplace: inplace,
	}
}

// Match searches src, the whole source file, for the blocks of s and writes
// the delta to tw, ending it with TokenEnd. With no sums (Count 0) the file
// goes out as literal data.
//
// rsync: match.c match_sums
func (m *Matcher) Match(tw TokenWriter, src []byte, s *Sums) (MatchResult, error) {
	m.start(tw, nil, src, int64(len(src)), s)
	return m.run()
}

// MatchSource is Match over a file of size bytes read through src's
// window; the tokens are the ones Match sends for the same bytes.
func (m *Matcher) MatchSource(tw TokenWriter, src Source, size int64, s *Sums) (MatchResult, error) {
	m.start(tw, src, nil, size, s)
	return m.run()
}

func (m *Matcher) run() (MatchResult, error) {
	s := m.s
	var err error
	if m.n > 0 && s.Head.Count > 0 {
		if int(s.Head.S2Len) > m.p.DigestLen() {
			return MatchResult{}, fmt.Errorf("match: %d-byte strong sums exceed the %d-byte %v digest", s.Head.S2Len, m.p.DigestLen(), m.p.Kind)
		}
		if len(s.Sum1) != int(s.Head.Count) || len(s.Sum2) != int(s.Head.Count)*int(s.Head.S2Len) {
			return MatchResult{}, fmt.Errorf("match: sums hold %d blocks, head says %d", len(s.Sum1), s.Head.Count)
		}
		s.buildTable()
		err = m.search()
	} else {
		err = m.literalOnly()
	}
	return m.finish(err)
}

// MatchAppend sends only the part of src beyond the basis length described
// by head (--append). With verify (--append-verify) the basis prefix is
// included in the whole-file checksum, as the receiver will include it.
//
// rsync: match.c match_sums (append_mode)
func (m *Matcher) MatchAppend(tw TokenWriter, src []byte, head SumHead, verify bool) (MatchResult, error) {
	var s Sums
	s.Head = head
	m.start(tw, nil, src, int64(len(src)), &s)
	prefix := min(fileLen(&head), int64(len(src)))
	if verify {
		m.file.Write(src[:prefix])
	}
	m.lastMatch = prefix
	return m.finish(m.literalOnly())
}

func (m *Matcher) start(tw TokenWriter, source Source, src []byte, n int64, s *Sums) {
	m.source, m.win, m.base, m.n = source, src, 0, n
	m.s, m.tw = s, tw
	m.lastMatch = 0
	m.res = MatchResult{}
	m.file.Reset(m.p)
}

// window makes the window hold the bytes from lastMatch to hi (at most
// the file's length).
func (m *Matcher) window(hi int64) {
	if m.source != nil && hi > m.base+int64(len(m.win)) {
		m.win = m.source.Window(m.lastMatch, int(hi-m.lastMatch))
		m.base = m.lastMatch
	}
}

func (m *Matcher) finish(err error) (MatchResult, error) {
	m.source, m.win, m.s, m.tw = nil, nil, nil, nil
	if err != nil {
		return MatchResult{}, fmt.Errorf("match: %w", err)
	}
	m.res.Sum = m.file.Sum(m.sum[:0])
	return m.res, nil
}

// literalOnly sends src from lastMatch on as literal data.
func (m *Matcher) literalOnly() error {
	n := m.n
	for j := m.lastMatch + ChunkSize; j < n; j += ChunkSize {
		m.window(j)
		if err := m.matched(j, TokenLiteral); err != nil {
			return err
		}
	}
	m.window(n)
	return m.matched(n, TokenEnd)
}

// matched sends the literal data from lastMatch to offset followed by token
// i (a block, TokenLiteral or TokenEnd), and adds both to the file sum.
// The window holds them.
//
// rsync: match.c matched
func (m *Matcher) matched(offset int64, i int32) error {
	src, base := m.win, m.base
	lit := src[m.lastMatch-base : offset-base]
	var match []byte
	end := offset
	if i >= 0 {
		end += int64(m.s.BlockLen(i))
		match = src[offset-base : end-base]
	}
	if err := m.tw.WriteToken(lit, i, match); err != nil {
		return err
	}
	m.res.Literal += int64(len(lit))
	m.res.Matched += int64(len(match))
	m.file.Write(src[m.lastMatch-base : end-base])
	m.lastMatch = end
	return nil
}

// buildTable indexes the weak sums. Any hash function serves: candidates
// are compared by full weak sum, and each bucket's chain is in descending
// block order as upstream's is, so the first match found is the same.
//
// rsync: match.c build_hash_table
func (s *Sums) buildTable() {
	bits := uint(10)
	for 1<<bits < 2*int(s.Head.Count) && bits < 30 {
		bits++
	}
	size := 1 << bits
	if cap(s.heads) < size {
		s.heads = make([]int32, size)
	}
	s.heads = s.heads[:size]
	for i := range s.heads {
		s.heads[i] = -1
	}
	n := int(s.Head.Count)
	if cap(s.chain) < n {
		s.chain = make([]int32, n)
		s.same = make([]bool, n)
	}
	s.chain = s.chain[:n]
	s.same = s.same[:n]
	clear(s.same)
	s.shift = 32 - bits

	fbits := bits + 4 // about 1/32 of the bits set
	words := 1 << (fbits - 6)
	if cap(s.filter) < words {
		s.filter = make([]uint64, words)
	}
	s.filter = s.filter[:words]
	clear(s.filter)
	s.fshift = 32 - fbits

	for i := range int32(n) {
		sum := s.Sum1[i]
		b := s.bucket(sum)
		s.chain[i] = s.heads[b]
		s.heads[b] = i
		f := (sum * 0x9e3779b1) >> s.fshift
		s.filter[f>>6] |= 1 << (f & 63)
	}
}

func (s *Sums) bucket(sum uint32) uint32 { return (sum * 0x9e3779b1) >> s.shift }

// search is the rolling block search.
//
// rsync: match.c hash_search
func (m *Matcher) search() error {
	s := m.s
	n := m.n
	blen := int64(s.Head.BlockLen)
	count := s.Head.Count
	s2len := int(s.Head.S2Len)
	filter, fshift := s.filter, s.fshift
	var sum2buf [checksum.MaxDigestLen]byte
	sum2 := sum2buf[:s2len]

	// The window reaches from lastMatch to the furthest byte one turn of
	// the loop below can read: the fast scan stops by lastMatch+blen+
	// ChunkSize, and a match looks up to two blocks past its offset.
	m.window(min(n, blen+ChunkSize+2*blen+1))
	src, base := m.win, m.base
	k := min(n, blen)
	sum := checksum.Checksum1(src[:k])
	s1, s2 := sum&0xffff, sum>>16
	var offset, alignedOffset int64
	var alignedI int32
	end := n + 1 - int64(s.BlockLen(count-1))
	wantI := int32(0)

	for {
		if m.source != nil {
			if hi := min(n, max(offset, m.lastMatch+blen+ChunkSize)+2*blen+1); hi > base+int64(len(src)) {
				m.window(hi)
				src, base = m.win, m.base
			}
		}
		if k == blen {
			// Fast scan over offsets no block can match: a full window
			// rolling on, no literal flush due, not at the end.
			stop := min(n-k, end-1, m.lastMatch+blen+ChunkSize)
			if offset < stop {
				win := src[offset-base : stop+k-base]
				in := win[k:]
				kk := uint32(k)
				j := 0
				for ; j < len(in); j++ {
					sum = s1&0xffff | s2<<16
					if f := (sum * 0x9e3779b1) >> fshift; filter[f>>6]&(1<<(f&63)) != 0 {
						break
					}
					out := uint32(int8(win[j]))
					s1 += uint32(int8(in[j])) - out
					s2 += s1 - kk*out
				}
				offset += int64(j)
			}
		}
		sum = s1&0xffff | s2<<16
		if f := (sum * 0x9e3779b1) >> fshift; filter[f>>6]&(1<<(f&63)) == 0 {
			goto roll
		}
		if prev := &s.heads[s.bucket(sum)]; *prev >= 0 {
			i := *prev
			m.res.HashHits++
			doneSum2 := false
			chainLen := 0
			for ; i >= 0; i = s.chain[i] {
				if m.inplace && int64(i)*blen < offset && !s.same[i] {
					// Data the receiver has overwritten: drop the block.
					*prev = s.chain[i]
					continue
				}
				prev = &s.chain[i]
				if sum != s.Sum1[i] {
					continue
				}
				if chainLen++; chainLen > maxChainLen {
					break
				}
				l := int32(min(blen, n-offset))
				if l != s.BlockLen(i) {
					continue
				}
				if !doneSum2 {
					m.strong(sum2, src[offset-base:offset-base+int64(l)])
					doneSum2 = true
				}
				if !bytes.Equal(sum2, s.Strong(i)) {
					m.res.FalseAlarms++
					continue
				}

				if m.inplace {
					// The best match in place is the block at this very
					// offset; prefer it over the adjacent want_i.
					for alignedOffset < offset {
						alignedOffset += blen
						alignedI++
					}
					if (offset == alignedOffset || (sum == 0 && int64(l) == blen && alignedOffset+int64(l) <= n)) && alignedI < count {
						if i != alignedI {
							if sum != s.Sum1[alignedI] || l != s.BlockLen(alignedI) || !bytes.Equal(sum2, s.Strong(alignedI)) {
								goto checkWantI
							}
							i = alignedI
						}
						if offset != alignedOffset {
							// Zeros here are zeros further on in the basis
							// too: realign with the basis if the source
							// matches there, to seek rather than write.
							blk := src[alignedOffset-base : alignedOffset-base+int64(l)]
							sum = checksum.Checksum1(blk)
							if sum != s.Sum1[i] {
								goto checkWantI
							}
							m.strong(sum2, blk)
							if !bytes.Equal(sum2, s.Strong(i)) {
								goto checkWantI
							}
							offset = alignedOffset
						}
						s.same[i] = true
						wantI = i
					}
				}

			checkWantI:
				// Prefer the block after the previous match, so that the
				// token run-length coding works.
				if i != wantI && wantI < count &&
					(!m.inplace || int64(wantI)*blen >= offset || s.same[wantI]) &&
					sum == s.Sum1[wantI] && l == s.BlockLen(wantI) && bytes.Equal(sum2, s.Strong(wantI)) {
					i = wantI
				}
				wantI = i + 1

				if err := m.matched(offset, i); err != nil {
					return err
				}
				offset += int64(s.BlockLen(i)) - 1
				k = min(blen, n-offset)
				sum = checksum.Checksum1(src[offset-base : offset-base+k])
				s1, s2 = sum&0xffff, sum>>16
				m.res.Matches++
				break
			}
		}

	roll:
		// Roll the window one byte on, shrinking it at the end of the file.
		backup := max(offset-m.lastMatch, 0)
		out := uint32(int8(src[offset-base]))
		s1 -= out
		s2 -= uint32(k) * out
		if offset+k < n {
			s1 += uint32(int8(src[offset+k-base]))
			s2 += s1
		} else {
			k--
		}

		// Flush a long literal early rather than holding it.
		if backup >= blen+ChunkSize && end-offset > ChunkSize {
			if err := m.matched(offset-blen, TokenLiteral); err != nil {
				return err
			}
		}
		if offset++; offset >= end {
			break
		}
	}
	m.window(n)
	return m.matched(n, TokenEnd)
}

// strong writes the strong sum of block, truncated to len(dst).
func (m *Matcher) strong(dst, block []byte) {
	var full [checksum.MaxDigestLen]byte
	m.block.Sum(full[:], block)
	copy(dst, full[:])
}

// CorruptSum replaces a whole-file checksum by one that cannot verify,
// which the sender sends when reading the source failed: all zero bits, or
// a final 1 if the sum was already all zero.
//
// rsync: match.c match_sums
func CorruptSum(sum []byte) {
	allZero := true
	for _, b := range sum {
		if b != 0 {
			allZero = false
		}
	}
	clear(sum)
	if allZero && len(sum) > 0 {
		sum[len(sum)-1]++
	}
}
