package flist

import "strings"

// StripRoot drops the leading slashes of --relative names after the list
// is sorted (they sort as sent, but land below the destination).
// rsync: flist.c flist_sort_and_clean (strip_root)
func (l *List) StripRoot() {
	for _, e := range l.Entries {
		if !e.Active() {
			continue
		}
		if e.Dir != "" {
			e.Dir = strings.TrimLeft(e.Dir, "/")
		} else if strings.HasPrefix(e.Base, "/") && len(e.Base) > 1 {
			e.Base = strings.TrimLeft(e.Base, "/")
		}
	}
}

// depth is rsync's F_DEPTH of an entry: its number of path elements, one
// less for a directory named ".".
func depth(e *Entry) int {
	d := 1
	if e.Dir != "" {
		d = countDirElements(e.Dir) + 1
	}
	if e.IsDir() && e.Base == "." {
		d--
	}
	return d
}

// PruneEmptyDirs clears the directories that would arrive empty (-m): a
// directory survives if a non-directory lands somewhere below it, or if
// it or a directory below it is excluded by the receiver's rules (kept
// reports that), since the receiver cannot see inside those. The list
// must be sorted and cleaned. rsync: flist.c flist_sort_and_clean
// (prune_empty_dirs)
func (l *List) PruneEmptyDirs(kept func(name string) bool) {
	s := l.Entries
	if len(s) == 0 || l.high < l.low {
		return
	}
	// dep holds each directory's depth while it is settled, and for a
	// directory in a chain that may be pruned, -(index of its parent in
	// the chain)-1, as rsync abuses F_DEPTH.
	dep := make([]int, len(s))
	for i, e := range s {
		if e.Active() {
			dep[i] = depth(e)
		} else {
			dep[i] = 1
		}
	}
	isDir := func(i int) bool { return s[i].Active() && s[i].IsDir() }
	keep := func(prev, from int) int { // keep the chain ending at prev
		for j := from; ; j-- {
			if dep[prev] >= 0 {
				return prev
			}
			next := -dep[prev] - 1
			dep[prev] = j
			prev = next
		}
	}
	prevDepth, prev := 0, 0
	for i := l.low; i <= l.high; i++ {
		if isDir(i) && dep[i] != 0 {
			for j := prevDepth; j >= dep[i]; j-- {
				if dep[prev] >= 0 {
					break
				}
				next := -dep[prev] - 1
				s[prev].Flags |= FlagCleared
				prev = next
			}
			prevDepth = dep[i]
			if kept != nil && kept(s[i].Name()) {
				keep(prev, prevDepth-1) // rsync moves prev_i here too, then resets it below
			} else {
				dep[i] = -prev - 1
			}
			prev = i
		} else {
			prev = keep(prev, prevDepth)
		}
	}
	for dep[prev] < 0 {
		next := -dep[prev] - 1
		s[prev].Flags |= FlagCleared
		prev = next
	}
	for l.low <= l.high && !s[l.low].Active() {
		l.low++
	}
	for l.high >= l.low && !s[l.high].Active() {
		l.high--
	}
}
