package fsys

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gorsync/gorsync/internal/fastio"
	"golang.org/x/sys/unix"
)

// fixture is a destination root next to an "outside" directory that no
// operation through the root may touch.
type fixture struct {
	r       *Root
	dir     string // the root's path
	outside string // absolute path of the outside directory
}

// secretTime is the mtime of outside/secret, checked after every escape
// attempt.
var secretTime = time.Unix(1_000_000_000, 0)

func newFixture(t *testing.T) *fixture { return newFixtureIO(t, fastio.Defaults()) }

// newFixtureIO is newFixture with the root opened with io's fast paths.
func newFixtureIO(t *testing.T, io fastio.Config) *fixture {
	t.Helper()
	base := t.TempDir()
	dir := filepath.Join(base, "root")
	outside := filepath.Join(base, "outside")
	for _, d := range []string{dir, outside, filepath.Join(dir, "sub")} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	secret := filepath.Join(outside, "secret")
	if err := os.WriteFile(secret, []byte("secret"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(secret, secretTime, secretTime); err != nil {
		t.Fatal(err)
	}
	links := map[string]string{
		"evil":    "../outside",                     // relative parent escape
		"abs":     outside,                          // absolute parent escape
		"lnk":     filepath.Join(outside, "secret"), // final symlink out
		"sublink": "sub",                            // in-tree directory link
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	r, err := OpenRoot(dir, io)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return &fixture{r: r, dir: dir, outside: outside}
}

// checkOutside fails t if the outside directory changed in any way.
func (fx *fixture) checkOutside(t *testing.T) {
	t.Helper()
	ents, err := os.ReadDir(fx.outside)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"secret"}) {
		t.Errorf("outside directory now holds %v", names)
	}
	var st unix.Stat_t
	if err := unix.Lstat(filepath.Join(fx.outside, "secret"), &st); err != nil {
		t.Fatal(err)
	}
	if st.Mode&0o7777 != 0o640 || st.Uid != uint32(os.Geteuid()) || st.Mtim.Sec != secretTime.Unix() || st.Size != 6 {
		t.Errorf("outside/secret changed: mode %o uid %d mtime %d size %d", st.Mode&0o7777, st.Uid, st.Mtim.Sec, st.Size)
	}
}

// eachResolver runs fn with openat2 (with and without the parent directory
// cache of fastio.Batch) and again with the os.Root fallback.
func eachResolver(t *testing.T, fn func(t *testing.T, io fastio.Config)) {
	cache := fastio.Defaults().With(fastio.Batch, true)
	t.Run("openat2", func(t *testing.T) {
		noOpenat2.Store(false)
		fn(t, cache)
	})
	t.Run("openat2-nocache", func(t *testing.T) {
		noOpenat2.Store(false)
		fn(t, cache.With(fastio.Batch, false))
	})
	t.Run("osroot", func(t *testing.T) {
		noOpenat2.Store(true)
		defer noOpenat2.Store(false)
		fn(t, cache)
	})
}

func TestCheckName(t *testing.T) {
	tests := []struct {
		name, want string
		ok         bool
	}{
		{"a", "a", true},
		{"a/b/c", "a/b/c", true},
		{".", ".", true},
		{"./a//b/", "a/b", true},
		{"a/.", "a", true},
		{"a/", "a", true},
		{"a/./b", "a/b", true},
		{".a/b.", ".a/b.", true},
		{"..x/y..", "..x/y..", true},
		{"", "", false},
		{"..", "", false},
		{"../x", "", false},
		{"a/../../x", "", false},
		{"a/..", "", false},
		{"/etc/passwd", "", false},
		{"a\x00b", "", false},
	}
	for _, tt := range tests {
		got, err := checkName("test", tt.name)
		if tt.ok != (err == nil) || got != tt.want {
			t.Errorf("checkName(%q) = %q, %v; want %q, ok=%v", tt.name, got, err, tt.want, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrUnsafePath) {
			t.Errorf("checkName(%q) error %v is not ErrUnsafePath", tt.name, err)
		}
	}
}

// TestEscapeRejected tries every operation on names that lead outside the
// root and asserts each fails and leaves the outside untouched.
func TestEscapeRejected(t *testing.T) {
	eachResolver(t, func(t *testing.T, io fastio.Config) {
		fx := newFixtureIO(t, io)
		names := []string{"evil/secret", "abs/secret", "../outside/secret", filepath.Join(fx.outside, "secret")}
		ops := []struct {
			op string
			fn func(r *Root, name string) error
		}{
			{"Open", func(r *Root, n string) error { return closeErr(r.Open(n)) }},
			{"OpenFile", func(r *Root, n string) error {
				return closeErr(r.OpenFile(n+"2", os.O_WRONLY|os.O_CREATE, 0o644))
			}},
			{"CreateTemp", func(r *Root, n string) error {
				f, _, err := r.CreateTemp(n)
				return closeErr(f, err)
			}},
			{"ReadDir", func(r *Root, n string) error { _, err := r.ReadDir(filepath.Dir(n) + "/."); return err }},
			{"Mkdir", func(r *Root, n string) error { return r.Mkdir(n+"2", 0o755) }},
			{"MkdirAll", func(r *Root, n string) error { return r.MkdirAll(n+"2/x", 0o755) }},
			{"Symlink", func(r *Root, n string) error { return r.Symlink("x", n+"2") }},
			{"Readlink", func(r *Root, n string) error { _, err := r.Readlink(n); return err }},
			{"LinkFrom", func(r *Root, n string) error { return r.Link(n, "stolen") }},
			{"LinkTo", func(r *Root, n string) error { return r.Link("sub", n+"2") }},
			{"RenameFrom", func(r *Root, n string) error { return r.Rename(n, "stolen") }},
			{"RenameTo", func(r *Root, n string) error { return r.Rename("sub", n) }},
			{"Remove", func(r *Root, n string) error { return r.Remove(n) }},
			{"RemoveAll", func(r *Root, n string) error { return r.RemoveAll(n) }},
			{"Mknod", func(r *Root, n string) error { return r.Mknod(n+"2", unix.S_IFIFO|0o644, 0) }},
			{"Lstat", func(r *Root, n string) error { _, err := r.Lstat(n); return err }},
			{"LstatT", func(r *Root, n string) error { _, err := r.LstatT(n); return err }},
			{"StatT", func(r *Root, n string) error { _, err := r.StatT(n); return err }},
			{"Chmod", func(r *Root, n string) error { return r.Chmod(n, 0o777) }},
			{"Lchown", func(r *Root, n string) error { return r.Lchown(n, 4321, 4321) }},
			{"SetTimes", func(r *Root, n string) error { return r.SetTimes(n, time.Now(), time.Now()) }},
			{"SetAttrs", func(r *Root, n string) error {
				return r.SetAttrs(n, Attrs{Set: SetMode | SetMtime, Mode: 0o777, Mtime: time.Now()})
			}},
		}
		for _, o := range ops {
			for _, n := range names {
				if err := o.fn(fx.r, n); err == nil {
					t.Errorf("%s(%q) succeeded", o.op, n)
				}
			}
		}
		fx.checkOutside(t)
		if _, err := os.Lstat(filepath.Join(fx.dir, "stolen")); err == nil {
			t.Error("an outside file was linked or moved into the root")
		}
	})
}

func closeErr(f *os.File, err error) error {
	if f != nil {
		f.Close()
	}
	return err
}

// TestFinalSymlinkNotFollowed asserts that metadata calls on a symlink act on
// the link itself and that opens refuse it.
func TestFinalSymlinkNotFollowed(t *testing.T) {
	for _, fallback := range []bool{false, true} {
		noFchmodat2.Store(fallback)
		fx := newFixture(t)
		r := fx.r
		if err := r.Chmod("lnk", 0o777); err != nil {
			t.Errorf("Chmod of a symlink (fallback=%v): %v", fallback, err)
		}
		if err := r.SetAttrs("lnk", Attrs{Set: SetMode, Mode: 0o777}); err != nil {
			t.Errorf("SetAttrs mode of a symlink (fallback=%v): %v", fallback, err)
		}
		mt := time.Unix(1_500_000_000, 42)
		if err := r.SetTimes("lnk", time.Time{}, mt); err != nil {
			t.Fatal(err)
		}
		st, err := r.LstatT("lnk")
		if err != nil {
			t.Fatal(err)
		}
		if !st.IsSymlink() || !st.ModTime().Equal(mt) {
			t.Errorf("link after SetTimes: symlink=%v mtime %v, want %v", st.IsSymlink(), st.ModTime(), mt)
		}
		if AmRoot() {
			if err := r.Lchown("lnk", 4321, 4322); err != nil {
				t.Fatal(err)
			}
			if st, _ := r.LstatT("lnk"); st.UID != 4321 || st.GID != 4322 {
				t.Errorf("link owner %d:%d after Lchown, want 4321:4322", st.UID, st.GID)
			}
			if err := r.SetAttrs("lnk", Attrs{Set: SetUID, UID: 4323}); err != nil {
				t.Fatal(err)
			}
			if st, _ := r.LstatT("lnk"); st.UID != 4323 || st.GID != 4322 {
				t.Errorf("link owner %d:%d after SetAttrs, want 4323:4322", st.UID, st.GID)
			}
		}
		if f, err := r.Open("lnk"); err == nil {
			f.Close()
			t.Error("Open followed a final symlink")
		}
		if f, err := r.OpenFile("lnk", os.O_WRONLY|os.O_TRUNC, 0); err == nil {
			f.Close()
			t.Error("OpenFile followed a final symlink")
		}
		if _, err := r.ReadDir("sublink"); err == nil {
			t.Error("ReadDir followed a final symlink")
		}
		fx.checkOutside(t)
	}
	noFchmodat2.Store(false)
}

// TestInTreeSymlinkParent asserts a parent symlink that stays beneath the
// root is usable, and StatT follows in-tree links only.
func TestInTreeSymlinkParent(t *testing.T) {
	eachResolver(t, func(t *testing.T, io fastio.Config) {
		fx := newFixtureIO(t, io)
		if err := fx.r.Mkdir("sublink/d", 0o755); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(filepath.Join(fx.dir, "sub", "d")); err != nil || !fi.IsDir() {
			t.Fatalf("sub/d not created through sublink: %v", err)
		}
		st, err := fx.r.StatT("sublink")
		if err != nil || !st.IsDir() {
			t.Errorf("StatT(sublink) = %v, %v; want a directory", st.Mode, err)
		}
		if _, err := fx.r.StatT("lnk"); err == nil {
			t.Error("StatT followed a symlink out of the root")
		}
	})
}

func TestOpenRefusesSpecialFiles(t *testing.T) {
	fx := newFixture(t)
	if err := fx.r.Mknod("fifo", unix.S_IFIFO|0o644, 0); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- closeErr(fx.r.Open("fifo")) }()
	select {
	case err := <-done:
		if err == nil {
			t.Error("Open of a FIFO succeeded")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Open of a FIFO blocked")
	}
	if err := closeErr(fx.r.Open("sub")); err == nil {
		t.Error("Open of a directory succeeded")
	}
}

func TestMknod(t *testing.T) {
	tests := []struct {
		name     string
		mode     uint32
		rdev     uint64
		needRoot bool
	}{
		{"fifo", unix.S_IFIFO | 0o640, 0, false},
		{"sock", unix.S_IFSOCK | 0o600, 0, false},
		{"chr", unix.S_IFCHR | 0o600, unix.Mkdev(1, 3), true},
		{"blk", unix.S_IFBLK | 0o600, unix.Mkdev(7, 200), true},
	}
	fx := newFixture(t)
	old := unix.Umask(0)
	defer unix.Umask(old)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.needRoot && !AmRoot() {
				t.Skip("device nodes need root")
			}
			name := "sub/" + tt.name
			if err := fx.r.Mknod(name, tt.mode, tt.rdev); err != nil {
				t.Fatal(err)
			}
			st, err := fx.r.LstatT(name)
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode != tt.mode || st.Rdev != tt.rdev {
				t.Errorf("mode %o rdev %#x, want %o %#x", st.Mode, st.Rdev, tt.mode, tt.rdev)
			}
		})
	}
	if err := fx.r.Mknod("reg", unix.S_IFREG|0o644, 0); err == nil {
		t.Error("Mknod made a regular file")
	}
}

