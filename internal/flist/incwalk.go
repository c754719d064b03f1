package flist

import (
	"strings"
	"syscall"
)

// The sender's walk under incremental recursion. rsync sends the top-level
// names first (for "src/", src's entries with "." for src itself; for
// "src", only "src"), directories among them as entries whose contents
// wait, and then one list per directory, holding exactly that directory's
// entries, in the pre-order depth-first order of the sorted tree: after a
// directory's list come the lists of its subdirectories, in sorted order,
// each followed by its own subtree. Directories of the same name from
// different arguments share one list. "." gets none; every other
// directory gets one, even when it is empty or its contents are not sent
// (a -x mount point). rsync: flist.c send_file_list, add_dirs_to_tree,
// send_extra_file_list, send1extra
//
// IncWalk makes those lists on demand. It numbers the directories as the
// receiver does (rsync's dir_flist: each list's directories in sorted
// order, "." and duplicates included) and keeps, for each directory still
// to be listed, its entry, its parent and its argument; the entries of a
// list it returns are the caller's.
//
// A directory is listed long after its parent, so its parent is no longer
// open. The walk keeps the directories on its way down open (the chain):
// an argument's top directory opened by path as the user named it, and
// each directory below opened in its parent's descriptor by name, never
// through a symbolic link, just as the recursive walk opens them. The
// next directory in depth-first order is a child of one on the chain, so
// moving there closes the directories it leaves and opens one; only when
// the walk moves to another argument's tree is the chain built again from
// that argument's top. The per-directory merge files (EnterDir, LeaveDir)
// follow the chain, so each directory's entries see the merge files of
// its argument's directories down to it, as in the recursive walk.
// (rsync sets them by depth alone, change_local_filter_dir, so with
// several arguments its lists may see the first argument's top-level
// merge file; gorsync keeps each argument's own, as rsync does without
// incremental recursion.)
//
// With -R or --files-from the implied directories make rsync's walk
// intricate (send_implied_dirs, F_DIR_RELNAMES_P): there IncWalk walks the
// whole tree first, as Build does, and cuts the list into the same lists:
// the top-level names first, then each directory's entries in the same
// order. The receiver sees what rsync's sends, and the sender holds the
// whole list only until it has sent it.

// IncWalk is the sender's incremental walk (see above). Its methods are
// called by one goroutine at a time.
type IncWalk struct {
	w     *walker // nil when the list is cut (cut is set)
	proto int
	// dirs counts the directories of the lists made so far: the next
	// list's first directory has this index.
	dirs int32
	// pending holds the directories still to be listed, the next last.
	pending []incGroup
	chain   []chainDir
	// made maps each directory entry of the list being made to its
	// node; listed are the directories whose entries went into it.
	made   map[*Entry]*incDir
	listed []*incDir
	// cut holds, when the whole tree was walked first (-R,
	// --files-from), the entries still to be sent by their directory's
	// name.
	cut     map[string][]*Entry
	roots   []string
	anchors map[anchorKey]anchorID
	closed  bool
}

// incTop is one argument, as its directories need it later.
type incTop struct {
	root   int32
	rootP  string
	fsDev  uint64
	follow bool // its top directory is opened following a final symlink
}

// incDir is a directory whose list is still to be made, or one on the
// chain.
type incDir struct {
	e      *Entry
	name   string  // e.Name(), or "." for an argument's dot-dir
	parent *incDir // nil for an argument's top directory
	top    *incTop
	ahead  *aheadDir // its listing by a look-ahead helper, if queued
	// held is the directory, open, from its listing until its
	// subdirectories are queued to be listed ahead (link).
	held *heldDir
}

// incGroup is one list to make: a directory, or several of one name.
type incGroup struct {
	dirNdx int32
	dirs   []*incDir
}

// chainDir is a directory the walk has entered: its merge files are
// pushed and, unless it could not be opened, it is held open; err says
// why not.
type chainDir struct {
	d    *incDir
	held *heldDir
	err  error
}

// StartIncremental begins the incremental walk of the source arguments
// (or opts.Names) and returns it with the first list, in sending order;
// opts.Added receives the first list's entries only. The first list's
// ParentNdx is 0 when it holds "." (its directory), else -1. Close the
// walk when done. rsync: flist.c send_file_list
func StartIncremental(args []string, opts WalkOptions, protocol int) (*IncWalk, *List, error) {
	iw := &IncWalk{proto: protocol, made: map[*Entry]*incDir{}}
	var first *List
	if opts.Relative || opts.Names != nil {
		var err error
		if first, err = iw.startCut(args, opts); err != nil {
			return nil, nil, err
		}
	} else {
		w, err := newWalker(opts)
		if err != nil {
			return nil, nil, err
		}
		iw.w = w
		w.inc = iw
		if err := w.sendArgs(args); err != nil {
			iw.Close()
			return nil, nil, err
		}
		first = w.list
		w.opts.Added = nil // the other lists are the caller's to send
	}
	iw.roots, iw.anchors = first.Roots, first.anchors
	first.ParentNdx = -1
	for _, e := range first.Entries {
		if e.IsDir() && e.Base == "." {
			// It sorts first: dir_flist[0].
			first.ParentNdx = 0
			break
		}
	}
	iw.link(first)
	return iw, first, nil
}

