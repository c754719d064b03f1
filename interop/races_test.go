package interop

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorsync/gorsync/internal/fastio"
	"github.com/gorsync/gorsync/internal/rsynctest"
	"golang.org/x/sys/unix"
)

// This file holds the regression tests of issue 9's symlink races (items 5
// and 6): while gorsync copies a tree, an attacker who may write in it
// keeps swapping its directories for symbolic links to a directory outside
// (the sentinel tree, whose every file holds raceSecret). Each transfer
// runs with gorsync in every role the item concerns, with upstream rsync on
// the other end, and after each run nothing of the sentinel tree may have
// reached the destination and nothing in it may have changed. The swaps
// run in a loop for a bounded time, so a window is hit by chance; the
// tests of internal/session and internal/flist hit the same windows at a
// hook, every time.

// raceSecret is the content of every file outside the tree.
const raceSecret = "SECRET: outside the transfer\n"

// raceDirs and raceFiles shape the source tree: raceDirs directories of
// raceFiles files, each with a subdirectory of one file.
const (
	raceDirs  = 40
	raceFiles = 20
)

// raceBudget bounds the runs of one role of TestRacesSourceSwap, and of
// one role and scenario of TestRacesDestinationSwap; a run that has begun
// ends.
const raceBudget = 1200 * time.Millisecond

// raceRole is one way of running a transfer: the program on each end.
type raceRole struct {
	name           string
	client, server string // server "" for a local copy
	push           bool
}

// command returns the argv of role for src and dst (local paths).
func (r raceRole) command(rsh string, args []string, src, dst string, more ...string) (string, []string) {
	args = slices.Clone(args)
	srcs := append([]string{src}, more...)
	switch {
	case r.server == "":
	case r.push:
		args = append(args, "-e", rsh, "--rsync-path="+r.server)
		dst = "localhost:" + dst
	default:
		args = append(args, "-e", rsh, "--rsync-path="+r.server)
		for i := range srcs {
			srcs[i] = "localhost:" + srcs[i]
		}
	}
	return r.client, append(append(args, srcs...), dst)
}

