// Package fsys applies files and metadata beneath a destination root for the
// receiver and answers the generator's questions about the destination, so that
// no name a peer sends can reach outside that root.
//
// Every name is a relative path. Its parent directory is resolved beneath the
// root (openat2 with RESOLVE_BENEATH, or os.Root where openat2 is missing) and
// the final component is then acted on with an *at system call that never
// follows it when it is a symbolic link. Symbolic links inside the tree may be
// traversed in parent components as long as they stay beneath the root.
//
// With the fastio.Batch fast path on, a Root keeps the parent directories of
// its recent operations open (see dirCache), so an operation in a directory
// it has just used costs one system call.
package fsys

import (
	"errors"
	"os"
	"path"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/gorsync/gorsync/internal/fastio"
	"golang.org/x/sys/unix"
)

// ErrUnsafePath reports a name that is absolute, contains a ".." component or
// a NUL byte, or whose parent directory resolves outside the root.
var ErrUnsafePath = errors.New("unsafe path outside the destination root")

// Root is an open destination directory. All of its methods take names
// relative to it and are safe for concurrent use.
type Root struct {
	root *os.Root
	fd   int // O_PATH descriptor of the root directory, for *at calls
	path string
	dirs *dirCache // open parent directories; nil without fastio.Batch
}

// noOpenat2 is set once openat2 has proved unavailable (old kernel or a
// seccomp filter), and by tests to exercise the os.Root fallback.
var noOpenat2 atomic.Bool

// OpenRoot opens the existing directory dir as a destination root. It
// keeps recently used parent directories open when io has the Batch path
// on.
func OpenRoot(dir string, io fastio.Config) (*Root, error) {
	or, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	fd, err := dupFromRoot(or, ".", unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		or.Close()
		return nil, &os.PathError{Op: "open", Path: dir, Err: err}
	}
	r := &Root{root: or, fd: fd, path: dir}
	if io.On(fastio.Batch) {
		r.dirs = &dirCache{}
	}
	return r, nil
}

// Close releases the root's descriptors.
func (r *Root) Close() error {
	if r.dirs != nil {
		r.dirs.close()
	}
	err := unix.Close(r.fd)
	if err2 := r.root.Close(); err == nil {
		err = err2
	}
	return err
}

// Path returns the directory the root was opened with.
func (r *Root) Path() string { return r.path }

// checkName rejects names that could leave the root and returns the cleaned
// name. "." names the root itself.
func checkName(op, name string) (string, error) {
	bad := name == "" || name[0] == '/' || strings.IndexByte(name, 0) >= 0
	clean := true // no empty or "." component: path.Clean would not change it
	for rest := name; !bad && rest != ""; {
		var comp string
		var more bool
		comp, rest, more = strings.Cut(rest, "/")
		bad = comp == ".."
		if comp == "" || comp == "." || more && rest == "" {
			clean = false
		}
	}
	if bad {
		return "", &os.PathError{Op: op, Path: name, Err: ErrUnsafePath}
	}
	if clean || name == "." {
		return name, nil
	}
	return path.Clean(name), nil
}

// dirFD is a directory descriptor for one operation: the root's own, one
// opened for it (owned, closed after use) or a cached one (ref, released).
type dirFD struct {
	fd    int
	owned bool
	ref   *dirRef
}

func (d dirFD) close() {
	switch {
	case d.ref != nil:
		d.ref.release()
	case d.owned:
		unix.Close(d.fd)
	}
}

// parent checks name and resolves its parent directory beneath the root,
// returning the directory and the final component.
func (r *Root) parent(op, name string) (dirFD, string, error) {
	clean, err := checkName(op, name)
	if err != nil {
		return dirFD{}, "", err
	}
	i := strings.LastIndexByte(clean, '/')
	if i < 0 {
		return dirFD{fd: r.fd}, clean, nil
	}
	dir, base := clean[:i], clean[i+1:]
	if r.dirs != nil {
		if d, ok, err := r.cachedParent(dir); ok {
			if err != nil {
				return dirFD{}, "", &os.PathError{Op: op, Path: name, Err: err}
			}
			return d, base, nil
		}
	}
	fd, err := r.openBeneath(dir, unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return dirFD{}, "", &os.PathError{Op: op, Path: name, Err: err}
	}
	return dirFD{fd: fd, owned: true}, base, nil
}

