package flist

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// mk builds entries from names; a trailing "/" marks a directory.
func mk(names ...string) []*Entry {
	var out []*Entry
	for _, n := range names {
		mode := ModeRegular | 0o644
		if strings.HasSuffix(n, "/") {
			n = strings.TrimSuffix(n, "/")
			mode = ModeDir | 0o755
		}
		dir, base := splitName(n)
		out = append(out, &Entry{Dir: dir, Base: base, Mode: mode})
	}
	return out
}

func names(es []*Entry) []string {
	var out []string
	for _, e := range es {
		if !e.Active() {
			continue
		}
		n := e.Name()
		if e.IsDir() {
			n += "/"
		}
		out = append(out, n)
	}
	return out
}

func TestSortOrder(t *testing.T) {
	// Input order is deliberately scrambled; "x/" marks a directory.
	in := []string{"b", "a/c/x", "a/", "a.d/y", "ab", "a-b", "./", "a0", "a.b", "a b", "a/c/", "a.d/", "a/b"}
	tests := []struct {
		name     string
		protocol int
		want     []string
	}{
		{
			// From 29, files precede directories at each level and a
			// directory compares as "name/".
			name: "protocol 32", protocol: 32,
			want: []string{"./", "a b", "a-b", "a.b", "a0", "ab", "b", "a.d/", "a.d/y", "a/", "a/b", "a/c/", "a/c/x"},
		},
		{
			name: "protocol 29", protocol: 29,
			want: []string{"./", "a b", "a-b", "a.b", "a0", "ab", "b", "a.d/", "a.d/y", "a/", "a/b", "a/c/", "a/c/x"},
		},
		{
			// Before 29 names compare as plain byte strings.
			name: "protocol 28", protocol: 28,
			want: []string{"./", "a/", "a b", "a-b", "a.b", "a.d/", "a.d/y", "a/b", "a/c/", "a/c/x", "a0", "ab", "b"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es := mk(in...)
			Sort(es, tt.protocol)
			if got := names(es); !slices.Equal(got, tt.want) {
				t.Errorf("order:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestCompareInactiveFirst(t *testing.T) {
	es := mk("a", "b")
	es[1].Flags |= FlagCleared
	if Compare(es[1], es[0], 32) >= 0 || Compare(es[0], es[1], 32) <= 0 {
		t.Error("a cleared entry does not sort before an active one")
	}
	es[0].Flags |= FlagCleared
	if Compare(es[0], es[1], 32) != 0 {
		t.Error("two cleared entries do not compare equal")
	}
}

func TestSortIsStable(t *testing.T) {
	es := mk("x", "a", "x", "x")
	es[0].Size, es[2].Size, es[3].Size = 1, 2, 3
	Sort(es, 32)
	var sizes []int64
	for _, e := range es[1:] {
		sizes = append(sizes, e.Size)
	}
	if !slices.Equal(sizes, []int64{1, 2, 3}) {
		t.Errorf("equal names reordered: sizes %v", sizes)
	}
}

func TestSortAndCleanDuplicates(t *testing.T) {
	tests := []struct {
		name     string
		protocol int
		in       []string
		want     []string // active names after cleaning
		wantLen  int
	}{
		{name: "same file twice keeps first", protocol: 32, in: []string{"f", "g", "f"}, want: []string{"f", "g"}, wantLen: 3},
		{name: "dir displaces file", protocol: 32, in: []string{"x", "x/", "x/y"}, want: []string{"x/", "x/y"}, wantLen: 3},
		{name: "file after dir is dropped", protocol: 32, in: []string{"x/", "x", "x/y"}, want: []string{"x/", "x/y"}, wantLen: 3},
		{name: "protocol 28 dir displaces file", protocol: 28, in: []string{"x", "x/"}, want: []string{"x/"}, wantLen: 2},
		{name: "dir displaces non-adjacent file", protocol: 29, in: []string{"x", "x.y", "x/"}, want: []string{"x.y", "x/"}, wantLen: 3},
		{name: "two dirs merge", protocol: 31, in: []string{"d/", "d/"}, want: []string{"d/"}, wantLen: 2},
		{name: "no duplicates", protocol: 30, in: []string{"b", "a", "c/"}, want: []string{"a", "b", "c/"}, wantLen: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := &List{Entries: mk(tt.in...)}
			l.SortAndClean(tt.protocol, true)
			if got := names(l.Entries); !slices.Equal(got, tt.want) {
				t.Errorf("active entries %q, want %q", got, tt.want)
			}
			if l.Len() != tt.wantLen {
				t.Errorf("len %d, want %d (cleared entries keep their index)", l.Len(), tt.wantLen)
			}
			for _, n := range tt.want {
				dir := -1
				if strings.HasSuffix(n, "/") {
					dir = 1
				}
				if i := l.FindName(strings.TrimSuffix(n, "/"), dir); i < 0 || !l.Entries[i].Active() {
					t.Errorf("FindName(%q) = %d", n, i)
				}
			}
		})
	}
}

func TestSortAndCleanMergesDirFlags(t *testing.T) {
	l := &List{Entries: mk("d/", "d/")}
	l.Entries[0].Flags = FlagImpliedDir
	l.Entries[1].Flags = FlagTopDir | FlagContentDir
	l.SortAndClean(32, true)
	kept := l.Entries[0]
	if !kept.Active() || l.Entries[1].Active() {
		t.Fatal("the first directory was not the one kept")
	}
	if kept.Flags&(FlagTopDir|FlagContentDir) != FlagTopDir|FlagContentDir || kept.Flags&FlagImpliedDir != 0 {
		t.Errorf("merged flags %b", kept.Flags)
	}
}

func TestSenderSortKeepsDuplicates(t *testing.T) {
	l := &List{Entries: mk("f", "f")}
	l.SortAndClean(32, false)
	if got := names(l.Entries); len(got) != 2 {
		t.Errorf("sender cleaned duplicates: %q", got)
	}
}

func TestFindName(t *testing.T) {
	l := &List{Entries: mk("./", "a", "b/", "b/c", "d", "d/", "e/f/g")}
	l.SortAndClean(32, false)
	tests := []struct {
		name    string
		wantDir int
		want    string // "" for not found
	}{
		{"a", 0, "a"},
		{"a", 1, ""},
		{"a", -1, "a"},
		{"b", 1, "b/"},
		{"b", 0, ""},
		{"b", -1, "b/"},
		{"b/c", 0, "b/c"},
		{"d", 0, "d"},
		{"d", 1, "d/"},
		{"e/f/g", -1, "e/f/g"},
		{"zz", -1, ""},
		{".", 1, "./"},
	}
	for _, tt := range tests {
		i := l.FindName(tt.name, tt.wantDir)
		got := ""
		if i >= 0 {
			got = names(l.Entries[i : i+1])[0]
		}
		if got != tt.want {
			t.Errorf("FindName(%q, %d) = %q, want %q", tt.name, tt.wantDir, got, tt.want)
		}
	}
}

// randomEntries makes n entries with short names over a small alphabet
// (so that prefixes, duplicates and "/" versus "." collide), in random
// order, with a few "." directories, cleared entries and --relative
// "/name" bases.
func randomEntries(r *rand.Rand, n int) []*Entry {
	const alpha = "ab./-0"
	word := func() string {
		b := make([]byte, 1+r.IntN(3))
		for i := range b {
			b[i] = alpha[r.IntN(len(alpha)-1)]
			if b[i] == '/' {
				b[i] = '.'
			}
		}
		return string(b)
	}
	dirs := []string{"", "a", "a/b", "a.b", "ab", "a/b/c", "b", "a-", "/x"}
	es := make([]*Entry, n)
	for i := range es {
		e := &Entry{Dir: dirs[r.IntN(len(dirs))], Base: word(), Mode: ModeRegular, Size: int64(i)}
		switch r.IntN(8) {
		case 0, 1, 2:
			e.Mode = ModeDir
		case 3:
			e.Mode, e.Base = ModeDir, "."
		case 4:
			if e.Dir == "" {
				e.Base = "/" + e.Base
			}
		}
		if r.IntN(20) == 0 {
			e.Flags |= FlagCleared
		}
		es[i] = e
	}
	return es
}

// TestCompareFastPaths checks Compare's same-directory and
// differing-directory shortcuts against f_name_cmp's full walk.
func TestCompareFastPaths(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	es := randomEntries(r, 400)
	for _, proto := range []int{28, 29, 32} {
		for _, a := range es {
			for _, b := range es {
				if !a.Active() || !b.Active() {
					continue
				}
				got, want := Compare(a, b, proto), compareCursors(a, b, proto, 0)
				if (got < 0) != (want < 0) || (got > 0) != (want > 0) {
					t.Fatalf("protocol %d: Compare(%q dir=%v, %q dir=%v) = %d, full walk %d", proto, a.Name(), a.IsDir(), b.Name(), b.IsDir(), got, want)
				}
			}
		}
	}
}

// TestSortMatchesStableSort checks the merge sort against the standard
// library's stable sort on random lists, on presorted and reversed ones,
// and on runs shaped like a walk's directories.
func TestSortMatchesStableSort(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, proto := range []int{28, 32} {
		cmp := func(a, b *Entry) int { return Compare(a, b, proto) }
		for _, n := range []int{0, 1, 2, 3, 23, 24, 25, 100, 1000, 5000} {
			base := randomEntries(r, n)
			sorted := slices.Clone(base)
			slices.SortStableFunc(sorted, cmp)
			reversed := slices.Clone(sorted)
			slices.Reverse(reversed)
			// Sorted chunks in random order, each chunk reversed or not.
			chunked := slices.Clone(sorted)
			var chunks [][]*Entry
			for len(chunked) > 0 {
				k := min(len(chunked), 1+r.IntN(300))
				c := chunked[:k]
				if r.IntN(2) == 0 {
					c = slices.Clone(c)
					slices.Reverse(c)
				}
				chunks = append(chunks, c)
				chunked = chunked[k:]
			}
			r.Shuffle(len(chunks), func(i, j int) { chunks[i], chunks[j] = chunks[j], chunks[i] })
			for name, in := range map[string][]*Entry{"random": base, "sorted": sorted, "reversed": reversed, "chunks": slices.Concat(chunks...)} {
				want := slices.Clone(in)
				slices.SortStableFunc(want, cmp)
				got := slices.Clone(in)
				Sort(got, proto)
				if !slices.Equal(got, want) {
					t.Fatalf("protocol %d, %d %s entries: order differs from a stable sort", proto, n, name)
				}
			}
		}
	}
}
