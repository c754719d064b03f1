package delta

import (
	"strings"

	"github.com/gorsync/gorsync/internal/filter"
)

// DefaultDontCompress is rsync's default "dont compress" list: the
// suffixes of files not worth compressing, as space-separated wildcards.
//
// rsync: rsync.1.md (--skip-compress), built into DEFAULT_DONT_COMPRESS
const DefaultDontCompress = "*.3g2 *.3gp *.7z *.aac *.ace *.apk *.avi *.bz2 *.deb *.dmg *.ear *.f4v *.flac *.flv *.gpg *.gz *.iso *.jar *.jpeg *.jpg *.lrz *.lz *.lz4 *.lzma *.lzo *.m1a *.m1v *.m2a *.m2ts *.m2v *.m4a *.m4b *.m4p *.m4r *.m4v *.mka *.mkv *.mov *.mp1 *.mp2 *.mp3 *.mp4 *.mpa *.mpeg *.mpg *.mpv *.mts *.odb *.odf *.odg *.odi *.odm *.odp *.ods *.odt *.oga *.ogg *.ogm *.ogv *.ogx *.opus *.otg *.oth *.otp *.ots *.ott *.oxt *.png *.qt *.rar *.rpm *.rz *.rzip *.spx *.squashfs *.sxc *.sxd *.sxg *.sxm *.sxw *.sz *.tbz *.tbz2 *.tgz *.tlz *.ts *.txz *.tzo *.vob *.war *.webm *.webp *.xz *.z *.zip *.zst"

// maxSuffixLen is where upstream truncates a --skip-compress suffix.
const maxSuffixLen = 32

// SkipCompress decides which files are compressed as little as possible:
// those whose suffix is in a --skip-compress list or whose name matches a
// "dont compress" wildcard. The zero value matches nothing.
//
// Upstream computes this but, as no compressor can change its level
// mid-stream, uses it only when the list is "*" (compress nothing).
//
// rsync: token.c add_suffix, add_nocompress_suffixes, init_set_compression,
// set_compression
type SkipCompress struct {
	all      bool                // "*": every file
	suffixes map[string]struct{} // lower-case suffixes without classes
	classes  [][]string          // suffixes with [] classes: one set of letters per position
	patterns []string            // lower-case wildcards matched against base names
}

// DefaultSkipCompress returns the matcher for rsync's default list, which
// applies when no --skip-compress is given (and, for a daemon module, the
// module's "dont compress" list).
func DefaultSkipCompress() *SkipCompress {
	s := &SkipCompress{}
	s.AddPatterns(DefaultDontCompress)
	return s
}

// Parse adds a --skip-compress list: suffixes without the dot, separated
// by slashes, each case-insensitive, where "[...]" matches any one of the
// letters inside (no ranges or special classes; "[" without a closing
// "]", or "[]", is a literal "["). An empty list adds nothing.
func (s *SkipCompress) Parse(list string) {
	for _, suf := range strings.Split(list, "/") {
		if suf == "" {
			continue
		}
		suf = strings.ToLower(suf)
		if len(suf) > maxSuffixLen {
			suf = suf[:maxSuffixLen]
		}
		s.addSuffix(suf)
	}
}

func (s *SkipCompress) addSuffix(suf string) {
	var pos []string
	plain := true
	for i := 0; i < len(suf); i++ {
		if suf[i] == '[' {
			if j := strings.IndexByte(suf[i+1:], ']'); j > 0 {
				pos = append(pos, suf[i+1:i+1+j])
				i += j + 1
				plain = false
				continue
			}
		}
		pos = append(pos, suf[i:i+1])
	}
	if plain {
		if s.suffixes == nil {
			s.suffixes = make(map[string]struct{})
		}
		s.suffixes[suf] = struct{}{}
		return
	}
	s.classes = append(s.classes, pos)
}

// AddPatterns adds a daemon's "dont compress" list: space-separated,
// case-insensitive wildcards matched against a file's base name. "*.ext"
// items are kept as suffixes; "*" matches every file.
func (s *SkipCompress) AddPatterns(list string) {
	for _, p := range strings.Fields(list) {
		p = strings.ToLower(p)
		if p == "*" {
			s.all = true
			continue
		}
		if rest, ok := strings.CutPrefix(p, "*."); ok && rest != "" && !strings.ContainsAny(rest, ".?*") {
			s.addSuffix(rest)
			continue
		}
		s.patterns = append(s.patterns, p)
	}
}

// All reports whether every file matches ("*" was given), the one case in
// which upstream actually lowers the compression.
func (s *SkipCompress) All() bool { return s.all }

// Match reports whether the file named name (a path; only its last
// element counts) is one not to compress.
func (s *SkipCompress) Match(name string) bool {
	if s.all {
		return true
	}
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	if len(s.patterns) > 0 {
		lower := strings.ToLower(name)
		for _, p := range s.patterns {
			if filter.Wildmatch(p, lower) {
				return true
			}
		}
	}
	dot := strings.LastIndexByte(name, '.')
	if dot <= 0 || dot == len(name)-1 {
		return false
	}
	suf := strings.ToLower(name[dot+1:])
	if _, ok := s.suffixes[suf]; ok {
		return true
	}
	for _, c := range s.classes {
		if classMatch(c, suf) {
			return true
		}
	}
	return false
}

func classMatch(pos []string, suf string) bool {
	if len(pos) != len(suf) {
		return false
	}
	for i, set := range pos {
		if !strings.Contains(set, suf[i:i+1]) {
			return false
		}
	}
	return true
}
