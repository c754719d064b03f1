package flist

import (
	"errors"
	"os"
	"sync/atomic"

	"github.com/gorsync/gorsync/internal/fastio"
	"github.com/gorsync/gorsync/internal/fsys"
	"golang.org/x/sys/unix"
)

// OpenDir implements FS.
func (OSFS) OpenDir(path string, follow bool) (Dir, error) {
	flags := unix.O_RDONLY | unix.O_DIRECTORY
	if !follow {
		flags |= unix.O_NOFOLLOW
	}
	fd, err := openat(unix.AT_FDCWD, path, flags)
	if err != nil {
		if !follow {
			err = fsys.SymlinkLoop(unix.AT_FDCWD, path, err)
		}
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return &osDir{fd: fd, path: path}, nil
}

// OpenFile implements FS.
func (OSFS) OpenFile(path string) (int, error) {
	fd, err := openat(unix.AT_FDCWD, path, fileFlags)
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return fd, nil
}

// fileFlags open a file for --checksum's sum: never through a final
// symbolic link, and never waiting on a FIFO swapped in for the file.
const fileFlags = unix.O_RDONLY | unix.O_NOFOLLOW | unix.O_NOCTTY | unix.O_NONBLOCK

// openat is openat(2) with O_CLOEXEC, again when a signal interrupts it.
func openat(dirfd int, name string, flags int) (int, error) {
	for {
		fd, err := unix.Openat(dirfd, name, flags|unix.O_CLOEXEC, 0)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

// osDir is a directory open for the walk. Its entries are described, and
// its subdirectories opened, relative to fd, with the batched walk as
// without it.
type osDir struct {
	fd   int
	path string
	f    *os.File // owns fd once ReadNames has used it
}

func (d *osDir) entry(name string) string {
	if d.path == "/" {
		return "/" + name
	}
	return d.path + "/" + name
}

// ReadNames implements Dir the plain way, with the standard library's
// directory reading (the batched walk uses appendNames).
func (d *osDir) ReadNames() ([]string, error) {
	if d.f == nil {
		d.f = os.NewFile(uintptr(d.fd), d.path)
	}
	names, err := d.f.Readdirnames(-1)
	if names == nil {
		names = []string{}
	}
	return names, err
}

// appendNames is ReadNames appending to names, with the names carved from
// arena (see fastio.ReadDirNames): the walk's way, one allocation per
// chunk of names instead of one per name.
func (d *osDir) appendNames(names []string, arena *fastio.NameArena) ([]string, error) {
	names, err := fastio.ReadDirNames(d.fd, names, arena)
	if err != nil {
		return names, &os.PathError{Op: "readdirent", Path: d.path, Err: err}
	}
	return names, nil
}

// Lstat implements Dir.
func (d *osDir) Lstat(name string) (Stat, error) {
	var st unix.Stat_t
	for {
		err := unix.Fstatat(d.fd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return Stat{}, &os.PathError{Op: "lstat", Path: d.entry(name), Err: err}
		}
		return fsys.StatFromUnix(&st), nil
	}
}

// Readlink implements Dir.
func (d *osDir) Readlink(name string) (string, error) {
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(d.fd, name, buf)
		for err == unix.EINTR {
			n, err = unix.Readlinkat(d.fd, name, buf)
		}
		if err != nil {
			return "", &os.PathError{Op: "readlink", Path: d.entry(name), Err: err}
		}
		if n < size {
			return string(buf[:n]), nil
		}
		if size > unix.PathMax {
			return "", &os.PathError{Op: "readlink", Path: d.entry(name), Err: unix.ENAMETOOLONG}
		}
	}
}

// OpenDir implements Dir: the subdirectory is opened relative to d and
// never through a symbolic link.
func (d *osDir) OpenDir(name string) (Dir, error) {
	path := d.entry(name)
	fd, err := openat(d.fd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: fsys.SymlinkLoop(d.fd, name, err)}
	}
	return &osDir{fd: fd, path: path}, nil
}

// OpenFile implements Dir.
func (d *osDir) OpenFile(name string) (int, error) {
	fd, err := openat(d.fd, name, fileFlags)
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: d.entry(name), Err: err}
	}
	return fd, nil
}

// Close implements Dir.
func (d *osDir) Close() error {
	if d.f != nil {
		return d.f.Close()
	}
	return unix.Close(d.fd)
}

// lstatMany stats names relative to the directory through
// fastio.StatMany, an io_uring batch when io has the Uring path on and the
// ring works (one statx per name otherwise), with Lstat's results and
// errors.
func (d *osDir) lstatMany(io fastio.Config, names []string, sts []Stat, errs []error) {
	batchStats.Add(1)
	out := make([]unix.Statx_t, len(names))
	for i, err := range io.StatMany(d.fd, names, unix.AT_SYMLINK_NOFOLLOW, out) {
		if err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			errs[i] = &os.PathError{Op: "lstat", Path: d.entry(names[i]), Err: err}
			continue
		}
		sts[i] = fsys.StatFromStatx(&out[i])
	}
}

// batchStats counts lstatMany calls, for the test that the batch is used.
var batchStats atomic.Int64
