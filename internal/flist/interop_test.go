//go:build linux

package flist

import (
	"bytes"
	"crypto/md5"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	//lint:ignore SA1019 upstream batch files at protocols before 30 carry MD4 sums.
	"golang.org/x/crypto/md4"
	"golang.org/x/sys/unix"

	"github.com/gorsync/gorsync/internal/rsynctest"
	"github.com/gorsync/gorsync/internal/wire"
)

// tree builds the interop source tree under dir/src and returns its path.
// Names are chosen to exercise f_name_cmp ("a", "a.b", "a-b", "a b", the
// directory "a" with "a/b"), prefix compression, long names, every file
// type, nanosecond and far-future mtimes, and (as root) owners and devices.
func tree(t *testing.T, dir string, big bool) string {
	t.Helper()
	src := filepath.Join(dir, "src")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	file := func(name string, size int, mode os.FileMode) {
		p := filepath.Join(src, name)
		must(os.MkdirAll(filepath.Dir(p), 0o755))
		must(os.WriteFile(p, bytes.Repeat([]byte{byte(len(name))}, size), mode))
		must(os.Chmod(p, mode))
	}
	must(os.MkdirAll(src, 0o755))
	file("a.b", 10, 0o644)
	file("a-b", 100, 0o600)
	file("a b", 0, 0o644)
	file("a/b", 1000, 0o755)
	file("a/c/d", 1, 0o640)
	file("é", 12345, 0o644)
	file(".hidden", 7, 0o644)
	file("ab", 70000, 0o444)
	file("sub/one", 3, 0o644)
	file("sub/two", 4, 0o644)
	must(os.MkdirAll(filepath.Join(src, "empty/nested/deeper"), 0o700))
	long := filepath.Join(strings.Repeat("D", 250), strings.Repeat("E", 250))
	file(filepath.Join(long, strings.Repeat("F", 250)), 5, 0o644)
	must(os.Symlink("a.b", filepath.Join(src, "rel-link")))
	must(os.Symlink("/etc/hostname", filepath.Join(src, "abs-link")))
	must(os.Symlink("nowhere/at/all", filepath.Join(src, "dangling")))
	must(os.Symlink("../a", filepath.Join(src, "sub/up-link")))
	must(unix.Mkfifo(filepath.Join(src, "fifo"), 0o644))
	must(os.Link(filepath.Join(src, "sub/one"), filepath.Join(src, "hard1")))
	must(os.Link(filepath.Join(src, "sub/one"), filepath.Join(src, "a/hard2")))
	l, err := net.Listen("unix", filepath.Join(src, "sock"))
	must(err)
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	if big {
		f, err := os.Create(filepath.Join(src, "big"))
		must(err)
		must(f.Truncate(5 << 30))
		f.Close()
	}
	if os.Geteuid() == 0 {
		must(unix.Mknod(filepath.Join(src, "chr"), unix.S_IFCHR|0o600, int(unix.Mkdev(1, 3))))
		must(unix.Mknod(filepath.Join(src, "blk"), unix.S_IFBLK|0o600, int(unix.Mkdev(7, 300))))
		must(unix.Mknod(filepath.Join(src, "chr2"), unix.S_IFCHR|0o600, int(unix.Mkdev(300, 70000))))
		must(os.Lchown(filepath.Join(src, "a.b"), 65534, 65534))
		must(os.Lchown(filepath.Join(src, "a-b"), 1000, 12345))
		must(os.Lchown(filepath.Join(src, "sub"), 4242, 1000))
		must(os.Lchown(filepath.Join(src, "rel-link"), 1000, 1000))
	}
	// Times last, deepest first, so creating children does not bump them.
	var paths []string
	filepath.Walk(src, func(p string, _ os.FileInfo, err error) error {
		must(err)
		paths = append(paths, p)
		return nil
	})
	for i := len(paths) - 1; i >= 0; i-- {
		sec := int64(1500000000 + i*1000)
		nsec := int64(i * 123457)
		switch filepath.Base(paths[i]) {
		case "ab":
			sec = 1<<32 + 5 // beyond 2106: truncated before protocol 30
		case "a b":
			nsec = 0
		case "a-b":
			sec = 1500000000 // same time as another entry
		}
		ts := []unix.Timespec{{Sec: sec, Nsec: nsec}, {Sec: sec, Nsec: nsec}}
		must(unix.UtimesNanoAt(unix.AT_FDCWD, paths[i], ts, unix.AT_SYMLINK_NOFOLLOW))
	}
	return src
}

