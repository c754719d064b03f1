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
	// rsync caps the v's it passes on; more mean nothing to the server.
	for i := 0; i < o.Verbose && i < 9; i++ {
		b.WriteByte('v')
	}
	flag := func(on bool, c byte) {
		if on {
			b.WriteByte(c)
		}
	}
	flag(o.Quiet > 0, 'q')
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
	if compress && o.CompressLevelSet {
		args = append(args, "--compress-level="+strconv.Itoa(o.CompressLevel))
	}
	// --progress turns on the client's "%n%L" lines, which a sender
	// tells its server of unless -v says as much. rsync: options.c
	// server_options (stdout_format && am_sender)
	if localSender && o.ProgressNames && o.Verbose == 0 {
		args = append(args, "--log-format=X")
	}
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
		if o.SizeOnly {
			args = append(args, "--size-only")
		}
		if o.Stats {
			args = append(args, "--stats")
		}
	} else if o.SkipCompressSet {
		args = append(args, safeArg("--skip-compress", o.SkipCompress))
	}
	args = o.missingArgsArgs(args, localSender)
	args = o.modifyWindowArg(args, localSender)
	if o.Partial && localSender {
		args = append(args, "--partial")
	}
	args = o.ignoreErrorsArg(args)
	if o.NumericIDs {
		args = append(args, "--numeric-ids")
	}
	args = o.existingArgs(args, localSender)
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
		args = append(args, QuotePath(p, localSender))
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
