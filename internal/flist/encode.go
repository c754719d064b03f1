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
	dev      uint64    // protocols before 30: last hard-link device

	// ndx counts entries written to the current list; with NdxStart it
	// gives the wire index a hard-link follower refers to.
	ndx      int32
	ndxStart int32
	idev     map[[2]uint64]int32

	// maxEntries is how many entries a list may hold (Options.ListCap).
	maxEntries int64

	users, groups idSender
	scratch       []byte // the current name, reused so nothing escapes per entry
}

// idSender is the sender's state for one of uid and gid: the previous
// entry's id, the ids seen for the id list, and the flag bits and name
// lookup of its kind.
type idSender struct {
	idList
	last    uint32
	same    uint32 // XMIT_SAME_UID or XMIT_SAME_GID
	follows uint32 // XMIT_USER_NAME_FOLLOWS or XMIT_GROUP_NAME_FOLLOWS
	lookup  func(uint32) string
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
	return &Encoder{
		opts:     opts,
		names:    names,
		lastName: make([]byte, 0, MaxPath),
		scratch:  make([]byte, 0, MaxPath),
		users:    idSender{same: xmitSameUID, follows: xmitUserNameFollows, lookup: names.UserName},
		groups:   idSender{same: xmitSameGID, follows: xmitGroupNameFollow, lookup: names.GroupName},

		maxEntries: opts.ListCap(),
	}, nil
}

// StartList begins a new file list whose first entry has wire index
// ndxStart (0 without incremental recursion).
func (enc *Encoder) StartList(ndxStart int32) {
	enc.ndx = 0
	enc.ndxStart = ndxStart
}

// entryOut is what WriteEntry works out about an entry before it writes
// the flags: the parts of the entry the flags announce.
type entryOut struct {
	xflags uint32
	// l1 is how many bytes the name shares with the previous one.
	l1 int
	// userName and groupName follow their ids (incremental recursion).
	userName, groupName string
	// sendRdev: device numbers (or a special's dummy) go out.
	sendRdev bool
	// idev: the hard-link dev and inode go out (protocols before 30), or
	// the entry joins a group (30 and later).
	idev bool
	// firstHLink is the wire index of the hard-link group's first
	// member, or -1: the entry is then sent abbreviated.
	firstHLink int32
}

// WriteEntry encodes e. Names must already be clean and shorter than
// MaxPath; e.Sum() must hold ChecksumLen bytes under AlwaysChecksum. It
// works out the flags part by part, as send_file_entry does, then writes
// the parts in wire order. rsync: flist.c send_file_entry
func (enc *Encoder) WriteEntry(w *wire.Writer, e *Entry) error {
	if int64(enc.ndx) >= enc.maxEntries {
		return allocError("sender", enc.opts.MaxAlloc)
	}
	name := e.AppendName(enc.scratch[:0])
	enc.scratch = name[:0]
	if len(name) == 0 || len(name) >= MaxPath {
		return fmt.Errorf("flist: cannot send name of %d bytes", len(name))
	}
	out := entryOut{xflags: enc.dirFlags(e) | enc.modeFlags(e.Mode), firstHLink: -1}
	enc.rdevFlags(&out, e)
	enc.idFlags(&out, e)
	out.xflags |= enc.timeFlags(e)
	enc.hlinkFlags(&out, e)
	enc.nameFlags(&out, name)

	out.xflags = enc.writeFlags(w, out.xflags, e.IsDir())
	enc.writeName(w, &out, name)
	enc.ndx++
	if out.firstHLink >= 0 {
		// A follower in this list is sent abbreviated: the receiver
		// copies the rest from the group's first member.
		w.WriteVarint(out.firstHLink)
		if out.firstHLink >= enc.ndxStart {
			return w.Err()
		}
	}
	enc.writeAttrs(w, &out, e)
	if err := enc.writeLink(w, e); err != nil {
		return err
	}
	enc.writeIdev(w, &out, e)
	enc.writeSum(w, e)
	return w.Err()
}

