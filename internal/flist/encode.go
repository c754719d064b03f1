package flist

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/gorsync/gorsync/internal/wire"
)

// Encoder writes file-list entries, carrying rsync's inter-entry
// compression state (the previous name, mode, times, ids, rdev). One
// Encoder serves a whole connection. rsync: flist.c send_file_entry
type Encoder struct {
	opts  Options
	names NameLookup

	lastName []byte
	mode     uint32
	modtime  int64
	atime    int64
	rdevMaj  uint32    // rdev_major
	rdev     [2]uint32 // major, minor of the last rdev sent
	uid, gid uint32
	dev      uint64 // protocols before 30: last hard-link device

	// ndx counts entries written to the current list; with NdxStart it
	// gives the wire index a hard-link follower refers to.
	ndx      int32
	ndxStart int32
	idev     map[[2]uint64]int32

	users, groups idList
	scratch       []byte // the current name, reused so nothing escapes per entry
}

// NewEncoder returns an Encoder for opts; names resolves ids for the id
// lists (nil means the local user database).
func NewEncoder(opts Options, names NameLookup) (*Encoder, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if names == nil {
		names = &SystemNames{}
	}
	return &Encoder{opts: opts, names: names, lastName: make([]byte, 0, MaxPath), scratch: make([]byte, 0, MaxPath)}, nil
}

// StartList begins a new file list whose first entry has wire index
// ndxStart (0 without incremental recursion).
func (enc *Encoder) StartList(ndxStart int32) {
	enc.ndx = 0
	enc.ndxStart = ndxStart
}

// hasIdev reports whether e carries hard-link dev/ino on the wire.
// rsync: flist.c make_file (tmp_dev)
func (enc *Encoder) hasIdev(e *Entry) bool {
	if !enc.opts.PreserveHardLinks {
		return false
	}
	if enc.opts.Protocol >= 28 {
		_, _, nlink := e.Inode()
		return !e.IsDir() && nlink > 1
	}
	return e.IsRegular()
}

