package session

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorsync/gorsync/internal/exitcode"
	"github.com/gorsync/gorsync/internal/rsynctest"
)

// incSendTree writes root/src with 200 top-level directories, each with a
// subdirectory holding a 20 KiB file, and a top-level file: gorsync's
// sender sends it as some 400 lists, most after the transfer has begun.
// It returns the files' contents by name.
func incSendTree(t *testing.T, root string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{"top": []byte("top\n")}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 200 {
		data := make([]byte, 20<<10)
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		files[fmt.Sprintf("d%03d/sub/f", i)] = data
	}
	for name, data := range files {
		p := filepath.Join(root, "src", name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Times in the past: a directory written to in the second of the run
	// keeps the run's time in upstream's copy too.
	past := time.Unix(1_600_000_000, 0)
	var dirs []string
	filepath.Walk(filepath.Join(root, "src"), func(p string, fi os.FileInfo, err error) error {
		if err == nil {
			dirs = append(dirs, p)
		}
		return err
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		os.Chtimes(dirs[i], past, past)
	}
	return files
}

// incHeaderFor is what a pushing client's -v says first.
func incHeaderFor(inc bool) string {
	if inc {
		return "sending incremental file list\n"
	}
	return "building file list ... done\n"
}

// TestIncSendRedo pushes to upstream's receiver with the first whole-file
// checksum of three files deep in later lists spoiled: upstream asks for
// them again (under incremental recursion while the lists still go out),
// gorsync's sender finds them in the lists still live, and every file
// arrives. With and without incremental recursion.
func TestIncSendRedo(t *testing.T) {
	for _, inc := range []bool{true, false} {
		t.Run(map[bool]string{true: "inc", false: "no-inc"}[inc], func(t *testing.T) {
			root := t.TempDir()
			incSendTree(t, root)
			src, dst := filepath.Join(root, "src"), filepath.Join(root, "dst")
			bad := map[string]int{"d150/sub/f": 0, "d151/sub/f": 0, "d199/sub/f": 0}
			var mu sync.Mutex
			corrupt := func(name string) bool {
				mu.Lock()
				defer mu.Unlock()
				n, ok := bad[name]
				if ok {
					bad[name] = n + 1
				}
				return ok && n == 0
			}
			args := []string{"-a", "-v", src + "/", "localhost:" + dst + "/"}
			if !inc {
				args = append(args, "--no-i-r")
			}
			var stdout, stderr bytes.Buffer
			err := runUpstream(t, args, Env{Stdout: &stdout, Stderr: &stderr},
				func(cfg *Config) { cfg.Hooks.CorruptSum = corrupt })
			if err != nil {
				t.Fatalf("push: %v\n%s%s", err, stdout.String(), stderr.String())
			}
			for name, n := range bad {
				if n != 2 {
					t.Errorf("%s sent %d times, want 2", name, n)
				}
			}
			if !strings.HasPrefix(stdout.String(), incHeaderFor(inc)) {
				t.Errorf("output does not start with %q:\n%.500s", incHeaderFor(inc), stdout.String())
			}
			rsynctest.CompareTrees(t, src, dst, rsynctest.Archive(false))
		})
	}
}

// TestIncSendWalkChanges changes the source once the first list is made
// (Hooks.FirstListed; without incremental recursion Hooks.Listed, once
// the whole list is): under incremental recursion the directories not yet
// listed are walked as they are then, so a file made in one arrives, a
// file removed from one is simply not there, and a listed directory that
// is gone is reported as vanished (its list is empty) like the listed
// top-level file that is gone: exit 24, as rsync's. Without incremental
// recursion the list was complete before the change: the removed files
// vanish and the new one is unknown.
func TestIncSendWalkChanges(t *testing.T) {
	for _, inc := range []bool{true, false} {
		t.Run(map[bool]string{true: "inc", false: "no-inc"}[inc], func(t *testing.T) {
			root := t.TempDir()
			incSendTree(t, root)
			src, dst := filepath.Join(root, "src"), filepath.Join(root, "dst")
			var once sync.Once
			change := func() {
				once.Do(func() {
					for _, p := range []string{"top", "d150", "d180/sub/f"} {
						if err := os.RemoveAll(filepath.Join(src, p)); err != nil {
							t.Error(err)
						}
					}
					if err := os.WriteFile(filepath.Join(src, "d170/sub/new"), []byte("new\n"), 0o644); err != nil {
						t.Error(err)
					}
				})
			}
			args := []string{"-a", src + "/", "localhost:" + dst + "/"}
			if !inc {
				args = append(args, "--no-i-r")
			}
			var stdout, stderr bytes.Buffer
			err := runUpstream(t, args, Env{Stdout: &stdout, Stderr: &stderr},
				func(cfg *Config) { cfg.Hooks.FirstListed, cfg.Hooks.Listed = change, change })
			out := stdout.String() + stderr.String()
			if code := exitcode.Of(err); code != 24 {
				t.Fatalf("exit code %d (%v), want 24\n%s", code, err, out)
			}
			vanished := []string{`file has vanished: "` + filepath.Join(src, "top") + `"`}
			if inc {
				vanished = append(vanished, `directory has vanished: "`+filepath.Join(src, "d150")+`"`)
			} else {
				vanished = append(vanished, `file has vanished: "`+filepath.Join(src, "d150/sub/f")+`"`,
					`file has vanished: "`+filepath.Join(src, "d180/sub/f")+`"`)
			}
			for _, v := range vanished {
				if !strings.Contains(out, v) {
					t.Errorf("no %q in\n%s", v, out)
				}
			}
			_, errNew := os.Stat(filepath.Join(dst, "d170/sub/new"))
			if inc != (errNew == nil) {
				t.Errorf("new file arrived: %v (incremental: %v)", errNew == nil, inc)
			}
			for _, p := range []string{"top", "d180/sub/f"} {
				if _, err := os.Lstat(filepath.Join(dst, p)); err == nil {
					t.Errorf("%s arrived", p)
				}
			}
			// The rest is the source as it is now; d150, listed
			// before it went, is an empty directory.
			if fi, err := os.Stat(filepath.Join(dst, "d150")); err != nil || !fi.IsDir() {
				t.Errorf("d150: %v", err)
			}
			cmp := rsynctest.Archive(false)
			cmp.DirTimes = false // the source's changed after they were listed
			cmp.Ignore = func(rel string) bool { return rel == "d150" || (!inc && rel == "d170/sub/new") }
			rsynctest.CompareTrees(t, src, dst, cmp)
		})
	}
}
