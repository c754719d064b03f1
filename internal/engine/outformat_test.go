package engine

import "testing"

func TestCleanName(t *testing.T) {
	for in, want := range map[string]string{
		"src/.": "src/.", "src/./a": "src/a", "src//a/": "src/a", "./a": "a", ".": ".",
		"/abs/./x": "/abs/x", "a/../b": "a/../b", "": ".", "src/a/.": "src/a/.", "a/./b/.": "a/b/.",
	} {
		if got := cleanName(in); got != want {
			t.Errorf("cleanName(%q) = %q, want %q", in, got, want)
		}
	}
}
