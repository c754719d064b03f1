package fsys

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/gorsync/gorsync/internal/fastio"
	"golang.org/x/sys/unix"
)

// TestOpenTrusted opens names through links of each owner, in the last
// component and in a parent, absolute and relative, from the working
// directory and beneath a Root: only links owned by root or the test's
// user are followed, and a Root is never left.
func TestOpenTrusted(t *testing.T) {
	const foreign = 65534 // neither root nor, when run as root, the test's user
	if os.Geteuid() != 0 {
		t.Skip("giving a link another owner needs root")
	}
	dir := t.TempDir()
	write := func(name, data string) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := func(name, target string, uid int) {
		p := filepath.Join(dir, name)
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
		if err := os.Lchown(p, uid, -1); err != nil {
			t.Fatal(err)
		}
	}
	write("tree/file", "file")
	write("tree/sub/deep", "deep")
	write("outside", "outside")
	link("tree/mine", "file", 0)
	link("tree/theirs", "file", foreign)
	link("tree/mydir", "sub", 0)
	link("tree/theirdir", "sub", foreign)
	link("tree/chain", "mine", 0)
	link("tree/chain-theirs", "theirs", 0)
	link("tree/up", "../outside", 0)
	link("tree/abs", filepath.Join(dir, "tree/file"), 0)
	link("tree/loop", "loop", 0)

	for _, tc := range []struct {
		name       string
		want       string // content, or "" for an error
		err        error  // from the working directory
		beneathErr error  // beneath the Root "tree", when it differs
	}{
		{name: "file", want: "file"},
		{name: "sub/deep", want: "deep"},
		{name: "./sub/../file", want: "file", beneathErr: ErrUnsafePath},
		{name: "mine", want: "file"},
		{name: "chain", want: "file"},
		{name: "mydir/deep", want: "deep"},
		{name: "theirs", err: ErrUntrustedLink},
		{name: "chain-theirs", err: ErrUntrustedLink},
		{name: "theirdir/deep", err: ErrUntrustedLink},
		{name: "up", want: "outside", beneathErr: ErrUnsafePath},
		{name: "abs", want: "file", beneathErr: ErrUnsafePath},
		{name: "loop", err: unix.ELOOP},
		{name: "missing", err: unix.ENOENT},
		{name: "file/x", err: unix.ENOTDIR},
	} {
		read := func(f *os.File, err error, wantErr error) {
			t.Helper()
			if wantErr != nil || tc.want == "" {
				if err == nil {
					f.Close()
					t.Errorf("%s: opened, want %v", tc.name, wantErr)
				} else if !errors.Is(err, wantErr) {
					t.Errorf("%s: %v, want %v", tc.name, err, wantErr)
				}
				return
			}
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
				return
			}
			defer f.Close()
			b, err := io.ReadAll(f)
			if err != nil || string(b) != tc.want {
				t.Errorf("%s: read %q, %v; want %q", tc.name, b, err, tc.want)
			}
		}
		f, err := OpenTrusted(filepath.Join(dir, "tree", tc.name))
		read(f, err, tc.err)
		r, err := OpenRoot(filepath.Join(dir, "tree"), fastio.Defaults())
		if err != nil {
			t.Fatal(err)
		}
		want := tc.err
		if tc.beneathErr != nil {
			want = tc.beneathErr
		}
		f, err = r.OpenTrusted(tc.name)
		read(f, err, want)
		r.Close()
	}
	if !errors.Is(ErrUntrustedLink, unix.ELOOP) || ErrUntrustedLink.Error() != unix.ELOOP.Error() {
		t.Errorf("ErrUntrustedLink is not ELOOP to callers: %v", ErrUntrustedLink)
	}
}

// TestOpenTrustedProcLinks opens what the shell's <(...) and /dev/stdin
// name: a pipe behind /proc/self/fd/N, whose link target ("pipe:[N]") is no
// path; the links are the process's own (or root's), so they are followed,
// by the kernel.
func TestOpenTrustedProcLinks(t *testing.T) {
	for _, prefix := range []string{"/proc/self/fd/", "/dev/fd/"} {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		go func() { w.WriteString("- a\n"); w.Close() }()
		name := fmt.Sprintf("%s%d", prefix, r.Fd())
		f, err := OpenTrusted(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b, err := io.ReadAll(f)
		f.Close()
		r.Close()
		if err != nil || string(b) != "- a\n" {
			t.Errorf("%s: read %q, %v", name, b, err)
		}
	}
	if f, err := OpenTrusted("/dev/stdin"); err != nil {
		t.Errorf("/dev/stdin: %v", err)
	} else {
		f.Close()
	}
}
