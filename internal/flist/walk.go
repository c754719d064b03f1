package flist

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/gorsync/gorsync/internal/fastio"
)

// Severity classifies a walk problem the way rsync's log codes do.
type Severity int

// Problem severities.
const (
	// SeverityInfo is an rprintf(FINFO) note such as "skipping directory".
	SeverityInfo Severity = iota
	// SeverityWarning is an FWARNING such as a vanished file (exit 24).
	SeverityWarning
	// SeverityError is an FERROR_XFER transfer error (exit 23).
	SeverityError
)

// Problem is one message the walk would have rsync print. Msg is rsync's
// text without the "rsync: [sender] " prefix; when Err is set, rsync's
// rsyserr appends ": strerror (errno)" to it.
type Problem struct {
	Severity Severity
	Msg      string
	Err      error
}

// String renders the problem as rsync would print it, minus the prefix
// and with Go's (not C's) error text.
func (p Problem) String() string {
	if p.Err != nil {
		return p.Msg + ": " + p.Err.Error()
	}
	return p.Msg
}

// WalkOptions selects what the sender's walk includes.
type WalkOptions struct {
	// Recurse is -r; Dirs is -d (implied by Recurse).
	Recurse, Dirs bool
	// IO says which fast paths the walk takes: Batch (getdents64 and
	// stats relative to the directory), Parallel with Batch (directories
	// listed ahead by helpers), Uring with both (their entries stat'ed in
	// one io_uring batch).
	IO fastio.Config
	// CopyDirlinks is -k: symlinks to directories are followed.
	CopyDirlinks bool
	// Checksum, if set, computes a regular file's whole-file sum for
	// --checksum from its descriptor, opened by the walk (relative to its
	// directory, not through a symbolic link), which Checksum closes; on
	// error the sum is ChecksumLen zero bytes, as in rsync.
	Checksum    func(fd int) ([]byte, error)
	ChecksumLen int
	// MissingArgs is what a source argument that does not exist becomes.
	MissingArgs MissingArgs
	// Atimes keeps non-directories' access times (--atimes); HardLinks
	// keeps their device, inode and link count (-H). Without them entries
	// carry neither.
	Atimes, HardLinks bool
	// Exclude, if set, reports whether the filter rules exclude a name
	// found inside a directory (or a top-level name that is not a dot-dir).
	Exclude func(name string, isDir bool) bool
	// EnterDir, if set, is called before a directory's entries are listed
	// (dir relative to root, the current argument's directory), and
	// LeaveDir after them and their subdirectories: per-directory filter
	// merge files come and go with them. An error from EnterDir (a bad
	// rule in a merge file) ends the walk, and Build returns it.
	// rsync: flist.c send_directory (push_local_filters,
	// pop_local_filters).
	EnterDir func(root, dir string) error
	LeaveDir func()
	// Report receives each message rsync would print; nil drops them.
	Report func(Problem)
	// FS is the filesystem to walk; nil means OSFS.
	FS FS
	// Cwd is the directory relative arguments start from, for messages
	// (rsync's full_fname); "" means os.Getwd.
	Cwd string

	// Relative is -R: each argument's path is kept, from a "/./" marker
	// if it has one. ImpliedDirs sends the argument's parent
	// directories first (flagged as implied).
	Relative, ImpliedDirs bool
	// OneFileSystem is -x's count: a directory on another filesystem
	// than its argument is sent without its contents (once) or left out
	// (twice).
	OneFileSystem int
	// Names, if set, replaces the arguments with --files-from names: it
	// returns the next name, or ok == false at the end. The names are
	// relative to BaseDir (the one source argument).
	Names   func() (name string, ok bool, err error)
	BaseDir string

	// Added, if set, receives each entry as it joins the list, complete
	// and in the list's order, for the sender to write it at once as
	// rsync's send_file_name does: the peer then decodes the list while
	// the walk goes on. An error from it ends the walk, and Build returns
	// it.
	Added func(*Entry) error
}

