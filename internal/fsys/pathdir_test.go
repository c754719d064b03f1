package fsys

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/gorsync/gorsync/internal/fastio"
	"golang.org/x/sys/unix"
)

// TestPathDirRefusesSwap makes a directory with PathDir and swaps it for
// a link to a directory outside before it is opened as a Root: the Root
// must not be opened (it would be outside). Without the swap it is the
// directory made; a link already in the way of Mkdir is not followed.
func TestPathDirRefusesSwap(t *testing.T) {
	base := t.TempDir()
	outside := t.TempDir()
	pd, err := OpenPathDir(base)
	if err != nil {
		t.Fatal(err)
	}
	defer pd.Close()

	made, err := pd.Mkdir("ok", 0o755)
	if err != nil {
		t.Fatal(err)
	}
	r, err := made.Root(fastio.Defaults())
	if err != nil {
		t.Fatalf("the directory made: %v", err)
	}
	r.Close()
	made.Close()

	made, err = pd.Mkdir("swapped", 0o755)
	if err != nil {
		t.Fatal(err)
	}
	defer made.Close()
	p := filepath.Join(base, "swapped")
	if err := os.Rename(p, p+".away"); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, p); err != nil {
		t.Fatal(err)
	}
	if r, err := made.Root(fastio.Defaults()); err == nil {
		r.Close()
		t.Fatal("opened the destination through the link swapped in")
	} else if !errors.Is(err, unix.ELOOP) {
		t.Errorf("error %v, want one that is ELOOP", err)
	}
	// Made in the directory it holds, not through the link now at its
	// name.
	sub, err := made.Mkdir("sub", 0o755)
	if err != nil {
		t.Fatal(err)
	}
	sub.Close()
	if _, err := os.Stat(filepath.Join(outside, "sub")); err == nil {
		t.Error("sub was made outside, through the link")
	}
	if _, err := os.Stat(filepath.Join(p+".away", "sub")); err != nil {
		t.Errorf("sub is not in the directory made: %v", err)
	}

	if err := os.Symlink(outside, filepath.Join(base, "link")); err != nil {
		t.Fatal(err)
	}
	if d, err := pd.Mkdir("link", 0o755); !errors.Is(err, os.ErrExist) {
		if d != nil {
			d.Close()
		}
		t.Errorf("mkdir over a link: %v, want EEXIST", err)
	}
}
