package interop

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/gorsync/gorsync/internal/rsynctest"
	"golang.org/x/sys/unix"
)

// This file holds the regression tests of issue 9's wrong results and of
// its files read by name (items 1-4 and 7), with the machinery of
// options_test.go: every case runs with upstream rsync and with gorsync in
// every pairing, and the trees, the exit codes and the chosen messages must
// be the same.

// foreignUID owns the symbolic links planted by "another user": neither
// root nor the test's user (the tests run as root).
const foreignUID = 65534

// defLink makes a symbolic link at root/name pointing at target, owned by
// uid (the link itself, not its target).
func defLink(name, target string, uid int) func(*testing.T, string) {
	return func(t *testing.T, root string) {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
		if err := os.Lchown(p, uid, -1); err != nil {
			t.Fatal(err)
		}
		// A fixed time, as the tree's other links have: rsync leaves a new
		// link's time alone within the second of its source's.
		ts := []unix.Timespec{unix.NsecToTimespec(optEpoch.UnixNano()), unix.NsecToTimespec(optEpoch.UnixNano())}
		if err := unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(filepath.Dir(p), optEpoch, optEpoch)
	}
}

// defSetup runs the standard tree's setup with files added, then each of
// edits on the run's root.
func defSetup(files map[string]string, edits ...func(*testing.T, string)) func(*testing.T, optRoots, string) {
	return func(t *testing.T, r optRoots, root string) {
		optWithFiles(files)(t, r, root)
		for _, e := range edits {
			e(t, root)
		}
		os.Chtimes(filepath.Join(root, "src"), optEpoch, optEpoch)
	}
}

// defSetgidDst copies the standard tree to src and makes dst an empty
// set-group-ID directory, as a shared group directory is.
func defSetgidDst(t *testing.T, r optRoots, root string) {
	optCopy(t, r.a, filepath.Join(root, "src"))
	dst := filepath.Join(root, "dst")
	if err := os.Mkdir(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dst, 0o755|os.ModeSetgid); err != nil {
		t.Fatal(err)
	}
}

// defSetgidRoot copies the standard tree to src and makes the run's root
// (where dst is created) a set-group-ID directory.
func defSetgidRoot(t *testing.T, r optRoots, root string) {
	optCopy(t, r.a, filepath.Join(root, "src"))
	if err := os.Chmod(root, 0o755|os.ModeSetgid); err != nil {
		t.Fatal(err)
	}
}

// defPrivateSrc copies the standard tree to src and makes src private.
func defPrivateSrc(t *testing.T, r optRoots, root string) {
	src := filepath.Join(root, "src")
	optCopy(t, r.a, src)
	if err := os.Chmod(src, 0o700); err != nil {
		t.Fatal(err)
	}
}

// defMode is a sanity check that upstream left path (relative to the run's
// root) with the permission bits perm.
func defMode(path string, perm os.FileMode) func(*testing.T, optResult, string) {
	return func(t *testing.T, up optResult, _ string) {
		fi, err := os.Lstat(filepath.Join(up.root, path))
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode() & (os.ModePerm | os.ModeSetgid | os.ModeSetuid | os.ModeSticky); got != perm {
			t.Errorf("upstream left %s with %v, the case is built for %v", path, got, perm)
		}
	}
}

// defCode is a sanity check that upstream exited with code.
func defCode(code int) func(*testing.T, optResult, string) {
	return func(t *testing.T, up optResult, _ string) {
		if up.code != code {
			t.Errorf("upstream exited %d, the case is built for %d", up.code, code)
		}
	}
}

// defFailed is a sanity check that upstream failed.
func defFailed(t *testing.T, up optResult, _ string) {
	if up.code == 0 {
		t.Error("upstream succeeded, the case is built for a failure")
	}
}

// defAll runs every sanity check of checks.
func defAll(checks ...func(*testing.T, optResult, string)) func(*testing.T, optResult, string) {
	return func(t *testing.T, up optResult, template string) {
		for _, c := range checks {
			c(t, up, template)
		}
	}
}

