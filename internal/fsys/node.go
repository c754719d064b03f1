package fsys

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Mkdir creates the directory name with the permission bits perm&07777,
// subject to the umask; the caller sets the final mode afterwards.
func (r *Root) Mkdir(name string, perm uint32) error {
	d, base, err := r.parent("mkdir", name)
	if err != nil {
		return err
	}
	defer d.close()
	if err := unix.Mkdirat(d.fd, base, perm&0o7777); err != nil {
		return &os.PathError{Op: "mkdir", Path: name, Err: err}
	}
	return nil
}

// MkdirAll creates the directory name and any missing parents with the
// permission bits perm&0777, as rsync does for implied directories.
func (r *Root) MkdirAll(name string, perm uint32) error {
	clean, err := checkName("mkdir", name)
	if err != nil {
		return err
	}
	return r.root.MkdirAll(clean, os.FileMode(perm&0o777))
}

// Symlink creates name as a symbolic link holding target verbatim; target is
// never interpreted or resolved.
func (r *Root) Symlink(target, name string) error {
	d, base, err := r.parent("symlink", name)
	if err != nil {
		return err
	}
	defer d.close()
	if err := unix.Symlinkat(target, d.fd, base); err != nil {
		return &os.PathError{Op: "symlink", Path: name, Err: err}
	}
	return nil
}

// maxLinkLen bounds the readlink buffer; Linux caps symlink targets at
// PATH_MAX.
const maxLinkLen = unix.PathMax

// Readlink returns the target stored in the symbolic link name.
func (r *Root) Readlink(name string) (string, error) {
	d, base, err := r.parent("readlink", name)
	if err != nil {
		return "", err
	}
	defer d.close()
	target, err := readlinkat(d.fd, base)
	if err != nil {
		return "", &os.PathError{Op: "readlink", Path: name, Err: err}
	}
	return target, nil
}

// readlinkat returns the target of the link base in the directory dir.
func readlinkat(dir int, base string) (string, error) {
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(dir, base, buf)
		if err != nil {
			return "", err
		}
		if n < size {
			return string(buf[:n]), nil
		}
		if size > maxLinkLen {
			return "", unix.ENAMETOOLONG
		}
	}
}

// Link creates newName as a hard link to oldName; if oldName is a symbolic
// link, the link itself is linked, never its target.
func (r *Root) Link(oldName, newName string) error {
	od, obase, err := r.parent("link", oldName)
	if err != nil {
		return err
	}
	defer od.close()
	nd, nbase, err := r.parent("link", newName)
	if err != nil {
		return err
	}
	defer nd.close()
	if err := unix.Linkat(od.fd, obase, nd.fd, nbase, 0); err != nil {
		return &os.LinkError{Op: "link", Old: oldName, New: newName, Err: err}
	}
	return nil
}

// Rename atomically moves oldName to newName, replacing newName if it
// exists (rename(2) semantics); symbolic links are moved, not followed.
func (r *Root) Rename(oldName, newName string) error {
	od, obase, err := r.parent("rename", oldName)
	if err != nil {
		return err
	}
	defer od.close()
	nd, nbase, err := r.parent("rename", newName)
	if err != nil {
		return err
	}
	defer nd.close()
	if err := unix.Renameat(od.fd, obase, nd.fd, nbase); err != nil {
		return &os.LinkError{Op: "rename", Old: oldName, New: newName, Err: err}
	}
	if r.dirs != nil {
		// Either name may have been a directory (or the parent of cached
		// ones): the old path is gone, the new one is another directory.
		o, _ := checkName("", oldName)
		n, _ := checkName("", newName)
		r.forget(o)
		r.forget(n)
	}
	return nil
}

// Remove deletes the file, symbolic link or empty directory name.
func (r *Root) Remove(name string) error {
	d, base, err := r.parent("remove", name)
	if err != nil {
		return err
	}
	defer d.close()
	err = unix.Unlinkat(d.fd, base, 0)
	if err == unix.EISDIR || err == unix.EPERM {
		// Linux reports EISDIR for unlink of a directory (EPERM on some
		// filesystems); retry as rmdir and keep its error if that fails too.
		if derr := unix.Unlinkat(d.fd, base, unix.AT_REMOVEDIR); derr != unix.ENOTDIR {
			err = derr
		}
	}
	if err != nil {
		return &os.PathError{Op: "remove", Path: name, Err: err}
	}
	if r.dirs != nil {
		clean, _ := checkName("", name)
		r.forget(clean)
	}
	return nil
}

// RemoveAll deletes name and, if it is a directory, everything beneath it.
// It returns nil if name does not exist.
func (r *Root) RemoveAll(name string) error {
	clean, err := checkName("removeall", name)
	if err != nil {
		return err
	}
	if clean == "." {
		return &os.PathError{Op: "removeall", Path: name, Err: errors.New("refusing to remove the root")}
	}
	// Forget even after a failure: part of the tree may be gone.
	defer r.forget(clean)
	return r.root.RemoveAll(clean)
}

// Mknod creates a device, FIFO or socket node. mode carries the file type
// (S_IFCHR, S_IFBLK, S_IFIFO or S_IFSOCK) and permission bits; rdev is a
// Linux device number as built by unix.Mkdev and is ignored for FIFOs and
// sockets.
func (r *Root) Mknod(name string, mode uint32, rdev uint64) error {
	typ := mode & unix.S_IFMT
	switch typ {
	case unix.S_IFCHR, unix.S_IFBLK:
	case unix.S_IFIFO, unix.S_IFSOCK:
		rdev = 0
	default:
		return &os.PathError{Op: "mknod", Path: name, Err: fmt.Errorf("not a device or special file type: %#o", typ)}
	}
	d, base, err := r.parent("mknod", name)
	if err != nil {
		return err
	}
	defer d.close()
	// rsync: syscall.c do_mknod — on Linux mknod makes every node type,
	// sockets included, so the bind(2) fallback other systems need is moot.
	if err := unix.Mknodat(d.fd, base, typ|mode&0o7777, int(rdev)); err != nil {
		return &os.PathError{Op: "mknod", Path: name, Err: err}
	}
	return nil
}