// Name types of a source argument. rsync: flist.c NORMAL_NAME etc.
const (
	normalName = iota
	dotdirName
)

// walker is the state of one Build.
type walker struct {
	opts WalkOptions
	fs   FS
	list *List
	slab slab
	// multiArg says the walk has more than one argument (or --files-from
	// names), so that one argument's anchors may lie above another's
	// listings; dirIDs keeps the directories listed until then
	// (source.go).
	multiArg   bool
	collecting bool
	dirIDs     map[anchorKey]anchorID
	// dirSlab is where an incremental walk's directories come from.
	dirSlab slab
	root    int32  // index into list.Roots of the current argument
	rootP   string // the current root's path ("" = working directory)
	cwd     string

	base       string // --files-from's source directory ("" = cwd)
	rootDir    string // the current root as the argument named it
	lastPath   string // the last implied directory chain sent
	impliedDot int    // rsync's implied_dot_dir: -1 pending, 1 sent
	fsDev      uint64 // -x: the current argument's device
	noFilter   bool   // sending implied directories: no filters apply
	fatal      error  // stops the walk (rsync exits at once)
	dir        Dir    // the directory being listed

	names []string         // the names of the directory being listed, reused
	arena fastio.NameArena // where a batched walk's names are carved from
	ahead *walkAhead       // lists directories ahead of the walk (walkahead.go)
	next  *aheadDir        // its entry for the directory the walk lists next
	inc   *IncWalk         // set when the walk is incremental (incwalk.go)
}

// Build walks the source arguments as rsync's sender does for a
// non-incremental transfer and returns the list in sending order (call
// SortAndClean before serving indexes). "dir/" sends dir's contents with
// "." for dir itself; "dir" sends "dir" and, with -r, its contents; names
// are relative to each argument's parent. Problems on the way are
// reported and recorded in List.IOError, never fatal; the error is only
// for unusable options.
// rsync: flist.c send_file_list
func Build(args []string, opts WalkOptions) (*List, error) {
	w, err := newWalker(opts)
	if err != nil {
		return nil, err
	}
	defer w.ahead.stop()
	if err := w.sendArgs(args); err != nil {
		return nil, err
	}
	return w.list, nil
}

// newWalker returns the walk's state for opts, its look-ahead helpers
// started (stop them with w.ahead.stop).
func newWalker(opts WalkOptions) (*walker, error) {
	if opts.Checksum != nil && (opts.ChecksumLen <= 0 || opts.ChecksumLen > maxChecksumLen) {
		return nil, fmt.Errorf("flist: checksum length %d out of range", opts.ChecksumLen)
	}
	w := &walker{opts: opts, fs: opts.FS, list: &List{}, root: -1}
	if w.fs == nil {
		w.fs = OSFS{}
	}
	w.ahead = w.startAhead()
	w.opts.Dirs = opts.Dirs || opts.Recurse
	w.cwd = opts.Cwd
	if w.cwd == "" {
		if wd, err := os.Getwd(); err == nil {
			w.cwd = wd
		}
	}
	return w, nil
}

// sendArgs walks the source arguments, or --files-from's names in their
// place, into w.list.
func (w *walker) sendArgs(args []string) error {
	w.multiArg = len(args) > 1 || w.opts.Names != nil
	w.collecting = w.multiArg
	defer func() { w.dirIDs, w.collecting = nil, false }() // anchors are all known now
	if w.opts.Names != nil {
		w.base = w.opts.BaseDir
		for w.fatal == nil {
			name, ok, err := w.opts.Names()
			if err != nil {
				return err
			}
			if !ok {
				break
			}
			w.sendArg(name)
		}
	} else {
		for _, arg := range args {
			if w.fatal != nil {
				break
			}
			w.sendArg(arg)
		}
	}
	return w.fatal
}

func (w *walker) report(sev Severity, err error, format string, args ...any) {
	if w.opts.Report != nil {
		w.opts.Report(Problem{Severity: sev, Msg: fmt.Sprintf(format, args...), Err: errnoOf(err)})
	}
}

