package options

import (
	"strconv"
	"strings"
)

// ServerArgs returns the options a client passes to the remote
// "rsync --server", starting with "--server", for the options gorsync
// implements. localSender says whether this side sends the files (a push);
// clientInfo is the capability string sent with -e, for example ".LsfxCIvu",
// and is left out, as rsync does, when Protocol forces a version below 30 or
// when it is empty.
// rsync: options.c server_options, maybe_add_e_option
func (o *Options) ServerArgs(localSender bool, clientInfo string) []string {
	args := make([]string, 0, 8)
	args = append(args, "--server")
	if !localSender {
		args = append(args, "--sender")
	}

	var b strings.Builder
	b.WriteByte('-')
	if o.SecludedArgs {
		b.WriteByte('s')
	}
	// rsync caps the v's it passes on; more mean nothing to the server.
	for i := 0; i < o.Verbose && i < 9; i++ {
		b.WriteByte('v')
	}
	flag := func(on bool, c byte) {
		if on {
			b.WriteByte(c)
		}
	}
	flag(o.Quiet > 0 && o.Msgs2Stderr != StderrClient, 'q')
	flag(o.Update, 'u')
	flag(o.DryRun, 'n')
	flag(o.Links, 'l')
	flag(o.sendDirs() || o.deleteDirs(localSender), 'd')
	flag(localSender && o.PruneEmptyDirs, 'm')
	flag(o.WholeFile == On, 'W') // --no-W is the remote default: never sent
	flag(o.Owner, 'o')
	flag(o.Group, 'g')
	flag(o.Devices, 'D') // --specials travels separately below
	flag(o.Times, 't')
	flag(o.Perms, 'p')
	flag(o.Recursive, 'r')
	flag(o.Checksum, 'c')
	flag(o.CVSExclude, 'C')
	flag(o.IgnoreTimes, 'I')
	flag(o.Relative, 'R')
	flag(o.OneFileSystem > 0, 'x')
	flag(o.OneFileSystem > 1, 'x')
	compress, choice := o.Compression()
	flag(compress && (choice == "" && o.Compress > 0 || strings.EqualFold(choice, "zlib")), 'z')
	if (o.Protocol == 0 || o.Protocol >= 30) && clientInfo != "" {
		b.WriteByte('e')
		b.WriteString(clientInfo)
	}
	if b.Len() > 1 {
		args = append(args, b.String())
	}

	if o.ListOnlyOpt {
		args = append(args, "--list-only")
	}
	args = o.noRecurseArg(args, localSender)
	// "--devices" is not backward-compatible, so -D stands for it and the
	// difference from -D is spelled out.
	if o.Devices && !o.Specials {
		args = append(args, "--no-specials")
	} else if !o.Devices && o.Specials {
		args = append(args, "--specials")
	}
	args = o.msgs2stderrArg(args)
	if compress && o.CompressLevelSet {
		args = append(args, "--compress-level="+strconv.Itoa(o.CompressLevel))
	}
	if localSender {
		args = o.logFormatArg(args)
	}
	args = o.limitArgs(args)
	if o.ChecksumChoice != "" {
		args = append(args, safeArg("--checksum-choice", o.ChecksumChoice))
	}
	switch {
	case strings.EqualFold(o.CompressChoice, "zlibx"):
		args = append(args, "--new-compress")
	case strings.EqualFold(o.CompressChoice, "zlib"):
		args = append(args, "--old-compress")
	case o.CompressChoice != "":
		args = append(args, safeArg("--compress-choice", o.CompressChoice))
	}
	if localSender {
		args = o.deleteArgs(args, localSender, 0)
		args = o.sizeArgs(args)
		args = o.deleteArgs(args, localSender, 1)
		if o.WriteBatch < 0 {
			// The receiver sends sums for the data only the batch
			// gets. rsync: options.c server_options
			args = append(args, "--only-write-batch=X")
		}
		if o.SizeOnly {
			args = append(args, "--size-only")
		}
		if o.Stats {
			args = append(args, "--stats")
		}
	} else if o.SkipCompressSet {
		args = append(args, safeArg("--skip-compress", o.SkipCompress))
	}
	args = o.maxAllocArg(args)
	args = o.missingArgsArgs(args, localSender)
	args = o.modifyWindowArg(args, localSender)
	args = o.ignoreErrorsArg(args)
	if o.NumericIDs {
		args = append(args, "--numeric-ids")
	}
	args = o.existingArgs(args, localSender)
	args = o.outputArgs(args, localSender)
	args = o.treeShapeArgs(args, localSender)
	args = o.removeSourceArgs(args, localSender)
	return args
}

// sendDirs reports whether the server must be told -d: an explicit --dirs
// without --recursive, or rsync's implied --dirs when listing.
func (o *Options) sendDirs() bool {
	if o.Recursive {
		return false
	}
	return o.Dirs == On || (o.Dirs == Unset && o.ListOnly)
}

