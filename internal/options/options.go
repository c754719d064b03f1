// Package options parses rsync's command line exactly as upstream rsync 3.5.0
// does (popt grammar, option table, error texts), and builds the argv a client
// sends to a remote "rsync --server", following rsync's server_options().
package options

import (
	"strconv"
	"strings"
)

// ProgName is the program name that starts every error message, as rsync's
// RSYNC_NAME does; it stays "rsync" so gorsync is a drop-in replacement.
const ProgName = "rsync"

// TriState is an option that may be unset, forced on or forced off.
type TriState int8

// TriState values; the zero value is Unset.
const (
	Unset TriState = iota
	On
	Off
)

// DeleteDuringMode is rsync's delete_during: off, --delete-during (--del),
// or --delete-delay.
type DeleteDuringMode int8

// DeleteDuringMode values.
const (
	DeleteDuringOff DeleteDuringMode = iota
	DeleteDuringOn
	DeleteDuringDelay
)

// MissingArgs is rsync's missing_args: what to do with a source argument
// that does not exist.
type MissingArgs int8

// MissingArgs values.
const (
	MissingArgsError  MissingArgs = iota // report it (exit 23)
	IgnoreMissingArgs                    // --ignore-missing-args
	DeleteMissingArgs                    // --delete-missing-args
)

// RemoveSource is rsync's remove_source_files.
type RemoveSource int8

// RemoveSource values.
const (
	KeepSource        RemoveSource = iota
	RemoveSourceFiles              // --remove-source-files
	RemoveSentFiles                // --remove-sent-files (deprecated)
)

