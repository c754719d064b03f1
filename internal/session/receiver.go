package session

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/gorsync/gorsync/internal/engine"
	"github.com/gorsync/gorsync/internal/exitcode"
	"github.com/gorsync/gorsync/internal/filter"
	"github.com/gorsync/gorsync/internal/flist"
	"github.com/gorsync/gorsync/internal/fsys"
	"github.com/gorsync/gorsync/internal/options"
)

// receiveSide receives the file list into dst and runs generator and receiver.
func receiveSide(c *engine.Conn, eo *engine.Options, dst string, server bool, ff *filesFrom) (*Stats, error) {
	rs := &engine.Receiving{Conn: c, Opts: eo}
	fo := flistOptions(c.Session, eo)
	inc := c.Session.IncRecurse()
	progress := !server && eo.Info.Flist > 0 && !eo.Quiet
	if progress {
		// With incremental recursion rsync announces the lists to come
		// instead of a whole one. rsync: flist.c recv_file_list
		if inc {
			clientOnly(c, "receiving incremental file list\n")
		} else {
			clientOnly(c, "receiving file list ... ")
		}
	}
	if !server {
		logOnly(c, "receiving file list\n")
	}
	if !server {
		// Every list that follows the first is vetted as it comes.
		rs.CheckList = func(l *flist.List) error { return vetList(l, eo, c.Session.Protocol) }
	}
	ff.start(c)
	if err := rs.RecvFileList(&fo); err != nil {
		return nil, err
	}
	if err := ff.wait(); err != nil {
		return nil, err
	}
	if !server {
		if err := vetList(rs.List, eo, c.Session.Protocol); err != nil {
			return nil, err
		}
	}
	finishList(rs, eo)
	// -q drops "done" from the terminal only: the log file has it.
	// rsync: log.c rwrite
	if !server && eo.Info.Flist > 0 && !inc {
		c.Log.Info("done\n")
	}
	if err := rs.RecvAdditionalFileList(); err != nil {
		return nil, err
	}
	if len(rs.List.Entries) == 0 && !server {
		// Nothing to receive: rsync's client skips the transfer and
		// reports only the sender's I/O errors. rsync: main.c client_run
		rs.Stats.TotalWritten, rs.Stats.TotalRead = c.BytesWritten(), c.BytesRead()
		return &rs.Stats, c.Result(0)
	}
	if eo.Select.ListOnly {
		// rsync's get_local_name touches nothing when only listing.
		rs.DryRunMissing = true
		err := rs.Run(server)
		return &rs.Stats, err
	}
	n := rs.FileTotal()
	var made *fsys.PathDir // the deepest directory --mkpath made
	if eo.Select.Mkpath {
		var err error
		if made, err = mkpath(c, n, dst, eo); err != nil {
			return nil, idle(err, server)
		}
		if made != nil {
			defer made.Close()
		}
	}
	root, local, created, err := localName(rs.List, n, dst, eo, made)
	if err != nil {
		return nil, idle(err, server)
	}
	// rsync: main.c get_local_name (INFO_GTE(NAME, 1) || stdout_format_has_i)
	if created && (eo.Info.Name > 0 || eo.Out.HasI > 0) {
		c.Log.Info(fmt.Sprintf("created directory %s\n", strings.TrimSuffix(dst, "/")))
	}
	rs.RootCreated = created
	if root == nil {
		rs.DryRunMissing = true // a dry run into a directory that is not there
	} else {
		defer root.Close()
	}
	rs.Root, rs.LocalName = root, local
	err = rs.Run(server)
	return &rs.Stats, err
}

// idle marks, on a server, an error met while the connection is sound and
// only this goroutine reads it (see serverFailed).
func idle(err error, server bool) error {
	if !server {
		return err
	}
	return &idleError{err}
}

// vetList refuses, on a receiving client, a list naming what the client
// did not ask for or excluded.
func vetList(l *flist.List, eo *engine.Options, protocol int) error {
	if err := rejectExcluded(l, eo.SentRules, protocol, eo.SentCVS); err != nil {
		return err
	}
	return rejectUnrequested(l, eo.Requested)
}

