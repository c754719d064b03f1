package flist

import (
	"runtime"
	"strings"

	"github.com/gorsync/gorsync/internal/fastio"
	"github.com/gorsync/gorsync/internal/workpool"
)

// A recursive batched walk (fastio.Batch) with fastio.Parallel on lists
// directories ahead of itself on the other cores: once the walk has made
// a directory's entries, the subdirectories it will descend into are known,
// in order, and helper goroutines open them, read their names and describe
// each (lstat, and readlink for a symlink) while the walk makes entries.
// The walk takes a directory's listing when it reaches it; it lists one
// that no helper has started itself, and while it waits for one a helper
// is listing, it lists the next one nobody has started, as a helper would.
// Each name is described once, as in the serial walk; the list is the same
// and in the same order. rsync lists one directory after another
// (flist.c send_directory).

// maxAhead bounds the directories listed (or being listed) and not yet
// taken by the walk: their names and descriptions wait in memory.
const maxAhead = 8

// preStat is an entry described ahead of the walk: its lstat, a symlink's
// target, or the error of either.
type preStat struct {
	st     Stat
	target string
	err    error
}

// States of an aheadDir.
const (
	aheadPending = iota // nobody has started it
	aheadRunning        // a helper (or the waiting walk) is listing it
	aheadDone           // listed, waiting for the walk
	aheadTaken          // the walk has it, or lists it itself
)

// aheadDir is a directory the walk will list.
type aheadDir struct {
	name string // the directory's name in the list
	// parent is the directory it is opened in, held for it until it is
	// opened (or dropped); dir is it, open, once listed.
	parent, dir *heldDir
	remainder   int // names this long or longer are not described
	state       int
	names       []string  // nil when it could not be opened
	res         []preStat // names[i]'s description
	err         error     // opening or reading it failed
}

// walkAhead is the walk's queue of directories to list and its helpers.
type walkAhead struct {
	io   fastio.Config // the walk's fast paths (Uring)
	pool workpool.Pool // the helpers; its lock guards the fields below
	// stack holds the directories the walk will list, the next one last:
	// a directory's subdirectories go on top, to be listed before the
	// directories pushed earlier (depth first).
	stack []*aheadDir
	held  int         // running or done, not yet taken
	spare []aheadBufs // buffers of listings the walk is done with
}

// aheadBufs are the slices of a listing, kept for the next one.
type aheadBufs struct {
	names []string
	res   []preStat
}

// startAhead returns the walk's queue, starting its helpers, or nil when
// the walk lists every directory itself.
func (w *walker) startAhead() *walkAhead {
	procs := runtime.GOMAXPROCS(0)
	if !w.opts.Recurse || procs < 2 || !w.opts.IO.On(fastio.Batch) || !w.opts.IO.On(fastio.Parallel) {
		return nil
	}
	a := &walkAhead{io: w.opts.IO}
	a.pool.Start(procs-1, a.help)
	return a
}

// stop ends the helpers, and returns once they have finished what they
// are listing: none uses the walk's file system after the walk. What the
// walk left on the stack lets go of its directories.
func (a *walkAhead) stop() {
	if a == nil {
		return
	}
	a.pool.Stop()
	for _, d := range a.stack {
		d.letGo()
	}
	a.stack = nil
}

// letGo releases what d holds: its parent until it is opened, itself
// once listed.
func (d *aheadDir) letGo() {
	switch {
	case d.state == aheadPending:
		d.parent.release()
	case d.dir != nil:
		d.dir.release()
	}
	d.state = aheadTaken
}

// drop takes d off the stack, which the walk will not list after all (it
// stopped), once no helper is listing it, and lets go of what it holds.
func (a *walkAhead) drop(d *aheadDir, arena *fastio.NameArena) {
	if a.take(d, arena) {
		a.release(d)
		if d.dir != nil {
			d.dir.release()
		}
		return
	}
	d.parent.release()
}

// push queues dirs, to be taken in their order, before anything queued
// earlier.
func (a *walkAhead) push(dirs []*aheadDir) {
	if len(dirs) == 0 {
		return
	}
	a.pool.Lock()
	for i := len(dirs) - 1; i >= 0; i-- {
		a.stack = append(a.stack, dirs[i])
	}
	a.pool.Broadcast()
	a.pool.Unlock()
}

// pick returns the topmost directory nobody has started, marked running,
// or nil when there is none or enough are held. Called with a.pool locked.
func (a *walkAhead) pick() *aheadDir {
	if a.held >= maxAhead {
		return nil
	}
	// Running and done directories are at most a.held, all near the top.
	for i := len(a.stack) - 1; i >= 0; i-- {
		if d := a.stack[i]; d.state == aheadPending {
			d.state = aheadRunning
			a.held++
			return d
		}
	}
	return nil
}

