package fastio

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
)

// ErrSourceRead marks a CopyFile error that came from reading the source
// (as opposed to writing the destination).
var ErrSourceRead = errors.New("read source")

// ErrStopped is CopyFile's error when its stop channel closed mid-copy.
var ErrStopped = errors.New("copy stopped")

// copyChunk is the most one copy_file_range call moves, so that a stop is
// seen within a chunk's time (tens of milliseconds on a page cache).
const copyChunk = 64 << 20

// countedChunk is the chunk of a copy whose progress is followed.
const countedChunk = 8 << 20

// copyBufSize is the read/write fallback's buffer.
const copyBufSize = 256 << 10

var copyBufs = sync.Pool{New: func() any { b := make([]byte, copyBufSize); return &b }}

// Counts of the data copy_file_range actually moved, for the tests that make
// sure the fast path is taken and for the benchmarks.
var (
	kernelCopyCalls atomic.Int64
	kernelCopyBytes atomic.Int64
)

// CopyRangeCounts reports how many copy_file_range calls have moved data in
// this process so far, and how many bytes they moved.
func CopyRangeCounts() (calls, bytes int64) {
	return kernelCopyCalls.Load(), kernelCopyBytes.Load()
}

// CopyFile copies the first n bytes of src to the start of dst, using
// positional I/O (neither file's offset moves). While the CopyRange path is
// on it asks the kernel to copy (copy_file_range: no trip through user
// memory, a reflink where the filesystem shares extents); where the kernel
// refuses (ENOSYS, EPERM, EINVAL, EXDEV, EOPNOTSUPP) or reports nothing
// copied, it goes on with read and write. It returns the bytes copied:
// fewer than n with a nil error when src ends early. A failure to read src
// wraps ErrSourceRead. Once stop is closed (nil: never) it gives up between
// two chunks with ErrStopped.
func (c Config) CopyFile(dst, src *os.File, n int64, stop <-chan struct{}) (int64, error) {
	return c.CopyFileCounted(dst, src, n, stop, nil)
}

// CopyFileCounted is CopyFile that stores in copied (when not nil) how far
// the copy has got after each chunk, for a progress line to follow it;
// the chunks are then smaller, for the line to move smoothly.
func (c Config) CopyFileCounted(dst, src *os.File, n int64, stop <-chan struct{}, copied *atomic.Int64) (int64, error) {
	var done int64
	if c.On(CopyRange) {
		var err error
		done, err = kernelCopy(dst, src, n, stop, copied)
		if err != nil {
			return done, fmt.Errorf("copy_file_range %s to %s: %w", src.Name(), dst.Name(), err)
		}
	}
	if done == n {
		return done, nil
	}
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	buf := *bp
	for done < n {
		if stopped(stop) {
			return done, ErrStopped
		}
		m, rerr := src.ReadAt(buf[:min(int64(len(buf)), n-done)], done)
		if m > 0 {
			if _, err := dst.WriteAt(buf[:m], done); err != nil {
				return done, fmt.Errorf("write %s: %w", dst.Name(), err)
			}
			done += int64(m)
			if copied != nil {
				copied.Store(done)
			}
		}
		if rerr == io.EOF {
			return done, nil
		}
		if rerr != nil {
			return done, fmt.Errorf("%w %s: %w", ErrSourceRead, src.Name(), rerr)
		}
	}
	return done, nil
}

// stopped reports whether stop is closed.
func stopped(stop <-chan struct{}) bool {
	select {
	case <-stop:
		return true
	default:
		return false
	}
}
