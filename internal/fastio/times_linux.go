package fastio

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Futimens sets the access and modification times of the open file fd, as
// C's futimens does: utimensat(fd, NULL, ts, 0). x/sys has no way to pass
// the NULL path, and its empty-path form (AT_EMPTY_PATH) makes the kernel
// copy and look up "" — a third more time per call on tmpfs. An error is
// the kernel's errno; a kernel without the NULL-path form (before 2.6.22)
// says EINVAL or ENOENT, and the caller falls back.
func Futimens(fd int, ts *[2]unix.Timespec) error {
	for {
		_, _, e := unix.Syscall6(unix.SYS_UTIMENSAT, uintptr(fd), 0, uintptr(unsafe.Pointer(&ts[0])), 0, 0, 0)
		switch e {
		case 0:
			return nil
		case unix.EINTR:
			continue
		}
		return e
	}
}
