package fsys

import (
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Stat is what the generator and receiver need from stat(2), in unix
// encodings as rsync sends them.
type Stat struct {
	Mode      uint32 // st_mode: S_IFMT type bits and 07777 permission bits
	UID, GID  uint32
	Nlink     uint64
	Size      int64
	Mtime     int64 // seconds since the epoch
	MtimeNsec uint32
	Atime     int64
	AtimeNsec uint32
	Dev, Ino  uint64 // identify the inode, for hard-link detection
	Rdev      uint64 // device number of a device node
}

// Type returns the S_IFMT bits of the mode.
func (s *Stat) Type() uint32 { return s.Mode & unix.S_IFMT }

// Perm returns the permission bits of the mode, setuid, setgid and sticky
// included.
func (s *Stat) Perm() uint32 { return s.Mode & 0o7777 }

// IsDir reports whether the entry is a directory.
func (s *Stat) IsDir() bool { return s.Type() == unix.S_IFDIR }

// IsRegular reports whether the entry is a regular file.
func (s *Stat) IsRegular() bool { return s.Type() == unix.S_IFREG }

// IsSymlink reports whether the entry is a symbolic link.
func (s *Stat) IsSymlink() bool { return s.Type() == unix.S_IFLNK }

// ModTime returns the modification time with its nanoseconds.
func (s *Stat) ModTime() time.Time { return time.Unix(s.Mtime, int64(s.MtimeNsec)) }

func statFromUnix(st *unix.Stat_t) Stat {
	return Stat{
		Mode:      st.Mode,
		UID:       st.Uid,
		GID:       st.Gid,
		Nlink:     uint64(st.Nlink),
		Size:      st.Size,
		Mtime:     int64(st.Mtim.Sec),
		MtimeNsec: uint32(st.Mtim.Nsec),
		Atime:     int64(st.Atim.Sec),
		AtimeNsec: uint32(st.Atim.Nsec),
		Dev:       uint64(st.Dev),
		Ino:       st.Ino,
		Rdev:      uint64(st.Rdev),
	}
}

func statFromSyscall(st *syscall.Stat_t) Stat {
	return Stat{
		Mode:      st.Mode,
		UID:       st.Uid,
		GID:       st.Gid,
		Nlink:     uint64(st.Nlink),
		Size:      st.Size,
		Mtime:     int64(st.Mtim.Sec),
		MtimeNsec: uint32(st.Mtim.Nsec),
		Atime:     int64(st.Atim.Sec),
		AtimeNsec: uint32(st.Atim.Nsec),
		Dev:       uint64(st.Dev),
		Ino:       st.Ino,
		Rdev:      uint64(st.Rdev),
	}
}

// Lstat returns an os.FileInfo for name, describing a symbolic link itself
// rather than its target.
func (r *Root) Lstat(name string) (os.FileInfo, error) {
	clean, err := checkName("lstat", name)
	if err != nil {
		return nil, err
	}
	return r.root.Lstat(clean)
}

// LstatT stats name without following a final symbolic link.
func (r *Root) LstatT(name string) (Stat, error) {
	d, base, err := r.parent("lstat", name)
	if err != nil {
		return Stat{}, err
	}
	defer d.close()
	var st unix.Stat_t
	if err := unix.Fstatat(d.fd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return Stat{}, &os.PathError{Op: "lstat", Path: name, Err: err}
	}
	return statFromUnix(&st), nil
}

// StatT stats name, following symbolic links only while they stay beneath
// the root (for --keep-dirlinks).
func (r *Root) StatT(name string) (Stat, error) {
	clean, err := checkName("stat", name)
	if err != nil {
		return Stat{}, err
	}
	fd, ok, err := r.openat2(clean, unix.O_PATH, 0)
	if !ok {
		fi, err := r.root.Stat(clean)
		if err != nil {
			return Stat{}, err
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			return Stat{}, &os.PathError{Op: "stat", Path: name, Err: syscall.ENOTSUP}
		}
		return statFromSyscall(st), nil
	}
	if err != nil {
		return Stat{}, &os.PathError{Op: "stat", Path: name, Err: err}
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return Stat{}, &os.PathError{Op: "stat", Path: name, Err: err}
	}
	return statFromUnix(&st), nil
}

// StatFile stats an open file, such as a temporary file being written.
func StatFile(f *os.File) (Stat, error) {
	var st unix.Stat_t
	err := control(f, func(fd int) error { return unix.Fstat(fd, &st) })
	if err != nil {
		return Stat{}, &os.PathError{Op: "fstat", Path: f.Name(), Err: err}
	}
	return statFromUnix(&st), nil
}

// control runs fn on f's descriptor without switching it to blocking mode.
func control(f *os.File, fn func(fd int) error) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = fn(int(fd)) }); err != nil {
		return err
	}
	return ferr
}
