package interop

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/gorsync/gorsync/internal/rsynctest"
)

// This file checks deletion (--delete and its relatives) against upstream
// rsync with TestOptions' machinery: every case runs with upstream rsync and
// with gorsync in every pairing, and the destination trees, the "deleting"
// lines (-v), the deletion counts of --stats, the exit codes and the chosen
// messages must be the same.

// delExtra are destination-only entries that deletion is about to meet:
// plain files, a nested directory, a symlink, files the cases protect or
// exclude, and a read-only directory.
var delExtra = map[string]string{
	"dst/gone.txt":             "gone",
	"dst/gonedir/sub/deep.txt": "deep",
	"dst/gonedir/top.txt":      "top",
	"dst/keep.prot":            "protected",
	"dst/gonedir/also.prot":    "protected inside a deleted directory",
	"dst/skip.o":               "excluded",
	"dst/rodir/f":              "in a read-only directory",
}

// delSetup copies the edited tree to root/src and the standard tree to
// root/dst (so the destination has what the edit added, for deletion),
// adds delExtra to the destination and then lets edit change the result.
func delSetup(edit func(t *testing.T, root string)) func(*testing.T, optRoots, string) {
	return func(t *testing.T, r optRoots, root string) {
		optCopy(t, r.a, filepath.Join(root, "src"))
		optCopy(t, r.b, filepath.Join(root, "dst"))
		for name, data := range delExtra {
			p := filepath.Join(root, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Symlink("nowhere", filepath.Join(root, "dst/gonelink")); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(filepath.Join(root, "dst/rodir"), 0o555); err != nil {
			t.Fatal(err)
		}
		if edit != nil {
			edit(t, root)
		}
		for _, d := range []string{"dst/gonedir/sub", "dst/gonedir", "dst/rodir", "dst"} {
			os.Chtimes(filepath.Join(root, d), optEpoch, optEpoch)
		}
	}
}

// delWrite writes files (paths relative to the run's root).
func delWrite(files map[string]string) func(*testing.T, string) {
	return func(t *testing.T, root string) {
		for name, data := range files {
			p := filepath.Join(root, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// delDeleted checks that upstream's run deleted something (or not), so a
// case exercises what it is named for.
func delDeleted(want bool) func(*testing.T, optResult, string) {
	return optStats("deleted files", func(s rsynctest.Stats) bool {
		return (s.DeletedFiles.Total > 0) == want
	})
}

// delKept checks that upstream's run left the named destination paths.
func delKept(paths ...string) func(*testing.T, optResult, string) {
	return func(t *testing.T, up optResult, _ string) {
		for _, p := range paths {
			if _, err := os.Lstat(filepath.Join(up.root, p)); err != nil {
				t.Errorf("upstream did not keep %s: %v", p, err)
			}
		}
	}
}

// delGone checks that upstream's run deleted the named destination paths.
func delGone(paths ...string) func(*testing.T, optResult, string) {
	return func(t *testing.T, up optResult, _ string) {
		for _, p := range paths {
			if _, err := os.Lstat(filepath.Join(up.root, p)); err == nil {
				t.Errorf("upstream kept %s", p)
			}
		}
	}
}

// deleteCases lists the cases TestDelete runs.
func deleteCases() []optCase {
	archive := rsynctest.Archive(false)
	archive.DirTimes = false // deleting changes directory times
	av := func(extra ...string) []string { return append([]string{"-av", "--no-inc-recursive"}, extra...) }
	src := []string{"src/"}
	maxDel := regexp.MustCompile(`^Deletions stopped`)
	ioErr := regexp.MustCompile(`IO error encountered|^rsync: \[sender\] link_stat`)
	var cases []optCase
	for _, mode := range []string{"--delete", "--delete-before", "--delete-during", "--del", "--delete-delay", "--delete-after"} {
		cases = append(cases, optCase{
			name: "mode/" + mode[2:], setup: delSetup(nil), args: av(mode),
			srcs: src, dst: "dst/", cmp: archive, sanity: delDeleted(true),
		})
	}
	cases = append(cases, []optCase{
		{
			name: "protocol-29", setup: delSetup(nil), args: av("--delete", "--protocol=29"),
			srcs: src, dst: "dst/", cmp: archive,
		},
		{
			name: "protocol-30-after", setup: delSetup(nil), args: av("--delete-after", "--protocol=30"),
			srcs: src, dst: "dst/", cmp: archive,
		},
		{
			name: "dry-run", setup: delSetup(nil), args: av("--delete", "-n"),
			srcs: src, dst: "dst/", cmp: archive, sanity: delDeleted(true),
		},
		{
			name: "excluded-survive", setup: delSetup(nil), args: av("--delete", "--exclude=*.o"),
			srcs: src, dst: "dst/", cmp: archive, sanity: delKept("dst/skip.o"),
		},
		{
			name: "delete-excluded", setup: delSetup(delWrite(map[string]string{"src/also.o": "sent? no"})),
			args: av("--delete-excluded", "--exclude=*.o"), srcs: src, dst: "dst/", cmp: archive,
		},
		{
			// The protect test: P and protect rules survive
			// --delete and --delete-excluded.
			name: "protect/P", setup: delSetup(nil), args: av("--delete", "-f", "P *.prot"),
			srcs: src, dst: "dst/", cmp: archive, sanity: delKept("dst/keep.prot", "dst/gonedir/also.prot"),
		},
		{
			name: "protect/filter-protect-delete-excluded", setup: delSetup(nil),
			args: av("--delete-excluded", "--exclude=*.o", "--filter=protect *.prot"),
			srcs: src, dst: "dst/", cmp: archive, sanity: delKept("dst/keep.prot", "dst/gonedir/also.prot"),
		},
		{
			name: "protect/risk-after-protect", setup: delSetup(nil),
			args: av("--delete", "-f", "R gonedir/**", "-f", "P *.prot"),
			srcs: src, dst: "dst/", cmp: archive, sanity: delKept("dst/keep.prot"),
		},
		{
			name: "protect/perishable", setup: delSetup(nil),
			args: av("--delete", "-f", "-p *.prot"),
			srcs: src, dst: "dst/", cmp: archive,
		},
		{
			// Merge files found in the destination protect what they name.
			name: "receiver-merge-file", setup: delSetup(delWrite(map[string]string{
				"dst/gonedir/.rsync-filter": "P .rsync-filter\nP top.txt\n",
			})),
			args: av("--delete", "-F"), srcs: src, dst: "dst/", cmp: archive,
			sanity: delKept("dst/gonedir/top.txt"),
		},
		{
			name: "max-delete", setup: delSetup(nil), args: av("--delete", "--max-delete=2"),
			srcs: src, dst: "dst/", cmp: archive, stderrKeys: maxDel,
		},
		{
			name: "max-delete-zero", setup: delSetup(nil), args: av("--delete-after", "--max-delete=0"),
			srcs: src, dst: "dst/", cmp: archive, stderrKeys: maxDel,
		},
		{
			name: "dirs-no-recursion", setup: delSetup(nil), args: []string{"-lptgoDv", "-d", "--delete"},
			srcs: src, dst: "dst/", cmp: archive,
		},
		{
			// An I/O error on the sender stops deletion...
			name: "io-error-skips-deletion", setup: delSetup(delWrite(map[string]string{"src/plain": "p"})),
			args: av("--delete"), srcs: []string{"src/", "src/plain/x"}, dst: "dst/", cmp: archive,
			stderrKeys: ioErr, sanity: delDeleted(false),
		},
		{
			// ... unless --ignore-errors.
			name: "io-error-ignore-errors", setup: delSetup(delWrite(map[string]string{"src/plain": "p"})),
			args: av("--delete", "--ignore-errors"), srcs: []string{"src/", "src/plain/x"}, dst: "dst/", cmp: archive,
			stderrKeys: ioErr, sanity: delDeleted(true),
		},
		{
			name: "delete-missing-args", setup: delSetup(delWrite(map[string]string{"src/here": "h"})),
			args: av("--delete-missing-args"), srcs: []string{"src/here", "src/gone.txt", "src/gonedir"}, dst: "dst/",
			cmp: archive, sanity: delGone("dst/gone.txt"),
		},
		{
			name: "delete-missing-args-force", setup: delSetup(delWrite(map[string]string{"src/here": "h"})),
			args: av("--delete-missing-args", "--force"), srcs: []string{"src/here", "src/gone.txt", "src/gonedir"}, dst: "dst/",
			cmp: archive, sanity: delGone("dst/gone.txt", "dst/gonedir"),
		},
		{
			name: "ignore-missing-args", setup: delSetup(delWrite(map[string]string{"src/here": "h"})),
			args: av("--ignore-missing-args"), srcs: []string{"src/here", "src/gone.txt"}, dst: "dst/", cmp: archive,
		},
		{
			// A non-empty directory in the way of a file goes with --force...
			name: "force", setup: delSetup(delWrite(map[string]string{"src/gonedir": "now a file"})),
			args: av("--force"), srcs: src, dst: "dst/", cmp: archive,
		},
		{
			// ... and stays without it (exit 23).
			name: "no-force", setup: delSetup(delWrite(map[string]string{"src/gonedir": "now a file"})),
			args: av(), srcs: src, dst: "dst/", cmp: archive,
			stderrKeys: regexp.MustCompile(`could not make way`),
		},
		{
			name: "combined-when-refused", setup: delSetup(nil), args: av("--delete-before", "--delete-after"),
			srcs: src, dst: "dst/", cmp: archive, stderrKeys: regexp.MustCompile(`delete-WHEN`),
		},
	}...)
	return cases
}

// TestDelete runs deleteCases with upstream rsync and gorsync.
func TestDelete(t *testing.T) {
	runOptCases(t, withNoIncRecursive(deleteCases()))
}

// TestDeleteProtect asserts, without reference to upstream, what the
// protect rules promise: gorsync keeps every destination file a P or
// protect rule matches under --delete and --delete-excluded, and deletes
// the rest.
func TestDeleteProtect(t *testing.T) {
	gorsync := rsynctest.BuildGorsync(t)
	for _, args := range [][]string{
		{"-a", "--delete", "-f", "P *.prot"},
		{"-a", "--delete-excluded", "--exclude=*.prot", "--filter=protect *.prot"},
		{"-a", "--delete-after", "--filter=protect keep.prot", "--filter=P also.prot"},
	} {
		root := t.TempDir()
		delWrite(map[string]string{
			"src/a": "a", "dst/a": "old", "dst/keep.prot": "k", "dst/d/also.prot": "k", "dst/d/gone": "g", "dst/gone": "g",
		})(t, root)
		_, errOut, code := rsynctest.Run(t, root, nil, gorsync, append(args, "src/", "dst/")...)
		if code != 0 {
			t.Fatalf("%q: exit %d\n%s", args, code, errOut)
		}
		for _, p := range []string{"dst/keep.prot", "dst/d/also.prot"} {
			if _, err := os.Lstat(filepath.Join(root, p)); err != nil {
				t.Errorf("%q: protected %s deleted", args, p)
			}
		}
		for _, p := range []string{"dst/gone", "dst/d/gone"} {
			if _, err := os.Lstat(filepath.Join(root, p)); err == nil {
				t.Errorf("%q: %s not deleted", args, p)
			}
		}
	}
}
