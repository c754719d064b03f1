package flist

import (
	"slices"
	"sort"
	"strings"
)

// States and types of rsync's f_name_cmp walk over dir, "/", base.
const (
	sDir = iota
	sSlash
	sBase
	sTrailing
)

const (
	tPath = iota
	tItem
)

// cursor walks one entry's name as f_name_cmp sees it.
type cursor struct {
	s     string
	i     int
	state int
	typ   int
}

func (c *cursor) cur() byte {
	if c.i < len(c.s) {
		return c.s[c.i]
	}
	return 0
}

// startBase points the cursor at e's base name. A directory named "."
// compares as an empty item, so it sorts before its contents.
func (c *cursor) startBase(e *Entry, tp int) {
	c.typ = tItem
	if e.IsDir() {
		c.typ = tp
	}
	c.s, c.i = e.Base, 0
	if c.typ == tPath && e.Base == "." {
		c.typ = tItem
		c.state = sTrailing
		c.s = ""
	} else {
		c.state = sBase
	}
}

// Compare orders two entries the way rsync's f_name_cmp does: names are
// compared byte by byte, but from protocol 29 a directory compares as if
// its name ended in "/", so "a/b" files follow the "a" directory and
// precede "a.b"; inactive entries sort first. It returns <0, 0 or >0.
// rsync: flist.c f_name_cmp
func Compare(a, b *Entry, protocol int) int {
	if !a.Active() {
		if !b.Active() {
			return 0
		}
		return -1
	}
	if !b.Active() {
		return 1
	}
	if a.Dir == b.Dir {
		return compareBases(a, b, protocol)
	}
	// Different directories that differ before either ends decide at that
	// byte: no type changes inside a directory part.
	if a.Dir != "" && b.Dir != "" {
		n := commonPrefix(a.Dir, b.Dir)
		if n < len(a.Dir) && n < len(b.Dir) {
			return int(a.Dir[n]) - int(b.Dir[n])
		}
		return compareCursors(a, b, protocol, n)
	}
	return compareCursors(a, b, protocol, 0)
}

// compareBases is f_name_cmp for two entries of one directory: a
// non-directory precedes a directory from protocol 29 on, where a
// directory compares as "base/" and the directory "." as "".
func compareBases(a, b *Entry, protocol int) int {
	ap := protocol >= 29 && a.IsDir()
	bp := protocol >= 29 && b.IsDir()
	as, bs := a.Base, b.Base
	if ap && as == "." {
		ap, as = false, ""
	}
	if bp && bs == "." {
		bp, bs = false, ""
	}
	switch {
	case ap != bp:
		if ap {
			return 1
		}
		return -1
	case !ap:
		return strings.Compare(as, bs)
	}
	// Both are "base/": past a common prefix, a name that ends compares
	// its "/" with the other's next byte.
	n := commonPrefix(as, bs)
	switch {
	case n < len(as) && n < len(bs):
		return int(as[n]) - int(bs[n])
	case len(as) == len(bs):
		return 0
	case n == len(as):
		if d := int('/') - int(bs[n]); d != 0 {
			return d
		}
		return -1
	}
	if d := int(as[n]) - int('/'); d != 0 {
		return d
	}
	return 1
}

// commonPrefix returns the length of the longest common prefix of a and b.
func commonPrefix(a, b string) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// compareCursors is f_name_cmp's full walk over dir, "/", base for two
// active entries; skip bytes of both directory parts are known equal (0
// unless both have one).
func compareCursors(a, b *Entry, protocol, skip int) int {
	tp := tPath
	if protocol < 29 {
		tp = tItem
	}
	var c1, c2 cursor
	if a.Dir == b.Dir || a.Dir == "" {
		c1.startBase(a, tp)
	} else {
		c1 = cursor{s: a.Dir, i: skip, typ: tp, state: sDir}
	}
	if a.Dir == b.Dir || b.Dir == "" {
		c2.startBase(b, tp)
	} else {
		c2 = cursor{s: b.Dir, i: skip, typ: tp, state: sDir}
	}
	if c1.typ != c2.typ {
		if c1.typ == tPath {
			return 1
		}
		return -1
	}
	for {
		if c1.cur() == 0 {
			switch c1.state {
			case sDir:
				c1.state, c1.s, c1.i = sSlash, "/", 0
			case sSlash:
				c1.startBase(a, tp)
			case sBase:
				c1.state = sTrailing
				if c1.typ == tPath {
					c1.s, c1.i = "/", 0
					break
				}
				c1.typ = tItem
			case sTrailing:
				c1.typ = tItem
			}
			if c2.cur() != 0 && c1.typ != c2.typ {
				if c1.typ == tPath {
					return 1
				}
				return -1
			}
		}
		if c2.cur() == 0 {
			switch c2.state {
			case sDir:
				c2.state, c2.s, c2.i = sSlash, "/", 0
			case sSlash:
				c2.startBase(b, tp)
			case sBase:
				c2.state = sTrailing
				if c2.typ == tPath {
					c2.s, c2.i = "/", 0
					break
				}
				// C falls through into s_TRAILING here.
				if c1.cur() == 0 {
					return 0
				}
				c2.typ = tItem
			case sTrailing:
				if c1.cur() == 0 {
					return 0
				}
				c2.typ = tItem
			}
			if c1.typ != c2.typ {
				if c1.typ == tPath {
					return 1
				}
				return -1
			}
		}
		d := int(c1.cur()) - int(c2.cur())
		c1.i++
		c2.i++
		if d != 0 {
			return d
		}
	}
}

