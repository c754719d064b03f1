package fsys

import (
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gorsync/gorsync/internal/fastio"
	"golang.org/x/sys/unix"
)

// AttrMask selects which fields of Attrs are applied.
type AttrMask uint8

// The attributes SetAttrs and SetFileAttrs can apply.
const (
	SetMode  AttrMask = 1 << iota // permission bits, Attrs.Mode
	SetUID                        // owner, Attrs.UID
	SetGID                        // group, Attrs.GID
	SetMtime                      // modification time, Attrs.Mtime
	SetAtime                      // access time, Attrs.Atime
)

// Attrs is the metadata to give an entry; only the fields selected by Set are
// applied, so the zero Attrs changes nothing.
type Attrs struct {
	Set   AttrMask
	Mode  uint32 // permission bits including setuid, setgid and sticky (07777)
	UID   uint32
	GID   uint32
	Mtime time.Time // applied with its nanoseconds
	Atime time.Time
}

func (a *Attrs) owner() (uid, gid int) {
	uid, gid = -1, -1
	if a.Set&SetUID != 0 {
		uid = int(a.UID)
	}
	if a.Set&SetGID != 0 {
		gid = int(a.GID)
	}
	return uid, gid
}

func (a *Attrs) times() *[2]unix.Timespec {
	if a.Set&(SetMtime|SetAtime) == 0 {
		return nil
	}
	ts := [2]unix.Timespec{omitTime, omitTime}
	if a.Set&SetAtime != 0 {
		ts[0] = timespec(a.Atime)
	}
	if a.Set&SetMtime != 0 {
		ts[1] = timespec(a.Mtime)
	}
	return &ts
}

var omitTime = unix.Timespec{Nsec: unix.UTIME_OMIT}

// timespec converts t without UnixNano, which overflows outside 1678–2262
// while rsync's times are any 64-bit second count.
func timespec(t time.Time) unix.Timespec {
	return unix.Timespec{Sec: t.Unix(), Nsec: int64(t.Nanosecond())}
}

// SetAttrs applies a to name without following a final symbolic link: owner
// and group first (a chown clears setuid bits), then times, then mode, as
// rsync: rsync.c set_file_attrs orders them. A symbolic link's mode is left
// alone, since Linux has no link permissions.
func (r *Root) SetAttrs(name string, a Attrs) error {
	d, base, err := r.parent("setattrs", name)
	if err != nil {
		return err
	}
	defer d.close()
	if a.Set&(SetUID|SetGID) != 0 {
		uid, gid := a.owner()
		if err := unix.Fchownat(d.fd, base, uid, gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return &os.PathError{Op: "lchown", Path: name, Err: err}
		}
	}
	if ts := a.times(); ts != nil {
		if err := unix.UtimesNanoAt(d.fd, base, ts[:], unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return &os.PathError{Op: "utimensat", Path: name, Err: err}
		}
	}
	if a.Set&SetMode != 0 {
		if err := chmodNoFollow(d.fd, base, a.Mode&0o7777); err != nil {
			return &os.PathError{Op: "chmod", Path: name, Err: err}
		}
	}
	return nil
}

// Lchown sets the owner and group of name, never following a final symbolic
// link; -1 leaves an id unchanged.
func (r *Root) Lchown(name string, uid, gid int) error {
	d, base, err := r.parent("lchown", name)
	if err != nil {
		return err
	}
	defer d.close()
	if err := unix.Fchownat(d.fd, base, uid, gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return &os.PathError{Op: "lchown", Path: name, Err: err}
	}
	return nil
}

// Chmod sets the permission bits mode&07777 of name. A final symbolic link
// is never followed and is left unchanged without error.
func (r *Root) Chmod(name string, mode uint32) error {
	d, base, err := r.parent("chmod", name)
	if err != nil {
		return err
	}
	defer d.close()
	if err := chmodNoFollow(d.fd, base, mode&0o7777); err != nil {
		return &os.PathError{Op: "chmod", Path: name, Err: err}
	}
	return nil
}

