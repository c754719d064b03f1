// Package fastio is gorsync's home of low-level I/O: memory-mapped file
// views and the guards that turn a fault in one into an ordinary error.
package fastio

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"golang.org/x/sys/unix"
)

// ErrFault reports that a mapped file could not be read, typically because
// it was truncated while mapped.
var ErrFault = errors.New("file changed while it was read (memory fault)")

// MapFile is a read-only view of a whole file: a memory mapping where the
// kernel allows one, else a copy read into memory.
type MapFile struct {
	Data   []byte
	mapped bool
}

// Map returns a view of the first size bytes of f.
func Map(f *os.File, size int64) (*MapFile, error) {
	if size == 0 {
		return &MapFile{}, nil
	}
	if int64(int(size)) != size {
		return nil, fmt.Errorf("map %s: file of %d bytes is too large", f.Name(), size)
	}
	data, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err == nil {
		unix.Madvise(data, unix.MADV_SEQUENTIAL)
		return &MapFile{Data: data, mapped: true}, nil
	}
	buf := make([]byte, size)
	if _, err := io.ReadFull(f, buf); err != nil {
		return nil, fmt.Errorf("read %s: %w", f.Name(), err)
	}
	return &MapFile{Data: buf}, nil
}

// Close releases the view.
func (m *MapFile) Close() error {
	if m.mapped {
		m.mapped = false
		return unix.Munmap(m.Data)
	}
	return nil
}

// Guard runs fn, turning a memory fault inside it (a mapped file truncated
// underneath us) into ErrFault instead of a crash.
func Guard(fn func() error) (err error) {
	old := debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(old)
	defer func() {
		if r := recover(); r != nil {
			if re, ok := r.(interface{ Addr() uintptr }); ok {
				_ = re
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
