// Package negotiate implements the name lists with which rsync's peers
// agree on an algorithm (the checksum, the compression): the list this
// side advertises, made from its defaults or from an environment variable
// such as RSYNC_CHECKSUM_LIST, and the choice of the first of its entries
// that the peer also lists. The names are the caller's, resolved by a
// Lookup; the package sits below both checksum and protocol so that each
// can use it (protocol imports checksum, never the reverse).
package negotiate

import "strings"

// Lookup resolves a name from a list: the number of the algorithm it names
// (aliases share it), the name this side writes for it (the main name,
// where name is an alias), and ok false for a name this side does not know.
type Lookup func(name string) (id int, main string, ok bool)

// maxListLen bounds the list this side writes (compat.c MAX_NSTR_STRLEN
// less its terminator).
const maxListLen = 255

// isSpace is C's isspace in the C locale, which rsync splits lists with.
func isSpace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\v' || r == '\f' || r == '\r'
}

// Local returns the names this side advertises, in its order of
// preference. env is the value of the list's environment variable ("" if
// unset): a client uses the part before any '&', a server the part after
// it. Unknown and repeated names are dropped and aliases replaced by their
// main name, up to maxListLen bytes of list; a list that named something
// but nothing known becomes "INVALID" (which then fails to negotiate), and
// an empty one falls back to defaults, which a client takes without their
// "none".
//
// rsync: compat.c getenv_nstr, parse_nni_str, get_default_nno_list
func Local(env string, amServer bool, defaults []string, lookup Lookup) []string {
	if amServer {
		if i := strings.IndexByte(env, '&'); i >= 0 {
			env = env[i+1:]
		}
	}
	if i := strings.IndexByte(env, '&'); i >= 0 {
		env = env[:i]
	}
	var out []string
	var ids []int
	sawTok, n := false, 0
	for tok := range strings.FieldsFuncSeq(env, isSpace) {
		sawTok = true
		id, main, ok := lookup(tok)
		if !ok || contains(ids, id) {
			continue
		}
		ids = append(ids, id)
		if n+len(main)+len(out) > maxListLen {
			break
		}
		n += len(main)
		out = append(out, main)
	}
	if len(out) > 0 {
		return out
	}
	if sawTok {
		return []string{"INVALID"}
	}
	out = make([]string, 0, len(defaults))
	for _, d := range defaults {
		if amServer || d != "none" {
			out = append(out, d)
		}
	}
	return out
}

// Choose returns the index in local of the first entry whose algorithm
// remote also names, or -1 if there is none. Each side applies the rule
// with its own list, so honest peers, which both list in rsync's default
// order, converge.
//
// rsync: compat.c parse_negotiate_str
func Choose(local, remote []string, lookup Lookup) int {
	for i, l := range local {
		lid, _, ok := lookup(l)
		if !ok {
			continue
		}
		for _, r := range remote {
			if rid, _, ok := lookup(r); ok && rid == lid {
				return i
			}
		}
	}
	return -1
}

func contains(ids []int, id int) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}
