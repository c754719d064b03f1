package rsynctest

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

// quickTree keeps the package's own tests fast.
var quickTree = TreeOptions{BigFileSize: 300 << 10, HardLinks: true, Devices: true, ForeignOwner: true}

func TestMakeStandardTreeDeterministic(t *testing.T) {
	base := t.TempDir()
	a, b, c := filepath.Join(base, "a"), filepath.Join(base, "b"), filepath.Join(base, "c")
	MakeStandardTree(t, a, 1, quickTree)
	MakeStandardTree(t, b, 1, quickTree)
	MakeStandardTree(t, c, 2, quickTree)
	CompareTrees(t, a, b, Archive(true))
	da, err := TreeDigest(a, Archive(true))
	if err != nil {
		t.Fatal(err)
	}
	db, _ := TreeDigest(b, Archive(true))
	dc, _ := TreeDigest(c, Archive(true))
	if da != db {
		t.Errorf("same seed, different digests %s and %s", da, db)
	}
	if da == dc {
		t.Errorf("different seeds, same digest %s", da)
	}
}

func TestMakeStandardTreeShape(t *testing.T) {
	dir := t.TempDir()
	MakeStandardTree(t, dir, 3, TreeOptions{BigFileSize: 5000})
	type shape struct {
		path   string
		typ    uint32
		size   int64 // regular files only; -1 to skip
		perm   uint32
		target string
	}
	cases := []shape{
		{".", unix.S_IFDIR, -1, 0o755, ""},
		{"empty", unix.S_IFREG, 0, 0o644, ""},
		{"a/empty", unix.S_IFREG, 0, 0o600, ""},
		{"size-699", unix.S_IFREG, 699, 0o644, ""},
		{"size-700", unix.S_IFREG, 700, 0o644, ""},
		{"size-701", unix.S_IFREG, 701, 0o644, ""},
		{"size-4096", unix.S_IFREG, 4096, 0o644, ""},
		{"size-1048575", unix.S_IFREG, 1<<20 - 1, 0o644, ""},
		{"size-1048576", unix.S_IFREG, 1 << 20, 0o644, ""},
		{"size-1048577", unix.S_IFREG, 1<<20 + 1, 0o644, ""},
		{BigFileName, unix.S_IFREG, 5000, 0o644, ""},
		{"a", unix.S_IFDIR, -1, 0o755, ""},
		{"a/b", unix.S_IFREG, -1, 0o644, ""},
		{"a.b", unix.S_IFREG, -1, 0o644, ""},
		{"a-b", unix.S_IFREG, -1, 0o644, ""},
		{"a b", unix.S_IFREG, -1, 0o644, ""},
		{"a_b", unix.S_IFREG, -1, 0o644, ""},
		{"A", unix.S_IFREG, -1, 0o644, ""},
		{"é.txt", unix.S_IFREG, -1, 0o644, ""},
		{"z", unix.S_IFREG, -1, 0o644, ""},
		{".hidden", unix.S_IFREG, -1, 0o644, ""},
		{"e/f/g", unix.S_IFDIR, -1, 0o750, ""},
		{"e/f", unix.S_IFDIR, -1, 0o711, ""},
		{"private", unix.S_IFDIR, -1, 0o700, ""},
		{"private/secret", unix.S_IFREG, -1, 0o600, ""},
		{"exec.sh", unix.S_IFREG, -1, 0o755, ""},
		{"readonly", unix.S_IFREG, -1, 0o444, ""},
		{"links/relative", unix.S_IFLNK, -1, 0, "../a.b"},
		{"links/absolute", unix.S_IFLNK, -1, 0, "/etc/passwd"},
		{"links/dangling", unix.S_IFLNK, -1, 0, "../does-not-exist"},
		{"fifo", unix.S_IFIFO, -1, 0o644, ""},
	}
	for _, c := range cases {
		p := filepath.Join(dir, c.path)
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			t.Errorf("%s: %v", c.path, err)
			continue
		}
		if st.Mode&unix.S_IFMT != c.typ {
			t.Errorf("%s: type %#o, want %#o", c.path, st.Mode&unix.S_IFMT, c.typ)
		}
		if c.size >= 0 && st.Size != c.size {
			t.Errorf("%s: size %d, want %d", c.path, st.Size, c.size)
		}
		if c.typ != unix.S_IFLNK && st.Mode&0o7777 != c.perm {
			t.Errorf("%s: perm %04o, want %04o", c.path, st.Mode&0o7777, c.perm)
		}
		if c.target != "" {
			if got, _ := os.Readlink(p); got != c.target {
				t.Errorf("%s: target %q, want %q", c.path, got, c.target)
			}
		}
		if st.Mtim.Nsec == 0 {
			t.Errorf("%s: mtime has zero nanoseconds", c.path)
		}
	}
	if ents, err := os.ReadDir(filepath.Join(dir, "e/f/g")); err != nil || len(ents) != 0 {
		t.Errorf("e/f/g: %d entries, %v; want an empty directory", len(ents), err)
	}
}

