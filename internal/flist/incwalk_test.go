//go:build linux

package flist

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gorsync/gorsync/internal/fastio"
	"github.com/gorsync/gorsync/internal/rsynctest"
)

// incSegment is one list as rsync's -vvv --debug=flist4 shows it: its
// first index, the directory index its header named (-1 for the first
// list) and its entries in sorted order.
type incSegment struct {
	start  int32
	dirNdx int32
	names  []string
}

func (s incSegment) String() string {
	return fmt.Sprintf("start=%d dir=%d %v", s.start, s.dirNdx, s.names)
}

// incNames renders a sorted list's names as rsync's output_flist does:
// directories with a trailing slash.
func incNames(l *List) []string {
	var names []string
	for _, e := range l.Entries {
		n := e.Name()
		if e.IsDir() {
			n += "/"
			if n == "./" || strings.HasSuffix(n, "/./") {
				n = strings.TrimSuffix(n, "./")
				if n == "" {
					n = "./"
				}
			}
		}
		names = append(names, n)
	}
	return names
}

// walkSegments runs the incremental walk of args in dir and returns its
// lists as the receiver numbers them.
func walkSegments(t *testing.T, dir string, args []string, opts WalkOptions) []incSegment {
	t.Helper()
	opts.Cwd = dir
	opts.FS = chdirFS{dir}
	opts.Recurse = true
	iw, first, err := StartIncremental(args, opts, 32)
	if err != nil {
		t.Fatal(err)
	}
	defer iw.Close()
	first.SortAndClean(32, false)
	segs := []incSegment{{start: 1, dirNdx: -1, names: incNames(first)}}
	next := 1 + int32(len(first.Entries)) + 1
	var dirs []*Entry
	for _, e := range first.Entries {
		if e.IsDir() {
			dirs = append(dirs, e)
		}
	}
	for {
		l, d, err := iw.Next()
		if err != nil {
			t.Fatal(err)
		}
		if l == nil {
			break
		}
		if int(l.ParentNdx) >= len(dirs) || dirs[l.ParentNdx] != d {
			t.Fatalf("list for %s names directory %d", d.Name(), l.ParentNdx)
		}
		l.SortAndClean(32, false)
		segs = append(segs, incSegment{start: next, dirNdx: l.ParentNdx, names: incNames(l)})
		next += int32(len(l.Entries)) + 1
		for _, e := range l.Entries {
			if e.IsDir() {
				dirs = append(dirs, e)
			}
		}
	}
	return segs
}

var (
	flistStartRE = regexp.MustCompile(`^\[sender\] flist start=(\d+), used=(\d+)`)
	flistItemRE  = regexp.MustCompile(`^\[sender\] i=(\d+) (\S*) (.*) mode=`)
	flistDirRE   = regexp.MustCompile(`^\[[Rr]eceiver\] receiving flist for dir (\d+)`)
)

// upstreamSegments runs upstream rsync's local dry run of args in dir and
// reads its lists from -vvv --debug=flist4.
func upstreamSegments(t *testing.T, dir string, args []string) []incSegment {
	t.Helper()
	rsync := rsynctest.RequireRsync(t)
	argv := append([]string{"-rlptn", "-vvv", "--debug=flist4"}, args...)
	argv = append(argv, filepath.Join(t.TempDir(), "dst")+"/")
	cmd := exec.Command(rsync, argv...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("rsync %v: %v\n%s", argv, err, out)
	}
	var segs []incSegment
	var dirNdx []int32
	for _, line := range strings.Split(string(out), "\n") {
		if m := flistStartRE.FindStringSubmatch(line); m != nil {
			start, _ := strconv.Atoi(m[1])
			segs = append(segs, incSegment{start: int32(start), dirNdx: -1, names: []string{}})
		} else if m := flistItemRE.FindStringSubmatch(line); m != nil && len(segs) > 0 {
			s := &segs[len(segs)-1]
			s.names = append(s.names, m[3])
		} else if m := flistDirRE.FindStringSubmatch(line); m != nil {
			n, _ := strconv.Atoi(m[1])
			dirNdx = append(dirNdx, int32(n))
		}
	}
	if len(dirNdx) != len(segs)-1 {
		t.Fatalf("%d lists but %d directory headers:\n%s", len(segs), len(dirNdx), out)
	}
	for i, n := range dirNdx {
		segs[i+1].dirNdx = n
	}
	return segs
}

// makeIncTree builds the trees the order tests walk: src with files
// before subdirectories, nested and empty directories and a symlink, and
// src2 sharing some of src's directory names.
func makeIncTree(t *testing.T, dir string) {
	t.Helper()
	for _, d := range []string{"src/a/b", "src/c", "src/d/e/f", "src/d/g", "src/empty", "src/a.b", "src/B",
		"src2/a/x", "src2/c", "src2/z"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"src/top.txt", "src/a/one.txt", "src/a/b/two.txt", "src/c/three.txt",
		"src/d/e/f/x", "src/d/g/y", "src/d/z", "src/a.b/f", "src/B/f", "src/a-", "src2/a/x/1", "src2/c/2", "src2/top2"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("top.txt", filepath.Join(dir, "src/link")); err != nil {
		t.Fatal(err)
	}
}

// TestIncWalkOrderMatchesUpstream walks trees incrementally and compares
// every list — its first index, the directory its header names, its
// sorted entries — with upstream rsync's own incremental walk of them.
func TestIncWalkOrderMatchesUpstream(t *testing.T) {
	dir := t.TempDir()
	makeIncTree(t, dir)
	cases := []struct {
		name string
		args []string
		opts WalkOptions
	}{
		{"dot-dir", []string{"src/"}, WalkOptions{}},
		{"named dir", []string{"src"}, WalkOptions{}},
		{"two dot-dirs sharing names", []string{"src/", "src2/"}, WalkOptions{}},
		{"two named dirs", []string{"src/a", "src2/a"}, WalkOptions{}},
		{"file and dirs", []string{"src/top.txt", "src/d", "src/c"}, WalkOptions{}},
		{"relative", []string{"src/a/b", "src/c/three.txt", "src/d"}, WalkOptions{Relative: true, ImpliedDirs: true}},
		{"relative dot", []string{"src/./d/e", "src/./a"}, WalkOptions{Relative: true, ImpliedDirs: true}},
	}
	for _, c := range cases {
		for _, io := range []fastio.Config{fastio.Config{}.With(fastio.Batch, false), fastio.Config{}.With(fastio.Batch, true).With(fastio.Parallel, true)} {
			t.Run(fmt.Sprintf("%s/batch=%v", c.name, io.On(fastio.Batch)), func(t *testing.T) {
				args := append([]string{}, c.args...)
				if c.opts.Relative {
					args = append([]string{"-R"}, args...)
				}
				want := upstreamSegments(t, dir, args)
				opts := c.opts
				opts.IO = io
				got := walkSegments(t, dir, c.args, opts)
				if !slices.EqualFunc(got, want, func(a, b incSegment) bool {
					return a.start == b.start && a.dirNdx == b.dirNdx && slices.Equal(a.names, b.names)
				}) {
					t.Errorf("lists differ\n got: %v\nwant: %v", got, want)
				}
			})
		}
	}
}