// batchCase is one upstream invocation whose batch file we decode.
type batchCase struct {
	name  string
	flags []string
	args  []string // relative to the tree's parent
	opts  Options
	walk  WalkOptions
	exit  int // upstream's expected exit code
}

// readBatch runs upstream rsync with --only-write-batch and returns the
// header's protocol and compat flags and the stream after the header.
func readBatch(t *testing.T, rsync, dir string, proto int, c batchCase) (int, int, []byte) {
	t.Helper()
	batch := filepath.Join(t.TempDir(), "batch")
	args := append([]string{"--no-inc-recursive", "--max-size=100k", fmt.Sprintf("--protocol=%d", proto), "--only-write-batch=" + batch}, c.flags...)
	args = append(args, c.args...)
	args = append(args, filepath.Join(t.TempDir(), "dst")+"/")
	cmd := exec.Command(rsync, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != c.exit {
		t.Fatalf("rsync %v: %v (want exit %d)\n%s", args, err, c.exit, out)
	}
	data, err := os.ReadFile(batch)
	if err != nil {
		t.Fatal(err)
	}
	r := wire.NewReader(bytes.NewReader(data))
	if _, err := r.ReadInt(); err != nil { // stream flags
		t.Fatal(err)
	}
	p, err := r.ReadInt()
	if err != nil {
		t.Fatal(err)
	}
	hdr := 8
	compat := int32(0)
	if p >= 30 {
		if compat, err = r.ReadVarint(); err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		w := wire.NewWriter(&b)
		w.WriteVarint(compat)
		w.Flush()
		hdr += b.Len()
	}
	hdr += 4 // checksum seed
	return int(p), int(compat), data[hdr:]
}

func md5Sum(f *os.File) ([]byte, error) {
	return fileSum(md5.New(), f)
}

func md4Sum(f *os.File) ([]byte, error) {
	return fileSum(md4.New(), f)
}

// fileSum sums the open file f, which it closes.
func fileSum(h interface {
	io.Writer
	Sum([]byte) []byte
}, f *os.File) ([]byte, error) {
	defer f.Close()
	if _, err := io.Copy(h, f); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}

func batchCases() []batchCase {
	all := Options{Recurse: true, PreserveUID: true, PreserveGID: true, PreserveLinks: true, PreserveDevices: true, PreserveSpecials: true}
	rec := WalkOptions{Recurse: true}
	withH := all
	withH.PreserveHardLinks = true
	withC := all
	withC.AlwaysChecksum = true
	withC.ChecksumLen = 16
	numeric := all
	numeric.NumericIDs = true
	return []batchCase{
		{name: "archive", flags: []string{"-a"}, args: []string{"src/"}, opts: all, walk: rec},
		{name: "archive-noslash", flags: []string{"-a"}, args: []string{"src"}, opts: all, walk: rec},
		{name: "hardlinks", flags: []string{"-aH"}, args: []string{"src/"}, opts: withH, walk: WalkOptions{Recurse: true, HardLinks: true}},
		{name: "numeric", flags: []string{"-a", "--numeric-ids"}, args: []string{"src/"}, opts: numeric, walk: rec},
		{name: "checksum", flags: []string{"-ac"}, args: []string{"src/sub/", "src/a", "src/a.b"}, opts: withC, walk: rec},
		{name: "recurse-only", flags: []string{"-r"}, args: []string{"src/"}, opts: Options{Recurse: true}, walk: rec},
		{name: "dirs", flags: []string{"-dlt"}, args: []string{"src/", "src/sub", "src/a.b"}, opts: Options{PreserveLinks: true}, walk: WalkOptions{Dirs: true}},
		{name: "multi", flags: []string{"-a"}, args: []string{"src/sub", "src/a/", "src/é", "src/sub/one", "src/missing"}, opts: all, walk: rec, exit: 23},
	}
}

// TestBatchInterop decodes upstream rsync's file lists (from batch files)
// for every protocol and compares them with our walk of the same tree,
// then encodes our walk and compares the bytes with upstream's.
func TestBatchInterop(t *testing.T) {
	rsync := rsynctest.RequireRsync(t)
	dir := t.TempDir()
	tree(t, dir, true)
	for _, c := range batchCases() {
		for proto := MinProtocol; proto <= MaxProtocol; proto++ {
			t.Run(fmt.Sprintf("%s/%d", c.name, proto), func(t *testing.T) {
				p, compat, stream := readBatch(t, rsync, dir, proto, c)
				if p != proto {
					t.Fatalf("batch protocol %d, want %d", p, proto)
				}
				opts := c.opts
				opts.Protocol, opts.CompatFlags = proto, compat
				walkOpts := c.walk
				walkOpts.Cwd = dir
				walkOpts.FS = chdirFS{dir}
				if opts.AlwaysChecksum {
					walkOpts.ChecksumLen = 16
					sum := md5Sum
					if proto < 30 {
						sum = md4Sum
					}
					walkOpts.Checksum = func(fd int) ([]byte, error) { return sum(os.NewFile(uintptr(fd), "sum")) }
				}
				list, err := Build(c.args, walkOpts)
				if err != nil {
					t.Fatal(err)
				}

				// Decode upstream's list, in sending order.
				dec, err := NewDecoder(opts)
				if err != nil {
					t.Fatal(err)
				}
				r := wire.NewReader(bytes.NewReader(stream))
				dec.StartList(0)
				for {
					_, end, err := dec.ReadEntry(r)
					if err != nil {
						t.Fatalf("decode upstream list: %v", err)
					}
					if end {
						break
					}
				}
				if err := dec.ReadIDLists(r); err != nil {
					t.Fatalf("decode id lists: %v", err)
				}
				got := dec.Entries()
				compareEntries(t, opts, list.Entries, got)
				if dec.IOError() != 0 && proto >= 30 {
					t.Errorf("io_error %d in end marker", dec.IOError())
				}

				// Encode ours and compare bytes.
				var buf bytes.Buffer
				w := wire.NewWriter(&buf)
				enc, err := NewEncoder(opts, nil)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range list.Entries {
					if err := enc.WriteEntry(w, e); err != nil {
						t.Fatal(err)
					}
				}
				if _, err := enc.WriteListEnd(w, list.IOError); err != nil {
					t.Fatal(err)
				}
				w.Flush()
				ours := buf.Bytes()
				if len(ours) > len(stream) || !bytes.Equal(ours, stream[:len(ours)]) {
					i := 0
					for i < len(ours) && i < len(stream) && ours[i] == stream[i] {
						i++
					}
					t.Fatalf("encoded list differs from upstream at byte %d of %d:\nours:     % x\nupstream: % x",
						i, len(ours), window(ours, i), window(stream, i))
				}

				// Both sides sort into the same order.
				theirs := &List{Entries: append([]*Entry(nil), got...)}
				theirs.SortAndClean(proto, true)
				list.SortAndClean(proto, false)
				for i := range list.Entries {
					if a, b := list.Entries[i].Name(), theirs.Entries[i].Name(); a != b {
						t.Fatalf("sorted entry %d: ours %q, upstream %q", i, a, b)
					}
				}
			})
		}
	}
}

func window(b []byte, i int) []byte {
	lo, hi := max(0, i-8), min(len(b), i+24)
	return b[lo:hi]
}

// chdirFS resolves relative paths against dir, standing in for the
// working directory rsync ran in.
type chdirFS struct{ dir string }

func (c chdirFS) abs(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.dir, p)
}
func (c chdirFS) Lstat(p string) (Stat, error)      { return OSFS{}.Lstat(c.abs(p)) }
func (c chdirFS) Stat(p string) (Stat, error)       { return OSFS{}.Stat(c.abs(p)) }
func (c chdirFS) Readlink(p string) (string, error) { return OSFS{}.Readlink(c.abs(p)) }
func (c chdirFS) OpenDir(p string, follow bool) (Dir, error) {
	return OSFS{}.OpenDir(c.abs(p), follow)
}
func (c chdirFS) OpenFile(p string) (int, error) { return OSFS{}.OpenFile(c.abs(p)) }

