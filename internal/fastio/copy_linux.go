package fastio

import (
	"errors"
	"os"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// noKernelCopy is set once the kernel refuses copy_file_range for every
// file (no such system call, or a seccomp filter), so that later files do
// not pay for a failing call each.
var noKernelCopy atomic.Bool

// kernelCopy copies up to n bytes from the start of src to the start of
// dst with copy_file_range. It stops early, without an error, where the
// kernel declines (the caller goes on with read and write from there) or
// src ends; an error is a real I/O failure, or ErrStopped once stop is
// closed. copied, when not nil, follows the bytes copied (CopyFileCounted).
func kernelCopy(dst, src *os.File, n int64, stop <-chan struct{}, copied *atomic.Int64) (int64, error) {
	if noKernelCopy.Load() {
		return 0, nil
	}
	sc, err := src.SyscallConn()
	if err != nil {
		return 0, nil
	}
	dc, err := dst.SyscallConn()
	if err != nil {
		return 0, nil
	}
	var done int64
	var cerr error
	chunk := int64(copyChunk)
	if copied != nil {
		chunk = countedChunk
	}
	rerr := sc.Control(func(sfd uintptr) {
		cerr = dc.Control(func(dfd uintptr) {
			roff, woff := int64(0), int64(0)
			for done < n {
				if stopped(stop) {
					cerr = ErrStopped
					return
				}
				m, err := unix.CopyFileRange(int(sfd), &roff, int(dfd), &woff, int(min(n-done, chunk)), 0)
				if err == unix.EINTR {
					continue
				}
				if err != nil {
					if refused(err) {
						if done == 0 && (err == unix.ENOSYS || err == unix.EPERM) {
							noKernelCopy.Store(true)
						}
						return
					}
					cerr = err
					return
				}
				if m == 0 {
					// End of src, or a file system that reports no data
					// for a file that has some (procfs and the like): the
					// read/write path tells which.
					return
				}
				kernelCopyCalls.Add(1)
				kernelCopyBytes.Add(int64(m))
				done += int64(m)
				if copied != nil {
					copied.Store(done)
				}
			}
		})
	})
	if rerr != nil {
		return done, nil
	}
	return done, cerr
}

// refused reports a copy_file_range error that means "not here", after
// which the copy goes on with read and write.
func refused(err error) bool {
	return errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EPERM) || errors.Is(err, unix.EINVAL) ||
		errors.Is(err, unix.EXDEV) || errors.Is(err, unix.EOPNOTSUPP)
}
