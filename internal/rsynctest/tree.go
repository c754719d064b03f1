package rsynctest

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// DefaultBigFileSize is the size of the standard tree's big file when
// TreeOptions.BigFileSize is zero.
const DefaultBigFileSize = 64 << 20

// BigFileName is the standard tree's big random file, relative to its root;
// EditTree changes it in a few scattered places so it transfers as a delta.
const BigFileName = "big.bin"

// TreeOptions tunes MakeStandardTree; the zero value builds the full tree the
// acceptance test names.
type TreeOptions struct {
	// BigFileSize is the size of BigFileName; zero means DefaultBigFileSize.
	// Quick tests use a few hundred KiB.
	BigFileSize int64
	// HardLinks adds a group of three hard-linked files.
	HardLinks bool
	// Devices adds a character and a block device node when the process may
	// create them (root); otherwise they are left out and the test logs why.
	Devices bool
	// ForeignOwner adds a file and a symlink owned by uid/gid 1234/5678 when
	// running as root; otherwise they are left out and the test logs why.
	ForeignOwner bool
}

// entryKind says what a tree entry is.
type entryKind int

const (
	kindFile entryKind = iota
	kindDir
	kindSymlink
	kindFIFO
)

// treeEntry is one entry of the standard tree, in creation order.
type treeEntry struct {
	path   string
	kind   entryKind
	size   int64  // regular files
	perm   uint32 // not used for symlinks
	target string // symlinks
}

// standardEntries lists the standard tree. Names are chosen so that byte
// order and rsync's path order disagree ("a b" < "a-b" < "a.b" < "a/b" <
// "a_b"), and sizes straddle the 700-byte minimum block and 1 MiB.
func standardEntries(bigSize int64) []treeEntry {
	return []treeEntry{
		{path: "a", kind: kindDir, perm: 0o755},
		{path: "e", kind: kindDir, perm: 0o755},
		{path: "e/f", kind: kindDir, perm: 0o711},
		{path: "e/f/g", kind: kindDir, perm: 0o750},
		{path: "links", kind: kindDir, perm: 0o755},
		{path: "private", kind: kindDir, perm: 0o700},

		{path: "empty", kind: kindFile, size: 0, perm: 0o644},
		{path: "a/empty", kind: kindFile, size: 0, perm: 0o600},
		{path: "size-699", kind: kindFile, size: 699, perm: 0o644},
		{path: "size-700", kind: kindFile, size: 700, perm: 0o644},
		{path: "size-701", kind: kindFile, size: 701, perm: 0o644},
		{path: "size-4096", kind: kindFile, size: 4096, perm: 0o644},
		{path: "size-1048575", kind: kindFile, size: 1<<20 - 1, perm: 0o644},
		{path: "size-1048576", kind: kindFile, size: 1 << 20, perm: 0o644},
		{path: "size-1048577", kind: kindFile, size: 1<<20 + 1, perm: 0o644},
		{path: BigFileName, kind: kindFile, size: bigSize, perm: 0o644},

		{path: "a/b", kind: kindFile, size: 123, perm: 0o644},
		{path: "a.b", kind: kindFile, size: 2000, perm: 0o644},
		{path: "a-b", kind: kindFile, size: 45, perm: 0o644},
		{path: "a b", kind: kindFile, size: 67, perm: 0o644},
		{path: "a_b", kind: kindFile, size: 89, perm: 0o644},
		{path: "A", kind: kindFile, size: 10, perm: 0o644},
		{path: "é.txt", kind: kindFile, size: 321, perm: 0o644},
		{path: "z", kind: kindFile, size: 1500, perm: 0o644},
		{path: ".hidden", kind: kindFile, size: 42, perm: 0o644},

		{path: "exec.sh", kind: kindFile, size: 77, perm: 0o755},
		{path: "readonly", kind: kindFile, size: 88, perm: 0o444},
		{path: "group.txt", kind: kindFile, size: 99, perm: 0o640},
		{path: "private/secret", kind: kindFile, size: 111, perm: 0o600},

		{path: "links/relative", kind: kindSymlink, target: "../a.b"},
		{path: "links/absolute", kind: kindSymlink, target: "/etc/passwd"},
		{path: "links/dangling", kind: kindSymlink, target: "../does-not-exist"},
		{path: "fifo", kind: kindFIFO, perm: 0o644},
	}
}

// rngFor returns a deterministic generator for one purpose within one tree.
// Each path has its own stream, so adding entries never shifts the content of
// others.
func rngFor(seed int64, purpose, path string) *rand.ChaCha8 {
	h := sha256.New()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(seed))
	h.Write(b[:])
	io.WriteString(h, purpose)
	h.Write([]byte{0})
	io.WriteString(h, path)
	var key [32]byte
	copy(key[:], h.Sum(nil))
	return rand.NewChaCha8(key)
}

