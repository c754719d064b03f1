package flist

import "testing"

func TestCleanName(t *testing.T) {
	tests := []struct {
		in    string
		flags int
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
		if got := SanitizePath(tt.in, tt.depth); got != tt.want {
			t.Errorf("SanitizePath(%q, %d) = %q, want %q", tt.in, tt.depth, got, tt.want)
		}
	}
}