// Sort sorts entries into rsync's file-list order for protocol. It is
// stable, like rsync's merge sort, so equal names keep their sending
// order. rsync: flist.c fsort
//
// It is a natural merge sort: a walk lists each directory's names
// together, often in reverse (tmpfs) or hashed (ext4) order, so the list
// falls into long runs, which are found (a strictly descending one is
// reversed), then merged pairwise through a buffer of at most half the
// list.
func Sort(entries []*Entry, protocol int) {
	n := len(entries)
	if n < 2 {
		return
	}
	cmp := func(a, b *Entry) int { return Compare(a, b, protocol) }
	// bounds[k] is where run k starts; the last bound is n.
	bounds := []int{0}
	for i := 0; i < n; {
		j := i + 1
		if j < n && cmp(entries[j], entries[j-1]) < 0 {
			for j++; j < n && cmp(entries[j], entries[j-1]) < 0; j++ {
			}
			slices.Reverse(entries[i:j])
		} else {
			for ; j < n && cmp(entries[j], entries[j-1]) >= 0; j++ {
			}
		}
		if end := min(i+minRun, n); j < end {
			insertionSort(entries[i:end], j-i, cmp)
			j = end
		}
		bounds = append(bounds, j)
		i = j
	}
	var buf []*Entry
	for len(bounds) > 2 {
		out := bounds[:1]
		for k := 0; k+1 < len(bounds); k += 2 {
			if k+2 >= len(bounds) {
				out = append(out, bounds[k+1])
				break
			}
			lo, mid, hi := bounds[k], bounds[k+1], bounds[k+2]
			buf = merge(entries[lo:hi], mid-lo, buf, cmp)
			out = append(out, hi)
		}
		bounds = out
	}
}

// minRun is the shortest run Sort merges; shorter ones are extended by
// insertion.
const minRun = 24

// insertionSort sorts s, whose first sorted elements are in order, by
// binary insertion.
func insertionSort(s []*Entry, sorted int, cmp func(a, b *Entry) int) {
	for i := sorted; i < len(s); i++ {
		e := s[i]
		// The first position whose element sorts after e keeps it stable.
		lo, hi := 0, i
		for lo < hi {
			m := int(uint(lo+hi) >> 1)
			if cmp(e, s[m]) < 0 {
				hi = m
			} else {
				lo = m + 1
			}
		}
		copy(s[lo+1:i+1], s[lo:i])
		s[lo] = e
	}
}

// merge merges the sorted halves s[:mid] and s[mid:] in place, stably,
// through buf (grown as needed and returned). Elements of the left half
// that already precede the right half, and of the right half that already
// follow the left, stay where they are.
func merge(s []*Entry, mid int, buf []*Entry, cmp func(a, b *Entry) int) []*Entry {
	if cmp(s[mid-1], s[mid]) <= 0 {
		return buf
	}
	// Skip the left half's prefix that is <= s[mid] and the right half's
	// suffix that is >= s[mid-1].
	lo := sort.Search(mid, func(i int) bool { return cmp(s[i], s[mid]) > 0 })
	hi := mid + sort.Search(len(s)-mid, func(i int) bool { return cmp(s[mid+i], s[mid-1]) >= 0 })
	left := append(buf[:0], s[lo:mid]...)
	i, j, k := 0, mid, lo
	for i < len(left) && j < hi {
		if cmp(s[j], left[i]) < 0 {
			s[k] = s[j]
			j++
		} else {
			s[k] = left[i]
			i++
		}
		k++
	}
	copy(s[k:], left[i:])
	return left
}