// dirFlags returns a directory's XMIT_TOP_DIR and, from protocol 30,
// XMIT_NO_CONTENT_DIR (an implied directory is both).
// rsync: flist.c send_file_entry
func (enc *Encoder) dirFlags(e *Entry) uint32 {
	switch {
	case !e.IsDir():
		return 0
	case enc.opts.Protocol < 30:
		if e.Flags&FlagTopDir != 0 {
			return xmitTopDir
		}
		return 0
	case e.Flags&FlagContentDir != 0:
		if e.Flags&FlagTopDir != 0 {
			return xmitTopDir
		}
		return 0
	case e.Flags&FlagImpliedDir != 0:
		return xmitTopDir | xmitNoContentDir
	default:
		return xmitNoContentDir
	}
}

// modeFlags returns XMIT_SAME_MODE when mode repeats the previous entry's.
// rsync: flist.c send_file_entry
func (enc *Encoder) modeFlags(mode uint32) uint32 {
	if mode == enc.mode {
		return xmitSameMode
	}
	enc.mode = mode
	return 0
}

// rdevFlags decides whether a device's numbers go out and how: before
// protocol 28 XMIT_SAME_RDEV_pre28 for a repeat, from 28 on
// XMIT_SAME_RDEV_MAJOR and, before 30, XMIT_RDEV_MINOR_8_pre30 for a minor
// that fits a byte. A special carries a dummy rdev before protocol 31.
// rsync: flist.c send_file_entry
func (enc *Encoder) rdevFlags(out *entryOut, e *Entry) {
	o := &enc.opts
	proto := o.Protocol
	switch {
	case o.PreserveDevices && isDevice(e.Mode):
		out.sendRdev = true
		major, minor := e.Rdev()
		if proto < 28 {
			if cur := [2]uint32{major, minor}; cur == enc.rdev {
				out.xflags |= xmitSameRdevPre28
			} else {
				enc.rdev = cur
			}
			return
		}
		enc.rdev = [2]uint32{major, minor}
		if major == enc.rdevMaj {
			out.xflags |= xmitSameRdevMajor
		} else {
			enc.rdevMaj = major
		}
		if proto < 30 && minor <= 0xff {
			out.xflags |= xmitRdevMinor8Pre30
		}
	case o.PreserveSpecials && isSpecial(e.Mode) && proto < 31:
		// Specials need no rdev; send the cheapest historical form.
		out.sendRdev = true
		if proto < 28 {
			out.xflags |= xmitSameRdevPre28
			return
		}
		enc.rdev = [2]uint32{enc.rdevMaj, 0}
		out.xflags |= xmitSameRdevMajor
		if proto < 30 {
			out.xflags |= xmitRdevMinor8Pre30
		}
	case proto < 28:
		enc.rdev = [2]uint32{}
	}
}

// idFlags sets the uid's and gid's bits and the names that follow them.
func (enc *Encoder) idFlags(out *entryOut, e *Entry) {
	o := &enc.opts
	first := len(enc.lastName) == 0
	uf, un := enc.users.flags(o, o.PreserveUID, e.UID, first)
	gf, gn := enc.groups.flags(o, o.PreserveGID, e.GID, first)
	out.xflags |= uf | gf
	out.userName, out.groupName = un, gn
}

// flags returns the bits for an entry's id: the kind's XMIT_SAME_* when
// ids are not sent or id repeats the previous entry's (never on the first
// entry), else its *_NAME_FOLLOWS with the name when the id is new and
// named under incremental recursion. rsync: flist.c send_file_entry,
// uidlist.c add_uid and add_gid
func (s *idSender) flags(o *Options, preserve bool, id uint32, first bool) (uint32, string) {
	if !preserve || (id == s.last && !first) {
		return s.same, ""
	}
	s.last = id
	if !o.NumericIDs {
		if n, isNew := s.add(id, s.lookup); isNew && n != "" && o.IncRecurse() {
			return s.follows, n
		}
	}
	return 0, ""
}

