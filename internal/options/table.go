package options

// optID names what an option does once the grammar has recognised it.
type optID uint8

const (
	optUnsupported optID = iota // known to rsync, not implemented by gorsync yet
	optHelp
	optVersion
	optVerbose
	optNoVerbose
	optQuiet
	optStats
	optHuman
	optNoHuman
	optDryRun
	optArchive
	optRecursive
	optNoRecursive
	optDirs
	optNoDirs
	optPerms
	optNoPerms
	optTimes
	optNoTimes
	optOwner
	optNoOwner
	optGroup
	optNoGroup
	optDevSpecials // -D
	optNoDevSpecials
	optDevices
	optNoDevices
	optSpecials
	optNoSpecials
	optLinks
	optNoLinks
	optIgnoreTimes
	optSizeOnly
	optWholeFile
	optNoWholeFile
	optChecksum
	optNoChecksum
	optChecksumChoice
	optNumericIDs
	optNoNumericIDs
	optRsh
	optRsyncPath
	optProtocol
	optEightBit
	optNoEightBit
	optServer
	optSender
	optDaemon // switches rsync into daemon-mode parsing; not implemented yet
	optIncRecursive
	optNoIncRecursive
	optCompress
	optOldCompress
	optNewCompress
	optNoCompress
	optCompressChoice
	optSkipCompress
	optCompressLevel
	optFilter
	optFilterF
	optExclude
	optInclude
	optExcludeFrom
	optIncludeFrom
	optCVSExclude
	optFrom0
	// Receiver-side selection and listing: --max-size, --min-size,
	// --existing, --ignore-existing, -u, --modify-window,
	// --remove-source-files, --remove-sent-files, --list-only, --mkpath.
	optMaxSize
	optMinSize
	optExisting
	optIgnoreExisting
	optUpdate
	optModifyWindow
	optRemoveSourceFiles
	optRemoveSentFiles
	optListOnly
	optMkpath
	optNoMkpath
	// Tree shape: -R, implied dirs, -x, -m, --files-from.
	optRelative
	optNoRelative
	optImpliedDirs
	optNoImpliedDirs
	optOneFileSystem
	optNoOneFileSystem
	optPruneEmptyDirs
	optNoPruneEmptyDirs
	optFilesFrom
	optNoFrom0
	// Deletion.
	optDelete
	optDeleteBefore
	optDeleteDuring
	optDeleteDelay
	optDeleteAfter
	optDeleteExcluded
	optDeleteMissingArgs
	optIgnoreMissingArgs
	optForce
	optNoForce
	optIgnoreErrors
	optNoIgnoreErrors
	optMaxDelete
	// What the user sees: -i, --out-format (alias --log-format).
	optItemize
	optNoItemize
	optOutFormat
	// Limits and argument passing (limits.go).
	optBwLimit
	optNoBwLimit
	optTimeout
	optNoTimeout
	optConTimeout
	optNoConTimeout
	optStopAfter
	optStopAt
	optMaxAlloc
	optBlockingIO
	optNoBlockingIO
	optOldArgs
	optNoOldArgs
	optSecludedArgs
	optNoSecludedArgs
	optIconv
	optNoIconv
	// Messages: --info, --debug, --stderr, --msgs2stderr, --outbuf.
	optInfo
	optDebug
	optStderr
	optMsgs2Stderr
	optNoMsgs2Stderr
	optOutBuf
	// Batch files.
	optReadBatch
	optWriteBatch
	optOnlyWriteBatch
	optLogFile
	optLogFileFormat
)

// argKind says whether an option takes a value, and how popt converts it.
type argKind uint8

const (
	argNone   argKind = iota // a flag; "--opt=value" is an error
	argString                // the value is kept as given
	argInt                   // the value must parse as a C int (strtoll base 0)
)

// optSpec is one row of rsync's option table.
type optSpec struct {
	long  string // without the leading "--"; empty for short-only rows
	short byte   // 0 for long-only rows
	kind  argKind
	id    optID
}

