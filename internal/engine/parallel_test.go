package engine

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/gorsync/gorsync/internal/checksum"
	"github.com/gorsync/gorsync/internal/fastio"
	"github.com/gorsync/gorsync/internal/flist"
	"github.com/gorsync/gorsync/internal/fsys"
	"github.com/gorsync/gorsync/internal/protocol"
	"golang.org/x/sys/unix"
)

var testFileParams = checksum.Params{Kind: checksum.XXH128}

// serialSum is the whole-file sum the way the serial code computes it.
func serialSum(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h := checksum.NewFileHasher(testFileParams)
	h.Write(data)
	return h.Sum(nil)
}

// makeFiles writes n files of different sizes under dir and returns their
// names, every fifth one missing.
func makeFiles(t *testing.T, dir string, n int) []string {
	t.Helper()
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("f%04d", i)
		if i%5 == 4 {
			continue
		}
		data := bytes.Repeat([]byte{byte(i), byte(i >> 8), 'x'}, 1000+i*37)
		if err := os.WriteFile(filepath.Join(dir, names[i]), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return names
}

func TestFileSums(t *testing.T) {
	dir := t.TempDir()
	names := makeFiles(t, dir, 1100) // more than one slab of sums
	fs := NewFileSums(testFileParams, 16)
	got := make([][]byte, len(names))
	for i, n := range names {
		// A missing file's place is taken by one that cannot be read
		// (the directory): its sum stays zero.
		fd, err := unix.Open(filepath.Join(dir, n), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			fd, err = unix.Open(dir, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		}
		if err != nil {
			t.Fatal(err)
		}
		got[i] = fs.Start(fd)
	}
	fs.Wait()
	for i, n := range names {
		want := make([]byte, 16)
		if i%5 != 4 {
			want = serialSum(t, filepath.Join(dir, n))
		}
		if !bytes.Equal(got[i], want) {
			t.Fatalf("%s: sum %x, want %x", n, got[i], want)
		}
	}
}

// aheadGenerator is the part of a generator sumAhead reads.
func aheadGenerator(t *testing.T, dir string, names []string) *generator {
	t.Helper()
	root, err := fsys.OpenRoot(dir, fastio.Defaults())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	l := &flist.List{}
	for i, n := range names {
		mode := flist.ModeRegular | 0o644
		if i%7 == 6 {
			mode = flist.ModeDir | 0o755 // not summed
		}
		size := int64(3 * (1000 + i*37))
		l.Entries = append(l.Entries, &flist.Entry{Base: n, Mode: mode, Size: size})
	}
	return &generator{
		rs:   &Receiving{},
		c:    &Conn{Conn: &protocol.Conn{Session: &protocol.Session{Protocol: 31, FileSum: checksum.XXH128}}},
		opts: &Options{AlwaysChecksum: true},
		root: root,
		list: l,
	}
}

// TestSumAhead walks a list as the generator does, asking for the sums of
// the files that exist: the workers must have computed them (not the
// fallback), equal to the serial sums, and a file changed after its sum
// was computed must not get the stale sum.
func TestSumAhead(t *testing.T) {
	dir := t.TempDir()
	names := makeFiles(t, dir, 600)
	g := aheadGenerator(t, dir, names)
	g.opts.IO = fastio.Defaults().With(fastio.Parallel, true)
	a := startSumAhead(g)
	if a == nil {
		t.Fatal("no workers")
	}
	defer a.stop()
	served := 0
	for i, n := range names {
		if i%7 == 6 || i%5 == 4 {
			continue
		}
		path := filepath.Join(dir, n)
		if i == 100 || i == 300 {
			// Let a worker get there first.
			a.pool.Lock()
			for s := &a.ring[i%aheadWindow]; s.ndx != int32(i) || s.state != slotDone; {
				a.pool.Wait()
			}
			a.pool.Unlock()
		}
		if i == 300 {
			// Rewrite it behind the workers' back: same size, new inode,
			// mtime and content.
			data, _ := os.ReadFile(path)
			data[0] ^= 0xff
			os.Remove(path)
			os.WriteFile(path, data, 0o644)
		}
		st, err := g.root.LstatT(n)
		if err != nil {
			t.Fatal(err)
		}
		sum, ok := a.sum(int32(i), &st)
		switch {
		case i == 300 && ok:
			t.Fatalf("%s: the sum of the file it replaced was served", n)
		case i == 100 && !ok:
			t.Fatalf("%s: a worker's sum was not served", n)
		case !ok:
			// The generator computes it itself, giving the workers time.
			serialSum(t, path)
			continue
		}
		served++
		if want := serialSum(t, path); !bytes.Equal(sum, want) {
			t.Fatalf("%s: sum computed ahead %x, want %x", n, sum, want)
		}
	}
	t.Logf("%d sums came from the workers", served)
}

// TestSumAheadOff checks the switch: no workers when fastio.Parallel is
// off, and sum reports nothing on a nil sumAhead.
func TestSumAheadOff(t *testing.T) {
	g := aheadGenerator(t, t.TempDir(), []string{"a"})
	g.opts.IO = fastio.Defaults().With(fastio.Parallel, false)
	a := startSumAhead(g)
	if a != nil {
		t.Fatal("workers started with the switch off")
	}
	if _, ok := a.sum(0, &fsys.Stat{}); ok {
		t.Fatal("a nil sumAhead had a sum")
	}
	a.stop()
}
