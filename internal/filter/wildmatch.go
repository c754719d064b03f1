package filter

import "strings"

// Results of dowild, as in rsync's lib/wildmatch.c: a plain miss, a miss
// that no later start position can fix, and a miss that only a "**" may
// retry past a slash.
const (
	wildFalse           = 0
	wildTrue            = 1
	wildAbortAll        = -1
	wildAbortToStarStar = -2
)

// Wildmatch reports whether text matches the shell-style pattern the way
// rsync matches filter patterns: "*" and "?" never match a slash, "**"
// matches anything, "[...]" is a character class (negated by a leading "!"
// or "^", with ranges and POSIX [:classes:]) and a backslash quotes the
// next character.
//
// rsync: lib/wildmatch.c wildmatch
func Wildmatch(pattern, text string) bool {
	return dowild(cstr(pattern), cstr(text)) == wildTrue
}

// cstr cuts s at its first NUL, since rsync's matcher works on C strings.
func cstr(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}

// at returns s[i], or NUL past the end (a C string's terminator).
func at(s string, i int) byte {
	if i < len(s) {
		return s[i]
	}
	return 0
}

// dowild matches pattern p against text t; rsync's array of text pieces is
// represented by its concatenation, which is what the pieces stand for.
//
// rsync: lib/wildmatch.c dowild
func dowild(p, t string) int {
	pi, ti := 0, 0
	for ; pi < len(p); ti, pi = ti+1, pi+1 {
		pch := p[pi]
		var tch byte
		if ti >= len(t) {
			if pch != '*' {
				return wildAbortAll
			}
		} else {
			tch = t[ti]
		}
		switch pch {
		case '\\':
			pi++
			if at(p, pi) != tch {
				return wildFalse
			}
		case '?':
			if tch == '/' {
				return wildFalse
			}
		case '*':
			special := false
			pi++
			if at(p, pi) == '*' {
				for pi++; at(p, pi) == '*'; pi++ {
				}
				special = true
			}
			if pi >= len(p) {
				// A trailing "**" matches everything, a trailing "*"
				// only what has no more slashes.
				if !special && strings.IndexByte(t[ti:], '/') >= 0 {
					return wildFalse
				}
				return wildTrue
			}
			for ti < len(t) {
				tch = t[ti]
				if m := dowild(p[pi:], t[ti:]); m != wildFalse {
					if !special || m != wildAbortToStarStar {
						return m
					}
				} else if !special && tch == '/' {
					return wildAbortToStarStar
				}
				ti++
			}
			return wildAbortAll
		case '[':
			pi++
			pch = at(p, pi)
			if pch == '^' {
				pch = '!'
			}
			negated := pch == '!'
			if negated {
				pi++
				pch = at(p, pi)
			}
			var prev byte
			matched := false
			for {
				if pch == 0 {
					return wildAbortAll
				}
				switch {
				case pch == '\\':
					pi++
					pch = at(p, pi)
					if pch == 0 {
						return wildAbortAll
					}
					if tch == pch {
						matched = true
					}
				case pch == '-' && prev != 0 && at(p, pi+1) != 0 && at(p, pi+1) != ']':
					pi++
					pch = p[pi]
					if pch == '\\' {
						pi++
						pch = at(p, pi)
						if pch == 0 {
							return wildAbortAll
						}
					}
					if tch <= pch && tch >= prev {
						matched = true
					}
					pch = 0 // the next range may not start here
				case pch == '[' && at(p, pi+1) == ':':
					s := pi + 2
					for pi = s; at(p, pi) != 0 && p[pi] != ']'; pi++ {
					}
					if at(p, pi) == 0 {
						return wildAbortAll
					}
					i := pi - s - 1
					if i < 0 || p[pi-1] != ':' {
						// No ":]": the "[" is an ordinary member.
						pi = s - 2
						pch = '['
						if tch == pch {
							matched = true
						}
						break
					}
					in, ok := inClass(p[s:s+i], tch)
					if !ok {
						return wildAbortAll
					}
					if in {
						matched = true
					}
					pch = 0
				default:
					if tch == pch {
						matched = true
					}
				}
				prev = pch
				pi++
				pch = at(p, pi)
				if pch == ']' {
					break
				}
			}
			if matched == negated || tch == '/' {
				return wildFalse
			}
		default:
			if tch != pch {
				return wildFalse
			}
		}
	}
	if ti < len(t) {
		return wildFalse
	}
	return wildTrue
}

// inClass reports whether c is in the named POSIX class (ASCII only, as
// glibc's ctype is for single bytes in a UTF-8 locale); ok is false for an
// unknown class name.
func inClass(name string, c byte) (in, ok bool) {
	upper := c >= 'A' && c <= 'Z'
	lower := c >= 'a' && c <= 'z'
	digit := c >= '0' && c <= '9'
	alpha := upper || lower
	switch name {
	case "alnum":
		return alpha || digit, true
	case "alpha":
		return alpha, true
	case "blank":
		return c == ' ' || c == '\t', true
	case "cntrl":
		return c < 0x20 || c == 0x7f, true
	case "digit":
		return digit, true
	case "graph":
		return c > 0x20 && c < 0x7f, true
	case "lower":
		return lower, true
	case "print":
		return c >= 0x20 && c < 0x7f, true
	case "punct":
		return c > 0x20 && c < 0x7f && !alpha && !digit, true
	case "space":
		return c == ' ' || (c >= '\t' && c <= '\r'), true
	case "upper":
		return upper, true
	case "xdigit":
		return digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'), true
	}
	return false, false
}

// trailingElements returns the offset in text where its last count
// slash-separated elements begin, or -1 if it has fewer.
//
// rsync: lib/wildmatch.c trailing_N_elements
func trailingElements(text string, count int) int {
	for i := len(text) - 1; i >= 0; i-- {
		if text[i] == '/' {
			count--
			if count == 0 {
				return i + 1
			}
		}
	}
	if count == 1 {
		return 0
	}
	return -1
}

// wildmatchWhere matches pattern against text: where > 0 matches only the
// last where elements of text, where < 0 tries the pattern at the start and
// after every slash, and 0 matches the whole text.
//
// rsync: lib/wildmatch.c wildmatch_array
func wildmatchWhere(pattern, text string, where int) bool {
	if where > 0 {
		i := trailingElements(text, where)
		if i < 0 {
			return false
		}
		text = text[i:]
	}
	m := dowild(pattern, text)
	if m != wildTrue && where < 0 && m != wildAbortAll {
		for i := 0; ; {
			if i >= len(text) {
				return false
			}
			c := text[i]
			i++
			if c == '/' {
				if m = dowild(pattern, text[i:]); m != wildFalse && m != wildAbortToStarStar {
					break
				}
			}
		}
	}
	return m == wildTrue
}

// litmatchWhere is wildmatchWhere for a pattern without wildcards.
//
// rsync: lib/wildmatch.c litmatch_array
func litmatchWhere(s, text string, where int) bool {
	if where > 0 {
		i := trailingElements(text, where)
		if i < 0 {
			return false
		}
		text = text[i:]
	}
	return text == s
}
