package fsys

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/gorsync/gorsync/internal/fastio"
)

// openFDs counts the process's open descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count descriptors: %v", err)
	}
	return len(ents)
}

// cached reports whether r holds dir open.
func cached(r *Root, dir string) bool {
	ref := r.dirs.get(dir)
	if ref != nil {
		ref.release()
	}
	return ref != nil
}

func mkdirs(t *testing.T, base string, dirs ...string) {
	t.Helper()
	for _, d := range dirs {
		if err := os.MkdirAll(filepath.Join(base, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// exists fails t unless rel exists beneath base (as a real path).
func exists(t *testing.T, base, rel string) {
	t.Helper()
	if _, err := os.Lstat(filepath.Join(base, rel)); err != nil {
		t.Errorf("%s was not created where its path says: %v", rel, err)
	}
}

func TestDirCacheKeepsParentOpen(t *testing.T) {
	fx := newFixtureIO(t, fastio.Defaults().With(fastio.Batch, true))
	mkdirs(t, fx.dir, "a/b")
	if fx.r.dirs == nil {
		t.Fatal("fastio.Batch is on by default, but the root has no directory cache")
	}
	if _, err := fx.r.LstatT("a/b/missing"); !os.IsNotExist(err) {
		t.Fatalf("LstatT of a missing name: %v", err)
	}
	if !cached(fx.r, "a/b") {
		t.Error("a/b is not cached after an operation in it")
	}
	if cached(fx.r, "a") {
		t.Error("a is cached though no operation named an entry of it")
	}
	// A parent reached through a symbolic link is never cached.
	if err := fx.r.Mkdir("sublink/d", 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := fx.r.LstatT("sublink/d"); err != nil {
		t.Fatal(err)
	}
	if cached(fx.r, "sublink") {
		t.Error("a symlinked parent was cached")
	}
}

func TestDirCacheOff(t *testing.T) {
	fio := fastio.Defaults().With(fastio.Batch, false)
	r, err := OpenRoot(t.TempDir(), fio)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.dirs != nil {
		t.Error("fastio.Batch is off, but the root caches directories")
	}
}

// TestDirCacheInvalidation replaces a cached directory (or its parent)
// through the root and checks the next operation on its path acts on the
// new directory, not the cached old one.
func TestDirCacheInvalidation(t *testing.T) {
	tests := []struct {
		name    string
		replace func(r *Root) error
	}{
		{"RemoveAll of the directory", func(r *Root) error { return r.RemoveAll("a/b") }},
		{"RemoveAll of its parent", func(r *Root) error { return r.RemoveAll("a") }},
		{"Remove of the empty directory", func(r *Root) error {
			if err := r.Remove("a/b/f"); err != nil {
				return err
			}
			return r.Remove("a/b")
		}},
		{"Rename of the directory away", func(r *Root) error { return r.Rename("a/b", "moved") }},
		{"Rename of its parent away", func(r *Root) error { return r.Rename("a", "moved") }},
		{"Rename of another directory over it", func(r *Root) error {
			if err := r.Remove("a/b/f"); err != nil {
				return err
			}
			if err := r.Mkdir("other", 0o755); err != nil {
				return err
			}
			return r.Rename("other", "a/b")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := newFixtureIO(t, fastio.Defaults().With(fastio.Batch, true))
			r := fx.r
			mkdirs(t, fx.dir, "a/b")
			if err := os.WriteFile(filepath.Join(fx.dir, "a/b/f"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := r.LstatT("a/b/f"); err != nil {
				t.Fatal(err)
			}
			if _, err := r.LstatT("a/b"); err != nil {
				t.Fatal(err)
			}
			if !cached(r, "a/b") || !cached(r, "a") {
				t.Fatal("a and a/b are not cached")
			}
			if err := tt.replace(r); err != nil {
				t.Fatal(err)
			}
			if cached(r, "a/b") {
				t.Error("a/b is still cached after it was replaced")
			}
			if err := r.MkdirAll("a/b", 0o755); err != nil {
				t.Fatal(err)
			}
			if err := r.Symlink("x", "a/b/new"); err != nil {
				t.Fatal(err)
			}
			exists(t, fx.dir, "a/b/new")
			f, tmp, err := r.CreateTemp("a/b/g")
			if err != nil {
				t.Fatal(err)
			}
			f.Close()
			exists(t, fx.dir, tmp)
		})
	}
}

// TestDirCacheSymlinkedParent: a directory reached through an in-tree
// symlink must follow the link each time, so replacing the link's target
// is seen at once.
func TestDirCacheSymlinkedParent(t *testing.T) {
	fx := newFixtureIO(t, fastio.Defaults().With(fastio.Batch, true))
	r := fx.r
	mkdirs(t, fx.dir, "sub/d")
	if _, err := r.LstatT("sublink/d/x"); !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if err := r.RemoveAll("sub"); err != nil {
		t.Fatal(err)
	}
	mkdirs(t, fx.dir, "sub/d")
	if err := r.Symlink("x", "sublink/d/n"); err != nil {
		t.Fatal(err)
	}
	exists(t, fx.dir, "sub/d/n")
}

// TestDirCacheOutsideChange: a directory replaced behind the root's back by
// a symlink out of the tree must not lead an operation outside; the cached
// descriptor still names the (moved) directory beneath the root.
func TestDirCacheOutsideChange(t *testing.T) {
	fx := newFixtureIO(t, fastio.Defaults().With(fastio.Batch, true))
	r := fx.r
	if _, err := r.LstatT("sub/x"); !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if !cached(r, "sub") {
		t.Fatal("sub is not cached")
	}
	if err := os.Rename(filepath.Join(fx.dir, "sub"), filepath.Join(fx.dir, "sub.old")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(fx.outside, filepath.Join(fx.dir, "sub")); err != nil {
		t.Fatal(err)
	}
	f, _, err := r.CreateTemp("sub/secret")
	if err == nil {
		f.Close()
	}
	r.Symlink("x", "sub/planted")
	r.SetAttrs("sub/secret", Attrs{Set: SetMode, Mode: 0o777})
	r.Remove("sub/secret")
	fx.checkOutside(t)
	exists(t, fx.dir, "sub.old/planted")
}

// TestDirCacheBoundedAndClosed walks through more directories than the
// cache holds and checks it keeps at most dirCacheSize open, and that Close
// leaves none behind.
func TestDirCacheBoundedAndClosed(t *testing.T) {
	fio := fastio.Defaults().With(fastio.Batch, true)
	dir := t.TempDir()
	for i := range 3 * dirCacheSize {
		mkdirs(t, dir, fmt.Sprintf("d%d", i))
	}
	before := openFDs(t)
	r, err := OpenRoot(dir, fio)
	if err != nil {
		t.Fatal(err)
	}
	withRoot := openFDs(t)
	for i := range 3 * dirCacheSize {
		if err := r.Symlink("x", fmt.Sprintf("d%d/l", i)); err != nil {
			t.Fatal(err)
		}
		if n := openFDs(t) - withRoot; n > dirCacheSize {
			t.Fatalf("%d directories held open, want at most %d", n, dirCacheSize)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if n := openFDs(t); n != before {
		t.Errorf("%d descriptors open after Close, %d before OpenRoot", n, before)
	}
}

// TestDirCacheConcurrent has goroutines create, rename, stat and remove in
// a few directories while another keeps deleting and re-creating them; run
// with -race. Every operation either fails cleanly or acts beneath its
// path, and nothing leaks.
func TestDirCacheConcurrent(t *testing.T) {
	fio := fastio.Defaults().With(fastio.Batch, true)
	dir := t.TempDir()
	const ndirs = 4
	for i := range ndirs {
		mkdirs(t, dir, fmt.Sprintf("d%d/s", i))
	}
	before := openFDs(t)
	r, err := OpenRoot(dir, fio)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Go(func() {
			for i := range 300 {
				name := fmt.Sprintf("d%d/s/f%d-%d", i%ndirs, w, i)
				f, tmp, err := r.CreateTemp(name)
				if err != nil {
					continue // the directory is being replaced
				}
				f.Close()
				if err := r.Rename(tmp, name); err != nil {
					r.Remove(tmp)
					continue
				}
				if st, err := r.LstatT(name); err == nil && !st.IsRegular() {
					t.Errorf("%s: mode %o", name, st.Mode)
				}
			}
		})
	}
	wg.Go(func() {
		for i := range 200 {
			d := fmt.Sprintf("d%d", i%ndirs)
			// Creators racing the removal may leave it "not empty".
			r.RemoveAll(d)
			if err := r.MkdirAll(d+"/s", 0o755); err != nil {
				t.Error(err)
			}
		}
	})
	wg.Wait()
	// After the dust settles, operations land where their names say.
	for i := range ndirs {
		name := fmt.Sprintf("d%d/s/final", i)
		if err := r.Symlink("x", name); err != nil {
			t.Fatal(err)
		}
		exists(t, dir, name)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if n := openFDs(t); n != before {
		t.Errorf("%d descriptors open after Close, %d before OpenRoot", n, before)
	}
}
