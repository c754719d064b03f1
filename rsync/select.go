package rsync

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/gorsync/gorsync/internal/engine"
	"github.com/gorsync/gorsync/internal/flist"
	"github.com/gorsync/gorsync/internal/options"
)

// selectOptions converts the receiver-side selection, listing and
// source-removal options for the roles.
func selectOptions(o *options.Options, local bool) engine.SelectOptions {
	maxSize, minSize := o.SizeLimits()
	window := 0
	if o.ModifyWindowSet {
		window = o.ModifyWindow
	}
	return engine.SelectOptions{
		MaxSize: maxSize, MinSize: minSize,
		IgnoreNonExisting: o.Existing, IgnoreExisting: o.IgnoreExisting,
		Update: o.Update, ModifyWindow: window,
		RemoveSource: o.RemoveSource, LocalServer: local,
		ListOnly: o.ListOnly || o.ListOnlyOpt, Human: o.HumanReadable,
		Mkpath: o.Mkpath,
	}
}

// watchSuccess lets a sender remove the source files the receiver reports
// in place (--remove-source-files, --remove-sent-files).
func watchSuccess(c *engine.Conn, eo *engine.Options, list *flist.List) {
	h := &engine.SuccessHandler{List: list, Opts: eo, Conn: c, Path: func(e *flist.Entry) string { return sourcePath(list, e) }}
	c.OnSuccess = h.Handle
}

// sourcePath is the path of a list entry's file on the sender's disk.
func sourcePath(list *flist.List, e *flist.Entry) string {
	path := e.Name()
	if e.Root >= 0 && int(e.Root) < len(list.Roots) && list.Roots[e.Root] != "" {
		path = filepath.Join(list.Roots[e.Root], path)
	}
	return path
}

// mkpath creates the destination's missing path components for --mkpath
// before the destination is opened: all of them when several entries go
// into a directory named without a trailing slash, else all but the last.
// A dry run only counts them. rsync: main.c get_local_name, util1.c
// make_path
func mkpath(c *engine.Conn, list *flist.List, dst string, eo *engine.Options) error {
	n := 0
	for _, e := range list.Entries {
		if e.Active() {
			n++
		}
	}
	if dst == "" {
		return nil
	}
	if _, err := os.Stat(dst); err == nil {
		return nil
	}
	slash := strings.LastIndexByte(dst, '/')
	trailing := strings.HasSuffix(dst, "/")
	if slash < 0 && n <= 1 {
		return nil
	}
	dropName := n <= 1 || trailing
	made, err := makePath(dst, dropName, eo.DryRun)
	if err != nil {
		var en syscall.Errno
		errors.As(err, &en)
		return &engine.ExitError{Code: engine.ExitFileIO, Msg: fmt.Sprintf("rsync: [Receiver] mkdir %q failed: %s", absPath(dst), strerror(en))}
	}
	if made > 0 && eo.Verbose > 0 && !eo.Quiet {
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
	return nil
}

// makePath creates the missing directories of path (without its last
// element when dropName), shallowest first, and returns how many it made;
// a dry run counts them without making any. rsync: util1.c make_path
func makePath(path string, dropName, dry bool) (int, error) {
	for strings.HasPrefix(path, "./") {
		path = path[2:]
	}
	if dropName {
		i := strings.LastIndexByte(path, '/')
		if i <= 0 {
			return 0, nil
		}
		path = path[:i]
	}
	var missing []string
	for p := path; ; {
		fi, err := os.Stat(p)
		if err == nil {
			if !fi.IsDir() {
				return 0, syscall.ENOTDIR
			}
			break
		}
		if !errors.Is(err, os.ErrNotExist) {
			return 0, err
		}
		missing = append(missing, p)
		i := strings.LastIndexByte(p, '/')
		if i <= 0 {
			break // "." or "/" is assumed to be there
		}
		p = p[:i]
	}
	made := 0
	for j := len(missing) - 1; j >= 0; j-- {
		if !dry {
			if err := os.Mkdir(missing[j], 0o777); err != nil {
				return made, err
			}
		}
		made++
	}
	return made, nil
}

// absPath is rsync's full_fname for a message: the path made absolute.
func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
