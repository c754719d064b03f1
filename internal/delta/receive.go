package delta

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/gorsync/gorsync/internal/checksum"
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
	sum, peer [checksum.MaxDigestLen]byte
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
	for {
		tok, data, err := tr.ReadToken()
		if err != nil {
			return res, fmt.Errorf("receive data at %d: %w", res.Size, err)
		}
		if tok == 0 {
			break
		}
		if tok > 0 {
			res.Literal += int64(tok)
			rc.file.Write(data)
			if out != nil {
				if _, err := out.Write(data); err != nil {
					return res, fmt.Errorf("write at %d: %w", res.Size, err)
				}
			}
			res.Size += int64(tok)
			continue
		}
		i := -(tok + 1)
		if i < 0 || i >= head.Count {
			return res, fmt.Errorf("invalid block index %d (count=%d): %w", i, head.Count, wire.ErrProtocol)
		}
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
		if out != nil {
			if _, err := out.Write(blk); err != nil {
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
	if basisErr != nil && out != nil {
		return res, fmt.Errorf("%w: %w", ErrChecksumMismatch, basisErr)
	}
	if out != nil && !bytes.Equal(sum, peer) {
		return res, ErrChecksumMismatch
	}
	return res, nil
}
