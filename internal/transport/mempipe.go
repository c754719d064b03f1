package transport

import (
	"io"
	"sync"
)

// Pipe is an in-memory, buffered, one-way byte stream for connecting two
// roles in one process. Unlike io.Pipe, a write returns once its bytes are
// buffered, so both ends may write before either reads — as rsync's peers do
// in the version exchange — the way an OS pipe or socket behaves.
type Pipe struct {
	mu      sync.Mutex
	cond    sync.Cond
	buf     []byte
	r, n    int // ring read position and fill
	rclosed bool
	werr    error // set when the writer closes
}

// NewPipe returns a pipe holding up to size bytes in flight.
func NewPipe(size int) *Pipe {
	p := &Pipe{buf: make([]byte, size)}
	p.cond.L = &p.mu
	return p
}

// Write copies b into the pipe, waiting for room as needed.
func (p *Pipe) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	written := 0
	for len(b) > 0 {
		for p.n == len(p.buf) && !p.rclosed && p.werr == nil {
			p.cond.Wait()
		}
		if p.rclosed {
			return written, io.ErrClosedPipe
		}
		if p.werr != nil {
			return written, io.ErrClosedPipe
		}
		w := (p.r + p.n) % len(p.buf)
		end := len(p.buf)
		if w < p.r {
			end = p.r
		}
		c := copy(p.buf[w:end], b)
		p.n += c
		b = b[c:]
		written += c
		p.cond.Broadcast()
	}
	return written, nil
}

// WriteBuffers writes each of bufs in turn, as one Write of their
// concatenation would: the multiplexer gathers a frame's header and payload
// this way, without copying them together first (fastio.BuffersWriter).
func (p *Pipe) WriteBuffers(bufs [][]byte) (int64, error) {
	var n int64
	for _, b := range bufs {
		m, err := p.Write(b)
		n += int64(m)
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// Read returns buffered bytes, waiting until some arrive or the writer closes.
func (p *Pipe) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.n == 0 && p.werr == nil && !p.rclosed {
		p.cond.Wait()
	}
	if p.rclosed {
		return 0, io.ErrClosedPipe
	}
	if p.n == 0 {
		return 0, p.werr
	}
	end := min(p.r+p.n, len(p.buf))
	c := copy(b, p.buf[p.r:end])
	p.r = (p.r + c) % len(p.buf)
	p.n -= c
	p.cond.Broadcast()
	return c, nil
}

// CloseWrite ends the stream: the reader sees err (io.EOF if nil) after the
// buffered bytes.
func (p *Pipe) CloseWrite(err error) {
	if err == nil {
		err = io.EOF
	}
	p.mu.Lock()
	if p.werr == nil {
		p.werr = err
	}
	p.cond.Broadcast()
	p.mu.Unlock()
}

// CloseRead abandons the stream: pending and later writes fail.
func (p *Pipe) CloseRead() {
	p.mu.Lock()
	p.rclosed = true
	p.cond.Broadcast()
	p.mu.Unlock()
}
