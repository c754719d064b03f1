//go:build linux

package fastio

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// readAll lists dir with ReadDirNames, with an arena or without.
func readAll(t *testing.T, dir string, arena *NameArena) []string {
	t.Helper()
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	names, err := ReadDirNames(fd, nil, arena)
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// TestReadDirNames lists a directory larger than one getdents buffer, with
// names of every length up to NAME_MAX, and compares the names with the
// standard library's, in the same (kernel) order, with an arena and without.
func TestReadDirNames(t *testing.T) {
	dir := t.TempDir()
	var want []string
	for i := range 3000 {
		name := fmt.Sprintf("f%05d", i)
		if i < 250 {
			name += strings.Repeat("x", i) // lengths 6 to 255
		}
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		want = append(want, name)
	}
	for _, name := range []string{".hidden", "..twodots", "-"} {
		if err := os.Mkdir(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		want = append(want, name)
	}
	f, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	std, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	var arena NameArena
	for _, a := range []*NameArena{nil, &arena} {
		got := readAll(t, dir, a)
		if !slices.Equal(got, std) {
			t.Errorf("arena %v: names differ from Readdirnames' (%d and %d names)", a != nil, len(got), len(std))
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("arena %v: got %d names, want %d", a != nil, len(got), len(want))
		}
	}
}

// TestNameArena checks that carved strings keep their bytes while later
// ones fill the chunk and new chunks follow, and that long strings and
// empty ones come out right.
func TestNameArena(t *testing.T) {
	var a NameArena
	var got, want []string
	b := make([]byte, 300)
	for i := range 5000 {
		n := i % len(b)
		for j := range n {
			b[j] = byte('a' + (i+j)%26)
		}
		got = append(got, a.String(b[:n]))
		want = append(want, string(b[:n]))
		clear(b) // the arena must have copied them
	}
	long := strings.Repeat("L", nameChunk)
	got, want = append(got, a.String([]byte(long))), append(want, long)
	if !slices.Equal(got, want) {
		t.Fatal("carved strings changed")
	}
}

// TestParseDirentsTruncated stops at a record that does not fit, as
// x/sys's ParseDirent does, instead of reading past the buffer.
func TestParseDirentsTruncated(t *testing.T) {
	rec := func(name string) []byte {
		n := (direntName + len(name) + 1 + 7) &^ 7
		r := make([]byte, n)
		r[0] = 1 // inode
		r[direntReclen] = byte(n)
		copy(r[direntName:], name)
		return r
	}
	buf := append(append(append(rec("one"), rec(".")...), rec("..")...), rec("two")...)
	if got := parseDirents(buf, nil, nil); !slices.Equal(got, []string{"one", "two"}) {
		t.Errorf("whole records: %q", got)
	}
	if got := parseDirents(buf[:len(buf)-3], nil, nil); !slices.Equal(got, []string{"one"}) {
		t.Errorf("last record cut: %q", got)
	}
	bad := rec("three")
	bad[direntReclen] = 4 // shorter than its header
	if got := parseDirents(append(rec("one"), bad...), nil, nil); !slices.Equal(got, []string{"one"}) {
		t.Errorf("bad record length: %q", got)
	}
}
