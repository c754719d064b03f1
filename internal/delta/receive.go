package delta

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"syscall"

	"github.com/gorsync/gorsync/internal/checksum"
	"github.com/gorsync/gorsync/internal/fastio"
	"github.com/gorsync/gorsync/internal/wire"
)

// ErrChecksumMismatch reports that a reconstructed file's checksum differs
// from the sender's; the engine redoes such a file with full-length sums.
var ErrChecksumMismatch = errors.New("file checksum mismatch")

// RecvResult reports what a reconstruction received.
type RecvResult struct {
	// Literal and Matched count the bytes that came as literal data and
	// as basis blocks (rsync's literal_data and matched_data).
	Literal, Matched int64
	// Size is the length of the reconstructed file.
	Size int64
}

// Receiver rebuilds files from a basis and a token stream. It reuses its
// buffers across files; it is not safe for concurrent use.
type Receiver struct {
	file      *checksum.FileHasher
	block     []byte
	params    checksum.Params
	sum, peer [checksum.MaxDigestLen]byte
	peerLen   int
}

// NewReceiver returns a Receiver.
func NewReceiver() *Receiver { return &Receiver{file: &checksum.FileHasher{}} }

// Receive reads one file's tokens from tr and the sender's checksum from r,
// writing the file to out with matched blocks copied from basis (nil when
// there is none). head is the sum head the sender echoed (read with
// ReadSumHead). A nil out discards the data and skips verification, as
// rsync's discard_receive_data does. A checksum difference is reported as
// ErrChecksumMismatch, after the whole stream for the file has been read;
// so is a failure to read the basis, which is zero-filled meanwhile.
//
// rsync: receiver.c receive_data
func (rc *Receiver) Receive(r *wire.Reader, tr TokenReader, head SumHead, p checksum.Params, basis io.ReaderAt, out io.Writer) (RecvResult, error) {
	var res RecvResult
	var basisErr error
	rc.file.Reset(p)
	rc.params = p
	// w is where the data goes: out, until a write from a mapped basis
	// faults (the file fails then, and the rest is not written).
	w := out
	// A mapped basis with a stream that keeps no history has its runs of
	// consecutive blocks hashed and written in place, one write a run,
	// instead of block by block through a copy.
	var spans SpanReader
	if sr, ok := basis.(SpanReader); ok && sr.Mapped() && out != nil {
		if _, plain := tr.(*PlainTokenReader); plain {
			spans = sr
		}
	}
	var run spanRun
	for {
		tok, data, err := tr.ReadToken()
		if err != nil {
			return res, fmt.Errorf("receive data at %d: %w", res.Size, err)
		}
		if tok < 0 {
			i := -(tok + 1)
			if i < 0 || i >= head.Count {
				return res, fmt.Errorf("invalid block index %d (count=%d): %w", i, head.Count, wire.ErrProtocol)
			}
		}
		if tok < 0 && spans != nil {
			// Join the block to the run when it follows on in the basis.
			i := -(tok + 1)
			n, off := int64(blockLen(&head, i)), int64(i)*int64(head.BlockLen)
			if run.n > 0 && (run.off+run.n != off || run.n >= maxSpanRun) {
				if err := rc.writeRun(spans, &run, &res, &basisErr, &w); err != nil {
					return res, err
				}
			}
			if run.n == 0 {
				run.off = off
			}
			run.n += n
			res.Matched += n
			continue
		}
		if run.n > 0 {
			if err := rc.writeRun(spans, &run, &res, &basisErr, &w); err != nil {
				return res, err
			}
		}
		if tok == 0 {
			break
		}
		if tok > 0 {
			res.Literal += int64(tok)
			rc.file.Write(data)
			if w != nil {
				if _, err := w.Write(data); err != nil {
					return res, fmt.Errorf("write at %d: %w", res.Size, err)
				}
			}
			res.Size += int64(tok)
			continue
		}
		i := -(tok + 1)
		n := blockLen(&head, i)
		res.Matched += int64(n)
		if basis == nil {
			if out != nil {
				return res, fmt.Errorf("got a block match with no basis file: %w", wire.ErrProtocol)
			}
			res.Size += int64(n)
			continue
		}
		if cap(rc.block) < int(n) {
			rc.block = make([]byte, n)
		}
		blk := rc.block[:n]
		if err := readAt(basis, blk, int64(i)*int64(head.BlockLen)); err != nil {
			// Keep the stream in step: zero-fill as rsync's map_ptr does
			// and fail the file's checksum so that it is redone.
			clear(blk)
			if basisErr == nil {
				basisErr = fmt.Errorf("read basis block %d: %w", i, err)
			}
		}
		tr.SeeToken(blk)
		rc.file.Write(blk)
		if w != nil {
			if _, err := w.Write(blk); err != nil {
				return res, fmt.Errorf("write at %d: %w", res.Size, err)
			}
		}
		res.Size += int64(n)
	}
	sum := rc.file.Sum(rc.sum[:0])
	peer := rc.peer[:len(sum)]
	if err := r.ReadFull(peer); err != nil {
		return res, fmt.Errorf("read file checksum: %w", err)
	}
	rc.peerLen = len(peer)
	if basisErr != nil && out != nil {
		return res, fmt.Errorf("%w: %w", ErrChecksumMismatch, basisErr)
	}
	if out != nil && !bytes.Equal(sum, peer) {
		return res, ErrChecksumMismatch
	}
	return res, nil
}

