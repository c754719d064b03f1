package delta

import (
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/klauspost/compress/zstd"

	"github.com/gorsync/gorsync/internal/wire"
)

// zstdMaxWindow is the largest window a peer's zstd frame may ask for:
// libzstd's default limit (ZSTD_WINDOWLOG_LIMIT_DEFAULT, 2^27), which is
// what upstream's decompressor accepts.
const zstdMaxWindow = 1 << 27

// zstdTokenWriter is the zstd token stream: one zstd frame for the whole
// session, never ended, with each literal run flushed (a block boundary)
// before its token.
//
// rsync: token.c send_zstd_token
type zstdTokenWriter struct {
	w            *wire.Writer
	runs         tokenRuns
	level        int
	enc          *zstd.Encoder
	out          sinkBuffer
	flushPending bool
}

func newZstdTokenWriter(w *wire.Writer, level int) *zstdTokenWriter {
	if level == 0 || level == LevelUnspecified {
		level = zstdDefaultLevel
	}
	return &zstdTokenWriter{w: w, level: level, runs: tokenRuns{last: TokenEnd}}
}

// WriteToken implements TokenWriter.
func (t *zstdTokenWriter) WriteToken(literal []byte, token int32, _ []byte) error {
	if t.runs.advance(t.w, token, len(literal) > 0) {
		t.flushPending = false
	}
	if len(literal) > 0 || t.flushPending {
		if t.enc == nil {
			enc, err := zstd.NewWriter(&t.out,
				zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(t.level)),
				zstd.WithEncoderConcurrency(1),
				zstd.WithEncoderCRC(false))
			if err != nil {
				return fmt.Errorf("compression init failed: %w", err)
			}
			t.enc = enc
		}
		if _, err := t.enc.Write(literal); err != nil {
			return fmt.Errorf("zstd compress: %w", err)
		}
		if token != TokenLiteral {
			if err := t.enc.Flush(); err != nil {
				return fmt.Errorf("zstd flush: %w", err)
			}
		}
		writeData(t.w, t.out.b)
		t.out.b = t.out.b[:0]
		t.flushPending = token == TokenLiteral
	}
	if token == TokenEnd {
		t.w.WriteByte(flagEnd)
	}
	return t.w.Err()
}

// zstdTokenReader decodes the zstd token stream. Upstream pushes each
// piece into one streaming decompressor for the whole session; the Go
// decoder pulls its input instead, so it runs on a goroutine of its own
// that is handed the pieces one at a time and reports, in lock step, each
// block it decodes and each time it has used up its input.
//
// rsync: token.c recv_zstd_token
type zstdTokenReader struct {
	r       *wire.Reader
	state   int
	runs    runDecoder
	cbuf    []byte
	pipe    *zstdPipe
	resume  bool // the decoder waits to be told to go on after an output
	pending error
}

// zstdPipe connects a zstdTokenReader with its decoder goroutine. It holds
// no reference to the reader, so that an abandoned reader can be collected
// and its cleanup can stop the goroutine.
type zstdPipe struct {
	in   chan []byte    // reader → decoder: a piece of input, or nil to go on
	out  chan zstdEvent // decoder → reader
	done chan struct{}
	once sync.Once
	data []byte // the decoder's unread input
}

// zstdEvent is what the decoder goroutine reports: decoded data (valid
// until the reader's next message), a need for input, or its failure.
type zstdEvent struct {
	data    []byte
	starved bool
	err     error
}

var errZstdClosed = errors.New("zstd token reader closed")

func (p *zstdPipe) close() { p.once.Do(func() { close(p.done) }) }

// Read is the decoder's input: it asks the reader for a piece whenever it
// has used up the last one.
func (p *zstdPipe) Read(b []byte) (int, error) {
	for len(p.data) == 0 {
		select {
		case p.out <- zstdEvent{starved: true}:
		case <-p.done:
			return 0, errZstdClosed
		}
		select {
		case p.data = <-p.in:
		case <-p.done:
			return 0, errZstdClosed
		}
	}
	n := copy(b, p.data)
	p.data = p.data[n:]
	return n, nil
}

func (p *zstdPipe) run(dec *zstd.Decoder) {
	defer dec.Close()
	// A block decodes to at most 128 KiB; a buffer that size takes each
	// block's output in one Read.
	buf := make([]byte, 128<<10)
	for {
		n, err := dec.Read(buf)
		if n > 0 {
			select {
			case p.out <- zstdEvent{data: buf[:n]}:
			case <-p.done:
				return
			}
			select {
			case <-p.in:
			case <-p.done:
				return
			}
		}
		if err != nil {
			select {
			case p.out <- zstdEvent{err: err}:
			case <-p.done:
			}
			return
		}
	}
}

func newZstdTokenReader(r *wire.Reader) *zstdTokenReader {
	return &zstdTokenReader{r: r, cbuf: make([]byte, maxDataCount)}
}

// Close stops the decoder goroutine. The reader is unusable afterwards.
func (t *zstdTokenReader) Close() error {
	if t.pipe != nil {
		t.pipe.close()
	}
	if t.pending == nil {
		t.pending = errZstdClosed
	}
	return nil
}

func (t *zstdTokenReader) fail(err error) error {
	t.pending = err
	if t.pipe != nil {
		t.pipe.close()
	}
	return err
}

// start creates the decoder with its first piece of input.
func (t *zstdTokenReader) start(first []byte) error {
	p := &zstdPipe{in: make(chan []byte), out: make(chan zstdEvent), done: make(chan struct{}), data: first}
	dec, err := zstd.NewReader(nil,
		zstd.WithDecoderConcurrency(1),
		zstd.WithDecoderMaxWindow(zstdMaxWindow),
		zstd.WithDecoderLowmem(true))
	if err != nil {
		return fmt.Errorf("zstd init failed: %w", err)
	}
	if err := dec.Reset(p); err != nil {
		return fmt.Errorf("zstd init failed: %w", err)
	}
	t.pipe = p
	runtime.AddCleanup(t, func(p *zstdPipe) { p.close() }, p)
	go p.run(dec)
	return nil
}

// ReadToken implements TokenReader.
func (t *zstdTokenReader) ReadToken() (int32, []byte, error) {
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
				if t.pipe == nil {
					if err := t.start(data); err != nil {
						return 0, nil, t.fail(err)
					}
				} else {
					t.pipe.in <- data
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
			if t.resume {
				t.resume = false
				t.pipe.in <- nil
			}
			ev := <-t.pipe.out
			switch {
			case ev.starved:
				t.state = stIdle
			case ev.err != nil:
				return 0, nil, t.fail(fmt.Errorf("zstd decompress: %v: %w", ev.err, wire.ErrProtocol))
			default:
				t.resume = true
				return int32(len(ev.data)), ev.data, nil
			}
		}
	}
}

// SeeToken implements TokenReader; zstd keeps no matched data.
func (t *zstdTokenReader) SeeToken([]byte) {}
