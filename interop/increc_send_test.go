package interop

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorsync/gorsync/internal/rsynctest"
)

// This file checks gorsync's sender under incremental recursion against
// upstream rsync's receiver, in both positions: a gorsync client pushing
// to upstream's server, and upstream's client pulling from a gorsync
// server. Each case runs with upstream on both ends too, in the same
// direction, and everything TestOptions compares must be the same: trees,
// the file lines of -v in order, the --stats counts, exit codes and
// messages. Each case runs with incremental recursion (the default) and
// with --no-i-r. The tree has over 3,000 directories, four levels deep,
// so that the lists go out in thousands of parts.

// incTree is the source tree of this file's cases, built once.
var (
	sendIncTreeOnce sync.Once
	incTreeBase     string
	sendIncTreeDir  string
	incRsh          string
	sendIncTreeErr  error
)

// incDirs is the tree's shape: 6 top-level directories (d0 to d5), each
// with 8 subdirectories (d0, a.b, a-, B, d4 to d7), three levels down:
// 3,510 directories, and an "empty" one in each top-level one.
var incDirs = []int{6, 8, 8, 8}

// incSrc returns the tree (root/src), building it on first use.
func incSrc(t *testing.T) string {
	t.Helper()
	sendIncTreeOnce.Do(func() {
		base, err := os.MkdirTemp(incShm(), "gorsync-increc-")
		if err != nil {
			sendIncTreeErr = err
			return
		}
		incTreeBase = base
		sendIncTreeDir = filepath.Join(base, "src")
		if sendIncTreeErr = makeIncTree(sendIncTreeDir); sendIncTreeErr != nil {
			return
		}
		// As setup_test.go's localRsh.
		incRsh = filepath.Join(base, "localrsh")
		sendIncTreeErr = os.WriteFile(incRsh, []byte("#!/bin/sh\nshift\nexec sh -c \"$*\"\n"), 0o755)
	})
	if sendIncTreeErr != nil {
		t.Fatal(sendIncTreeErr)
	}
	return sendIncTreeDir
}

// incEpoch is the tree's mtimes, so that copies of it compare equal.
var incEpoch = time.Unix(1_600_000_000, 0)

// makeIncTree writes the tree: in every directory a file or two (names
// that sort unlike their bytes: "a", "a-", "a.b", "B"), every 97th file
// 64 KiB of text (for deltas and compression), a symlink here and there,
// an empty directory in every top-level one.
func makeIncTree(root string) error {
	var dirs []string
	var walk func(dir string, depth int)
	walk = func(dir string, depth int) {
		dirs = append(dirs, dir)
		if depth == len(incDirs) {
			return
		}
		for i := range incDirs[depth] {
			name := fmt.Sprintf("d%d", i)
			switch {
			case depth == 0:
			case i == 1:
				name = "a.b"
			case i == 2:
				name = "a-"
			case i == 3:
				name = "B"
			}
			walk(filepath.Join(dir, name), depth+1)
		}
	}
	walk(root, 0)
	n := 0
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
		files := []string{"a", "f.txt"}
		if strings.Count(strings.TrimPrefix(d, root), "/") == len(incDirs) {
			files = []string{"leaf"}
		}
		for _, f := range files {
			n++
			data := []byte(fmt.Sprintf("%s/%s %d\n", d, f, n))
			if n%97 == 0 {
				data = []byte(strings.Repeat(fmt.Sprintf("line %d of a file that compresses well\n", n), 1700))
			}
			if err := os.WriteFile(filepath.Join(d, f), data, 0o644); err != nil {
				return err
			}
		}
		if n%31 == 0 {
			if err := os.Symlink("a", filepath.Join(d, "link")); err != nil {
				return err
			}
		}
	}
	for i := range incDirs[0] {
		if err := os.Mkdir(filepath.Join(root, fmt.Sprintf("d%d", i), "empty"), 0o755); err != nil && !os.IsExist(err) {
			return err
		}
	}
	return incTouch(root)
}

// incTouch sets every mtime below root (root included) to incEpoch.
func incTouch(root string) error {
	return exec.Command("find", root, "-exec", "touch", "-h", "-d", "@"+fmt.Sprint(incEpoch.Unix()), "{}", "+").Run()
}

