package flist

import "bytes"

// CleanFlags select the variants of CleanName, rsync's CFN_* values.
type CleanFlags uint8

// Flags for CleanName.
const (
	CleanKeepDotDirs      CleanFlags = 1 << 0 // CFN_KEEP_DOT_DIRS
	CleanKeepTrailing     CleanFlags = 1 << 1 // CFN_KEEP_TRAILING_SLASH
	CleanDropTrailingDot  CleanFlags = 1 << 2 // CFN_DROP_TRAILING_DOT_DIR
	CleanCollapseDotDots  CleanFlags = 1 << 3 // CFN_COLLAPSE_DOT_DOT_DIRS
	CleanRefuseDotDotDirs CleanFlags = 1 << 4 // CFN_REFUSE_DOT_DOT_DIRS
)

// CleanName cleans a path the way rsync's clean_fname does: repeated
// slashes and interior "." components go, a trailing slash goes unless
// kept, and an empty result becomes ".". With CleanRefuseDotDotDirs a ".."
// component makes it report ok == false.
func CleanName(name string, flags CleanFlags) (string, bool) {
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
func cleanName(b []byte, flags CleanFlags) (int, bool) {
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
		t, f = copyComponent(b, t, f)
	}
	if t > anch && b[t-1] == '/' && flags&CleanKeepTrailing == 0 {
		t--
	}
	return dotIfEmpty(b, t), true
}

// SanitizeFlags select the variants of SanitizePath, rsync's SP_* values.
type SanitizeFlags uint8

// SanitizeKeepDotDirs keeps "." components (SP_KEEP_DOT_DIRS), for the
// "/./" markers of --relative. rsync passes the flag always and tests
// relative_paths inside; here the caller passes it only under -R.
const SanitizeKeepDotDirs SanitizeFlags = 1 << 0

// SanitizePath makes a path appear as if a chroot had occurred at its
// start: leading and doubled slashes go, "." components go (unless
// SanitizeKeepDotDirs), a trailing slash stays, and a ".." backs up one
// level but never above the start, except that the first depth ".."
// components are kept. An empty result becomes ".". The receiver applies
// it to names (depth 0) and symlink targets (depth of the link's
// directory) under a daemon without chroot, and the sender to the names of
// a --files-from list (depth 0). rsync: util1.c sanitize_path (rootdir
// "", which leaves nothing to expand)
func SanitizePath(p string, depth int, flags SanitizeFlags) string {
	b := []byte(p)
	n := sanitizePath(b, depth, flags)
	if n == 0 {
		return "."
	}
	return string(b[:n])
}

// sanitizePath is SanitizePath in place: it rewrites b and returns the new
// length, which is never more than len(b) (rsync allows dest == p too).
// A non-empty b that sanitizes to nothing becomes "."; an empty one stays
// empty and the caller makes it ".".
func sanitizePath(b []byte, depth int, flags SanitizeFlags) int {
	at := func(i int) byte {
		if i < len(b) {
			return b[i]
		}
		return 0
	}
	dropDots := flags&SanitizeKeepDotDirs == 0
	f := 0 // next byte to read; never behind t, so b[f:] is still input
	if dropDots {
		for at(f) == '.' && at(f+1) == '/' {
			f += 2
		}
	}
	// t is where the next output byte goes and start the first byte a ".."
	// may back up to: past the depth ".." components kept so far.
	t, start := 0, 0
	for f < len(b) {
		if b[f] == '/' {
			f++
			continue
		}
		if dropDots && b[f] == '.' && (at(f+1) == '/' || at(f+1) == 0) {
			f++
			continue
		}
		if b[f] == '.' && at(f+1) == '.' && (at(f+2) == '/' || at(f+2) == 0) {
			if depth <= 0 || t != start {
				f += 2
				if t != start {
					t-- // at the slash ending the last component
					for t > start && b[t-1] != '/' {
						t--
					}
				}
				continue
			}
			depth--
			start = t + 3
		}
		t, f = copyComponent(b, t, f)
	}
	return dotIfEmpty(b, t)
}

// copyComponent copies the component at b[f:] through its slash to b[t:],
// as clean_fname and sanitize_path do, and returns both positions after
// it. t is never past f, so b[f:] is still the input.
func copyComponent(b []byte, t, f int) (int, int) {
	n := bytes.IndexByte(b[f:], '/') + 1
	if n == 0 {
		n = len(b) - f
	}
	copy(b[t:], b[f:f+n])
	return t + n, f + n
}

// dotIfEmpty returns the length t of a cleaned path, or makes a result
// that came to nothing ".", in b's first byte. An empty b has no room:
// the callers of cleanName and sanitizePath turn its 0 into ".".
func dotIfEmpty(b []byte, t int) int {
	if t == 0 && len(b) > 0 {
		b[0] = '.'
		return 1
	}
	return t
}
