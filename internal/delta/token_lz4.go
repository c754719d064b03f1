package delta

import (
	"fmt"

	"github.com/pierrec/lz4/v4"

	"github.com/gorsync/gorsync/internal/wire"
)

// lz4MaxDecoded bounds what one lz4 piece may decompress to: upstream's
// output buffer, MAX(LZ4_compressBound(CHUNK_SIZE), MAX_DATA_COUNT+2).
var lz4MaxDecoded = max(lz4.CompressBlockBound(ChunkSize), maxDataCount+2)

// lz4TokenWriter is the lz4 token stream: each literal run is cut into
// pieces of at most maxDataCount bytes, each compressed as an independent
// lz4 block (halved until its output fits in one flagData).
//
// rsync: token.c send_compressed_token
type lz4TokenWriter struct {
	w    *wire.Writer
	runs tokenRuns
	c    lz4.Compressor
	obuf []byte
}

func newLZ4TokenWriter(w *wire.Writer) *lz4TokenWriter {
	return &lz4TokenWriter{w: w, runs: tokenRuns{last: TokenEnd}, obuf: make([]byte, lz4.CompressBlockBound(maxDataCount))}
}

// WriteToken implements TokenWriter. Unlike upstream, an empty literal
// after a TokenLiteral sends nothing: lz4 keeps nothing to flush, and
// upstream's empty block there would read as the end of the file.
func (t *lz4TokenWriter) WriteToken(literal []byte, token int32, _ []byte) error {
	t.runs.advance(t.w, token, len(literal) > 0)
	for len(literal) > 0 {
		in := min(len(literal), maxDataCount)
		for {
			n, err := t.c.CompressBlock(literal[:in], t.obuf)
			if err != nil || n == 0 {
				return fmt.Errorf("lz4 compress returned %d: %v", n, err)
			}
			if n <= maxDataCount {
				t.w.WriteByte(flagData | byte(n>>8))
				t.w.WriteByte(byte(n))
				t.w.Write(t.obuf[:n])
				literal = literal[in:]
				break
			}
			in /= 2
		}
	}
	if token == TokenEnd {
		t.w.WriteByte(flagEnd)
	}
	return t.w.Err()
}

// lz4TokenReader decodes the lz4 token stream.
//
// rsync: token.c recv_compressed_token
type lz4TokenReader struct {
	r       *wire.Reader
	state   int
	runs    runDecoder
	cbuf    []byte
	dbuf    []byte
	pending error
}

func newLZ4TokenReader(r *wire.Reader) *lz4TokenReader {
	return &lz4TokenReader{r: r, cbuf: make([]byte, maxDataCount), dbuf: make([]byte, lz4MaxDecoded)}
}

// ReadToken implements TokenReader.
func (t *lz4TokenReader) ReadToken() (int32, []byte, error) {
	if t.pending != nil {
		return 0, nil, t.pending
	}
	for {
		switch t.state {
		case stInit:
			t.runs.reset()
			t.state = stIdle
		case stIdle:
			flag, err := t.r.ReadByte()
			if err != nil {
				return 0, nil, t.fail(fmt.Errorf("read compressed token flag: %w", err))
			}
			switch {
			case flag&0xc0 == flagData:
				data, err := readData(t.r, flag, t.cbuf)
				if err != nil {
					return 0, nil, t.fail(err)
				}
				m, err := lz4.UncompressBlock(data, t.dbuf)
				if err != nil {
					return 0, nil, t.fail(fmt.Errorf("lz4 uncompress failed: %v: %w", err, wire.ErrProtocol))
				}
				if m == 0 {
					// Upstream would take this for the end of the file.
					return 0, nil, t.fail(fmt.Errorf("empty lz4 block: %w", wire.ErrProtocol))
				}
				return int32(m), t.dbuf[:m], nil
			case flag == flagEnd:
				t.state = stInit
				return 0, nil, nil
			default:
				tok, err := t.runs.first(t.r, flag, &t.state)
				if err != nil {
					return 0, nil, t.fail(err)
				}
				return tok, nil, nil
			}
		case stRunning:
			return t.runs.step(&t.state), nil, nil
		}
	}
}

func (t *lz4TokenReader) fail(err error) error {
	t.pending = err
	return err
}

// SeeToken implements TokenReader; lz4 keeps no history.
func (t *lz4TokenReader) SeeToken([]byte) {}
