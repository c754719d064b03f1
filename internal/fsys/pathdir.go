package fsys

import (
	"fmt"
	"os"

	"github.com/gorsync/gorsync/internal/fastio"
	"golang.org/x/sys/unix"
)

// PathDir is a directory on the way to the destination, opened by the
// path the user named (following its links, as rsync's chdir does), in
// which the receiver makes the directories the destination still lacks:
// --mkpath's missing components and the destination directory itself.
// Each is made and opened relative to its parent's descriptor, never by
// name, and the destination opened as a Root is checked to be the
// directory made: a directory swapped for a symbolic link between its
// mkdir and its use can send the transfer nowhere but into an error.
// rsync makes them by name and enters the last with chdir.
// rsync: main.c get_local_name, util1.c make_path
type PathDir struct {
	fd   int
	path string
}

// OpenPathDir opens the existing directory path, following symbolic
// links in it.
func OpenPathDir(path string) (*PathDir, error) {
	fd, err := openat(unix.AT_FDCWD, path, unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return &PathDir{fd: fd, path: path}, nil
}

// Path returns the directory's path as the user named it.
func (d *PathDir) Path() string { return d.path }

// Mkdir makes the directory name (one component) in d with the
// permission bits perm, subject to the umask, and opens it without
// following it: if something replaced it meanwhile, that is an error
// (ELOOP for a symbolic link), never the new thing's target.
func (d *PathDir) Mkdir(name string, perm uint32) (*PathDir, error) {
	path := d.child(name)
	if err := unix.Mkdirat(d.fd, name, perm&0o7777); err != nil {
		return nil, &os.PathError{Op: "mkdir", Path: path, Err: err}
	}
	fd, err := openat(d.fd, name, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: SymlinkLoop(d.fd, name, err)}
	}
	return &PathDir{fd: fd, path: path}, nil
}

func (d *PathDir) child(name string) string {
	switch d.path {
	case ".":
		return name
	case "/":
		return "/" + name
	}
	return d.path + "/" + name
}

// Root opens d as a destination root (OpenRoot of its path), and fails
// unless the path still leads to d: the Root is then the directory d
// made or found, whatever its path names by now.
func (d *PathDir) Root(io fastio.Config) (*Root, error) {
	r, err := OpenRoot(d.path, io)
	if err != nil {
		return nil, err
	}
	var want, got unix.Stat_t
	if err := unix.Fstat(d.fd, &want); err != nil {
		r.Close()
		return nil, &os.PathError{Op: "fstat", Path: d.path, Err: err}
	}
	if err := unix.Fstat(r.fd, &got); err != nil {
		r.Close()
		return nil, &os.PathError{Op: "fstat", Path: d.path, Err: err}
	}
	if want.Dev != got.Dev || want.Ino != got.Ino {
		r.Close()
		return nil, &os.PathError{Op: "open", Path: d.path, Err: errReplaced}
	}
	return r, nil
}

// errReplaced reports a directory that its path no longer names.
var errReplaced = fmt.Errorf("directory replaced while it was being opened: %w", unix.ELOOP)

// Close releases the directory.
func (d *PathDir) Close() error { return unix.Close(d.fd) }