// stamp returns a deterministic mtime with non-zero nanoseconds. Generation 0
// lies in 2001–2020 and generation 1 (edits) in 2021–2030, so an edited
// entry's time always differs from the original.
func stamp(seed int64, path string, gen int) unix.Timespec {
	r := rand.New(rngFor(seed, fmt.Sprintf("mtime%d", gen), path))
	base, span := int64(1_000_000_000), int64(600_000_000)
	if gen > 0 {
		base, span = 1_610_000_000, 280_000_000
	}
	return unix.Timespec{Sec: base + r.Int64N(span), Nsec: 1 + r.Int64N(999_999_998)}
}

// writeRandom writes size bytes from r to w in chunks, so a 64 MiB file needs
// only one small buffer.
func writeRandom(w io.Writer, r *rand.ChaCha8, size int64) error {
	buf := make([]byte, min(size, 1<<20))
	for size > 0 {
		n := min(size, int64(len(buf)))
		r.Read(buf[:n])
		if _, err := w.Write(buf[:n]); err != nil {
			return err
		}
		size -= n
	}
	return nil
}

// createRandomFile creates path with size deterministic random bytes.
func createRandomFile(path string, r *rand.ChaCha8, size int64, perm uint32) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if err := writeRandom(f, r, size); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Chmod(path, os.FileMode(perm))
}

// setTime sets an entry's atime and mtime without following symlinks.
func setTime(path string, ts unix.Timespec) error {
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, path, []unix.Timespec{ts, ts}, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("set time of %s: %w", path, err)
	}
	return nil
}

// setTimes stamps the named entries (relative to root) with generation gen
// times: non-directories first, then directories deepest first, so setting a
// child's time never disturbs its parent's afterwards.
func setTimes(root string, seed int64, gen int, rels []string) error {
	var dirs, others []string
	for _, rel := range rels {
		fi, err := os.Lstat(filepath.Join(root, rel))
		if err != nil {
			return err
		}
		if fi.IsDir() {
			dirs = append(dirs, rel)
		} else {
			others = append(others, rel)
		}
	}
	depth := func(rel string) int {
		if rel == "." {
			return -1
		}
		return strings.Count(rel, "/")
	}
	sort.SliceStable(dirs, func(i, j int) bool { return depth(dirs[i]) > depth(dirs[j]) })
	for _, rel := range append(others, dirs...) {
		if err := setTime(filepath.Join(root, rel), stamp(seed, rel, gen)); err != nil {
			return err
		}
	}
	return nil
}

// MakeStandardTree creates the standard interop tree under dir, which must be
// absent or empty: empty files, sizes around 700 bytes and 1 MiB, a big random file,
// names whose byte order and path order differ, nested empty directories,
// relative, absolute and dangling symlinks, a FIFO, varied permissions, and
// nanosecond mtimes on every entry, all determined by seed.
func MakeStandardTree(t testing.TB, dir string, seed int64, opts TreeOptions) {
	t.Helper()
	if err := makeStandardTree(t, dir, seed, opts); err != nil {
		t.Fatalf("make standard tree in %s: %v", dir, err)
	}
}

func makeStandardTree(t testing.TB, dir string, seed int64, opts TreeOptions) error {
	bigSize := opts.BigFileSize
	if bigSize == 0 {
		bigSize = DefaultBigFileSize
	}
	if bigSize < 0 {
		return fmt.Errorf("negative BigFileSize %d", bigSize)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	entries := standardEntries(bigSize)
	rels := []string{"."}
	var dirs []treeEntry
	for _, e := range entries {
		p := filepath.Join(dir, e.path)
		var err error
		switch e.kind {
		case kindDir:
			err = os.Mkdir(p, 0o700)
			dirs = append(dirs, e)
		case kindFile:
			err = createRandomFile(p, rngFor(seed, "content", e.path), e.size, e.perm)
		case kindSymlink:
			err = os.Symlink(e.target, p)
		case kindFIFO:
			if err = unix.Mkfifo(p, 0o600); err == nil {
				err = os.Chmod(p, os.FileMode(e.perm))
			}
		}
		if err != nil {
			return fmt.Errorf("create %s: %w", e.path, err)
		}
		rels = append(rels, e.path)
	}

	if opts.HardLinks {
		first := "hardlink-1"
		if err := createRandomFile(filepath.Join(dir, first), rngFor(seed, "content", first), 3000, 0o644); err != nil {
			return err
		}
		rels = append(rels, first)
		for _, other := range []string{"hardlink-2", "a/hardlink-3"} {
			if err := os.Link(filepath.Join(dir, first), filepath.Join(dir, other)); err != nil {
				return fmt.Errorf("hard link %s: %w", other, err)
			}
		}
	}
	if opts.Devices {
		devs := []struct {
			path string
			mode uint32
			dev  uint64
		}{
			{"chardev", unix.S_IFCHR | 0o640, unix.Mkdev(1, 3)},
			{"blockdev", unix.S_IFBLK | 0o660, unix.Mkdev(7, 200)},
		}
		for _, d := range devs {
			err := unix.Mknod(filepath.Join(dir, d.path), d.mode, int(d.dev))
			if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
				t.Logf("standard tree: leaving out device %s: %v", d.path, err)
				continue
			}
			if err != nil {
				return fmt.Errorf("mknod %s: %w", d.path, err)
			}
			if err := os.Chmod(filepath.Join(dir, d.path), os.FileMode(d.mode&0o7777)); err != nil {
				return err
			}
			rels = append(rels, d.path)
		}
	}
	if opts.ForeignOwner {
		if os.Geteuid() != 0 {
			t.Logf("standard tree: leaving out foreign-owned entries: not root")
		} else {
			p := filepath.Join(dir, "owned")
			if err := createRandomFile(p, rngFor(seed, "content", "owned"), 500, 0o644); err != nil {
				return err
			}
			if err := os.Lchown(p, 1234, 5678); err != nil {
				return fmt.Errorf("chown owned: %w", err)
			}
			if err := os.Lchown(filepath.Join(dir, "links/absolute"), 1234, 5678); err != nil {
				return fmt.Errorf("lchown links/absolute: %w", err)
			}
			rels = append(rels, "owned")
		}
	}

	// Directories were made owner-writable so they could be filled; give them
	// their final modes before their times.
	for _, d := range dirs {
		if err := os.Chmod(filepath.Join(dir, d.path), os.FileMode(d.perm)); err != nil {
			return err
		}
	}
	return setTimes(dir, seed, 0, rels)
}