// Options is the parsed command line of one rsync invocation, client or
// server side. Field names follow rsync's long option names.
type Options struct {
	Verbose       int      // -v, counted; --no-v resets it
	Quiet         int      // -q, counted
	Archive       bool     // -a was given (its parts are set in the fields below)
	Recursive     bool     // -r
	Dirs          TriState // -d (On) or --no-d (Off); see TransferDirs
	Links         bool     // -l
	Perms         bool     // -p
	Times         bool     // -t
	Group         bool     // -g
	Owner         bool     // -o
	Devices       bool     // --devices (or -D)
	Specials      bool     // --specials (or -D)
	WholeFile     TriState // -W (On), --no-W (Off); Unset: whole-file only for local copies
	DryRun        bool     // -n
	Checksum      bool     // -c
	IgnoreTimes   bool     // -I
	SizeOnly      bool     // --size-only
	Stats         bool     // --stats
	HumanReadable int      // rsync's human_readable: 1 by default, +1 per -h, 0 after --no-h
	NumericIDs    bool     // --numeric-ids
	EightBit      bool     // -8, --8-bit-output
	// Itemize is -i's count (--no-i resets it); OutFormat is --out-format
	// (or --log-format), OutFormatSet whether one was given (it may be "").
	Itemize      int
	OutFormat    string
	OutFormatSet bool
	// LogFile is --log-file ("" for none); LogFileFormat its
	// --log-file-format, LogFileFormatSet whether one was given.
	LogFile          string
	LogFileFormat    string
	LogFileFormatSet bool

	// Rsh is the remote shell command: -e's value, else $RSYNC_RSH, else
	// "ssh". Client side only.
	Rsh string
	// RshSet reports whether -e/--rsh was given on the command line; rsync
	// uses that (not $RSYNC_RSH) to choose a daemon over a remote shell.
	RshSet bool
	// RsyncPath is the program to run on the remote side (default "rsync").
	RsyncPath string
	// Protocol is the --protocol value; 0 means not given (use our newest).
	Protocol int
	// ChecksumChoice is the --checksum-choice (--cc) value as given, already
	// validated; "" when not given or when it only says "auto".
	ChecksumChoice string

	// Server is set by --server: we were started by a client's remote shell.
	Server bool
	// Sender is set by --sender (server side only): we send files.
	Sender bool
	// ClientInfo is the -e value in server mode: the client's capability
	// letters, e.g. ".iLsfxCIvu" (rsync: compat.c client_info).
	ClientInfo string

	// Compress counts -z; two or more mean zlibx. CompressChoice is
	// --compress-choice (--zc), or "zlib"/"zlibx" from --old-compress and
	// --new-compress; "" when not given or "auto".
	Compress       int
	CompressChoice string
	// CompressLevel is --compress-level (--zl) when CompressLevelSet.
	CompressLevel    int
	CompressLevelSet bool
	// SkipCompress is --skip-compress's suffix list when SkipCompressSet.
	SkipCompress    string
	SkipCompressSet bool

	// Filters are the filter options in command-line order (--filter,
	// --exclude, --include, --exclude-from, --include-from and -F); each
	// keeps its kind, as rsync parses them differently.
	Filters []FilterArg
	// CVSExclude is -C (--cvs-exclude); From0 is --from0.
	CVSExclude bool
	From0      bool

	// Relative is -R, resolved: --files-from implies it unless --no-R
	// was given. ImpliedDirs is rsync's implied_dirs: on unless
	// --no-implied-dirs, and off without -R. OneFileSystem counts -x;
	// PruneEmptyDirs is -m.
	Relative       bool
	ImpliedDirs    bool
	OneFileSystem  int
	PruneEmptyDirs bool
	// FilesFrom is --files-from's file ("-" for standard input, or, on a
	// server, for the names the client forwards); with FilesFromRemote
	// the file is on the remote side ("host:file" or ":file"), and
	// FilesFromHost is its host part.
	FilesFrom       string
	FilesFromHost   string
	FilesFromRemote bool

	// ListOnly is rsync's implied list-only mode: a client given fewer than
	// two paths lists the source instead of copying it.
	ListOnly bool
	// ListOnlyOpt is an explicit --list-only (rsync's list_only == 2),
	// which the client passes on to the server.
	ListOnlyOpt bool

	// MaxSizeArg and MinSizeArg are --max-size and --min-size as rsync
	// passes them to the server (plain digits), "" when not given;
	// MaxSize and MinSize are their values in bytes. See SizeLimits.
	MaxSize, MinSize       int64
	MaxSizeArg, MinSizeArg string
	// Existing is --existing (--ignore-non-existing): only update files
	// that already exist on the receiver. IgnoreExisting is
	// --ignore-existing: skip them.
	Existing       bool
	IgnoreExisting bool
	// Update is -u: skip files that are newer on the receiver.
	Update bool
	// ModifyWindow is --modify-window (-@) when ModifyWindowSet: the
	// seconds two mtimes may differ by and still count as equal; -1
	// compares nanoseconds too.
	ModifyWindow    int
	ModifyWindowSet bool
	// RemoveSource is rsync's remove_source_files:
	// --remove-source-files, or the deprecated --remove-sent-files.
	RemoveSource RemoveSource
	// Mkpath is --mkpath: create the destination's missing path
	// components.
	Mkpath bool

	// Delete is rsync's delete_mode: --delete, or implied by a
	// --delete-WHEN or --delete-excluded. DeleteBefore, DeleteDuring
	// (--delete-during/--del or --delete-delay) and DeleteAfter choose
	// when; none of them leaves the choice to the protocol.
	Delete         bool
	DeleteBefore   bool
	DeleteDuring   DeleteDuringMode
	DeleteAfter    bool
	DeleteExcluded bool
	// MissingArgs is --ignore-missing-args or --delete-missing-args
	// (which wins when both are given).
	MissingArgs MissingArgs
	// Force is --force; IgnoreErrors is --ignore-errors.
	Force        bool
	IgnoreErrors bool
	// MaxDelete is --max-delete when MaxDeleteSet (negative values become 0).
	MaxDelete    int
	MaxDeleteSet bool

	// BatchName is the FILE of --write-batch, --only-write-batch or
	// --read-batch; WriteBatch is rsync's write_batch (1 for
	// --write-batch, -1 for --only-write-batch) and ReadBatch its
	// read_batch.
	BatchName  string
	WriteBatch int
	ReadBatch  bool
	// Argv is, when writing a batch, the command line as given (without
	// the program name): the batch's FILE.sh is written from it. rsync: batch.c
	// write_batch_shell_file (raw_argv)
	Argv []string

	// NoIncRecursive is --no-inc-recursive (--no-i-r; --inc-recursive
	// clears it): rsync's allow_inc_recurse turned off. Whether a transfer
	// recurses incrementally also depends on the role and other options;
	// the session decides.
	NoIncRecursive bool

	// LimitOptions are --bwlimit, --timeout, --stop-after, --max-alloc,
	// -s and their kin (limits.go).
	LimitOptions

	// Info and Debug are rsync's info_levels and debug_levels: each
	// --info and --debug flag's level (see InfoFlag, DebugFlag), with what
	// -v, --stats and --progress imply. OutputHelp is the --info=help or
	// --debug=help text, which the caller prints before exiting 0.
	Info       [InfoCount]int8
	Debug      [DebugCount]int8
	OutputHelp string
	// Progress is rsync's progress level, INFO_GTE(PROGRESS): 1 for
	// per-file progress, 2 for the whole transfer's (--info=progress2).
	Progress int
	// Msgs2Stderr is --stderr (--msgs2stderr is "all", --no-msgs2stderr
	// "client"); OutBuf is --outbuf.
	Msgs2Stderr Msgs2Stderr
	OutBuf      OutBuf
	// info and debug keep which flags --info and --debug set, which the
	// client passes on to its server. rsync: options.c make_output_option
	info, debug outputLevels

	// Help asks the caller to print the usage text and exit 0.
	Help bool
	// Version counts -V; the caller prints the version and exits 0.
	Version int

	// Args are the positional arguments. In server mode the first is the
	// "." placeholder the client always sends, followed by the paths.
	Args []string
}

