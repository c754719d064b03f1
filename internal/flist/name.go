package flist

// Flags for CleanName, rsync's CFN_* values.
const (
	CleanKeepDotDirs      = 1 << 0 // CFN_KEEP_DOT_DIRS
	CleanKeepTrailing     = 1 << 1 // CFN_KEEP_TRAILING_SLASH
	CleanDropTrailingDot  = 1 << 2 // CFN_DROP_TRAILING_DOT_DIR
	CleanCollapseDotDots  = 1 << 3 // CFN_COLLAPSE_DOT_DOT_DIRS
	CleanRefuseDotDotDirs = 1 << 4 // CFN_REFUSE_DOT_DOT_DIRS
)

// CleanName cleans a path the way rsync's clean_fname does: repeated
// slashes and interior "." components go, a trailing slash goes unless
// kept, and an empty result becomes ".". With CleanRefuseDotDotDirs a ".."
// component makes it report ok == false.
func CleanName(name string, flags int) (string, bool) {
	b := []byte(name)
	n, ok := cleanName(b, flags)
	if !ok {
		return "", false
	}
	if n == 0 {
		return ".", true
	}
	return string(b[:n]), true
}

// cleanName cleans b in place and returns the new length. The result is
// never longer than the input, except that an empty input becomes "." (the
// caller must leave room for that byte). rsync: util1.c clean_fname
func cleanName(b []byte, flags int) (int, bool) {
	at := func(i int) byte {
		if i < len(b) {
			return b[i]
		}
		return 0
	}
	isDotDot := func(i int) bool { // b[i] == '.' is known
		return at(i+1) == '.' && (at(i+2) == '/' || at(i+2) == 0)
	}
	limit, t, f := 0, 0, 0
	anchored := at(0) == '/'
	switch {
	case anchored:
		t, f = 1, 1
	case flags&CleanKeepDotDirs != 0 && at(0) == '.' && at(1) == '/':
		t, f = 2, 2
	case flags&CleanRefuseDotDotDirs != 0 && at(0) == '.' && isDotDot(0):
		return 0, false
	}
	anch := 0
	if anchored {
		anch = 1
	}
	for f < len(b) {
		if b[f] == '/' {
			f++
			continue
		}
		if b[f] == '.' {
			if at(f+1) == '/' && flags&CleanKeepDotDirs == 0 {
				f += 2
				continue
			}
			if at(f+1) == 0 && flags&CleanDropTrailingDot != 0 {
				break
			}
			if flags&(CleanCollapseDotDots|CleanRefuseDotDotDirs) != 0 && isDotDot(f) {
				if flags&CleanRefuseDotDotDirs != 0 {
					return 0, false
				}
				s := t - 1
				if s == 0 && anchored {
					f += 2
					continue
				}
				for s > limit && b[s-1] != '/' {
					s--
				}
				if s != t-1 && (s <= 0 || b[s-1] == '/') {
					t = s
					f += 2
					continue
				}
				limit = t + 2
			}
		}
		for f < len(b) {
			c := b[f]
			b[t] = c
			t++
			f++
			if c == '/' {
				break
			}
		}
	}
	if t > anch && b[t-1] == '/' && flags&CleanKeepTrailing == 0 {
		t--
	}
	if t == 0 {
		if len(b) == 0 {
			return 0, true // caller turns an empty result into "."
		}
		b[0] = '.'
		t = 1
	}
	return t, true
}

// SanitizePath makes a path appear as if a chroot had occurred at its
// start: leading slashes, "." components and any ".." that would climb
// above depth levels are removed; an empty result becomes ".". It is the
// in-place form of rsync's sanitize_path (no rootdir), which the receiver
// applies to names and symlink targets under a daemon without chroot.
func SanitizePath(p string, depth int) string {
	out := make([]byte, 0, len(p))
	i := 0
	for i+1 < len(p) && p[i] == '.' && p[i+1] == '/' {
		i += 2
	}
	start := 0
	at := func(j int) byte {
		if j < len(p) {
			return p[j]
		}
		return 0
	}
	for i < len(p) {
		if p[i] == '/' {
			i++
			continue
		}
		if p[i] == '.' && (at(i+1) == '/' || at(i+1) == 0) {
			i++
			continue
		}
		if p[i] == '.' && at(i+1) == '.' && (at(i+2) == '/' || at(i+2) == 0) {
			if depth <= 0 || len(out) != start {
				i += 2
				if len(out) != start {
					n := len(out) - 1 // at the slash
					for n > start && out[n-1] != '/' {
						n--
					}
					out = out[:n]
				}
				continue
			}
			depth--
			start = len(out) + 3
		}
		for i < len(p) {
			c := p[i]
			out = append(out, c)
			i++
			if c == '/' {
				break
			}
		}
	}
	if len(out) == 0 {
		return "."
	}
	return string(out)
}
