package flist

import "fmt"

// Protocol versions this package encodes.
const (
	MinProtocol = 27
	MaxProtocol = 32
)

// Compat flags from rsync's compat.c that change the file-list encoding.
const (
	CFIncRecurse       = 1 << 0 // CF_INC_RECURSE
	CFSafeFlist        = 1 << 3 // CF_SAFE_FLIST
	CFVarintFlistFlags = 1 << 7 // CF_VARINT_FLIST_FLAGS
	CFID0Names         = 1 << 8 // CF_ID0_NAMES
)

// Bounds on what a peer may make us allocate.
const (
	maxChecksumLen      = 64      // longest whole-file sum (SHA-512)
	defaultFlistSumLen  = 16      // MD4/MD5
	maxIDListEntries    = 1 << 22 // distinct ids in the uid or gid list
	maxEntriesPerDecode = 1 << 26 // entries in one file list
)

// Options holds everything that changes how a file list is encoded. Both
// sides of a connection must use equal Options; the protocol package derives
// them from the negotiated protocol, compat flags and the transfer options.
type Options struct {
	// Protocol is the negotiated protocol version, 27 to 32.
	Protocol int
	// CompatFlags are the protocol-30 compat flags (CF_*); ignored before 30.
	CompatFlags int

	Recurse           bool // -r: affects content-dir flags before protocol 30
	PreserveUID       bool // -o
	PreserveGID       bool // -g
	PreserveLinks     bool // -l
	PreserveDevices   bool // --devices
	PreserveSpecials  bool // --specials
	PreserveHardLinks bool // -H
	PreserveAtimes    bool // --atimes
	PreserveCrtimes   bool // --crtimes (needs varint flags)
	// AlwaysChecksum is --checksum: regular files carry a ChecksumLen-byte
	// whole-file sum (flist_csum_len).
	AlwaysChecksum bool
	ChecksumLen    int
	// NumericIDs is --numeric-ids: no user or group names are sent.
	NumericIDs bool
	// RelativePaths is --relative: absolute names are allowed.
	RelativePaths bool
	// SanitizePaths cleans received names and symlinks like a daemon
	// without chroot (rsync's sanitize_paths).
	SanitizePaths bool
	// MungeSymlinks prefixes received symlink targets with "/rsyncd-munged/".
	MungeSymlinks bool
	// DeleteMissingArgs accepts mode-0 entries (--delete-missing-args).
	DeleteMissingArgs bool
	// MaxAlloc is --max-alloc in bytes (0: rsync's default), which
	// bounds how many entries one list may hold (see ListCap).
	MaxAlloc int64
}

// IncRecurse reports whether incremental recursion was negotiated.
func (o *Options) IncRecurse() bool {
	return o.Protocol >= 30 && o.CompatFlags&CFIncRecurse != 0
}

// VarintFlags reports whether entry flags travel as varints
// (CF_VARINT_FLIST_FLAGS, xfer_flags_as_varint).
func (o *Options) VarintFlags() bool {
	return o.Protocol >= 30 && o.CompatFlags&CFVarintFlistFlags != 0
}

// SafeFlist reports whether the end-of-list marker may carry an I/O error
// (use_safe_inc_flist: protocol 31, or 30 with CF_SAFE_FLIST).
func (o *Options) SafeFlist() bool {
	return o.Protocol >= 31 || (o.Protocol == 30 && o.CompatFlags&CFSafeFlist != 0)
}

// ID0Names reports whether the id lists end with the names of id 0
// (CF_ID0_NAMES, xmit_id0_names).
func (o *Options) ID0Names() bool {
	return o.Protocol >= 30 && o.CompatFlags&CFID0Names != 0
}

// Validate checks that the options describe an encoding this package
// implements.
func (o *Options) Validate() error {
	if o.Protocol < MinProtocol || o.Protocol > MaxProtocol {
		return fmt.Errorf("flist: protocol %d not supported (%d-%d)", o.Protocol, MinProtocol, MaxProtocol)
	}
	if o.AlwaysChecksum && (o.ChecksumLen <= 0 || o.ChecksumLen > maxChecksumLen) {
		return fmt.Errorf("flist: checksum length %d out of range", o.ChecksumLen)
	}
	if o.PreserveCrtimes && !o.VarintFlags() {
		return fmt.Errorf("flist: --crtimes needs varint flist flags (rsync 3.2.0 or later on both sides)")
	}
	return nil
}

func (o *Options) sumLen() int {
	if o.ChecksumLen > 0 {
		return o.ChecksumLen
	}
	return defaultFlistSumLen
}

// MissingArgs is rsync's missing_args: what becomes of a source argument
// that does not exist.
type MissingArgs int8

// MissingArgs values.
const (
	// MissingIsError reports the argument as a vanished file (exit 23).
	MissingIsError MissingArgs = iota
	// IgnoreMissing skips it quietly (--ignore-missing-args).
	IgnoreMissing
	// DeleteMissing sends it as a mode-0 entry whose destination the
	// receiver deletes (--delete-missing-args).
	DeleteMissing
)