// TestNanosecondTimes round-trips nanosecond mtimes and atimes on a file, a
// directory, a symlink and an open file.
func TestNanosecondTimes(t *testing.T) {
	fx := newFixture(t)
	r := fx.r
	if err := os.WriteFile(filepath.Join(fx.dir, "file"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := r.Symlink("dangling/target", "link"); err != nil {
		t.Fatal(err)
	}
	mt := time.Unix(1_234_567_890, 123_456_789)
	at := time.Unix(-1_000, 999_999_999) // before the epoch
	for _, name := range []string{"file", "sub", "link", "."} {
		if err := r.SetTimes(name, at, mt); err != nil {
			t.Fatalf("SetTimes(%q): %v", name, err)
		}
		st, err := r.LstatT(name)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mtime != mt.Unix() || st.MtimeNsec != uint32(mt.Nanosecond()) ||
			st.Atime != at.Unix() || st.AtimeNsec != uint32(at.Nanosecond()) {
			t.Errorf("%s: times %d.%09d / %d.%09d, want %d.%09d / %d.%09d", name,
				st.Mtime, st.MtimeNsec, st.Atime, st.AtimeNsec,
				mt.Unix(), mt.Nanosecond(), at.Unix(), at.Nanosecond())
		}
	}
	// A zero time leaves that time alone.
	mt2 := time.Unix(1_300_000_000, 1)
	if err := r.SetTimes("file", time.Time{}, mt2); err != nil {
		t.Fatal(err)
	}
	if st, _ := r.LstatT("file"); st.Atime != at.Unix() || !st.ModTime().Equal(mt2) {
		t.Errorf("after a zero atime: atime %d mtime %v", st.Atime, st.ModTime())
	}

	f, _, err := r.CreateTemp("file")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := SetFileAttrs(f, Attrs{Set: SetMtime, Mtime: mt}); err != nil {
		t.Fatal(err)
	}
	if st, err := StatFile(f); err != nil || !st.ModTime().Equal(mt) {
		t.Errorf("StatFile after SetFileAttrs: mtime %v, %v; want %v", st.ModTime(), err, mt)
	}
}

func TestTimespecBeyondUnixNano(t *testing.T) {
	for _, sec := range []int64{1 << 40, -(1 << 40), 0} {
		ts := timespec(time.Unix(sec, 7))
		if ts.Sec != sec || ts.Nsec != 7 {
			t.Errorf("timespec(%d.7) = %d.%d", sec, ts.Sec, ts.Nsec)
		}
	}
}

func TestSetAttrsAndFileAttrs(t *testing.T) {
	for _, fallback := range []bool{false, true} {
		noFchmodat2.Store(fallback)
		testSetAttrs(t)
	}
	noFchmodat2.Store(false)
}

func testSetAttrs(t *testing.T) {
	fx := newFixture(t)
	r := fx.r
	mt := time.Unix(1_600_000_000, 5)
	uid, gid := uint32(os.Geteuid()), uint32(os.Getegid())
	if AmRoot() {
		uid, gid = 4321, 4322
	}
	want := Attrs{Set: SetMode | SetUID | SetGID | SetMtime, Mode: 0o4751, UID: uid, GID: gid, Mtime: mt}
	check := func(what string, st Stat) {
		t.Helper()
		if st.Perm() != want.Mode || st.UID != uid || st.GID != gid || !st.ModTime().Equal(mt) {
			t.Errorf("%s: perm %o owner %d:%d mtime %v; want %o %d:%d %v",
				what, st.Perm(), st.UID, st.GID, st.ModTime(), want.Mode, uid, gid, mt)
		}
	}

	f, tmp, err := r.CreateTemp("target")
	if err != nil {
		t.Fatal(err)
	}
	if err := SetFileAttrs(f, want); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := r.Rename(tmp, "target"); err != nil {
		t.Fatal(err)
	}
	st, err := r.LstatT("target")
	if err != nil {
		t.Fatal(err)
	}
	check("SetFileAttrs", st)

	want.Mode = 0o2755
	if err := r.SetAttrs("sub", want); err != nil {
		t.Fatal(err)
	}
	st, _ = r.LstatT("sub")
	check("SetAttrs on a directory", st)

	want.Mode = 0o1750
	if err := r.Chmod("sub", want.Mode); err != nil {
		t.Fatal(err)
	}
	st, _ = r.LstatT("sub")
	check("Chmod", st)

	if err := r.SetAttrs("sub", Attrs{}); err != nil {
		t.Fatalf("zero Attrs: %v", err)
	}
	st, _ = r.LstatT("sub")
	check("zero Attrs", st)
}

// TestTempFileReplaceIsAtomic replaces a file many times while a reader
// checks it only ever sees a complete old or new version.
func TestTempFileReplaceIsAtomic(t *testing.T) {
	fx := newFixture(t)
	r := fx.r
	a := slices.Repeat([]byte("a"), 64<<10)
	b := slices.Repeat([]byte("b"), 64<<10)
	if err := os.WriteFile(filepath.Join(fx.dir, "sub", "f"), a, 0o644); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	bad := make(chan string, 1)
	go func() {
		defer close(bad)
		for {
			select {
			case <-stop:
				return
			default:
			}
			got, err := os.ReadFile(filepath.Join(fx.dir, "sub", "f"))
			if err != nil || !(slices.Equal(got, a) || slices.Equal(got, b)) {
				bad <- "reader saw a missing or torn file"
				return
			}
		}
	}()
	for i := range 200 {
		content := a
		if i%2 == 0 {
			content = b
		}
		f, tmp, err := r.CreateTemp("sub/f")
		if err != nil {
			t.Fatal(err)
		}
		for off := 0; off < len(content); off += 4096 {
			if _, err := f.Write(content[off : off+4096]); err != nil {
				t.Fatal(err)
			}
		}
		f.Close()
		if err := r.Rename(tmp, "sub/f"); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	if msg, ok := <-bad; ok {
		t.Fatal(msg)
	}
	ents, err := r.ReadDir("sub")
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 1 || ents[0].Name() != "f" {
		t.Errorf("leftovers in sub: %v", ents)
	}
}
