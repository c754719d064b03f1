package delta

import (
	"errors"
	"fmt"

	"github.com/gorsync/gorsync/internal/wire"
)

// The compressed token stream is the same for every algorithm: flag bytes
// for runs of matched blocks, flagData pieces of at most maxDataCount
// compressed bytes, and an end marker per file. Only what the pieces hold,
// and whether matched data enters the compressor's history, differ. One
// writer and one reader here implement the stream; a tokenEncoder and a
// tokenDecoder per algorithm (token_zlib.go, token_zstd.go, token_lz4.go)
// supply the rest.

// Flag bytes of the compressed token streams.
//
// rsync: token.c END_FLAG ... TOKENRUN_REL
const (
	flagEnd          = 0x00 // end of the file
	flagTokenLong    = 0x20 // + int32 token
	flagTokenRunLong = 0x21 // + int32 token + 16-bit run count
	flagData         = 0x40 // + 14-bit length (6 bits here, 8 in a byte), then data
	flagTokenRel     = 0x80 // + 6-bit token relative to the last run's end
	flagTokenRunRel  = 0xc0 // ditto, + 16-bit run count
)

// maxDataCount is the most compressed bytes one flagData carries.
//
// rsync: token.c MAX_DATA_COUNT
const maxDataCount = 16383

// maxTokenIndex bounds the block indexes a compressed stream may name.
//
// rsync: token.c MAX_TOKEN_INDEX
const maxTokenIndex = 0x7ffffffe

// tokenEncoder is what one algorithm contributes to the compressed token
// stream's writer.
type tokenEncoder interface {
	// startFile prepares for a file's first token (zlib begins a new
	// deflate stream for each file).
	startFile() error
	// compress sends literal, compressed, as flagData pieces. With flush
	// set, the pieces must decode to all the data given so far before the
	// token that follows; without, the encoder may keep some back for
	// the next call.
	compress(w *wire.Writer, literal []byte, flush bool) error
	// matched shows the encoder the basis data of a matched block, which
	// the receiver's decoder is shown too (SeeToken).
	matched(data []byte)
}

// compressedTokenWriter writes the compressed token stream with the
// algorithm enc.
//
// rsync: token.c send_deflated_token, send_zstd_token, send_compressed_token
type compressedTokenWriter struct {
	w    *wire.Writer
	enc  tokenEncoder
	runs tokenRuns
	// flushPending: the last call sent a literal without flushing it
	// (TokenLiteral), so the next one must flush even with no literal.
	flushPending bool
}

func newCompressedTokenWriter(w *wire.Writer, enc tokenEncoder) *compressedTokenWriter {
	return &compressedTokenWriter{w: w, enc: enc, runs: tokenRuns{last: TokenEnd}}
}

// WriteToken implements TokenWriter.
func (t *compressedTokenWriter) WriteToken(literal []byte, token int32, match []byte) error {
	if t.runs.advance(t.w, token, len(literal) > 0) {
		t.flushPending = false
		if err := t.enc.startFile(); err != nil {
			return err
		}
	}
	if len(literal) > 0 || t.flushPending {
		if err := t.enc.compress(t.w, literal, token != TokenLiteral); err != nil {
			return err
		}
		t.flushPending = token == TokenLiteral
	}
	if token == TokenEnd {
		t.w.WriteByte(flagEnd)
	} else if token >= 0 {
		t.enc.matched(match)
	}
	return t.w.Err()
}

// tokenRuns is the sender's half of the run coding: consecutive matched
// blocks go out as one run.
//
// rsync: token.c send_deflated_token (its first part, same in every codec)
type tokenRuns struct {
	last       int32 // previous token; TokenEnd before a file's first
	runStart   int32
	lastRunEnd int32
}