// incModes are the runs of each case: upstream on both ends in each
// direction, gorsync's client pushing to upstream's server, upstream's
// client pulling from gorsync's server.
var incModes = []optMode{
	{name: "push/gorsync-client_rsync-server", remote: true, push: true, clientGorsync: true},
	{name: "pull/rsync-client_gorsync-server", remote: true, serverGorsync: true},
}

// sendIncCase is an optCase and the directions it runs in.
type sendIncCase struct {
	optCase
	pullOnly bool // no destination: only a pull lists (--list-only)
	// srcWritten says the run changes the source (--remove-source-files):
	// each run gets its own copy of it.
	srcWritten bool
}

// sendIncTempDir is a fresh directory on a tmpfs where there is one (/dev/shm:
// copying and transferring thousands of directories there is several
// times faster than on a disk), else t.TempDir.
func sendIncTempDir(t *testing.T) string {
	t.Helper()
	if shm := incShm(); shm != "" {
		if d, err := os.MkdirTemp(shm, "gorsync-increc-"); err == nil {
			t.Cleanup(func() { os.RemoveAll(d) })
			return d
		}
	}
	return t.TempDir()
}

// incShm is /dev/shm when it is a directory, else "" (the default
// temporary directory).
func incShm() string {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		return "/dev/shm"
	}
	return ""
}

// sendIncRun runs c in mode m: in the template itself, which it only reads,
// into a destination of its own (a copy of the template's dst, if it has
// one), or, when the run writes to the source, in a copy of the whole
// template. The result's root holds what the run wrote.
func sendIncRun(t *testing.T, c sendIncCase, m optMode, r optRoots, template string) optResult {
	t.Helper()
	gorsync := rsynctest.BuildGorsync(t)
	rsync := rsynctest.RequireRsync(t)
	root := filepath.Join(sendIncTempDir(t), "root")
	oc := c.optCase
	dir := template
	if c.srcWritten {
		optCopy(t, template, root)
		dir = root
	} else {
		if err := os.Mkdir(root, 0o755); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Lstat(filepath.Join(template, "dst")); err == nil {
			optCopy(t, filepath.Join(template, "dst"), filepath.Join(root, "dst"))
		}
		if oc.dst != "" {
			oc.dst = filepath.Join(root, oc.dst) + "/"
		}
	}
	name, args := m.command(oc, r, gorsync, rsync)
	out, errOut, code := rsynctest.Run(t, dir, nil, name, args...)
	if c.srcWritten {
		// The source's directories lost files at the time of the run.
		if err := exec.Command("find", filepath.Join(root, "src"), "-type", "d", "-exec",
			"touch", "-d", "@"+fmt.Sprint(incEpoch.Unix()), "{}", "+").Run(); err != nil {
			t.Fatal(err)
		}
	}
	optResetTimes(t, c.optCase, root)
	return optResult{root: root, stdout: out, stderr: errOut, code: code}
}

// runSendIncCases runs each case with incremental recursion and without, in
// both directions, with upstream and with gorsync, and compares them.
func runSendIncCases(t *testing.T, cases []sendIncCase) {
	rsynctest.RequireRsync(t)
	rsynctest.BuildGorsync(t)
	src := incSrc(t)
	r := optRoots{a: src, rsh: incRsh}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			template := filepath.Join(sendIncTempDir(t), "template")
			if err := os.Mkdir(template, 0o755); err != nil {
				t.Fatal(err)
			}
			c.setup(t, r, template)
			if err := os.Chtimes(template, optEpoch, optEpoch); err != nil {
				t.Fatal(err)
			}
			for _, inc := range []bool{true, false} {
				ic := c
				ic.args = append([]string{"-v"}, c.args...)
				name := "inc"
				if !inc {
					ic.args = append(ic.args, "--no-i-r")
					name = "no-inc"
				}
				t.Run(name, func(t *testing.T) {
					for _, m := range incModes {
						if c.pullOnly && m.push {
							continue
						}
						t.Run(m.name, func(t *testing.T) {
							want := sendIncRun(t, ic, optReference(m), r, template)
							got := sendIncRun(t, ic, m, r, template)
							compareOptRuns(t, ic.optCase, m, want, got)
							sendIncHeader(t, m, inc, got.stdout)
						})
					}
				})
			}
		})
	}
}