// cachedParent returns the directory dir from the cache, opening and caching
// it if it is reached without symbolic links. ok is false when dir has a
// symbolic link on its way (or openat2 is unavailable): the caller opens it
// uncached, following in-tree links.
func (r *Root) cachedParent(dir string) (d dirFD, ok bool, err error) {
	if ref := r.dirs.get(dir); ref != nil {
		return dirFD{fd: ref.fd, ref: ref}, true, nil
	}
	o := r.dirs.begin(dir)
	fd, ok, err := r.openat2(dir, unix.O_PATH|unix.O_DIRECTORY, unix.RESOLVE_NO_SYMLINKS)
	if !ok || err != nil {
		r.dirs.finish(o, -1)
		if err == unix.ELOOP {
			return dirFD{}, false, nil
		}
		return dirFD{}, ok, err
	}
	ref := r.dirs.finish(o, fd)
	return dirFD{fd: fd, ref: ref}, true, nil
}

// forget drops cached directories at or beneath the cleaned name, after an
// operation that removed, moved or replaced it.
func (r *Root) forget(name string) {
	if r.dirs != nil {
		r.dirs.invalidate(name)
	}
}

// openBeneath opens the cleaned name relative to the root, following symlinks
// only while they resolve beneath it.
func (r *Root) openBeneath(name string, flags int) (int, error) {
	if fd, ok, err := r.openat2(name, flags, 0); ok {
		return fd, err
	}
	fd, err := dupFromRoot(r.root, name, flags)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		if err != nil && errors.Is(err, rootEscapes()) {
			err = ErrUnsafePath
		}
	}
	return fd, err
}

// openat2 opens name with RESOLVE_BENEATH and any further resolve flags.
// ok is false when openat2 is not available and the caller must fall back
// to os.Root.
func (r *Root) openat2(name string, flags int, resolve uint64) (fd int, ok bool, err error) {
	return openat2At(r.fd, name, flags, resolve)
}

// openat2At is openat2 beneath the directory dirfd.
func openat2At(dirfd int, name string, flags int, resolve uint64) (fd int, ok bool, err error) {
	if noOpenat2.Load() {
		return -1, false, nil
	}
	how := unix.OpenHow{
		Flags:   uint64(flags | unix.O_CLOEXEC),
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS | resolve,
	}
	for range 16 {
		fd, err = unix.Openat2(dirfd, name, &how)
		switch err {
		case nil:
			return fd, true, nil
		case unix.EINTR, unix.EAGAIN:
			// EAGAIN: a concurrent rename left the kernel unsure; retry.
			continue
		case unix.EXDEV:
			return -1, true, ErrUnsafePath
		case unix.ENOSYS, unix.EPERM:
			noOpenat2.Store(true)
			return -1, false, nil
		default:
			return -1, true, err
		}
	}
	return -1, true, err
}

// rootEscapes returns the error os.Root gives for a name that would leave
// it. The standard library does not export it, so it is taken, once, from
// a name that must escape; comparing errors then needs no message text.
var rootEscapes = sync.OnceValue(func() error {
	r, err := os.OpenRoot("/")
	if err != nil {
		return errNoEscapeError
	}
	defer r.Close()
	_, err = r.Lstat("..")
	var pe *os.PathError
	if !errors.As(err, &pe) {
		return errNoEscapeError
	}
	return pe.Err
})

// errNoEscapeError stands in for os.Root's escape error where it could not
// be found: it matches nothing os.Root returns.
var errNoEscapeError = errors.New("no escape error")

// dupFromRoot opens name through os.Root and returns a duplicate of its
// descriptor as a plain int, so callers need not keep the *os.File alive.
func dupFromRoot(or *os.Root, name string, flags int) (int, error) {
	f, err := or.OpenFile(name, flags, 0)
	if err != nil {
		return -1, err
	}
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return -1, err
	}
	nfd := -1
	var derr error
	if err := rc.Control(func(fd uintptr) {
		nfd, derr = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil {
		return -1, err
	}
	return nfd, derr
}