// errnoOf unwraps a path error to its errno, which is what rsync prints.
func errnoOf(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}

// fullName quotes a name the way rsync's full_fname does: absolute, from
// the current root.
func (w *walker) fullName(name string) string {
	if strings.HasPrefix(name, "/") {
		return `"` + name + `"`
	}
	dir := w.rootP
	if !strings.HasPrefix(dir, "/") {
		dir = filepath.Join(w.cwd, dir)
	}
	if name == "." {
		return `"` + dir + `/."`
	}
	if dir == "/" {
		return `"/` + name + `"`
	}
	return `"` + dir + "/" + name + `"`
}

// path returns where name lives on disk under the current root.
func (w *walker) path(name string) string {
	switch {
	case w.rootP == "" || strings.HasPrefix(name, "/"):
		return name
	case name == ".":
		return w.rootP
	case strings.HasSuffix(w.rootP, "/"):
		return w.rootP + name
	}
	return w.rootP + "/" + name
}

// setRoot makes dir the current root (rsync's change_pathname).
func (w *walker) setRoot(dir string) bool {
	if w.root >= 0 && w.rootDir == dir {
		return true
	}
	named := dir
	dir = w.joinBase(dir)
	if dir != "" {
		st, err := w.fs.Stat(dir)
		if err == nil && st.Mode&ModeTypeMask != ModeDir {
			err = syscall.ENOTDIR
		}
		if err != nil {
			w.list.IOError |= IOErrGeneral
			w.rootP = ""
			w.report(SeverityError, err, "change_dir %s failed", w.fullName(dir))
			w.root = -1
			w.rootDir = ""
			return false
		}
	}
	w.list.Roots = append(w.list.Roots, dir)
	w.root = int32(len(w.list.Roots) - 1)
	w.rootP = dir
	w.rootDir = named
	return true
}

// sendArg handles one source argument. rsync: flist.c send_file_list
func (w *walker) sendArg(arg string) {
	if w.opts.Relative {
		w.sendRelativeArg(arg)
		return
	}
	fbuf := arg
	var nameType int
	n := len(fbuf)
	switch {
	case n == 0 || fbuf[n-1] == '/':
		if fbuf == "./" {
			fbuf = "."
		} else {
			fbuf += "."
		}
		nameType = dotdirName
	case n > 1 && fbuf[n-1] == '.' && fbuf[n-2] == '.' && (n == 2 || fbuf[n-3] == '/'):
		fbuf += "/."
		nameType = dotdirName
	case fbuf[n-1] == '.' && (n == 1 || fbuf[n-2] == '/'):
		nameType = dotdirName
	default:
		nameType = normalName
	}
	if len(fbuf) >= MaxPath {
		w.list.IOError |= IOErrGeneral
		w.report(SeverityError, nil, "skipping overly long name: %s", arg)
		return
	}
	dir, fn := "", fbuf
	if i := strings.LastIndexByte(fbuf, '/'); i >= 0 {
		dir, fn = fbuf[:i], fbuf[i+1:]
		if i == 0 {
			dir = "/"
		}
	}
	if fn == "" {
		fn, nameType = ".", dotdirName
	}
	if !w.setRoot(dir) {
		return
	}

	follow := w.opts.CopyDirlinks || nameType != normalName
	st, ok := w.argStat(fn, nameType, follow)
	if !ok {
		return
	}
	isDir := st.Mode&ModeTypeMask == ModeDir
	if isDir && !w.opts.Dirs {
		w.report(SeverityInfo, nil, "skipping directory %s", fn)
		return
	}
	var flags uint32
	if w.opts.Recurse {
		flags = FlagContentDir
	}
	w.fsDev = st.Dev
	if w.opts.Recurse || (w.opts.Dirs && nameType != normalName) {
		e := w.sendFileName("", fn, &st, nil, FlagTopDir|FlagContentDir|flags, false)
		switch {
		case e == nil:
		case w.inc != nil:
			w.inc.topEntry(e, fn, follow, nameType == dotdirName)
		default:
			w.sendIfDirectory(e, fn, nil, follow, flags)
		}
		return
	}
	w.sendFileName("", fn, &st, nil, flags, false)
}

