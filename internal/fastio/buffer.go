package fastio

import (
	"io"
	"sync"
)

// FixedSize is the size of every file buffer when Adaptive is off.
const FixedSize = 32 << 10

// MaxBufferSize is the buffer large files get. Larger ones save system
// calls (1 MiB: one read and one write per MiB copied, against four) but
// lose more to cache misses than they save: copying 64 MiB through 1 MiB
// buffers took 18% longer than through 256 KiB ones (BenchmarkCopySyscalls,
// 2-core VM under load).
const MaxBufferSize = 256 << 10

// classes are the pooled buffer sizes, smallest first; the largest serves
// the block search's read window when its blocks are very large.
var classes = [...]int{4 << 10, 16 << 10, FixedSize, 64 << 10, MaxBufferSize, 1 << 20}

var bufPools [len(classes)]sync.Pool

// BufferSize is the read/write buffer for a file of size bytes: with
// Adaptive on, the smallest of 4, 16, 64 and 256 KiB that holds the whole
// file, else MaxBufferSize; with it off, FixedSize. A buffer either holds
// the whole file or is a multiple of 32 KiB (rsync's CHUNK_SIZE).
func (c Config) BufferSize(size int64) int {
	if !c.On(Adaptive) {
		return FixedSize
	}
	for _, c := range [...]int{4 << 10, 16 << 10, 64 << 10} {
		if size <= int64(c) {
			return c
		}
	}
	return MaxBufferSize
}

// classOf returns the index of the smallest class of at least n bytes, or
// -1 if n is larger than every class.
func classOf(n int) int {
	for i, c := range classes {
		if n <= c {
			return i
		}
	}
	return -1
}

// A Buffer is a byte slice from a pool; B's length is its size class (or
// more, for a size beyond every class).
type Buffer struct {
	B     []byte
	class int // index into classes; -1 when not pooled
}

// GetBuffer returns a buffer of at least n bytes, from the pool of its size
// class when there is one. Return it with PutBuffer.
func GetBuffer(n int) *Buffer {
	c := classOf(n)
	if c < 0 {
		return &Buffer{B: make([]byte, n), class: -1}
	}
	if b, ok := bufPools[c].Get().(*Buffer); ok {
		return b
	}
	return &Buffer{B: make([]byte, classes[c]), class: c}
}

// FileBuffer returns the buffer BufferSize chooses for a file of size bytes.
func (c Config) FileBuffer(size int64) *Buffer { return GetBuffer(c.BufferSize(size)) }

// PutBuffer returns b to its pool; b must not be used after.
func PutBuffer(b *Buffer) {
	if b == nil || b.class < 0 {
		return
	}
	bufPools[b.class].Put(b)
}

// directWrite is the write size from which Writer stops copying: a piece
// this large goes straight to the file (after what is buffered), as
// copying it costs more than the system call it would save (a whole-file
// transfer's 32 KiB literal pieces through a 256 KiB buffer took longer
// than written one by one: BenchmarkWriterPieces).
const directWrite = 16 << 10

// Writer is a pooled buffered writer for a file being written: small
// writes (a matched block, a short literal) gather in its buffer, large
// ones go straight through.
type Writer struct {
	w   io.Writer
	buf *Buffer
	n   int // bytes buffered
	err error
}

var writers = sync.Pool{New: func() any { return new(Writer) }}

// GetWriter returns a pooled Writer onto w with the buffer c's BufferSize
// chooses for a file of size bytes. Flush it, then return it with
// PutWriter.
func (c Config) GetWriter(w io.Writer, size int64) *Writer {
	b := writers.Get().(*Writer)
	*b = Writer{w: w, buf: c.FileBuffer(size)}
	return b
}

// PutWriter returns b and its buffer to their pools, dropping anything not
// flushed; b must not be used after.
func PutWriter(b *Writer) {
	PutBuffer(b.buf)
	*b = Writer{}
	writers.Put(b)
}

// Write implements io.Writer. After a failed write every call fails.
func (b *Writer) Write(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if len(p) >= directWrite || len(p) > len(b.buf.B)-b.n {
		if err := b.Flush(); err != nil {
			return 0, err
		}
		if len(p) >= directWrite || len(p) > len(b.buf.B) {
			n, err := b.w.Write(p)
			if err == nil && n < len(p) {
				err = io.ErrShortWrite
			}
			b.err = err
			return n, err
		}
	}
	b.n += copy(b.buf.B[b.n:], p)
	return len(p), nil
}

// Flush writes what is buffered.
func (b *Writer) Flush() error {
	if b.err != nil || b.n == 0 {
		return b.err
	}
	n, err := b.w.Write(b.buf.B[:b.n])
	if err == nil && n < b.n {
		err = io.ErrShortWrite
	}
	b.err = err
	b.n = 0
	return err
}