// SetTimes sets the access and modification times of name to the
// nanosecond, acting on a final symbolic link itself. A zero time leaves that
// time unchanged.
func (r *Root) SetTimes(name string, atime, mtime time.Time) error {
	d, base, err := r.parent("utimensat", name)
	if err != nil {
		return err
	}
	defer d.close()
	ts := [2]unix.Timespec{omitTime, omitTime}
	if !atime.IsZero() {
		ts[0] = timespec(atime)
	}
	if !mtime.IsZero() {
		ts[1] = timespec(mtime)
	}
	if err := unix.UtimesNanoAt(d.fd, base, ts[:], unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return &os.PathError{Op: "utimensat", Path: name, Err: err}
	}
	return nil
}

// SetFileAttrs applies a to an open file, typically the temporary file before
// it is renamed into place, in the same order as SetAttrs. The owner and the
// group change only where they differ from the file's: like rsync, which
// compares them with the file's stat (rsync: rsync.c set_file_attrs), it
// leaves a new file alone that already has them, the common case; that
// stat also spares the chmod of a file whose mode is already a.Mode.
func SetFileAttrs(f *os.File, a Attrs) error {
	return control(f, func(fd int) error { return SetFDAttrs(fd, f.Name(), a) })
}

// SetFDAttrs is SetFileAttrs on a bare descriptor; name is the file's
// name for errors.
func SetFDAttrs(fd int, name string, a Attrs) error {
	modeKnown := false // st.Mode is the file's mode
	var st unix.Stat_t
	if a.Set&(SetUID|SetGID) != 0 {
		uid, gid := a.owner()
		if err := unix.Fstat(fd, &st); err != nil {
			return &os.PathError{Op: "fstat", Path: name, Err: err}
		}
		modeKnown = true
		if uid >= 0 && uint32(uid) == st.Uid {
			uid = -1
		}
		if gid >= 0 && uint32(gid) == st.Gid {
			gid = -1
		}
		if uid >= 0 || gid >= 0 {
			if err := unix.Fchown(fd, uid, gid); err != nil {
				return &os.PathError{Op: "fchown", Path: name, Err: err}
			}
			modeKnown = false // a chown may clear set-id bits
		}
	}
	if ts := a.times(); ts != nil {
		if err := futimens(fd, ts); err != nil {
			return &os.PathError{Op: "futimens", Path: name, Err: err}
		}
	}
	if a.Set&SetMode != 0 && !(modeKnown && st.Mode&0o7777 == a.Mode&0o7777) {
		if err := unix.Fchmod(fd, a.Mode&0o7777); err != nil {
			return &os.PathError{Op: "fchmod", Path: name, Err: err}
		}
	}
	return nil
}

// futimens sets times on a descriptor (fastio.Futimens), or through its
// /proc name where the kernel refuses that.
func futimens(fd int, ts *[2]unix.Timespec) error {
	err := fastio.Futimens(fd, ts)
	if err == unix.ENOENT || err == unix.EINVAL || err == unix.ENOSYS {
		err = unix.UtimesNanoAt(unix.AT_FDCWD, procFD(fd), ts[:], 0)
	}
	return err
}

func procFD(fd int) string { return "/proc/self/fd/" + strconv.Itoa(fd) }

// noFchmodat2 is set once fchmodat2 (Linux 6.6) has proved missing, and by
// tests to exercise the fallback.
var noFchmodat2 atomic.Bool

// chmodNoFollow changes the mode of dirfd/name unless it is a symbolic link,
// without a window in which a swapped-in link could be followed.
func chmodNoFollow(dirfd int, name string, mode uint32) error {
	if !noFchmodat2.Load() {
		err := unix.Fchmodat(dirfd, name, mode, unix.AT_SYMLINK_NOFOLLOW)
		if err != unix.EOPNOTSUPP {
			return err
		}
		// EOPNOTSUPP: either name is a symlink, or fchmodat2 is missing
		// (x/sys reports that as EOPNOTSUPP too); the fallback tells them
		// apart.
	}
	// Pin the inode with O_PATH|O_NOFOLLOW, then chmod it through its
	// /proc name, which refers to that inode and not to a path (as glibc
	// emulates fchmodat's AT_SYMLINK_NOFOLLOW).
	fd, err := openat(dirfd, name, unix.O_PATH|unix.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFLNK {
		return nil
	}
	noFchmodat2.Store(true)
	return unix.Fchmodat(unix.AT_FDCWD, procFD(fd), mode, 0)
}
