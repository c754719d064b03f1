package fsys

import (
	"errors"
	"math/rand/v2"
	"os"

	"golang.org/x/sys/unix"
)

// Open opens the regular file name for reading, as a basis file. A symbolic
// link, FIFO, device or socket as the final component is refused, so the open
// neither leaves the tree nor blocks.
func (r *Root) Open(name string) (*os.File, error) {
	d, base, err := r.parent("open", name)
	if err != nil {
		return nil, err
	}
	defer d.close()
	fd, err := openat(d.fd, base, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: name, Err: err}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, &os.PathError{Op: "fstat", Path: name, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return nil, &os.PathError{Op: "open", Path: name, Err: errors.New("not a regular file")}
	}
	// Clear O_NONBLOCK with one fcntl: F_SETFL sets only the status flags
	// (O_APPEND, O_ASYNC, O_DIRECT, O_NOATIME, O_NONBLOCK), none of which
	// the open asked for otherwise.
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFL, 0); err != nil {
		unix.Close(fd)
		return nil, &os.PathError{Op: "fcntl", Path: name, Err: err}
	}
	return os.NewFile(uintptr(fd), name), nil
}

// OpenFile opens name with the given os.O_* flags and creation permission,
// for --inplace, --partial and --append writes. The final component is never
// followed if it is a symbolic link.
func (r *Root) OpenFile(name string, flag int, perm uint32) (*os.File, error) {
	d, base, err := r.parent("open", name)
	if err != nil {
		return nil, err
	}
	defer d.close()
	fd, err := openat(d.fd, base, flag|unix.O_NOFOLLOW|unix.O_NOCTTY, perm&0o7777)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: name, Err: err}
	}
	return os.NewFile(uintptr(fd), name), nil
}

// CreateTemp creates a new file, mode 0600, in the directory of name, named
// like rsync's temporary files (".<basename>.XXXXXX"), and returns it open for
// reading and writing with its root-relative name. The caller renames it over
// name when complete, or removes it.
func (r *Root) CreateTemp(name string) (f *os.File, tmpName string, err error) {
	fd, tmpName, err := r.CreateTempFD(name)
	if err != nil {
		return nil, "", err
	}
	return os.NewFile(uintptr(fd), tmpName), tmpName, nil
}

// CreateTempFD is CreateTemp returning the bare descriptor, which the
// caller closes: a file that is written, finished and closed at once needs
// no *os.File (whose making costs an fcntl, and a finalizer).
func (r *Root) CreateTempFD(name string) (fd int, tmpName string, err error) {
	d, base, err := r.parent("create temp", name)
	if err != nil {
		return -1, "", err
	}
	defer d.close()
	if base == "." {
		return -1, "", &os.PathError{Op: "create temp", Path: name, Err: unix.EISDIR}
	}
	dir := ""
	if clean, _ := checkName("", name); len(clean) > len(base) {
		dir = clean[:len(clean)-len(base)]
	}
	prefix := tmpPrefix(base)
	buf := make([]byte, 0, len(prefix)+tmpSuffixLen)
	for range 100 {
		buf = appendTmpSuffix(append(buf[:0], prefix...))
		tmp := string(buf)
		fd, err := openat(d.fd, tmp, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_NOCTTY, 0o600)
		if err == unix.EEXIST {
			continue
		}
		if err != nil {
			return -1, "", &os.PathError{Op: "mkstemp", Path: dir + tmp, Err: err}
		}
		return fd, dir + tmp, nil
	}
	return -1, "", &os.PathError{Op: "mkstemp", Path: name, Err: unix.EEXIST}
}

// ReadDir lists the directory name (without following a final symbolic link),
// in directory order, for the generator's deletion pass.
func (r *Root) ReadDir(name string) ([]os.DirEntry, error) {
	d, base, err := r.parent("readdir", name)
	if err != nil {
		return nil, err
	}
	defer d.close()
	fd, err := openat(d.fd, base, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: name, Err: err}
	}
	f := os.NewFile(uintptr(fd), name)
	defer f.Close()
	return f.ReadDir(-1)
}

// openat retries on EINTR and always sets O_CLOEXEC.
func openat(dirfd int, name string, flags int, perm uint32) (int, error) {
	for {
		fd, err := unix.Openat(dirfd, name, flags|unix.O_CLOEXEC, perm)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

// rsync: receiver.c get_tmpname — a leading dot, the basename without its own
// leading dot, cut so the whole name fits NAME_MAX, and ".XXXXXX".
const (
	nameMax      = 255
	tmpSuffixLen = len(".XXXXXX")
)

// tmpPrefix returns the temp-name prefix for base, everything but the six
// random characters of the suffix.
func tmpPrefix(base string) string {
	if base[0] == '.' {
		base = base[1:]
	}
	// rsync copies at most NAME_MAX-1-suffix-1 bytes of the basename.
	if limit := nameMax - 1 - tmpSuffixLen - 1; len(base) > limit {
		cut := base[:limit]
		// Do not leave a split multi-byte character at the cut.
		if base[limit]&0x80 != 0 {
			for len(cut) > 0 && cut[len(cut)-1]&0x80 != 0 {
				cut = cut[:len(cut)-1]
			}
		}
		base = cut
	}
	if n := len(base); n > 0 && base[n-1] == '.' {
		base = base[:n-1]
	}
	if base == "" {
		return "."
	}
	return "." + base + "."
}

const tmpChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// appendTmpSuffix appends six random characters, as mkstemp does for XXXXXX.
func appendTmpSuffix(b []byte) []byte {
	v := rand.Uint64()
	for range tmpSuffixLen - 1 {
		b = append(b, tmpChars[v%uint64(len(tmpChars))])
		v /= uint64(len(tmpChars))
	}
	return b
}
