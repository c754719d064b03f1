package filter

import (
	"path"
	"strings"
)

// Stack tracks the per-directory merge files (dir-merge rules, -F, :C) of
// one tree walk: Push when entering a directory reads its merge files,
// Pop when leaving drops them, and Check consults the whole list with the
// rules of the current directory and those inherited from its parents.
// A Stack belongs to one walker; use one per goroutine.
type Stack struct {
	l      *List
	fs     FS
	base   string // absolute path of the tree's root, "" if unknown
	active []*mergeState
	byRule map[*Rule]*mergeState
	dirs   []string
}

// mergeState is one active dir-merge rule and its rules per directory
// level, innermost last.
type mergeState struct {
	rule   *Rule
	name   string // the file name read in each directory
	start  int    // depth at which the rule appeared (0: command line)
	levels []mergeLevel
	// setup says the merge files of the rule's parent directories are
	// still to be read, when the next directory is entered.
	// rsync: FILTRULE_FINISH_SETUP
	setup bool
}

type mergeLevel struct {
	depth int
	ruleList
	noInherit bool
}

// NewStack returns a Stack for a walk of the tree that fsys reads, with
// names relative to the transfer root (so OSFS{Dir: root} for a local
// tree). Where fsys is a Namer, messages name merge files by their full
// paths and a merge file named by a relative path is found from the
// directory that names it; otherwise List.AbsRoot is the tree's root.
func (l *List) NewStack(fsys FS) *Stack {
	s := &Stack{l: l, fs: fsys, base: l.AbsRoot, byRule: map[*Rule]*mergeState{}}
	if n, ok := fsys.(Namer); ok {
		s.base = strings.TrimSuffix(n.FullPath("."), "/")
	}
	for _, r := range l.perDir {
		s.add(r, path.Base("/"+r.Pattern), 0)
	}
	return s
}

func (s *Stack) add(r *Rule, name string, depth int) *mergeState {
	m := &mergeState{rule: r, name: name, start: depth, setup: true}
	s.active = append(s.active, m)
	s.byRule[r] = m
	return m
}

// register adds a dir-merge rule read from a merge file, unless a merge
// file of the same name is already active.
//
// rsync: exclude.c add_rule (mergelist_parents)
func (s *Stack) register(r *Rule, name string) bool {
	for _, m := range s.active {
		if m.name == name {
			return false
		}
	}
	s.add(r, name, len(s.dirs))
	return true
}

// scanParents reads a dir-merge file named by a path in each directory
// from that path's directory down to the parent of cur (the absolute path
// of the directory being entered, where a relative path starts), when cur
// lies beneath it; those rules are inherited by cur. A malformed rule in
// one of them is returned as a *SyntaxError.
//
// rsync: exclude.c setup_merge_file
func (s *Stack) scanParents(m *mergeState, cur string) error {
	pat := m.rule.Pattern
	if !strings.Contains(pat, "/") || cur == "" {
		return nil
	}
	full := pat
	if !strings.HasPrefix(pat, "/") {
		full = cur + "/" + pat
	}
	full = path.Clean(full)
	dir := path.Dir(full)
	root := strings.TrimSuffix(cur, "/") + "/"
	if dir != "/" {
		dir += "/"
	}
	if !strings.HasPrefix(root, dir) {
		return nil
	}
	lv := mergeLevel{depth: 0}
	for d := dir; len(d) < len(root); {
		var one ruleList
		// Anchored rules in a parent's file are anchored at that parent.
		p := &parser{l: s.l, st: s, fs: OSFS{}, abs: strings.TrimSuffix(d, "/")}
		if err := p.parseFile(&one, d+m.name, m.rule.Flags, xAnchored2Abs); err != nil {
			return err
		}
		if m.rule.Flags&NoInherit == 0 {
			lv.rules = append(one.rules, lv.rules...)
		}
		next := strings.IndexByte(root[len(d):], '/')
		d = root[:len(d)+next+1]
	}
	if len(lv.rules) > 0 {
		m.levels = append(m.levels, lv)
	}
	return nil
}