// argStat anchors and describes a source argument's name fn as rsync's
// send_file_list does: link_stat (following a symlink to a directory with
// follow), the argument's own filter check, and a missing name reported,
// skipped (--ignore-missing-args) or sent with mode 0 for the receiver to
// delete (--delete-missing-args). ok is false when the argument is done
// with. rsync: flist.c send_file_list
func (w *walker) argStat(fn string, nameType int, follow bool) (Stat, bool) {
	w.anchor(fn, follow)
	st, err := w.linkStat(w.path(fn), follow)
	if err == nil && nameType != dotdirName && w.opts.Exclude != nil && w.opts.Exclude(fn, st.Mode&ModeTypeMask == ModeDir) {
		return st, false
	}
	if err != nil {
		enoent := errors.Is(err, fs.ErrNotExist)
		switch {
		case !enoent || w.opts.MissingArgs == MissingIsError:
			if !enoent {
				w.list.IOError |= IOErrGeneral
			}
			w.report(SeverityError, err, "link_stat %s failed", w.fullName(fn))
			return st, false
		case w.opts.MissingArgs == IgnoreMissing:
			return st, false
		default:
			return Stat{}, true // sent with mode 0: the receiver deletes it
		}
	}
	return st, true
}

// linkStat is rsync's link_stat: lstat, following a symlink only when it
// leads to a directory and follow is set.
func (w *walker) linkStat(path string, follow bool) (Stat, error) {
	st, err := w.fs.Lstat(path)
	if err != nil {
		return st, err
	}
	if follow && st.Mode&ModeTypeMask == ModeSymlink {
		if t, err := w.fs.Stat(path); err == nil && t.Mode&ModeTypeMask == ModeDir {
			return t, nil
		}
	}
	return st, nil
}

