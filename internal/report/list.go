package report

import (
	"time"

	"golang.org/x/sys/unix"
)

// PermString renders a mode as ls does: the type letter and the nine
// permission letters, with s/S and t/T for the setuid, setgid and sticky
// bits. rsync: lib/permstring.c permstring
func PermString(mode uint32) string {
	const permMap = "rwxrwxrwx"
	b := []byte("----------")
	for i := 0; i < 9; i++ {
		if mode&(1<<i) != 0 {
			b[9-i] = permMap[8-i]
		}
	}
	set := func(bit, exec uint32, at int, on, off byte) {
		if mode&bit != 0 {
			if mode&exec != 0 {
				b[at] = on
			} else {
				b[at] = off
			}
		}
	}
	set(unix.S_ISUID, unix.S_IXUSR, 3, 's', 'S')
	set(unix.S_ISGID, unix.S_IXGRP, 6, 's', 'S')
	set(unix.S_ISVTX, unix.S_IXOTH, 9, 't', 'T')
	switch mode & unix.S_IFMT {
	case unix.S_IFDIR:
		b[0] = 'd'
	case unix.S_IFLNK:
		b[0] = 'l'
	case unix.S_IFBLK:
		b[0] = 'b'
	case unix.S_IFCHR:
		b[0] = 'c'
	case unix.S_IFSOCK:
		b[0] = 's'
	case unix.S_IFIFO:
		b[0] = 'p'
	}
	return string(b)
}

// TimeString renders seconds since the epoch in local time as rsync's
// listings do: "2006/01/02 15:04:05". rsync: util1.c timestring
func TimeString(sec int64) string {
	return time.Unix(sec, 0).Format("2006/01/02 15:04:05")
}