// absDir is the absolute path of dir (relative to the tree's root), or ""
// when the root's is unknown.
func (s *Stack) absDir(dir string) string {
	if s.base == "" || dir == "" {
		return s.base
	}
	return s.base + "/" + dir
}

// shownName is how messages name the merge file name (relative to the
// tree's root): by its full path where the Stack's FS can say it, as rsync
// does, whose names are built on its absolute working directory.
func (s *Stack) shownName(name string) string {
	if n, ok := s.fs.(Namer); ok {
		return n.FullPath(name)
	}
	return name
}

// Push enters directory dir (relative to the transfer root; "" or "." for
// the root itself) and reads its merge files. A malformed rule in a merge
// file, or an unreadable file that one merges, is returned (a *SyntaxError
// or an *Error), and is fatal as in rsync; unreadable merge files are
// skipped.
//
// rsync: exclude.c push_local_filters
func (s *Stack) Push(dir string) error {
	if dir == "." {
		dir = ""
	}
	s.dirs = append(s.dirs, dir)
	depth := len(s.dirs)
	p := &parser{l: s.l, st: s, fs: s.fs, dir: dir, abs: s.l.absDir(dir)}
	var firstErr error
	// Reading a file may activate more merge files, which are read here too.
	for i := 0; i < len(s.active); i++ {
		m := s.active[i]
		if m.setup {
			m.setup = false
			if err := s.scanParents(m, s.absDir(dir)); err != nil && firstErr == nil {
				firstErr = err
			}
		}
		m.levels = append(m.levels, mergeLevel{depth: depth, noInherit: m.rule.Flags&NoInherit != 0})
		name := m.name
		if dir != "" {
			name = dir + "/" + name
		}
		var rl ruleList
		if err := p.parseFileAs(&rl, name, s.shownName(name), m.rule.Flags, xAnchored2Abs); err != nil && firstErr == nil {
			firstErr = err
		}
		// Reading may have grown m.levels; take the level afresh.
		m.levels[len(m.levels)-1].ruleList = rl
	}
	return firstErr
}

// Pop leaves the directory most recently pushed.
//
// rsync: exclude.c pop_local_filters
func (s *Stack) Pop() {
	depth := len(s.dirs)
	if depth == 0 {
		return
	}
	keep := s.active[:0]
	for _, m := range s.active {
		if n := len(m.levels); n > 0 && m.levels[n-1].depth == depth {
			m.levels = m.levels[:n-1]
		}
		if m.start == depth {
			delete(s.byRule, m.rule)
			continue
		}
		keep = append(keep, m)
	}
	s.active = keep
	s.dirs = s.dirs[:depth-1]
}

// Dir returns the directory most recently pushed.
func (s *Stack) Dir() string {
	if len(s.dirs) == 0 {
		return ""
	}
	return s.dirs[len(s.dirs)-1]
}

// Check returns both sides' verdicts on name (relative to the transfer
// root, an entry of the directory last pushed), with the rules of the
// merge files of that directory and its parents.
func (s *Stack) Check(name string, isDir bool) Result {
	return Result{
		Sender:   s.l.check(s.l.top.rules, s, name, isDir, false, SenderSide, false),
		Receiver: s.l.check(s.l.top.rules, s, name, isDir, false, ReceiverSide, false),
	}
}

// CheckSide is List.CheckSide with the merge files' rules.
func (s *Stack) CheckSide(name string, isDir bool, side Flag, ignorePerishable bool) Match {
	return s.l.check(s.l.top.rules, s, name, isDir, false, side, ignorePerishable)
}

// checkMerge consults a dir-merge rule's rules: the current directory's
// first, then inherited ones, up to a "!" or a no-inherit level.
func (s *Stack) checkMerge(r *Rule, name string, isDir, xattr bool, side Flag, ignorePerishable bool) Match {
	m := s.byRule[r]
	if m == nil {
		return NoMatch
	}
	for i := len(m.levels) - 1; i >= 0; i-- {
		lv := &m.levels[i]
		if mt := s.l.check(lv.rules, s, name, isDir, xattr, side, ignorePerishable); mt != NoMatch {
			return mt
		}
		if lv.cleared || lv.noInherit {
			break
		}
	}
	return NoMatch
}
