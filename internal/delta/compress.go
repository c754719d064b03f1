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
		return newCompressedTokenWriter(w, newZlibEncoder(c == Zlibx, level, protocol))
	case Zstd:
		return newCompressedTokenWriter(w, newZstdEncoder(level))
	case LZ4:
		return newCompressedTokenWriter(w, newLZ4Encoder())
	}
	return NewPlainTokenWriter(w)
}

// NewTokenReader returns the token decoder for c. Like the writer, it
// serves a whole session. A compressed reader implements io.Closer: close
// it when the session ends. Only zstd's needs it (its decoder runs on a
// goroutine of its own, also stopped when the reader is garbage collected).
func NewTokenReader(r *wire.Reader, c Compression, protocol int) TokenReader {
	switch c {
	case Zlib, Zlibx:
		// zlib's decoder pulls its own input from the stream.
		in := newTokenInput(r)
		return newCompressedTokenReader(in, newZlibDecoder(in, c == Zlibx, protocol))
	case Zstd:
		return newCompressedTokenReader(newTokenInput(r), newZstdDecoder())
	case LZ4:
		return newCompressedTokenReader(newTokenInput(r), newLZ4Decoder())
	}
	return NewPlainTokenReader(r)
}
