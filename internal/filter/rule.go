package filter

import "strings"

// Flag is a set of a rule's properties; the values mirror rsync's
// FILTRULE_* bits (rsync.h) so debug output can be compared.
type Flag uint32

// Rule flags. Wild, Wild2, Wild2Prefix and Wild3Suffix are computed from the
// pattern; the others come from the rule's prefix and modifiers.
const (
	Wild         Flag = 1 << 0  // pattern has '*', '[' or '?'
	Wild2        Flag = 1 << 1  // pattern has "**"
	Wild2Prefix  Flag = 1 << 2  // pattern starts with "**"
	Wild3Suffix  Flag = 1 << 3  // pattern ends with "***"
	AbsPath      Flag = 1 << 4  // '/' modifier: match the absolute path
	Include      Flag = 1 << 5  // an include (or show, risk), not an exclude
	DirOnly      Flag = 1 << 6  // trailing '/': matches only directories
	WordSplit    Flag = 1 << 7  // 'w': merge file split on whitespace
	NoInherit    Flag = 1 << 8  // 'n': per-dir rules not inherited
	NoPrefixes   Flag = 1 << 9  // '+'/'-': merge file holds bare patterns
	MergeFile    Flag = 1 << 10 // '.' or ':' rule
	PerDirMerge  Flag = 1 << 11 // ':' rule (dir-merge)
	ExcludeSelf  Flag = 1 << 12 // 'e': exclude the merge file's own name
	finishSetup  Flag = 1 << 13 // dir-merge rule not yet set up (unused here)
	Negate       Flag = 1 << 14 // '!': matches when the pattern does not
	CVSIgnore    Flag = 1 << 15 // 'C': -C or :C
	SenderSide   Flag = 1 << 16 // 's' (hide, show)
	ReceiverSide Flag = 1 << 17 // 'r' (protect, risk)
	ClearList    Flag = 1 << 18 // the '!' (clear) rule
	Perishable   Flag = 1 << 19 // 'p'
	Xattr        Flag = 1 << 20 // 'x': applies to xattr names only
	fromFile     Flag = 1 << 21 // text came from a file's contents

	sides = SenderSide | ReceiverSide
	// fromContainer are the flags a merge file's rules inherit from it.
	fromContainer = AbsPath | Include | DirOnly | Negate | Perishable
)

// Rule is one parsed filter rule. Pattern is stored as rsync stores it:
// without the trailing '/' of a directory-only rule (see DirOnly), and for
// an anchored rule read from a per-directory merge file, prefixed with that
// directory.
type Rule struct {
	Pattern string
	Flags   Flag

	slashCnt int // slashes in Pattern, for rules that are not dir-merges
}

// Has reports whether all of f are set on the rule.
func (r *Rule) Has(f Flag) bool { return r.Flags&f == f }

// Prefix returns the rule's prefix the way rsync writes it in debug output
// (e.g. "-/!p " or ":n- "), with the trailing space.
//
// rsync: exclude.c get_rule_prefix (not for a transfer)
func (r *Rule) Prefix() string {
	p, _ := r.prefix(false, 0, false, false)
	return p
}

// String returns the rule as a filter rule string that parses back to it.
func (r *Rule) String() string {
	s := r.Prefix() + r.Pattern
	if r.Flags&DirOnly != 0 {
		s += "/"
	}
	return s
}

// maxRulePrefix is rsync's MAX_RULE_PREFIX.
const maxRulePrefix = 16