// PeerSum is the sender's whole-file checksum of the last file received
// (what --out-format's %C shows), valid until the next Receive.
func (rc *Receiver) PeerSum() []byte { return rc.peer[:rc.peerLen] }

// SpanReader is a basis that may lend its bytes in place: a memory mapping
// (fastio.MapFile). Span returns nil where it cannot; the bytes are read
// only under fastio.Guard.
type SpanReader interface {
	io.ReaderAt
	// Mapped reports whether Span lends anything at all.
	Mapped() bool
	Span(off int64, n int) []byte
	// Spent counts n bytes read through Span, so that the view can
	// release pages from the process as it goes.
	Spent(n int)
}

// maxSpanRun bounds a run of blocks written at once, so that the pages a
// run touches are released (SpanReader.Spent) as the file goes on. Hashing
// and writing a run in smaller pieces, for the cache's sake, made no
// measurable difference (64 KiB to 4 MiB, BenchmarkReceiveBasis).
const maxSpanRun = 4 << 20

// spanRun is a run of matched blocks that lie one after another in the
// basis: n bytes from off.
type spanRun struct{ off, n int64 }

// writeRun hashes the basis bytes of run and writes them to *w straight
// from the mapping, then empties run. A run the mapping cannot give (the
// basis shrank under it, or is shorter than the blocks) fails the file's
// checksum, so that it is redone, as a failed read does block by block; a
// write that faults on the mapping (EFAULT: the basis shrank between the
// hash and the write) fails it too, and nothing more is written (*w set
// to nil) since the file is discarded. Only a genuine write error is
// returned.
func (rc *Receiver) writeRun(spans SpanReader, run *spanRun, res *RecvResult, basisErr *error, w *io.Writer) error {
	off, n := run.off, run.n
	*run = spanRun{}
	res.Size += n
	b := spans.Span(off, int(n))
	spans.Spent(int(n))
	var werr error
	err := errNoSpan
	if b != nil {
		err = fastio.Guard(func() error {
			rc.file.Write(b)
			if *w != nil {
				_, werr = (*w).Write(b)
			}
			return nil
		})
	}
	if werr != nil && errors.Is(werr, syscall.EFAULT) {
		err, werr = werr, nil
		*w = nil
	}
	if err != nil {
		// The hasher may have been left half way through an update.
		rc.file.Reset(rc.params)
		if *basisErr == nil {
			*basisErr = fmt.Errorf("read basis at %d: %w", off, err)
		}
	}
	if werr != nil {
		return fmt.Errorf("write at %d: %w", res.Size-n, werr)
	}
	return nil
}

// errNoSpan reports matched blocks that lie beyond the mapped basis.
var errNoSpan = errors.New("blocks beyond the end of the basis")
