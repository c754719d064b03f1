package rsync

import (
	"errors"
	"os"
	"path/filepath"

	"github.com/gorsync/gorsync/internal/engine"
	"github.com/gorsync/gorsync/internal/filter"
	"github.com/gorsync/gorsync/internal/flist"
	"github.com/gorsync/gorsync/internal/options"
)

// deleteOptions copies the deletion options into the roles' options.
func deleteOptions(o *options.Options, eo *engine.Options) {
	switch {
	case o.DeleteBefore:
		eo.Delete = engine.DeleteBefore
	case o.DeleteDuring == 2:
		eo.Delete = engine.DeleteDelay
	case o.DeleteDuring == 1:
		eo.Delete = engine.DeleteDuring
	case o.DeleteAfter:
		eo.Delete = engine.DeleteAfter
	case o.Delete:
		eo.Delete = engine.DeleteAuto
	}
	eo.Force, eo.IgnoreErrors, eo.MissingArgs = o.Force, o.IgnoreErrors, o.MissingArgs
	eo.LimitDelete, eo.MaxDelete = o.MaxDeleteSet, o.MaxDelete
}

// serverReceiverFilters reads the rules a client sends to a receiving
// server that deletes (or prunes), and adds -C's, as rsync's
// recv_filter_list does; they protect destination entries from deletion.
func serverReceiverFilters(c *engine.Conn, o *options.Options, eo *engine.Options, dst string) error {
	var rules []string
	if o.ReceiverWantsFilters(c.Session.Protocol) {
		var err error
		if rules, err = filter.ReadRules(c.R); err != nil {
			return err
		}
	}
	l, err := filter.Receive(rules, c.Session.Protocol, false, o.CVSExclude, filter.Options{
		Protocol: c.Session.Protocol, Home: os.Getenv("HOME"), CVSIgnore: os.Getenv("CVSIGNORE"), Who: "receiver",
		DeleteExcluded: o.DeleteExcluded, AbsRoot: absDir(dst),
		Warn: func(msg string) { c.Log.Warning(msg) },
	})
	if err != nil {
		return wireRuleError(err)
	}
	eo.Filter = l
	return nil
}

// localReceiverFilters gives a local copy's receiving side the rules the
// client parsed (l, its own copy), with -C's rules added for a receiver,
// as rsync's local server keeps the parsed list it inherits across its
// fork instead of reading the rules from the wire. Parsing them again
// would read a list from standard input twice.
// rsync: exclude.c recv_filter_list (local_server)
func localReceiverFilters(o *options.Options, l *filter.List, protocol int, eo *engine.Options) error {
	if !o.Delete && o.MissingArgs != 2 && !o.PruneEmptyDirs {
		return nil
	}
	if l == nil {
		return errNoClientRules
	}
	if _, err := l.SendList(protocol, false, o.CVSExclude); err != nil {
		return err
	}
	eo.Filter = l
	return nil
}

// errNoClientRules stops a local copy's receiving side whose client failed
// before parsing its rules; the client's error is the one reported.
var errNoClientRules = errors.New("local copy: the client parsed no filter rules")

// absDir returns dir as an absolute, clean path, or "" if it cannot.
func absDir(dir string) string {
	a, err := filepath.Abs(dir)
	if err != nil {
		return ""
	}
	return a
}

// uncountMissing takes the --delete-missing-args entries (mode 0) out of
// the sender's special-file count: rsync's sender counts them as no type,
// so its --stats shows them among the regular files (its receiver counts
// them as specials). rsync: flist.c send_file_entry
func uncountMissing(list *flist.List, st *engine.Stats) {
	for _, e := range list.Entries {
		if e.Mode == 0 {
			st.NumSpecials--
		}
	}
}