// prefix builds the rule's prefix; forXfer restricts it to what the peer's
// protocol understands and ok is false when the rule cannot be expressed.
//
// rsync: exclude.c get_rule_prefix
func (r *Rule) prefix(forXfer bool, protocol int, amSender, deleteExcluded bool) (string, bool) {
	var b strings.Builder
	legal := maxRulePrefix - 1
	if forXfer && protocol < 29 {
		legal = 1
	}
	f := r.Flags
	switch {
	case f&PerDirMerge != 0:
		if legal == 1 {
			return "", false
		}
		b.WriteByte(':')
	case f&Include != 0:
		b.WriteByte('+')
	case legal != 1 || strings.HasPrefix(r.Pattern, "- ") || strings.HasPrefix(r.Pattern, "+ "):
		b.WriteByte('-')
	default:
		legal = 0
	}
	if f&AbsPath != 0 {
		b.WriteByte('/')
	}
	if f&Negate != 0 {
		b.WriteByte('!')
	}
	if f&CVSIgnore != 0 {
		b.WriteByte('C')
	} else {
		if f&NoInherit != 0 {
			b.WriteByte('n')
		}
		if f&WordSplit != 0 {
			b.WriteByte('w')
		}
		if f&NoPrefixes != 0 {
			if f&Include != 0 {
				b.WriteByte('+')
			} else {
				b.WriteByte('-')
			}
		}
	}
	if f&ExcludeSelf != 0 {
		b.WriteByte('e')
	}
	if f&Xattr != 0 {
		b.WriteByte('x')
	}
	if f&SenderSide != 0 && (!forXfer || protocol >= 29) {
		b.WriteByte('s')
	}
	if f&ReceiverSide != 0 && (!forXfer || protocol >= 29 || (deleteExcluded && amSender)) {
		b.WriteByte('r')
	}
	if f&Perishable != 0 {
		if !forXfer || protocol >= 30 {
			b.WriteByte('p')
		} else if amSender {
			return "", false
		}
	}
	if b.Len() > legal {
		return "", false
	}
	if legal != 0 {
		b.WriteByte(' ')
	}
	return b.String(), true
}

// setPattern stores pat (with prefix prepended) in the rule and derives the
// wildcard flags and slash count from it.
//
// rsync: exclude.c add_rule (the part after the pattern is assembled)
func (r *Rule) setPattern(pat string) {
	r.Pattern = pat
	r.slashCnt = strings.Count(pat, "/")
	if strings.ContainsAny(pat, "*[?") {
		r.Flags |= Wild
		if i := strings.Index(pat, "**"); i >= 0 {
			r.Flags |= Wild2
			if i == 0 {
				r.Flags |= Wild2Prefix
			}
			if strings.HasSuffix(pat, "***") {
				r.Flags |= Wild3Suffix
			}
		}
	}
}

// matches reports whether the rule matches name (relative to the transfer
// root, or absolute with a leading '/'). absRoot is the absolute path of
// the transfer root, used by rules with AbsPath.
//
// rsync: exclude.c rule_matches
func (r *Rule) matches(name string, isDir, isXattr bool, absRoot string) bool {
	ret := r.Flags&Negate == 0
	fname := name
	lead := len(fname) > 0 && fname[0] == '/'
	if lead {
		name = name[1:]
	}
	if name == "" {
		return false
	}
	if isXattr != (r.Flags&Xattr != 0) {
		return false
	}
	var pre string
	split := false // more than one piece in rsync's strings array
	switch {
	case r.slashCnt == 0 && r.Flags&Wild2 == 0:
		if i := strings.LastIndexByte(name, '/'); i >= 0 {
			name = name[i+1:]
		}
	case r.Flags&AbsPath != 0 && !lead && len(absRoot) > 1:
		pre = absRoot[1:] + "/"
		split = true
	case r.Flags&Wild2Prefix != 0 && !lead:
		pre = "/"
		split = true
	}
	text := name
	if pre != "" {
		text = pre + name
	}
	if isDir {
		if r.Flags&Wild3Suffix != 0 {
			text += "/"
			split = true
		}
	} else if r.Flags&DirOnly != 0 {
		return !ret
	}
	pattern := r.Pattern
	anchored := strings.HasPrefix(pattern, "/")
	if anchored {
		pattern = pattern[1:]
	}
	where := 0
	switch {
	case !anchored && r.slashCnt != 0 && r.Flags&Wild2 == 0:
		where = r.slashCnt + 1
	case !anchored && r.Flags&Wild2Prefix == 0 && r.Flags&Wild2 != 0:
		where = -1
	}
	switch {
	case r.Flags&Wild != 0:
		if wildmatchWhere(cstr(pattern), text, where) {
			return ret
		}
	case split:
		if litmatchWhere(pattern, text, where) {
			return ret
		}
	case anchored:
		if name == pattern {
			return ret
		}
	default:
		l1, l2 := len(name), len(pattern)
		if l2 <= l1 && name[l1-l2:] == pattern && (l1 == l2 || name[l1-l2-1] == '/') {
			return ret
		}
	}
	return !ret
}
