package rsynctest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// CompareOptions says which metadata CompareTrees, DiffTrees and TreeDigest
// check. Entry presence, type, size, content, symlink target and device
// numbers are always checked.
type CompareOptions struct {
	// Perms compares mode & 07777 of everything except symlinks.
	Perms bool
	// Times compares the mtime of regular files, FIFOs, sockets and devices.
	Times bool
	// DirTimes compares the mtime of directories, including the roots.
	DirTimes bool
	// SymlinkTimes compares the mtime of symlinks themselves.
	SymlinkTimes bool
	// TimeGranularity truncates both mtimes before comparing them; zero means
	// exact to the nanosecond, time.Second suits protocols before 31.
	TimeGranularity time.Duration
	// Owner compares uids; Group compares gids.
	Owner, Group bool
	// HardLinks checks that the same paths are hard-linked together in both
	// trees.
	HardLinks bool
	// Ignore, if set, drops the entries (relative, slash-separated paths) for
	// which it returns true; a directory dropped this way is not descended.
	Ignore func(rel string) bool
	// MaxDiffs caps how many differences CompareTrees reports individually;
	// zero means 20.
	MaxDiffs int
}

// Archive returns the options matching what rsync -a (plus -H when
// hardLinks) preserves on Linux: permissions, all mtimes, owner and group.
func Archive(hardLinks bool) CompareOptions {
	return CompareOptions{
		Perms: true, Times: true, DirTimes: true, SymlinkTimes: true,
		Owner: true, Group: true, HardLinks: hardLinks,
	}
}

// DiffKind names which property of an entry differs.
type DiffKind string

// The kinds of difference DiffTrees reports.
const (
	DiffMissing  DiffKind = "missing"  // in want, not in got
	DiffExtra    DiffKind = "extra"    // in got, not in want
	DiffType     DiffKind = "type"     // file type differs
	DiffSize     DiffKind = "size"     // regular file size differs
	DiffContent  DiffKind = "content"  // same size, different bytes
	DiffPerm     DiffKind = "perm"     // mode & 07777 differs
	DiffMtime    DiffKind = "mtime"    // modification time differs
	DiffTarget   DiffKind = "target"   // symlink target differs
	DiffUID      DiffKind = "uid"      // owner differs
	DiffGID      DiffKind = "gid"      // group differs
	DiffRdev     DiffKind = "rdev"     // device numbers differ
	DiffHardLink DiffKind = "hardlink" // hard-link grouping differs
)

// Diff is one difference between two trees.
type Diff struct {
	Path      string // relative, slash-separated; "." is the root
	Kind      DiffKind
	Want, Got string // human-readable values; empty when not applicable
}

// String formats the difference as "path: kind: want X, got Y".
func (d Diff) String() string {
	if d.Want == "" && d.Got == "" {
		return fmt.Sprintf("%s: %s", d.Path, d.Kind)
	}
	return fmt.Sprintf("%s: %s: want %s, got %s", d.Path, d.Kind, d.Want, d.Got)
}

// treeInfo is what a comparison needs of one entry.
type treeInfo struct {
	mode   uint32 // st_mode
	size   int64
	mtime  syscall.Timespec
	uid    uint32
	gid    uint32
	rdev   uint64
	dev    uint64
	ino    uint64
	nlink  uint64
	target string
}

func (e *treeInfo) typ() uint32 { return e.mode & syscall.S_IFMT }

// scanTree lstats every entry below root (and root itself as ".").
func scanTree(root string, ignore func(string) bool) (map[string]*treeInfo, error) {
	out := make(map[string]*treeInfo)
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel != "." && ignore != nil && ignore(rel) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		var st syscall.Stat_t
		if err := syscall.Lstat(path, &st); err != nil {
			return &fs.PathError{Op: "lstat", Path: path, Err: err}
		}
		e := &treeInfo{
			mode: st.Mode, size: st.Size, mtime: st.Mtim,
			uid: st.Uid, gid: st.Gid, rdev: st.Rdev,
			dev: st.Dev, ino: st.Ino, nlink: uint64(st.Nlink),
		}
		if e.typ() == syscall.S_IFLNK {
			if e.target, err = os.Readlink(path); err != nil {
				return err
			}
		}
		out[rel] = e
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", root, err)
	}
	return out, nil
}

// typeName names a file type for messages.
func typeName(mode uint32) string {
	switch mode & syscall.S_IFMT {
	case syscall.S_IFREG:
		return "file"
	case syscall.S_IFDIR:
		return "dir"
	case syscall.S_IFLNK:
		return "symlink"
	case syscall.S_IFIFO:
		return "fifo"
	case syscall.S_IFSOCK:
		return "socket"
	case syscall.S_IFCHR:
		return "chardev"
	case syscall.S_IFBLK:
		return "blockdev"
	}
	return fmt.Sprintf("type %#o", mode&syscall.S_IFMT)
}

