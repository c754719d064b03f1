//go:build linux

package fastio

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// manyFiles makes n files of 0 to 9,999 bytes in a new directory, plus a
// subdirectory and a symlink, and returns the directory, its descriptor
// and the names to look up: every file, the two extras, missing names and
// a name with a NUL byte.
func manyFiles(tb testing.TB, n int) (string, int, []string) {
	tb.Helper()
	dir := tb.TempDir()
	var names []string
	for i := range n {
		name := fmt.Sprintf("f%04d", i)
		data := bytes.Repeat([]byte{byte(i)}, i*37%10000)
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			tb.Fatal(err)
		}
		names = append(names, name)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.Symlink("f0001", filepath.Join(dir, "link")); err != nil {
		tb.Fatal(err)
	}
	names = append(names, "sub", "link", "missing", "sub/missing", "nul\x00name", "")
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { unix.Close(fd) })
	return dir, fd, names
}

// errText renders errors for comparison across the two paths.
func errText(errs []error) []string {
	s := make([]string, len(errs))
	for i, err := range errs {
		if err != nil {
			s[i] = err.Error()
		}
	}
	return s
}

func requireUring(t *testing.T) {
	t.Helper()
	if r := Defaults().With(Uring, true).getRing(); r == nil {
		t.Skipf("io_uring unavailable here: %v", UringError())
	} else {
		putRing(r, nil)
	}
}

func TestStatManyPaths(t *testing.T) {
	fio := Defaults().With(Uring, true)
	requireUring(t)
	_, dirfd, names := manyFiles(t, 1000)
	for _, flags := range []int{0, unix.AT_SYMLINK_NOFOLLOW} {
		ring := make([]unix.Statx_t, len(names))
		before := uringEnters.Load()
		ringErrs := fio.StatMany(dirfd, names, flags, ring)
		if uringEnters.Load() == before {
			t.Fatal("the uring path made no io_uring_enter")
		}
		plain := make([]unix.Statx_t, len(names))
		plainErrs := fio.With(Uring, false).StatMany(dirfd, names, flags, plain)
		re, pe := errText(ringErrs), errText(plainErrs)
		for i := range names {
			if re[i] != pe[i] {
				t.Errorf("flags %#x, %q: uring error %q, plain %q", flags, names[i], re[i], pe[i])
			}
			if ring[i] != plain[i] {
				t.Errorf("flags %#x, %q: stats differ:\nuring %+v\nplain %+v", flags, names[i], ring[i], plain[i])
			}
		}
		for i, name := range names {
			switch {
			case name == "missing" || name == "sub/missing" || name == "":
				if !errors.Is(ringErrs[i], fs.ErrNotExist) {
					t.Errorf("%q: %v, want not-exist", name, ringErrs[i])
				}
			case name == "nul\x00name":
				if !errors.Is(ringErrs[i], unix.EINVAL) {
					t.Errorf("%q: %v, want EINVAL", name, ringErrs[i])
				}
			case ringErrs[i] != nil:
				t.Errorf("%q: %v", name, ringErrs[i])
			}
		}
		link := ring[len(names)-5]
		if isLink := link.Mode&unix.S_IFMT == unix.S_IFLNK; isLink != (flags != 0) {
			t.Errorf("flags %#x: link's mode %o", flags, link.Mode)
		}
	}
}

func TestReadFilesPaths(t *testing.T) {
	fio := Defaults().With(Uring, true)
	requireUring(t)
	dir, dirfd, names := manyFiles(t, 1000)
	// Buffers exactly the file's size, larger, smaller, and empty.
	size := func(i int) int {
		want := i * 37 % 10000
		switch i % 4 {
		case 1:
			return want + 100
		case 2:
			return want / 2
		case 3:
			return 0
		}
		return want
	}
	bufs := func() [][]byte {
		b := make([][]byte, len(names))
		for i := range b {
			b[i] = make([]byte, size(i))
		}
		return b
	}
	for _, oflags := range []int{0, unix.O_NOFOLLOW} {
		ring, ringN := bufs(), make([]int, len(names))
		before := uringEnters.Load()
		ringErrs := fio.ReadFiles(dirfd, names, oflags, ring, ringN)
		if uringEnters.Load() == before {
			t.Fatal("the uring path made no io_uring_enter")
		}
		plain, plainN := bufs(), make([]int, len(names))
		plainErrs := fio.With(Uring, false).ReadFiles(dirfd, names, oflags, plain, plainN)
		re, pe := errText(ringErrs), errText(plainErrs)
		for i, name := range names {
			if re[i] != pe[i] || ringN[i] != plainN[i] || !bytes.Equal(ring[i], plain[i]) {
				t.Errorf("oflags %#x, %q: uring %d bytes, %q; plain %d bytes, %q", oflags, name, ringN[i], re[i], plainN[i], pe[i])
				continue
			}
			if i >= 1000 {
				continue
			}
			want, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			want = want[:min(len(want), size(i))]
			if ringErrs[i] != nil || !bytes.Equal(ring[i][:ringN[i]], want) {
				t.Errorf("%q: read %d bytes (%v), want %d", name, ringN[i], ringErrs[i], len(want))
			}
		}
		// A directory opens but does not read; a symlink does not open
		// with O_NOFOLLOW; missing names do not open.
		extra := map[string]error{"sub": unix.EISDIR, "missing": unix.ENOENT, "nul\x00name": unix.EINVAL}
		if oflags != 0 {
			extra["link"] = unix.ELOOP
		}
		for i, name := range names[1000:] {
			if want, ok := extra[name]; ok && !errors.Is(ringErrs[1000+i], want) {
				t.Errorf("oflags %#x, %q: %v, want %v", oflags, name, ringErrs[1000+i], want)
			}
		}
	}
	// No direct descriptor is left behind: a later batch reuses every slot.
	if errs := fio.ReadFiles(dirfd, names[:ringSlots+5], 0, make([][]byte, ringSlots+5), make([]int, ringSlots+5)); errs[ringSlots+4] != nil {
		t.Fatal(errs[ringSlots+4])
	}
}

