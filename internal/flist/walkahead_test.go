//go:build linux

package flist

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorsync/gorsync/internal/fastio"
)

// makeAheadTree makes directories of many shapes for the walk to list
// ahead: deep chains, wide levels, empty directories, directories of one
// file and of hundreds, symlinks and a fifo among them.
func makeAheadTree(t *testing.T, src string) {
	t.Helper()
	var files []string
	for a := range 6 {
		for b := range a + 1 {
			d := filepath.Join(src, fmt.Sprintf("a%d", a), fmt.Sprintf("b%d", b))
			if err := os.MkdirAll(filepath.Join(d, "deep/er/still"), 0o755); err != nil {
				t.Fatal(err)
			}
			for f := range (a * 37) % 90 {
				files = append(files, filepath.Join(d, fmt.Sprintf("f%03d", f)))
			}
			files = append(files, filepath.Join(d, "deep/er/still/leaf"))
			if err := os.Symlink("t"+strings.Repeat("/x", a+b), filepath.Join(d, "link")); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, d := range []string{"empty", "wide"} {
		if err := os.MkdirAll(filepath.Join(src, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 40 {
		if err := os.Mkdir(filepath.Join(src, "wide", fmt.Sprintf("w%02d", i)), 0o755); err != nil {
			t.Fatal(err)
		}
		files = append(files, filepath.Join(src, "wide", fmt.Sprintf("w%02d", i), "only"))
	}
	for i, f := range files {
		if err := os.WriteFile(f, []byte(strings.Repeat("y", i%100)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mkfifo(filepath.Join(src, "wide", "fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// describe renders a list entry by entry, in order, with what the walk
// read for each.
func describeList(l *List) []string {
	var out []string
	for _, e := range l.Entries {
		out = append(out, fmt.Sprintf("%s %o %d %d.%d %d:%d %x %q", e.Name(), e.Mode, e.Size, e.Mtime, e.MtimeNsec, e.UID, e.GID, e.Flags, e.LinkTarget()))
	}
	return out
}

// TestWalkAheadMatchesSerial checks that listing directories ahead on
// helpers (fastio.Parallel) gives the serial walk's list: the same entries
// in the same order with the same attributes, and the same problems
// (a directory that cannot be opened, a name that cannot be described).
func TestWalkAheadMatchesSerial(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("no helpers with GOMAXPROCS 1")
	}
	dir := t.TempDir()
	makeAheadTree(t, filepath.Join(dir, "src"))
	fs := chdirFaultFS{chdirFS{dir}, faultFS{
		lstat:   map[string]error{"f007": syscall.EACCES, "only": syscall.ENOENT},
		readdir: map[string]error{"b1": syscall.EACCES, "w07": syscall.ENOENT},
	}}
	walk := func(parallel bool) ([]string, []string, int32) {
		fio := fastio.Defaults().With(fastio.Batch, true)
		fio = fio.With(fastio.Parallel, parallel)
		var ps []Problem
		l, err := Build([]string{"src/"}, WalkOptions{Recurse: true, FS: fs, Cwd: dir, Report: collect(&ps), IO: fio})
		if err != nil {
			t.Fatal(err)
		}
		var probs []string
		for _, p := range ps {
			probs = append(probs, p.String())
		}
		return describeList(l), probs, l.IOError
	}
	want, wantProbs, wantErr := walk(false)
	if len(want) < 500 || len(wantProbs) < 10 {
		t.Fatalf("the serial walk listed %d entries with %d problems: not the tree meant", len(want), len(wantProbs))
	}
	for range 5 {
		got, probs, ioErr := walk(true)
		if !slices.Equal(got, want) {
			t.Fatalf("listing ahead: %d entries differ from the serial walk's %d", len(got), len(want))
		}
		if !slices.Equal(probs, wantProbs) || ioErr != wantErr {
			t.Fatalf("listing ahead: problems %q (io_error %d), serial walk %q (%d)", probs, ioErr, wantProbs, wantErr)
		}
	}
}

// TestWalkAheadStops ends a walk early (the consumer of Added fails, as a
// broken connection does) while helpers are listing ahead: Build returns
// the error, and the helpers end.
func TestWalkAheadStops(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	makeAheadTree(t, src)
	fio := fastio.Defaults().With(fastio.Batch, true)
	fio = fio.With(fastio.Parallel, true)
	before := runtime.NumGoroutine()
	broken := errors.New("broken pipe")
	for _, stopAt := range []int{1, 2, 50, 300} {
		n := 0
		_, err := Build([]string{src + "/"}, WalkOptions{Recurse: true, IO: fio, Added: func(*Entry) error {
			if n++; n == stopAt {
				return broken
			}
			return nil
		}})
		if !errors.Is(err, broken) {
			t.Errorf("stopped at entry %d: Build returned %v", stopAt, err)
		}
		if n != stopAt {
			t.Errorf("stopped at entry %d: Added called %d times", stopAt, n)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after the walks, %d before", n, before)
	}
}

// BenchmarkWalkAhead walks a tree of 200 directories (two levels) of 50
// files, with the directories listed ahead on helpers (fastio.Parallel) and
// one by one; ns/op is the walk's wall time, which the helpers shorten only
// where a core is free.
func BenchmarkWalkAhead(b *testing.B) {
	src := b.TempDir()
	for d := range 200 {
		dir := filepath.Join(src, fmt.Sprintf("g%02d", d/20), fmt.Sprintf("d%03d", d))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		for f := range 50 {
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("file-%02d.c", f)), nil, 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
	for _, parallel := range []bool{true, false} {
		b.Run(fmt.Sprintf("parallel=%v", parallel), func(b *testing.B) {
			fio := fastio.Defaults().With(fastio.Batch, true)
			fio = fio.With(fastio.Parallel, parallel)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Build([]string{src + "/"}, WalkOptions{Recurse: true, IO: fio}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestWalkAheadUring checks that the directories listed ahead with their
// entries stat'ed in one io_uring batch (fastio.Uring) give the same list
// as one fstatat per entry, and that the batch was used.
func TestWalkAheadUring(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("no helpers with GOMAXPROCS 1")
	}
	src := filepath.Join(t.TempDir(), "src")
	makeAheadTree(t, src)
	if err := os.Symlink("../some/target", filepath.Join(src, "link")); err != nil {
		t.Fatal(err)
	}
	fio := fastio.Defaults().With(fastio.Batch, true)
	fio = fio.With(fastio.Parallel, true)
	walk := func(uring bool) []string {
		l, err := Build([]string{src + "/"}, WalkOptions{Recurse: true, IO: fio.With(fastio.Uring, uring)})
		if err != nil {
			t.Fatal(err)
		}
		return describeList(l)
	}
	want := walk(false)
	// The helpers list ahead only when the scheduler runs them before the
	// walk reaches the directory itself; on a loaded machine a walk may
	// list every directory alone, so a few walks are allowed.
	batched := false
	for range 20 {
		before := batchStats.Load()
		got := walk(true)
		if !slices.Equal(got, want) {
			t.Fatalf("batched stats: %d entries differ from fstatat's %d", len(got), len(want))
		}
		if batchStats.Load() != before {
			batched = true
			break
		}
	}
	if !batched {
		t.Fatal("no directory was stat'ed in a batch")
	}
	if err := fastio.UringError(); err != nil {
		t.Logf("io_uring unavailable, the batch fell back to statx per name: %v", err)
	}
}
