package flist

import "strings"

// Unix file-type bits of st_mode, as rsync puts them on the wire.
const (
	ModeTypeMask uint32 = 0o170000
	ModeSocket   uint32 = 0o140000
	ModeSymlink  uint32 = 0o120000
	ModeRegular  uint32 = 0o100000
	ModeBlock    uint32 = 0o060000
	ModeDir      uint32 = 0o040000
	ModeChar     uint32 = 0o020000
	ModeFIFO     uint32 = 0o010000
)

// MaxPath is rsync's MAXPATHLEN on Linux: no name or symlink target in a
// file list may reach it.
const MaxPath = 4096

// Entry flags. They are this package's own bits (rsync reuses FLAG_* bits
// per role); only their meaning follows rsync.h.
const (
	// FlagTopDir marks a directory named on the command line (FLAG_TOP_DIR).
	FlagTopDir uint32 = 1 << iota
	// FlagContentDir marks a directory whose contents are in the list, so
	// the receiver may delete within it (FLAG_CONTENT_DIR).
	FlagContentDir
	// FlagImpliedDir marks a directory sent only as a parent of a
	// --relative path (FLAG_IMPLIED_DIR).
	FlagImpliedDir
	// FlagMountDir marks a directory on another filesystem under -x
	// (FLAG_MOUNT_DIR); it is not descended into.
	FlagMountDir
	// FlagDuplicate marks a directory the sender found twice
	// (FLAG_DUPLICATE, incremental recursion only).
	FlagDuplicate
	// FlagHLinked marks a member of a hard-link group (FLAG_HLINKED);
	// HLinkGroup names the group.
	FlagHLinked
	// FlagHLinkFirst marks the first member of a hard-link group seen on
	// the wire (XMIT_HLINK_FIRST, protocol 30 and later).
	FlagHLinkFirst
	// FlagSkipGroup tells the receiver not to set this entry's group: we
	// are not root and not a member of it (FLAG_SKIP_GROUP).
	FlagSkipGroup
	// FlagMissing marks a --delete-missing-args entry with mode 0.
	FlagMissing
	// FlagCleared marks an entry removed by cleaning: it keeps its index
	// but is no longer active (rsync's clear_file).
	FlagCleared
)

// Entry is one file-list item. Entries of one directory share a single
// Dir string, so a large list costs one name per entry plus one per
// directory. Times are Unix seconds; MtimeNsec != 0 is rsync's
// FLAG_MOD_NSEC.
//
// The fields every transfer uses are plain fields; what few entries carry
// (a symlink's target, a device's numbers, a --checksum sum, atime and
// crtime, hard-link identity, ACL and xattr indexes) lives in an extension
// that only those entries allocate, behind accessor methods. A copy of an
// Entry shares its extension: set those attributes on one entry only.
type Entry struct {
	// Dir is the directory part of the name without a trailing slash, ""
	// for a top-level name; Base is the last component ("." for the
	// transfer root).
	Dir, Base string

	Size      int64
	Mtime     int64
	MtimeNsec uint32
	// Mode is the Unix st_mode including the file-type bits.
	Mode  uint32
	UID   uint32
	GID   uint32
	Flags uint32

	// Root indexes List.Roots: the sender-side directory this entry's name
	// is relative to.
	Root int32

	x *entryExt
}

// entryExt holds the attributes most entries lack (see Entry).
type entryExt struct {
	linkTarget string
	sum        []byte
	atime      int64
	crtime     int64
	// dev, ino and nlink identify hard links on the sender.
	dev, ino             uint64
	nlink                uint32
	rdevMajor, rdevMinor uint32
	// hlinkGroup is the receiver's hard-link group number (F_HL_GNUM).
	hlinkGroup int32
	// acl and xattr index the connection's ACL table (an access ACL and,
	// for a directory, a default ACL) and xattr table; -1 when absent.
	acl, xattr int32
}

// ext returns e's extension, allocating it on first use.
func (e *Entry) ext() *entryExt {
	if e.x == nil {
		e.x = &entryExt{acl: -1, xattr: -1}
	}
	return e.x
}

// LinkTarget returns a symlink's target (sent only with --links), or "".
func (e *Entry) LinkTarget() string {
	if e.x == nil {
		return ""
	}
	return e.x.linkTarget
}

// SetLinkTarget sets a symlink's target.
func (e *Entry) SetLinkTarget(t string) {
	if t != "" || e.x != nil {
		e.ext().linkTarget = t
	}
}

// Sum returns the whole-file checksum sent with --checksum (regular files
// only), or nil.
func (e *Entry) Sum() []byte {
	if e.x == nil {
		return nil
	}
	return e.x.sum
}

// SetSum sets the whole-file checksum; e keeps sum, not a copy.
func (e *Entry) SetSum(sum []byte) {
	if sum != nil || e.x != nil {
		e.ext().sum = sum
	}
}

// Atime returns the access time sent with --atimes (non-directories).
func (e *Entry) Atime() int64 {
	if e.x == nil {
		return 0
	}
	return e.x.atime
}