// raceSentinel makes base/outside: a file of raceSecret for each name a
// source directory holds (f00..., sub/g), so that a path followed through
// a swapped link finds one; and returns it.
func raceSentinel(t *testing.T, base string) string {
	t.Helper()
	outside := filepath.Join(base, "outside")
	if err := os.MkdirAll(filepath.Join(outside, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	names := []string{"sub/g", "sub/secret", "secret"}
	for i := range raceFiles {
		names = append(names, fmt.Sprintf("f%02d", i))
	}
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(outside, n), []byte(raceSecret), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return outside
}

// raceSource makes base/src: dirs directories d00... of raceFiles files
// and a subdirectory sub with g.
func raceSource(t *testing.T, base string, dirs int) string {
	t.Helper()
	src := filepath.Join(base, "src")
	for d := range dirs {
		dir := filepath.Join(src, fmt.Sprintf("d%02d", d))
		if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
			t.Fatal(err)
		}
		for i := range raceFiles {
			data := fmt.Sprintf("inside %d %d\n", d, i)
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%02d", i)), []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, "sub/g"), []byte("g inside\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		// A name the sentinel tree lacks, for an argument of its own.
		if err := os.WriteFile(filepath.Join(dir, "only"), []byte("only inside\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return src
}

// snapshot records every name beneath dir with its mode, mtime and
// content.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		v := fmt.Sprintf("%v %d", fi.Mode(), fi.ModTime().UnixNano())
		switch {
		case fi.Mode().IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			v += " " + string(data)
		case fi.Mode()&os.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			v += " -> " + target
		}
		m[rel] = v
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// checkRace fails the test if a file beneath dst holds raceSecret or is
// named after a file of the sentinel tree, or the sentinel tree differs
// from want; it reports whether all was well.
func checkRace(t *testing.T, dst, outside string, want map[string]string, run string) bool {
	t.Helper()
	var leaked []string
	filepath.Walk(dst, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return nil
		}
		if strings.Contains(fi.Name(), "secret") {
			leaked = append(leaked, p)
		} else if fi.Mode().IsRegular() {
			if data, _ := os.ReadFile(p); bytes.Contains(data, []byte(raceSecret)) {
				leaked = append(leaked, p)
			}
		}
		return nil
	})
	ok := len(leaked) == 0
	if !ok {
		t.Errorf("%s: %d files from outside the tree reached the destination, %s the first", run, len(leaked), leaked[0])
	}
	if got := snapshot(t, outside); !mapsEqual(got, want) {
		var diff []string
		for k, v := range got {
			if want[k] != v {
				diff = append(diff, k)
			}
		}
		for k := range want {
			if _, ok := got[k]; !ok {
				diff = append(diff, k+" (gone)")
			}
		}
		slices.Sort(diff)
		if len(diff) > 5 {
			diff = append(diff[:5], fmt.Sprintf("and %d more", len(diff)-5))
		}
		t.Errorf("%s: the sentinel tree outside the destination changed: %q", run, diff)
		ok = false
	}
	return ok
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// swapper swaps directories for links to target until stopped, each for
// a moment, then puts it back.
type swapper struct {
	stop chan struct{}
	done sync.WaitGroup
	hits atomic.Int64
}

// startSwapper keeps swapping each directory of dirs (in turn) for a
// symbolic link to target, parking it at hold while swapped.
func startSwapper(dirs []string, hold, target string) *swapper {
	s := &swapper{stop: make(chan struct{})}
	s.done.Add(1)
	go func() {
		defer s.done.Done()
		for i := 0; ; i++ {
			select {
			case <-s.stop:
				return
			default:
			}
			dir := dirs[i%len(dirs)]
			parked := filepath.Join(hold, fmt.Sprintf("%d-%s", i%len(dirs), filepath.Base(dir)))
			if unix.Rename(dir, parked) != nil {
				continue
			}
			if unix.Symlink(target, dir) == nil {
				s.hits.Add(1)
				time.Sleep(time.Duration(50+i%7*40) * time.Microsecond)
				unix.Unlink(dir)
			}
			unix.Rename(parked, dir)
		}
	}()
	return s
}

func (s *swapper) end() {
	close(s.stop)
	s.done.Wait()
}

// raceEnvs are the fast-path settings the runs take in turn: the defaults,
// the plain paths (no batched walk, no parent-directory cache), and the
// walk listing ahead with io_uring.
var raceEnvs = [][]string{
	nil,
	{fastio.Env + "=batch=off,parallel=off"},
	{fastio.Env + "=batch=on,parallel=on,uring=on"},
}

// TestRacesSourceSwap is item 5: gorsync sends (locally, pushing to
// upstream's receiver, pulled from by upstream's client) a tree whose
// directories are swapped for links to the sentinel tree while it is
// walked and its files are opened, with -a, -c and -R, and with the fast
// paths on and off. No file of the sentinel tree may reach the
// destination: a swapped directory is reported (vanished, or "Too many
// levels of symbolic links", exit 23 or 24), never followed.
func TestRacesSourceSwap(t *testing.T) {
	trees(t)
	gorsync := rsynctest.BuildGorsync(t)
	rsync := rsynctest.RequireRsync(t)
	roles := []raceRole{
		{"local", gorsync, "", false},
		{"gorsync-push-to-rsync", gorsync, rsync, true},
		{"rsync-pull-from-gorsync", rsync, gorsync, false},
	}
	// "-aR+" adds a second argument naming a file inside d00: its
	// parent is then reached by that name, by path, while the first
	// argument's recursion found d00's files beneath it; a d00 swapped for
	// a link since must not lead the first argument's files outside.
	variants := [][]string{{"-a"}, {"-a", "-c"}, {"-aR"}, {"-aR+"}}
	for _, role := range roles {
		t.Run(role.name, func(t *testing.T) {
			base := t.TempDir()
			src := raceSource(t, base, raceDirs)
			outside := raceSentinel(t, base)
			want := snapshot(t, outside)
			hold := filepath.Join(base, "hold")
			if err := os.Mkdir(hold, 0o755); err != nil {
				t.Fatal(err)
			}
			var dirs []string
			for d := range raceDirs {
				dirs = append(dirs, filepath.Join(src, fmt.Sprintf("d%02d", d)))
				if d%4 == 0 {
					dirs = append(dirs, filepath.Join(src, fmt.Sprintf("d%02d/sub", d)))
				}
			}
			sw := startSwapper(dirs, hold, outside)
			defer sw.end()
			start := time.Now()
			runs := 0
			for ; time.Since(start) < raceBudget; runs++ {
				args := variants[runs%len(variants)]
				from := src + "/"
				var more []string
				switch args[0] {
				case "-aR":
					from = base + "/./src/"
				case "-aR+":
					args = []string{"-aR"}
					from = base + "/./src/"
					more = []string{base + "/./src/d00/only"}
				}
				dst := filepath.Join(base, fmt.Sprintf("dst%d", runs))
				name, argv := role.command(localRsh, args, from, dst+"/", more...)
				_, errOut, code := rsynctest.Run(t, base, raceEnvs[runs%len(raceEnvs)], name, argv...)
				if code != 0 && code != 23 && code != 24 {
					t.Fatalf("run %d (%s): exit %d\n%s", runs, strings.Join(args, " "), code, errOut)
				}
				if !checkRace(t, dst, outside, want, fmt.Sprintf("run %d (%s)", runs, strings.Join(args, " "))) {
					break
				}
				os.RemoveAll(dst)
			}
			t.Logf("%d runs, %d swaps", runs, sw.hits.Load())
		})
	}
}

// TestRacesDestinationSwap is item 6: gorsync receives (locally, pushed to
// by upstream's client, pulling from upstream's server) while the
// directories it makes in the destination are swapped for links to the
// sentinel tree: the destination directory it creates, the components
// --mkpath creates, and the directories of the tree it writes, with -a and
// -R (implied directories) and with the parent-directory cache on and off.
// Nothing outside the destination may be written or changed: a swapped
// directory is an error, or is written in where it was moved, inside.
func TestRacesDestinationSwap(t *testing.T) {
	trees(t)
	gorsync := rsynctest.BuildGorsync(t)
	rsync := rsynctest.RequireRsync(t)
	roles := []raceRole{
		{"local", gorsync, "", false},
		{"rsync-push-to-gorsync", rsync, gorsync, true},
		{"gorsync-pull-from-rsync", gorsync, rsync, false},
	}
	type scenario struct {
		name string
		// dst is the destination of run i beneath base/dst (with the
		// command line's trailing slash), and swap the directory the
		// attacker swaps as soon as the receiver has made it.
		dst  func(i int) (dst, swap string)
		args []string
	}
	scenarios := []scenario{
		{"new-dst", func(i int) (string, string) { return fmt.Sprintf("n%d/", i), fmt.Sprintf("n%d", i) }, []string{"-a"}},
		{"mkpath", func(i int) (string, string) { return fmt.Sprintf("m%d/sub/b/", i), fmt.Sprintf("m%d/sub", i) }, []string{"-a", "--mkpath"}},
		{"tree", nil, []string{"-a"}},
		{"tree-relative", nil, []string{"-aR"}},
	}
	for _, role := range roles {
		for _, sc := range scenarios {
			t.Run(role.name+"/"+sc.name, func(t *testing.T) {
				base := t.TempDir()
				dirs, budget := raceDirs/2, raceBudget/3
				if sc.dst != nil {
					// The window is before the first file: short
					// runs, many of them.
					dirs, budget = 1, raceBudget/2
				}
				src := raceSource(t, base, dirs)
				outside := raceSentinel(t, base)
				if err := os.Mkdir(filepath.Join(outside, "b"), 0o755); err != nil {
					t.Fatal(err) // what --mkpath's sub/b/ leads to through a link to outside
				}
				want := snapshot(t, outside)
				dstRoot := filepath.Join(base, "dst")
				if err := os.Mkdir(dstRoot, 0o755); err != nil {
					t.Fatal(err)
				}
				start := time.Now()
				runs := 0
				for ; time.Since(start) < budget; runs++ {
					from := src + "/"
					if sc.args[0] == "-aR" {
						from = base + "/./src/"
					}
					dst := filepath.Join(dstRoot, fmt.Sprintf("t%d", runs)) + "/"
					var stop func()
					if sc.dst != nil {
						var swap string
						dst, swap = sc.dst(runs)
						dst = filepath.Join(dstRoot, dst) + "/"
						stop = swapWhenMade(filepath.Join(dstRoot, swap), outside)
					} else {
						// The tree's directories as the receiver makes
						// them, moved aside within the destination.
						var dirs []string
						top := dst
						if sc.args[0] == "-aR" {
							top = filepath.Join(dst, "src")
							dirs = append(dirs, top) // the implied directory
						}
						for d := range raceDirs / 2 {
							dirs = append(dirs, filepath.Join(top, fmt.Sprintf("d%02d", d)))
							if d%4 == 0 {
								dirs = append(dirs, filepath.Join(top, fmt.Sprintf("d%02d/sub", d)))
							}
						}
						if err := os.MkdirAll(filepath.Join(dst, "aside"), 0o755); err != nil {
							t.Fatal(err)
						}
						sw := startSwapper(dirs, filepath.Join(dst, "aside"), outside)
						stop = sw.end
					}
					name, argv := role.command(localRsh, sc.args, from, dst)
					rsynctest.Run(t, base, raceEnvs[runs%len(raceEnvs)], name, argv...)
					stop()
					if !checkRace(t, dstRoot, outside, want, fmt.Sprintf("run %d", runs)) {
						break
					}
					removeLinks(dstRoot)
				}
				t.Logf("%d runs", runs)
			})
		}
	}
}

// swapWhenMade waits, until stopped, for the directory dir to appear and
// swaps it at once for a symbolic link to target (moving it aside, next to
// where it was): the moment after a receiver made a destination directory
// and before it made the next or opened it. It returns the function that
// stops it.
func swapWhenMade(dir, target string) func() {
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stop.Load() {
			if unix.Rename(dir, dir+".aside") == nil {
				unix.Symlink(target, dir)
				return
			}
		}
	}()
	return func() {
		stop.Store(true)
		wg.Wait()
	}
}

// removeLinks removes the symbolic links beneath dir, so that the next
// run's checks do not walk through them.
func removeLinks(dir string) {
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode()&os.ModeSymlink != 0 {
			os.Remove(p)
		}
		return nil
	})
}