// localName opens the destination as rsync's get_local_name decides: an
// existing directory, a directory to create, or a single file's new name.
// n is how many entries came (Receiving.FileTotal). made, if not nil, is
// the deepest directory --mkpath made on the way: the destination beneath
// it is reached through it, not by name again.
func localName(list *flist.List, n int, dst string, eo *engine.Options, made *fsys.PathDir) (root *fsys.Root, name string, created bool, err error) {
	if dst == "" {
		dst = "."
	}
	if made != nil && samePath(made.Path(), dst) {
		// --mkpath made the destination itself: it is that directory,
		// whatever its path names by now.
		r, err := made.Root(eo.IO)
		if err != nil {
			return nil, "", false, &exitcode.Error{Code: exitcode.FileSelect, Msg: fmt.Sprintf("change_dir#1 %q failed: %v", dst, err)}
		}
		return r, "", false, nil
	}
	st, serr := os.Stat(dst)
	err = serr
	trailing := strings.HasSuffix(dst, "/")
	if err == nil {
		if st.IsDir() {
			r, err := openRoot(dst, made, eo)
			if err != nil {
				return nil, "", false, &exitcode.Error{Code: exitcode.FileSelect, Msg: fmt.Sprintf("change_dir#1 %q failed: %v", dst, err)}
			}
			return r, "", false, nil
		}
		if n > 1 {
			return nil, "", false, &exitcode.Error{Code: exitcode.FileSelect, Msg: "ERROR: destination must be a directory when copying more than 1 file"}
		}
		if n == 1 && list.Entries[0].IsDir() {
			return nil, "", false, &exitcode.Error{Code: exitcode.FileSelect, Msg: "ERROR: cannot overwrite non-directory with a directory"}
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		// rsync: main.c get_local_name (rsyserr, full_fname)
		return nil, "", false, &exitcode.Error{Code: exitcode.FileSelect, Msg: fmt.Sprintf("%s: [Receiver] ERROR: cannot stat destination %q: %s", options.ProgName, absPathSlash(dst), strerror(err))}
	}
	if n > 1 || trailing {
		d := strings.TrimSuffix(dst, "/")
		if err == nil {
			return nil, "", false, &exitcode.Error{Code: exitcode.Syntax, Msg: "ERROR: destination path is not a directory"}
		}
		if eo.DryRun {
			// rsync's dry_run++: report everything as new, touch nothing.
			return nil, "", true, nil
		}
		// Made and entered through its parent's descriptor: a link
		// swapped in for it meanwhile is an error, not the destination.
		nd, err := mkdirIn(d, made, eo.Hooks.MadeDir)
		if err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) && pe.Op != "mkdir" {
				return nil, "", false, &exitcode.Error{Code: exitcode.FileSelect, Msg: fmt.Sprintf("change_dir#2 %q failed: %v", d, err)}
			}
			return nil, "", false, &exitcode.Error{Code: exitcode.FileIO, Msg: fmt.Sprintf("mkdir %q failed: %v", d, errors.Unwrap(err))}
		}
		defer nd.Close()
		r, err := nd.Root(eo.IO)
		if err != nil {
			return nil, "", false, &exitcode.Error{Code: exitcode.FileSelect, Msg: fmt.Sprintf("change_dir#2 %q failed: %v", d, err)}
		}
		return r, "", true, nil
	}
	dir, base := filepath.Split(dst)
	if dir == "" {
		dir = "."
	}
	r, err := openRoot(dir, made, eo)
	if err != nil && eo.DryRun && eo.Select.Mkpath {
		// --mkpath would have made the parent; a dry run did not.
		return nil, base, false, nil
	}
	if err != nil {
		return nil, "", false, &exitcode.Error{Code: exitcode.FileSelect, Msg: fmt.Sprintf("change_dir#3 %q failed: %v", dir, err)}
	}
	return r, base, false, nil
}

// openRoot opens the existing directory dir as the destination root, by
// its name, or through made when that is dir.
func openRoot(dir string, made *fsys.PathDir, eo *engine.Options) (*fsys.Root, error) {
	if made != nil && samePath(made.Path(), dir) {
		return made.Root(eo.IO)
	}
	return fsys.OpenRoot(dir, eo.IO)
}

// mkdirIn makes the directory d, in made when that is its parent, else in
// its parent opened by name, and tells hook (if set) it did.
func mkdirIn(d string, made *fsys.PathDir, hook func(string)) (*fsys.PathDir, error) {
	parent, base := ".", d
	if i := strings.LastIndexByte(d, '/'); i >= 0 {
		parent, base = d[:i], d[i+1:]
		if i == 0 {
			parent = "/"
		}
	}
	if made != nil && samePath(made.Path(), parent) {
		return mkdirHook(made, base, hook)
	}
	pd, err := fsys.OpenPathDir(parent)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			// As mkdir(2) of d would have failed.
			pe.Op, pe.Path = "mkdir", d
		}
		return nil, err
	}
	defer pd.Close()
	return mkdirHook(pd, base, hook)
}

// mkdirHook makes the directory name in pd and tells hook (if set).
func mkdirHook(pd *fsys.PathDir, name string, hook func(string)) (*fsys.PathDir, error) {
	nd, err := pd.Mkdir(name, 0o777)
	if err == nil && hook != nil {
		hook(nd.Path())
	}
	return nd, err
}

