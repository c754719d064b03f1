package engine

import "github.com/gorsync/gorsync/internal/flist"

// itemName is rsync's default -v line for an entry ("%n%L"): the name, a
// trailing slash on directories, " -> target" after symlinks.
// rsync: log.c log_formatted
func itemName(e *flist.Entry, localName string) string {
	name := e.Name()
	if localName != "" {
		name = localName
	}
	switch {
	case e.IsDir():
		if name == "." {
			return "./"
		}
		return name + "/"
	case e.IsSymlink():
		return name + " -> " + e.LinkTarget()
	}
	return name
}

// logUntransferred prints the -v line for an entry that was not transferred
// but changed: a new directory, a created link or special file.
// rsync: sender.c/receiver.c maybe_log_item (without -i)
func logUntransferred(log Logger, o *Options, e *flist.Entry, localName string, iflags uint32) {
	if !o.names() || o.Quiet {
		return
	}
	sig := iflags & significantItemFlags
	if sig == 0 || (iflags&itemLocalChange == 0 && !e.IsDir()) {
		return
	}
	log.Info(itemName(e, localName) + "\n")
}

// names reports whether a client prints each transferred entry's name:
// with -v, or with --progress, which turns on rsync's INFO_NAME.
// rsync: options.c parse_arguments (do_progress)
func (o *Options) names() bool { return o.Verbose > 0 || o.ProgressNames }
