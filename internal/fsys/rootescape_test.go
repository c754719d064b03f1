package fsys

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/gorsync/gorsync/internal/fastio"
)

// TestRootEscapeError checks that os.Root's escape error is recognised by
// value, not by its text: the value found is what os.Root returns for a
// name that leaves it, and the fallback resolver maps it to ErrUnsafePath.
func TestRootEscapeError(t *testing.T) {
	esc := rootEscapes()
	if esc == errNoEscapeError {
		t.Fatal("os.Root's escape error was not found")
	}
	dir := t.TempDir()
	or, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer or.Close()
	if _, err := or.Open("../x"); !errors.Is(err, esc) {
		t.Fatalf("os.Root.Open(../x) = %v, not the escape error %v", err, esc)
	}
	if err := os.Symlink("..", filepath.Join(dir, "up")); err != nil {
		t.Fatal(err)
	}
	noOpenat2.Store(true)
	defer noOpenat2.Store(false)
	r, err := OpenRoot(dir, fastio.Defaults())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.openBeneath("up/x", os.O_RDONLY); !errors.Is(err, ErrUnsafePath) {
		t.Errorf("a name through a symlink out of the root: %v, want ErrUnsafePath", err)
	}
	if _, err := r.openBeneath("missing", os.O_RDONLY); err == nil || errors.Is(err, ErrUnsafePath) {
		t.Errorf("a missing name: %v, want a plain not-found error", err)
	}
}
