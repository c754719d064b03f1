package session

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gorsync/gorsync/internal/fastio"
	"github.com/gorsync/gorsync/internal/options"
	"github.com/gorsync/gorsync/internal/rsynctest"
)

// TestConcurrentTransfersKeepTheirSettings runs two local copies at once in
// this process, one with the mapping and hand-off fast paths on and one
// with both off, each with its own hooks. While both are in flight, each
// must see only its own settings: the first's block searches map their
// files and its whole files are handed over, the second's do neither, and
// neither's hooks run for the other. Both trees must come out identical
// to their sources.
func TestConcurrentTransfersKeepTheirSettings(t *testing.T) {
	root := t.TempDir()
	type run struct {
		name     string
		io       fastio.Config
		src, dst string
		mapped   map[bool]int // block searches by whether they mapped
		handed   int
		mu       sync.Mutex
	}
	on := fastio.Defaults().With(fastio.Mmap, true).With(fastio.CopyRange, true)
	runs := []*run{
		{name: "on", io: on},
		{name: "off", io: on.With(fastio.Mmap, false).With(fastio.CopyRange, false)},
	}
	for _, r := range runs {
		r.src, r.dst = filepath.Join(root, r.name, "src"), filepath.Join(root, r.name, "dst")
		r.mapped = map[bool]int{}
		// New files (whole, so handed over where the hand-off is on) and
		// stale ones (deltas, so block-searched) of 1 MiB: above the
		// mapping threshold.
		for i := range 6 {
			data := bytes.Repeat([]byte(fmt.Sprintf("%s-%d ", r.name, i)), 100_000)
			writeFile(t, filepath.Join(r.src, fmt.Sprintf("new%d", i)), data)
			writeFile(t, filepath.Join(r.src, fmt.Sprintf("old%d", i)), data)
			stale := bytes.Clone(data)
			copy(stale[5000:], "a change in the middle")
			writeFile(t, filepath.Join(r.dst, fmt.Sprintf("old%d", i)), stale)
			past := time.Now().Add(-time.Hour)
			os.Chtimes(filepath.Join(r.dst, fmt.Sprintf("old%d", i)), past, past)
		}
	}
	// Each transfer's hooks wait, the first time they run, until the other
	// transfer has reached its hooks too: the two are then in flight at
	// once.
	var started sync.WaitGroup
	started.Add(len(runs))
	var wg sync.WaitGroup
	codes := make([]int, len(runs))
	outputs := make([]string, len(runs))
	for i, r := range runs {
		var once sync.Once
		meet := func() {
			once.Do(func() {
				started.Done()
				done := make(chan struct{})
				go func() { started.Wait(); close(done) }()
				select {
				case <-done:
				case <-time.After(20 * time.Second):
				}
			})
		}
		adjust := func(cfg *Config) {
			cfg.IO = r.io
			cfg.Hooks.Mapped = func(name string, mapped bool) {
				if filepath.Dir(name) != r.src {
					t.Errorf("%s: its hook saw the other transfer's file %s", r.name, name)
				}
				meet()
				r.mu.Lock()
				r.mapped[mapped]++
				r.mu.Unlock()
			}
			cfg.Hooks.Handed = func(name string) {
				meet()
				r.mu.Lock()
				r.handed++
				r.mu.Unlock()
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out bytes.Buffer
			codes[i] = runMain(context.Background(), []string{"-a", "--no-W", r.src + "/", r.dst + "/"}, Env{Stdout: &out, Stderr: &out}, adjust)
			outputs[i] = out.String()
		}()
	}
	wg.Wait()
	for i, r := range runs {
		if codes[i] != 0 {
			t.Fatalf("%s: exit %d\n%s", r.name, codes[i], outputs[i])
		}
		// The root's own mtime is left as the transfer made it, by
		// upstream rsync too (its files were replaced in it).
		cmp := rsynctest.Archive(false)
		cmp.DirTimes = false
		rsynctest.CompareTrees(t, r.src, r.dst, cmp)
	}
	if got := runs[0]; got.mapped[true] != 6 || got.mapped[false] != 0 || got.handed != 6 {
		t.Errorf("fast paths on: %d searches mapped, %d not, %d files handed over; want 6, 0, 6", got.mapped[true], got.mapped[false], got.handed)
	}
	// Off, the new files go through the sender's stream too (read, never
	// mapped): 12 views, none mapped.
	if got := runs[1]; got.mapped[false] != 12 || got.mapped[true] != 0 || got.handed != 0 {
		t.Errorf("fast paths off: %d views mapped, %d not, %d files handed over; want 0, 12, 0", got.mapped[true], got.mapped[false], got.handed)
	}
}

// TestConfigPerTransfer checks that GORSYNC_FASTIO is read from each
// transfer's own environment, not from the process's.
func TestConfigPerTransfer(t *testing.T) {
	o, err := options.Parse([]string{"a/", "b/"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	env := func(v string) Env {
		return Env{Getenv: func(k string) string {
			if k == fastio.Env {
				return v
			}
			return ""
		}}
	}
	off, err := NewConfig(o, env("all=off"))
	if err != nil {
		t.Fatal(err)
	}
	dflt, err := NewConfig(o, env(""))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range fastio.Paths() {
		if off.IO.On(p) || dflt.IO.On(p) != fastio.Default(p) {
			t.Errorf("%s: all=off gives %v, no setting %v", p, off.IO.On(p), dflt.IO.On(p))
		}
	}
	if _, err := NewConfig(o, env("mmap=perhaps")); err == nil {
		t.Error("a malformed GORSYNC_FASTIO was accepted")
	}
}

func writeFile(t *testing.T, name string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
