// Package fastio is gorsync's home of low-level I/O: memory-mapped file
// views, pooled buffers sized by file, and the guards that turn a fault in
// a mapping into an ordinary error.
package fastio

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ErrFault reports that a mapped file could not be read, typically because
// it was truncated while mapped.
var ErrFault = errors.New("file changed while it was read (memory fault)")

// errShrank reports a file that ended before the size it was opened with.
var errShrank = errors.New("file shrank while it was read")

// MapThreshold is the size from which a file is mapped (with Mmap on);
// a smaller file is read whole into a pooled buffer with one pread, where
// a mapping would cost mmap, munmap and a page fault or more.
const MapThreshold = 256 << 10

// dropBehind is how far a sequential reader of a mapping gets past pages
// before they are unmapped from the process, and how much a reader of
// blocks reads before all are (they stay in the page cache): a process's
// resident memory stays bounded on a huge file.
const dropBehind = 32 << 20

// Access says how a MapFile will be read, for the kernel's read-ahead.
type Access int

const (
	// Sequential is one pass from the start on, through Window: the
	// sender's block search.
	Sequential Access = iota
	// Random is reads anywhere, through ReadAt: the receiver's basis.
	Random
	// Stream is one pass read once, through Window: a whole-file
	// transfer's literal data. It is never mapped: the window is the
	// adaptive buffer.
	Stream
)

// advice is the madvise hint for each mapped access pattern, as the
// mapping benchmarks chose (64 MiB file, 2-core VM under load): for the
// block search, SEQUENTIAL ran at 87 ms warm and 107 ms cold, NORMAL 143
// and 133, WILLNEED 90 and 117 (noisy; plain reads through the window were
// no different from the mapping); for random 8 KiB reads from a cold
// cache, WILLNEED at 99 ms, NORMAL 107, RANDOM 471, and pread 261-310
// (warm, the mapping reads 2.3 times as fast as pread).
var advice = [...]int{
	Sequential: unix.MADV_SEQUENTIAL,
	Random:     unix.MADV_WILLNEED,
}

// MapFile is a read-only view of a file: a memory mapping of the whole file
// when it is large enough, Mmap is on and the kernel agrees, otherwise a
// window read into a pooled buffer. A read the file cannot satisfy (it
// shrank, or the disk failed) is zero-filled, as rsync's map_ptr does, and
// reported by ReadAt and Err; a mapping faults instead, and Guard turns
// the fault into ErrFault.
type MapFile struct {
	f    *os.File
	size int64
	data []byte // the mapping, nil when reading through the window

	buf  *Buffer // the window's storage
	win  []byte  // the file's bytes from base on, in buf
	base int64

	dropped int64  // mapped bytes before this are released (Window)
	read    int64  // mapped bytes read since all were released (ReadAt)
	err     error  // first failed read
	bad     int64  // the window's bytes from here on are zero-filled
	next    int64  // where the last ReadAt ended (Random)
	io      Config // the fast paths it was opened with (the window's size)
}

var mapFiles = sync.Pool{New: func() any { return new(MapFile) }}

// mmap maps files; tests replace it to make mapping fail.
var mmap = unix.MmapPtr

// Open returns a view of the first size bytes of f, read in the pattern a.
// Close it when done.
func (c Config) Open(f *os.File, size int64, a Access) (*MapFile, error) {
	if size < 0 || int64(int(size)) != size {
		return nil, fmt.Errorf("map %s: file of %d bytes is too large", f.Name(), size)
	}
	m := mapFiles.Get().(*MapFile)
	*m = MapFile{f: f, size: size, bad: size, io: c}
	if a != Stream && size >= MapThreshold && c.On(Mmap) {
		p, err := mmap(int(f.Fd()), 0, nil, uintptr(size), unix.PROT_READ, unix.MAP_SHARED)
		if err == nil {
			m.data = unsafe.Slice((*byte)(p), size)
			// Only a hint: a kernel that refuses it reads as usual.
			_ = unix.Madvise(m.data, advice[a])
			return m, nil
		}
		// Fall back to the window (a file system without mmap, a
		// mapping limit): same bytes, read with pread.
	}
	return m, nil
}

// Mapped reports whether the view is a memory mapping.
func (m *MapFile) Mapped() bool { return m.data != nil }

// Size is the length the view was opened with.
func (m *MapFile) Size() int64 { return m.size }

// Err reports the first read that failed and was zero-filled.
func (m *MapFile) Err() error { return m.err }

// Window returns the file's bytes from off on, at least want of them (want
// must not reach past Size), valid until the next call; off must not
// decrease from one call to the next. A mapping returns tens of MiB from
// off on, and releases from the process what lies behind; the window
// slides forward, reading what it lacks and zero-filling what the file no
// longer has. It serves as a delta.Source.
func (m *MapFile) Window(off int64, want int) []byte {
	if m.data != nil {
		if off-m.dropped >= dropBehind {
			// Unmap what the reader has left behind, whole pages only;
			// they stay in the page cache.
			end := off &^ int64(os.Getpagesize()-1)
			_ = unix.Madvise(m.data[m.dropped:end], unix.MADV_DONTNEED)
			m.dropped = end
		}
		// A bounded slice, so that the reader comes back for more.
		return m.data[off:min(m.size, off+int64(max(want, dropBehind)))]
	}
	if off >= m.base && off+int64(want) <= m.base+int64(len(m.win)) {
		return m.win[off-m.base:]
	}
	m.fill(off, want)
	return m.win
}

