package flist

import (
	"bytes"
	"errors"
	"testing"

	"github.com/gorsync/gorsync/internal/exitcode"
	"github.com/gorsync/gorsync/internal/wire"
)

// incOptions are "rsync -a" at protocol 32 with incremental recursion.
var incOptions = Options{Protocol: 32, CompatFlags: 0x1ff, Recurse: true, PreserveUID: true, PreserveGID: true, PreserveLinks: true, PreserveDevices: true, PreserveSpecials: true}

// encodeSegments encodes lists one after another with one Encoder, its
// state running on, as a sender with incremental recursion does (the
// headers between them are not the decoder's business).
func encodeSegments(t testing.TB, o Options, lists ...[]*Entry) []byte {
	t.Helper()
	enc, err := NewEncoder(o, testNames)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w := wire.NewWriter(&buf)
	for _, l := range lists {
		for _, e := range l {
			if err := enc.WriteEntry(w, e); err != nil {
				t.Fatal(err)
			}
		}
		enc.WriteEnd(w, 0)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// segEntries is a first list and the list of its directory "a".
func segEntries() (first, a []*Entry) {
	dir := func(d, b string) *Entry {
		return &Entry{Dir: d, Base: b, Mode: ModeDir | 0o755, Mtime: 1700000000, UID: 1000, GID: 1000, Flags: FlagContentDir}
	}
	first = []*Entry{
		dir("", "."),
		{Base: "f", Mode: ModeRegular | 0o644, Size: 3, Mtime: 1700000001, UID: 1000, GID: 1000},
		dir("", "a"),
	}
	a = []*Entry{
		{Dir: "a", Base: "x", Mode: ModeRegular | 0o644, Size: 5, Mtime: 1700000002, UID: 100000, GID: 101000},
		dir("a", "sub"),
	}
	return first, a
}

// TestReadSegment decodes a first list and a directory's list with one
// decoder: inline user names, the name compression carried over, the first
// list's numbering from 1 with "." as its directory, and the directories
// kept apart from the lists' chunks, which are freed with their lists.
func TestReadSegment(t *testing.T) {
	first, a := segEntries()
	data := encodeSegments(t, incOptions, first, a)
	dec, err := NewDecoder(incOptions)
	if err != nil {
		t.Fatal(err)
	}
	r := wire.NewReader(bytes.NewReader(data))
	l1, err := dec.ReadList(r)
	if err != nil {
		t.Fatal(err)
	}
	if l1.NdxStart != 1 || l1.ParentNdx != 0 || len(l1.Entries) != 3 {
		t.Fatalf("first list: start %d, parent %d, %d entries", l1.NdxStart, l1.ParentNdx, len(l1.Entries))
	}
	l2, err := dec.ReadSegment(r, 5, "a")
	if err != nil {
		t.Fatal(err)
	}
	if l2.NdxStart != 5 || len(l2.Entries) != 2 || l2.Entries[0].Name() != "a/x" || l2.Entries[1].Name() != "a/sub" {
		t.Fatalf("a's list: start %d, %v", l2.NdxStart, l2.Entries)
	}
	if got := l2.Users[100000]; got != "wheel" {
		t.Errorf("user named inline in a later list: %q", got)
	}
	inChunk := func(e *Entry, s *slab) bool {
		for i := range s.buf {
			if &s.buf[i] == e {
				return true
			}
		}
		return false
	}
	for _, l := range []*List{l1, l2} {
		for _, e := range l.Entries {
			if e.IsDir() != inChunk(e, &dec.dirSlab) || inChunk(e, &dec.slab) == e.IsDir() {
				t.Errorf("%s (directory: %v) in the wrong chunk", e.Name(), e.IsDir())
			}
		}
	}
}

// TestReadSegmentRefusesOtherDirs checks the rule that a list holds only
// its directory's own entries (the first list only top-level names), with
// rsync's message and exit code 4.
func TestReadSegmentRefusesOtherDirs(t *testing.T) {
	first, a := segEntries()
	stray := &Entry{Dir: "b", Base: "y", Mode: ModeRegular | 0o644, Mtime: 1}
	for _, tc := range []struct {
		name  string
		lists [][]*Entry
		msg   string
	}{
		{"nested in the first list", [][]*Entry{append(first, a[0])}, "ABORTING due to invalid path from sender: a/x"},
		{"other directory", [][]*Entry{first, {a[0], stray}}, "ABORTING due to invalid path from sender: b/y"},
		{"top level", [][]*Entry{first, {{Base: "z", Mode: ModeRegular | 0o644}}}, "ABORTING due to invalid path from sender: /z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dec, _ := NewDecoder(incOptions)
			r := wire.NewReader(bytes.NewReader(encodeSegments(t, incOptions, tc.lists...)))
			_, err := dec.ReadList(r)
			if err == nil {
				_, err = dec.ReadSegment(r, 5, "a")
			}
			var ee *exitcode.Error
			if !errors.As(err, &ee) || ee.Code != exitcode.Unsupported || ee.Msg != tc.msg {
				t.Errorf("error %v, want %q (code 4)", err, tc.msg)
			}
		})
	}
}

// FuzzReadSegment decodes arbitrary bytes as a first list and then lists
// of directory "a", as with incremental recursion: never a panic, and
// nothing accepted outside its directory.
func FuzzReadSegment(f *testing.F) {
	first, a := segEntries()
	f.Add(encodeSegments(f, incOptions, first, a, a))
	f.Fuzz(func(t *testing.T, data []byte) {
		dec, err := NewDecoder(incOptions)
		if err != nil {
			t.Fatal(err)
		}
		r := wire.NewReader(bytes.NewReader(data))
		l, err := dec.ReadList(r)
		for ; err == nil; l, err = dec.ReadSegment(r, l.NdxStart+int32(len(l.Entries))+1, "a") {
			want := ""
			if l.NdxStart > 1 {
				want = "a"
			}
			for _, e := range l.Entries {
				if e.Dir != want {
					t.Fatalf("accepted %q in the list of %q", e.Name(), want)
				}
			}
		}
	})
}