// defectCases lists the cases TestDefects runs.
func defectCases() []optCase {
	archive := rsynctest.Archive(false)
	noDirTimes := archive
	noDirTimes.DirTimes = false // deleting changes directory times
	noTimes := rsynctest.CompareOptions{Perms: true, Owner: true, Group: true}
	av := func(extra ...string) []string { return append([]string{"-av", "--no-inc-recursive"}, extra...) }
	src := []string{"src/"}
	ruleMsg := regexp.MustCompile(`filter rule|failed to open|refusing to follow`)
	cvsEnv := []string{"CVSIGNORE=*.keep junk"}
	cvsFiles := map[string]string{
		"src/x.keep": "k", "src/junk": "j", "src/e/y.keep": "k", "src/plain.txt": "p", "src/core": "c",
	}
	return []optCase{
		// Item 1: a local copy that deletes, with a filter list read from
		// standard input.
		{
			name: "1-stdin/exclude-from-delete", setup: delSetup(nil), stdin: "- *.prot\n- gone.txt\n",
			args: av("--delete", "--exclude-from=-"), srcs: src, dst: "dst/", cmp: noDirTimes,
			sanity: defAll(delKept("dst/keep.prot", "dst/gone.txt"), delGone("dst/gonedir/top.txt")),
		},
		{
			name: "1-stdin/include-from-delete-after", setup: delSetup(nil), stdin: "- *.prot\n+ *\n",
			args: av("--delete-after", "--include-from=-"), srcs: src, dst: "dst/", cmp: noDirTimes,
			sanity: delKept("dst/keep.prot", "dst/gonedir/also.prot"),
		},
		{
			name: "1-stdin/merge-stdin-delete-during", setup: delSetup(nil), stdin: "P gone.txt\n",
			args: av("--delete-during", "-f", "merge -"), srcs: src, dst: "dst/", cmp: noDirTimes,
			sanity: defAll(delKept("dst/gone.txt"), delGone("dst/keep.prot")),
		},
		{
			// Standard input by its /dev name (a link to /proc/self/fd/0,
			// whose target is "pipe:[N]"): read once, whole.
			name: "1-stdin/exclude-from-dev-stdin-delete", setup: delSetup(nil), stdin: "- *.prot\n- gone.txt\n",
			args: av("--delete", "--exclude-from=/dev/stdin"), srcs: src, dst: "dst/", cmp: noDirTimes,
			sanity: defAll(delKept("dst/keep.prot", "dst/gone.txt"), delGone("dst/gonedir/top.txt")),
		},

		// Item 2: -C takes $CVSIGNORE's words, on whichever side applies
		// the CVS list.
		{
			name: "2-cvsignore/C", setup: defSetup(cvsFiles), env: cvsEnv,
			args: []string{"-a", "-C"}, srcs: src, dst: "dst/", cmp: archive,
			sanity: delGone("dst/x.keep", "dst/junk", "dst/e/y.keep", "dst/core"),
		},
		{
			name: "2-cvsignore/f-C", setup: defSetup(cvsFiles), env: cvsEnv,
			args: []string{"-a", "-f-C"}, srcs: src, dst: "dst/", cmp: archive,
			sanity: delGone("dst/x.keep", "dst/junk", "dst/e/y.keep", "dst/core"),
		},
		{
			// A receiver that deletes protects what the CVS list excludes.
			name: "2-cvsignore/C-delete", env: cvsEnv,
			setup: delSetup(delWrite(map[string]string{"dst/old.keep": "k", "dst/e/junk": "j"})),
			args:  av("-C", "--delete"), srcs: src, dst: "dst/", cmp: noDirTimes,
			sanity: defAll(delKept("dst/old.keep", "dst/e/junk"), delGone("dst/gone.txt")),
		},

		// Item 3: without -p a new directory keeps the set-group-ID bit
		// it inherits from its parent.
		{
			name: "3-setgid/r-into-setgid-dir", setup: defSetgidDst,
			args: []string{"-r"}, srcs: src, dst: "dst/", cmp: noTimes, dstTimeFree: true,
			sanity: defMode("dst/e/f", 0o711|os.ModeSetgid),
		},
		{
			name: "3-setgid/rl-new-dst-in-setgid-parent", setup: defSetgidRoot,
			args: []string{"-rl"}, srcs: src, dst: "dst/", cmp: noTimes, dstTimeFree: true,
			sanity: defMode("dst/a", 0o755|os.ModeSetgid),
		},
		{
			// The destination the transfer makes is a new directory too:
			// the source's mode, narrowed by the umask.
			name: "3-setgid/r-new-dst-gets-source-mode", setup: defPrivateSrc,
			args: []string{"-r"}, srcs: src, dst: "dst/", cmp: noTimes, dstTimeFree: true,
			sanity: defMode("dst", 0o700),
		},
		{
			// With -p the source's modes win, set-group-ID bit and all.
			name: "3-setgid/rp-copies-source-mode", setup: defSetgidDst,
			args: []string{"-rp"}, srcs: src, dst: "dst/", cmp: noTimes, dstTimeFree: true,
			sanity: defMode("dst/e/f", 0o711),
		},

		// Item 4: what a per-directory merge file says is applied, or
		// reported and fatal.
		{
			name: "4-merge-file/unknown-rule", setup: defSetup(map[string]string{"src/.rsync-filter": "- z\nbogus\n"}),
			args: []string{"-a", "-F"}, srcs: src, dst: "dst/", cmp: archive, stderrKeys: ruleMsg,
			sanity: defFailed, remoteErrorsFree: true,
		},
		{
			name: "4-merge-file/invalid-modifier-in-subdir", setup: defSetup(map[string]string{"src/e/.rsync-filter": "- g/\n+,z foo\n"}),
			args: av("-F"), srcs: src, dst: "dst/", cmp: archive, stderrKeys: ruleMsg,
			sanity: defFailed, remoteErrorsFree: true,
		},
		{
			name:  "4-merge-file/receiver-unknown-rule",
			setup: delSetup(delWrite(map[string]string{"dst/.rsync-filter": "P keep.prot\n!x\n"})),
			args:  []string{"-a", "--no-inc-recursive", "--delete", "-F"}, srcs: src, dst: "dst/", cmp: noDirTimes,
			stderrKeys: ruleMsg, sanity: defCode(1),
		},
		{
			// A dir-merge naming a file in a parent of the transfer
			// reads it there too.
			name: "4-merge-file/dir-merge-parent-of-tree",
			setup: defSetup(map[string]string{
				"src/.rsync-filter": ": ../x.rules\n", "x.rules": "- z\n- size-*\n", "src/e/x.rules": "- g\n",
			}),
			args: []string{"-a", "-F"}, srcs: src, dst: "dst/", cmp: archive,
			sanity: delGone("dst/z", "dst/size-700", "dst/e/f/g"),
		},
		{
			name: "4-merge-file/dir-merge-from-subdir-up-two",
			setup: defSetup(map[string]string{
				"src/e/.rsync-filter": ": sub/../../../x.rules\n", "x.rules": "- g\n- z\n", "src/x.rules": "- f/\n",
			}),
			args: []string{"-a", "-F"}, srcs: src, dst: "dst/", cmp: archive,
			sanity: defAll(delGone("dst/e/f"), delKept("dst/z")),
		},
		{
			name:  "4-merge-file/command-line-dir-merge-parent",
			setup: defSetup(map[string]string{"x.rules": "- z\n", "src/e/x.rules": "- f/\n"}),
			args:  []string{"-a", "-f", ": ../x.rules"}, srcs: src, dst: "dst/", cmp: archive,
			sanity: delGone("dst/z", "dst/e/f"),
		},
		{
			// A dir-merge naming a directory that is no parent reads
			// its base name in each directory.
			name: "4-merge-file/dir-merge-elsewhere",
			setup: defSetup(map[string]string{
				"src/.rsync-filter": ": ../other/x.rules\n", "other/x.rules": "- z\n", "src/e/x.rules": "- f/\n",
			}),
			args: []string{"-a", "-F"}, srcs: src, dst: "dst/", cmp: archive,
			sanity: defAll(delGone("dst/e/f"), delKept("dst/z")),
		},

		// Item 7: a file read by name is not read through a symbolic
		// link another user owns.
		{
			name: "7-foreign-link/exclude-from", setup: defSetup(map[string]string{"rules": "- z\n"}, defLink("link", "rules", foreignUID)),
			args: []string{"-a", "--exclude-from=link"}, srcs: src, dst: "dst/", cmp: archive, dstTimeFree: true,
			stderrKeys: ruleMsg, sanity: defCode(11),
		},
		{
			name: "7-foreign-link/include-from", setup: defSetup(map[string]string{"rules": "- z\n"}, defLink("link", "rules", foreignUID)),
			args: []string{"-a", "--include-from=link"}, srcs: src, dst: "dst/", cmp: archive, dstTimeFree: true,
			stderrKeys: ruleMsg, sanity: defCode(11),
		},
		{
			name: "7-foreign-link/merge", setup: defSetup(map[string]string{"rules": "- z\n"}, defLink("link", "rules", foreignUID)),
			args: []string{"-a", "-f", "merge link"}, srcs: src, dst: "dst/", cmp: archive, dstTimeFree: true,
			stderrKeys: ruleMsg, sanity: defCode(11),
		},
		{
			name: "7-foreign-link/parent-component", setup: defSetup(map[string]string{"real/rules": "- z\n"}, defLink("link", "real", foreignUID)),
			args: []string{"-a", "--exclude-from=link/rules"}, srcs: src, dst: "dst/", cmp: archive, dstTimeFree: true,
			stderrKeys: ruleMsg, sanity: defCode(11),
		},
		{
			name: "7-foreign-link/files-from", setup: defSetup(map[string]string{"list": "z\na/b\n"}, defLink("link", "list", foreignUID)),
			args: []string{"-a", "--files-from=link"}, srcs: src, dst: "dst/", cmp: archive, dstTimeFree: true,
			stderrKeys: regexp.MustCompile(`files-from|refusing to follow`), sanity: defCode(1),
		},
		{
			// Root's own links are followed.
			name: "7-foreign-link/root-owned-followed", setup: defSetup(map[string]string{"rules": "- z\n", "list": "z\na/b\n"},
				defLink("link", "rules", 0), defLink("flink", "list", 0)),
			args: []string{"-a", "--exclude-from=link", "--files-from=flink"}, srcs: src, dst: "dst/", cmp: archive, dstTimeFree: true,
			sanity: defAll(defCode(0), delGone("dst/z"), delKept("dst/a/b")),
		},
		{
			// A per-directory merge file behind such a link is skipped
			// silently (as if missing); its rules do not apply.
			name: "7-foreign-link/dir-merge-file", setup: defSetup(map[string]string{"src/e/rules": "- f/\n", "src/rules": "- z\n"},
				defLink("src/.rsync-filter", "rules", foreignUID), defLink("src/e/.rsync-filter", "rules", foreignUID)),
			args: []string{"-a", "-F"}, srcs: src, dst: "dst/", cmp: archive,
			stderrKeys: ruleMsg, sanity: defAll(defCode(0), delKept("dst/z", "dst/e/f")),
		},
		{
			name: "7-foreign-link/receiver-dir-merge-file",
			setup: delSetup(func(t *testing.T, root string) {
				delWrite(map[string]string{"dst/rules": "P gone.txt\n"})(t, root)
				defLink("dst/.rsync-filter", "rules", foreignUID)(t, root)
			}),
			args: av("--delete", "-F"), srcs: src, dst: "dst/", cmp: noDirTimes,
			stderrKeys: ruleMsg, sanity: defAll(defCode(0), delGone("dst/gone.txt")),
		},
	}
}

// TestDefects runs defectCases with upstream rsync and gorsync.
func TestDefects(t *testing.T) {
	runOptCases(t, defectCases())
}