// EditTree changes a standard tree made by MakeStandardTree the way a user
// between two syncs would: it appends to one file, prepends to another, makes
// a few small scattered edits inside BigFileName, truncates one file,
// retargets a symlink, adds a file and a directory with a file, changes one
// file's mtime only and another's permissions only, then gives every changed
// entry (and changed directories) a new nanosecond mtime.
func EditTree(t testing.TB, dir string, seed int64) {
	t.Helper()
	if err := editTree(dir, seed); err != nil {
		t.Fatalf("edit tree %s: %v", dir, err)
	}
}

func editTree(dir string, seed int64) error {
	p := func(rel string) string { return filepath.Join(dir, rel) }

	// Append.
	f, err := os.OpenFile(p("size-1048576"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	err = writeRandom(f, rngFor(seed, "append", "size-1048576"), 1000)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("append: %w", err)
	}

	// Prepend.
	old, err := os.ReadFile(p("size-1048577"))
	if err != nil {
		return err
	}
	fresh := make([]byte, 100, 100+len(old))
	rngFor(seed, "prepend", "size-1048577").Read(fresh)
	if err := os.WriteFile(p("size-1048577"), append(fresh, old...), 0); err != nil {
		return fmt.Errorf("prepend: %w", err)
	}

	// Scattered small edits in the big file.
	big, err := os.OpenFile(p(BigFileName), os.O_RDWR, 0)
	if err != nil {
		return err
	}
	fi, err := big.Stat()
	if err != nil {
		big.Close()
		return err
	}
	r := rngFor(seed, "edit", BigFileName)
	rr := rand.New(r)
	for i := 0; i < 5 && fi.Size() > 0; i++ {
		n := min(8+rr.Int64N(57), fi.Size())
		off := rr.Int64N(fi.Size() - n + 1)
		buf := make([]byte, n)
		r.Read(buf)
		if _, err := big.WriteAt(buf, off); err != nil {
			big.Close()
			return fmt.Errorf("edit %s at %d: %w", BigFileName, off, err)
		}
	}
	if err := big.Close(); err != nil {
		return err
	}

	// Truncate.
	if err := os.Truncate(p("size-4096"), 1000); err != nil {
		return err
	}

	// Retarget a symlink.
	if err := os.Remove(p("links/relative")); err != nil {
		return err
	}
	if err := os.Symlink("../z", p("links/relative")); err != nil {
		return err
	}

	// Add a file and a directory holding one.
	if err := createRandomFile(p("added.txt"), rngFor(seed, "content", "added.txt"), 5000, 0o644); err != nil {
		return err
	}
	if err := os.Mkdir(p("new"), 0o755); err != nil {
		return err
	}
	if err := createRandomFile(p("new/added.bin"), rngFor(seed, "content", "new/added.bin"), 70000, 0o600); err != nil {
		return err
	}

	// Permissions only.
	if err := os.Chmod(p("group.txt"), 0o604); err != nil {
		return err
	}

	// "a.b" is only touched: its new time comes from setTimes below.
	changed := []string{
		".", "links", "new",
		"size-1048576", "size-1048577", BigFileName, "size-4096",
		"links/relative", "added.txt", "new/added.bin", "a.b",
	}
	return setTimes(dir, seed, 1, changed)
}
