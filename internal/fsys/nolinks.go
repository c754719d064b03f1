package fsys

import (
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// OpenNoLinks opens name, a relative path, beneath the directory dirfd with
// the open(2) flags given, following no symbolic link at any component,
// the last included: a component that is a link is ELOOP, one that is not
// a directory ENOTDIR, and a name with a ".." component (or absolute)
// ErrUnsafePath. It is how the sender reaches what its walk found beneath a
// directory it holds: a directory there that was swapped for a link since
// the walk, to anywhere, yields an error and never the link's target.
// rsync resolves these names beneath the transfer root, refusing a link
// that leaves it. rsync: syscall.c secure_relative_open
//
// openat2 (RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS) does it in one call; where
// openat2 is missing, one openat with O_NOFOLLOW per component does.
func OpenNoLinks(dirfd int, name string, flags int) (int, error) {
	clean, err := checkName("open", name)
	if err != nil {
		return -1, err
	}
	if fd, ok, err := openat2At(dirfd, clean, flags, unix.RESOLVE_NO_SYMLINKS); ok {
		if err != nil {
			return -1, &os.PathError{Op: "open", Path: name, Err: err}
		}
		return fd, nil
	}
	fd, err := openNoLinksSlow(dirfd, clean, flags)
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: name, Err: err}
	}
	return fd, nil
}

// openNoLinksSlow is OpenNoLinks without openat2: a component at a time,
// each directory opened O_PATH|O_NOFOLLOW relative to the one before.
func openNoLinksSlow(dirfd int, clean string, flags int) (int, error) {
	cur, owned := dirfd, false
	defer func() {
		if owned {
			unix.Close(cur)
		}
	}()
	rest := clean
	for {
		comp, tail, more := strings.Cut(rest, "/")
		if comp == "." && !more {
			return openat(cur, ".", flags, 0)
		}
		if comp == "." {
			rest = tail
			continue
		}
		if !more {
			fd, err := openat(cur, comp, flags|unix.O_NOFOLLOW, 0)
			if err != nil {
				return -1, SymlinkLoop(cur, comp, err)
			}
			if flags&unix.O_PATH != 0 && flags&unix.O_DIRECTORY == 0 {
				// O_PATH|O_NOFOLLOW opens a link itself: refuse it as
				// openat2 does.
				var st unix.Stat_t
				if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT == unix.S_IFLNK {
					unix.Close(fd)
					if err == nil {
						err = unix.ELOOP
					}
					return -1, err
				}
			}
			return fd, nil
		}
		fd, err := openat(cur, comp, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW, 0)
		if err != nil {
			return -1, SymlinkLoop(cur, comp, err)
		}
		if owned {
			unix.Close(cur)
		}
		cur, owned = fd, true
		rest = tail
	}
}

// SymlinkLoop turns the ENOTDIR that opening name in dirfd (AT_FDCWD for
// a path) with O_DIRECTORY|O_NOFOLLOW gives for a symbolic link into the
// ELOOP that openat2 gives for it, and rsync reports ("Too many levels of
// symbolic links"); any other error is returned as it is.
func SymlinkLoop(dirfd int, name string, err error) error {
	if err != unix.ENOTDIR {
		return err
	}
	var st unix.Stat_t
	if unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK {
		return unix.ELOOP
	}
	return err
}
