package flist

import (
	"bufio"
	"slices"
	"strings"
	"testing"
)

func readNames(t testing.TB, in string, nul, local, relative bool) ([]string, error) {
	nr := NewNameReader(bufio.NewReader(strings.NewReader(in)), nul, local, relative)
	var names []string
	for {
		n, ok, err := nr.Next()
		if err != nil || !ok {
			return names, err
		}
		names = append(names, n)
	}
}

func TestNameReader(t *testing.T) {
	tests := []struct {
		name                 string
		in                   string
		nul, local, relative bool
		want                 []string
		wantErr              bool
	}{
		{name: "lines", in: "a\nb/c\r\nd", local: true, want: []string{"a", "b/c", "d"}},
		{name: "comments and blanks", in: "#x\n;y\n\n\na\n # not a comment\n", local: true, want: []string{"a", " # not a comment"}},
		{name: "nul separated", in: "a\nb\x00c\x00", nul: true, local: true, want: []string{"a\nb", "c"}},
		{name: "leading slashes and dot dots", in: "/abs/x\n../../up\na/../b\n", local: true, want: []string{"abs/x", "up", "b"}},
		{name: "dots dropped without -R", in: "./a/./b\n", local: true, want: []string{"a/b"}},
		{name: "dots kept with -R", in: "./a/./b\n", local: true, relative: true, want: []string{"./a/./b"}},
		{name: "trailing slash kept", in: "dir/\n", local: true, want: []string{"dir/"}},
		{name: "peer list ends at empty name", in: "a\x00b\x00\x00c\x00", want: []string{"a", "b"}},
		{name: "peer keeps comments", in: "#a\x00\x00", want: []string{"#a"}},
		{name: "peer stream cut short", in: "a\x00b", want: []string{"a"}, wantErr: true},
		{name: "dot-dot to nothing", in: "..\n", local: true, want: []string{"."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readNames(t, tt.in, tt.nul, tt.local, tt.relative)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, want error %v", err, tt.wantErr)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("names %q, want %q", got, tt.want)
			}
		})
	}
}

// FuzzNameReader checks that any input ends the list without a panic,
// and that every name is sanitized: relative, no ".." element, not empty.
func FuzzNameReader(f *testing.F) {
	for _, s := range []string{"a\nb\n", "#c\n;d\n\n/x/../../y\n", "a\x00\x00b", "./a/./b/\r\n", strings.Repeat("x", 5000)} {
		f.Add(s, false, true, false)
		f.Add(s, true, false, true)
	}
	f.Fuzz(func(t *testing.T, in string, nul, local, relative bool) {
		names, _ := readNames(t, in, nul, local, relative)
		for _, n := range names {
			if n == "" || strings.HasPrefix(n, "/") || len(n) >= MaxPath {
				t.Fatalf("bad name %q", n)
			}
			for _, part := range strings.Split(n, "/") {
				if part == ".." {
					t.Fatalf("name %q climbs", n)
				}
			}
		}
	})
}

func TestPruneEmptyDirs(t *testing.T) {
	mk := func(name string, dir bool) *Entry {
		d, b := splitName(name)
		e := &Entry{Dir: d, Base: b, Mode: ModeRegular | 0o644}
		if dir {
			e.Mode = ModeDir | 0o755
		}
		return e
	}
	tests := []struct {
		name    string
		dirs    []string
		files   []string
		keep    string // a directory the receiver's rules exclude
		want    []string
		relDirs bool
	}{
		{
			name:  "empty chains go",
			dirs:  []string{".", "a", "a/b", "a/b/c", "e", "e/f", "k"},
			files: []string{"a/b/x", "top"},
			// rsync's order: a directory's files before its subdirectories.
			want: []string{".", "top", "a", "a/b", "a/b/x"},
		},
		{
			name: "excluded dir kept with its parents",
			dirs: []string{".", "a", "a/b", "z"},
			keep: "a/b",
			want: []string{".", "a", "a/b"},
		},
		{
			name: "nothing but dirs",
			dirs: []string{".", "a", "a/b"},
			want: []string{"."},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := &List{}
			for _, d := range tt.dirs {
				l.Entries = append(l.Entries, mk(d, true))
			}
			for _, f := range tt.files {
				l.Entries = append(l.Entries, mk(f, false))
			}
			l.SortAndClean(31, true)
			l.PruneEmptyDirs(func(name string) bool { return name == tt.keep })
			var got []string
			for _, e := range l.Entries {
				if e.Active() {
					got = append(got, e.Name())
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("kept %q, want %q", got, tt.want)
			}
		})
	}
}

func TestStripRootKeepsOrder(t *testing.T) {
	l := &List{Entries: []*Entry{
		{Base: "/tmp", Mode: ModeDir | 0o755},
		{Dir: "/tmp", Base: "x", Mode: ModeRegular},
		{Base: "a", Mode: ModeRegular},
	}}
	l.SortAndClean(31, true)
	l.StripRoot()
	var got []string
	for _, e := range l.Entries {
		got = append(got, e.Name())
	}
	// Sorted as sent (a top-level file before the "/tmp" path), then
	// stripped of the slash.
	if want := []string{"a", "tmp", "tmp/x"}; !slices.Equal(got, want) {
		t.Errorf("names %q, want %q", got, want)
	}
}
