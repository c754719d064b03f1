package delta

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/gorsync/gorsync/internal/checksum"
	"github.com/gorsync/gorsync/internal/fastio"
	"github.com/gorsync/gorsync/internal/wire"
)

// initialSums caps how many blocks are preallocated before their sums have
// actually arrived, so a hostile count cannot force a large allocation.
const initialSums = 1 << 12

// Sums is the block signature of a basis file: per block a weak sum and the
// first Head.S2Len bytes of the strong sum. A Sums is reusable across files.
type Sums struct {
	Head SumHead
	// Sum1 holds the weak sum of each block.
	Sum1 []uint32
	// Sum2 holds the strong sums, Head.S2Len bytes per block.
	Sum2 []byte

	// Search state, built by the Matcher.
	heads []int32 // bucket -> first block, -1 if empty
	chain []int32 // block -> next block in its bucket, descending index
	same  []bool  // SUMFLG_SAME_OFFSET, for in-place updates
	shift uint
	// filter is a bitset over a finer hash of the weak sums, so that most
	// offsets of unrelated data are rejected by one well-predicted test.
	filter []uint64
	fshift uint
}

// Strong returns the strong sum of block i.
func (s *Sums) Strong(i int32) []byte {
	n := int(s.Head.S2Len)
	return s.Sum2[int(i)*n : int(i)*n+n]
}

// BlockLen returns the length of block i.
func (s *Sums) BlockLen(i int32) int32 { return blockLen(&s.Head, i) }

func (s *Sums) reset(h SumHead) {
	s.Head = h
	c := min(int(h.Count), initialSums)
	s.Sum1 = s.Sum1[:0]
	s.Sum2 = s.Sum2[:0]
	if cap(s.Sum1) < c {
		s.Sum1 = make([]uint32, 0, c)
	}
	if cap(s.Sum2) < c*int(h.S2Len) {
		s.Sum2 = make([]byte, 0, c*int(h.S2Len))
	}
}

// Compute fills s with the signature of basis, a whole file in memory,
// under head (see checksum.SumSizes).
//
// rsync: generator.c generate_and_send_sums
func (s *Sums) Compute(basis []byte, head SumHead, h *checksum.BlockHasher) error {
	if fileLen(&head) != int64(len(basis)) {
		return fmt.Errorf("compute sums: head describes %d bytes, basis has %d", fileLen(&head), len(basis))
	}
	s.reset(head)
	s.appendBlocks(basis, h)
	return nil
}

// appendBlocks adds the sums of the blocks of data, which starts on a block
// boundary and holds whole blocks (or ends the file).
func (s *Sums) appendBlocks(data []byte, h *checksum.BlockHasher) {
	var sum2 [checksum.MaxDigestLen]byte
	bl := int(s.Head.BlockLen)
	for len(data) > 0 {
		n := min(bl, len(data))
		s.Sum1 = append(s.Sum1, checksum.Checksum1(data[:n]))
		h.Sum(sum2[:], data[:n])
		s.Sum2 = append(s.Sum2, sum2[:s.Head.S2Len]...)
		data = data[n:]
	}
}

// readWindow returns the size of the read buffer used for a basis read
// through an io.ReaderAt: a whole number of blocks, about 256 KiB.
func readWindow(bl int32) int {
	return max(1, (256<<10)/int(bl)) * int(bl)
}

// ComputeReader is Compute for a basis of size bytes read through r. buf is
// an optional reusable buffer (grown if shorter than a read window).
func (s *Sums) ComputeReader(r io.ReaderAt, size int64, head SumHead, h *checksum.BlockHasher, buf []byte) ([]byte, error) {
	if fileLen(&head) != size {
		return buf, fmt.Errorf("compute sums: head describes %d bytes, basis has %d", fileLen(&head), size)
	}
	s.reset(head)
	if head.Count == 0 {
		return buf, nil
	}
	win := readWindow(head.BlockLen)
	if len(buf) < win {
		buf = make([]byte, win)
	}
	for off := int64(0); off < size; off += int64(win) {
		n := int(min(int64(win), size-off))
		if err := readAt(r, buf[:n], off); err != nil {
			return buf, fmt.Errorf("compute sums: read basis at %d: %w", off, err)
		}
		s.appendBlocks(buf[:n], h)
	}
	return buf, nil
}