// Close ends the walk, closing what it holds open.
func (iw *IncWalk) Close() {
	if iw.w != nil && !iw.closed {
		iw.closed = true
		iw.popChain(0)
		for _, d := range iw.listed {
			d.held.release()
		}
		iw.listed = nil
		iw.w.ahead.stop()
	}
	iw.pending = nil
	iw.cut = nil
}

// Done reports whether no list is left to make.
func (iw *IncWalk) Done() bool { return len(iw.pending) == 0 }

// Next makes the next directory's list, in sending order, with ParentNdx
// its directory's index, and returns it with that directory's entry (the
// first, when several of one name share the list); nil at the end. The
// caller must make its lists' directories known in the order they come
// (the receiver numbers them so). An error ends the walk (a bad rule in a
// merge file). rsync: flist.c send_extra_file_list, send1extra
func (iw *IncWalk) Next() (*List, *Entry, error) {
	if len(iw.pending) == 0 {
		iw.Close()
		return nil, nil, nil
	}
	g := iw.pending[len(iw.pending)-1]
	iw.pending[len(iw.pending)-1] = incGroup{}
	iw.pending = iw.pending[:len(iw.pending)-1]
	l := &List{Roots: iw.roots, anchors: iw.anchors, ParentNdx: g.dirNdx}
	if iw.cut != nil {
		key := strings.TrimPrefix(g.dirs[0].e.Name(), "/")
		l.Entries = iw.cut[key]
		delete(iw.cut, key)
		for _, e := range l.Entries {
			if e.IsDir() {
				iw.made[e] = &incDir{e: e, name: e.Name()}
			}
		}
	} else {
		w := iw.w
		w.list = l
		first := g.dirs[0]
		for i, d := range g.dirs {
			// rsync lists a directory that two arguments name once.
			// rsync: flist.c send_extra_file_list
			again := i > 0 && d.top.root == first.top.root && g.dirs[i-1].e.Flags&FlagContentDir != 0
			iw.list(d, !again)
			if w.fatal != nil {
				err := w.fatal
				iw.Close()
				return nil, nil, err
			}
		}
	}
	iw.link(l)
	return l, g.dirs[0].e, nil
}

// topEntry takes an argument's top-level entry e, named fn, that the walk
// has just made: a directory's contents wait for its own list, but a
// dot-dir's ("src/") go into the first list now. follow says whether its
// final symbolic link was followed.
func (iw *IncWalk) topEntry(e *Entry, fn string, follow, dot bool) {
	if !e.IsDir() {
		return
	}
	w := iw.w
	top := &incTop{root: w.root, rootP: w.rootP, fsDev: w.fsDev, follow: follow}
	d := &incDir{e: e, name: fn, top: top}
	if !dot {
		iw.made[e] = d
		return
	}
	iw.list(d, true)
	// The next argument's names see none of this one's merge files, as
	// in the recursive walk.
	iw.popChain(0)
}

// list enters directory d and, when its contents are sent and listing is
// set, makes its entries into the walk's list, noting each subdirectory
// for a list of its own. rsync: flist.c send1extra
func (iw *IncWalk) list(d *incDir, listing bool) {
	w := iw.w
	w.root, w.rootP, w.fsDev = d.top.root, d.top.rootP, d.top.fsDev
	parent, perr := iw.enterParent(d)
	iw.push(d, nil, nil)
	listing = listing && d.e.Flags&FlagContentDir != 0 && w.fatal == nil
	ahead := d.ahead
	d.ahead = nil
	switch {
	case listing && perr == nil:
		held, start, end := w.listDir(d.name, parent, d.top.follow, FlagContentDir, ahead)
		for _, e := range w.list.Entries[start:end] {
			if e.IsDir() {
				iw.made[e] = &incDir{e: e, name: e.Name(), parent: d, top: d.top}
			}
		}
		iw.chain[len(iw.chain)-1].held = held
		if held != nil {
			held.hold() // for the look-ahead of its subdirectories
			d.held = held
			iw.listed = append(iw.listed, d)
		}
		return
	case listing:
		// A directory on the way is gone or is no longer one: d is
		// never reached by a path that could lead elsewhere.
		w.openFailed(d.name, perr)
	}
	if ahead != nil {
		w.ahead.drop(ahead, &w.arena)
	}
	iw.chain[len(iw.chain)-1].err = perr
}

// enterParent makes the chain end at d's parent: it leaves the directories
// not on d's way and enters (and opens) those that are, then returns the
// parent, open, or nil for a top directory, which is opened by its path.
// The error says why a directory on the way is not open.
func (iw *IncWalk) enterParent(d *incDir) (*heldDir, error) {
	var way []*incDir // upwards
	for p := d.parent; p != nil; p = p.parent {
		way = append(way, p)
	}
	k := 0
	for k < len(iw.chain) && k < len(way) && iw.chain[k].d == way[len(way)-1-k] {
		k++
	}
	iw.popChain(k)
	for i := len(way) - 1 - k; i >= 0; i-- {
		a := way[i]
		held, err := iw.open(a)
		iw.push(a, held, err)
	}
	if len(iw.chain) == 0 {
		return nil, nil
	}
	c := iw.chain[len(iw.chain)-1]
	return c.held, c.err
}

