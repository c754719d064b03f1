package engine

import (
	"strings"
	"testing"

	"github.com/gorsync/gorsync/internal/flist"
)

// TestSegmentsNumbering follows the numbering of the spec's worked example
// (rsync -a src/ dst/ over src/{top.txt, link, a/one.txt, a/b/two.txt,
// c/three.txt}): the first list from 1, each later list one past the
// previous list's end, its gap index naming its directory.
func TestSegmentsNumbering(t *testing.T) {
	dir := func(d, b string) *flist.Entry { return &flist.Entry{Dir: d, Base: b, Mode: flist.ModeDir | 0o755} }
	file := func(d, b string) *flist.Entry { return &flist.Entry{Dir: d, Base: b, Mode: flist.ModeRegular | 0o644} }
	s := newSegments(true)
	first := &flist.List{Entries: []*flist.Entry{dir("", "."), file("", "link"), file("", "top.txt"), dir("", "a"), dir("", "c")}, ParentNdx: 0}
	s.add(first)
	a := &flist.List{Entries: []*flist.Entry{file("a", "one.txt"), dir("a", "b")}, ParentNdx: 1}
	s.add(a)
	ab := &flist.List{Entries: []*flist.Entry{file("a/b", "two.txt")}, ParentNdx: 3}
	s.add(ab)
	c := &flist.List{Entries: []*flist.Entry{file("c", "three.txt")}, ParentNdx: 2}
	s.add(c)
	for _, tc := range []struct {
		ndx  int32
		list *flist.List
		name string
	}{
		{0, first, "."}, {1, first, "."}, {3, first, "top.txt"}, {5, first, "c"},
		{6, a, "a"}, {7, a, "a/one.txt"}, {8, a, "a/b"},
		{9, ab, "a/b"}, {10, ab, "a/b/two.txt"},
		{11, c, "c"}, {12, c, "c/three.txt"},
	} {
		l, e, err := s.find(tc.ndx)
		if err != nil || l != tc.list || e.Name() != tc.name {
			t.Errorf("find(%d) = %v, %v, %v; want list at %d, %s", tc.ndx, l, e, err, tc.list.NdxStart, tc.name)
		}
	}
	if got := []int32{first.NdxStart, a.NdxStart, ab.NdxStart, c.NdxStart}; got[0] != 1 || got[1] != 7 || got[2] != 10 || got[3] != 12 {
		t.Errorf("list starts %v, want [1 7 10 12]", got)
	}
	if _, _, err := s.find(13); err == nil || !strings.Contains(err.Error(), "not in 0 - 12") {
		t.Errorf("find(13): %v", err)
	}
	s.freeFirst()
	if _, _, err := s.find(3); err == nil {
		t.Error("an index in a freed list was found")
	}
	if s.total != 4 {
		t.Errorf("total %d, want 4", s.total)
	}
	if d, err := s.dir(3); err != nil || d.Name() != "a/b" {
		t.Errorf("dir(3) = %v, %v", d, err)
	}
	if _, err := s.dir(4); err == nil {
		t.Error("dir(4) accepted")
	}
}

// TestSegmentsNotIncremental: one list from index 0, no gap indexes.
func TestSegmentsNotIncremental(t *testing.T) {
	s := newSegments(false)
	l := &flist.List{Entries: []*flist.Entry{{Base: "."}, {Base: "x"}}, ParentNdx: -1}
	s.add(l)
	if l.NdxStart != 0 || !s.eof {
		t.Fatalf("start %d eof %v", l.NdxStart, s.eof)
	}
	if _, e, err := s.find(1); err != nil || e.Base != "x" {
		t.Errorf("find(1) = %v, %v", e, err)
	}
	if _, _, err := s.find(-1); err == nil {
		t.Error("find(-1) accepted")
	}
}
