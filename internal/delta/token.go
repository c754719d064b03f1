package delta

import (
	"fmt"

	"github.com/gorsync/gorsync/internal/wire"
)

// ChunkSize is rsync's CHUNK_SIZE: the largest literal run one token
// carries, and the unit of several buffers.
const ChunkSize = 32 << 10

// Special tokens passed to TokenWriter.WriteToken.
const (
	// TokenEnd ends a file's token stream after the literal.
	TokenEnd int32 = -1
	// TokenLiteral sends the literal alone, with no token after it.
	TokenLiteral int32 = -2
)

// TokenWriter encodes a file's delta: literal data interleaved with block
// matches. Implementations are the plain stream below and, behind the same
// interface, the compressed ones.
type TokenWriter interface {
	// WriteToken sends literal (possibly empty) and then token: a block
	// index i >= 0 whose basis data is match, TokenLiteral, or TokenEnd.
	//
	// rsync: token.c send_token
	WriteToken(literal []byte, token int32, match []byte) error
}

// TokenReader decodes a file's delta.
type TokenReader interface {
	// ReadToken returns the next token: n > 0 with n bytes of literal data
	// (valid until the next call), -(i+1) for a match of block i, or 0 at
	// the end of the file.
	//
	// rsync: token.c recv_token
	ReadToken() (int32, []byte, error)
	// SeeToken shows the reader the basis data of a block it matched;
	// compressed streams keep it as history.
	//
	// rsync: token.c see_token
	SeeToken(data []byte)
}

// PlainTokenWriter is the uncompressed token stream: literal runs as
// write_int(len) and the bytes, at most ChunkSize per run, a match of block
// i as write_int(-(i+1)), and the end as write_int(0).
//
// rsync: token.c simple_send_token
type PlainTokenWriter struct {
	w *wire.Writer
}

// NewPlainTokenWriter returns a PlainTokenWriter writing to w.
func NewPlainTokenWriter(w *wire.Writer) *PlainTokenWriter { return &PlainTokenWriter{w: w} }

// WriteToken implements TokenWriter.
func (t *PlainTokenWriter) WriteToken(literal []byte, token int32, _ []byte) error {
	for len(literal) > 0 {
		n := min(len(literal), ChunkSize)
		t.w.WriteInt(int32(n))
		t.w.Write(literal[:n])
		literal = literal[n:]
	}
	if token != TokenLiteral {
		t.w.WriteInt(-(token + 1))
	}
	return t.w.Err()
}

// PlainTokenReader reads the uncompressed token stream. A literal run longer
// than ChunkSize is accepted, as upstream does for peers with larger runs,
// and returned in ChunkSize pieces.
//
// rsync: token.c simple_recv_token
type PlainTokenReader struct {
	r       *wire.Reader
	residue int32
	buf     []byte
}

// NewPlainTokenReader returns a PlainTokenReader reading from r.
func NewPlainTokenReader(r *wire.Reader) *PlainTokenReader {
	return &PlainTokenReader{r: r, buf: make([]byte, ChunkSize)}
}

// ReadToken implements TokenReader.
func (t *PlainTokenReader) ReadToken() (int32, []byte, error) {
	if t.residue == 0 {
		i, err := t.r.ReadInt()
		if err != nil {
			return 0, nil, fmt.Errorf("read token: %w", err)
		}
		if i <= 0 {
			return i, nil, nil
		}
		t.residue = i
	}
	n := min(t.residue, ChunkSize)
	if err := t.r.ReadFull(t.buf[:n]); err != nil {
		return 0, nil, fmt.Errorf("read %d literal bytes: %w", n, err)
	}
	t.residue -= n
	return n, t.buf[:n], nil
}

// SeeToken implements TokenReader; the plain stream keeps no history.
func (t *PlainTokenReader) SeeToken([]byte) {}
