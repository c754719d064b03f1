package session

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/gorsync/gorsync/internal/exitcode"
	"github.com/gorsync/gorsync/internal/fastio"
)

// TestCloseFailureStops makes closing a received file's temporary file
// fail (as a full disk or an NFS server reports only at close), in a local
// copy and in a pull from upstream rsync's sender: as rsync's receiver
// does, the run stops with "close failed on" and exit code 11, the old
// destination file stays as it was, and no temporary file is left.
func TestCloseFailureStops(t *testing.T) {
	for _, peer := range []string{"gorsync", "upstream"} {
		t.Run(peer, func(t *testing.T) {
			src, dst, _ := redoCase(t)
			old, err := os.ReadFile(filepath.Join(dst, "f"))
			if err != nil {
				t.Fatal(err)
			}
			closes := 0
			adjust := func(cfg *Config) {
				cfg.IO = cfg.IO.With(fastio.CopyRange, false)
				cfg.Hooks.CloseTemp = func(f *os.File) error {
					closes++
					f.Close()
					return &os.PathError{Op: "close", Path: f.Name(), Err: syscall.EIO}
				}
			}
			var stdout, stderr bytes.Buffer
			env := Env{Stdout: &stdout, Stderr: &stderr}
			var code int
			if peer == "gorsync" {
				code = runMain(context.Background(), []string{"-a", src + "/", dst + "/"}, env, adjust)
			} else {
				err := runUpstream(t, []string{"-a", "localhost:" + src + "/", dst + "/"}, env, adjust)
				code = exitcode.Of(err)
				stderr.WriteString(errorLines(err, "client")) // what Main would print
			}
			if code != exitcode.FileIO {
				t.Errorf("exit code %d, want 11\n%s%s", code, stdout.String(), stderr.String())
			}
			if closes != 1 {
				t.Errorf("%d closes through the hook, want 1", closes)
			}
			if !strings.Contains(stderr.String(), "close failed on ") || !strings.Contains(stderr.String(), "Input/output error (5)") {
				t.Errorf("no close failure reported:\n%s", stderr.String())
			}
			got, err := os.ReadFile(filepath.Join(dst, "f"))
			if err != nil || !bytes.Equal(got, old) {
				t.Errorf("the destination file changed after a failed close (%v)", err)
			}
			noTempFiles(t, dst)
		})
	}
}

// noTempFiles fails t if a receiver's temporary file (".name.XXXXXX") is
// left anywhere beneath dir.
func noTempFiles(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".") && d.Name() != "." {
			t.Errorf("temporary file left behind: %s", p)
		}
		return nil
	})
}