// advance accounts for the call (literal, token) and writes the flags of
// the run it ends, if any. It reports whether token starts a new file.
func (s *tokenRuns) advance(w *wire.Writer, token int32, literal bool) (newFile bool) {
	switch {
	case s.last == TokenEnd:
		newFile = true
		s.lastRunEnd = 0
		s.runStart = token
	case s.last == TokenLiteral:
		s.runStart = token
	case literal || token != s.last+1 || int64(token) >= int64(s.runStart)+65536:
		r := int64(s.runStart) - int64(s.lastRunEnd)
		n := s.last - s.runStart
		if r >= 0 && r <= 63 {
			if n == 0 {
				w.WriteByte(flagTokenRel + byte(r))
			} else {
				w.WriteByte(flagTokenRunRel + byte(r))
			}
		} else {
			if n == 0 {
				w.WriteByte(flagTokenLong)
			} else {
				w.WriteByte(flagTokenRunLong)
			}
			w.WriteInt(s.runStart)
		}
		if n != 0 {
			w.WriteByte(byte(n))
			w.WriteByte(byte(n >> 8))
		}
		s.lastRunEnd = s.last
		s.runStart = token
	}
	s.last = token
	return newFile
}

// writeData sends compressed bytes as flagData pieces of at most
// maxDataCount bytes.
func writeData(w *wire.Writer, b []byte) {
	for len(b) > 0 {
		n := min(len(b), maxDataCount)
		w.WriteByte(flagData | byte(n>>8))
		w.WriteByte(byte(n))
		w.Write(b[:n])
		b = b[n:]
	}
}

// tokenDecoder is what one algorithm contributes to the compressed token
// stream's reader.
type tokenDecoder interface {
	// startFile is called before a file's first token.
	startFile()
	// feed hands the decoder a flagData piece the reader met between
	// tokens: the first of a literal run, or the next one after next
	// reported the input used up. The piece is valid until the next read
	// from the stream.
	feed(piece []byte) error
	// next returns decoded literal data, valid until the next call.
	// more is false when the decoder has used up its input: the reader
	// then reads the next flag, a piece to feed or a token. Data returned
	// with an error is delivered before the error.
	next() (data []byte, more bool, err error)
	// see shows the decoder the basis data of a matched block.
	//
	// rsync: token.c see_token
	see(data []byte)
	// close releases what the decoder holds beyond memory.
	close()
}

// tokenInput is the compressed token stream's input: the wire, the buffer
// for one flagData piece, and room to put back a flag byte that a decoder
// pulling its own input (zlib's) read past the end of its data.
type tokenInput struct {
	r      *wire.Reader
	buf    []byte // maxDataCount bytes
	unread int    // a flag put back, or -1
}

func newTokenInput(r *wire.Reader) *tokenInput {
	return &tokenInput{r: r, buf: make([]byte, maxDataCount), unread: -1}
}

// flag reads the next flag byte.
func (in *tokenInput) flag() (byte, error) {
	if in.unread >= 0 {
		f := byte(in.unread)
		in.unread = -1
		return f, nil
	}
	b, err := in.r.ReadByte()
	if err != nil {
		return 0, fmt.Errorf("read compressed token flag: %w", err)
	}
	return b, nil
}

// piece reads the rest of a flagData piece whose first byte is flag.
func (in *tokenInput) piece(flag byte) ([]byte, error) {
	n, err := readDataLen(in.r, flag)
	if err != nil {
		return nil, err
	}
	if err := in.r.ReadFull(in.buf[:n]); err != nil {
		return nil, fmt.Errorf("read %d compressed bytes: %w", n, err)
	}
	return in.buf[:n], nil
}

// readDataLen reads the second length byte of a flagData whose first byte
// is flag, and checks the length.
func readDataLen(r *wire.Reader, flag byte) (int, error) {
	lo, err := r.ReadByte()
	if err != nil {
		return 0, fmt.Errorf("read compressed data length: %w", err)
	}
	n := int(flag&0x3f)<<8 | int(lo)
	if n == 0 {
		// Upstream's decompressors fail on an empty piece; no sender
		// makes one.
		return 0, fmt.Errorf("empty compressed data piece: %w", wire.ErrProtocol)
	}
	return n, nil
}

// Reader states, as token.c names them.
const (
	stInit = iota
	stIdle
	stRunning
	stInflating
)

// compressedTokenReader reads the compressed token stream with the
// algorithm dec. It implements io.Closer, for decoders that hold more than
// memory (zstd's goroutine).
//
// rsync: token.c recv_deflated_token, recv_zstd_token, recv_compressed_token
type compressedTokenReader struct {
	in      *tokenInput
	dec     tokenDecoder
	state   int
	runs    runDecoder
	pending error // sticky: the stream is unusable after an error
}

