package delta

import (
	"fmt"
	"math"
	"strings"

	"github.com/gorsync/gorsync/internal/wire"
)

// Compression names a token-stream compression algorithm, as negotiated
// by --compress-choice or the protocol-31 compression list.
type Compression int

// The compression algorithms rsync knows.
const (
	NoCompression Compression = iota
	// Zlib is raw deflate whose window also holds the matched blocks'
	// data (rsync's "zlib", what -z means to old peers).
	Zlib
	// Zlibx is raw deflate without the matched data in its window.
	Zlibx
	// Zstd is one zstd frame per session, flushed at each token.
	Zstd
	// LZ4 compresses each piece of a literal run as an independent block.
	LZ4
)

var compressionNames = [...]string{"none", "zlib", "zlibx", "zstd", "lz4"}

// Name returns rsync's name for c ("none", "zlib", "zlibx", "zstd", "lz4").
func (c Compression) Name() string {
	if c < 0 || int(c) >= len(compressionNames) {
		return fmt.Sprintf("compression(%d)", int(c))
	}
	return compressionNames[c]
}

// String implements fmt.Stringer.
func (c Compression) String() string { return c.Name() }

// ParseCompression returns the algorithm rsync calls name (case-insensitive,
// as upstream's get_nni_by_name compares).
func ParseCompression(name string) (Compression, error) {
	for i, n := range compressionNames {
		if strings.EqualFold(n, name) {
			return Compression(i), nil
		}
	}
	return 0, fmt.Errorf("unknown compress name: %s", name)
}

// LevelUnspecified is the level when --compress-level was not given
// (rsync's CLVL_NOT_SPECIFIED).
const LevelUnspecified = math.MinInt32

// Level limits from zstd.h: ZSTD_minCLevel() is -ZSTD_TARGETLENGTH_MAX
// (-(1<<17)), ZSTD_maxCLevel() is 22, ZSTD_CLEVEL_DEFAULT is 3.
const (
	zstdMinLevel     = -(1 << 17)
	zstdMaxLevel     = 22
	zstdDefaultLevel = 3
)

// LevelRange returns the valid compression levels of c and its default.
//
// rsync: token.c init_compression_level
func LevelRange(c Compression) (lo, hi, dflt int) {
	switch c {
	case Zlib, Zlibx:
		return 1, 9, 6
	case Zstd:
		return zstdMinLevel, zstdMaxLevel, zstdDefaultLevel
	}
	return 0, 0, 0
}

// NormalizeLevel applies rsync's level rules to a requested level: an
// unspecified level (LevelUnspecified) becomes the default, so do zlib's -1
// and zstd's 0; zlib's 0 turns compression off (the result is
// NoCompression); anything else is clamped to LevelRange without complaint.
//
// rsync: token.c init_compression_level
func NormalizeLevel(c Compression, level int) (Compression, int) {
	lo, hi, dflt := LevelRange(c)
	switch c {
	case NoCompression:
		return NoCompression, 0
	case Zlib, Zlibx:
		if level == -1 {
			level = dflt
		}
		if level == 0 {
			return NoCompression, 0
		}
	case Zstd:
		if level == 0 {
			level = dflt
		}
	}
	if level == LevelUnspecified {
		level = dflt
	}
	return c, min(max(level, lo), hi)
}

// NewTokenWriter returns the token encoder for c at the given level (taken
// as NormalizeLevel leaves it), for a session speaking protocol. One writer
// serves a whole session: compressed streams keep state from file to file.
func NewTokenWriter(w *wire.Writer, c Compression, level int, protocol int) TokenWriter {
	switch c {
	case Zlib, Zlibx:
		return newZlibTokenWriter(w, c == Zlibx, level, protocol)
	case Zstd:
		return newZstdTokenWriter(w, level)
	case LZ4:
		return newLZ4TokenWriter(w)
	}
	return NewPlainTokenWriter(w)
}

// NewTokenReader returns the token decoder for c. Like the writer, it
// serves a whole session. A zstd reader runs its decoder on a goroutine of
// its own: close it (it implements io.Closer) when the session ends; it is
// also stopped when the reader is garbage collected.
func NewTokenReader(r *wire.Reader, c Compression, protocol int) TokenReader {
	switch c {
	case Zlib, Zlibx:
		return newZlibTokenReader(r, c == Zlibx, protocol)
	case Zstd:
		return newZstdTokenReader(r)
	case LZ4:
		return newLZ4TokenReader(r)
	}
	return NewPlainTokenReader(r)
}

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

// tokenRuns is the sender's half of the run coding shared by every
// compressed stream: consecutive matched blocks go out as one run.
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

// first decodes a token flag for a reader whose state is *state, moving it
// to stRunning when a run of tokens follows.
func (d *runDecoder) first(r *wire.Reader, flag byte, state *int) (int32, error) {
	tok, err := d.num(r, flag)
	if err == nil && d.run > 0 {
		*state = stRunning
	}
	return tok, err
}

// step returns the next token of a run, moving *state back to stIdle at
// its end.
func (d *runDecoder) step(state *int) int32 {
	tok := d.next()
	if d.run == 0 {
		*state = stIdle
	}
	return tok
}

var errBadToken = fmt.Errorf("invalid token number in compressed stream: %w", wire.ErrProtocol)

// readData reads a flagData piece (its second length byte, then the bytes)
// into buf, which must hold maxDataCount bytes.
func readData(r *wire.Reader, flag byte, buf []byte) ([]byte, error) {
	n, err := readDataLen(r, flag)
	if err != nil {
		return nil, err
	}
	if err := r.ReadFull(buf[:n]); err != nil {
		return nil, fmt.Errorf("read %d compressed bytes: %w", n, err)
	}
	return buf[:n], nil
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

// window keeps the last 32 KiB of a deflate stream's uncompressed data:
// the history a new inflater or deflater needs to continue it.
type window struct {
	buf []byte // len <= 2*windowSize; the window is the last windowSize bytes
}

const windowSize = 32 << 10

func (h *window) reset() { h.buf = h.buf[:0] }

func (h *window) write(p []byte) {
	if len(p) >= windowSize {
		h.buf = append(h.buf[:0], p[len(p)-windowSize:]...)
		return
	}
	if len(h.buf)+len(p) > 2*windowSize {
		keep := windowSize - len(p)
		n := copy(h.buf, h.buf[len(h.buf)-keep:])
		h.buf = h.buf[:n]
	}
	h.buf = append(h.buf, p...)
}

func (h *window) bytes() []byte {
	if len(h.buf) > windowSize {
		return h.buf[len(h.buf)-windowSize:]
	}
	return h.buf
}

// seeMatched feeds a matched block of data to fn in the pieces zlib's
// window receives it: at most 0xffff bytes each and, before protocol 31,
// each piece taken from the block's start again (an upstream bug the
// protocol keeps). Pieces that cannot reach the last 32 KiB are skipped.
//
// rsync: token.c see_deflate_token, and send_deflated_token's twin loop
func seeMatched(data []byte, protocol int, fn func([]byte)) {
	const piece = 0xffff
	total := len(data)
	for done := 0; done < total; done += piece {
		n := min(piece, total-done)
		if done+n <= total-windowSize {
			continue
		}
		off := 0
		if protocol >= 31 {
			off = done
		}
		fn(data[off : off+n])
	}
}