// table lists every option upstream rsync 3.5.0 knows, in its own order, so
// that an option we do not implement yet is rejected by name instead of being
// reported as unknown or, worse, silently ignored.
// rsync: options.c long_options[]
var table = []optSpec{
	{"help", 0, argNone, optHelp},
	{"version", 'V', argNone, optVersion},
	{"verbose", 'v', argNone, optVerbose},
	{"no-verbose", 0, argNone, optNoVerbose},
	{"no-v", 0, argNone, optNoVerbose},
	{"info", 0, argString, optInfo},
	{"debug", 0, argString, optDebug},
	{"stderr", 0, argString, optStderr},
	{"msgs2stderr", 0, argNone, optMsgs2Stderr},
	{"no-msgs2stderr", 0, argNone, optNoMsgs2Stderr},
	{"quiet", 'q', argNone, optQuiet},
	{"motd", 0, argNone, optUnsupported},
	{"no-motd", 0, argNone, optUnsupported},
	{"stats", 0, argNone, optStats},
	{"human-readable", 'h', argNone, optHuman},
	{"no-human-readable", 0, argNone, optNoHuman},
	{"no-h", 0, argNone, optNoHuman},
	{"dry-run", 'n', argNone, optDryRun},
	{"archive", 'a', argNone, optArchive},
	{"recursive", 'r', argNone, optRecursive},
	{"no-recursive", 0, argNone, optNoRecursive},
	{"no-r", 0, argNone, optNoRecursive},
	{"inc-recursive", 0, argNone, optIncRecursive},
	{"no-inc-recursive", 0, argNone, optNoIncRecursive},
	{"i-r", 0, argNone, optIncRecursive},
	{"no-i-r", 0, argNone, optNoIncRecursive},
	{"dirs", 'd', argNone, optDirs},
	{"no-dirs", 0, argNone, optNoDirs},
	{"no-d", 0, argNone, optNoDirs},
	{"old-dirs", 0, argNone, optUnsupported},
	{"old-d", 0, argNone, optUnsupported},
	{"perms", 'p', argNone, optPerms},
	{"no-perms", 0, argNone, optNoPerms},
	{"no-p", 0, argNone, optNoPerms},
	{"executability", 'E', argNone, optUnsupported},
	{"acls", 'A', argNone, optUnsupported},
	{"no-acls", 0, argNone, optUnsupported},
	{"no-A", 0, argNone, optUnsupported},
	{"xattrs", 'X', argNone, optUnsupported},
	{"no-xattrs", 0, argNone, optUnsupported},
	{"no-X", 0, argNone, optUnsupported},
	{"times", 't', argNone, optTimes},
	{"no-times", 0, argNone, optNoTimes},
	{"no-t", 0, argNone, optNoTimes},
	{"atimes", 'U', argNone, optUnsupported},
	{"no-atimes", 0, argNone, optUnsupported},
	{"no-U", 0, argNone, optUnsupported},
	{"open-noatime", 0, argNone, optUnsupported},
	{"no-open-noatime", 0, argNone, optUnsupported},
	{"crtimes", 'N', argNone, optUnsupported},
	{"no-crtimes", 0, argNone, optUnsupported},
	{"no-N", 0, argNone, optUnsupported},
	{"omit-dir-times", 'O', argNone, optUnsupported},
	{"no-omit-dir-times", 0, argNone, optUnsupported},
	{"no-O", 0, argNone, optUnsupported},
	{"omit-link-times", 'J', argNone, optUnsupported},
	{"no-omit-link-times", 0, argNone, optUnsupported},
	{"no-J", 0, argNone, optUnsupported},
	{"modify-window", '@', argInt, optModifyWindow},
	{"super", 0, argNone, optUnsupported},
	{"no-super", 0, argNone, optUnsupported},
	{"fake-super", 0, argNone, optUnsupported},
	{"owner", 'o', argNone, optOwner},
	{"no-owner", 0, argNone, optNoOwner},
	{"no-o", 0, argNone, optNoOwner},
	{"group", 'g', argNone, optGroup},
	{"no-group", 0, argNone, optNoGroup},
	{"no-g", 0, argNone, optNoGroup},
	{"", 'D', argNone, optDevSpecials},
	{"no-D", 0, argNone, optNoDevSpecials},
	{"devices", 0, argNone, optDevices},
	{"no-devices", 0, argNone, optNoDevices},
	{"copy-devices", 0, argNone, optUnsupported},
	{"write-devices", 0, argNone, optUnsupported},
	{"no-write-devices", 0, argNone, optUnsupported},
	{"specials", 0, argNone, optSpecials},
	{"no-specials", 0, argNone, optNoSpecials},
	{"drop-D", 0, argNone, optUnsupported},
	{"no-drop-D", 0, argNone, optUnsupported},
	{"confine-root", 0, argString, optUnsupported},
	{"links", 'l', argNone, optLinks},
	{"no-links", 0, argNone, optNoLinks},
	{"no-l", 0, argNone, optNoLinks},
	{"copy-links", 'L', argNone, optUnsupported},
	{"copy-unsafe-links", 0, argNone, optUnsupported},
	{"safe-links", 0, argNone, optUnsupported},
	{"insecure-links", 0, argNone, optUnsupported},
	{"no-insecure-links", 0, argNone, optUnsupported},
	{"munge-links", 0, argNone, optUnsupported},
	{"no-munge-links", 0, argNone, optUnsupported},
	{"copy-dirlinks", 'k', argNone, optUnsupported},
	{"keep-dirlinks", 'K', argNone, optUnsupported},
	{"hard-links", 'H', argNone, optUnsupported},
	{"no-hard-links", 0, argNone, optUnsupported},
	{"no-H", 0, argNone, optUnsupported},
	{"relative", 'R', argNone, optRelative},
	{"no-relative", 0, argNone, optNoRelative},
	{"no-R", 0, argNone, optNoRelative},
	{"implied-dirs", 0, argNone, optImpliedDirs},
	{"no-implied-dirs", 0, argNone, optNoImpliedDirs},
	{"i-d", 0, argNone, optImpliedDirs},
	{"no-i-d", 0, argNone, optNoImpliedDirs},
	{"chmod", 0, argString, optUnsupported},
	{"ignore-times", 'I', argNone, optIgnoreTimes},
	{"size-only", 0, argNone, optSizeOnly},
	{"one-file-system", 'x', argNone, optOneFileSystem},
	{"no-one-file-system", 0, argNone, optNoOneFileSystem},
	{"no-x", 0, argNone, optNoOneFileSystem},
	{"update", 'u', argNone, optUpdate},
	{"existing", 0, argNone, optExisting},
	{"ignore-non-existing", 0, argNone, optExisting},
	{"ignore-existing", 0, argNone, optIgnoreExisting},
	{"max-size", 0, argString, optMaxSize},
	{"min-size", 0, argString, optMinSize},
	{"max-alloc", 0, argString, optMaxAlloc},
	{"sparse", 'S', argNone, optUnsupported},
	{"no-sparse", 0, argNone, optUnsupported},
	{"no-S", 0, argNone, optUnsupported},
	{"preallocate", 0, argNone, optUnsupported},
	{"inplace", 0, argNone, optUnsupported},
	{"no-inplace", 0, argNone, optUnsupported},
	{"append", 0, argNone, optUnsupported},
	{"append-verify", 0, argNone, optUnsupported},
	{"no-append", 0, argNone, optUnsupported},
	{"del", 0, argNone, optDeleteDuring},
	{"delete", 0, argNone, optDelete},
	{"delete-before", 0, argNone, optDeleteBefore},
	{"delete-during", 0, argNone, optDeleteDuring},
	{"delete-delay", 0, argNone, optDeleteDelay},
	{"delete-after", 0, argNone, optDeleteAfter},
	{"delete-excluded", 0, argNone, optDeleteExcluded},
	{"delete-missing-args", 0, argNone, optDeleteMissingArgs},
	{"ignore-missing-args", 0, argNone, optIgnoreMissingArgs},
	{"remove-sent-files", 0, argNone, optRemoveSentFiles},
	{"remove-source-files", 0, argNone, optRemoveSourceFiles},
	{"force", 0, argNone, optForce},
	{"no-force", 0, argNone, optNoForce},
	{"ignore-errors", 0, argNone, optIgnoreErrors},
	{"no-ignore-errors", 0, argNone, optNoIgnoreErrors},
	{"max-delete", 0, argInt, optMaxDelete},
	{"", 'F', argNone, optFilterF},
	{"filter", 'f', argString, optFilter},
	{"exclude", 0, argString, optExclude},
	{"include", 0, argString, optInclude},
	{"exclude-from", 0, argString, optExcludeFrom},
	{"include-from", 0, argString, optIncludeFrom},
	{"cvs-exclude", 'C', argNone, optCVSExclude},
	{"whole-file", 'W', argNone, optWholeFile},
	{"no-whole-file", 0, argNone, optNoWholeFile},
	{"no-W", 0, argNone, optNoWholeFile},
	{"checksum", 'c', argNone, optChecksum},
	{"no-checksum", 0, argNone, optNoChecksum},
	{"no-c", 0, argNone, optNoChecksum},
	{"checksum-choice", 0, argString, optChecksumChoice},
	{"cc", 0, argString, optChecksumChoice},
	{"block-size", 'B', argString, optUnsupported},
	{"compare-dest", 0, argString, optUnsupported},
	{"copy-dest", 0, argString, optUnsupported},
	{"link-dest", 0, argString, optUnsupported},
	{"fuzzy", 'y', argNone, optUnsupported},
	{"no-fuzzy", 0, argNone, optUnsupported},
	{"no-y", 0, argNone, optUnsupported},
	{"compress", 'z', argNone, optCompress},
	{"old-compress", 0, argNone, optOldCompress},
	{"new-compress", 0, argNone, optNewCompress},
	{"no-compress", 0, argNone, optNoCompress},
	{"no-z", 0, argNone, optNoCompress},
	{"compress-choice", 0, argString, optCompressChoice},
	{"zc", 0, argString, optCompressChoice},
	{"skip-compress", 0, argString, optSkipCompress},
	{"compress-level", 0, argInt, optCompressLevel},
	{"zl", 0, argInt, optCompressLevel},
	{"compress-threads", 0, argInt, optUnsupported},
	{"zt", 0, argInt, optUnsupported},
	{"", 'P', argNone, optUnsupported},
	{"progress", 0, argNone, optUnsupported},
	{"no-progress", 0, argNone, optUnsupported},
	{"partial", 0, argNone, optUnsupported},
	{"no-partial", 0, argNone, optUnsupported},
	{"partial-dir", 0, argString, optUnsupported},
	{"delay-updates", 0, argNone, optUnsupported},
	{"no-delay-updates", 0, argNone, optUnsupported},
	{"prune-empty-dirs", 'm', argNone, optPruneEmptyDirs},
	{"no-prune-empty-dirs", 0, argNone, optNoPruneEmptyDirs},
	{"no-m", 0, argNone, optNoPruneEmptyDirs},
	{"log-file", 0, argString, optLogFile},
	{"log-file-format", 0, argString, optLogFileFormat},
	{"out-format", 0, argString, optOutFormat},
	{"log-format", 0, argString, optOutFormat},
	{"itemize-changes", 'i', argNone, optItemize},
	{"no-itemize-changes", 0, argNone, optNoItemize},
	{"no-i", 0, argNone, optUnsupported},
	{"bwlimit", 0, argString, optBwLimit},
	{"no-bwlimit", 0, argNone, optNoBwLimit},
	{"backup", 'b', argNone, optUnsupported},
	{"no-backup", 0, argNone, optUnsupported},
	{"backup-dir", 0, argString, optUnsupported},
	{"suffix", 0, argString, optUnsupported},
	{"list-only", 0, argNone, optListOnly},
	{"read-batch", 0, argString, optReadBatch},
	{"write-batch", 0, argString, optWriteBatch},
	{"only-write-batch", 0, argString, optOnlyWriteBatch},
	{"files-from", 0, argString, optFilesFrom},
	{"from0", '0', argNone, optFrom0},
	{"no-from0", 0, argNone, optNoFrom0},
	{"old-args", 0, argNone, optOldArgs},
	{"no-old-args", 0, argNone, optNoOldArgs},
	{"secluded-args", 's', argNone, optSecludedArgs},
	{"no-secluded-args", 0, argNone, optNoSecludedArgs},
	{"protect-args", 0, argNone, optSecludedArgs},
	{"no-protect-args", 0, argNone, optNoSecludedArgs},
	{"no-s", 0, argNone, optNoSecludedArgs},
	{"trust-sender", 0, argNone, optUnsupported},
	{"numeric-ids", 0, argNone, optNumericIDs},
	{"no-numeric-ids", 0, argNone, optNoNumericIDs},
	{"usermap", 0, argString, optUnsupported},
	{"groupmap", 0, argString, optUnsupported},
	{"chown", 0, argString, optUnsupported},
	{"timeout", 0, argInt, optTimeout},
	{"no-timeout", 0, argNone, optNoTimeout},
	{"contimeout", 0, argInt, optConTimeout},
	{"no-contimeout", 0, argNone, optNoConTimeout},
	{"fsync", 0, argNone, optUnsupported},
	{"stop-after", 0, argString, optStopAfter},
	{"time-limit", 0, argString, optStopAfter},
	{"stop-at", 0, argString, optStopAt},
	{"rsh", 'e', argString, optRsh},
	{"rsync-path", 0, argString, optRsyncPath},
	{"temp-dir", 'T', argString, optUnsupported},
	{"iconv", 0, argString, optIconv},
	{"no-iconv", 0, argNone, optNoIconv},
	{"ipv4", '4', argNone, optUnsupported},
	{"ipv6", '6', argNone, optUnsupported},
	{"8-bit-output", '8', argNone, optEightBit},
	{"no-8-bit-output", 0, argNone, optNoEightBit},
	{"no-8", 0, argNone, optNoEightBit},
	{"mkpath", 0, argNone, optMkpath},
	{"no-mkpath", 0, argNone, optNoMkpath},
	{"qsort", 0, argNone, optUnsupported},
	{"copy-as", 0, argString, optUnsupported},
	{"address", 0, argString, optUnsupported},
	{"port", 0, argInt, optUnsupported},
	{"sockopts", 0, argString, optUnsupported},
	{"password-file", 0, argString, optUnsupported},
	{"early-input", 0, argString, optUnsupported},
	{"blocking-io", 0, argNone, optBlockingIO},
	{"no-blocking-io", 0, argNone, optNoBlockingIO},
	{"outbuf", 0, argString, optOutBuf},
	{"remote-option", 'M', argString, optUnsupported},
	{"protocol", 0, argInt, optProtocol},
	{"checksum-seed", 0, argInt, optUnsupported},
	{"server", 0, argNone, optServer},
	{"sender", 0, argNone, optSender},
	{"config", 0, argString, optDaemon},
	{"daemon", 0, argNone, optDaemon},
	{"dparam", 0, argString, optDaemon},
	{"detach", 0, argNone, optDaemon},
	{"no-detach", 0, argNone, optDaemon},
}

// byLong and byShort index table; built once at package init.
var (
	byLong  = make(map[string]*optSpec, len(table))
	byShort [256]*optSpec
)

func init() {
	for i := range table {
		s := &table[i]
		if s.long != "" {
			byLong[s.long] = s
		}
		if s.short != 0 {
			byShort[s.short] = s
		}
	}
}