// sendFileName makes an entry for dir/base and appends it to the list; dir
// is shared by all entries of a directory. st is the argument's stat for
// top-level names, nil inside directories (which also applies the
// filters); pre, if not nil, is the entry described ahead (walkahead.go).
// rsync: flist.c make_file, send_file_name
func (w *walker) sendFileName(dir, base string, st *Stat, pre *preStat, flags uint32, filtered bool) *Entry {
	// name is dir/base, joined only where it is needed: with filters, for
	// a message, or for a path when no directory is open (entryName).
	name := base
	if dir != "" {
		name = ""
		if len(dir)+1+len(base) >= MaxPath {
			name = dir + "/" + base
		}
	}
	if len(name) >= MaxPath {
		w.list.IOError |= IOErrGeneral
		w.report(SeverityError, nil, "skipping overly long name: %s", name)
		return nil
	}
	if dir == "" {
		// A top-level argument: clean it like make_file does.
		if clean, _ := CleanName(name, 0); clean != name {
			name = clean
			dir, base = splitName(name)
		}
	}
	var path string // where it is on disk, when no directory is listed
	if w.dir == nil {
		path = w.path(entryName(&name, dir, base))
	}
	var s Stat
	var target string
	switch {
	case pre != nil:
		if pre.err != nil {
			w.statFailed(entryName(&name, dir, base), pre.err)
			return nil
		}
		s, target = pre.st, pre.target
	case st != nil && (st.Mode&ModeTypeMask == ModeDir || st.Mode == 0):
		s = *st
	default:
		var err error
		if st != nil {
			s = *st
		} else if s, err = w.lstat(path, base); err != nil {
			w.statFailed(entryName(&name, dir, base), err)
			return nil
		}
		if s.Mode&ModeTypeMask == ModeSymlink {
			if target, err = w.readlink(path, base); err != nil {
				w.statFailed(entryName(&name, dir, base), err)
				return nil
			}
		}
	}
	isDir := s.Mode&ModeTypeMask == ModeDir
	if filtered {
		if isDir && !w.opts.Dirs {
			w.report(SeverityInfo, nil, "skipping directory %s", entryName(&name, dir, base))
			return nil
		}
		// -x only stops recursion into a mount point.
		if isDir && w.opts.OneFileSystem > 0 && s.Dev != w.fsDev && flags&(FlagContentDir|FlagTopDir) == FlagContentDir {
			if w.opts.OneFileSystem > 1 {
				return nil
			}
			flags = flags&^FlagContentDir | FlagMountDir
		}
		if w.opts.Exclude != nil && !w.noFilter && w.opts.Exclude(entryName(&name, dir, base), isDir) {
			return nil
		}
	}
	if !isDir {
		flags &^= FlagContentDir | FlagTopDir
	}
	if base == "" {
		return nil
	}
	if s.Mode&ModeTypeMask == ModeSymlink && target == "" {
		w.list.IOError |= IOErrGeneral
		w.report(SeverityError, nil, "skipping symlink with 0-length value: %s", w.fullName(entryName(&name, dir, base)))
		return nil
	}
	var e *Entry
	if isDir && w.inc != nil {
		// A directory outlives its list (rsync's dir_flist): it takes
		// neither a slot in the chunk its list's files share nor its
		// name from the listing's arena, which would keep them alive.
		e = w.dirSlab.next()
		base = strings.Clone(base)
	} else {
		e = w.slab.next()
	}
	e.Dir, e.Base = dir, base
	e.Mode = s.Mode
	e.Size = s.Size
	e.Mtime, e.MtimeNsec = s.Mtime, s.MtimeNsec
	if s.MtimeNsec > maxWireNsec {
		e.MtimeNsec = 0
	}
	e.UID, e.GID = s.UID, s.GID
	if w.opts.Atimes && !isDir {
		e.SetAtime(s.Atime)
	}
	if w.opts.HardLinks && !isDir {
		e.SetInode(s.Dev, s.Ino, s.Nlink)
	}
	e.Flags = flags
	e.Root = w.root
	if isDir {
		w.listedDir(entryName(&name, dir, base), &s)
	}
	e.SetLinkTarget(target)
	if isDevice(s.Mode) {
		e.SetRdev(s.MajorMinor())
		e.Size = 0
	} else if isSpecial(s.Mode) {
		e.Size = 0
	}
	if s.Mode == 0 {
		e.Flags |= FlagMissing
	}
	if w.opts.Checksum != nil && e.IsRegular() {
		e.SetSum(w.checksum(path, base))
	}
	w.list.Entries = append(w.list.Entries, e)
	if w.opts.Added != nil && w.fatal == nil {
		if err := w.opts.Added(e); err != nil {
			w.fatal = err
		}
	}
	return e
}

// entryName returns dir/base, joining it into *name if that is still "".
func entryName(name *string, dir, base string) string {
	if *name == "" && base != "" {
		*name = dir + "/" + base
	}
	return *name
}

// lstat describes an entry at path, named base in the directory being
// listed when there is one.
func (w *walker) lstat(path, base string) (Stat, error) {
	if w.dir != nil {
		return w.dir.Lstat(base)
	}
	return w.fs.Lstat(path)
}

// readlink is lstat's counterpart for a symlink's target.
func (w *walker) readlink(path, base string) (string, error) {
	if w.dir != nil {
		return w.dir.Readlink(base)
	}
	return w.fs.Readlink(path)
}

// checksum is --checksum's sum of the regular file at path, named base in
// the directory being listed when there is one: opened relative to it, so
// the sum is of the file the walk described or of nothing.
func (w *walker) checksum(path, base string) []byte {
	var fd int
	var err error
	if w.dir != nil {
		fd, err = w.dir.OpenFile(base)
	} else {
		fd, err = w.fs.OpenFile(path)
	}
	var sum []byte
	if err == nil {
		sum, err = w.opts.Checksum(fd)
	}
	if err != nil || len(sum) < w.opts.ChecksumLen {
		sum = make([]byte, w.opts.ChecksumLen)
	}
	return sum
}