// SetAtime sets the access time.
func (e *Entry) SetAtime(t int64) {
	if t != 0 || e.x != nil {
		e.ext().atime = t
	}
}

// Crtime returns the creation time sent with --crtimes.
func (e *Entry) Crtime() int64 {
	if e.x == nil {
		return 0
	}
	return e.x.crtime
}

// SetCrtime sets the creation time.
func (e *Entry) SetCrtime(t int64) {
	if t != 0 || e.x != nil {
		e.ext().crtime = t
	}
}

// Rdev returns a device's major and minor numbers.
func (e *Entry) Rdev() (major, minor uint32) {
	if e.x == nil {
		return 0, 0
	}
	return e.x.rdevMajor, e.x.rdevMinor
}

// SetRdev sets a device's numbers.
func (e *Entry) SetRdev(major, minor uint32) {
	if major != 0 || minor != 0 || e.x != nil {
		x := e.ext()
		x.rdevMajor, x.rdevMinor = major, minor
	}
}

// Inode returns the device, inode and link count that identify hard links
// on the sender (kept for -H).
func (e *Entry) Inode() (dev, ino uint64, nlink uint32) {
	if e.x == nil {
		return 0, 0, 0
	}
	return e.x.dev, e.x.ino, e.x.nlink
}

// SetInode sets the hard-link identity.
func (e *Entry) SetInode(dev, ino uint64, nlink uint32) {
	if dev != 0 || ino != 0 || nlink != 0 || e.x != nil {
		x := e.ext()
		x.dev, x.ino, x.nlink = dev, ino, nlink
	}
}

// HLinkGroup returns the receiver's hard-link group number (F_HL_GNUM) of
// an entry with FlagHLinked.
func (e *Entry) HLinkGroup() int32 {
	if e.x == nil {
		return 0
	}
	return e.x.hlinkGroup
}

// SetHLinkGroup sets the hard-link group number.
func (e *Entry) SetHLinkGroup(g int32) {
	if g != 0 || e.x != nil {
		e.ext().hlinkGroup = g
	}
}

// ACL returns the entry's index in the connection's ACL table, -1 when it
// has none (reserved for --acls).
func (e *Entry) ACL() int32 {
	if e.x == nil {
		return -1
	}
	return e.x.acl
}

// SetACL sets the ACL table index.
func (e *Entry) SetACL(i int32) {
	if i != -1 || e.x != nil {
		e.ext().acl = i
	}
}

// Xattr returns the entry's index in the connection's xattr table, -1 when
// it has none (reserved for --xattrs).
func (e *Entry) Xattr() int32 {
	if e.x == nil {
		return -1
	}
	return e.x.xattr
}

// SetXattr sets the xattr table index.
func (e *Entry) SetXattr(i int32) {
	if i != -1 || e.x != nil {
		e.ext().xattr = i
	}
}

// Name returns the entry's path within the transfer, dir/base.
func (e *Entry) Name() string {
	if e.Dir == "" {
		return e.Base
	}
	return e.Dir + "/" + e.Base
}

// AppendName appends Name to buf without an intermediate string.
func (e *Entry) AppendName(buf []byte) []byte {
	if e.Dir != "" {
		buf = append(buf, e.Dir...)
		buf = append(buf, '/')
	}
	return append(buf, e.Base...)
}

// Type returns the file-type bits of Mode.
func (e *Entry) Type() uint32 { return e.Mode & ModeTypeMask }

// IsDir reports whether the entry is a directory.
func (e *Entry) IsDir() bool { return e.Mode&ModeTypeMask == ModeDir }

// IsRegular reports whether the entry is a regular file.
func (e *Entry) IsRegular() bool { return e.Mode&ModeTypeMask == ModeRegular }

// IsSymlink reports whether the entry is a symbolic link.
func (e *Entry) IsSymlink() bool { return e.Mode&ModeTypeMask == ModeSymlink }

// IsDevice reports whether the entry is a character or block device.
func (e *Entry) IsDevice() bool { return isDevice(e.Mode) }

// IsSpecial reports whether the entry is a FIFO or a socket.
func (e *Entry) IsSpecial() bool { return isSpecial(e.Mode) }

// Active reports whether cleaning left the entry in the list.
func (e *Entry) Active() bool { return e.Flags&FlagCleared == 0 }

func isDevice(mode uint32) bool {
	t := mode & ModeTypeMask
	return t == ModeChar || t == ModeBlock
}

func isSpecial(mode uint32) bool {
	t := mode & ModeTypeMask
	return t == ModeFIFO || t == ModeSocket
}

func validType(mode uint32) bool {
	switch mode & ModeTypeMask {
	case ModeRegular, ModeDir, ModeSymlink, ModeChar, ModeBlock, ModeFIFO, ModeSocket:
		return true
	}
	return false
}

// splitName splits a cleaned name into its directory and base. A
// --relative name directly below "/" keeps its slash in the base, as the
// empty directory part of rsync's "/name" does.
func splitName(name string) (dir, base string) {
	if i := strings.LastIndexByte(name, '/'); i > 0 {
		return name[:i], name[i+1:]
	}
	return "", name
}
