package fastio

import (
	"bufio"
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

var (
	bufPools    [len(classes)]sync.Pool
	writerPools [len(classes)]sync.Pool
)

// BufferSize is the read/write buffer for a file of size bytes: with
// Adaptive on, the smallest of 4, 16, 64 and 256 KiB that holds the whole
// file, else MaxBufferSize; with it off, FixedSize. A buffer either holds
// the whole file or is a multiple of 32 KiB (rsync's CHUNK_SIZE).
func BufferSize(size int64) int {
	if !Enabled(Adaptive) {
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
func FileBuffer(size int64) *Buffer { return GetBuffer(BufferSize(size)) }

// PutBuffer returns b to its pool; b must not be used after.
func PutBuffer(b *Buffer) {
	if b == nil || b.class < 0 {
		return
	}
	bufPools[b.class].Put(b)
}

// GetWriter returns a pooled buffered writer onto w, sized by BufferSize
// for a file of size bytes. Flush it, then return it with PutWriter.
func GetWriter(w io.Writer, size int64) *bufio.Writer {
	c := classOf(BufferSize(size))
	if bw, ok := writerPools[c].Get().(*bufio.Writer); ok {
		bw.Reset(w)
		return bw
	}
	return bufio.NewWriterSize(w, classes[c])
}

// PutWriter returns bw to its pool, dropping anything not flushed.
func PutWriter(bw *bufio.Writer) {
	c := classOf(bw.Size())
	if c < 0 || classes[c] != bw.Size() {
		return
	}
	bw.Reset(nil)
	writerPools[c].Put(bw)
}
