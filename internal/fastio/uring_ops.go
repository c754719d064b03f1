//go:build linux

package fastio

import (
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// plainCalls counts the system calls the plain paths of StatMany and
// ReadFiles make, for the benchmarks.
var plainCalls atomic.Int64

// UringSyscalls returns how many system calls StatMany and ReadFiles have
// made in this process: io_uring_enter calls and, on the plain path, statx,
// openat, read and close calls.
func UringSyscalls() int64 { return uringEnters.Load() + plainCalls.Load() }

// StatMany stats each of names relative to the directory dirfd
// (unix.AT_FDCWD for the working directory), as statx(2) with flags (such
// as unix.AT_SYMLINK_NOFOLLOW) and mask unix.STATX_BASIC_STATS would,
// into out[i]; out must be at least as long as names. The i-th error is nil
// or the *os.PathError for names[i] (errors.Is(err, fs.ErrNotExist) holds
// for a missing name). With the Uring path on, the stats go to the kernel
// in batches of 512 per io_uring_enter; otherwise, or when io_uring cannot
// be set up, each name is one statx call.
func (c Config) StatMany(dirfd int, names []string, flags int, out []unix.Statx_t) []error {
	out = out[:len(names)]
	errs := make([]error, len(names))
	r := c.getRing()
	if r == nil {
		statPlain(dirfd, names, flags, out, errs)
		return errs
	}
	done := make([]bool, len(names))
	var err error
	for i := 0; i < len(names) && err == nil; {
		i, err = r.statBatch(dirfd, names, i, flags, out, errs, done)
	}
	putRing(r, err)
	for i, d := range done {
		if !d {
			statPlain(dirfd, names[i:i+1], flags, out[i:i+1], errs[i:i+1])
		}
	}
	return errs
}

func statPlain(dirfd int, names []string, flags int, out []unix.Statx_t, errs []error) {
	for i, name := range names {
		errs[i] = nil
		plainCalls.Add(1)
		if err := unix.Statx(dirfd, name, flags, unix.STATX_BASIC_STATS, &out[i]); err != nil {
			errs[i] = &os.PathError{Op: "statx", Path: name, Err: err}
		}
	}
}

// statBatch queues statx for names from i on, as many as the ring takes,
// waits for them, and returns where the next batch starts.
func (r *ring) statBatch(dirfd int, names []string, i, flags int, out []unix.Statx_t, errs []error, done []bool) (int, error) {
	end := min(len(names), i+r.free())
	// All names of the batch go into one heap buffer before any address
	// is taken, so that appending cannot move what an SQE points at.
	r.names = r.names[:0]
	for _, name := range names[i:end] {
		r.names = append(append(r.names, name...), 0)
	}
	r.holdStat = out
	off := 0
	for j := i; j < end; j++ {
		name := r.names[off : off+len(names[j])+1]
		off += len(name)
		if strings.IndexByte(names[j], 0) >= 0 {
			errs[j] = &os.PathError{Op: "statx", Path: names[j], Err: unix.EINVAL}
			done[j] = true
			continue
		}
		s := r.next()
		s.opcode = opStatx
		s.fd = int32(dirfd)
		s.addr = uint64(uintptr(unsafe.Pointer(&name[0])))
		s.len = unix.STATX_BASIC_STATS
		s.off = uint64(uintptr(unsafe.Pointer(&out[j])))
		s.opFlags = uint32(flags)
		s.userData = uint64(j)
	}
	err := r.wait(func(ud uint64, res int32) {
		j := int(ud)
		done[j] = true
		if res < 0 {
			errs[j] = &os.PathError{Op: "statx", Path: names[j], Err: syscall.Errno(-res)}
		}
	})
	return end, err
}

// maxUringRead is the largest read ReadFiles gives io_uring: one READ
// returns at most this much (Linux's MAX_RW_COUNT); larger buffers take
// the plain path.
const maxUringRead = 1<<31 - 1<<12

// The operations of a ReadFiles chain, in a completion's user data.
const (
	chainOpen = iota
	chainRead
	chainClose
)

// ReadFiles reads the start of each named regular file, relative to the
// directory dirfd, into bufs[i]: up to len(bufs[i]) bytes, fewer only where
// the file ends, and sets n[i] to the count; bufs and n must be at least as
// long as names. Files are opened read-only with oflags added (such as
// unix.O_NOFOLLOW) and closed again; the i-th error is nil or the
// *os.PathError of names[i]'s open or read (a close, of a read-only
// descriptor, reports nothing). With the Uring path on, each file is one
// linked open, read and close on a direct descriptor, 170 files per
// io_uring_enter; otherwise, or when io_uring cannot be set up, plain
// openat, read and close calls.
func (c Config) ReadFiles(dirfd int, names []string, oflags int, bufs [][]byte, n []int) []error {
	bufs, n = bufs[:len(names)], n[:len(names)]
	errs := make([]error, len(names))
	r := c.getRing()
	if r == nil {
		readPlain(dirfd, names, oflags, bufs, n, errs)
		return errs
	}
	done := make([]bool, len(names))
	var err error
	for i := 0; i < len(names) && err == nil; {
		i, err = r.readBatch(dirfd, names, i, oflags, bufs, n, errs, done)
	}
	putRing(r, err)
	for i, d := range done {
		if !d {
			readPlain(dirfd, names[i:i+1], oflags, bufs[i:i+1], n[i:i+1], errs[i:i+1])
		}
	}
	return errs
}

func readPlain(dirfd int, names []string, oflags int, bufs [][]byte, n []int, errs []error) {
	for i, name := range names {
		n[i], errs[i] = 0, nil
		plainCalls.Add(1)
		fd, err := unix.Openat(dirfd, name, oflags|unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errs[i] = &os.PathError{Op: "open", Path: name, Err: err}
			continue
		}
		for b := bufs[i]; n[i] < len(b); {
			plainCalls.Add(1)
			c, err := unix.Read(fd, b[n[i]:])
			if err == unix.EINTR {
				continue
			}
			if err != nil {
				errs[i] = &os.PathError{Op: "read", Path: name, Err: err}
				break
			}
			if c == 0 {
				break
			}
			n[i] += c
		}
		plainCalls.Add(1)
		unix.Close(fd)
	}
}

// readBatch queues an open-read-close chain for names from i on, as many
// as the ring and its descriptor table take, waits for them, and returns
// where the next batch starts. A file's error is its open's, else its
// read's; a failed open leaves the slot empty, so the read and close
// linked after it fail too and are ignored.
func (r *ring) readBatch(dirfd int, names []string, i, oflags int, bufs [][]byte, n []int, errs []error, done []bool) (int, error) {
	end := min(len(names), i+min(r.free()/chainLen, ringSlots))
	r.names = r.names[:0]
	for _, name := range names[i:end] {
		r.names = append(append(r.names, name...), 0)
	}
	off := 0
	for j := i; j < end; j++ {
		name := r.names[off : off+len(names[j])+1]
		off += len(name)
		n[j] = 0
		if len(bufs[j]) > maxUringRead || strings.IndexByte(names[j], 0) >= 0 {
			continue // left to the plain path
		}
		slot := uint32(j - i)
		ud := uint64(j) << userDataOpShift
		s := r.next()
		s.opcode = opOpenat
		s.flags = sqeIOHardlink
		s.fd = int32(dirfd)
		s.addr = uint64(uintptr(unsafe.Pointer(&name[0])))
		// A direct descriptor has no close-on-exec flag to set (the
		// kernel refuses O_CLOEXEC with a slot): it never enters the
		// process's descriptor table.
		s.opFlags = uint32(oflags | unix.O_RDONLY)
		s.fileIndex = slot + 1
		s.userData = ud // | chainOpen, which is 0
		if b := bufs[j]; len(b) > 0 {
			r.hold = append(r.hold, b)
			s = r.next()
			s.opcode = opRead
			s.flags = sqeFixedFile | sqeIOHardlink
			s.fd = int32(slot)
			s.addr = uint64(uintptr(unsafe.Pointer(&b[0])))
			s.len = uint32(len(b))
			s.userData = ud | chainRead
		}
		s = r.next()
		s.opcode = opClose
		s.fileIndex = slot + 1
		s.userData = ud | chainClose
	}
	err := r.wait(func(ud uint64, res int32) {
		j := int(ud >> userDataOpShift)
		switch ud & userDataOpMask {
		case chainOpen:
			if res < 0 {
				errs[j] = &os.PathError{Op: "open", Path: names[j], Err: syscall.Errno(-res)}
			}
		case chainRead:
			if res >= 0 {
				n[j] = int(res)
			} else if errs[j] == nil {
				errs[j] = &os.PathError{Op: "read", Path: names[j], Err: syscall.Errno(-res)}
			}
		case chainClose:
			done[j] = true
		}
	})
	return end, err
}
