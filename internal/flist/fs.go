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

// FS is the walk's view of the source filesystem. The names the user gave
// (the arguments, their directories, --relative's implied directories) are
// looked up by path, following symbolic links in them as rsync does; what
// the walk finds beneath them it reaches only through the Dir it listed it
// from, never by path, so a directory swapped for a link once listed
// cannot lead the walk, or the sender after it, out of the tree. Errors
// should wrap the underlying syscall.Errno.
type FS interface {
	// Lstat describes path without following a final symlink.
	Lstat(path string) (Stat, error)
	// Stat describes path, following symlinks.
	Stat(path string) (Stat, error)
	// Readlink returns a symlink's target.
	Readlink(path string) (string, error)
	// OpenDir opens the directory at path to list it, following a final
	// symbolic link only with follow.
	OpenDir(path string, follow bool) (Dir, error)
	// OpenFile opens the regular file at path for reading (--checksum's
	// sum), not following a final symbolic link, and returns its
	// descriptor, which the caller closes.
	OpenFile(path string) (int, error)
}

// Dir is an open directory of an FS. Errors carry the entry's full path
// and should wrap the underlying syscall.Errno, as FS's do.
type Dir interface {
	// ReadNames lists the entries in the order the kernel returns them
	// (rsync sends them in readdir order), without "." and "..". On a
	// failure it returns the names read so far (never nil) and the error.
	ReadNames() ([]string, error)
	// Lstat describes the entry name without following a symlink.
	Lstat(name string) (Stat, error)
	// Readlink returns the target of the symlink name.
	Readlink(name string) (string, error)
	// OpenDir opens the subdirectory name, which must not be a symbolic
	// link (ELOOP).
	OpenDir(name string) (Dir, error)
	// OpenFile is FS.OpenFile for the entry name.
	OpenFile(name string) (int, error)
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
