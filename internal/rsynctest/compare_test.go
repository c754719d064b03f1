package rsynctest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

const compareSeed = 7

// makeCompareTree builds a small tree holding one entry of every kind the
// comparison distinguishes; two calls build identical trees.
func makeCompareTree(t *testing.T, dir string) {
	t.Helper()
	p := func(rel string) string { return filepath.Join(dir, rel) }
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(p("d"), 0o755))
	must(createRandomFile(p("f"), rngFor(compareSeed, "c", "f"), 100, 0o644))
	must(createRandomFile(p("big"), rngFor(compareSeed, "c", "big"), 3<<20, 0o644))
	must(createRandomFile(p("d/g"), rngFor(compareSeed, "c", "d/g"), 10, 0o644))
	must(createRandomFile(p("h1"), rngFor(compareSeed, "c", "h1"), 50, 0o644))
	must(os.Link(p("h1"), p("h2")))
	must(createRandomFile(p("j1"), rngFor(compareSeed, "c", "j"), 50, 0o644))
	must(createRandomFile(p("j2"), rngFor(compareSeed, "c", "j"), 50, 0o644))
	must(os.Symlink("f", p("l")))
	must(unix.Mkfifo(p("p"), 0o644))
	must(os.Chmod(p("p"), 0o644))
	rels := []string{".", "d", "f", "big", "d/g", "h1", "j1", "j2", "l", "p"}
	if os.Geteuid() == 0 {
		must(unix.Mknod(p("c"), unix.S_IFCHR|0o600, int(unix.Mkdev(1, 3))))
		rels = append(rels, "c")
	}
	// j1 and j2 share one time so that linking them changes nothing else.
	must(setTimes(dir, compareSeed, 0, rels))
	ts := stamp(compareSeed, "j1", 0)
	must(setTime(p("j2"), ts))
}

// shiftTime moves an entry's mtime by d without following symlinks.
func shiftTime(t *testing.T, path string, d time.Duration) {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		t.Fatal(err)
	}
	ns := st.Mtim.Nano() + int64(d)
	if err := setTime(path, unix.NsecToTimespec(ns)); err != nil {
		t.Fatal(err)
	}
}