// sendIncHeader checks that the file list went as asked: the client's -v
// header says whether it was incremental.
func sendIncHeader(t *testing.T, m optMode, inc bool, stdout string) {
	t.Helper()
	header := map[[2]bool]string{
		{true, true}:   "sending incremental file list",
		{true, false}:  "building file list ... done",
		{false, true}:  "receiving incremental file list",
		{false, false}: "receiving file list ... done",
	}[[2]bool{m.push, inc}]
	if !strings.Contains(stdout, header+"\n") {
		t.Errorf("no %q in the client's output:\n%.2000s", header, stdout)
	}
}

// incCopy copies the tree to root/name.
func incCopy(name string) func(*testing.T, optRoots, string) {
	return func(t *testing.T, r optRoots, root string) {
		optCopy(t, r.a, filepath.Join(root, name))
	}
}

// incBoth copies the tree to root/src and root/dst, then lets edit change
// them and sets what it touched back to the tree's time.
func incBoth(edit func(t *testing.T, root string)) func(*testing.T, optRoots, string) {
	return func(t *testing.T, r optRoots, root string) {
		optCopy(t, r.a, filepath.Join(root, "src"))
		optCopy(t, r.a, filepath.Join(root, "dst"))
		if edit != nil {
			edit(t, root)
		}
		if err := incTouch(root); err != nil {
			t.Fatal(err)
		}
	}
}

// incWrite writes files below root (a name ending in "/" is a directory).
func incWrite(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(root, name)
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// incRemove removes paths below root.
func incRemove(t *testing.T, root string, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if err := os.RemoveAll(filepath.Join(root, p)); err != nil {
			t.Fatal(err)
		}
	}
}

// TestIncSendArchive: -a into an empty destination, onto an identical one
// (the generator asks for almost nothing, so only the lists' NDX_DONEs
// drive the sender), a dry run, and onto an edited one.
func TestIncSendArchive(t *testing.T) {
	archive := rsynctest.Archive(false)
	runSendIncCases(t, []sendIncCase{
		{optCase: optCase{name: "fresh", setup: incCopy("src"), args: []string{"-a"},
			srcs: []string{"src/"}, dst: "dst/", cmp: archive, dstTimeFree: true}},
		{optCase: optCase{name: "unchanged", setup: incBoth(nil), args: []string{"-a"},
			srcs: []string{"src/"}, dst: "dst/", cmp: archive}},
		{optCase: optCase{name: "dry-run", setup: incCopy("src"), args: []string{"-an"},
			srcs: []string{"src/"}, dst: "dst/", cmp: archive, dstTimeFree: true}},
		{optCase: optCase{name: "named-dir", setup: incCopy("src"), args: []string{"-a"},
			srcs: []string{"src/d0", "src/d5/"}, dst: "dst/", cmp: archive, dstTimeFree: true}},
	})
}

