//go:build linux

package flist

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gorsync/gorsync/internal/fastio"
	"golang.org/x/sys/unix"
)

// makeWalkTree builds a source tree with every kind of entry the walk
// treats differently.
func makeWalkTree(t testing.TB, src string) {
	t.Helper()
	for _, d := range []string{"d1/d2/d3", "empty", "vdir", "vdir2/x", "many"} {
		if err := os.MkdirAll(filepath.Join(src, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files := []string{"top", "d1/a", "d1/d2/b", "d1/d2/d3/c", "with\nnewline", "bad\xff\xfeutf8", "vdir/v0", "vdir/v1", "vdir/v2", "vdir/v3"}
	for i := range 300 {
		files = append(files, fmt.Sprintf("many/file-%03d.txt", i))
	}
	for i, f := range files {
		if err := os.WriteFile(filepath.Join(src, f), []byte(strings.Repeat("x", i)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		"rel":      "d1/a",
		"dangling": "nowhere",
		"long":     strings.Repeat("long/", 200),
		"d1/up":    "../top",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(src, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Link(filepath.Join(src, "top"), filepath.Join(src, "d1/hard")); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mkfifo(filepath.Join(src, "fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// walkTree lists src with the batched walk on or off; the first entry seen
// in vdir removes the others, and vdir2 is removed once listed, so the walk
// meets a vanished file and a vanished directory. Directories are listed
// one at a time (no fastio.Parallel), so that vdir's entries are described
// after the removal.
func walkTree(t *testing.T, src string, batch bool) (*List, []string) {
	t.Helper()
	fio := fastio.Defaults().With(fastio.Batch, batch)
	fio = fio.With(fastio.Parallel, false)
	var ps []Problem
	opts := WalkOptions{
		IO:      fio,
		Recurse: true,
		Report:  collect(&ps),
		Exclude: func(name string, isDir bool) bool {
			switch {
			case strings.HasPrefix(name, "vdir/"):
				for i := range 4 {
					if other := fmt.Sprintf("vdir/v%d", i); other != name {
						os.Remove(filepath.Join(src, other))
					}
				}
			case name == "vdir2":
				os.RemoveAll(filepath.Join(src, name))
			}
			return false
		},
	}
	l, err := Build([]string{src + "/"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range ps {
		got = append(got, p.String())
	}
	slices.Sort(got)
	return l, got
}

// TestBatchWalkMatchesPathWalk checks the batched walk (getdents64, fstatat
// on the directory) lists exactly what the path walk lists, in the same
// order with the same attributes, and reports the same problems.
func TestBatchWalkMatchesPathWalk(t *testing.T) {
	base := t.TempDir()
	results := map[bool]*List{}
	problems := map[bool][]string{}
	for _, batch := range []bool{true, false} {
		src := filepath.Join(base, strconv.FormatBool(batch))
		makeWalkTree(t, src)
		l, ps := walkTree(t, src, batch)
		results[batch] = l
		// The trees differ only in their directory name.
		for i, p := range ps {
			ps[i] = strings.ReplaceAll(p, src, "SRC")
		}
		problems[batch] = ps
	}
	want := []string{"directory has vanished: \"SRC/vdir2\""}
	for range 3 {
		want = append(want, "file has vanished: \"SRC/vdir/v")
	}
	for batch, ps := range problems {
		if len(ps) != len(want) {
			t.Errorf("batch=%v problems %q, want %q", batch, ps, want)
			continue
		}
		for i := range want {
			if !strings.HasPrefix(ps[i], want[i]) {
				t.Errorf("batch=%v problems %q, want %q", batch, ps, want)
				break
			}
		}
	}
	on, off := results[true], results[false]
	if on.IOError != off.IOError || on.IOError != IOErrVanished {
		t.Errorf("io_error batch %d, path %d, want %d", on.IOError, off.IOError, IOErrVanished)
	}
	// Entries are compared by name: the two trees' readdir orders may
	// differ, so order is checked below against each tree's own listing.
	byName := func(l *List) map[string]*Entry {
		m := map[string]*Entry{}
		for _, e := range l.Entries {
			m[e.Name()] = e
		}
		return m
	}
	a, b := byName(on), byName(off)
	if len(a) != len(b) || len(on.Entries) != len(off.Entries) {
		t.Fatalf("batch walk listed %d entries, path walk %d", len(on.Entries), len(off.Entries))
	}
	for name, x := range a {
		y, ok := b[name]
		if !ok {
			t.Errorf("%q listed only by the batched walk", name)
			continue
		}
		// The trees were made a moment apart: times may differ.
		if x.Mode != y.Mode || x.Size != y.Size || x.UID != y.UID || x.GID != y.GID || x.Flags != y.Flags {
			t.Errorf("%q differs:\nbatch %+v\n path %+v", name, *x, *y)
		}
	}
	for batch, l := range results {
		checkWalkOrder(t, filepath.Join(base, strconv.FormatBool(batch)), l)
	}
}

// checkWalkOrder asserts that each directory's entries appear in the list
// in the kernel's readdir order, as rsync sends them.
func checkWalkOrder(t *testing.T, src string, l *List) {
	t.Helper()
	seen := map[string][]string{}
	for _, e := range l.Entries {
		if e.Base != "." {
			seen[e.Dir] = append(seen[e.Dir], e.Base)
		}
	}
	for dir, got := range seen {
		f, err := os.Open(filepath.Join(src, dir))
		if err != nil {
			t.Fatal(err)
		}
		names, err := f.Readdirnames(-1)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		// Compare what both still have: the walk removed a few entries.
		names = slices.DeleteFunc(names, func(n string) bool { return !slices.Contains(got, n) })
		got = slices.DeleteFunc(got, func(n string) bool { return !slices.Contains(names, n) })
		if !slices.Equal(got, names) {
			t.Errorf("%s: listed in order %q, readdir order %q", dir, got, names)
		}
	}
}

// walkChildEnv asks TestWalkChild to walk a directory: "count:dir".
const walkChildEnv = "GORSYNC_FLIST_WALK_CHILD"

// TestWalkChild is BenchmarkWalkDir's child process, run under strace to
// count the walk's system calls.
func TestWalkChild(t *testing.T) {
	spec := os.Getenv(walkChildEnv)
	if spec == "" {
		t.Skip("helper process for BenchmarkWalkDir")
	}
	n, dir, _ := strings.Cut(spec, ":")
	count, err := strconv.Atoi(n)
	if err != nil {
		t.Fatal(err)
	}
	fio, err := fastio.ParseConfig(os.Getenv(fastio.Env))
	if err != nil {
		t.Fatal(err)
	}
	for range count {
		if _, err := Build([]string{dir + "/"}, WalkOptions{Recurse: true, IO: fio}); err != nil {
			t.Fatal(err)
		}
	}
}

// fsCalls are the system calls a walk makes on the filesystem; the rest of
// what strace sees in a child is the Go runtime's (futex, nanosleep, mmap,
// signals), whose count varies with scheduling and the garbage collector.
var fsCalls = map[string]bool{
	"openat": true, "openat2": true, "close": true, "fcntl": true, "epoll_ctl": true,
	"getdents64": true, "newfstatat": true, "statx": true, "fstat": true, "lstat": true,
	"stat": true, "readlinkat": true, "readlink": true,
}

// straceCalls runs the test binary's TestWalkChild under strace -c -f and
// returns the number of system calls it made, all and filesystem ones.
func straceCalls(b *testing.B, strace, dir string, count int, batch bool) (all, fs int) {
	b.Helper()
	out := filepath.Join(b.TempDir(), "strace.out")
	cmd := exec.Command(strace, "-f", "-c", "-o", out, os.Args[0], "-test.run=^TestWalkChild$", "-test.count=1")
	onOff := map[bool]string{true: "on", false: "off"}
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d:%s", walkChildEnv, count, dir), fastio.Env+"=batch="+onOff[batch])
	if msg, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("strace child: %v\n%s", err, msg)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		b.Fatal(err)
	}
	// Lines are "% time  seconds  usecs/call  calls  [errors]  syscall",
	// then "total"; calls is the 4th field.
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 5 {
			continue
		}
		n, err := strconv.Atoi(fields[3])
		if err != nil {
			continue
		}
		switch name := fields[len(fields)-1]; {
		case name == "total":
			all = n
		case fsCalls[name]:
			fs += n
		}
	}
	if all == 0 {
		b.Fatalf("no total line in strace's output:\n%s", data)
	}
	return all, fs
}

// BenchmarkWalkDir walks one directory of 1,000 files (the row: a
// 1,000-file directory walk with and without batching) and reports the
// system calls per walk, counted by strace in a child process: the calls of
// 20 walks less those of a child that walks nothing, divided by 20; all of
// them, and the filesystem ones (fsCalls).
func BenchmarkWalkDir(b *testing.B) {
	dir := b.TempDir()
	for i := range 1000 {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("source-file-%04d.go", i)), nil, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	strace, straceErr := exec.LookPath("strace")
	for _, batch := range []bool{true, false} {
		b.Run("batch="+strconv.FormatBool(batch), func(b *testing.B) {
			fio := fastio.Defaults().With(fastio.Batch, batch)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Build([]string{dir + "/"}, WalkOptions{Recurse: true, IO: fio}); err != nil {
					b.Fatal(err)
				}
			}
			if straceErr != nil {
				b.Logf("no syscalls/op: %v", straceErr)
				return
			}
			const walks = 20
			idleAll, idleFS := straceCalls(b, strace, dir, 0, batch)
			busyAll, busyFS := straceCalls(b, strace, dir, walks, batch)
			b.ReportMetric(float64(busyAll-idleAll)/walks, "syscalls/op")
			b.ReportMetric(float64(busyFS-idleFS)/walks, "fs-syscalls/op")
		})
	}
}
