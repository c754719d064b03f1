package engine

import (
	"fmt"

	"github.com/gorsync/gorsync/internal/exitcode"
	"github.com/gorsync/gorsync/internal/flist"
)

// treeState is what the generator remembers between entries to check
// that each entry's parent came first. rsync: generator.c recv_generator
// (parent_dirname, prior_dir_file)
type treeState struct {
	parent   string // the last parent directory checked
	checked  bool
	priorDir string // the last directory handled
}

// checkParent makes sure an entry's parent directory is in the list, as
// rsync's generator insists (a sender that leaves it out is broken or
// hostile), and, under --relative with --no-implied-dirs, creates the
// parent directories the transfer does not carry.
// rsync: generator.c recv_generator
func (g *generator) checkParent(e *flist.Entry) error {
	if g.rs.DryRunMissing || g.rs.LocalName != "" {
		return nil
	}
	dn := e.Dir
	if dn == "" {
		dn = "."
	}
	if g.tree.checked && g.tree.parent == dn {
		return nil
	}
	// With incremental recursion each list's entries were checked to lie
	// in its directory as they arrived (flist.Decoder).
	if !g.inc && dn != "." && dn != g.tree.priorDir {
		ok := false
		if j := g.list.FindName(dn, -1); j >= 0 {
			f := g.list.Entries[j]
			ok = f.IsDir() || (g.opts.MissingArgs == flist.DeleteMissing && e.Mode == 0 && f.Mode == 0)
		}
		switch {
		case !ok && g.opts.MissingArgs == flist.DeleteMissing && e.Mode == 0:
			g.c.Log.Error(fmt.Sprintf("WARNING: parent dir is absent in the file list: %s\n", dn))
		case !ok:
			return &exitcode.Error{Code: exitcode.Protocol, Msg: fmt.Sprintf("ABORTING due to invalid path from sender: %s/%s", dn, e.Base)}
		}
	}
	if g.opts.Relative && !g.opts.ImpliedDirs && e.Mode != 0 && !g.opts.DryRun {
		if _, err := g.root.LstatT(dn); err != nil {
			if err := g.root.MkdirAll(dn, 0o777); err != nil {
				g.errorf("rsync: [generator] recv_generator: mkdir %q failed: %v\n", dn, unwrapPathErr(err))
			}
		}
	}
	g.tree.parent, g.tree.checked = dn, true
	return nil
}

// skipImplied reports a directory sent only as a parent of a --relative
// path when the receiver was told --no-implied-dirs: it is not created
// or changed. rsync: generator.c recv_generator (FLAG_IMPLIED_DIR)
func (g *generator) skipImplied(e *flist.Entry) bool {
	return !g.opts.ImpliedDirs && e.Flags&flist.FlagImpliedDir != 0
}