func (a *walkAhead) help() {
	var arena fastio.NameArena
	a.pool.Lock()
	for !a.pool.Stopped() {
		d := a.pick()
		if d == nil {
			a.pool.Wait()
			continue
		}
		a.pool.Unlock()
		a.list(d, &arena)
		a.pool.Lock()
		d.state = aheadDone
		a.pool.Broadcast()
	}
	a.pool.Unlock()
}

// take removes d, the directory the walk lists next, from the stack (its
// top). It reports false when the walk is to list d itself; else d has
// been listed, the walk helping with the next directories while it waited.
func (a *walkAhead) take(d *aheadDir, arena *fastio.NameArena) bool {
	a.pool.Lock()
	defer a.pool.Unlock()
	i := len(a.stack) - 1
	for i >= 0 && a.stack[i] != d {
		i-- // not reached: the walk takes its directories in order
	}
	if i < 0 {
		return false
	}
	last := len(a.stack) - 1
	copy(a.stack[i:], a.stack[i+1:])
	a.stack[last] = nil
	a.stack = a.stack[:last]
	if d.state == aheadPending {
		d.state = aheadTaken
		return false
	}
	for d.state != aheadDone {
		if o := a.pick(); o != nil {
			a.pool.Unlock()
			a.list(o, arena)
			a.pool.Lock()
			o.state = aheadDone
			a.pool.Broadcast()
			continue
		}
		a.pool.Wait()
	}
	d.state = aheadTaken
	a.held--
	a.pool.Broadcast() // room for a helper
	return true
}

// release keeps the slices of d, which the walk is done with, for another
// listing.
func (a *walkAhead) release(d *aheadDir) {
	a.pool.Lock()
	if len(a.spare) < maxAhead+1 && d.names != nil {
		clear(d.res) // the strings and errors in them
		a.spare = append(a.spare, aheadBufs{names: d.names[:0], res: d.res[:0]})
	}
	a.pool.Unlock()
	d.names, d.res = nil, nil
}

// bufs returns slices for a listing.
func (a *walkAhead) bufs() aheadBufs {
	a.pool.Lock()
	defer a.pool.Unlock()
	if n := len(a.spare); n > 0 {
		b := a.spare[n-1]
		a.spare = a.spare[:n-1]
		return b
	}
	return aheadBufs{names: make([]string, 0, 64)}
}

// list opens d in its parent, reads its names and describes them; it
// stays open for the walk to open d's subdirectories in.
func (a *walkAhead) list(d *aheadDir, arena *fastio.NameArena) {
	dir, err := d.parent.d.OpenDir(d.name[strings.LastIndexByte(d.name, '/')+1:])
	d.parent.release()
	if err != nil {
		d.err = err
		return
	}
	d.dir = newHeldDir(dir)
	b := a.bufs()
	var names []string
	if na, ok := dir.(nameAppender); ok {
		names, err = na.appendNames(b.names, arena)
	} else {
		names, err = dir.ReadNames()
	}
	d.names, d.err = names, err
	if cap(b.res) >= len(names) {
		d.res = b.res[:len(names)]
	} else {
		d.res = make([]preStat, len(names))
	}
	skip := func(n string) bool {
		return n == "" || n == "." || n == ".." || len(n) >= d.remainder // not an entry: sendDirectory skips it
	}
	if ms, ok := dir.(manyStater); ok && a.io.On(fastio.Uring) {
		// The directory's entries stat'ed in one batch (io_uring).
		var idx []int
		var sel []string
		for i, n := range names {
			if !skip(n) {
				idx, sel = append(idx, i), append(sel, n)
			}
		}
		sts, errs := make([]Stat, len(sel)), make([]error, len(sel))
		ms.lstatMany(a.io, sel, sts, errs)
		for j, i := range idx {
			d.res[i].st, d.res[i].err = sts[j], errs[j]
		}
	} else {
		for i, n := range names {
			if !skip(n) {
				d.res[i].st, d.res[i].err = dir.Lstat(n)
			}
		}
	}
	for i, n := range names {
		r := &d.res[i]
		if !skip(n) && r.err == nil && r.st.Mode&ModeTypeMask == ModeSymlink {
			r.target, r.err = dir.Readlink(n)
		}
	}
}

// manyStater is a Dir that can stat several entries in one batch.
type manyStater interface {
	lstatMany(io fastio.Config, names []string, sts []Stat, errs []error)
}
