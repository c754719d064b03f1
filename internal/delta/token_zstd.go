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

// zstdEncoder is the zstd token stream's encoder: one zstd frame for the
// whole session, never ended, with each literal run flushed (a block
// boundary) before its token.
//
// rsync: token.c send_zstd_token
type zstdEncoder struct {
	level int
	enc   *zstd.Encoder
	out   sinkBuffer
}

func newZstdEncoder(level int) *zstdEncoder {
	if level == 0 || level == LevelUnspecified {
		level = zstdDefaultLevel
	}
	return &zstdEncoder{level: level}
}

// startFile does nothing: the frame spans the session.
func (z *zstdEncoder) startFile() error { return nil }

func (z *zstdEncoder) compress(w *wire.Writer, literal []byte, flush bool) error {
	if z.enc == nil {
		enc, err := zstd.NewWriter(&z.out,
			zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(z.level)),
			zstd.WithEncoderConcurrency(1),
			zstd.WithEncoderCRC(false))
		if err != nil {
			return fmt.Errorf("compression init failed: %w", err)
		}
		z.enc = enc
	}
	if _, err := z.enc.Write(literal); err != nil {
		return fmt.Errorf("zstd compress: %w", err)
	}
	if flush {
		if err := z.enc.Flush(); err != nil {
			return fmt.Errorf("zstd flush: %w", err)
		}
	}
	writeData(w, z.out.b)
	z.out.b = z.out.b[:0]
	return nil
}

// matched does nothing: zstd keeps no matched data.
func (z *zstdEncoder) matched([]byte) {}

// zstdDecoder decodes the zstd token stream. Upstream pushes each piece
// into one streaming decompressor for the whole session; the Go decoder
// pulls its input instead, so it runs on a goroutine of its own that is
// handed the pieces one at a time and reports, in lock step, each block it
// decodes and each time it has used up its input.
//
// rsync: token.c recv_zstd_token
type zstdDecoder struct {
	pipe   *zstdPipe
	resume bool // the decoder waits to be told to go on after an output
}

// zstdPipe connects a zstdDecoder with its decoder goroutine. It holds no
// reference to the zstdDecoder, so that an abandoned reader can be
// collected and the zstdDecoder's cleanup can stop the goroutine.
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

func newZstdDecoder() *zstdDecoder { return &zstdDecoder{} }

// close stops the decoder goroutine.
func (z *zstdDecoder) close() {
	if z.pipe != nil {
		z.pipe.close()
	}
}

// start creates the decoder with its first piece of input.
func (z *zstdDecoder) start(first []byte) error {
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
	z.pipe = p
	runtime.AddCleanup(z, func(p *zstdPipe) { p.close() }, p)
	go p.run(dec)
	return nil
}

// startFile does nothing: the frame spans the session.
func (z *zstdDecoder) startFile() {}

func (z *zstdDecoder) feed(piece []byte) error {
	if z.pipe == nil {
		return z.start(piece)
	}
	z.pipe.in <- piece
	return nil
}

func (z *zstdDecoder) next() ([]byte, bool, error) {
	if z.resume {
		z.resume = false
		z.pipe.in <- nil
	}
	ev := <-z.pipe.out
	switch {
	case ev.starved:
		return nil, false, nil
	case ev.err != nil:
		return nil, false, fmt.Errorf("zstd decompress: %v: %w", ev.err, wire.ErrProtocol)
	}
	z.resume = true
	return ev.data, true, nil
}

// see does nothing: zstd keeps no matched data.
func (z *zstdDecoder) see([]byte) {}
