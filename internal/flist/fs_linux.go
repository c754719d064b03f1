package flist

import (
	"errors"
	"os"
	"sync/atomic"

	"github.com/gorsync/gorsync/internal/fastio"
	"golang.org/x/sys/unix"
)

// OpenDir implements DirFS.
func (OSFS) OpenDir(path string) (Dir, error) {
	for {
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: path, Err: err}
		}
		return &osDir{fd: fd, path: path}, nil
	}
}

// osDir is a directory open for a batched walk.
type osDir struct {
	fd   int
	path string
}

func (d *osDir) entry(name string) string {
	if d.path == "/" {
		return "/" + name
	}
	return d.path + "/" + name
}

// ReadNames implements Dir.
func (d *osDir) ReadNames() ([]string, error) {
	return d.appendNames(make([]string, 0, 16), nil)
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
		return fromUnix(&st), nil
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

// Close implements Dir.
func (d *osDir) Close() error {
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
		sts[i] = fromStatx(&out[i])
	}
}

// batchStats counts lstatMany calls, for the test that the batch is used.
var batchStats atomic.Int64

// fromStatx is fromUnix for a statx result; the device number is encoded as
// stat(2) encodes st_dev, so the two compare equal.
func fromStatx(sx *unix.Statx_t) Stat {
	return Stat{
		Mode:      uint32(sx.Mode),
		Size:      int64(sx.Size),
		Mtime:     sx.Mtime.Sec,
		MtimeNsec: sx.Mtime.Nsec,
		Atime:     sx.Atime.Sec,
		UID:       sx.Uid,
		GID:       sx.Gid,
		RdevMajor: sx.Rdev_major,
		RdevMinor: sx.Rdev_minor,
		Dev:       unix.Mkdev(sx.Dev_major, sx.Dev_minor),
		Ino:       sx.Ino,
		Nlink:     sx.Nlink,
	}
}
