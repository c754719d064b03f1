//go:build linux

package fastio

import (
	"bytes"
	"encoding/binary"
	"sync"

	"golang.org/x/sys/unix"
)

// DirBufSize is the getdents64 buffer of a batched directory read: a
// thousand entries with names of twenty-odd bytes fit in one call, where
// the standard library's 8 KiB buffer needs four or five.
const DirBufSize = 64 << 10

var dirBufs = sync.Pool{New: func() any { b := make([]byte, DirBufSize); return &b }}

// ReadDirNames appends the names in the open directory fd to names, in the
// order the kernel returns them, without "." and "..", reading to the end of
// the directory with getdents64 into a pooled DirBufSize buffer. The names
// are carved from arena when it is not nil, else allocated one by one. On an
// error it returns the names read so far with the error.
func ReadDirNames(fd int, names []string, arena *NameArena) ([]string, error) {
	bp := dirBufs.Get().(*[]byte)
	defer dirBufs.Put(bp)
	buf := *bp
	for {
		n, err := unix.Getdents(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return names, err
		}
		if n <= 0 {
			return names, nil
		}
		names = parseDirents(buf[:n], names, arena)
	}
}

// The layout of struct linux_dirent64: d_ino, d_off, d_reclen, d_type, then
// the NUL-terminated name.
const (
	direntReclen = 16
	direntName   = 19
)

// parseDirents appends the names of the linux_dirent64 records in buf but
// "." and "..". A record that does not fit ends the parse. Like x/sys's
// ParseDirent on Linux it keeps entries with inode 0, which old XFS and FUSE
// return for real files.
func parseDirents(buf []byte, names []string, arena *NameArena) []string {
	for len(buf) >= direntName {
		reclen := int(binary.NativeEndian.Uint16(buf[direntReclen:]))
		if reclen < direntName || reclen > len(buf) {
			break
		}
		rec := buf[:reclen]
		buf = buf[reclen:]
		name := rec[direntName:]
		if i := bytes.IndexByte(name, 0); i >= 0 {
			name = name[:i]
		}
		if len(name) > 0 && name[0] == '.' && (len(name) == 1 || len(name) == 2 && name[1] == '.') {
			continue
		}
		if arena != nil {
			names = append(names, arena.String(name))
		} else {
			names = append(names, string(name))
		}
	}
	return names
}