func newCompressedTokenReader(in *tokenInput, dec tokenDecoder) *compressedTokenReader {
	return &compressedTokenReader{in: in, dec: dec}
}

var errTokenReaderClosed = errors.New("compressed token reader closed")

// Close releases the decoder. The reader is unusable afterwards.
func (t *compressedTokenReader) Close() error {
	t.dec.close()
	if t.pending == nil {
		t.pending = errTokenReaderClosed
	}
	return nil
}

func (t *compressedTokenReader) fail(err error) error {
	t.pending = err
	t.dec.close()
	return err
}

// ReadToken implements TokenReader.
func (t *compressedTokenReader) ReadToken() (int32, []byte, error) {
	if t.pending != nil {
		return 0, nil, t.pending
	}
	for {
		switch t.state {
		case stInit:
			t.runs.reset()
			t.dec.startFile()
			t.state = stIdle
		case stIdle:
			flag, err := t.in.flag()
			if err != nil {
				return 0, nil, t.fail(err)
			}
			switch {
			case flag&0xc0 == flagData:
				piece, err := t.in.piece(flag)
				if err != nil {
					return 0, nil, t.fail(err)
				}
				if err := t.dec.feed(piece); err != nil {
					return 0, nil, t.fail(err)
				}
				t.state = stInflating
			case flag == flagEnd:
				t.state = stInit
				return 0, nil, nil
			default:
				tok, err := t.runs.num(t.in.r, flag)
				if err != nil {
					return 0, nil, t.fail(err)
				}
				if t.runs.run > 0 {
					t.state = stRunning
				}
				return tok, nil, nil
			}
		case stRunning:
			tok := t.runs.next()
			if t.runs.run == 0 {
				t.state = stIdle
			}
			return tok, nil, nil
		case stInflating:
			data, more, err := t.dec.next()
			if err != nil {
				t.fail(err)
				if len(data) == 0 {
					return 0, nil, err
				}
			} else if !more {
				t.state = stIdle
			}
			if len(data) > 0 {
				return int32(len(data)), data, nil
			}
		}
	}
}

// SeeToken implements TokenReader.
func (t *compressedTokenReader) SeeToken(data []byte) { t.dec.see(data) }

// runDecoder is the receiver's half of the run coding.
//
// rsync: token.c recv_compressed_token_num, recv_compressed_token_run
type runDecoder struct {
	token int32 // rx_token: the last token returned
	run   int32 // tokens left in the current run
}

func (d *runDecoder) reset() { d.token, d.run = 0, 0 }

// num decodes a token flag (not flagData or flagEnd) and returns the
// ReadToken value of its first token.
func (d *runDecoder) num(r *wire.Reader, flag byte) (int32, error) {
	switch {
	case flag&flagTokenRel != 0:
		incr := int32(flag & 0x3f)
		if d.token > maxTokenIndex-incr {
			return 0, errBadToken
		}
		d.token += incr
	case flag == flagTokenLong || flag == flagTokenRunLong:
		t, err := r.ReadInt()
		if err != nil {
			return 0, fmt.Errorf("read token: %w", err)
		}
		if t < 0 || t > maxTokenIndex {
			return 0, errBadToken
		}
		d.token = t
	default:
		return 0, fmt.Errorf("invalid flag byte %#02x in compressed stream: %w", flag, wire.ErrProtocol)
	}
	if flag == flagTokenRunLong || flag&0xc0 == flagTokenRunRel {
		var b [2]byte
		if err := r.ReadFull(b[:]); err != nil {
			return 0, fmt.Errorf("read token run: %w", err)
		}
		d.run = int32(b[0]) | int32(b[1])<<8
		if d.run <= 0 || d.token > maxTokenIndex-d.run {
			return 0, errBadToken
		}
	}
	return -1 - d.token, nil
}

// next returns the next token of the current run; the caller checks that
// one is left (d.run > 0).
func (d *runDecoder) next() int32 {
	d.token++
	d.run--
	return -1 - d.token
}

var errBadToken = fmt.Errorf("invalid token number in compressed stream: %w", wire.ErrProtocol)
