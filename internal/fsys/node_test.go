package fsys

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gorsync/gorsync/internal/fastio"
	"golang.org/x/sys/unix"
)

func TestTmpPrefix(t *testing.T) {
	long := strings.Repeat("x", 300)
	// 245 ASCII bytes then a 3-byte rune straddling the 246-byte cut.
	multi := strings.Repeat("y", 245) + "€" + "z"
	tests := []struct{ base, want string }{
		{"file", ".file."},
		{".hidden", ".hidden."},
		{"ends.", ".ends."},
		{"...", "..."},
		{long, "." + long[:246] + "."},
		{multi, "." + strings.Repeat("y", 245) + "."},
	}
	for _, tt := range tests {
		if got := tmpPrefix(tt.base); got != tt.want {
			t.Errorf("tmpPrefix(%.20q…) = %.20q… (len %d), want len %d", tt.base, got, len(got), len(tt.want))
		}
		if n := len(tmpPrefix(tt.base)) + tmpSuffixLen - 1; n > nameMax {
			t.Errorf("temp name for %.20q… is %d bytes, over NAME_MAX", tt.base, n)
		}
	}
}

func TestCreateTempName(t *testing.T) {
	fx := newFixture(t)
	tests := []struct{ name, pattern string }{
		{"sub/data.txt", `^sub/\.data\.txt\.[A-Za-z0-9]{6}$`},
		{"top", `^\.top\.[A-Za-z0-9]{6}$`},
		{"sub/.rc", `^sub/\.rc\.[A-Za-z0-9]{6}$`},
		{strings.Repeat("n", 255), `^\.n{246}\.[A-Za-z0-9]{6}$`},
	}
	for _, tt := range tests {
		f, tmp, err := fx.r.CreateTemp(tt.name)
		if err != nil {
			t.Fatalf("CreateTemp(%q): %v", tt.name, err)
		}
		f.Close()
		if !regexp.MustCompile(tt.pattern).MatchString(tmp) {
			t.Errorf("CreateTemp(%q) named %q", tt.name, tmp)
		}
		st, err := fx.r.LstatT(tmp)
		if err != nil || !st.IsRegular() || st.Perm() != 0o600 {
			t.Errorf("temp %q: mode %o, %v; want a 0600 regular file", tmp, st.Mode, err)
		}
	}
}

func TestNodes(t *testing.T) {
	eachResolver(t, func(t *testing.T, io fastio.Config) {
		fx := newFixtureIO(t, io)
		r := fx.r
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}

		// A symlink's target is stored verbatim, even one that leads out.
		const target = "../../etc/passwd"
		must(r.Symlink(target, "sub/out"))
		if got, err := r.Readlink("sub/out"); err != nil || got != target {
			t.Errorf("Readlink = %q, %v; want %q", got, err, target)
		}
		long := strings.Repeat("t/", 1000)
		must(r.Symlink(long, "longlink"))
		if got, err := r.Readlink("longlink"); err != nil || got != long {
			t.Errorf("Readlink of a %d-byte target = %d bytes, %v", len(long), len(got), err)
		}

		// A hard link to a symlink links the symlink itself.
		must(r.Link("sub/out", "sub/out2"))
		a, _ := r.LstatT("sub/out")
		b, _ := r.LstatT("sub/out2")
		if !b.IsSymlink() || a.Ino != b.Ino || b.Nlink != 2 {
			t.Errorf("hard link of a symlink: symlink=%v same inode=%v nlink=%d", b.IsSymlink(), a.Ino == b.Ino, b.Nlink)
		}

		must(r.Mkdir("d", 0o700))
		if st, _ := r.LstatT("d"); !st.IsDir() || st.Perm() != 0o700 {
			t.Errorf("Mkdir: mode %o", st.Mode)
		}
		if err := r.Mkdir("d", 0o700); !errors.Is(err, fs.ErrExist) {
			t.Errorf("second Mkdir: %v, want ErrExist", err)
		}
		must(r.MkdirAll("d/e/f", 0o755))
		f, err := r.OpenFile("d/e/f/file", os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		must(err)
		f.Close()

		// Remove takes files and empty directories, not full ones.
		if err := r.Remove("d/e"); err == nil {
			t.Error("Remove of a non-empty directory succeeded")
		}
		must(r.Remove("d/e/f/file"))
		must(r.Remove("d/e/f"))
		if _, err := r.LstatT("d/e/f"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("d/e/f after Remove: %v", err)
		}
		if err := r.Remove("missing"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Remove(missing) = %v, want ErrNotExist", err)
		}

		// Rename replaces, and moves a symlink rather than its target.
		must(r.Rename("sub/out2", "d/moved"))
		if st, _ := r.LstatT("d/moved"); !st.IsSymlink() {
			t.Error("Rename did not move the symlink itself")
		}
		must(r.RemoveAll("d"))
		if _, err := r.Lstat("d"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("d after RemoveAll: %v", err)
		}
		must(r.RemoveAll("d"))
		if err := r.RemoveAll("."); err == nil {
			t.Error("RemoveAll of the root succeeded")
		}
		if _, err := os.Stat(filepath.Join(fx.dir, "sub")); err != nil {
			t.Error(err)
		}

		ents, err := r.ReadDir(".")
		must(err)
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		if !strings.Contains(strings.Join(names, ","), "sublink") {
			t.Errorf("ReadDir(.) = %v", names)
		}
	})
}

func TestRootStatAndPath(t *testing.T) {
	fx := newFixture(t)
	if fx.r.Path() != fx.dir {
		t.Errorf("Path() = %q, want %q", fx.r.Path(), fx.dir)
	}
	st, err := fx.r.LstatT(".")
	if err != nil || !st.IsDir() {
		t.Errorf("LstatT(.) = %o, %v", st.Mode, err)
	}
	var want unix.Stat_t
	if err := unix.Stat(fx.dir, &want); err != nil {
		t.Fatal(err)
	}
	if st.Ino != want.Ino || st.Dev != want.Dev {
		t.Error("LstatT(.) is not the root directory")
	}
	if _, err := OpenRoot(filepath.Join(fx.outside, "secret"), fastio.Defaults()); err == nil {
		t.Error("OpenRoot of a regular file succeeded")
	}
}