// open opens directory a, on the way down the chain: a top directory by
// its path as the user named it, any other in its parent, the chain's
// last directory, by name and never through a symbolic link.
func (iw *IncWalk) open(a *incDir) (*heldDir, error) {
	w := iw.w
	var dir Dir
	var err error
	if a.parent == nil {
		dir, err = w.fs.OpenDir(w.path(a.name), a.top.follow)
	} else {
		c := iw.chain[len(iw.chain)-1]
		if c.held == nil {
			if c.err != nil {
				return nil, c.err
			}
			return nil, syscall.ENOENT
		}
		dir, err = c.held.d.OpenDir(a.name[strings.LastIndexByte(a.name, '/')+1:])
	}
	if err != nil {
		return nil, err
	}
	return newHeldDir(dir), nil
}

// push enters d: its merge files are read (EnterDir), and held is it,
// open.
func (iw *IncWalk) push(d *incDir, held *heldDir, err error) {
	w := iw.w
	if w.opts.EnterDir != nil {
		if ferr := w.opts.EnterDir(w.rootP, d.name); ferr != nil && w.fatal == nil {
			w.fatal = ferr
		}
	}
	iw.chain = append(iw.chain, chainDir{d: d, held: held, err: err})
}

// popChain leaves the chain's directories from the n-th on, innermost
// first.
func (iw *IncWalk) popChain(n int) {
	for len(iw.chain) > n {
		c := iw.chain[len(iw.chain)-1]
		iw.chain[len(iw.chain)-1] = chainDir{}
		iw.chain = iw.chain[:len(iw.chain)-1]
		if c.held != nil {
			c.held.release()
		}
		if iw.w.opts.LeaveDir != nil {
			iw.w.opts.LeaveDir()
		}
	}
}

// link numbers the directories of l, the list just made, as the receiver
// will (its directories in sorted order), and queues the lists of those
// other than ".": in sorted order, before every list queued earlier, so
// that each directory's subtree follows it; identically named ones share
// a list. With the look-ahead helpers, they are queued for them too.
// rsync: flist.c add_dirs_to_tree
func (iw *IncWalk) link(l *List) {
	var dirs []*Entry
	for _, e := range l.Entries {
		if e.IsDir() {
			dirs = append(dirs, e)
		}
	}
	Sort(dirs, iw.proto)
	base := iw.dirs
	iw.dirs += int32(len(dirs))
	var groups []incGroup
	for i, e := range dirs {
		d := iw.made[e]
		if e.Base == "." || d == nil {
			continue
		}
		if n := len(groups); n > 0 && Compare(groups[n-1].dirs[0].e, e, iw.proto) == 0 {
			groups[n-1].dirs = append(groups[n-1].dirs, d)
			continue
		}
		groups = append(groups, incGroup{dirNdx: base + int32(i), dirs: []*incDir{d}})
	}
	clear(iw.made)
	if iw.w != nil && iw.w.ahead != nil {
		var subs []*aheadDir
		for _, g := range groups {
			for _, d := range g.dirs {
				if p := d.parent; p != nil && p.held != nil && d.e.Flags&FlagContentDir != 0 {
					p.held.hold() // for the helper that opens d in it
					d.ahead = &aheadDir{name: d.name, parent: p.held, remainder: MaxPath - (len(d.name) + 1)}
					subs = append(subs, d.ahead)
				}
			}
		}
		iw.w.ahead.push(subs)
	}
	for _, d := range iw.listed {
		d.held.release()
		d.held = nil
	}
	iw.listed = iw.listed[:0]
	for i := len(groups) - 1; i >= 0; i-- {
		iw.pending = append(iw.pending, groups[i])
	}
}

// startCut walks the whole tree as Build does and cuts the list: it
// returns the top-level entries and keeps the others by their directory's
// name (without a leading "/", as rsync's receiver compares them), for
// Next. opts.Added receives the first list's entries once it is known.
func (iw *IncWalk) startCut(args []string, opts WalkOptions) (*List, error) {
	added := opts.Added
	opts.Added = nil
	all, err := Build(args, opts)
	if err != nil {
		return nil, err
	}
	first := &List{Roots: all.Roots, anchors: all.anchors, IOError: all.IOError}
	iw.cut = make(map[string][]*Entry)
	for _, e := range all.Entries {
		if k := strings.TrimPrefix(e.Dir, "/"); k != "" {
			iw.cut[k] = append(iw.cut[k], e)
			continue
		}
		first.Entries = append(first.Entries, e)
		if e.IsDir() {
			iw.made[e] = &incDir{e: e, name: e.Name()}
		}
	}
	if added != nil {
		for _, e := range first.Entries {
			if err := added(e); err != nil {
				return nil, err
			}
		}
	}
	return first, nil
}
