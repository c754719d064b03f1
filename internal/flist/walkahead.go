package flist

import (
	"runtime"
	"sync"

	"github.com/gorsync/gorsync/internal/fastio"
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
	name      string // the directory's name in the list
	path      string // the directory on disk
	remainder int    // names this long or longer are not described
	state     int
	names     []string  // nil when it could not be opened
	res       []preStat // names[i]'s description
	err       error     // opening or reading it failed
}

// walkAhead is the walk's queue of directories to list and its helpers.
type walkAhead struct {
	fs   DirFS
	io   fastio.Config // the walk's fast paths (Uring)
	mu   sync.Mutex
	cond sync.Cond
	// stack holds the directories the walk will list, the next one last:
	// a directory's subdirectories go on top, to be listed before the
	// directories pushed earlier (depth first).
	stack  []*aheadDir
	held   int // running or done, not yet taken
	closed bool
	spare  []aheadBufs // buffers of listings the walk is done with
}

// aheadBufs are the slices of a listing, kept for the next one.
type aheadBufs struct {
	names []string
	res   []preStat
}

// startAhead returns the walk's queue, starting its helpers, or nil when
// the walk lists every directory itself.
func (w *walker) startAhead() *walkAhead {
	dfs, ok := w.fs.(DirFS)
	procs := runtime.GOMAXPROCS(0)
	if !ok || !w.opts.Recurse || procs < 2 || !w.opts.IO.On(fastio.Batch) || !w.opts.IO.On(fastio.Parallel) {
		return nil
	}
	a := &walkAhead{fs: dfs, io: w.opts.IO}
	a.cond.L = &a.mu
	for range procs - 1 {
		go a.help()
	}
	return a
}

// stop ends the helpers once they have finished what they are listing.
func (a *walkAhead) stop() {
	if a == nil {
		return
	}
	a.mu.Lock()
	a.closed = true
	a.cond.Broadcast()
	a.mu.Unlock()
}

// push queues dirs, to be taken in their order, before anything queued
// earlier.
func (a *walkAhead) push(dirs []*aheadDir) {
	if len(dirs) == 0 {
		return
	}
	a.mu.Lock()
	for i := len(dirs) - 1; i >= 0; i-- {
		a.stack = append(a.stack, dirs[i])
	}
	a.cond.Broadcast()
	a.mu.Unlock()
}

// pick returns the topmost directory nobody has started, marked running,
// or nil when there is none or enough are held. Called with a.mu held.
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
	a.mu.Lock()
	for !a.closed {
		d := a.pick()
		if d == nil {
			a.cond.Wait()
			continue
		}
		a.mu.Unlock()
		a.list(d, &arena)
		a.mu.Lock()
		d.state = aheadDone
		a.cond.Broadcast()
	}
	a.mu.Unlock()
}

// take removes d, the directory the walk lists next, from the stack (its
// top). It reports false when the walk is to list d itself; else d has
// been listed, the walk helping with the next directories while it waited.
func (a *walkAhead) take(d *aheadDir, arena *fastio.NameArena) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
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
			a.mu.Unlock()
			a.list(o, arena)
			a.mu.Lock()
			o.state = aheadDone
			a.cond.Broadcast()
			continue
		}
		a.cond.Wait()
	}
	d.state = aheadTaken
	a.held--
	a.cond.Broadcast() // room for a helper
	return true
}

// release keeps the slices of d, which the walk is done with, for another
// listing.
func (a *walkAhead) release(d *aheadDir) {
	a.mu.Lock()
	if len(a.spare) < maxAhead+1 && d.names != nil {
		clear(d.res) // the strings and errors in them
		a.spare = append(a.spare, aheadBufs{names: d.names[:0], res: d.res[:0]})
	}
	a.mu.Unlock()
	d.names, d.res = nil, nil
}

// bufs returns slices for a listing.
func (a *walkAhead) bufs() aheadBufs {
	a.mu.Lock()
	defer a.mu.Unlock()
	if n := len(a.spare); n > 0 {
		b := a.spare[n-1]
		a.spare = a.spare[:n-1]
		return b
	}
	return aheadBufs{names: make([]string, 0, 64)}
}

// list opens d, reads its names and describes them.
func (a *walkAhead) list(d *aheadDir, arena *fastio.NameArena) {
	dir, err := a.fs.OpenDir(d.path)
	if err != nil {
		d.err = err
		return
	}
	defer dir.Close()
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