// samePath reports whether two spellings of a path name it the same way.
func samePath(a, b string) bool {
	return filepath.Clean(a) == filepath.Clean(b)
}

// finishList applies the tree-shape options to a received list: the
// --relative names lose their leading slashes, and -m prunes directories
// that would stay empty, keeping those the receiver's rules exclude.
func finishList(rs *engine.Receiving, eo *engine.Options) {
	if eo.Relative {
		rs.List.StripRoot()
	}
	if eo.PruneEmptyDirs {
		var keep func(string) bool
		if l := eo.Filter; l != nil && !l.Empty() {
			keep = func(name string) bool { return l.Check(name, true).Receiver == filter.Excluded }
		}
		rs.List.PruneEmptyDirs(keep)
	}
}

// mkpath creates the destination's missing path components for --mkpath
// before the destination is opened: all of them when several entries go
// into a directory named without a trailing slash, else all but the last.
// n is how many entries came (Receiving.FileTotal). It returns the deepest
// directory it made, open (nil if none). A dry run only counts them.
// rsync: main.c get_local_name, util1.c make_path
func mkpath(c *engine.Conn, n int, dst string, eo *engine.Options) (*fsys.PathDir, error) {
	if dst == "" {
		return nil, nil
	}
	if _, err := os.Stat(dst); err == nil {
		return nil, nil
	}
	slash := strings.LastIndexByte(dst, '/')
	trailing := strings.HasSuffix(dst, "/")
	if slash < 0 && n <= 1 {
		return nil, nil
	}
	dropName := n <= 1 || trailing
	made, last, err := makePath(dst, dropName, eo.DryRun, eo.Hooks.MadeDir)
	if err != nil {
		var en syscall.Errno
		errors.As(err, &en)
		return nil, &exitcode.Error{Code: exitcode.FileIO, Msg: fmt.Sprintf("rsync: [Receiver] mkdir %q failed: %s", absPath(dst), strerror(en))}
	}
	if made > 0 && (eo.Info.Name > 0 || eo.Out.HasI > 0) && !eo.Quiet {
		shown := dst
		if slash >= 0 && (n == 1 || trailing) {
			shown = dst[:slash]
		}
		plural := "ies"
		if made == 1 {
			plural = "y"
		}
		c.Log.Info(fmt.Sprintf("created %d director%s for %s\n", made, plural, shown))
	}
	return last, nil
}

// makePath creates the missing directories of path (without its last
// element when dropName), shallowest first, and returns how many it made
// and the deepest, open. Each is made in the one before through its
// descriptor (fsys.PathDir), so a directory swapped for a symbolic link
// on the way cannot lead the rest elsewhere. A dry run counts them
// without making any; hook (if set) is told of each made. rsync: util1.c
// make_path
func makePath(path string, dropName, dry bool, hook func(string)) (int, *fsys.PathDir, error) {
	for strings.HasPrefix(path, "./") {
		path = path[2:]
	}
	if dropName {
		i := strings.LastIndexByte(path, '/')
		if i <= 0 {
			return 0, nil, nil
		}
		path = path[:i]
	}
	var missing []string
	for p := path; ; {
		fi, err := os.Stat(p)
		if err == nil {
			if !fi.IsDir() {
				return 0, nil, syscall.ENOTDIR
			}
			break
		}
		if !errors.Is(err, os.ErrNotExist) {
			return 0, nil, err
		}
		missing = append(missing, p)
		i := strings.LastIndexByte(p, '/')
		if i <= 0 {
			break // "." or "/" is assumed to be there
		}
		p = p[:i]
	}
	if dry || len(missing) == 0 {
		return len(missing), nil, nil
	}
	parent := "."
	if first := missing[len(missing)-1]; strings.IndexByte(first, '/') >= 0 {
		parent = first[:strings.LastIndexByte(first, '/')]
		if parent == "" {
			parent = "/"
		}
	}
	pd, err := fsys.OpenPathDir(parent)
	if err != nil {
		return 0, nil, err
	}
	made := 0
	for j := len(missing) - 1; j >= 0; j-- {
		base := missing[j][strings.LastIndexByte(missing[j], '/')+1:]
		if base == "" {
			continue // a doubled slash: the same directory again
		}
		nd, err := mkdirHook(pd, base, hook)
		pd.Close()
		if err != nil {
			return made, nil, err
		}
		pd = nd
		made++
	}
	return made, pd, nil
}

// absPath is rsync's full_fname for a message: the path made absolute.
// absPathSlash is absPath keeping a trailing slash, as rsync's full_fname
// shows the name it was given.
func absPathSlash(p string) string {
	if strings.HasSuffix(p, "/") && p != "/" {
		return absPath(p) + "/"
	}
	return absPath(p)
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
