package delta

import (
	"fmt"

	"github.com/pierrec/lz4/v4"

	"github.com/gorsync/gorsync/internal/wire"
)

// lz4MaxDecoded bounds what one lz4 piece may decompress to: upstream's
// output buffer, MAX(LZ4_compressBound(CHUNK_SIZE), MAX_DATA_COUNT+2).
var lz4MaxDecoded = max(lz4.CompressBlockBound(ChunkSize), maxDataCount+2)

// lz4Encoder is the lz4 token stream's encoder: each literal run is cut
// into pieces of at most maxDataCount bytes, each compressed as an
// independent lz4 block (halved until its output fits in one flagData).
//
// rsync: token.c send_compressed_token
type lz4Encoder struct {
	c    lz4.Compressor
	obuf []byte
}

func newLZ4Encoder() *lz4Encoder {
	return &lz4Encoder{obuf: make([]byte, lz4.CompressBlockBound(maxDataCount))}
}

// startFile does nothing: lz4 blocks are independent.
func (z *lz4Encoder) startFile() error { return nil }

// compress sends literal as lz4 blocks; flush makes no difference, as
// nothing is kept back. Unlike upstream, an empty literal after a
// TokenLiteral sends nothing: upstream's empty block there would read as
// the end of the file.
func (z *lz4Encoder) compress(w *wire.Writer, literal []byte, _ bool) error {
	for len(literal) > 0 {
		in := min(len(literal), maxDataCount)
		for {
			n, err := z.c.CompressBlock(literal[:in], z.obuf)
			if err != nil || n == 0 {
				return fmt.Errorf("lz4 compress returned %d: %v", n, err)
			}
			if n <= maxDataCount {
				writeData(w, z.obuf[:n])
				literal = literal[in:]
				break
			}
			in /= 2
		}
	}
	return nil
}

// matched does nothing: lz4 keeps no history.
func (z *lz4Encoder) matched([]byte) {}

// lz4Decoder decodes the lz4 token stream, a piece at a time.
//
// rsync: token.c recv_compressed_token
type lz4Decoder struct {
	dbuf []byte
	out  []byte // the decoded piece not yet returned
}

func newLZ4Decoder() *lz4Decoder { return &lz4Decoder{dbuf: make([]byte, lz4MaxDecoded)} }

// startFile does nothing: lz4 blocks are independent.
func (z *lz4Decoder) startFile() {}

func (z *lz4Decoder) feed(piece []byte) error {
	m, err := lz4.UncompressBlock(piece, z.dbuf)
	if err != nil {
		return fmt.Errorf("lz4 uncompress failed: %v: %w", err, wire.ErrProtocol)
	}
	if m == 0 {
		// Upstream would take this for the end of the file.
		return fmt.Errorf("empty lz4 block: %w", wire.ErrProtocol)
	}
	z.out = z.dbuf[:m]
	return nil
}

// next returns the piece fed last; each piece stands alone.
func (z *lz4Decoder) next() ([]byte, bool, error) {
	out := z.out
	z.out = nil
	return out, false, nil
}

// see does nothing: lz4 keeps no history.
func (z *lz4Decoder) see([]byte) {}

func (z *lz4Decoder) close() {}
