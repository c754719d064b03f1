package fsys

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// TestOpenNoLinks resolves names beneath a directory with openat2 and with
// the component-by-component fallback: a symbolic link anywhere, the last
// component included, is ELOOP whatever the open flags, and both ways give
// the same errors.
func TestOpenNoLinks(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	for _, d := range []string{"a/b", "c"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "a/b/f"), []byte("in"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outside, "f"), []byte("out"), 0o644); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{"a/out": outside, "a/in": "b", "a/b/lf": "f"} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name  string
		flags int
		want  error // nil: opens
	}{
		{"a/b/f", unix.O_RDONLY, nil},
		{"a/b", unix.O_PATH | unix.O_DIRECTORY, nil},
		{".", unix.O_PATH | unix.O_DIRECTORY, nil},
		{"a/./b/f", unix.O_RDONLY, nil},
		{"a/out/f", unix.O_RDONLY, unix.ELOOP},
		{"a/in/f", unix.O_RDONLY, unix.ELOOP}, // even a link inside the tree
		{"a/out", unix.O_PATH | unix.O_DIRECTORY, unix.ELOOP},
		{"a/out", unix.O_RDONLY | unix.O_DIRECTORY, unix.ELOOP},
		{"a/b/lf", unix.O_RDONLY, unix.ELOOP},
		{"a/b/lf", unix.O_PATH, unix.ELOOP},
		{"a/b/f/x", unix.O_RDONLY, unix.ENOTDIR},
		{"a/b/f", unix.O_PATH | unix.O_DIRECTORY, unix.ENOTDIR},
		{"a/missing/f", unix.O_RDONLY, unix.ENOENT},
		{"a/../c", unix.O_PATH, ErrUnsafePath},
		{"/etc", unix.O_PATH, ErrUnsafePath},
	}
	dfd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(dfd)
	for _, slow := range []bool{false, true} {
		noOpenat2.Store(slow)
		for _, c := range cases {
			fd, err := OpenNoLinks(dfd, c.name, c.flags)
			if err == nil {
				unix.Close(fd)
			}
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Errorf("slow=%v %s (%#x): %v, want %v", slow, c.name, c.flags, err, c.want)
			}
		}
	}
	noOpenat2.Store(false)
}
