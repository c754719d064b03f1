package options

import "strings"

// treeShape resolves the options that shape the transferred tree once the
// whole command line is read: --files-from turns off the recursion -a
// implied (not an explicit -r) and implies -R, implied directories need
// -R, and a files-from file may live on the remote host.
// rsync: options.c parse_arguments (after the option loop)
func (p *parser) treeShape() error {
	o := p.o
	if o.FilesFrom != "" && !p.rExplicit {
		o.Recursive = false
	}
	switch p.relative {
	case On:
		o.Relative = true
	case Off:
		o.Relative = false
	default:
		o.Relative = o.FilesFrom != ""
	}
	o.ImpliedDirs = o.Relative && !p.noImplied
	if o.FilesFrom == "" {
		return nil
	}
	n := len(o.Args)
	if n > 2 || (!o.Server && n == 1) {
		return &UsageError{Reason: "--files-from needs exactly one source and one destination", ShowUsage: true}
	}
	if o.FilesFrom == "-" {
		return nil
	}
	host, path, ok := splitHostSpec(o.FilesFrom)
	if !ok {
		return nil
	}
	if o.Server {
		return &UsageError{Reason: "The --files-from sent to the server cannot specify a host.", Server: true}
	}
	if path == "-" {
		return &UsageError{Reason: "Invalid --files-from remote filename"}
	}
	o.FilesFrom, o.FilesFromHost, o.FilesFromRemote = path, host, true
	return nil
}

// splitHostSpec splits "host:path" (or ":path") the way rsync's
// check_for_hostspec does for a remote shell: a colon before any slash.
// rsync: main.c check_for_hostspec, parse_hostspec
func splitHostSpec(s string) (host, path string, ok bool) {
	if strings.HasPrefix(s, "[") {
		if i := strings.Index(s, "]:"); i > 0 && !strings.Contains(s[:i], "/") {
			return s[1:i], s[i+2:], true
		}
		return "", "", false
	}
	i := strings.IndexByte(s, ':')
	if i < 0 || strings.Contains(s[:i], "/") {
		return "", "", false
	}
	// "host::module" is a daemon's; gorsync has no daemon client yet.
	return s[:i], s[i+1:], true
}

// filesFromDirs reports whether --files-from turned on rsync's
// xfer_dirs without -d being given (so it is not passed on as -d).
func (o *Options) filesFromDirs() bool {
	return o.FilesFrom != "" && o.Dirs == Unset
}

// treeShapeArgs appends the server arguments for --files-from and
// --no-implied-dirs. A receiving client forwards its local list over the
// connection ("--files-from=-", always NUL-separated); a remote list is
// named for the server to read. rsync: options.c server_options
func (o *Options) treeShapeArgs(args []string, localSender bool) []string {
	if o.FilesFrom != "" && (!localSender || o.FilesFromRemote) {
		if o.FilesFromRemote {
			args = append(args, "--files-from", safeArg("", o.FilesFrom)[1:])
			if o.From0 {
				args = append(args, "--from0")
			}
		} else {
			args = append(args, "--files-from=-", "--from0")
		}
		if !o.Relative {
			args = append(args, "--no-relative")
		}
	}
	// rsync checks the protocol it would speak at most, before connecting.
	if o.Relative && !o.ImpliedDirs && (!localSender || o.Protocol == 0 || o.Protocol >= 30) {
		args = append(args, "--no-implied-dirs")
	}
	return args
}