func readAt(r io.ReaderAt, p []byte, off int64) error {
	n, err := r.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// WriteSums writes s's head and block sums as the generator sends them; an
// error is also left in w.
func WriteSums(w *wire.Writer, s *Sums) error {
	WriteSumHead(w, s.Head)
	for i := range s.Sum1 {
		w.WriteInt(int32(s.Sum1[i]))
		w.Write(s.Strong(int32(i)))
	}
	return w.Err()
}

// WriteSignature computes and writes the head and block sums of a basis of
// size bytes read through r, without keeping them, as the generator does.
// buf is an optional reusable buffer and is returned, possibly grown. Up to
// workers goroutines hash a large basis in chunks (the Parallel fast
// path); 1 hashes everything here.
//
// rsync: generator.c generate_and_send_sums
func WriteSignature(w *wire.Writer, r io.ReaderAt, size int64, head SumHead, h *checksum.BlockHasher, buf []byte, workers int) ([]byte, error) {
	if fileLen(&head) != size {
		return buf, fmt.Errorf("write signature: head describes %d bytes, basis has %d", fileLen(&head), size)
	}
	WriteSumHead(w, head)
	if head.Count == 0 {
		return buf, w.Err()
	}
	if workers > 1 && size >= parallelMinSize {
		if err := writeSumsParallel(w, r, size, head, h.Params(), workers, parallelChunk); err != nil {
			return buf, err
		}
		return buf, w.Err()
	}
	var sum2 [checksum.MaxDigestLen]byte
	win := readWindow(head.BlockLen)
	mb := mappedOf(r)
	if len(buf) < win && mb == nil {
		buf = make([]byte, win)
	}
	bl := int(head.BlockLen)
	for off := int64(0); off < size; off += int64(win) {
		n := int(min(int64(win), size-off))
		send := func(data []byte) error {
			for len(data) > 0 {
				n := min(bl, len(data))
				w.WriteInt(int32(checksum.Checksum1(data[:n])))
				h.Sum(sum2[:], data[:n])
				w.Write(sum2[:head.S2Len])
				data = data[n:]
			}
			return nil
		}
		var err error
		if mb != nil {
			err = spanDo(mb, off, n, send)
			mb.DoneBefore(off + int64(n))
		} else if err = readAt(r, buf[:n], off); err == nil {
			err = send(buf[:n])
		}
		if err != nil {
			return buf, fmt.Errorf("write signature: read basis at %d: %w", off, err)
		}
		if err := w.Err(); err != nil {
			return buf, fmt.Errorf("write signature: %w", err)
		}
	}
	return buf, w.Err()
}

// mappedBasis is a basis whose bytes the signature hashes in place,
// without a copy: a memory mapping (fastio.MapFile, Sequential).
type mappedBasis interface {
	Mapped() bool
	Span(off int64, n int) []byte
	// DoneBefore says the bytes before off are done with, so that the
	// view can release them from the process.
	DoneBefore(off int64)
}

// mappedOf returns r as a mappedBasis when it is a mapping, else nil.
func mappedOf(r io.ReaderAt) mappedBasis {
	if mb, ok := r.(mappedBasis); ok && mb.Mapped() {
		return mb
	}
	return nil
}

// spanDo runs fn over the mapped bytes [off, off+n) of mb, under
// fastio.Guard: a basis that shrank under the mapping is an error, as a
// short read is.
func spanDo(mb mappedBasis, off int64, n int, fn func([]byte) error) error {
	data := mb.Span(off, n)
	if data == nil {
		return io.ErrUnexpectedEOF
	}
	return fastio.Guard(func() error { return fn(data) })
}

// A basis of parallelMinSize bytes or more has its block sums computed in
// chunks of about parallelChunk bytes by a pool of workers (fastio.Parallel).
const (
	parallelMinSize = 8 << 20
	parallelChunk   = 256 << 10
)

// sumChunk is one piece of a basis on its way through writeSumsParallel:
// its bytes, then the wire form of its blocks' sums.
type sumChunk struct {
	off  int64
	n    int
	data []byte // the bytes read, when the basis is not mapped
	out  []byte
	err  error
	done chan struct{}
}

// writeSumsParallel writes the block sums of a basis of size bytes exactly
// as the serial loop of WriteSignature does, computing them in chunks of
// whole blocks (about chunk bytes) on workers goroutines, each with its own
// hasher, and writing the chunks in order. At most two chunks per worker
// are in memory. A read error is returned where the serial loop would
// return it, after the sums of the chunks before it.
func writeSumsParallel(w *wire.Writer, r io.ReaderAt, size int64, head SumHead, p checksum.Params, workers, chunk int) error {
	bl := int(head.BlockLen)
	chunk = max(1, chunk/bl) * bl
	perBlock := 4 + int(head.S2Len)
	nChunks := int((size + int64(chunk) - 1) / int64(chunk))
	inFlight := min(2*workers, nChunks)
	free := make(chan *sumChunk, inFlight)
	mb := mappedOf(r)
	for range inFlight {
		c := &sumChunk{
			out:  make([]byte, 0, chunk/bl*perBlock),
			done: make(chan struct{}, 1),
		}
		if mb == nil {
			c.data = make([]byte, chunk)
		}
		free <- c
	}
	work := make(chan *sumChunk, inFlight)
	ordered := make(chan *sumChunk, inFlight)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range min(workers, nChunks) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := checksum.NewBlockHasher(p)
			var sum2 [checksum.MaxDigestLen]byte
			var s1 [4]byte
			var cur *sumChunk
			sums := func(data []byte) error {
				for len(data) > 0 {
					n := min(bl, len(data))
					binary.LittleEndian.PutUint32(s1[:], checksum.Checksum1(data[:n]))
					h.Sum(sum2[:], data[:n])
					cur.out = append(append(cur.out, s1[:]...), sum2[:head.S2Len]...)
					data = data[n:]
				}
				return nil
			}
			for c := range work {
				cur, c.out = c, c.out[:0]
				if mb != nil {
					c.err = spanDo(mb, c.off, c.n, sums)
				} else if c.err = readAt(r, c.data[:c.n], c.off); c.err == nil {
					c.err = sums(c.data[:c.n])
				}
				c.done <- struct{}{}
			}
		}()
	}
	go func() {
		defer close(ordered)
		defer close(work)
		for off := int64(0); off < size; off += int64(chunk) {
			var c *sumChunk
			select {
			case c = <-free:
			case <-stop:
				return
			}
			c.off, c.n = off, int(min(int64(chunk), size-off))
			work <- c
			ordered <- c
		}
	}()
	var err error
	for c := range ordered {
		<-c.done
		if err == nil && c.err != nil {
			err = fmt.Errorf("write signature: read basis at %d: %w", c.off, c.err)
			close(stop)
		}
		if err == nil {
			if _, werr := w.Write(c.out); werr != nil {
				err = fmt.Errorf("write signature: %w", werr)
				close(stop)
			}
		}
		if mb != nil {
			mb.DoneBefore(c.off + int64(c.n))
		}
		free <- c
	}
	wg.Wait()
	return err
}

// ReadSums reads the block sums that follow head (already read with
// ReadSumHead) into dst. Memory grows only as sums actually arrive.
//
// rsync: sender.c receive_sums
func ReadSums(r *wire.Reader, head SumHead, dst *Sums) error {
	dst.reset(head)
	var sum2 [checksum.MaxDigestLen]byte
	n := int(head.S2Len)
	for i := int32(0); i < head.Count; i++ {
		s1, err := r.ReadInt()
		if err != nil {
			return fmt.Errorf("read sum %d of %d: %w", i, head.Count, err)
		}
		if err := r.ReadFull(sum2[:n]); err != nil {
			return fmt.Errorf("read sum %d of %d: %w", i, head.Count, err)
		}
		dst.Sum1 = append(dst.Sum1, uint32(s1))
		dst.Sum2 = append(dst.Sum2, sum2[:n]...)
	}
	return nil
}
