package delta

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"compress/flate"

	"github.com/gorsync/gorsync/internal/wire"
)

// syncMarker ends every flush of a deflate stream (an empty stored block);
// rsync strips it from the wire and the receiver puts it back.
var syncMarker = [4]byte{0, 0, 0xff, 0xff}

// zlibEncoder is the deflated token stream's encoder ("zlib" and "zlibx"):
// a raw deflate stream per file, flushed (Z_SYNC_FLUSH, trailer stripped)
// before every token. For "zlib" the matched blocks' data also enters the
// deflater's window, without being sent, as the receiver's see_token puts
// it in its inflater's.
//
// rsync: token.c send_deflated_token
type zlibEncoder struct {
	x        bool // zlibx: matched data stays out of the window
	level    int
	protocol int
	fw       *flate.Writer
	out      sinkBuffer
	// seen holds the window-relevant tail of the matched data since the
	// last compression; it enters the deflater (output discarded) just
	// before the next literal data, which is when upstream's history and
	// ours must agree.
	seen window
}

// sinkBuffer collects compressed output, or drops it while discard is set.
type sinkBuffer struct {
	b       []byte
	discard bool
}

func (s *sinkBuffer) Write(p []byte) (int, error) {
	if !s.discard {
		s.b = append(s.b, p...)
	}
	return len(p), nil
}

func newZlibEncoder(x bool, level, protocol int) *zlibEncoder {
	if level < flate.NoCompression || level > flate.BestCompression {
		level = 6
	}
	return &zlibEncoder{x: x, level: level, protocol: protocol}
}

// startFile begins a new deflate stream: each file has its own.
func (z *zlibEncoder) startFile() error {
	if z.fw == nil {
		fw, err := flate.NewWriter(&z.out, z.level)
		if err != nil {
			return fmt.Errorf("compression init failed: %w", err)
		}
		z.fw = fw
	} else {
		z.fw.Reset(&z.out)
	}
	z.out.b = z.out.b[:0]
	z.seen.reset()
	return nil
}

// compress deflates literal and sends the output, flushed and stripped of
// its sync marker when flush is set.
func (z *zlibEncoder) compress(w *wire.Writer, literal []byte, flush bool) error {
	if seen := z.seen.bytes(); len(seen) > 0 {
		// The deflater is flushed here (a match token follows a flush),
		// so this adds seen to its window and nothing else.
		z.out.discard = true
		z.fw.Write(seen)
		err := z.fw.Flush()
		z.out.discard = false
		z.seen.reset()
		if err != nil {
			return fmt.Errorf("deflate matched data: %w", err)
		}
	}
	if _, err := z.fw.Write(literal); err != nil {
		return fmt.Errorf("deflate: %w", err)
	}
	out := z.out.b
	if flush {
		if err := z.fw.Flush(); err != nil {
			return fmt.Errorf("deflate flush: %w", err)
		}
		out = z.out.b
		if !bytes.HasSuffix(out, syncMarker[:]) {
			return errors.New("deflate flush did not end with a sync marker")
		}
		out = out[:len(out)-len(syncMarker)]
	}
	writeData(w, out)
	z.out.b = z.out.b[:0]
	return nil
}

// matched keeps, for "zlib", the block's data for the deflater's window.
func (z *zlibEncoder) matched(data []byte) {
	if !z.x {
		seeMatched(data, z.protocol, z.seen.write)
	}
}

// errRunEnd is what deflateSource tells the inflater once a literal run's
// data and its restored sync marker are used up.
var errRunEnd = errors.New("end of compressed run")

// deflateSource feeds an inflater one literal run of a deflated token
// stream, reading flagData pieces from the stream as the inflater asks for
// them. At the first other flag it hands out the stripped sync marker and
// then errRunEnd, putting the flag back for the token reader.
type deflateSource struct {
	in    *tokenInput
	data  []byte
	ended bool  // the run's data and sync marker have been handed out
	err   error // a wire or framing error, reported as the cause
}

func (s *deflateSource) fill() error {
	for len(s.data) == 0 {
		if s.ended {
			return errRunEnd
		}
		flag, err := s.in.flag()
		if err != nil {
			s.err = err
			return err
		}
		if flag&0xc0 != flagData {
			s.in.unread = int(flag)
			s.data = syncMarker[:]
			s.ended = true
			return nil
		}
		data, err := s.in.piece(flag)
		if err != nil {
			s.err = err
			return err
		}
		s.data = data
	}
	return nil
}

func (s *deflateSource) ReadByte() (byte, error) {
	if err := s.fill(); err != nil {
		return 0, err
	}
	b := s.data[0]
	s.data = s.data[1:]
	return b, nil
}

func (s *deflateSource) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if err := s.fill(); err != nil {
		return 0, err
	}
	n := copy(p, s.data)
	s.data = s.data[n:]
	return n, nil
}

// zlibDecoder decodes the deflated token stream. Each literal run is
// inflated by an inflater reset onto the last 32 KiB of the file's data so
// far (with the matched blocks' data for "zlib"), which is the state
// upstream's one inflater is in after the sync marker ending the previous
// run. The inflater reads the run's pieces from the stream itself.
//
// rsync: token.c recv_deflated_token, see_deflate_token
type zlibDecoder struct {
	x        bool
	protocol int
	src      deflateSource
	fr       io.ReadCloser
	hist     window
	dbuf     []byte
	fresh    bool // the inflater must be reset before use
}

func newZlibDecoder(in *tokenInput, x bool, protocol int) *zlibDecoder {
	return &zlibDecoder{
		x: x, protocol: protocol,
		src:  deflateSource{in: in},
		dbuf: make([]byte, ChunkSize),
	}
}

func (z *zlibDecoder) startFile() {
	z.hist.reset()
	z.fresh = true
}

// feed starts a literal run with its first piece.
func (z *zlibDecoder) feed(piece []byte) error {
	z.src.data, z.src.ended = piece, false
	if !z.fresh {
		return nil
	}
	z.fresh = false
	if z.fr == nil {
		z.fr = flate.NewReaderDict(&z.src, z.hist.bytes())
		return nil
	}
	return z.fr.(flate.Resetter).Reset(&z.src, z.hist.bytes())
}

func (z *zlibDecoder) next() ([]byte, bool, error) {
	n, err := z.fr.Read(z.dbuf)
	more := true
	if err != nil {
		if errors.Is(err, errRunEnd) {
			err = nil
		} else if z.src.err != nil {
			err = z.src.err
		} else {
			err = fmt.Errorf("inflate: %v: %w", err, wire.ErrProtocol)
		}
		more = false
		z.fresh = true
	}
	z.hist.write(z.dbuf[:n])
	return z.dbuf[:n], more, err
}

// see puts, for "zlib", the matched data in the window, as upstream's fake
// stored blocks put it in its inflater's.
func (z *zlibDecoder) see(data []byte) {
	if !z.x {
		seeMatched(data, z.protocol, z.hist.write)
	}
}

func (z *zlibDecoder) close() {}

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