// FilterArg is one filter option. Kind is 'f' (--filter), 'e'
// (--exclude), 'i' (--include), 'E' (--exclude-from), 'I'
// (--include-from); -F arrives as an 'f' with the rule rsync adds for it.
type FilterArg struct {
	Kind  byte
	Value string
}

// UsageError is a command-line error that rsync reports as a syntax or usage
// error (exit code 1).
type UsageError struct {
	// Option is the argument blamed, spelled as popt reports it (for example
	// "--frobnicate", "-vj", "--protocol=abc"); empty if none.
	Option string
	// Reason is the problem, for example "unknown option".
	Reason string
	// Server marks an error in server mode, which rsync prefixes with
	// "on remote machine: ".
	Server bool
	// Unsupported marks an option upstream rsync knows but gorsync does not
	// implement yet.
	Unsupported bool
	// ShowUsage asks the caller to print the usage text to stderr instead of
	// the message, as rsync does for --sender without --server.
	ShowUsage bool
}

// Error formats the message exactly as rsync prints it.
func (e *UsageError) Error() string {
	var b strings.Builder
	b.WriteString(ProgName)
	b.WriteString(": ")
	if e.Server {
		b.WriteString("on remote machine: ")
	}
	if e.Option != "" {
		b.WriteString(e.Option)
		b.WriteString(": ")
	}
	b.WriteString(e.Reason)
	return b.String()
}

// ExitCode is rsync's RERR_SYNTAX.
func (e *UsageError) ExitCode() int { return 1 }

// reasons popt gives, word for word. rsync: popt/popt.c poptStrerror
const (
	reasonUnknown     = "unknown option"
	reasonMissing     = "missing argument"
	reasonUnwanted    = "option does not take an argument"
	reasonBadNumber   = "invalid numeric value"
	reasonOverflow    = "number too large or too small"
	reasonUnsupported = "option not supported by this version of gorsync"
)

