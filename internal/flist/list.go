package flist

import (
	"github.com/gorsync/gorsync/internal/exitcode"
)

// List is one file list: its entries, and what the engine needs to serve
// them. After SortAndClean, an entry's index in Entries is its file index
// (ndx) on the wire, counted from NdxStart.
type List struct {
	// Entries holds the entries in sending order until SortAndClean, in
	// rsync's sorted order after. Cleared entries stay in place.
	Entries []*Entry
	// Roots are the sender-side directories that entries' names are
	// relative to (Entry.Root indexes it); "" is the working directory.
	Roots []string
	// IOError is rsync's io_error: IOERR_* bits from the walk, or received
	// from the sender.
	IOError int32
	// Users and Groups map the sender's ids to names (receiver side).
	Users, Groups map[uint32]string
	// NdxStart is the wire index of Entries[0] (0 without inc-recurse).
	NdxStart int32
	// ParentNdx is, with incremental recursion, the index among all the
	// transfer's directories (rsync's dir_flist) of the directory whose
	// entries this list holds, -1 for none (the first list, unless it
	// starts with "."); its wire index NdxStart-1 names that directory.
	// rsync: flist.c flist->parent_ndx
	ParentNdx int32

	protocol  int
	low, high int
	// anchors are the directories the sender's walk reached by the
	// user's names (source.go); nil on a receiver.
	anchors map[anchorKey]anchorID
}

// I/O error bits carried in the list's end marker and trailer.
const (
	IOErrGeneral  = exitcode.IOErrGeneral  // IOERR_GENERAL
	IOErrVanished = exitcode.IOErrVanished // IOERR_VANISHED
	IOErrDelLimit = exitcode.IOErrDelLimit // IOERR_DEL_LIMIT
	// IOErrValidMask keeps only the bits a receiver honours.
	IOErrValidMask = IOErrGeneral | IOErrVanished | IOErrDelLimit
)

// Len returns the number of entries, cleared ones included.
func (l *List) Len() int { return len(l.Entries) }

// SourcePath returns where entry i lives on the sender's disk: its root
// joined with its name.
func (l *List) SourcePath(i int) string {
	e := l.Entries[i]
	root := ""
	if int(e.Root) < len(l.Roots) && e.Root >= 0 {
		root = l.Roots[e.Root]
	}
	return joinRoot(root, e.Name())
}

// Counts are the per-type totals rsync reports in --stats.
type Counts struct {
	Files, Regular, Dirs, Symlinks, Devices, Specials int
	// TotalSize sums the sizes of regular files and symlinks.
	TotalSize int64
}

// Counts tallies the list's entries by type, cleared duplicates included,
// as rsync counts them while sending or receiving.
func (l *List) Counts() Counts {
	var c Counts
	c.Files = len(l.Entries)
	for _, e := range l.Entries {
		switch {
		case e.IsRegular():
			c.Regular++
			c.TotalSize += e.Size
		case e.IsDir():
			c.Dirs++
		case e.IsSymlink():
			c.Symlinks++
			c.TotalSize += e.Size
		case e.IsDevice():
			c.Devices++
		default:
			c.Specials++
		}
	}
	return c
}

// SortAndClean sorts the list into rsync's order for protocol and, on the
// receiving side, clears duplicate names: of two equal names the first is
// kept, unless the later one is a directory and the earlier is not (from
// protocol 29 a directory also displaces an earlier non-directory of the
// same name). A sender only sorts, so that both sides agree on indexes.
// rsync: flist.c flist_sort_and_clean
func (l *List) SortAndClean(protocol int, receiver bool) {
	l.protocol = protocol
	n := len(l.Entries)
	if n == 0 {
		l.low, l.high = 0, -1
		return
	}
	Sort(l.Entries, protocol)
	if !receiver {
		l.low, l.high = 0, n-1
		return
	}
	s := l.Entries
	i, prev := 0, 0
	for ; i < n; i++ {
		if s[i].Active() {
			prev = i
			break
		}
	}
	l.low = prev
	for i++; i < n; i++ {
		e := s[i]
		if !e.Active() {
			continue
		}
		j := -1
		if Compare(e, s[prev], protocol) == 0 {
			j = prev
		} else if protocol >= 29 && e.IsDir() {
			// Does this directory duplicate an earlier non-directory?
			l.high = prev
			j = l.find(e, false)
		}
		if j < 0 {
			prev = i
			continue
		}
		keep, drop := j, i
		if e.IsDir() {
			if fp := s[j]; !fp.IsDir() {
				keep, drop = i, j
			} else {
				// Merge the vital flags into the kept directory.
				fp.Flags |= e.Flags & (FlagTopDir | FlagContentDir)
				fp.Flags &= e.Flags | ^FlagImpliedDir
			}
		}
		s[drop].Flags |= FlagCleared
		if keep == i {
			if l.low == drop {
				k := drop + 1
				for k < i && !s[k].Active() {
					k++
				}
				l.low = k
			}
			prev = i
		}
	}
	l.high = prev
}

// Find returns the index of the active entry whose name equals e's and
// whose directory-ness matches (rsync's flist_find), or -1. The list must
// have been through SortAndClean.
func (l *List) Find(e *Entry) int {
	return l.find(e, e.IsDir())
}

// find binary-searches the active entries between low and high for e's
// name, comparing as a directory when asDir. rsync: flist.c flist_find
func (l *List) find(e *Entry, asDir bool) int {
	probe := *e
	probe.Flags &^= FlagCleared
	if asDir {
		probe.Mode = ModeDir
	} else {
		probe.Mode = ModeRegular
	}
	s := l.Entries
	low, high := l.low, l.high
	if high >= len(s) {
		high = len(s) - 1
	}
	for low <= high {
		mid := (low + high) / 2
		up := mid
		for up <= high && !s[up].Active() {
			up++
		}
		if up > high {
			high = mid - 1
			continue
		}
		d := Compare(s[up], &probe, l.protocol)
		if d == 0 {
			if l.protocol < 29 && s[up].IsDir() != asDir {
				return -1
			}
			return up
		}
		if d < 0 {
			low = up + 1
		} else {
			high = mid - 1
		}
	}
	return -1
}

// FindName looks a path up in a list sorted by SortAndClean: wantDir 1 matches only a
// directory, 0 only a non-directory, -1 either (preferring a non-directory).
// rsync: flist.c flist_find_name
func (l *List) FindName(name string, wantDir int) int {
	dir, base := splitName(name)
	e := Entry{Dir: dir, Base: base}
	switch {
	case wantDir > 0:
		return l.find(&e, true)
	case wantDir == 0:
		return l.find(&e, false)
	}
	if i := l.find(&e, false); i >= 0 {
		return i
	}
	return l.find(&e, true)
}