func TestMakeStandardTreeDefaultBigFile(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 64 MiB")
	}
	dir := t.TempDir()
	MakeStandardTree(t, dir, 1, TreeOptions{})
	fi, err := os.Stat(filepath.Join(dir, BigFileName))
	if err != nil || fi.Size() != DefaultBigFileSize {
		t.Fatalf("big file: %v, %v; want %d bytes", fi, err, DefaultBigFileSize)
	}
}

func TestEditTreeChanges(t *testing.T) {
	base := t.TempDir()
	orig, edited, edited2 := filepath.Join(base, "orig"), filepath.Join(base, "edited"), filepath.Join(base, "edited2")
	for _, d := range []string{orig, edited, edited2} {
		MakeStandardTree(t, d, 5, TreeOptions{BigFileSize: 200 << 10})
	}
	EditTree(t, edited, 9)
	EditTree(t, edited2, 9)
	CompareTrees(t, edited, edited2, Archive(false))

	diffs, err := DiffTrees(orig, edited, Archive(false))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range diffs {
		got = append(got, d.Path+" "+string(d.Kind))
	}
	want := []string{
		". mtime",
		"a.b mtime",
		"added.txt extra",
		"big.bin content",
		"big.bin mtime",
		"group.txt perm",
		"links mtime",
		"links/relative target",
		"links/relative mtime",
		"new extra",
		"new/added.bin extra",
		"size-1048576 size",
		"size-1048576 mtime",
		"size-1048577 size",
		"size-1048577 mtime",
		"size-4096 size",
		"size-4096 mtime",
	}
	if !slices.Equal(got, want) {
		t.Errorf("edits =\n%q\nwant\n%q", got, want)
	}

	// The big file's edits must be small and scattered, so it goes as a delta.
	a, _ := os.ReadFile(filepath.Join(orig, BigFileName))
	b, _ := os.ReadFile(filepath.Join(edited, BigFileName))
	changed, runs := 0, 0
	for i := range a {
		if a[i] != b[i] {
			changed++
			if i == 0 || a[i-1] == b[i-1] {
				runs++
			}
		}
	}
	if changed == 0 || changed > 5*64 || runs < 2 {
		t.Errorf("big file: %d bytes changed in %d runs; want a few small scattered edits", changed, runs)
	}
	if fresh, _ := os.ReadFile(filepath.Join(edited, "size-1048577")); len(fresh) != 1<<20+101 {
		t.Errorf("prepended file has %d bytes", len(fresh))
	} else if old, _ := os.ReadFile(filepath.Join(orig, "size-1048577")); string(fresh[100:]) != string(old) {
		t.Errorf("prepend did not keep the old content after the new bytes")
	}
}

func TestStandardTreeRsyncRoundTrip(t *testing.T) {
	rsync := RequireRsync(t)
	base := t.TempDir()
	src, dst := filepath.Join(base, "src"), filepath.Join(base, "dst")
	MakeStandardTree(t, src, 11, quickTree)

	MustRun(t, "", nil, rsync, "-aH", src+"/", dst+"/")
	CompareTrees(t, src, dst, Archive(true))

	EditTree(t, src, 12)
	out, _ := MustRun(t, "", nil, rsync, "-aH", "--stats", "--no-whole-file", src+"/", dst+"/")
	CompareTrees(t, src, dst, Archive(true))
	st, err := ParseStats(out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	// Changed: the appended, prepended, edited big, truncated and two new
	// regular files; a.b is transferred too because only its time moved.
	if st.RegularFilesTransferred != 7 {
		t.Errorf("regular files transferred = %d, want 7\n%s", st.RegularFilesTransferred, out)
	}
	if st.MatchedData < 1<<20 || st.TotalBytesSent != st.Sent || st.TotalBytesReceived != st.Received {
		t.Errorf("stats do not show a delta transfer: %+v", st)
	}
}