// withSetup replaces io_uring's setup for one test, with fresh state.
func withSetup(t *testing.T, setup func() (*ring, error)) {
	t.Helper()
	rings.mu.Lock()
	saved := rings.free
	savedN, savedErr, savedSetup := rings.n, rings.err, rings.setup
	rings.free, rings.n, rings.err, rings.setup = nil, 0, nil, setup
	rings.mu.Unlock()
	t.Cleanup(func() {
		rings.mu.Lock()
		for _, r := range rings.free {
			r.close()
		}
		rings.free, rings.n, rings.err, rings.setup = saved, savedN, savedErr, savedSetup
		rings.mu.Unlock()
	})
}

// TestUringSetupFailure makes setup fail as a kernel without io_uring
// (ENOSYS) or a seccomp filter or kernel.io_uring_disabled (EPERM) would,
// and checks that both calls fall back, give the plain path's results,
// remember the failure and never try again.
func TestUringSetupFailure(t *testing.T) {
	fio := Defaults().With(Uring, true)
	_, dirfd, names := manyFiles(t, 50)
	for _, errno := range []unix.Errno{unix.ENOSYS, unix.EPERM} {
		t.Run(errno.Error(), func(t *testing.T) {
			tries := 0
			withSetup(t, func() (*ring, error) {
				tries++
				return nil, fmt.Errorf("io_uring_setup: %w", errno)
			})
			before := uringEnters.Load()
			st := make([]unix.Statx_t, len(names))
			errs := fio.StatMany(dirfd, names, 0, st)
			n := make([]int, len(names))
			rerrs := fio.ReadFiles(dirfd, names, 0, make([][]byte, len(names)), n)
			if uringEnters.Load() != before {
				t.Fatal("io_uring_enter called after a failed setup")
			}
			if tries != 1 {
				t.Fatalf("setup tried %d times, want once", tries)
			}
			if !errors.Is(UringError(), errno) {
				t.Fatalf("UringError() = %v, want %v", UringError(), errno)
			}
			for i := range 50 {
				if errs[i] != nil || st[i].Size != uint64(i*37%10000) || rerrs[i] != nil {
					t.Fatalf("%s: size %d, %v, %v", names[i], st[i].Size, errs[i], rerrs[i])
				}
			}
			if !errors.Is(errs[52], fs.ErrNotExist) || !errors.Is(rerrs[52], fs.ErrNotExist) {
				t.Fatalf("missing: %v, %v", errs[52], rerrs[52])
			}
		})
	}
}

// TestUringConcurrent has more goroutines than rings stat and read at
// once, so that they wait for and share the pool.
func TestUringConcurrent(t *testing.T) {
	fio := Defaults().With(Uring, true)
	requireUring(t)
	_, dirfd, names := manyFiles(t, 300)
	names = names[:300]
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 5 {
				st := make([]unix.Statx_t, len(names))
				for i, err := range fio.StatMany(dirfd, names, 0, st) {
					if err != nil || st[i].Size != uint64(i*37%10000) {
						t.Errorf("%s: %v, size %d", names[i], err, st[i].Size)
						return
					}
				}
				bufs, n := make([][]byte, len(names)), make([]int, len(names))
				for i := range bufs {
					bufs[i] = make([]byte, 10000)
				}
				for i, err := range fio.ReadFiles(dirfd, names, 0, bufs, n) {
					if err != nil || n[i] != i*37%10000 {
						t.Errorf("%s: %v, %d bytes", names[i], err, n[i])
						return
					}
				}
			}
		})
	}
	wg.Wait()
}
