package filter

import (
	"path"
	"slices"
	"strings"
)

// Match is one side's verdict on a name: no rule matched, an include rule
// matched first, or an exclude rule did.
type Match int8

// Verdicts, as rsync's check_filter returns them (0, 1, -1).
const (
	NoMatch  Match = 0
	Included Match = 1
	Excluded Match = -1
)

// Result is the verdict for both sides of a transfer. Sender decides what
// is sent (include/exclude, hide/show); Receiver decides what is protected
// from deletion (include/exclude, protect/risk).
type Result struct {
	Sender   Match
	Receiver Match
}

// List is an ordered list of filter rules with rsync's first-match
// semantics, built from the command line (or received from a client).
// Once built it is read-only and safe for concurrent use; per-directory
// merge files are tracked by a Stack.
type List struct {
	Options

	top    ruleList
	perDir []*Rule // the command line's dir-merge rules, in order
	cvs    *ruleList
}

// New returns an empty list.
func New(opts Options) *List {
	if opts.AbsRoot == "/" {
		opts.AbsRoot = ""
	}
	opts.AbsRoot = strings.TrimSuffix(opts.AbsRoot, "/")
	return &List{Options: opts}
}

// Clone returns a copy of l to which rules can be added without changing
// l: a local copy's receiving side completes one for itself, as rsync's
// local server does with the rules it inherits across its fork. The rules
// themselves, never changed once parsed, are shared.
func (l *List) Clone() *List {
	c := *l
	c.top.rules = slices.Clone(l.top.rules)
	c.perDir = slices.Clone(l.perDir)
	return &c
}

// Rules returns the list's rules in order (not to be modified).
func (l *List) Rules() []*Rule { return l.top.rules }

// HasDirMerge reports whether the list names per-directory merge files,
// whose rules only the sender can know (rsync's trust_sender_filter).
func (l *List) HasDirMerge() bool { return len(l.perDir) > 0 }

// Empty reports whether the list has no rules.
func (l *List) Empty() bool { return len(l.top.rules) == 0 }

func (l *List) who() string {
	if l.Who == "" {
		return "client"
	}
	return l.Who
}

func (l *List) parser() *parser { return &parser{l: l, fs: l.fs()} }

// AddFilter adds the rules of a --filter (-f) option.
//
// rsync: options.c OPT_FILTER
func (l *List) AddFilter(rule string) error {
	return l.parser().parseStr(&l.top, rule, 0, 0)
}

// AddExclude adds an --exclude pattern ("+ " and "- " prefixes allowed, as
// rsync allows them).
func (l *List) AddExclude(pattern string) error {
	return l.parser().parseStr(&l.top, pattern, 0, xOldPrefixes)
}

// AddInclude adds an --include pattern.
func (l *List) AddInclude(pattern string) error {
	return l.parser().parseStr(&l.top, pattern, Include, xOldPrefixes)
}

// AddExcludeFrom adds the patterns in file (--exclude-from; "-" is Stdin).
func (l *List) AddExcludeFrom(file string) error {
	return l.parser().parseFile(&l.top, file, 0, xFatalErrors|xOldPrefixes)
}

// AddIncludeFrom adds the patterns in file (--include-from).
func (l *List) AddIncludeFrom(file string) error {
	return l.parser().parseFile(&l.top, file, Include, xFatalErrors|xOldPrefixes)
}

// AddCVSExclude appends what -C means in a transfer that applies the
// rules locally: a per-directory .cvsignore merge and the CVS ignore
// list, after all other rules (the order rsync's sending client uses).
//
// rsync: exclude.c send_filter_list
func (l *List) AddCVSExclude() error {
	if err := l.AddFilter(":C"); err != nil {
		return err
	}
	return l.AddFilter("-C")
}