// compareEntries checks our walk against upstream's decoded list, entry by
// entry in sending order, for every attribute the options carry.
func compareEntries(t *testing.T, o Options, ours, theirs []*Entry) {
	t.Helper()
	if len(ours) != len(theirs) {
		var a, b []string
		for _, e := range ours {
			a = append(a, e.Name())
		}
		for _, e := range theirs {
			b = append(b, e.Name())
		}
		t.Fatalf("%d entries, upstream sent %d:\nours:     %q\nupstream: %q", len(ours), len(theirs), a, b)
	}
	for i, a := range ours {
		b := theirs[i]
		name := a.Name()
		check := func(what string, x, y any) {
			t.Helper()
			if x != y {
				t.Errorf("entry %d %q: %s = %v, upstream %v", i, name, what, x, y)
			}
		}
		check("name", name, b.Name())
		check("mode", fmt.Sprintf("0%o", a.Mode), fmt.Sprintf("0%o", b.Mode))
		if !a.IsDevice() && !a.IsSpecial() {
			check("size", a.Size, b.Size)
		}
		mtime := a.Mtime
		if o.Protocol < 30 {
			mtime = int64(uint32(mtime))
		}
		check("mtime", mtime, b.Mtime)
		if o.Protocol >= 31 {
			check("mtime nsec", a.MtimeNsec, b.MtimeNsec)
		}
		if o.PreserveLinks && a.IsSymlink() {
			check("link target", a.LinkTarget(), b.LinkTarget())
		}
		if o.PreserveDevices && a.IsDevice() {
			amaj, amin := a.Rdev()
			bmaj, bmin := b.Rdev()
			check("rdev", [2]uint32{amaj, amin}, [2]uint32{bmaj, bmin})
		}
		if o.PreserveUID {
			check("uid", a.UID, b.UID)
		}
		if o.PreserveGID {
			check("gid", a.GID, b.GID)
		}
		if o.AlwaysChecksum && a.IsRegular() {
			check("sum", fmt.Sprintf("%x", a.Sum()), fmt.Sprintf("%x", b.Sum()))
		}
		if a.IsDir() {
			const dirFlags = FlagTopDir | FlagContentDir | FlagImpliedDir
			check("dir flags", a.Flags&dirFlags, b.Flags&dirFlags)
		}
	}
}

