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

// zlibTokenWriter is the deflated token stream ("zlib" and "zlibx"): a raw
// deflate stream per file, flushed (Z_SYNC_FLUSH, trailer stripped) before
// every token. For "zlib" the matched blocks' data also enters the
// deflater's window, without being sent, as the receiver's see_token puts
// it in its inflater's.
//
// rsync: token.c send_deflated_token
type zlibTokenWriter struct {
	w            *wire.Writer
	runs         tokenRuns
	x            bool // zlibx: matched data stays out of the window
	level        int
	protocol     int
	fw           *flate.Writer
	out          sinkBuffer
	flushPending bool
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

func newZlibTokenWriter(w *wire.Writer, x bool, level, protocol int) *zlibTokenWriter {
	if level < flate.NoCompression || level > flate.BestCompression {
		level = 6
	}
	return &zlibTokenWriter{w: w, x: x, level: level, protocol: protocol, runs: tokenRuns{last: TokenEnd}}
}

// WriteToken implements TokenWriter.
func (t *zlibTokenWriter) WriteToken(literal []byte, token int32, match []byte) error {
	if t.runs.advance(t.w, token, len(literal) > 0) {
		if t.fw == nil {
			fw, err := flate.NewWriter(&t.out, t.level)
			if err != nil {
				return fmt.Errorf("compression init failed: %w", err)
			}
			t.fw = fw
		} else {
			t.fw.Reset(&t.out)
		}
		t.out.b = t.out.b[:0]
		t.flushPending = false
		t.seen.reset()
	}
	if len(literal) > 0 || t.flushPending {
		if err := t.deflate(literal, token); err != nil {
			return err
		}
		t.flushPending = token == TokenLiteral
	}
	if token == TokenEnd {
		t.w.WriteByte(flagEnd)
	} else if token >= 0 && !t.x {
		seeMatched(match, t.protocol, t.seen.write)
	}
	return t.w.Err()
}

// deflate compresses literal and sends the output, flushed unless token is
// TokenLiteral.
func (t *zlibTokenWriter) deflate(literal []byte, token int32) error {
	if seen := t.seen.bytes(); len(seen) > 0 {
		// The deflater is flushed here (a match token follows a flush),
		// so this adds seen to its window and nothing else.
		t.out.discard = true
		t.fw.Write(seen)
		err := t.fw.Flush()
		t.out.discard = false
		t.seen.reset()
		if err != nil {
			return fmt.Errorf("deflate matched data: %w", err)
		}
	}
	if _, err := t.fw.Write(literal); err != nil {
		return fmt.Errorf("deflate: %w", err)
	}
	out := t.out.b
	if token != TokenLiteral {
		if err := t.fw.Flush(); err != nil {
			return fmt.Errorf("deflate flush: %w", err)
		}
		out = t.out.b
		if !bytes.HasSuffix(out, syncMarker[:]) {
			return errors.New("deflate flush did not end with a sync marker")
		}
		out = out[:len(out)-len(syncMarker)]
	}
	writeData(t.w, out)
	t.out.b = t.out.b[:0]
	return nil
}

// Reader states, as token.c names them.
const (
	stInit = iota
	stIdle
	stRunning
	stInflating
)

// errRunEnd is what deflateSource tells the inflater once a literal run's
// data and its restored sync marker are used up.
var errRunEnd = errors.New("end of compressed run")

// deflateSource feeds an inflater one literal run of a deflated token
// stream, reading flagData pieces from the wire as the inflater asks for
// them. At the first other flag it hands out the stripped sync marker and
// then errRunEnd, keeping the flag for the token reader.
type deflateSource struct {
	r     *wire.Reader
	cbuf  []byte
	data  []byte
	ended bool  // the run's data and sync marker have been handed out
	flag  int   // the flag that ended the run, or -1
	err   error // a wire or framing error, reported as the cause
}

func (s *deflateSource) fill() error {
	for len(s.data) == 0 {
		if s.ended {
			return errRunEnd
		}
		flag, err := s.r.ReadByte()
		if err != nil {
			s.err = fmt.Errorf("read compressed token flag: %w", err)
			return s.err
		}
		if flag&0xc0 != flagData {
			s.flag = int(flag)
			s.data = syncMarker[:]
			s.ended = true
			return nil
		}
		data, err := readData(s.r, flag, s.cbuf)
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

// zlibTokenReader decodes the deflated token stream. Each literal run is
// inflated by an inflater reset onto the last 32 KiB of the file's data so
// far (with the matched blocks' data for "zlib"), which is the state
// upstream's one inflater is in after the sync marker ending the previous
// run.
//
// rsync: token.c recv_deflated_token, see_deflate_token
type zlibTokenReader struct {
	r        *wire.Reader
	x        bool
	protocol int
	state    int
	runs     runDecoder
	src      deflateSource
	fr       io.ReadCloser
	hist     window
	dbuf     []byte
	fresh    bool // the inflater must be reset before use
	pending  error
}

func newZlibTokenReader(r *wire.Reader, x bool, protocol int) *zlibTokenReader {
	return &zlibTokenReader{
		r: r, x: x, protocol: protocol,
		src:  deflateSource{r: r, cbuf: make([]byte, maxDataCount), flag: -1},
		dbuf: make([]byte, ChunkSize),
	}
}

// ReadToken implements TokenReader.
func (t *zlibTokenReader) ReadToken() (int32, []byte, error) {
	if t.pending != nil {
		return 0, nil, t.pending
	}
	for {
		switch t.state {
		case stInit:
			t.hist.reset()
			t.runs.reset()
			t.fresh = true
			t.state = stIdle
		case stIdle:
			var flag byte
			if t.src.flag >= 0 {
				flag = byte(t.src.flag)
				t.src.flag = -1
			} else {
				b, err := t.r.ReadByte()
				if err != nil {
					return 0, nil, t.fail(fmt.Errorf("read compressed token flag: %w", err))
				}
				flag = b
			}
			switch {
			case flag&0xc0 == flagData:
				// Let the source read this piece as if it came next.
				data, err := readData(t.r, flag, t.src.cbuf)
				if err != nil {
					return 0, nil, t.fail(err)
				}
				t.src.data, t.src.ended = data, false
				if err := t.resetInflater(); err != nil {
					return 0, nil, t.fail(err)
				}
				t.state = stInflating
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
		case stInflating:
			n, err := t.fr.Read(t.dbuf)
			if err != nil {
				if !errors.Is(err, errRunEnd) {
					if t.src.err != nil {
						err = t.src.err
					} else {
						err = fmt.Errorf("inflate: %v: %w", err, wire.ErrProtocol)
					}
					if n == 0 {
						return 0, nil, t.fail(err)
					}
					t.pending = err
				}
				t.state = stIdle
				t.fresh = true
			}
			if n > 0 {
				t.hist.write(t.dbuf[:n])
				return int32(n), t.dbuf[:n], nil
			}
		}
	}
}

func (t *zlibTokenReader) fail(err error) error {
	t.pending = err
	return err
}

func (t *zlibTokenReader) resetInflater() error {
	if !t.fresh {
		return nil
	}
	t.fresh = false
	if t.fr == nil {
		t.fr = flate.NewReaderDict(&t.src, t.hist.bytes())
		return nil
	}
	return t.fr.(flate.Resetter).Reset(&t.src, t.hist.bytes())
}

// SeeToken implements TokenReader: for "zlib" the matched data enters the
// window, as upstream's fake stored blocks put it in its inflater's.
func (t *zlibTokenReader) SeeToken(data []byte) {
	if !t.x {
		seeMatched(data, t.protocol, t.hist.write)
	}
}
