package fsys

import (
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Stat is what the sender's walk, the generator and the receiver need from
// stat(2), in unix encodings as rsync sends them. It stays small (72
// bytes): the walk holds one for every entry of the directories it reads
// ahead.
type Stat struct {
	Mode     uint32 // st_mode: S_IFMT type bits and 07777 permission bits
	UID, GID uint32
	// Nlink is 32 bits as the kernel's link count is (statx's stx_nlink).
	Nlink     uint32
	Size      int64
	Mtime     int64 // seconds since the epoch
	Atime     int64
	MtimeNsec uint32
	AtimeNsec uint32
	Dev, Ino  uint64 // identify the inode, for hard-link detection
	Rdev      uint64 // device number of a device node, as stat(2) encodes it
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

// MajorMinor returns the major and minor numbers of Rdev, as rsync sends
// them.
func (s *Stat) MajorMinor() (major, minor uint32) {
	return unix.Major(s.Rdev), unix.Minor(s.Rdev)
}

// ModTime returns the modification time with its nanoseconds.
func (s *Stat) ModTime() time.Time { return time.Unix(s.Mtime, int64(s.MtimeNsec)) }

// StatFromUnix converts a stat(2) result.
func StatFromUnix(st *unix.Stat_t) Stat {
	return Stat{
		Mode:      uint32(st.Mode),
		UID:       st.Uid,
		GID:       st.Gid,
		Nlink:     uint32(st.Nlink),
		Size:      st.Size,
		Mtime:     int64(st.Mtim.Sec),
		MtimeNsec: uint32(st.Mtim.Nsec),
		Atime:     int64(st.Atim.Sec),
		AtimeNsec: uint32(st.Atim.Nsec),
		Dev:       uint64(st.Dev),
		Ino:       uint64(st.Ino),
		Rdev:      uint64(st.Rdev),
	}
}

// StatFromStatx converts a statx(2) result, with the device numbers
// encoded as stat(2) encodes them so that the two compare equal.
func StatFromStatx(sx *unix.Statx_t) Stat {
	return Stat{
		Mode:      uint32(sx.Mode),
		UID:       sx.Uid,
		GID:       sx.Gid,
		Nlink:     sx.Nlink,
		Size:      int64(sx.Size),
		Mtime:     sx.Mtime.Sec,
		MtimeNsec: sx.Mtime.Nsec,
		Atime:     sx.Atime.Sec,
		AtimeNsec: sx.Atime.Nsec,
		Dev:       unix.Mkdev(sx.Dev_major, sx.Dev_minor),
		Ino:       sx.Ino,
		Rdev:      unix.Mkdev(sx.Rdev_major, sx.Rdev_minor),
	}
}

// unixStat gives the standard library's stat(2) result, which os.Root
// returns, the layout of x/sys/unix's, whose fields are the same kernel
// struct stat.
func unixStat(st *syscall.Stat_t) *unix.Stat_t {
	return &unix.Stat_t{Dev: st.Dev, Ino: st.Ino, Nlink: st.Nlink, Mode: st.Mode, Uid: st.Uid, Gid: st.Gid, Rdev: st.Rdev, Size: st.Size, Atim: unix.Timespec(st.Atim), Mtim: unix.Timespec(st.Mtim)}
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
	return StatFromUnix(&st), nil
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
		return StatFromUnix(unixStat(st)), nil
	}
	if err != nil {
		return Stat{}, &os.PathError{Op: "stat", Path: name, Err: err}
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return Stat{}, &os.PathError{Op: "stat", Path: name, Err: err}
	}
	return StatFromUnix(&st), nil
}

// StatFile stats an open file, such as a temporary file being written.
func StatFile(f *os.File) (Stat, error) {
	var st unix.Stat_t
	err := control(f, func(fd int) error { return unix.Fstat(fd, &st) })
	if err != nil {
		return Stat{}, &os.PathError{Op: "fstat", Path: f.Name(), Err: err}
	}
	return StatFromUnix(&st), nil
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
