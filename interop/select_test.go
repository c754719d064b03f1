package interop

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gorsync/gorsync/internal/rsynctest"
)

// This file checks the receiver-side selection options (--max-size,
// --min-size, --existing, --ignore-existing, -u with --modify-window),
// --remove-source-files and --remove-sent-files, --mkpath, and listing
// (--list-only and a lone source), with the machinery of options_test.go:
// every case runs with upstream rsync and with gorsync in every pairing,
// and the trees (sources included), stdout and stats must agree.

// selDiverge edits a destination copied from the standard tree so that the
// selection options have something to choose between: missing files and
// directories, a file newer and one older than the source's (both with
// other content), one a second older, and a file the destination has as
// a directory.
func selDiverge(t *testing.T, dst string) {
	for _, name := range []string{"e", "size-701", "links/relative"} {
		if err := os.RemoveAll(filepath.Join(dst, name)); err != nil {
			t.Fatal(err)
		}
	}
	shift := func(name string, d time.Duration) {
		p := filepath.Join(dst, name)
		optRewrite(t, p)
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		mt := fi.ModTime().Add(d)
		if err := os.Chtimes(p, mt, mt); err != nil {
			t.Fatal(err)
		}
	}
	shift("size-700", time.Hour)       // newer at the destination
	shift("size-699", -time.Hour)      // older at the destination
	shift("size-4096", -time.Second)   // a second older
	shift("a.b", 500*time.Millisecond) // newer by less than a second
	shift("exec.sh", -1500*time.Millisecond)
	if err := os.Remove(filepath.Join(dst, "z")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dst, "z"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{dst, filepath.Join(dst, "links")} {
		if err := os.Chtimes(d, optEpoch, optEpoch); err != nil {
			t.Fatal(err)
		}
	}
}

// selCases lists the cases TestSelection runs.
func selCases() []optCase {
	archive := rsynctest.Archive(false)
	// --mkpath makes directories at the time of the run, and removing
	// source files changes their directories' times.
	noDirTimes := archive
	noDirTimes.DirTimes = false
	diverged := optSame(selDiverge)
	return []optCase{
		{
			name: "max-size/1k", setup: optSrc(""),
			args: []string{"-a", "--max-size=1k"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
		},
		{
			name: "max-size/1.5KB-minus-1-verbose", setup: optSrc(""),
			args: []string{"-av", "--max-size=1.5KB-1"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
		},
		{
			name: "min-size/2KiB", setup: optSrc(""),
			args: []string{"-a", "--min-size=2KiB"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
		},
		{
			name: "min-max-size/window", setup: optSrc(""),
			args: []string{"-a", "--min-size=700", "--max-size=1M"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
			sanity: optStats("some files sent", func(s rsynctest.Stats) bool {
				return s.RegularFilesTransferred > 0 && s.RegularFilesTransferred < s.NumFiles.Reg
			}),
		},
		{
			name: "max-size/zero-sends-only-empty-files", setup: optSrc(""),
			args: []string{"-a", "--max-size=0"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
		},
		{
			name: "existing/only-updates-what-is-there", setup: diverged,
			args: []string{"-av", "--existing"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
		},
		{
			name: "existing/ignore-non-existing-into-new-destination", setup: optSrc(""),
			args: []string{"-a", "--ignore-non-existing"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
		},
		{
			name: "ignore-existing/only-creates", setup: diverged,
			args: []string{"-av", "--ignore-existing"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
		},
		{
			name: "existing/with-ignore-existing-changes-nothing", setup: diverged,
			args: []string{"-a", "--existing", "--ignore-existing"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
		},
		{
			name: "update/keeps-newer-destination-files", setup: diverged,
			args: []string{"-av", "-u"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
		},
		{
			name: "update/modify-window-2", setup: diverged,
			args: []string{"-a", "-u", "--modify-window=2"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
		},
		{
			name: "modify-window/2-without-update", setup: diverged,
			args: []string{"-a", "--modify-window=2"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
		},
		{
			name: "modify-window/minus-1-compares-nanoseconds", setup: optSame(optOtherNanoseconds),
			args: []string{"-a", "-@-1"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
			sanity: optTransferred(1),
		},
		{
			name: "update/protocol-29", setup: diverged,
			args: []string{"-a", "-u", "--protocol=29"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
		},
		{
			name: "remove-source-files/sent-and-unchanged", setup: optSrcDst,
			args: []string{"-a", "--remove-source-files"}, srcs: []string{"src/"}, dst: "dst/", cmp: noDirTimes,
		},
		{
			name: "remove-source-files/new-destination", setup: optSrc(""),
			args: []string{"-av", "--remove-source-files"}, srcs: []string{"src/"}, dst: "dst/", cmp: noDirTimes,
		},
		{
			name: "remove-sent-files/only-sent", setup: optSrcDst,
			args: []string{"-a", "--remove-sent-files"}, srcs: []string{"src/"}, dst: "dst/", cmp: noDirTimes,
		},
		{
			name: "remove-source-files/with-max-size", setup: optSrc(""),
			args: []string{"-a", "--remove-source-files", "--max-size=1k"}, srcs: []string{"src/"}, dst: "dst/", cmp: noDirTimes,
		},
		{
			name: "remove-source-files/protocol-29", setup: optSrcDst,
			args: []string{"-a", "--remove-source-files", "--protocol=29"}, srcs: []string{"src/"}, dst: "dst/", cmp: noDirTimes,
		},
		{
			name: "remove-source-files/protocol-30", setup: optSrcDst,
			args: []string{"-a", "--remove-source-files", "--protocol=30"}, srcs: []string{"src/"}, dst: "dst/", cmp: noDirTimes,
		},
		{
			name: "remove-source-files/dry-run-removes-nothing", setup: optSrcDst,
			args: []string{"-a", "-n", "--remove-source-files"}, srcs: []string{"src/"}, dst: "dst/", cmp: noDirTimes,
			sanity: optUnchanged,
		},
		{
			name: "mkpath/contents-into-new-path", setup: optSrc(""),
			args: []string{"-av", "--mkpath"}, srcs: []string{"src/"}, dst: "dst/x/y/", cmp: noDirTimes,
			sanity: optMustContain("created 3 directories for dst/x/y"),
		},
		{
			name: "mkpath/file-to-new-name", setup: optSrc(""),
			args: []string{"-av", "--mkpath"}, srcs: []string{"src/size-700"}, dst: "dst/x/new", cmp: noDirTimes,
		},
		{
			name: "mkpath/several-into-new-directory", setup: optSrc(""),
			args: []string{"-a", "--mkpath"}, srcs: []string{"src/a", "src/z"}, dst: "dst/x/y", cmp: noDirTimes,
		},
		{
			name: "mkpath/dry-run", setup: optSrc(""),
			args: []string{"-avn", "--mkpath"}, srcs: []string{"src/"}, dst: "dst/x/y/", cmp: noDirTimes,
			sanity: optUnchanged,
		},
		{
			name: "mkpath/without-it-fails", setup: optSrc(""),
			args: []string{"-a"}, srcs: []string{"src/"}, dst: "dst/x/y/", cmp: noDirTimes,
		},
		{
			name: "list/lone-source-contents", setup: optSrc(""),
			srcs: []string{"src/"}, cmp: archive,
		},
		{
			name: "list/lone-source-directory", setup: optSrc(""),
			srcs: []string{"src"}, cmp: archive,
		},
		{
			name: "list/recursive", setup: optSrc(""),
			args: []string{"-r"}, srcs: []string{"src/"}, cmp: archive,
		},
		{
			name: "list/archive-shows-link-targets", setup: optSrc(""),
			args: []string{"-a"}, srcs: []string{"src/"}, cmp: archive,
		},
		{
			name: "list/no-human-readable", setup: optSrc(""),
			args: []string{"-r", "--no-h"}, srcs: []string{"src/"}, cmp: archive,
		},
		{
			name: "list/hh-units", setup: optSrc(""),
			args: []string{"-r", "-hh"}, srcs: []string{"src/"}, cmp: archive,
		},
		{
			name: "list/one-file", setup: optSrc(""),
			srcs: []string{"src/size-1048576"}, cmp: archive,
		},
		{
			name: "list/no-d", setup: optSrc(""),
			args: []string{"--no-d"}, srcs: []string{"src/"}, cmp: archive,
		},
		{
			name: "list/explicit-with-destination", setup: optSrc(""),
			args: []string{"-a", "--list-only"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
			sanity: optUnchanged,
		},
		{
			name: "list/explicit-with-filter", setup: optSrc(""),
			args: []string{"-r", "--list-only", "--exclude=*.b"}, srcs: []string{"src/"}, cmp: archive,
		},
	}
}

// TestSelection runs selCases with upstream rsync and with gorsync in every
// mode, and compares the outcomes.
func TestSelection(t *testing.T) {
	runOptCases(t, selCases())
}
