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
type Entry struct {
	// Dir is the directory part of the name without a trailing slash, ""
	// for a top-level name; Base is the last component ("." for the
	// transfer root).
	Dir, Base string
	// LinkTarget is a symlink's target (sent only with --links).
	LinkTarget string
	// Sum is the whole-file checksum sent with --checksum, for regular
	// files only.
	Sum []byte

	Size      int64
	Mtime     int64
	Atime     int64
	Crtime    int64
	MtimeNsec uint32
	// Mode is the Unix st_mode including the file-type bits.
	Mode uint32
	UID  uint32
	GID  uint32
	// RdevMajor and RdevMinor are a device's numbers.
	RdevMajor, RdevMinor uint32
	Flags                uint32

	// Dev, Ino and Nlink identify hard links on the sender; HLinkGroup is
	// the receiver's hard-link group number (F_HL_GNUM).
	Nlink      uint32
	Dev, Ino   uint64
	HLinkGroup int32

	// ACL and Xattr index the connection's ACL table (an access ACL and,
	// for a directory, a default ACL) and xattr table; -1 when absent.
	// Reserved for --acls and --xattrs.
	ACL, Xattr int32

	// Root indexes List.Roots: the sender-side directory this entry's name
	// is relative to.
	Root int32
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
