package flist

import "slices"

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
	tp := tPath
	if protocol < 29 {
		tp = tItem
	}
	var c1, c2 cursor
	if a.Dir == b.Dir || a.Dir == "" {
		c1.startBase(a, tp)
	} else {
		c1 = cursor{s: a.Dir, typ: tp, state: sDir}
	}
	if a.Dir == b.Dir || b.Dir == "" {
		c2.startBase(b, tp)
	} else {
		c2 = cursor{s: b.Dir, typ: tp, state: sDir}
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
func Sort(entries []*Entry, protocol int) {
	slices.SortStableFunc(entries, func(a, b *Entry) int { return Compare(a, b, protocol) })
}
