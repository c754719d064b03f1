package session

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gorsync/gorsync/internal/exitcode"
	"github.com/gorsync/gorsync/internal/fastio"
)

// truncateOnFirstMap makes the sender's first view of f lose everything
// past cut before the block search reads it; it reports whether that view
// was a mapping and how many views of f there were.
func truncateOnFirstMap(t *testing.T, cut int64) (hook func(string, bool), mapped *bool, views *int) {
	var mu sync.Mutex
	mapped, views = new(bool), new(int)
	hook = func(name string, m bool) {
		if filepath.Base(name) != "f" {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		*views++
		if *views == 1 {
			*mapped = m
			if err := os.Truncate(name, cut); err != nil {
				t.Error(err)
			}
		}
	}
	return hook, mapped, views
}

// TestSourceTruncatedWhileMapped truncates a source file while the sender's
// block search has it mapped, in a local copy (both roles gorsync) and in a
// push to upstream rsync's receiver. The fault is no crash: the file is
// sent with zeros for what was lost and a spoiled checksum, the sender
// reports rsync's "read errors mapping", the receiver discards it and asks
// again, the second sending (of the shorter file) succeeds, the other file
// arrives, and the run ends with exit code 23, as rsync's would.
func TestSourceTruncatedWhileMapped(t *testing.T) {
	const cut = 100_000
	for _, peer := range []string{"gorsync", "upstream"} {
		t.Run(peer, func(t *testing.T) {
			src, dst, data := redoCase(t)
			other := []byte("the transfer goes on\n")
			os.WriteFile(filepath.Join(src, "g"), other, 0o644)
			hook, mapped, views := truncateOnFirstMap(t, cut)
			adjust := func(cfg *Config) {
				cfg.IO = cfg.IO.With(fastio.Mmap, true)
				cfg.Hooks.Mapped = hook
			}
			var stdout, stderr bytes.Buffer
			env := Env{Stdout: &stdout, Stderr: &stderr}
			var code int
			if peer == "gorsync" {
				code = runMain(context.Background(), []string{"-a", "--no-W", src + "/", dst + "/"}, env, adjust)
			} else {
				err := runUpstream(t, []string{"-a", "--no-W", src + "/", "localhost:" + dst + "/"}, env, adjust)
				code = exitcode.Of(err)
			}
			if !*mapped {
				t.Fatal("the source was not mapped for the block search")
			}
			if code != 23 {
				t.Errorf("exit code %d, want 23\n%s%s", code, stdout.String(), stderr.String())
			}
			if !strings.Contains(stderr.String(), `read errors mapping "f"`) {
				t.Errorf("no read error reported for f:\n%s", stderr.String())
			}
			if *views != 2 {
				t.Errorf("the sender read f %d times, want 2 (first sending, redo)", *views)
			}
			if got, _ := os.ReadFile(filepath.Join(dst, "f")); !bytes.Equal(got, data[:cut]) {
				t.Errorf("f has %d bytes after the redo, want the truncated source's %d", len(got), cut)
			}
			if got, _ := os.ReadFile(filepath.Join(dst, "g")); !bytes.Equal(got, other) {
				t.Error("the other file did not arrive")
			}
		})
	}
}
