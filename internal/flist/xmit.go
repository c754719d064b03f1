package flist

// Per-entry transmit flags, rsync.h XMIT_*. Several bits mean different
// things in different protocols.
const (
	xmitTopDir          = 1 << 0
	xmitSameMode        = 1 << 1
	xmitSameRdevPre28   = 1 << 2 // protocols 20-27
	xmitExtendedFlags   = 1 << 2 // protocols 28+
	xmitSameUID         = 1 << 3
	xmitSameGID         = 1 << 4
	xmitSameName        = 1 << 5
	xmitLongName        = 1 << 6
	xmitSameTime        = 1 << 7
	xmitSameRdevMajor   = 1 << 8  // protocols 28+, devices
	xmitNoContentDir    = 1 << 8  // protocols 30+, directories
	xmitHLinked         = 1 << 9  // protocols 28+, non-directories
	xmitSameDevPre30    = 1 << 10 // protocols 28-29
	xmitUserNameFollows = 1 << 10 // protocols 30+
	xmitRdevMinor8Pre30 = 1 << 11 // protocols 28-29
	xmitGroupNameFollow = 1 << 11 // protocols 30+
	xmitHLinkFirst      = 1 << 12 // protocols 30+, hard-linked files
	xmitIOErrorEndList  = 1 << 12 // protocols 31+ (30 with CF_SAFE_FLIST)
	xmitModNsec         = 1 << 13 // protocols 31+
	xmitSameAtime       = 1 << 14
	xmitCrtimeEqMtime   = 1 << 17
)

// maxWireNsec bounds a nanosecond field (MAX_WIRE_NSEC).
const maxWireNsec = 999999999

// symlinkMungePrefix is what --munge-links puts before a received target.
const symlinkMungePrefix = "/rsyncd-munged/"