// statFailed reports a failed lstat or readlink of a listed name.
func (w *walker) statFailed(name string, err error) {
	if errors.Is(err, fs.ErrNotExist) {
		w.list.IOError |= IOErrVanished
		w.report(SeverityWarning, nil, "file has vanished: %s", w.fullName(name))
		return
	}
	w.list.IOError |= IOErrGeneral
	w.report(SeverityError, err, "readlink_stat(%s) failed", w.fullName(name))
}

// sendIfDirectory descends into e when it is a directory: in parent, the
// directory it was listed in, or (parent nil) by its path, following a
// final symbolic link only with follow. rsync: flist.c send_if_directory
func (w *walker) sendIfDirectory(e *Entry, name string, parent *heldDir, follow bool, flags uint32) {
	if e.IsDir() && e.Flags&FlagMountDir == 0 {
		w.sendDirectory(name, parent, follow, flags)
	}
}

// nameAppender is a Dir that can list its names into a given slice, carved
// from an arena (osDir).
type nameAppender interface {
	appendNames(names []string, arena *fastio.NameArena) ([]string, error)
}

// heldDir is a directory the walk holds open: the one being listed, and
// each of its ancestors while their subdirectories are walked, so that a
// subdirectory is opened relative to its parent, as the name the walk
// found there, and never by a path that a symbolic link swapped in for a
// directory on the way could redirect. The walk and the look-ahead helpers
// listing its subdirectories share it; the last release closes it.
type heldDir struct {
	d    Dir
	refs atomic.Int32
}

func newHeldDir(d Dir) *heldDir {
	h := &heldDir{d: d}
	h.refs.Store(1)
	return h
}

func (h *heldDir) hold() { h.refs.Add(1) }

func (h *heldDir) release() {
	if h.refs.Add(-1) == 0 {
		h.d.Close()
	}
}

// openDir opens the directory dir: in parent by its last component, or
// (parent nil) by its path from the current root. rsync opens it beneath
// the transfer root, refusing a link that leaves it. rsync: flist.c
// secure_opendir
func (w *walker) openDir(dir string, parent *heldDir, follow bool) (Dir, error) {
	if parent == nil {
		return w.fs.OpenDir(w.path(dir), follow)
	}
	return parent.d.OpenDir(dir[strings.LastIndexByte(dir, '/')+1:])
}

// readDir opens dir (see openDir) and lists its names, leaving it open in
// w.dir for its entries to be described relative to it. With fastio.Batch
// the names are carved from the walk's arena. An error with nil names
// means the directory could not be opened.
func (w *walker) readDir(dir string, parent *heldDir, follow bool) (*heldDir, []string, error) {
	d, err := w.openDir(dir, parent, follow)
	if err != nil {
		return nil, nil, err
	}
	w.dir = d
	held := newHeldDir(d)
	if od, ok := d.(nameAppender); ok && w.opts.IO.On(fastio.Batch) {
		if w.names == nil {
			w.names = make([]string, 0, 64) // never nil: nil means not opened
		}
		w.names, err = od.appendNames(w.names[:0], &w.arena)
		return held, w.names, err
	}
	names, err := d.ReadNames()
	return held, names, err
}