// WriteEntry encodes e. Names must already be clean and shorter than
// MaxPath; e.Sum() must hold ChecksumLen bytes under AlwaysChecksum.
func (enc *Encoder) WriteEntry(w *wire.Writer, e *Entry) error {
	o := &enc.opts
	proto := o.Protocol

	name := e.AppendName(enc.scratch[:0])
	enc.scratch = name[:0]
	if len(name) == 0 || len(name) >= MaxPath {
		return fmt.Errorf("flist: cannot send name of %d bytes", len(name))
	}
	mode := e.Mode
	var xflags uint32
	if e.IsDir() {
		if proto >= 30 {
			switch {
			case e.Flags&FlagContentDir != 0:
				if e.Flags&FlagTopDir != 0 {
					xflags = xmitTopDir
				}
			case e.Flags&FlagImpliedDir != 0:
				xflags = xmitTopDir | xmitNoContentDir
			default:
				xflags = xmitNoContentDir
			}
		} else if e.Flags&FlagTopDir != 0 {
			xflags = xmitTopDir
		}
	}

	if mode == enc.mode {
		xflags |= xmitSameMode
	} else {
		enc.mode = mode
	}

	sendRdev := (o.PreserveDevices && isDevice(mode)) || (o.PreserveSpecials && isSpecial(mode) && proto < 31)
	switch {
	case o.PreserveDevices && isDevice(mode):
		major, minor := e.Rdev()
		if proto < 28 {
			if cur := [2]uint32{major, minor}; cur == enc.rdev {
				xflags |= xmitSameRdevPre28
			} else {
				enc.rdev = cur
			}
		} else {
			enc.rdev = [2]uint32{major, minor}
			if major == enc.rdevMaj {
				xflags |= xmitSameRdevMajor
			} else {
				enc.rdevMaj = major
			}
			if proto < 30 && minor <= 0xff {
				xflags |= xmitRdevMinor8Pre30
			}
		}
	case o.PreserveSpecials && isSpecial(mode) && proto < 31:
		// Specials need no rdev; send the cheapest historical form.
		if proto < 28 {
			xflags |= xmitSameRdevPre28
		} else {
			enc.rdev = [2]uint32{enc.rdevMaj, 0}
			xflags |= xmitSameRdevMajor
			if proto < 30 {
				xflags |= xmitRdevMinor8Pre30
			}
		}
	case proto < 28:
		enc.rdev = [2]uint32{}
	}

	first := len(enc.lastName) == 0
	var userName, groupName string
	if !o.PreserveUID || (e.UID == enc.uid && !first) {
		xflags |= xmitSameUID
	} else {
		enc.uid = e.UID
		if !o.NumericIDs {
			if n, isNew := enc.users.add(e.UID, enc.names.UserName); isNew && n != "" && o.IncRecurse() {
				userName = n
				xflags |= xmitUserNameFollows
			}
		}
	}
	if !o.PreserveGID || (e.GID == enc.gid && !first) {
		xflags |= xmitSameGID
	} else {
		enc.gid = e.GID
		if !o.NumericIDs {
			if n, isNew := enc.groups.add(e.GID, enc.names.GroupName); isNew && n != "" && o.IncRecurse() {
				groupName = n
				xflags |= xmitGroupNameFollow
			}
		}
	}
	if e.Mtime == enc.modtime {
		xflags |= xmitSameTime
	} else {
		enc.modtime = e.Mtime
	}
	if e.MtimeNsec != 0 && proto >= 31 {
		xflags |= xmitModNsec
	}
	if o.PreserveAtimes && !e.IsDir() {
		if e.Atime() == enc.atime {
			xflags |= xmitSameAtime
		} else {
			enc.atime = e.Atime()
		}
	}
	if o.PreserveCrtimes && e.Crtime() == enc.modtime {
		xflags |= xmitCrtimeEqMtime
	}

	firstHLink := int32(-1)
	idev := enc.hasIdev(e)
	dev, ino, _ := e.Inode()
	if idev {
		if proto >= 30 {
			key := [2]uint64{dev, ino}
			if enc.idev == nil {
				enc.idev = make(map[[2]uint64]int32)
			}
			if n, ok := enc.idev[key]; ok {
				firstHLink = n
			} else {
				enc.idev[key] = enc.ndxStart + enc.ndx
				xflags |= xmitHLinkFirst
			}
		} else if dev == enc.dev {
			if proto >= 28 {
				xflags |= xmitSameDevPre30
			}
		} else {
			enc.dev = dev
		}
		xflags |= xmitHLinked
	}

	l1 := 0
	for l1 < len(enc.lastName) && l1 < len(name) && l1 < 255 && name[l1] == enc.lastName[l1] {
		l1++
	}
	l2 := len(name) - l1
	if l1 > 0 {
		xflags |= xmitSameName
	}
	if l2 > 255 {
		xflags |= xmitLongName
	}

	// A zero flag value would end the list; XMIT_TOP_DIR means nothing on
	// a non-directory, so it pads the flags where needed.
	switch {
	case o.VarintFlags():
		if xflags == 0 {
			w.WriteVarint(xmitExtendedFlags)
		} else {
			w.WriteVarint(int32(xflags))
		}
	case proto >= 28:
		if xflags == 0 && !e.IsDir() {
			xflags |= xmitTopDir
		}
		if xflags&0xff00 != 0 || xflags == 0 {
			xflags |= xmitExtendedFlags
			w.WriteShortint(uint16(xflags))
		} else {
			w.WriteByte(byte(xflags))
		}
	default:
		if xflags&0xff == 0 {
			if e.IsDir() {
				xflags |= xmitLongName
			} else {
				xflags |= xmitTopDir
			}
		}
		w.WriteByte(byte(xflags))
	}
	if xflags&xmitSameName != 0 {
		w.WriteByte(byte(l1))
	}
	if xflags&xmitLongName != 0 {
		writeVarint30(w, o, int32(l2))
	} else {
		w.WriteByte(byte(l2))
	}
	w.Write(name[l1:])

	enc.lastName = append(enc.lastName[:0], name...)
	enc.ndx++

	if firstHLink >= 0 {
		w.WriteVarint(firstHLink)
		if firstHLink >= enc.ndxStart {
			return w.Err()
		}
	}

	writeVarlong30(w, o, e.Size, 3)
	if xflags&xmitSameTime == 0 {
		if proto >= 30 {
			w.WriteVarlong(e.Mtime, 4)
		} else {
			w.WriteInt(int32(e.Mtime))
		}
	}
	if xflags&xmitModNsec != 0 {
		w.WriteVarint(int32(e.MtimeNsec))
	}
	if o.PreserveCrtimes && xflags&xmitCrtimeEqMtime == 0 {
		w.WriteVarlong(e.Crtime(), 4)
	}
	if xflags&xmitSameMode == 0 {
		w.WriteInt(int32(mode))
	}
	if o.PreserveAtimes && !e.IsDir() && xflags&xmitSameAtime == 0 {
		w.WriteVarlong(e.Atime(), 4)
	}
	if o.PreserveUID && xflags&xmitSameUID == 0 {
		if proto < 30 {
			w.WriteInt(int32(e.UID))
		} else {
			w.WriteVarint(int32(e.UID))
			if xflags&xmitUserNameFollows != 0 {
				w.WriteByte(byte(len(userName)))
				enc.scratch = append(enc.scratch[:0], userName...)
				w.Write(enc.scratch)
			}
		}
	}
	if o.PreserveGID && xflags&xmitSameGID == 0 {
		if proto < 30 {
			w.WriteInt(int32(e.GID))
		} else {
			w.WriteVarint(int32(e.GID))
			if xflags&xmitGroupNameFollow != 0 {
				w.WriteByte(byte(len(groupName)))
				enc.scratch = append(enc.scratch[:0], groupName...)
				w.Write(enc.scratch)
			}
		}
	}
	if sendRdev {
		if proto < 28 {
			if xflags&xmitSameRdevPre28 == 0 {
				w.WriteInt(int32(uint32(unix.Mkdev(enc.rdev[0], enc.rdev[1]))))
			}
		} else {
			if xflags&xmitSameRdevMajor == 0 {
				writeVarint30(w, o, int32(enc.rdev[0]))
			}
			switch {
			case proto >= 30:
				w.WriteVarint(int32(enc.rdev[1]))
			case xflags&xmitRdevMinor8Pre30 != 0:
				w.WriteByte(byte(enc.rdev[1]))
			default:
				w.WriteInt(int32(enc.rdev[1]))
			}
		}
	}
	if o.PreserveLinks && e.IsSymlink() {
		target := e.LinkTarget()
		if len(target) == 0 || len(target) >= MaxPath {
			return fmt.Errorf("flist: %s: cannot send symlink target of %d bytes", name, len(target))
		}
		writeVarint30(w, o, int32(len(target)))
		enc.scratch = append(enc.scratch[:0], target...)
		w.Write(enc.scratch)
	}
	if idev && proto < 30 {
		// Older protocols send dev+1 so that it is never zero.
		if xflags&xmitSameDevPre30 == 0 {
			w.WriteLongint(int64(enc.dev + 1))
		}
		w.WriteLongint(int64(ino))
	}
	if o.AlwaysChecksum && (e.IsRegular() || proto < 28) {
		n := o.sumLen()
		if sum := e.Sum(); e.IsRegular() && len(sum) >= n {
			w.Write(sum[:n])
		} else {
			enc.scratch = append(enc.scratch[:0], make([]byte, n)...)
			w.Write(enc.scratch)
		}
	}
	return w.Err()
}