// fill makes the window start at off and hold at least want bytes, and as
// many more as its buffer does, keeping what it already has of them.
func (m *MapFile) fill(off int64, want int) {
	kept := 0 // what the window already holds from off on
	if off >= m.base && off < m.base+int64(len(m.win)) {
		kept = int(m.base + int64(len(m.win)) - off)
	}
	if m.buf == nil || len(m.buf.B) < want || 2*kept > len(m.buf.B) {
		// The file's buffer; but room for four times the reader's
		// span once it needs more, or once a slide (which moves what
		// is kept to the front) would move much of the buffer. What a
		// smaller buffer held is read again; that happens once per
		// file at most.
		size := m.io.BufferSize(m.size)
		if m.buf != nil || want > size {
			size = max(size, 4*want)
		}
		PutBuffer(m.buf)
		m.buf = GetBuffer(int(min(int64(size), m.size-off)))
		m.win, kept = nil, 0
	}
	n := int(min(m.size-off, int64(len(m.buf.B))))
	b := m.buf.B[:n]
	copy(b, m.win[len(m.win)-kept:])
	m.readAt(b[kept:], off+int64(kept))
	m.win, m.base = b, off
}

// readAt fills p from the file at off, zero-filling and recording what it
// cannot read; it returns that failure too.
func (m *MapFile) readAt(p []byte, off int64) error {
	n, err := m.f.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	clear(p[n:])
	if err == nil || err == io.EOF {
		err = errShrank
	}
	err = fmt.Errorf("read %s at %d: %w", m.f.Name(), off+int64(n), err)
	if m.err == nil {
		m.err = err
	}
	m.bad = min(m.bad, off+int64(n))
	return err
}

// ReadAt implements io.ReaderAt over the view. A mapping is read under
// Guard: a fault comes back as ErrFault. Without a mapping, reads in
// sequence go through the window and jumps straight into p (a window
// filled for each jump cost 20 times plain reads, BenchmarkRandomRead).
// Either way a failed read returns an error, p zero-filled.
func (m *MapFile) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("read %s: negative offset %d", m.f.Name(), off)
	}
	if off >= m.size {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), m.size-off))
	switch {
	case m.data != nil:
		if m.read += int64(n); m.read >= dropBehind {
			// Unmap the pages read so far from the process (they
			// stay in the page cache; one read again faults back in).
			_ = unix.Madvise(m.data, unix.MADV_DONTNEED)
			m.read = 0
		}
		err := Guard(func() error {
			copy(p[:n], m.data[off:])
			return nil
		})
		if err != nil {
			clear(p[:n])
			if m.err == nil {
				m.err = fmt.Errorf("read %s: %w", m.f.Name(), err)
			}
			return 0, err
		}
	default:
		inWindow := off >= m.base && off+int64(n) <= m.base+int64(len(m.win))
		bs := m.io.BufferSize(m.size)
		if !inWindow && (m.size <= int64(bs) || off == m.next && n <= bs/2) {
			// A file the buffer holds is read whole; elsewhere a read
			// that runs on from the last one (the blocks of an
			// unchanged stretch, in order) fills the window from here.
			start := max(0, min(off, m.size-int64(bs)))
			m.fill(start, int(off-start)+n)
			inWindow = true
		}
		m.next = off + int64(n)
		if !inWindow {
			// A jump: reading a window here would mostly be wasted.
			if err := m.readAt(p[:n], off); err != nil {
				return 0, err
			}
			break
		}
		if off+int64(n) > m.bad {
			clear(p[:n])
			return 0, m.err
		}
		copy(p, m.win[off-m.base:])
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// Close releases the view (not the file).
func (m *MapFile) Close() error {
	var err error
	if m.data != nil {
		err = unix.MunmapPtr(unsafe.Pointer(unsafe.SliceData(m.data)), uintptr(len(m.data)))
		if err != nil {
			err = fmt.Errorf("unmap %s: %w", m.f.Name(), err)
		}
	}
	PutBuffer(m.buf)
	*m = MapFile{}
	mapFiles.Put(m)
	return err
}

// Guard runs fn, turning a memory fault inside it (a mapped file truncated
// underneath us) into ErrFault instead of a crash. Whatever fn was doing
// when the fault hit is abandoned half done.
func Guard(fn func() error) (err error) {
	old := debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(old)
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(interface{ Addr() uintptr }); ok {
				err = ErrFault
				return
			}
			panic(r)
		}
	}()
	return fn()
}

// Feed writes everything r yields to w through the caller's buffer, so
// that hashing many files allocates nothing per file (io.Copy from an
// *os.File allocates a fresh buffer each time).
func Feed(w io.Writer, r io.Reader, buf []byte) error {
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