func TestDiffTreesDetectsEachDifference(t *testing.T) {
	all := Archive(true)
	type wantDiff struct {
		path string
		kind DiffKind
	}
	cases := []struct {
		name   string
		root   bool
		opts   CompareOptions
		mutate func(t *testing.T, p func(string) string)
		want   []wantDiff
	}{
		{name: "identical", opts: all, mutate: func(*testing.T, func(string) string) {}},
		{name: "missing", opts: CompareOptions{}, want: []wantDiff{{"d/g", DiffMissing}},
			mutate: func(t *testing.T, p func(string) string) { os.Remove(p("d/g")) }},
		{name: "extra", opts: CompareOptions{}, want: []wantDiff{{"x", DiffExtra}},
			mutate: func(t *testing.T, p func(string) string) { os.WriteFile(p("x"), nil, 0o644) }},
		{name: "type", opts: all, want: []wantDiff{{".", DiffMtime}, {"p", DiffType}},
			mutate: func(t *testing.T, p func(string) string) { os.Remove(p("p")); os.Mkdir(p("p"), 0o755) }},
		{name: "size", opts: CompareOptions{}, want: []wantDiff{{"f", DiffSize}},
			mutate: func(t *testing.T, p func(string) string) {
				f, _ := os.OpenFile(p("f"), os.O_WRONLY|os.O_APPEND, 0)
				f.Write([]byte("x"))
				f.Close()
			}},
		{name: "content beyond first chunk", opts: CompareOptions{}, want: []wantDiff{{"big", DiffContent}},
			mutate: func(t *testing.T, p func(string) string) {
				f, _ := os.OpenFile(p("big"), os.O_RDWR, 0)
				defer f.Close()
				b := make([]byte, 1)
				f.ReadAt(b, 2<<20+5)
				b[0] ^= 0x40
				f.WriteAt(b, 2<<20+5)
			}},
		{name: "perm", opts: CompareOptions{Perms: true}, want: []wantDiff{{"f", DiffPerm}},
			mutate: func(t *testing.T, p func(string) string) { os.Chmod(p("f"), 0o600) }},
		{name: "perm ignored", opts: CompareOptions{},
			mutate: func(t *testing.T, p func(string) string) { os.Chmod(p("f"), 0o600) }},
		{name: "file mtime 1ns", opts: CompareOptions{Times: true}, want: []wantDiff{{"f", DiffMtime}},
			mutate: func(t *testing.T, p func(string) string) { shiftTime(t, p("f"), 1) }},
		{name: "file mtime 1ns at second granularity", opts: CompareOptions{Times: true, TimeGranularity: time.Second},
			mutate: func(t *testing.T, p func(string) string) { shiftTime(t, p("f"), 1) }},
		{name: "fifo mtime", opts: CompareOptions{Times: true}, want: []wantDiff{{"p", DiffMtime}},
			mutate: func(t *testing.T, p func(string) string) { shiftTime(t, p("p"), time.Second) }},
		{name: "dir mtime", opts: CompareOptions{DirTimes: true}, want: []wantDiff{{"d", DiffMtime}},
			mutate: func(t *testing.T, p func(string) string) { shiftTime(t, p("d"), time.Microsecond) }},
		{name: "dir mtime ignored", opts: CompareOptions{Times: true, SymlinkTimes: true},
			mutate: func(t *testing.T, p func(string) string) { shiftTime(t, p("d"), time.Microsecond) }},
		{name: "symlink mtime", opts: CompareOptions{SymlinkTimes: true}, want: []wantDiff{{"l", DiffMtime}},
			mutate: func(t *testing.T, p func(string) string) { shiftTime(t, p("l"), 1) }},
		{name: "symlink mtime ignored", opts: CompareOptions{Times: true, DirTimes: true},
			mutate: func(t *testing.T, p func(string) string) { shiftTime(t, p("l"), 1) }},
		{name: "symlink target", opts: CompareOptions{}, want: []wantDiff{{"l", DiffTarget}},
			mutate: func(t *testing.T, p func(string) string) { os.Remove(p("l")); os.Symlink("d/g", p("l")) }},
		{name: "uid", root: true, opts: CompareOptions{Owner: true}, want: []wantDiff{{"f", DiffUID}},
			mutate: func(t *testing.T, p func(string) string) { os.Lchown(p("f"), 1234, -1) }},
		{name: "gid", root: true, opts: CompareOptions{Group: true}, want: []wantDiff{{"l", DiffGID}},
			mutate: func(t *testing.T, p func(string) string) { os.Lchown(p("l"), -1, 5678) }},
		{name: "rdev", root: true, opts: CompareOptions{}, want: []wantDiff{{"c", DiffRdev}},
			mutate: func(t *testing.T, p func(string) string) {
				os.Remove(p("c"))
				if err := unix.Mknod(p("c"), unix.S_IFCHR|0o600, int(unix.Mkdev(1, 5))); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "hard link broken", opts: CompareOptions{HardLinks: true}, want: []wantDiff{{"h2", DiffHardLink}},
			mutate: func(t *testing.T, p func(string) string) {
				b, _ := os.ReadFile(p("h1"))
				os.Remove(p("h2"))
				os.WriteFile(p("h2"), b, 0o644)
			}},
		{name: "hard link added", opts: CompareOptions{HardLinks: true}, want: []wantDiff{{"j2", DiffHardLink}},
			mutate: func(t *testing.T, p func(string) string) { os.Remove(p("j2")); os.Link(p("j1"), p("j2")) }},
		{name: "ignored subtree", opts: CompareOptions{Ignore: func(rel string) bool { return rel == "d" }},
			mutate: func(t *testing.T, p func(string) string) { os.Remove(p("d/g")) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.root && os.Geteuid() != 0 {
				t.Skip("needs root")
			}
			base := t.TempDir()
			want, got := filepath.Join(base, "want"), filepath.Join(base, "got")
			makeCompareTree(t, want)
			makeCompareTree(t, got)
			tc.mutate(t, func(rel string) string { return filepath.Join(got, rel) })

			diffs, err := DiffTrees(want, got, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			var gotKinds []wantDiff
			for _, d := range diffs {
				gotKinds = append(gotKinds, wantDiff{d.Path, d.Kind})
			}
			if len(gotKinds) != len(tc.want) {
				t.Fatalf("diffs = %v, want %v", diffs, tc.want)
			}
			for i := range gotKinds {
				if gotKinds[i] != tc.want[i] {
					t.Fatalf("diffs = %v, want %v", diffs, tc.want)
				}
			}

			dw, err := TreeDigest(want, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			dg, err := TreeDigest(got, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if (dw == dg) != (len(diffs) == 0) {
				t.Errorf("digests equal = %v, but %d differences", dw == dg, len(diffs))
			}
		})
	}
}

func TestDiffReportsContentOffset(t *testing.T) {
	base := t.TempDir()
	want, got := filepath.Join(base, "want"), filepath.Join(base, "got")
	makeCompareTree(t, want)
	makeCompareTree(t, got)
	f, err := os.OpenFile(filepath.Join(got, "big"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{0}, 3<<20-1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	// Make sure the byte really changed; random data could already hold 0.
	b, _ := os.ReadFile(filepath.Join(want, "big"))
	if b[len(b)-1] == 0 {
		t.Skip("last byte already zero")
	}
	diffs, err := DiffTrees(want, got, CompareOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(diffs) != 1 || !strings.Contains(diffs[0].String(), "byte 3145727") {
		t.Fatalf("diffs = %v, want one content difference at byte 3145727", diffs)
	}
}

func TestCompareTreesCapsReport(t *testing.T) {
	base := t.TempDir()
	want, got := filepath.Join(base, "want"), filepath.Join(base, "got")
	os.Mkdir(want, 0o755)
	os.Mkdir(got, 0o755)
	for i := range 25 {
		os.WriteFile(filepath.Join(want, "m"+string(rune('a'+i))), nil, 0o644)
	}
	f := capture(t, func(tb testing.TB) { CompareTrees(tb, want, got, CompareOptions{}) })
	if len(f.errors) != 1 {
		t.Fatalf("errors = %q, want one report", f.errors)
	}
	msg := f.errors[0]
	for _, s := range []string{"25 differences", "ma: missing", "mt: missing", "... and 5 more"} {
		if !strings.Contains(msg, s) {
			t.Errorf("report lacks %q:\n%s", s, msg)
		}
	}
	if strings.Contains(msg, "mu: missing") {
		t.Errorf("report lists more than 20 differences:\n%s", msg)
	}

	f = capture(t, func(tb testing.TB) { CompareTrees(tb, want, want, Archive(true)) })
	if len(f.errors) != 0 || f.fatal != "" {
		t.Errorf("identical trees reported: %q %q", f.errors, f.fatal)
	}
}
