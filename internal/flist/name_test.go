package flist

import (
	"strings"
	"testing"
)

func TestCleanName(t *testing.T) {
	tests := []struct {
		in    string
		flags CleanFlags
		want  string
		ok    bool
	}{
		{"a/b", 0, "a/b", true},
		{"a//b///c", 0, "a/b/c", true},
		{"./a/./b/.", 0, "a/b/.", true},
		{"a/b/", 0, "a/b", true},
		{"a/b/", CleanKeepTrailing, "a/b/", true},
		{"/", 0, "/", true},
		{"//x", 0, "/x", true},
		{"", 0, ".", true},
		{".", 0, ".", true},
		{"./", 0, ".", true},
		{"a/.", CleanDropTrailingDot, "a", true},
		{"./a", CleanKeepDotDirs, "./a", true},
		// rsync's t_clean_fname.c cases for CFN_COLLAPSE_DOT_DOT_DIRS.
		{"a/b/../c", CleanCollapseDotDots, "a/c", true},
		{"/x/y/../z", CleanCollapseDotDots, "/x/z", true},
		{"a/../b", CleanCollapseDotDots, "b", true},
		{"p/q/r/../../s", CleanCollapseDotDots, "p/s", true},
		{"d/e/..", CleanCollapseDotDots, "d", true},
		{"../a", CleanCollapseDotDots, "../a", true},
		{"/../a", CleanCollapseDotDots, "/a", true},
		// The receiver's check on sender names.
		{"..", CleanRefuseDotDotDirs, "", false},
		{"../x", CleanRefuseDotDotDirs, "", false},
		{"a/../x", CleanRefuseDotDotDirs, "", false},
		{"a/..", CleanRefuseDotDotDirs, "", false},
		{"/..", CleanRefuseDotDotDirs, "", false},
		{"a/..b", CleanRefuseDotDotDirs, "a/..b", true},
		{"...", CleanRefuseDotDotDirs, "...", true},
		{"a..", CleanRefuseDotDotDirs, "a..", true},
	}
	for _, tt := range tests {
		got, ok := CleanName(tt.in, tt.flags)
		if got != tt.want || ok != tt.ok {
			t.Errorf("CleanName(%q, %#x) = %q, %v; want %q, %v", tt.in, tt.flags, got, ok, tt.want, tt.ok)
		}
	}
}

func TestSanitizePath(t *testing.T) {
	tests := []struct {
		in    string
		depth int
		want  string
	}{
		{"a/b", 0, "a/b"},
		{"/etc/passwd", 0, "etc/passwd"},
		{"../../etc", 0, "etc"},
		{"a/../../b", 0, "b"},
		{"a/b/../c", 0, "a/c"},
		{"./a/./b/", 0, "a/b/"},
		{"..", 0, "."},
		{"", 0, "."},
		{"../x", 1, "../x"},
		{"../../x", 1, "../x"},
		{"../a/../../x", 2, "../../x"},
		{"../a/../../../x", 2, "../../x"},
		{"a//b", 0, "a/b"},
	}
	for _, tt := range tests {
		if got := SanitizePath(tt.in, tt.depth, 0); got != tt.want {
			t.Errorf("SanitizePath(%q, %d) = %q, want %q", tt.in, tt.depth, got, tt.want)
		}
	}
}

// TestSanitizePathFlags covers the one sanitize_path for all its callers:
// received names (depth 0), symlink targets (a depth) and --files-from
// names, each input without flags and with -R's SanitizeKeepDotDirs.
// Hostile names must end relative and below the start either way.
func TestSanitizePathFlags(t *testing.T) {
	tests := []struct {
		in       string
		depth    int
		want     string // without flags
		wantKeep string // with SanitizeKeepDotDirs
	}{
		{"", 0, ".", "."},
		{".", 0, ".", "."},
		{"./", 0, ".", "./"},
		{"././a", 0, "a", "././a"},
		{"./a/./b", 0, "a/b", "./a/./b"},
		{"a/.", 0, "a/", "a/."},
		{"a/b", 0, "a/b", "a/b"},
		{"a/b/", 0, "a/b/", "a/b/"},
		{"a/b//", 0, "a/b/", "a/b/"},
		{"/", 0, ".", "."},
		{"//x", 0, "x", "x"},
		{"/etc/x", 0, "etc/x", "etc/x"},
		{"/abs/x", 1, "abs/x", "abs/x"},
		{"..", 0, ".", "."},
		{"../", 0, ".", "."},
		{"../x", 0, "x", "x"},
		{"../../up", 0, "up", "up"},
		{"a/../b", 0, "b", "b"},
		{"a/../../x", 0, "x", "x"},
		{"a/b/../../../x", 0, "x", "x"},
		{"a/b/..", 0, "a/", "a/"},
		{"a/b/../", 0, "a/", "a/"},
		{"./../x", 0, "x", "x"}, // a kept "." is a level ".." backs up
		{".../x", 0, ".../x", ".../x"},
		{"..a/x", 0, "..a/x", "..a/x"},
		{"a/..b", 0, "a/..b", "a/..b"},
		{"../x", 1, "../x", "../x"},
		{"../../x", 1, "../x", "../x"},
		{"../../x", 2, "../../x", "../../x"},
		{"a/../../x", 1, "../x", "../x"}, // depth counts ".." at the result's start
		{"/../x", 1, "../x", "../x"},
		{"./../x", 1, "../x", "x"},
		{"../a/../../x", 2, "../../x", "../../x"},
		{"../a/../../../x", 2, "../../x", "../../x"},
	}
	for _, tt := range tests {
		if got := SanitizePath(tt.in, tt.depth, 0); got != tt.want {
			t.Errorf("SanitizePath(%q, %d, 0) = %q, want %q", tt.in, tt.depth, got, tt.want)
		}
		if got := SanitizePath(tt.in, tt.depth, SanitizeKeepDotDirs); got != tt.wantKeep {
			t.Errorf("SanitizePath(%q, %d, SanitizeKeepDotDirs) = %q, want %q", tt.in, tt.depth, got, tt.wantKeep)
		}
	}
}

// FuzzSanitizePath checks sanitize_path's promise for any input: with
// depth 0 the result is relative, not empty, has no ".." component and is
// no longer than the input (or "."), and sanitizing it again changes
// nothing.
func FuzzSanitizePath(f *testing.F) {
	for _, s := range []string{"", ".", "./", "../x", "a/../../x", "/etc/x", "//x", "a/b/", "./a/./b", "..a/..", "a\x00/../b"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, in string, keepDots bool) {
		var flags SanitizeFlags
		if keepDots {
			flags = SanitizeKeepDotDirs
		}
		got := SanitizePath(in, 0, flags)
		if got == "" || got[0] == '/' || len(got) > max(len(in), 1) {
			t.Fatalf("SanitizePath(%q) = %q", in, got)
		}
		for _, part := range strings.Split(got, "/") {
			if part == ".." {
				t.Fatalf("SanitizePath(%q) = %q climbs", in, got)
			}
		}
		if again := SanitizePath(got, 0, flags); again != got {
			t.Fatalf("SanitizePath(%q) = %q, then %q", in, got, again)
		}
	})
}