// Parse parses args (without the program name) as upstream rsync does and
// returns the options, or a *UsageError or *ChecksumChoiceError. env looks up
// environment variables (os.Getenv in production); it may be nil.
//
// rsync: options.c parse_arguments, popt/popt.c poptGetNextOpt
func Parse(args []string, env func(string) string) (*Options, error) {
	if env == nil {
		env = func(string) string { return "" }
	}
	p := parser{args: args, o: &Options{HumanReadable: 1, RsyncPath: "rsync",
		info: newOutputLevels(infoWords[:], "--info"), debug: newOutputLevels(debugWords[:], "--debug")}}
	if err := p.run(); err != nil {
		return nil, err
	}
	o := p.o
	if o.Help || o.OutputHelp != "" {
		return o, nil
	}
	// rsync prints the version and exits before validating anything else.
	if o.Version > 0 {
		return o, nil
	}
	if err := p.limits(env); err != nil {
		return nil, err
	}
	if p.ccSet {
		if isAutoChoice(o.ChecksumChoice) {
			o.ChecksumChoice = ""
		} else {
			xfer, _, err := ParseChecksumChoice(o.ChecksumChoice)
			if err != nil {
				return nil, err
			}
			// No transfer checksum means no delta transfer.
			// rsync: checksum.c parse_checksum_choice
			if xfer == "none" {
				o.WholeFile = On
			}
		}
	}
	// rsync: options.c parse_arguments, after the option loop.
	if o.CompressChoice == "" && o.Compress > 1 {
		o.CompressChoice = "zlibx"
	}
	if strings.EqualFold(o.CompressChoice, "auto") {
		o.CompressChoice = ""
	}
	if o.CompressChoice != "" {
		if err := checkCompressName(o.CompressChoice); err != nil {
			return nil, err
		}
	}
	if err := p.treeShape(); err != nil {
		return nil, err
	}
	if err := p.checkDelete(); err != nil {
		return nil, err
	}
	if err := p.finishOutput(); err != nil {
		return nil, err
	}
	if err := p.checkBatch(); err != nil {
		return nil, err
	}
	// The old meaning of -h (help) survives when it is the only argument.
	if o.HumanReadable > 1 && len(args) == 1 && !o.Server {
		o.Help = true
		return o, nil
	}
	if !o.Server {
		if !o.RshSet {
			o.Rsh = env("RSYNC_RSH")
			if o.Rsh == "" {
				o.Rsh = "ssh"
			}
		}
		o.ListOnly = len(o.Args) < 2 && !o.ReadBatch || o.ListOnlyOpt
	}
	return o, nil
}

// Compression reports whether the transfer compresses (-z, a compress
// choice other than "none", or a compress level) and the chosen algorithm
// ("" to negotiate). rsync: options.c parse_arguments (do_compression).
func (o *Options) Compression() (on bool, choice string) {
	if strings.EqualFold(o.CompressChoice, "none") {
		return false, ""
	}
	return o.Compress > 0 || o.CompressChoice != "" || o.CompressLevelSet, o.CompressChoice
}

// CompressNames are the --compress-choice values rsync 3.5.0 accepts.
var CompressNames = []string{"zstd", "lz4", "zlibx", "zlib", "none"}

// checkCompressName validates a --compress-choice value.
// rsync: compat.c parse_compress_choice
func checkCompressName(name string) error {
	for _, n := range CompressNames {
		if strings.EqualFold(n, name) {
			return nil
		}
	}
	return &ChecksumChoiceError{Name: name, compress: true}
}

// TransferDirs reports whether directories are transferred (as entries,
// recursing or not): with -r, with -d, or implied when only listing.
// rsync: options.c parse_arguments (xfer_dirs)
func (o *Options) TransferDirs() bool {
	return o.Recursive || o.Dirs == On || (o.Dirs == Unset && o.ListOnly) || o.filesFromDirs()
}

// parser walks argv the way popt does: options and positional arguments may
// be interleaved, "--" ends the options, short options bundle.
type parser struct {
	args   []string
	next   int // index of the next argv element to read
	rest   bool
	ccSet  bool // --checksum-choice was given, perhaps empty
	fCount int  // -F options seen
	// relative is -R as given (Unset until -R or --no-R); rExplicit
	// says -r (not just -a) asked for recursion, which --files-from
	// keeps.
	relative  TriState
	rExplicit bool
	noImplied bool // --no-implied-dirs
	// outbuf is --outbuf's value, checked after the option loop.
	outbuf    string
	outbufSet bool
	o         *Options
}

