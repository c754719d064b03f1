package session

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorsync/gorsync/internal/engine"
	"github.com/gorsync/gorsync/internal/exitcode"
	"github.com/gorsync/gorsync/internal/rsynctest"
)

// These tests pull from upstream rsync's sender with incremental recursion
// (and with --no-i-r), with what only an in-process client can arrange:
// a basis changed under the generator, and a source changed while the
// sender still lists it.

// fastTempDir is t.TempDir on a memory file system when there is one:
// the trees here have thousands of entries.
func fastTempDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("/dev/shm", "gorsync-session-")
	if err != nil {
		return t.TempDir()
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// TestIncRecurseRedo changes a basis file deep in a tree of many lists
// after its block sums went out: the receiver must have it sent again
// with full-length sums, with incremental recursion as soon as the
// generator is between two lists (the redo cannot wait for a phase), and
// end with the source's bytes.
func TestIncRecurseRedo(t *testing.T) {
	rsynctest.RequireRsync(t)
	for _, extra := range [][]string{nil, {"-c"}, {"--no-i-r"}} {
		t.Run(fmt.Sprint("args", extra), func(t *testing.T) {
			root := fastTempDir(t)
			src, dst := filepath.Join(root, "src"), filepath.Join(root, "dst")
			deep := filepath.Join("d3", "d1", "d4")
			rng := rand.New(rand.NewPCG(3, 4))
			data := make([]byte, 300_000)
			for i := range data {
				data[i] = byte(rng.Uint32())
			}
			for i := range 6 {
				for j := range 6 {
					for k := range 6 {
						d := filepath.Join(src, fmt.Sprintf("d%d", i), fmt.Sprintf("d%d", j), fmt.Sprintf("d%d", k))
						if err := os.MkdirAll(d, 0o755); err != nil {
							t.Fatal(err)
						}
						os.WriteFile(filepath.Join(d, "small"), []byte(d), 0o644)
					}
				}
			}
			// The destination has only the basis, stale.
			if err := os.MkdirAll(filepath.Join(dst, deep), 0o755); err != nil {
				t.Fatal(err)
			}
			old := bytes.Clone(data)
			copy(old[1000:], "an edit the delta has to carry")
			os.WriteFile(filepath.Join(src, deep, "big"), data, 0o644)
			os.WriteFile(filepath.Join(dst, deep, "big"), old, 0o644)
			// The source is older than the destination by far: rsync
			// compares whole seconds.
			past := time.Now().Add(-time.Hour)
			os.Chtimes(filepath.Join(dst, deep, "big"), past, past)
			srcTime := past.Add(-time.Hour)
			filepath.WalkDir(src, func(p string, _ os.DirEntry, _ error) error {
				return os.Chtimes(p, srcTime, srcTime)
			})
			var mu sync.Mutex
			calls := 0
			afterSums := func(name string) {
				mu.Lock()
				defer mu.Unlock()
				calls++
				if calls == 1 {
					os.WriteFile(filepath.Join(dst, name), bytes.Repeat([]byte{0x5a}, len(data)), 0o644)
				}
			}
			var stdout, stderr bytes.Buffer
			args := append([]string{"-a", "--no-W", "-vv"}, extra...)
			err := runUpstream(t, append(args, "localhost:"+src+"/", dst+"/"), Env{Stdout: &stdout, Stderr: &stderr},
				func(cfg *Config) { cfg.Hooks.AfterSums = afterSums })
			if err != nil {
				t.Fatalf("pull: %v\n%s%s", err, stdout.String(), stderr.String())
			}
			if inc := strings.Contains(stdout.String(), "receiving incremental file list"); inc == slices.Contains(extra, "--no-i-r") {
				t.Errorf("incremental: %v", inc)
			}
			if calls != 2 {
				t.Errorf("generator sent sums %d times, want 2 (original and redo)", calls)
			}
			if !strings.Contains(stderr.String(), "big failed verification -- update discarded (will try again).") {
				t.Errorf("no retransmission notice in:\n%s", stderr.String())
			}
			rsynctest.CompareTrees(t, src, dst, rsynctest.Archive(false))
		})
	}
}

// TestIncRecurseSourceChanges deletes and adds files in the source's last
// directories once the first file has arrived, while upstream's sender,
// with incremental recursion, has not listed those directories yet (it
// lists at most 10,000 entries ahead): the destination must end as the
// source ends. Without incremental recursion the list was complete before
// any file went: the deleted files vanish (exit code 24) and the new ones
// do not come.
func TestIncRecurseSourceChanges(t *testing.T) {
	rsynctest.RequireRsync(t)
	const dirs, files, changed = 300, 50, 10
	for _, inc := range []bool{true, false} {
		t.Run(fmt.Sprint("inc=", inc), func(t *testing.T) {
			root := fastTempDir(t)
			src, dst := filepath.Join(root, "src"), filepath.Join(root, "dst")
			for i := range dirs {
				d := filepath.Join(src, fmt.Sprintf("d%03d", i))
				if err := os.MkdirAll(d, 0o755); err != nil {
					t.Fatal(err)
				}
				for j := range files {
					os.WriteFile(filepath.Join(d, fmt.Sprintf("f%02d", j)), nil, 0o644)
				}
			}
			var once sync.Once
			change := func(engine.FileEvent) {
				once.Do(func() {
					for i := dirs - changed; i < dirs; i++ {
						d := filepath.Join(src, fmt.Sprintf("d%03d", i))
						os.Remove(filepath.Join(d, "f00"))
						os.WriteFile(filepath.Join(d, "new"), []byte("new"), 0o644)
					}
				})
			}
			args := []string{"-a"}
			if !inc {
				args = append(args, "--no-i-r")
			}
			var stdout, stderr bytes.Buffer
			err := runUpstream(t, append(args, "localhost:"+src+"/", dst+"/"), Env{Stdout: &stdout, Stderr: &stderr},
				func(cfg *Config) { cfg.OnFile = change })
			for i := dirs - changed; i < dirs; i++ {
				d := fmt.Sprintf("d%03d", i)
				_, newErr := os.Stat(filepath.Join(dst, d, "new"))
				_, oldErr := os.Stat(filepath.Join(dst, d, "f00"))
				switch {
				case !errors.Is(oldErr, os.ErrNotExist):
					t.Errorf("%s/f00, deleted from the source, was received", d)
				case inc && newErr != nil:
					t.Errorf("%s/new, added before its directory was listed, missing: %v", d, newErr)
				case !inc && newErr == nil:
					t.Errorf("%s/new, added after the whole list went, was received", d)
				}
			}
			if inc {
				if err != nil {
					t.Fatalf("pull: %v\n%s", err, stderr.String())
				}
				// The directories' own entries, in the first list, went
				// before they changed.
				cmp := rsynctest.Archive(false)
				cmp.DirTimes = false
				rsynctest.CompareTrees(t, src, dst, cmp)
			} else if exitcode.Of(err) != exitcode.Vanished {
				t.Errorf("exit code %d (%v), want %d (files vanished)", exitcode.Of(err), err, exitcode.Vanished)
			}
		})
	}
}