// checksTime says whether opts compares the mtime of an entry of this type.
func checksTime(opts *CompareOptions, mode uint32) bool {
	switch mode & syscall.S_IFMT {
	case syscall.S_IFDIR:
		return opts.DirTimes
	case syscall.S_IFLNK:
		return opts.SymlinkTimes
	}
	return opts.Times
}

// truncTime returns ts as a time.Time truncated to granularity g.
func truncTime(ts syscall.Timespec, g time.Duration) time.Time {
	tm := time.Unix(ts.Sec, ts.Nsec).UTC()
	if g > 0 {
		tm = tm.Truncate(g)
	}
	return tm
}

func fmtTime(tm time.Time) string { return tm.Format("2006-01-02T15:04:05.000000000Z") }

// DiffTrees lists every difference between the trees rooted at want and got,
// in path order; it walks with lstat and never follows symlinks.
func DiffTrees(want, got string, opts CompareOptions) ([]Diff, error) {
	w, err := scanTree(want, opts.Ignore)
	if err != nil {
		return nil, err
	}
	g, err := scanTree(got, opts.Ignore)
	if err != nil {
		return nil, err
	}
	paths := make([]string, 0, len(w)+len(g))
	for p := range w {
		paths = append(paths, p)
	}
	for p := range g {
		if _, ok := w[p]; !ok {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)

	var diffs []Diff
	add := func(p string, k DiffKind, want, got string) {
		diffs = append(diffs, Diff{Path: p, Kind: k, Want: want, Got: got})
	}
	var buf1, buf2 []byte
	for _, p := range paths {
		we, wok := w[p]
		ge, gok := g[p]
		switch {
		case !gok:
			add(p, DiffMissing, typeName(we.mode), "")
			continue
		case !wok:
			add(p, DiffExtra, "", typeName(ge.mode))
			continue
		}
		if we.typ() != ge.typ() {
			add(p, DiffType, typeName(we.mode), typeName(ge.mode))
			continue
		}
		switch we.typ() {
		case syscall.S_IFREG:
			if we.size != ge.size {
				add(p, DiffSize, fmt.Sprint(we.size), fmt.Sprint(ge.size))
			} else {
				if buf1 == nil {
					buf1, buf2 = make([]byte, 1<<20), make([]byte, 1<<20)
				}
				off, err := firstDifference(filepath.Join(want, p), filepath.Join(got, p), buf1, buf2)
				if err != nil {
					return nil, err
				}
				if off >= 0 {
					add(p, DiffContent, "", fmt.Sprintf("first difference at byte %d", off))
				}
			}
		case syscall.S_IFLNK:
			if we.target != ge.target {
				add(p, DiffTarget, fmt.Sprintf("%q", we.target), fmt.Sprintf("%q", ge.target))
			}
		case syscall.S_IFCHR, syscall.S_IFBLK:
			if we.rdev != ge.rdev {
				add(p, DiffRdev, fmtDev(we.rdev), fmtDev(ge.rdev))
			}
		}
		if opts.Perms && we.typ() != syscall.S_IFLNK && we.mode&0o7777 != ge.mode&0o7777 {
			add(p, DiffPerm, fmt.Sprintf("%04o", we.mode&0o7777), fmt.Sprintf("%04o", ge.mode&0o7777))
		}
		if checksTime(&opts, we.mode) {
			wt, gt := truncTime(we.mtime, opts.TimeGranularity), truncTime(ge.mtime, opts.TimeGranularity)
			if !wt.Equal(gt) {
				add(p, DiffMtime, fmtTime(wt), fmtTime(gt))
			}
		}
		if opts.Owner && we.uid != ge.uid {
			add(p, DiffUID, fmt.Sprint(we.uid), fmt.Sprint(ge.uid))
		}
		if opts.Group && we.gid != ge.gid {
			add(p, DiffGID, fmt.Sprint(we.gid), fmt.Sprint(ge.gid))
		}
	}
	if opts.HardLinks {
		diffs = append(diffs, hardLinkDiffs(w, g)...)
	}
	return diffs, nil
}

func fmtDev(d uint64) string { return fmt.Sprintf("%d,%d", unix.Major(d), unix.Minor(d)) }

// hardLinkDiffs reports paths linked together on one side only. Each group
// is checked against its first member, so a broken group yields one
// difference per stray member.
func hardLinkDiffs(w, g map[string]*treeInfo) []Diff {
	var diffs []Diff
	// check finds groups linked in a but not in b; inWant says which side a is.
	check := func(a, b map[string]*treeInfo, inWant bool) {
		groups := make(map[[2]uint64][]string)
		for p, e := range a {
			if e.typ() != syscall.S_IFDIR && e.nlink > 1 {
				k := [2]uint64{e.dev, e.ino}
				groups[k] = append(groups[k], p)
			}
		}
		for _, members := range groups {
			if len(members) < 2 {
				continue
			}
			sort.Strings(members)
			first, ok := b[members[0]]
			for _, m := range members[1:] {
				other, ok2 := b[m]
				if !ok || !ok2 {
					continue // already reported as missing or extra
				}
				if first.dev == other.dev && first.ino == other.ino {
					continue
				}
				d := Diff{Path: m, Kind: DiffHardLink, Want: "linked to " + members[0], Got: "not linked to it"}
				if !inWant {
					d.Want, d.Got = "not linked to "+members[0], "linked to it"
				}
				diffs = append(diffs, d)
			}
		}
	}
	check(w, g, true)
	check(g, w, false)
	sort.SliceStable(diffs, func(i, j int) bool { return diffs[i].Path < diffs[j].Path })
	return diffs
}

// firstDifference streams two equal-sized files and returns the offset of
// their first differing byte, or -1 if they are identical.
func firstDifference(a, b string, buf1, buf2 []byte) (int64, error) {
	fa, err := os.Open(a)
	if err != nil {
		return 0, err
	}
	defer fa.Close()
	fb, err := os.Open(b)
	if err != nil {
		return 0, err
	}
	defer fb.Close()
	var off int64
	for {
		n1, err1 := io.ReadFull(fa, buf1)
		n2, err2 := io.ReadFull(fb, buf2)
		if err1 != nil && err1 != io.EOF && err1 != io.ErrUnexpectedEOF {
			return 0, fmt.Errorf("read %s: %w", a, err1)
		}
		if err2 != nil && err2 != io.EOF && err2 != io.ErrUnexpectedEOF {
			return 0, fmt.Errorf("read %s: %w", b, err2)
		}
		n := min(n1, n2)
		if !bytes.Equal(buf1[:n], buf2[:n]) {
			for i := 0; i < n; i++ {
				if buf1[i] != buf2[i] {
					return off + int64(i), nil
				}
			}
		}
		if n1 != n2 {
			return off + int64(n), nil // a file changed size while being read
		}
		if n1 < len(buf1) {
			return -1, nil
		}
		off += int64(n)
	}
}

// CompareTrees fails t with every difference between the trees rooted at want
// and got (up to opts.MaxDiffs listed, the rest counted), each with its path.
func CompareTrees(t testing.TB, want, got string, opts CompareOptions) {
	t.Helper()
	diffs, err := DiffTrees(want, got, opts)
	if err != nil {
		t.Fatalf("compare trees: %v", err)
	}
	if len(diffs) == 0 {
		return
	}
	limit := opts.MaxDiffs
	if limit <= 0 {
		limit = 20
	}
	var b strings.Builder
	fmt.Fprintf(&b, "trees differ (want %s, got %s): %d differences", want, got, len(diffs))
	for i, d := range diffs {
		if i == limit {
			fmt.Fprintf(&b, "\n\t... and %d more", len(diffs)-limit)
			break
		}
		fmt.Fprintf(&b, "\n\t%s", d)
	}
	t.Error(b.String())
}

// TreeDigest returns a hex SHA-256 over the tree rooted at dir: every entry's
// path, type, size, content, symlink target and device numbers, plus the
// metadata opts selects, so two trees equal under opts have equal digests.
func TreeDigest(dir string, opts CompareOptions) (string, error) {
	entries, err := scanTree(dir, opts.Ignore)
	if err != nil {
		return "", err
	}
	paths := make([]string, 0, len(entries))
	for p := range entries {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	linkLeader := make(map[[2]uint64]string)
	h := sha256.New()
	buf := make([]byte, 1<<20)
	for _, p := range paths {
		e := entries[p]
		fmt.Fprintf(h, "%q %s", p, typeName(e.mode))
		switch e.typ() {
		case syscall.S_IFREG:
			fh := sha256.New()
			f, err := os.Open(filepath.Join(dir, p))
			if err != nil {
				return "", err
			}
			_, err = io.CopyBuffer(fh, f, buf)
			f.Close()
			if err != nil {
				return "", fmt.Errorf("digest %s: %w", p, err)
			}
			fmt.Fprintf(h, " size=%d sha256=%x", e.size, fh.Sum(nil))
		case syscall.S_IFLNK:
			fmt.Fprintf(h, " target=%q", e.target)
		case syscall.S_IFCHR, syscall.S_IFBLK:
			fmt.Fprintf(h, " rdev=%s", fmtDev(e.rdev))
		}
		if opts.Perms && e.typ() != syscall.S_IFLNK {
			fmt.Fprintf(h, " perm=%04o", e.mode&0o7777)
		}
		if checksTime(&opts, e.mode) {
			fmt.Fprintf(h, " mtime=%s", fmtTime(truncTime(e.mtime, opts.TimeGranularity)))
		}
		if opts.Owner {
			fmt.Fprintf(h, " uid=%d", e.uid)
		}
		if opts.Group {
			fmt.Fprintf(h, " gid=%d", e.gid)
		}
		if opts.HardLinks && e.typ() != syscall.S_IFDIR && e.nlink > 1 {
			k := [2]uint64{e.dev, e.ino}
			if l, ok := linkLeader[k]; ok {
				fmt.Fprintf(h, " link=%q", l)
			} else {
				linkLeader[k] = p
			}
		}
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