// incDeepEdit changes files deep in the source, so that deltas travel.
func incDeepEdit(t *testing.T, root string) {
	incWrite(t, root, map[string]string{
		"src/d4/d0/a.b/d7/leaf": "changed\n",
		"src/d5/B/B/B/new":      "new\n",
		"src/d0/a-/f.txt":       "changed too\n",
	})
	// The 64 KiB files get an edit in their middle.
	err := filepath.Walk(filepath.Join(root, "src"), func(p string, fi os.FileInfo, err error) error {
		if err != nil || !fi.Mode().IsRegular() || fi.Size() < 60000 {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		copy(data[30000:], "an edit in the middle")
		return os.WriteFile(p, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestIncSendDeltas: edited files deep in the tree, with -c (which finds
// files of the same size and time by their sums) and with -z.
func TestIncSendDeltas(t *testing.T) {
	archive := rsynctest.Archive(false)
	sameStat := func(t *testing.T, root string) {
		// Same size, same time, other bytes: only -c sees them.
		for _, f := range []string{"src/d1/d0/d0/d0/leaf", "src/d3/B/a-/a.b/leaf", "src/a"} {
			p := filepath.Join(root, f)
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			data[0] ^= 1
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	runSendIncCases(t, []sendIncCase{
		{optCase: optCase{name: "edited", setup: incBoth(incDeepEdit), args: []string{"-a"},
			srcs: []string{"src/"}, dst: "dst/", cmp: archive}},
		{optCase: optCase{name: "checksum", setup: incBoth(sameStat), args: []string{"-ac"},
			srcs: []string{"src/"}, dst: "dst/", cmp: archive}},
		{optCase: optCase{name: "compress", setup: incBoth(incDeepEdit), args: []string{"-az"},
			srcs: []string{"src/"}, dst: "dst/", cmp: archive}},
	})
}

// TestIncSendDelete: deletions in deep directories, during the transfer
// and delayed, and a whole subtree gone from the source.
func TestIncSendDelete(t *testing.T) {
	archive := rsynctest.Archive(false)
	edit := func(t *testing.T, root string) {
		incWrite(t, root, map[string]string{
			"dst/d2/d7/d7/d7/extra":       "extra\n",
			"dst/d2/d7/d7/extradir/x/y/z": "z\n",
			"dst/d0/B/a.b/d5/gone/":       "",
			"dst/extra-top":               "t\n",
		})
		incRemove(t, root, "src/d3/a-/a-", "src/d1/d0/d0/d0/leaf", "src/d5/B/B")
	}
	runSendIncCases(t, []sendIncCase{
		{optCase: optCase{name: "delete", setup: incBoth(edit), args: []string{"-a", "--delete"},
			srcs: []string{"src/"}, dst: "dst/", cmp: archive}},
		{optCase: optCase{name: "delete-delay", setup: incBoth(edit), args: []string{"-a", "--delete-delay"},
			srcs: []string{"src/"}, dst: "dst/", cmp: archive}},
	})
}

// TestIncSendFilters: per-directory merge files in subdirectories (-F),
// with rules that exclude files and directories and one that a deeper
// merge file overrides, and a command-line rule.
func TestIncSendFilters(t *testing.T) {
	archive := rsynctest.Archive(false)
	files := func(t *testing.T, root, side string) {
		incWrite(t, root, map[string]string{
			"src/.rsync-filter":           "- *.bak\n",
			"src/d1/.rsync-filter":        "- *.tmp\n- a-/\n",
			"src/d1/B/.rsync-filter":      "+ keep.tmp\n",
			"src/d1/B/keep.tmp":           "kept\n",
			"src/d1/B/drop.tmp":           "dropped\n",
			"src/d1/d4/d5/x.tmp":          "dropped\n",
			"src/d1/d4/d5/x.bak":          "dropped\n",
			"src/d4/B/B/.rsync-filter":    "- leaf\n",
			"src/d4/B/B/B/.rsync-filter":  "+ leaf\n",
			"src/d2/x.bak":                "dropped\n",
			"src/d2/a-/a.b/.rsync-filter": ": .more\n",
			"src/d2/a-/a.b/.more":         "- f.txt\n",
		})
		if side != "src" {
			// The receiver reads the same merge files in its tree.
			err := filepath.Walk(filepath.Join(root, "src"), func(p string, fi os.FileInfo, err error) error {
				if err != nil || (fi.Name() != ".rsync-filter" && fi.Name() != ".more") {
					return err
				}
				data, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				rel, _ := filepath.Rel(filepath.Join(root, "src"), p)
				return os.WriteFile(filepath.Join(root, "dst", rel), data, 0o644)
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	edit := func(t *testing.T, root string) { files(t, root, "both") }
	runSendIncCases(t, []sendIncCase{
		{optCase: optCase{name: "merge-files", setup: incBoth(edit), args: []string{"-a", "-F", "--delete", "--exclude=d0/d0/"},
			srcs: []string{"src/"}, dst: "dst/", cmp: archive}},
		{optCase: optCase{name: "merge-files-fresh", setup: func(t *testing.T, r optRoots, root string) {
			optCopy(t, r.a, filepath.Join(root, "src"))
			files(t, root, "src")
			if err := incTouch(root); err != nil {
				t.Fatal(err)
			}
		}, args: []string{"-a", "-FF"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive, dstTimeFree: true}},
	})
}

// TestIncSendShapes: -R with implied directories and "/./" markers,
// --files-from with -r, --list-only and --remove-source-files.
func TestIncSendShapes(t *testing.T) {
	archive := rsynctest.Archive(false)
	list := func(t *testing.T, r optRoots, root string) {
		optCopy(t, r.a, filepath.Join(root, "src"))
		incWrite(t, root, map[string]string{"list": "d0/a.b/d4\nd3/B/B/B/leaf\n./d5/\nd2/a-/f.txt\n"})
		os.Chtimes(filepath.Join(root, "list"), optEpoch, optEpoch)
	}
	runSendIncCases(t, []sendIncCase{
		{optCase: optCase{name: "relative", setup: incCopy("src"), args: []string{"-aR"},
			srcs: []string{"src/d0/a.b", "src/./d2/B/d4", "src/d3/B/B/B/leaf", "src/./d1/"}, dst: "dst/", cmp: archive, dstTimeFree: true}},
		{optCase: optCase{name: "files-from-recursive", setup: list, args: []string{"-a", "-r", "--files-from=list"},
			srcs: []string{"src"}, dst: "dst/", cmp: archive, dstTimeFree: true}},
		{optCase: optCase{name: "list-only", setup: incCopy("src"), args: []string{"-a", "--list-only"},
			srcs: []string{"src/"}, cmp: archive}, pullOnly: true},
		{optCase: optCase{name: "remove-source-files", setup: incCopy("src"), args: []string{"-a", "--remove-source-files"},
			srcs: []string{"src/"}, dst: "dst/", cmp: archive, dstTimeFree: true}, srcWritten: true},
	})
}

// TestIncSendOneFileSystem: -x and -xx over a tmpfs mounted deep in a copy
// of the tree (root only; skipped where mounting fails): the mount point's
// list is empty, or it is left out.
func TestIncSendOneFileSystem(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	src := filepath.Join(sendIncTempDir(t), "src")
	optCopy(t, incSrc(t), src)
	mnt := filepath.Join(src, "d2/a-/mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "none", mnt).CombinedOutput(); err != nil {
		t.Skipf("mount tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", mnt).Run() })
	incWrite(t, mnt, map[string]string{"inside/f": "on another filesystem\n"})
	if err := incTouch(src); err != nil {
		t.Fatal(err)
	}
	archive := rsynctest.Archive(false)
	empty := func(*testing.T, optRoots, string) {}
	runSendIncCases(t, []sendIncCase{
		{optCase: optCase{name: "x", setup: empty, args: []string{"-ax"},
			srcs: []string{src + "/"}, dst: "dst/", cmp: archive, dstTimeFree: true}},
		{optCase: optCase{name: "xx", setup: empty, args: []string{"-axx"},
			srcs: []string{src + "/"}, dst: "dst/", cmp: archive, dstTimeFree: true}},
	})
}

// incListFor matches upstream's receiver reading one of the sender's
// lists (-vv --debug=flist2).
var incListFor = regexp.MustCompile(`(?m)^\[[Rr]eceiver\] receiving flist for dir (\d+)$`)

// TestIncSendSegments shows on the wire that gorsync's sender sends the
// list in parts to upstream's receiver: one per directory, each read by
// upstream as a list of its own, pushing and pulling; with --no-i-r, one.
func TestIncSendSegments(t *testing.T) {
	gorsync := rsynctest.BuildGorsync(t)
	rsync := rsynctest.RequireRsync(t)
	src := incSrc(t)
	dirs := 1
	for _, n := range incDirs[1:] {
		dirs = dirs*n + 1
	}
	dirs = dirs*incDirs[0] + incDirs[0] // and each top-level one's "empty"
	for _, inc := range []bool{true, false} {
		for _, push := range []bool{true, false} {
			name := map[bool]string{true: "push", false: "pull"}[push] + map[bool]string{true: "/inc", false: "/no-inc"}[inc]
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				dst := filepath.Join(sendIncTempDir(t), "dst")
				client, args := rsync, []string{"-a", "-vv", "--debug=flist2", "-e", incRsh, "--rsync-path=" + gorsync, "localhost:" + src + "/", dst + "/"}
				if push {
					client, args = gorsync, []string{"-a", "-e", incRsh, "--rsync-path=" + rsync + " --debug=flist2", src + "/", "localhost:" + dst + "/"}
				}
				if !inc {
					args = append(args, "--no-i-r")
				}
				out, errOut, code := rsynctest.Run(t, "", nil, client, args...)
				if code != 0 {
					t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
				}
				got := incListFor.FindAllStringSubmatch(out, -1)
				want := 0
				if inc {
					want = dirs
				}
				if len(got) != want {
					t.Errorf("upstream's receiver read %d lists after the first, want %d\n%.3000s", len(got), want, out)
				}
				// Every directory's list, each once.
				seen := map[string]bool{}
				for _, m := range got {
					if seen[m[1]] {
						t.Errorf("two lists for directory %s", m[1])
					}
					seen[m[1]] = true
				}
				rsynctest.CompareTrees(t, src, dst, rsynctest.Archive(false))
			})
		}
	}
}