// sendDirectory lists one directory's entries in readdir order, then, with
// -r, descends into the subdirectories among them in the same order. The
// directory is opened in parent (or by path, see sendIfDirectory).
// rsync: flist.c send_directory
func (w *walker) sendDirectory(dir string, parent *heldDir, follow bool, flags uint32) {
	if w.opts.EnterDir != nil {
		if err := w.opts.EnterDir(w.rootP, dir); err != nil && w.fatal == nil {
			w.fatal = err
		}
	}
	if w.opts.LeaveDir != nil {
		defer w.opts.LeaveDir()
	}
	ahead := w.next // the directory listed ahead, if it was
	w.next = nil
	if w.fatal != nil {
		if ahead != nil {
			w.ahead.drop(ahead, &w.arena)
		}
		return
	}
	held, start, end := w.listDir(dir, parent, follow, flags, ahead)
	if held == nil {
		return
	}
	defer held.release()
	if !w.opts.Recurse {
		return
	}
	var subs []*aheadDir // the directories below, in order, to list ahead
	if w.ahead != nil {
		for _, e := range w.list.Entries[start:end] {
			if e.IsDir() && e.Flags&FlagMountDir == 0 {
				name := e.Name()
				held.hold() // for the helper that opens it in held
				subs = append(subs, &aheadDir{name: name, parent: held, remainder: MaxPath - (len(name) + 1)})
			}
		}
		w.ahead.push(subs)
	}
	for i := start; i < end && w.fatal == nil; i++ {
		e := w.list.Entries[i]
		if !e.IsDir() {
			continue
		}
		if len(subs) > 0 && e.Flags&FlagMountDir == 0 {
			w.next, subs = subs[0], subs[1:]
			w.sendDirectory(w.next.name, held, false, flags) // sendIfDirectory's case
			continue
		}
		w.sendIfDirectory(e, e.Name(), held, false, flags)
	}
	for _, d := range subs { // not reached: the walk stopped
		w.ahead.drop(d, &w.arena)
	}
}

// listDir makes the entries of directory dir, in readdir order: from
// ahead when a helper has listed it (walkahead.go), else opened in parent
// (or, parent nil, by its path, following a final symbolic link only with
// follow). It returns the directory, held open for its subdirectories to
// be opened in (the caller releases it), and the entries it made,
// w.list.Entries[start:end]; held is nil when the directory could not be
// opened. rsync: flist.c send_directory
func (w *walker) listDir(dir string, parent *heldDir, follow bool, flags uint32, ahead *aheadDir) (held *heldDir, start, end int) {
	var names []string
	var err error
	if ahead != nil && w.ahead.take(ahead, &w.arena) {
		names, err, held = ahead.names, ahead.err, ahead.dir
		if held != nil {
			w.dir = held.d
		}
	} else {
		held, names, err = w.readDir(dir, parent, follow)
		if ahead != nil {
			ahead.parent.release() // its hold on parent, which the walk has
			ahead = nil
		}
	}
	start = len(w.list.Entries)
	if err != nil && names == nil {
		w.openFailed(dir, err)
		return nil, start, start
	}
	remainder := MaxPath - (len(dir) + 1)
	parentName := dir // every child shares this one string
	if dir == "." {
		parentName = ""
	}
	for i, n := range names {
		if w.fatal != nil {
			break
		}
		if n == "." || n == ".." {
			continue
		}
		if len(n) >= remainder {
			w.list.IOError |= IOErrGeneral
			w.report(SeverityError, nil, "filename overflows max-path len by %d: %s/%s", len(n)-remainder+1, dir, n)
			continue
		}
		if n == "" {
			w.list.IOError |= IOErrGeneral
			w.report(SeverityError, nil, "cannot send file with empty name in %s", w.fullName(dir))
			continue
		}
		var pre *preStat
		if ahead != nil {
			pre = &ahead.res[i]
		}
		w.sendFileName(parentName, n, nil, pre, flags, true)
	}
	if ahead != nil {
		w.ahead.release(ahead)
	}
	w.dir = nil
	if err != nil {
		w.list.IOError |= IOErrGeneral
		w.report(SeverityError, err, "readdir(%s)", w.fullName(dir))
	}
	return held, start, len(w.list.Entries)
}

// openFailed reports a directory that could not be opened to be listed.
func (w *walker) openFailed(dir string, err error) {
	if errors.Is(err, fs.ErrNotExist) {
		w.list.IOError |= IOErrVanished
		w.report(SeverityWarning, nil, "directory has vanished: %s", w.fullName(dir))
		return
	}
	w.list.IOError |= IOErrGeneral
	w.report(SeverityError, err, "opendir %s failed", w.fullName(dir))
}
