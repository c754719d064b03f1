package interop

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/gorsync/gorsync/internal/rsynctest"
)

// treeFiles is the small source tree of the tree-shape cases: nested
// directories, empty directory chains for -m, and a symlink to a directory.
var treeFiles = map[string]string{
	"src/a/b/c/f1":    "one\n",
	"src/a/top":       "top\n",
	"src/a/b/other":   "other\n",
	"src/e/f/g":       "g\n",
	"src/keep/q/f":    "f\n",
	"src/empty/x/y/":  "",
	"src/empty/z/":    "",
	"src/half/d/":     "",
	"src/half/file":   "h\n",
	"src/sp ace/file": "s\n",
}

// treeSetup writes treeFiles (a name ending in "/" is an empty directory)
// and the given --files-from lists below root, all at optEpoch.
func treeSetup(lists map[string]string) func(*testing.T, optRoots, string) {
	return func(t *testing.T, _ optRoots, root string) {
		var paths []string
		write := func(name, data string) {
			p := filepath.Join(root, name)
			if strings.HasSuffix(name, "/") {
				if err := os.MkdirAll(p, 0o755); err != nil {
					t.Fatal(err)
				}
			} else {
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			for d := p; d != root; d = filepath.Dir(d) {
				paths = append(paths, d)
			}
		}
		for name, data := range treeFiles {
			write(name, data)
		}
		for name, data := range lists {
			write(name, data)
		}
		if err := os.Symlink("a/b", filepath.Join(root, "src/link")); err != nil {
			t.Fatal(err)
		}
		// Deepest first, so setting a child's time leaves its parent's.
		sort.Slice(paths, func(i, j int) bool { return len(paths[i]) > len(paths[j]) })
		for _, p := range paths {
			os.Chtimes(p, optEpoch, optEpoch)
		}
		if out, err := exec.Command("touch", "-h", "-d", "@1500000000", filepath.Join(root, "src/link")).CombinedOutput(); err != nil {
			t.Fatalf("touch -h: %v: %s", err, out)
		}
	}
}

// treeCases are the tree-shape cases: --files-from (local, remote, NUL
// separated, with and without -R and -r), -R with implied directories,
// "/./" markers and --no-implied-dirs, and -m.
func treeCases() []optCase {
	archive := rsynctest.Archive(false)
	// Parents that --no-implied-dirs leaves out are made at the time of
	// the run.
	noTimes := rsynctest.CompareOptions{Perms: true, Owner: true, Group: true}
	list := "a/b/c/f1\n# a comment\n\ne/f/\nhalf\nsp ace/file\n./keep/q\n"
	lists := map[string]string{
		"list":    list,
		"list0":   "a/b/c/f1\x00e/f/\x00\x00half\x00a/top",
		"listrel": "a/./b/c/f1\ne/./f/g\n/keep/q/f\nlink/other\n",
	}
	setup := treeSetup(lists)
	fatal := regexp.MustCompile(`link_stat|failed to open|files-from`)
	return []optCase{
		{
			name: "files-from/local", setup: setup,
			args: []string{"-a", "--files-from=list"},
			srcs: []string{"src"}, dst: "dst/", cmp: archive, dstTimeFree: true,
		},
		{
			name: "files-from/local-recursive", setup: setup,
			args: []string{"-a", "-r", "--files-from=list"},
			srcs: []string{"src"}, dst: "dst/", cmp: archive, dstTimeFree: true,
		},
		{
			name: "files-from/local-no-relative", setup: setup,
			args: []string{"-a", "--no-R", "--files-from=list"},
			srcs: []string{"src/"}, dst: "dst/", cmp: archive, dstTimeFree: true,
		},
		{
			name: "files-from/from0", setup: setup,
			args: []string{"-a", "--from0", "--files-from=list0"},
			srcs: []string{"src"}, dst: "dst/", cmp: archive, dstTimeFree: true,
		},
		{
			name: "files-from/markers-and-links", setup: setup,
			args: []string{"-a", "--files-from=listrel"},
			srcs: []string{"src"}, dst: "dst/", cmp: archive, dstTimeFree: true,
		},
		{
			// ":list" is read by the remote side (the same host): rsync
			// forwards it to a local sender; a local copy refuses it.
			name: "files-from/remote", setup: setup,
			args: []string{"-a", "--files-from=:list"},
			srcs: []string{"src"}, dst: "dst/", cmp: archive, dstTimeFree: true,
			stderrKeys: fatal,
		},
		{
			name: "files-from/remote-from0-no-implied-dirs", setup: setup,
			args: []string{"-a", "--no-implied-dirs", "-0", "--files-from=:list0"},
			srcs: []string{"src"}, dst: "dst/", cmp: noTimes, dstTimeFree: true,
			stderrKeys: fatal,
		},
		{
			name: "files-from/missing-file", setup: setup,
			args: []string{"-a", "--files-from=nosuchlist"},
			srcs: []string{"src"}, dst: "dst/", cmp: archive, dstTimeFree: true,
			stderrKeys: fatal,
		},
		{
			name: "relative/implied-dirs", setup: setup,
			args: []string{"-aR"},
			srcs: []string{"src/a/b/c", "src/e/f/g"}, dst: "dst/", cmp: archive, dstTimeFree: true,
		},
		{
			name: "relative/marker", setup: setup,
			args: []string{"-aR"},
			srcs: []string{"src/./a/b", "src/./half/"}, dst: "dst/", cmp: archive, dstTimeFree: true,
		},
		{
			name: "relative/no-implied-dirs", setup: setup,
			args: []string{"-aR", "--no-implied-dirs"},
			srcs: []string{"src/a/b/c", "src/./e/f/g"}, dst: "dst/", cmp: noTimes, dstTimeFree: true,
		},
		{
			name: "relative/dirs-not-recursive", setup: setup,
			args: []string{"-lptgoDR", "-d"},
			srcs: []string{"src/a/b", "src/./e/"}, dst: "dst/", cmp: archive, dstTimeFree: true,
		},
		{
			name: "relative/no-relative", setup: setup,
			args: []string{"-aR", "--no-relative"},
			srcs: []string{"src/a/b/c"}, dst: "dst/", cmp: archive, dstTimeFree: true,
		},
		{
			name: "prune/empty-dirs", setup: setup,
			args: []string{"-am"},
			srcs: []string{"src/"}, dst: "dst/", cmp: archive,
		},
		{
			name: "prune/with-filters", setup: setup,
			args: []string{"-am", "--exclude=*1", "--exclude=f/", "--include=*/", "--include=g", "--exclude=*"},
			srcs: []string{"src/"}, dst: "dst/", cmp: archive,
		},
		{
			name: "prune/receiver-excluded-dir-kept", setup: setup,
			args: []string{"-am", "--filter=-r z/"},
			srcs: []string{"src/"}, dst: "dst/", cmp: archive,
		},
		{
			name: "prune/relative", setup: setup,
			args: []string{"-amR"},
			srcs: []string{"src/empty", "src/half"}, dst: "dst/", cmp: archive, dstTimeFree: true,
		},
	}
}

// TestTreeShape compares --files-from, -R and -m with upstream rsync in
// every mode and pairing.
func TestTreeShape(t *testing.T) {
	runOptCases(t, withNoIncRecursive(treeCases()))
}

// TestOneFileSystem compares -x and -xx with upstream rsync over a tmpfs
// mounted inside the source (root only; skipped where mounting fails).
func TestOneFileSystem(t *testing.T) {
	rsynctest.RequireRsync(t)
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	src := filepath.Join(t.TempDir(), "xsrc")
	for _, d := range []string{"mnt", "sub/deep"} {
		if err := os.MkdirAll(filepath.Join(src, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(src, "sub/deep/f"), []byte("f\n"), 0o644)
	if out, err := exec.Command("mount", "-t", "tmpfs", "none", filepath.Join(src, "mnt")).CombinedOutput(); err != nil {
		t.Skipf("mount tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", filepath.Join(src, "mnt")).Run() })
	for _, f := range []string{"mnt/in/f", "mnt/g"} {
		p := filepath.Join(src, f)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(f), 0o644)
	}
	for _, p := range []string{"mnt/in/f", "mnt/in", "mnt/g", "mnt", "sub/deep/f", "sub/deep", "sub", ""} {
		os.Chtimes(filepath.Join(src, p), optEpoch, optEpoch)
	}
	empty := func(*testing.T, optRoots, string) {}
	archive := rsynctest.Archive(false)
	runOptCases(t, []optCase{
		{name: "x", setup: empty, args: []string{"-ax"}, srcs: []string{src + "/"}, dst: "dst/", cmp: archive},
		{name: "xx", setup: empty, args: []string{"-axx"}, srcs: []string{src + "/"}, dst: "dst/", cmp: archive},
		{name: "x-mount-point-arg", setup: empty, args: []string{"-ax"}, srcs: []string{src + "/mnt"}, dst: "dst/", cmp: archive, dstTimeFree: true},
		{name: "x-relative", setup: empty, args: []string{"-axR"}, srcs: []string{src + "/./sub", src + "/./mnt/in"}, dst: "dst/", cmp: archive, dstTimeFree: true},
	})
}

// TestFilesFromStdin feeds --files-from=- on standard input to a local
// copy, a push and a pull, with gorsync as the client, and compares the
// destination with upstream rsync's.
func TestFilesFromStdin(t *testing.T) {
	gorsync := rsynctest.BuildGorsync(t)
	rsync := rsynctest.RequireRsync(t)
	base := t.TempDir()
	rsh := filepath.Join(base, "localrsh")
	if err := os.WriteFile(rsh, []byte("#!/bin/sh\nshift\nexec sh -c \"$*\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	template := filepath.Join(base, "template")
	os.Mkdir(template, 0o755)
	treeSetup(nil)(t, optRoots{}, template)
	names := "a/b/c/f1\ne/f/\r\nhalf\n"
	for _, mode := range []string{"local", "push", "pull"} {
		t.Run(mode, func(t *testing.T) {
			run := func(prog, server string) string {
				root := filepath.Join(t.TempDir(), "root")
				optCopy(t, template, root)
				args := []string{"-a", "--files-from=-"}
				src, dst := "src", "dst/"
				switch mode {
				case "push":
					args = append(args, "-e", rsh, "--rsync-path="+server)
					dst = "localhost:" + dst
				case "pull":
					args = append(args, "-e", rsh, "--rsync-path="+server)
					src = "localhost:" + src
				}
				args = append(args, src, dst)
				cmd := exec.Command(prog, args...)
				cmd.Dir = root
				cmd.Stdin = strings.NewReader(names)
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("%s %v: %v\n%s", prog, args, err, out)
				}
				os.Chtimes(filepath.Join(root, "dst"), optEpoch, optEpoch)
				return filepath.Join(root, "dst")
			}
			want := run(rsync, rsync)
			for _, server := range []string{rsync, gorsync} {
				got := run(gorsync, server)
				t.Run(filepath.Base(server), func(t *testing.T) {
					rsynctest.CompareTrees(t, want, got, rsynctest.Archive(false))
				})
			}
		})
	}
}
