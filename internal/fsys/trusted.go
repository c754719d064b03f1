package fsys

import (
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// ErrUntrustedLink reports a symbolic link that OpenTrusted would not
// follow. It is ELOOP to errors.Is and in its message, as rsync reports
// the refusal.
var ErrUntrustedLink error = untrustedLink{}

type untrustedLink struct{}

func (untrustedLink) Error() string { return unix.ELOOP.Error() }
func (untrustedLink) Unwrap() error { return unix.ELOOP }

// maxLinks bounds the symbolic links one OpenTrusted follows, as the
// kernel's SYMLOOP_MAX does.
const maxLinks = 40

// OpenTrusted opens the file name for reading the way rsync 3.5.0 opens a
// file it reads because it was named to it (an --exclude-from,
// --include-from or --files-from list, a merge file, ~/.cvsignore): a
// component at a time, following a symbolic link only when root or this
// process's effective user owns it. A link another user planted, at any
// component, cannot make it read what that user may not: it is refused
// with ErrUntrustedLink. A name that ends at a directory opens the
// directory (reading it fails with EISDIR).
//
// rsync: syscall.c open_no_attacker_symlinks
func OpenTrusted(name string) (*os.File, error) {
	fd, err := openTrusted(unix.AT_FDCWD, name, false)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: name, Err: err}
	}
	return os.NewFile(uintptr(fd), name), nil
}

// OpenTrusted is the package's OpenTrusted for a name beneath r, which
// besides never leaves the root: an absolute link, or a ".." above the
// root, is ErrUnsafePath.
func (r *Root) OpenTrusted(name string) (*os.File, error) {
	clean, err := checkName("open", name)
	if err != nil {
		return nil, err
	}
	fd, err := openTrusted(r.fd, clean, true)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: name, Err: err}
	}
	return os.NewFile(uintptr(fd), name), nil
}

// trusted reports whether a symbolic link with owner uid may be followed.
func trusted(uid uint32) bool {
	return uid == 0 || int(uid) == os.Geteuid()
}

// openTrusted walks name from the directory start (or AT_FDCWD) and opens
// its last component read-only. With beneath, it refuses to leave start.
func openTrusted(start int, name string, beneath bool) (int, error) {
	w := trustWalk{dfd: start, beneath: beneath}
	defer w.release()
	rest := name
	if strings.HasPrefix(rest, "/") {
		if beneath {
			return -1, ErrUnsafePath
		}
		if err := w.restart(); err != nil {
			return -1, err
		}
	}
	links := 0
	for {
		rest = strings.TrimLeft(rest, "/")
		if rest == "" {
			return -1, unix.EISDIR
		}
		comp, tail, _ := strings.Cut(rest, "/")
		last := strings.TrimLeft(tail, "/") == ""
		switch comp {
		case ".":
			rest = tail
			continue
		case "..":
			if err := w.up(); err != nil {
				return -1, err
			}
			rest = tail
			continue
		}
		var st unix.Stat_t
		if err := unix.Fstatat(w.dfd, comp, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return -1, err
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFLNK:
			if !trusted(st.Uid) {
				return -1, ErrUntrustedLink
			}
			if links++; links > maxLinks {
				return -1, unix.ELOOP
			}
			if last && onProcfs(w.dfd) {
				// A trusted link in /proc (/dev/stdin leads to
				// /proc/self/fd/0, whose target is "pipe:[N]") names
				// an open file only the kernel can reach: it follows
				// it.
				return unix.Openat(w.dfd, comp, unix.O_RDONLY|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
			}
			target, err := readlinkat(w.dfd, comp)
			if err != nil {
				return -1, err
			}
			if strings.HasPrefix(target, "/") {
				if beneath {
					return -1, ErrUnsafePath
				}
				if err := w.restart(); err != nil {
					return -1, err
				}
			}
			rest = target + "/" + tail
			if last {
				rest = target
			}
			continue
		case unix.S_IFDIR:
		default:
			if !last {
				return -1, unix.ENOTDIR
			}
		}
		if last {
			// O_NOFOLLOW: a link swapped in since the stat is refused.
			return unix.Openat(w.dfd, comp, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
		}
		if err := w.down(comp); err != nil {
			return -1, err
		}
		rest = tail
	}
}

// trustWalk is openTrusted's current directory: the start one (not owned)
// or one it opened, and how far beneath the start it is.
type trustWalk struct {
	dfd     int
	owned   bool
	depth   int
	beneath bool
}

func (w *trustWalk) set(fd int) {
	w.release()
	w.dfd, w.owned = fd, true
}

func (w *trustWalk) release() {
	if w.owned {
		unix.Close(w.dfd)
		w.owned = false
	}
}

// restart moves to "/", for an absolute name or link.
func (w *trustWalk) restart() error {
	fd, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	w.set(fd)
	w.depth = 0
	return nil
}

// down enters the directory comp, which must not be a link.
func (w *trustWalk) down(comp string) error {
	fd, err := unix.Openat(w.dfd, comp, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	w.set(fd)
	w.depth++
	return nil
}

// up enters the parent directory.
func (w *trustWalk) up() error {
	if w.beneath && w.depth == 0 {
		return ErrUnsafePath
	}
	fd, err := unix.Openat(w.dfd, "..", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	w.set(fd)
	if w.depth > 0 {
		w.depth--
	}
	return nil
}

// onProcfs reports whether the directory dfd is on /proc, whose symbolic
// links (a process's descriptors, its cwd) are not paths.
func onProcfs(dfd int) bool {
	var fs unix.Statfs_t
	return unix.Fstatfs(dfd, &fs) == nil && fs.Type == unix.PROC_SUPER_MAGIC
}