// unescape undoes rsync's \#ooo escaping of unprintable name bytes.
func unescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 < len(s) && s[i+1] == '#' {
			var v byte
			for _, c := range s[i+2 : i+5] {
				v = v*8 + byte(c-'0')
			}
			b.WriteByte(v)
			i += 4
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// TestSortMatchesListOnly compares our sorted walk with the order upstream
// lists the same tree in, which is its sorted file list.
func TestSortMatchesListOnly(t *testing.T) {
	rsync := rsynctest.RequireRsync(t)
	dir := t.TempDir()
	tree(t, dir, false)
	for proto := MinProtocol; proto <= MaxProtocol; proto++ {
		t.Run(fmt.Sprint(proto), func(t *testing.T) {
			cmd := exec.Command(rsync, "-r", "--no-inc-recursive", fmt.Sprintf("--protocol=%d", proto), "--list-only", "src/")
			cmd.Dir = dir
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("rsync --list-only: %v", err)
			}
			var want []string
			for _, line := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
				// perms size date time name
				f := strings.SplitN(line, " ", 2)
				rest := strings.TrimLeft(f[1], " ")
				for range 3 {
					rest = strings.TrimLeft(rest[strings.IndexByte(rest, ' '):], " ")
				}
				if i := strings.Index(rest, " -> "); i >= 0 && line[0] == 'l' {
					rest = rest[:i]
				}
				want = append(want, unescape(rest))
			}
			list, err := Build([]string{"src/"}, WalkOptions{Recurse: true, FS: chdirFS{dir}, Cwd: dir})
			if err != nil {
				t.Fatal(err)
			}
			list.SortAndClean(proto, false)
			var got []string
			for _, e := range list.Entries {
				got = append(got, e.Name())
			}
			if !slices.Equal(got, want) {
				t.Errorf("order differs:\n ours     %q\n upstream %q", got, want)
			}
		})
	}
}
