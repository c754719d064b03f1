package fsys

import (
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// dirCacheSize is how many parent directories a Root keeps open. The
// generator and the receiver each go through the file list in order, one
// directory after another, the receiver some files behind and --checksum's
// workers up to 128 files ahead. Over 671 directories of 25 files, -ac
// opened them 915 times with 16 entries, 1,101 times with 8. A lookup is a
// scan of this many short strings.
const dirCacheSize = 16

// dirRef is a directory descriptor shared by the cache and the operations
// using it; the last release closes it, so an entry evicted or invalidated
// while in use stays open until its user is done.
type dirRef struct {
	fd   int
	refs atomic.Int32
}

func (d *dirRef) release() {
	if d.refs.Add(-1) == 0 {
		unix.Close(d.fd)
	}
}

type cachedDir struct {
	name string // cleaned, root-relative; "" for a free slot
	ref  *dirRef
	used uint64 // the cache's clock at the last hit
}

// opening is a directory being opened outside the lock; an invalidation of
// its name meanwhile marks it stale, and it is then not cached.
type opening struct {
	name  string
	stale bool
}

// dirCache keeps the parent directories of recent operations open, so an
// operation on a/b/name is one *at call on a cached descriptor of a/b
// instead of an openat2, the call and a close.
//
// Only directories reached without any symbolic link are cached (openat2
// with RESOLVE_NO_SYMLINKS), so a cached name is the directory at that path
// and nothing else: the Root's own Remove, RemoveAll and Rename invalidate
// the name and every name below it, which is all that can change what the
// path means as long as only this Root changes the tree. A change made by
// someone else — the directory renamed, or swapped for a symbolic link —
// leaves a cached descriptor on the directory it opened, and every operation
// on it names a single component that is never followed: the link's target
// is never reached through it. (A directory moved out of the tree, by
// someone allowed to write where it lands, takes its descriptor along, as
// it does any descriptor held on it, rsync's included; what is written
// there could have been moved there as well.)
type dirCache struct {
	mu      sync.Mutex
	ents    [dirCacheSize]cachedDir
	clock   uint64
	opening []*opening
}

// get returns the cached descriptor of name with a reference for the
// caller, or nil.
func (c *dirCache) get(name string) *dirRef {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range c.ents {
		e := &c.ents[i]
		if e.ref != nil && e.name == name {
			c.clock++
			e.used = c.clock
			e.ref.refs.Add(1)
			return e.ref
		}
	}
	return nil
}

// begin records that name is about to be opened.
func (c *dirCache) begin(name string) *opening {
	o := &opening{name: name}
	c.mu.Lock()
	c.opening = append(c.opening, o)
	c.mu.Unlock()
	return o
}

// finish ends an opening. With fd >= 0 it returns a reference for the
// caller, cached unless the name was invalidated while it was being opened
// (or is already cached by a concurrent opening).
func (c *dirCache) finish(o *opening, fd int) *dirRef {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, p := range c.opening {
		if p == o {
			last := len(c.opening) - 1
			c.opening[i] = c.opening[last]
			c.opening[last] = nil
			c.opening = c.opening[:last]
			break
		}
	}
	if fd < 0 {
		return nil
	}
	ref := &dirRef{fd: fd}
	ref.refs.Store(1)
	if o.stale {
		return ref
	}
	victim := 0
	for i := range c.ents {
		e := &c.ents[i]
		if e.ref != nil && e.name == o.name {
			return ref
		}
		if c.ents[victim].ref != nil && (e.ref == nil || e.used < c.ents[victim].used) {
			victim = i
		}
	}
	v := &c.ents[victim]
	if v.ref != nil {
		v.ref.release()
	}
	c.clock++
	ref.refs.Add(1) // the cache's own reference
	*v = cachedDir{name: o.name, ref: ref, used: c.clock}
	return ref
}

// invalidate forgets name and every name beneath it; "." forgets all.
// Call it after the operation that removed, moved or replaced name.
func (c *dirCache) invalidate(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range c.ents {
		e := &c.ents[i]
		if e.ref != nil && within(e.name, name) {
			e.ref.release()
			*e = cachedDir{}
		}
	}
	for _, o := range c.opening {
		if within(o.name, name) {
			o.stale = true
		}
	}
}

// close releases every cached descriptor.
func (c *dirCache) close() {
	c.invalidate(".")
}

// within reports whether name is dir or lies beneath it.
func within(name, dir string) bool {
	if dir == "." {
		return true
	}
	return strings.HasPrefix(name, dir) && (len(name) == len(dir) || name[len(dir)] == '/')
}