func (p *parser) run() error {
	for p.next < len(p.args) {
		a := p.args[p.next]
		p.next++
		if p.rest || len(a) < 2 || a[0] != '-' {
			p.o.Args = append(p.o.Args, a)
			continue
		}
		if a == "--" {
			p.rest = true
			continue
		}
		var err error
		if a[1] == '-' {
			err = p.long(a)
		} else {
			err = p.shorts(a)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// long handles one "--name" or "--name=value" element.
func (p *parser) long(a string) error {
	name, val, hasVal := strings.Cut(a[2:], "=")
	s := byLong[name]
	if s == nil {
		return p.fail(a, reasonUnknown)
	}
	if s.id == optUnsupported || s.id == optDaemon {
		return p.unsupported("--" + name)
	}
	if s.kind == argNone {
		if hasVal {
			return p.fail(a, reasonUnwanted)
		}
		return p.apply(s, "")
	}
	if !hasVal {
		if p.next >= len(p.args) {
			return p.fail(a, reasonMissing)
		}
		// popt takes the next element whatever it looks like.
		val = p.args[p.next]
		p.next++
	}
	return p.apply(s, val)
}

// shorts handles one "-xyz" bundle; a letter that takes a value consumes the
// rest of the bundle (after one optional '=') or else the next element.
func (p *parser) shorts(a string) error {
	for j := 1; j < len(a); {
		c := a[j]
		j++
		s := byShort[c]
		if s == nil {
			return p.fail(a, reasonUnknown)
		}
		if s.id == optUnsupported {
			return p.unsupported("-" + string(c))
		}
		rest := a[j:]
		if s.kind == argNone {
			if strings.HasPrefix(rest, "=") {
				return p.fail(a, reasonUnwanted)
			}
			if err := p.apply(s, ""); err != nil {
				return err
			}
			continue
		}
		var val string
		if rest != "" {
			val = strings.TrimPrefix(rest, "=")
		} else {
			if p.next >= len(p.args) {
				return p.fail(a, reasonMissing)
			}
			val = p.args[p.next]
			p.next++
		}
		return p.apply(s, val)
	}
	return nil
}

// fail builds popt's error; like poptBadOption it blames the last argv
// element consumed, which for a separate value is the value itself.
func (p *parser) fail(fallback, reason string) error {
	blame := fallback
	if p.next > 0 && p.next <= len(p.args) {
		blame = p.args[p.next-1]
	}
	return &UsageError{Option: blame, Reason: reason, Server: p.o.Server}
}

func (p *parser) unsupported(opt string) error {
	return &UsageError{Option: opt, Reason: reasonUnsupported, Server: p.o.Server, Unsupported: true}
}

// apply performs one recognised option. rsync: options.c parse_arguments
func (p *parser) apply(s *optSpec, val string) error {
	o := p.o
	switch s.id {
	case optHelp:
		o.Help = true
		// rsync prints the help and exits at once.
		p.next = len(p.args)
	case optVersion:
		o.Version++
	case optCompress:
		o.Compress++
	case optOldCompress:
		o.CompressChoice = "zlib"
	case optNewCompress:
		o.CompressChoice = "zlibx"
	case optNoCompress:
		o.Compress, o.CompressChoice = 0, ""
	case optCompressChoice:
		o.CompressChoice = val
	case optSkipCompress:
		o.SkipCompress, o.SkipCompressSet = val, true
	case optCompressLevel:
		n, _ := strconv.Atoi(val)
		o.CompressLevel, o.CompressLevelSet = n, true
	case optFilter:
		o.Filters = append(o.Filters, FilterArg{'f', val})
	case optFilterF:
		// rsync: options.c case 'F': the first adds the per-directory
		// merge rule, the second excludes the merge files themselves.
		p.fCount++
		switch p.fCount {
		case 1:
			o.Filters = append(o.Filters, FilterArg{'f', ": /.rsync-filter"})
		case 2:
			o.Filters = append(o.Filters, FilterArg{'f', "- .rsync-filter"})
		}
	case optExclude:
		o.Filters = append(o.Filters, FilterArg{'e', val})
	case optInclude:
		o.Filters = append(o.Filters, FilterArg{'i', val})
	case optExcludeFrom:
		o.Filters = append(o.Filters, FilterArg{'E', val})
	case optIncludeFrom:
		o.Filters = append(o.Filters, FilterArg{'I', val})
	case optCVSExclude:
		o.CVSExclude = true
	case optMaxSize, optMinSize, optExisting, optIgnoreExisting, optUpdate,
		optModifyWindow, optRemoveSourceFiles, optRemoveSentFiles, optListOnly,
		optMkpath, optNoMkpath:
		return p.applySelect(s, val)
	case optDelete, optDeleteBefore, optDeleteDuring, optDeleteDelay, optDeleteAfter,
		optDeleteExcluded, optDeleteMissingArgs, optIgnoreMissingArgs, optForce,
		optNoForce, optIgnoreErrors, optNoIgnoreErrors, optMaxDelete:
		return p.applyDelete(s, val)
	case optBwLimit, optNoBwLimit, optTimeout, optNoTimeout, optConTimeout,
		optNoConTimeout, optStopAfter, optStopAt, optMaxAlloc, optBlockingIO,
		optNoBlockingIO, optOldArgs, optNoOldArgs, optSecludedArgs,
		optNoSecludedArgs, optIconv, optNoIconv:
		return p.applyLimit(s, val)
	case optReadBatch, optWriteBatch, optOnlyWriteBatch:
		p.applyBatch(s, val)
	case optFrom0:
		o.From0 = true
	case optNoFrom0:
		o.From0 = false
	case optRelative:
		p.relative = On
	case optNoRelative:
		p.relative = Off
	case optImpliedDirs, optNoImpliedDirs:
		p.noImplied = s.id == optNoImpliedDirs
	case optOneFileSystem:
		o.OneFileSystem++
	case optNoOneFileSystem:
		o.OneFileSystem = 0
	case optPruneEmptyDirs, optNoPruneEmptyDirs:
		o.PruneEmptyDirs = s.id == optPruneEmptyDirs
	case optFilesFrom:
		o.FilesFrom = val
	case optIncRecursive, optNoIncRecursive:
		o.NoIncRecursive = s.id == optNoIncRecursive
	case optInfo, optDebug, optStderr, optMsgs2Stderr, optNoMsgs2Stderr, optOutBuf:
		return p.applyOutput(s, val)
	case optVerbose:
		o.Verbose++
	case optNoVerbose:
		o.Verbose = 0
	case optItemize:
		o.Itemize++
	case optNoItemize:
		o.Itemize = 0
	case optOutFormat:
		o.OutFormat, o.OutFormatSet = val, true
	case optLogFile:
		o.LogFile = val
	case optLogFileFormat:
		o.LogFileFormat, o.LogFileFormatSet = val, true
	case optQuiet:
		o.Quiet++
	case optStats:
		o.Stats = true
	case optHuman:
		o.HumanReadable++
	case optNoHuman:
		o.HumanReadable = 0
	case optDryRun:
		o.DryRun = true
	case optArchive:
		o.Archive = true
		o.Recursive, o.Links, o.Perms, o.Times = true, true, true, true
		o.Group, o.Owner, o.Devices, o.Specials = true, true, true, true
	case optRecursive:
		o.Recursive, p.rExplicit = true, true
	case optNoRecursive:
		o.Recursive, p.rExplicit = false, false
	case optDirs:
		o.Dirs = On
	case optNoDirs:
		o.Dirs = Off
	case optPerms, optNoPerms:
		o.Perms = s.id == optPerms
	case optTimes, optNoTimes:
		o.Times = s.id == optTimes
	case optOwner, optNoOwner:
		o.Owner = s.id == optOwner
	case optGroup, optNoGroup:
		o.Group = s.id == optGroup
	case optDevSpecials, optNoDevSpecials:
		o.Devices = s.id == optDevSpecials
		o.Specials = o.Devices
	case optDevices, optNoDevices:
		o.Devices = s.id == optDevices
	case optSpecials, optNoSpecials:
		o.Specials = s.id == optSpecials
	case optLinks, optNoLinks:
		o.Links = s.id == optLinks
	case optIgnoreTimes:
		o.IgnoreTimes = true
	case optSizeOnly:
		o.SizeOnly = true
	case optWholeFile:
		o.WholeFile = On
	case optNoWholeFile:
		o.WholeFile = Off
	case optChecksum, optNoChecksum:
		o.Checksum = s.id == optChecksum
	case optChecksumChoice:
		o.ChecksumChoice, p.ccSet = val, true
	case optNumericIDs, optNoNumericIDs:
		o.NumericIDs = s.id == optNumericIDs
	case optEightBit, optNoEightBit:
		o.EightBit = s.id == optEightBit
	case optRsh:
		// In server mode the client uses -e to pass its capabilities.
		if o.Server {
			o.ClientInfo = val
		} else {
			o.Rsh, o.RshSet = val, true
		}
	case optRsyncPath:
		o.RsyncPath = val
	case optProtocol:
		n, reason := parseCInt(val)
		if reason != "" {
			return p.fail("--protocol", reason)
		}
		o.Protocol = n
	case optServer:
		if !o.Server {
			// rsync restarts parsing from the first argument once it knows
			// it is a server, keeping what it has set so far.
			o.Server = true
			o.Args = o.Args[:0]
			p.next = 0
			p.rest = false
		}
	case optSender:
		if !o.Server {
			return &UsageError{Option: "--sender", Reason: "only valid with --server", ShowUsage: true}
		}
		o.Sender = true
	default:
		return p.unsupported(optName(s))
	}
	return nil
}

func optName(s *optSpec) string {
	if s.long != "" {
		return "--" + s.long
	}
	return "-" + string(s.short)
}

// parseCInt converts an option value the way popt's POPT_ARG_INT does: C
// strtoll with base 0 (so "0x1e" and "036" are 30), leading blanks allowed,
// the whole string consumed, and the result within a C int. An empty value
// is 0. It returns popt's reason on failure.
// rsync: popt/popt.c poptParseInteger, poptSaveArg
func parseCInt(s string) (int, string) {
	t := strings.TrimLeft(s, " \t\n\v\f\r")
	if t == "" {
		if s == "" {
			return 0, ""
		}
		return 0, reasonBadNumber // strtoll consumed nothing
	}
	neg := false
	if t[0] == '+' || t[0] == '-' {
		neg = t[0] == '-'
		t = t[1:]
	}
	base := 10
	switch {
	case len(t) > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X') && isHex(t[2]):
		base, t = 16, t[2:]
	case len(t) > 1 && t[0] == '0':
		base, t = 8, t[1:]
	}
	if t == "" {
		return 0, reasonBadNumber
	}
	// strtoll stops at the first bad character; popt then rejects the
	// leftover, so syntax is checked before range.
	for i := 0; i < len(t); i++ {
		if d := digitVal(t[i]); d >= base {
			return 0, reasonBadNumber
		}
	}
	u, err := strconv.ParseUint(t, base, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return 0, reasonOverflow
		}
		return 0, reasonBadNumber
	}
	const intMax = 1<<31 - 1
	if (!neg && u > intMax) || (neg && u > intMax+1) {
		return 0, reasonOverflow
	}
	n := int(u)
	if neg {
		n = -n
	}
	return n, ""
}

// digitVal is c's value as a digit in any base up to 16, or 99.
func digitVal(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return 99
}

func isHex(c byte) bool { return digitVal(c) < 16 }