// RemoteArgs returns the whole argv for the remote rsync after its program
// name: ServerArgs, the "." placeholder, and the remote paths quoted for the
// remote shell the way rsync quotes them.
// rsync: main.c do_cmd
func (o *Options) RemoteArgs(localSender bool, clientInfo string, paths []string) []string {
	args := o.ServerArgs(localSender, clientInfo)
	args = append(args, ".")
	for _, p := range paths {
		args = append(args, o.quoteRemotePath(p, localSender))
	}
	return args
}

// Characters the remote shell would interpret, and the wildcards that are
// left alone in paths (so the remote shell may expand them) but quoted in
// option values. rsync: options.c safe_arg SHELL_CHARS, WILD_CHARS
const (
	shellChars = "!#$&;|<>(){}\"'` \t\n\r\\"
	wildChars  = "*?[]"
)

// QuotePath quotes a remote path for the remote shell as rsync does: shell
// characters get a backslash, wildcards stay live, a leading '-' becomes
// "./-", and a leading '~' is escaped when we receive and the path has no
// '/' (so a peer cannot name files outside the requested tree by "~user").
// rsync: options.c safe_arg (for a file name, without --old-args,
// --secluded-args, --relative or --trust-sender)
func QuotePath(p string, localSender bool) string {
	var b strings.Builder
	if strings.HasPrefix(p, "-") {
		b.WriteString("./")
	}
	if strings.HasPrefix(p, "~") && !localSender && !strings.Contains(p, "/") {
		b.WriteByte('\\')
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '\\' {
			// A backslash before a wildcard keeps the wildcard literal
			// remotely, so it passes through undoubled.
			if i+1 >= len(p) || strings.IndexByte(wildChars, p[i+1]) < 0 {
				b.WriteByte('\\')
			}
		} else if strings.IndexByte(shellChars, c) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	return b.String()
}

// safeArg renders "opt=value" with every shell character and wildcard in
// value escaped. rsync: options.c safe_arg (for an option)
func safeArg(opt, val string) string {
	var b strings.Builder
	b.WriteString(opt)
	b.WriteByte('=')
	for i := 0; i < len(val); i++ {
		c := val[i]
		if strings.IndexByte(shellChars, c) >= 0 || strings.IndexByte(wildChars, c) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	return b.String()
}

// StdoutFormat returns what a side prints per item: rsync's stdout_format
// (-i's "%i %n%L", --out-format, or -v's "%n%L"; on is false for none),
// stdout_format_has_i (1 with %i, more with -ii or a server's %I) and
// whether the format has %i or %o, which deletions print with.
// rsync: options.c parse_arguments
func (o *Options) StdoutFormat() (format string, on bool, hasI int, hasOorI bool) {
	on = true
	switch {
	case o.OutFormatSet:
		format = o.OutFormat
		if o.Server && FormatHas(format, 'I') {
			hasI = 2
		} else if FormatHas(format, 'i') {
			hasI = o.Itemize | 1
		}
	case o.Itemize > 0:
		format, hasI = "%i %n%L", o.Itemize
	case o.Info[InfoName] >= 1:
		// rsync: options.c parse_arguments (INFO_GTE(NAME, 1))
		format = "%n%L"
	default:
		on = false
	}
	return format, on, hasI, hasI > 0 || FormatHas(format, 'o')
}

// FormatHas reports whether an out-format uses the escape esc, skipping
// the flags and width between '%' and the letter as the expansion does.
// rsync: log.c log_format_has
func FormatHas(format string, esc byte) bool {
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		i++
		for i < len(format) && format[i] == '\'' {
			i++
		}
		width := 1
		if i < len(format) && format[i] == '-' {
			i, width = i+1, width+1
		}
		for i < len(format) && format[i] >= '0' && format[i] <= '9' && width < 32-8 {
			i, width = i+1, width+1
		}
		for i < len(format) && format[i] == '\'' {
			i++
		}
		if i >= len(format) {
			return false
		}
		if format[i] == esc {
			return true
		}
		// "%%" is a literal '%': the loop's i++ steps over it.
	}
	return false
}

// logFormatArg is the --log-format a pushing client gives the server's
// receiver: not its own format, only what the server needs to know of it,
// whether to itemize every entry (%I) or the changed ones.
// rsync: options.c server_options
func (o *Options) logFormatArg(args []string) []string {
	_, on, hasI, hasOorI := o.StdoutFormat()
	switch {
	case !on:
	case hasI > 1:
		args = append(args, "--log-format=%i%I")
	case hasI > 0:
		args = append(args, "--log-format=%i")
	case hasOorI:
		args = append(args, "--log-format=%o")
	case o.Verbose == 0:
		args = append(args, "--log-format=X")
	}
	return args
}

// LogFormat returns what --log-file records per entry: its format
// (--log-file-format, else "%i %n%L"; on is false without --log-file),
// whether it has %i, and whether it has %i or %o.
// rsync: options.c parse_arguments (logfile_format)
func (o *Options) LogFormat() (format string, on, hasI, hasOorI bool) {
	if o.LogFile == "" {
		return "", false, false, false
	}
	format = "%i %n%L"
	if o.LogFileFormatSet {
		format = o.LogFileFormat
	}
	hasI = FormatHas(format, 'i')
	return format, true, hasI, hasI || FormatHas(format, 'o')
}