// defaultCVSIgnore is rsync's built-in -C list (rsync.1.md, --cvs-exclude).
const defaultCVSIgnore = "RCS SCCS CVS CVS.adm RCSLOG cvslog.* tags TAGS .make.state .nse_depinfo " +
	"*~ #* .#* ,* _$* *$ *.old *.bak *.BAK *.orig *.rej .del-* *.a *.olb *.o *.obj *.so *.exe " +
	"*.Z *.elc *.ln core .svn/ .git/ .hg/ .bzr/"

// loadCVS builds the list a -C rule consults, once: the default list
// (perishable from protocol 30), then ~/.cvsignore, then $CVSIGNORE.
//
// rsync: exclude.c get_cvs_excludes
func (l *List) loadCVS(flags Flag) error {
	if l.cvs != nil {
		return nil
	}
	l.cvs = &ruleList{}
	p := l.parser()
	tmpl := flags
	if l.protocol() >= 30 {
		tmpl |= Perishable
	}
	if err := p.parseStr(l.cvs, defaultCVSIgnore, tmpl, 0); err != nil {
		return err
	}
	if l.Home != "" {
		if err := p.parseFile(l.cvs, path.Join(l.Home, ".cvsignore"), flags, 0); err != nil {
			return err
		}
	}
	return p.parseStr(l.cvs, l.CVSIgnore, flags, 0)
}

// absDir is the prefix given to a rule anchored in dir's merge file.
func (l *List) absDir(dir string) string {
	if dir == "" || dir == "." {
		return l.AbsRoot
	}
	return l.AbsRoot + "/" + dir
}

// Check returns both sides' verdicts on name (relative to the transfer
// root), ignoring per-directory merge files; see Stack.Check.
func (l *List) Check(name string, isDir bool) Result {
	return Result{
		Sender:   l.check(l.top.rules, nil, name, isDir, false, SenderSide, false),
		Receiver: l.check(l.top.rules, nil, name, isDir, false, ReceiverSide, false),
	}
}

// CheckSide returns one side's verdict (side is SenderSide or
// ReceiverSide); ignorePerishable skips perishable rules, as rsync does
// when deciding whether a directory can be deleted.
func (l *List) CheckSide(name string, isDir bool, side Flag, ignorePerishable bool) Match {
	return l.check(l.top.rules, nil, name, isDir, false, side, ignorePerishable)
}

// CheckXattr returns the verdict on an extended attribute's name for one
// side: only rules with the 'x' modifier apply.
func (l *List) CheckXattr(name string, side Flag) Match {
	return l.check(l.top.rules, nil, name, false, true, side, false)
}

// applies reports whether rule r is in force on side.
//
// rsync: exclude.c send_rules (the elide decision) and rule_matches
func (l *List) applies(r *Rule, side Flag) bool {
	s := r.Flags & sides
	if s == 0 {
		if !l.DeleteExcluded || r.Flags&(MergeFile|PerDirMerge) != 0 {
			return true
		}
		s = SenderSide
	}
	return s&side != 0
}

// check is rsync's check_filter over rules, consulting st for dir-merge
// rules.
//
// rsync: exclude.c check_filter
func (l *List) check(rules []*Rule, st *Stack, name string, isDir, xattr bool, side Flag, ignorePerishable bool) Match {
	for _, r := range rules {
		if ignorePerishable && r.Flags&Perishable != 0 {
			continue
		}
		if r.Flags&PerDirMerge != 0 {
			if st != nil {
				if m := st.checkMerge(r, name, isDir, xattr, side, ignorePerishable); m != NoMatch {
					return m
				}
			}
			continue
		}
		if r.Flags&CVSIgnore != 0 {
			if l.cvs != nil {
				if m := l.check(l.cvs.rules, st, name, isDir, xattr, side, ignorePerishable); m != NoMatch {
					return m
				}
			}
			continue
		}
		if !l.applies(r, side) {
			continue
		}
		if r.matches(name, isDir, xattr, l.AbsRoot) {
			if r.Flags&Include != 0 {
				return Included
			}
			return Excluded
		}
	}
	return NoMatch
}