// timeFlags returns XMIT_SAME_TIME, XMIT_MOD_NSEC (protocol 31),
// XMIT_SAME_ATIME and XMIT_CRTIME_EQ_MTIME as they apply to e.
// rsync: flist.c send_file_entry
func (enc *Encoder) timeFlags(e *Entry) uint32 {
	o := &enc.opts
	var xflags uint32
	if e.Mtime == enc.modtime {
		xflags |= xmitSameTime
	} else {
		enc.modtime = e.Mtime
	}
	if e.MtimeNsec != 0 && o.Protocol >= 31 {
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
	return xflags
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

// hlinkFlags sets XMIT_HLINKED for a hard-link candidate. From protocol 30
// the first member of a group gets XMIT_HLINK_FIRST and the others point
// at it (firstHLink); before that XMIT_SAME_DEV_pre30 abbreviates a
// repeated device. rsync: flist.c send_file_entry, hlink.c idev_find
func (enc *Encoder) hlinkFlags(out *entryOut, e *Entry) {
	if out.idev = enc.hasIdev(e); !out.idev {
		return
	}
	proto := enc.opts.Protocol
	dev, ino, _ := e.Inode()
	switch {
	case proto >= 30:
		key := [2]uint64{dev, ino}
		if enc.idev == nil {
			enc.idev = make(map[[2]uint64]int32)
		}
		if n, ok := enc.idev[key]; ok {
			out.firstHLink = n
		} else {
			enc.idev[key] = enc.ndxStart + enc.ndx
			out.xflags |= xmitHLinkFirst
		}
	case dev == enc.dev:
		if proto >= 28 {
			out.xflags |= xmitSameDevPre30
		}
	default:
		enc.dev = dev
	}
	out.xflags |= xmitHLinked
}

// nameFlags finds the prefix name shares with the previous name (at most
// 255 bytes) and sets XMIT_SAME_NAME and XMIT_LONG_NAME for it.
// rsync: flist.c send_file_entry
func (enc *Encoder) nameFlags(out *entryOut, name []byte) {
	l1 := 0
	for l1 < len(enc.lastName) && l1 < len(name) && l1 < 255 && name[l1] == enc.lastName[l1] {
		l1++
	}
	out.l1 = l1
	if l1 > 0 {
		out.xflags |= xmitSameName
	}
	if len(name)-l1 > 255 {
		out.xflags |= xmitLongName
	}
}

// writeFlags writes the flags and returns them as sent. A zero value would
// end the list, so a bit that means nothing on the entry pads it:
// XMIT_TOP_DIR on a non-directory, before protocol 28 XMIT_LONG_NAME on a
// directory (whose name length then goes out long).
// rsync: flist.c send_file_entry
func (enc *Encoder) writeFlags(w *wire.Writer, xflags uint32, isDir bool) uint32 {
	switch {
	case enc.opts.VarintFlags():
		if xflags == 0 {
			w.WriteVarint(xmitExtendedFlags)
		} else {
			w.WriteVarint(int32(xflags))
		}
	case enc.opts.Protocol >= 28:
		if xflags == 0 && !isDir {
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
			if isDir {
				xflags |= xmitLongName
			} else {
				xflags |= xmitTopDir
			}
		}
		w.WriteByte(byte(xflags))
	}
	return xflags
}

// writeName writes the name as the length of the prefix shared with the
// previous name, the length of the rest, and the rest, and keeps it for
// the next entry. rsync: flist.c send_file_entry
func (enc *Encoder) writeName(w *wire.Writer, out *entryOut, name []byte) {
	l2 := len(name) - out.l1
	if out.xflags&xmitSameName != 0 {
		w.WriteByte(byte(out.l1))
	}
	if out.xflags&xmitLongName != 0 {
		writeVarint30(w, &enc.opts, int32(l2))
	} else {
		w.WriteByte(byte(l2))
	}
	w.Write(name[out.l1:])
	enc.lastName = append(enc.lastName[:0], name...)
}

// writeAttrs writes what the flags did not abbreviate of the size, the
// times, the mode, the ids with their names and the rdev, in that order.
// rsync: flist.c send_file_entry
func (enc *Encoder) writeAttrs(w *wire.Writer, out *entryOut, e *Entry) {
	o := &enc.opts
	xflags := out.xflags
	writeVarlong30(w, o, e.Size, 3)
	if xflags&xmitSameTime == 0 {
		if o.Protocol >= 30 {
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
		w.WriteInt(int32(e.Mode))
	}
	if o.PreserveAtimes && !e.IsDir() && xflags&xmitSameAtime == 0 {
		w.WriteVarlong(e.Atime(), 4)
	}
	if o.PreserveUID && xflags&xmitSameUID == 0 {
		enc.writeID(w, e.UID, out.userName)
	}
	if o.PreserveGID && xflags&xmitSameGID == 0 {
		enc.writeID(w, e.GID, out.groupName)
	}
	if out.sendRdev {
		enc.writeRdev(w, xflags)
	}
}

// writeID writes a uid or gid, and from protocol 30 the name that follows
// it when there is one. rsync: flist.c send_file_entry
func (enc *Encoder) writeID(w *wire.Writer, id uint32, name string) {
	writeVarint30(w, &enc.opts, int32(id))
	if name != "" && enc.opts.Protocol >= 30 {
		w.WriteByte(byte(len(name)))
		enc.writeString(w, name)
	}
}

// writeRdev writes the device numbers rdevFlags kept: one int before
// protocol 28, then the major unless repeated and the minor as a varint
// (30+), a byte or an int. rsync: flist.c send_file_entry
func (enc *Encoder) writeRdev(w *wire.Writer, xflags uint32) {
	o := &enc.opts
	if o.Protocol < 28 {
		if xflags&xmitSameRdevPre28 == 0 {
			w.WriteInt(int32(uint32(unix.Mkdev(enc.rdev[0], enc.rdev[1]))))
		}
		return
	}
	if xflags&xmitSameRdevMajor == 0 {
		writeVarint30(w, o, int32(enc.rdev[0]))
	}
	switch {
	case o.Protocol >= 30:
		w.WriteVarint(int32(enc.rdev[1]))
	case xflags&xmitRdevMinor8Pre30 != 0:
		w.WriteByte(byte(enc.rdev[1]))
	default:
		w.WriteInt(int32(enc.rdev[1]))
	}
}

// writeLink writes a symlink's target under --links.
// rsync: flist.c send_file_entry
func (enc *Encoder) writeLink(w *wire.Writer, e *Entry) error {
	if !enc.opts.PreserveLinks || !e.IsSymlink() {
		return nil
	}
	target := e.LinkTarget()
	if len(target) == 0 || len(target) >= MaxPath {
		return fmt.Errorf("flist: %s: cannot send symlink target of %d bytes", e.Name(), len(target))
	}
	writeVarint30(w, &enc.opts, int32(len(target)))
	enc.writeString(w, target)
	return nil
}

// writeIdev writes a hard-link candidate's device (plus one, so that it
// is never zero; left out when repeated) and inode before protocol 30.
// rsync: flist.c send_file_entry
func (enc *Encoder) writeIdev(w *wire.Writer, out *entryOut, e *Entry) {
	if !out.idev || enc.opts.Protocol >= 30 {
		return
	}
	if out.xflags&xmitSameDevPre30 == 0 {
		w.WriteLongint(int64(enc.dev + 1))
	}
	_, ino, _ := e.Inode()
	w.WriteLongint(int64(ino))
}

// writeSum writes a regular file's whole-file checksum under --checksum;
// before protocol 28 every entry carries one, zeros but for regular files.
// rsync: flist.c send_file_entry
func (enc *Encoder) writeSum(w *wire.Writer, e *Entry) {
	o := &enc.opts
	if !o.AlwaysChecksum || (!e.IsRegular() && o.Protocol >= 28) {
		return
	}
	n := o.sumLen()
	if sum := e.Sum(); e.IsRegular() && len(sum) >= n {
		w.Write(sum[:n])
		return
	}
	enc.scratch = append(enc.scratch[:0], make([]byte, n)...)
	w.Write(enc.scratch)
}

// writeString writes s through the scratch buffer, as w.Write takes bytes
// and converting s would allocate.
func (enc *Encoder) writeString(w *wire.Writer, s string) {
	enc.scratch = append(enc.scratch[:0], s...)
	w.Write(enc.scratch)
}

// SafeFlist reports whether a list's end marker may carry I/O error bits
// (Options.SafeFlist).
func (enc *Encoder) SafeFlist() bool { return enc.opts.SafeFlist() }

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
		writeIDList(w, o, &enc.users.idList, name0)
	}
	if o.PreserveGID {
		name0 := ""
		if o.ID0Names() {
			name0 = enc.names.GroupName(0)
		}
		writeIDList(w, o, &enc.groups.idList, name0)
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
