package session

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gorsync/gorsync/internal/fastio"
	"github.com/gorsync/gorsync/internal/rsynctest"
	"golang.org/x/sys/unix"
)

// kernelCopies reports whether copy_file_range works within dir.
func kernelCopies(t *testing.T, dir string) bool {
	t.Helper()
	a, err := os.CreateTemp(dir, "probe")
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(a.Name())
	defer a.Close()
	b, err := os.CreateTemp(dir, "probe")
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(b.Name())
	defer b.Close()
	a.WriteString("probe")
	var roff, woff int64
	n, err := unix.CopyFileRange(int(a.Fd()), &roff, int(b.Fd()), &woff, 5, 0)
	return err == nil && n == 5
}

// runLocal runs a command line in this process with adjust (if not nil)
// applied to its Config and returns its output, exit code and how many
// copy_file_range calls moved data.
func runLocal(t *testing.T, adjust func(*Config), args ...string) (stdout, stderr string, code int, calls int64) {
	t.Helper()
	var out, errb bytes.Buffer
	before, _ := fastio.CopyRangeCounts()
	code = runMain(context.Background(), args, Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb}, adjust)
	after, _ := fastio.CopyRangeCounts()
	return out.String(), errb.String(), code, after - before
}

// statsLines keeps the --stats figures that must not depend on how the
// data travelled: everything but the bytes on the stream.
func statsLines(t *testing.T, out string) rsynctest.Stats {
	t.Helper()
	s, err := rsynctest.ParseStats(out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	s.FileListSize, s.TotalBytesSent, s.TotalBytesReceived, s.Sent, s.Received = 0, 0, 0, 0, 0
	return s
}

// TestLocalCopyRange copies the standard tree locally with copy_file_range
// on and off: the trees and the --stats counts and sizes must be the same,
// and with it on every non-empty regular file must have gone through
// copy_file_range (where the kernel does it in this directory), with it
// off none.
func TestLocalCopyRange(t *testing.T) {
	root := t.TempDir()
	src := filepath.Join(root, "src")
	rsynctest.MakeStandardTree(t, src, 7, rsynctest.TreeOptions{BigFileSize: 3 << 20})
	regular := 0
	filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if fi, e := d.Info(); e == nil && fi.Mode().IsRegular() && fi.Size() > 0 {
			regular++
		}
		return nil
	})
	kernel := kernelCopies(t, root)
	if !kernel {
		t.Logf("copy_file_range does not work in %s: only the fallback is checked", root)
	}
	for _, tc := range []struct {
		name string
		args []string
		// handed says whether whole files go as open files here.
		handed bool
	}{
		{"whole file", []string{"-a", "--stats"}, true},
		{"no-W without a basis", []string{"-a", "--stats", "--no-W"}, true},
		{"compressed", []string{"-a", "--stats", "-z"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stats [2]rsynctest.Stats
			for i, on := range []bool{true, false} {
				dst := filepath.Join(root, strings.ReplaceAll(tc.name, " ", "-"), map[bool]string{true: "on", false: "off"}[on])
				os.MkdirAll(filepath.Dir(dst), 0o755)
				out, errs, code, calls := runLocal(t, withPath(fastio.CopyRange, on), append(tc.args, src+"/", dst+"/")...)
				if code != 0 {
					t.Fatalf("copyrange=%v: exit %d\n%s%s", on, code, out, errs)
				}
				rsynctest.CompareTrees(t, src, dst, rsynctest.Archive(false))
				stats[i] = statsLines(t, out)
				want := on && tc.handed && kernel
				if want && calls < int64(regular) {
					t.Errorf("copyrange=%v: %d copy_file_range calls moved data, want at least one per non-empty file (%d)", on, calls, regular)
				}
				if !want && calls != 0 {
					t.Errorf("copyrange=%v: %d copy_file_range calls, want none", on, calls)
				}
			}
			if stats[0] != stats[1] {
				t.Errorf("--stats differ:\n on: %+v\noff: %+v", stats[0], stats[1])
			}
		})
	}
}

// TestLocalCopyRangeShrunk truncates a file after the sender has handed it
// over and before the receiver copies it: the copy comes up short, which is
// reported as the sender's read error (exit 23), and the redo phase copies
// the file at its new size.
func TestLocalCopyRangeShrunk(t *testing.T) {
	root := t.TempDir()
	src, dst := filepath.Join(root, "src"), filepath.Join(root, "dst")
	os.MkdirAll(src, 0o755)
	data := bytes.Repeat([]byte("0123456789abcdef"), 40000)
	if err := os.WriteFile(filepath.Join(src, "f"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	shrunk := 0
	adjust := func(cfg *Config) {
		cfg.IO = cfg.IO.With(fastio.CopyRange, true)
		cfg.Hooks.Handed = func(name string) {
			if name == "f" && shrunk == 0 {
				shrunk++
				os.Truncate(filepath.Join(src, "f"), 1000)
			}
		}
	}
	out, errs, code, _ := runLocal(t, adjust, "-a", "-v", src+"/", dst+"/")
	if code != 23 {
		t.Errorf("exit %d, want 23\n%s%s", code, out, errs)
	}
	if !strings.Contains(errs, `read errors mapping "f"`) {
		t.Errorf("no read error reported:\n%s", errs)
	}
	if shrunk != 1 {
		t.Fatalf("hook ran %d times", shrunk)
	}
	got, err := os.ReadFile(filepath.Join(dst, "f"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data[:1000]) {
		t.Errorf("destination has %d bytes, want the 1000 the source has now", len(got))
	}
}

// withPath is a Config adjustment that turns fast path p on or off.
func withPath(p fastio.Path, on bool) func(*Config) {
	return func(cfg *Config) { cfg.IO = cfg.IO.With(p, on) }
}