// WriteEnd writes the end-of-list marker. With a nonzero ioError and a
// peer that takes it in the marker (SafeFlist), the error rides along;
// otherwise the caller reports it as rsync does (see WriteListEnd).
// rsync: flist.c write_end_of_flist
func (enc *Encoder) WriteEnd(w *wire.Writer, ioError int32) {
	send := ioError != 0 && enc.opts.SafeFlist()
	switch {
	case enc.opts.VarintFlags():
		w.WriteVarint(0)
		if send {
			w.WriteVarint(ioError)
		} else {
			w.WriteVarint(0)
		}
	case send:
		w.WriteShortint(xmitExtendedFlags | xmitIOErrorEndList)
		w.WriteVarint(ioError)
	default:
		w.WriteByte(0)
	}
}

// WriteIDLists writes the uid and gid name lists that follow a complete
// (non-incremental) file list; nothing with --numeric-ids.
// rsync: uidlist.c send_id_lists
func (enc *Encoder) WriteIDLists(w *wire.Writer) {
	o := &enc.opts
	if o.NumericIDs {
		return
	}
	if o.PreserveUID {
		name0 := ""
		if o.ID0Names() {
			name0 = enc.names.UserName(0)
		}
		writeIDList(w, o, &enc.users, name0)
	}
	if o.PreserveGID {
		name0 := ""
		if o.ID0Names() {
			name0 = enc.names.GroupName(0)
		}
		writeIDList(w, o, &enc.groups, name0)
	}
}

// WriteListEnd writes everything send_file_list sends after the last entry
// of the first list: the end marker, the id lists, and before protocol 30
// the io_error int. It reports whether the caller must still send ioError
// as an MSG_IO_ERROR message (protocol 30 without a safe flist).
func (enc *Encoder) WriteListEnd(w *wire.Writer, ioError int32) (needMsg bool, err error) {
	enc.WriteEnd(w, ioError)
	if !enc.opts.IncRecurse() {
		enc.WriteIDLists(w)
	}
	if enc.opts.Protocol < 30 {
		w.WriteInt(ioError)
	} else if ioError != 0 && !enc.opts.SafeFlist() {
		needMsg = true
	}
	return needMsg, w.Err()
}
