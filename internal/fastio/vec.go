package fastio

import (
	"fmt"
	"io"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// BuffersWriter is a writer that can also write several buffers in order,
// as if they were one, with as few system calls as it can.
type BuffersWriter interface {
	io.Writer
	WriteBuffers(bufs [][]byte) (int64, error)
}

// iovMax is the most iovecs one writev takes (Linux's UIO_MAXIOV).
const iovMax = 1024

// writevCalls counts writev system calls issued by VecWriter, for the
// benchmarks' syscalls-per-message figures.
var writevCalls atomic.Int64

// WritevCalls returns how many writev system calls this process's
// VecWriters have made, EAGAIN retries included.
func WritevCalls() int64 { return writevCalls.Load() }

// VecWriter writes to a descriptor through Go's runtime poller, gathering
// buffers into one writev. It is not safe for concurrent use.
type VecWriter struct {
	w   io.Writer
	rc  syscall.RawConn
	iov []unix.Iovec

	// One writev's state, shared with attempt (a method value made once,
	// so that a write allocates nothing).
	cur     []unix.Iovec
	n       uintptr
	errno   syscall.Errno
	attempt func(fd uintptr) bool
}

// NewVecWriter returns a VecWriter for w when the Writev path is on and w is
// backed by a descriptor writev can serve — an *os.File (pipe, socket or
// file) or another syscall.Conn such as *net.TCPConn — and nil otherwise, so
// that the caller keeps its plain path.
func (c Config) NewVecWriter(w io.Writer) *VecWriter {
	if !c.On(Writev) {
		return nil
	}
	sc, ok := w.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	v := &VecWriter{w: w, rc: rc, iov: make([]unix.Iovec, 0, 16)}
	v.attempt = v.writev
	return v
}

// Write writes p through the descriptor's own Write.
func (v *VecWriter) Write(p []byte) (int, error) { return v.w.Write(p) }

// WriteBuffers writes bufs in order with one writev per 1,024 buffers,
// continuing after partial writes and waiting in the runtime poller while
// a non-blocking descriptor is full. It returns the bytes written.
func (v *VecWriter) WriteBuffers(bufs [][]byte) (int64, error) {
	var total int64
	for len(bufs) > 0 {
		v.iov = v.iov[:0]
		for len(bufs) > 0 && len(v.iov) < iovMax {
			if b := bufs[0]; len(b) > 0 {
				iv := unix.Iovec{Base: &b[0]}
				iv.SetLen(len(b))
				v.iov = append(v.iov, iv)
			}
			bufs = bufs[1:]
		}
		n, err := v.writeIov()
		clear(v.iov) // hold no caller's buffer past the call
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// writeIov writes every byte v.iov describes.
func (v *VecWriter) writeIov() (int64, error) {
	var total int64
	v.cur = v.iov
	for len(v.cur) > 0 {
		err := v.rc.Write(v.attempt)
		if err == nil && v.errno != 0 {
			err = v.errno
		}
		if err != nil {
			return total, fmt.Errorf("writev: %w", err)
		}
		if v.n == 0 {
			return total, fmt.Errorf("writev: %w", io.ErrShortWrite)
		}
		total += int64(v.n)
		v.cur = advance(v.cur, int(v.n))
	}
	return total, nil
}

// writev makes one writev of v.cur on fd, retrying when interrupted; it
// returns false, to wait in the poller, when the descriptor is full.
func (v *VecWriter) writev(fd uintptr) bool {
	for {
		writevCalls.Add(1)
		v.n, _, v.errno = unix.Syscall(unix.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&v.cur[0])), uintptr(len(v.cur)))
		if v.errno != unix.EINTR {
			return v.errno != unix.EAGAIN
		}
	}
}

// advance drops the first n bytes from iov, shortening the first buffer
// that was only partly written.
func advance(iov []unix.Iovec, n int) []unix.Iovec {
	for len(iov) > 0 && n >= int(iov[0].Len) {
		n -= int(iov[0].Len)
		iov = iov[1:]
	}
	if n > 0 {
		iov[0].Base = (*byte)(unsafe.Add(unsafe.Pointer(iov[0].Base), n))
		iov[0].SetLen(int(iov[0].Len) - n)
	}
	return iov
}
