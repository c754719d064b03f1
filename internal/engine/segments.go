package engine

import (
	"fmt"

	"github.com/gorsync/gorsync/internal/flist"
	"github.com/gorsync/gorsync/internal/wire"
)

// segments are the live file lists of one side of a transfer, oldest first,
// and the directories of every list so far (rsync's dir_flist). Without
// incremental recursion there is one list, from index 0. With it, the first
// list starts at index 1 and each directory's entries follow as a list of
// their own, numbered on from the previous list with one index between
// them, which names the list's directory (its gap index); the oldest list
// is freed when both sides are done with it, the directories stay.
// rsync: flist.c flist_new, flist_free; rsync.c flist_for_ndx
type segments struct {
	live []*flist.List
	// dirs holds every directory of every list, in list order and, within
	// a list, in sorted order: a later list's header and ParentNdx index
	// it.
	dirs []*flist.Entry
	// eof is set once the sender has said no list follows
	// (NDX_FLIST_EOF), and from the start without incremental recursion.
	eof bool
	// next is the index the next list starts at.
	next int32
	// total counts the entries of the live lists (rsync's file_total
	// less the freed ones).
	total int
	inc   bool
	// seen counts the entries of every list so far, and bases[i] those
	// before live[i]: an entry's place in all the lists, which progress
	// lines count from (rsync's current_file_index).
	seen  int
	bases []int
}

// newSegments returns the empty set of lists of a transfer, incremental or
// not.
func newSegments(inc bool) *segments {
	s := &segments{inc: inc, eof: !inc}
	if inc {
		s.next = 1
	}
	return s
}

// add makes l the newest list: it takes the next indexes, and its
// directories (after SortAndClean) join dirs. It returns the index of l's
// first directory in dirs.
func (s *segments) add(l *flist.List) int {
	l.NdxStart = s.next
	s.next += int32(len(l.Entries))
	if s.inc {
		s.next++ // the next list's gap index
	}
	first := len(s.dirs)
	if s.inc {
		for _, e := range l.Entries {
			if e.IsDir() {
				s.dirs = append(s.dirs, e)
			}
		}
	}
	s.live = append(s.live, l)
	s.bases = append(s.bases, s.seen)
	s.seen += len(l.Entries)
	s.total += len(l.Entries)
	return first
}

// first returns the oldest live list, nil when none is left.
func (s *segments) first() *flist.List {
	if len(s.live) == 0 {
		return nil
	}
	return s.live[0]
}

// last returns the newest live list, nil when none is left.
func (s *segments) last() *flist.List {
	if len(s.live) == 0 {
		return nil
	}
	return s.live[len(s.live)-1]
}

// freeFirst forgets the oldest list and returns it.
func (s *segments) freeFirst() *flist.List {
	l := s.live[0]
	s.live[0] = nil
	s.live = s.live[1:]
	s.bases = s.bases[1:]
	s.total -= len(l.Entries)
	return l
}

// position returns the place of index ndx of live list l among the
// entries of every list so far. rsync: progress.c set_current_file_index
func (s *segments) position(l *flist.List, ndx int32) int {
	for i, x := range s.live {
		if x == l {
			return s.bases[i] + int(ndx-l.NdxStart)
		}
	}
	return int(ndx)
}

// find returns the live list that index ndx belongs to and its entry there:
// the list's own directory (from dirs) for its gap index. It fails, with
// rsync's message, for an index in a freed list or beyond the newest.
// rsync: rsync.c flist_for_ndx
func (s *segments) find(ndx int32) (*flist.List, *flist.Entry, error) {
	for i := len(s.live) - 1; i >= 0; i-- {
		l := s.live[i]
		switch {
		case ndx >= l.NdxStart && int(ndx-l.NdxStart) < len(l.Entries):
			return l, l.Entries[ndx-l.NdxStart], nil
		case s.inc && ndx == l.NdxStart-1 && l.ParentNdx >= 0 && int(l.ParentNdx) < len(s.dirs):
			return l, s.dirs[l.ParentNdx], nil
		case ndx >= l.NdxStart:
			return nil, nil, s.notFound(ndx)
		}
	}
	return nil, nil, s.notFound(ndx)
}

func (s *segments) notFound(ndx int32) error {
	lo, hi := int32(0), int32(-1)
	if len(s.live) > 0 {
		lo = s.live[0].NdxStart - 1
		l := s.live[len(s.live)-1]
		hi = l.NdxStart + int32(len(l.Entries)) - 1
	}
	return fmt.Errorf("File-list index %d not in %d - %d: %w", ndx, lo, hi, wire.ErrIncompatible)
}

// dir returns directory dirNdx of dirs, checking the index a peer sent
// (a list header's): rsync's "Invalid dir index".
func (s *segments) dir(dirNdx int32) (*flist.Entry, error) {
	if dirNdx < 0 || int(dirNdx) >= len(s.dirs) {
		return nil, fmt.Errorf("Invalid dir index: %d (%d - %d): %w", dirNdx, 0, len(s.dirs)-1, wire.ErrIncompatible)
	}
	return s.dirs[dirNdx], nil
}
