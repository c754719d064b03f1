//go:build unix

package flist

import (
	"os"

	"golang.org/x/sys/unix"

	"github.com/gorsync/gorsync/internal/fsys"
)

// Stat is what the walk needs from lstat(2): the one stat type the
// generator and receiver use too.
type Stat = fsys.Stat

// FS is the walk's view of the source filesystem, so a batched
// implementation (getdents64 plus statx relative to a directory fd) can
// replace OSFS. Errors should wrap the underlying syscall.Errno.
type FS interface {
	// Lstat describes path without following a final symlink.
	Lstat(path string) (Stat, error)
	// Stat describes path, following symlinks.
	Stat(path string) (Stat, error)
	// Readlink returns a symlink's target.
	Readlink(path string) (string, error)
	// ReadDirNames lists a directory's entries in the order the kernel
	// returns them (rsync sends them in readdir order), without "." and
	// "..". On a partial failure it returns the names read so far and
	// the error.
	ReadDirNames(path string) ([]string, error)
}

// DirFS is an FS that can also open a directory once and describe its
// entries relative to it, which the walk prefers when fastio.Batch is on.
// OSFS implements it on Linux with getdents64 into a large buffer, and
// fstatat and readlinkat on the directory's descriptor.
type DirFS interface {
	FS
	// OpenDir opens the directory at path, following symlinks as
	// ReadDirNames does.
	OpenDir(path string) (Dir, error)
}

// Dir is an open directory of a DirFS. Errors carry the entry's full path
// and should wrap the underlying syscall.Errno, as FS's do.
type Dir interface {
	// ReadNames lists the entries as FS.ReadDirNames does; on a failure
	// it returns the names read so far (never nil) and the error.
	ReadNames() ([]string, error)
	// Lstat describes the entry name without following a symlink.
	Lstat(name string) (Stat, error)
	// Readlink returns the target of the symlink name.
	Readlink(name string) (string, error)
	// Close releases the directory.
	Close() error
}

// OSFS is the plain system-call implementation of FS.
type OSFS struct{}

// Lstat implements FS.
func (OSFS) Lstat(path string) (Stat, error) { return osStat("lstat", path, unix.Lstat) }

// Stat implements FS.
func (OSFS) Stat(path string) (Stat, error) { return osStat("stat", path, unix.Stat) }

// osStat runs stat, unix.Lstat or unix.Stat, on path, again when a signal
// interrupts it.
func osStat(op, path string, stat func(string, *unix.Stat_t) error) (Stat, error) {
	var st unix.Stat_t
	for {
		err := stat(path, &st)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return Stat{}, &os.PathError{Op: op, Path: path, Err: err}
		}
		return fsys.StatFromUnix(&st), nil
	}
}

// Readlink implements FS.
func (OSFS) Readlink(path string) (string, error) { return os.Readlink(path) }

// ReadDirNames implements FS.
func (OSFS) ReadDirNames(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}
