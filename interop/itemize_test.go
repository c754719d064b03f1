package interop

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/gorsync/gorsync/internal/rsynctest"
	"golang.org/x/sys/unix"
)

// This file checks what the user sees of each entry: -i's change summaries,
// --out-format's escapes and the escaping of names the terminal should not
// show, each compared line for line with upstream rsync's in every mode of
// options_test.go (local, push and pull, upstream or gorsync on each end).

// itemEdit returns a setup with the standard tree as src and dst, dst then
// changed by edit (paths relative to dst).
func itemEdit(edit func(t *testing.T, dst string)) func(*testing.T, optRoots, string) {
	return optSame(edit)
}

// itemNames is a source whose names need escaping: control characters, a
// byte that is not UTF-8, UTF-8, and a backslash that reads as an escape.
func itemNames(t *testing.T, r optRoots, root string) {
	src := filepath.Join(root, "src")
	if err := os.MkdirAll(filepath.Join(src, "d\x02ir"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"tab\there", "ctl\x01x", "nl\nx", "caf\xc3\xa9", "hi\xffbyte", `back\#123slash`, "del\x7fx", "d\x02ir/f"} {
		p := filepath.Join(src, name)
		if err := os.WriteFile(p, []byte(name), 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(p, optEpoch, optEpoch)
	}
	link := filepath.Join(src, "l\x04ink")
	if err := os.Symlink("t\x03arget", link); err != nil {
		t.Fatal(err)
	}
	ts := []unix.Timespec{unix.NsecToTimespec(optEpoch.UnixNano()), unix.NsecToTimespec(optEpoch.UnixNano())}
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, link, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(filepath.Join(src, "d\x02ir"), optEpoch, optEpoch)
	os.Chtimes(src, optEpoch, optEpoch)
}

// itemCases are the itemize and out-format cases.
func itemCases() []optCase {
	archive := rsynctest.Archive(false)
	extra := delSetup(nil)
	allEscapes := "%i|%n|%L|%l|%o|%U|%G|%B|%M|%f|%%|%h|%a|%m|%P|%u|%-12n|%12l|%'l|%''l|%-5L|%5L|%b|%c|%C|%x|%t|%p"
	volatile := regexp.MustCompile(`(?m)\d{4}/\d\d/\d\d \d\d:\d\d:\d\d\|\d+$`)
	return []optCase{
		{
			name: "itemize/new-tree", setup: optSrc(""),
			args: []string{"-ai"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive, dstTimeFree: true,
		},
		{
			name: "itemize/changed-size-time-perms-link", setup: optSrcDst,
			args: []string{"-ai"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
		},
		{
			name: "itemize/ii-unchanged-too", setup: optSrcDst,
			args: []string{"-aii"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
		},
		{
			name: "itemize/vi-names-unchanged", setup: optSrcDst,
			args: []string{"-avi"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
		},
		{
			name: "itemize/dry-run", setup: optSrcDst,
			args: []string{"-ain", "--delete"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
		},
		{
			name: "itemize/perms-only", setup: itemEdit(func(t *testing.T, dst string) {
				for _, p := range []string{"a.b", "e"} {
					fi, err := os.Lstat(filepath.Join(dst, p))
					if err != nil {
						t.Fatal(err)
					}
					os.Chmod(filepath.Join(dst, p), fi.Mode().Perm()^0o070)
				}
			}),
			args: []string{"-ai"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
		},
		{
			name: "itemize/times-only", setup: itemEdit(func(t *testing.T, dst string) {
				then := time.Unix(1_400_000_000, 0)
				for _, p := range []string{"z", "e", "."} {
					os.Chtimes(filepath.Join(dst, p), then, then)
				}
			}),
			args: []string{"-ai"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
		},
		{
			name: "itemize/owner-group", setup: itemEdit(func(t *testing.T, dst string) {
				if os.Getuid() != 0 {
					t.Skip("chown needs root")
				}
				os.Lchown(filepath.Join(dst, "a.b"), 1234, -1)
				os.Lchown(filepath.Join(dst, "z"), -1, 5678)
				os.Lchown(filepath.Join(dst, "e"), 1234, 5678)
				os.Lchown(filepath.Join(dst, "links/relative"), 1234, 5678)
			}),
			args: []string{"-ai"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
		},
		{
			name: "itemize/devices-specials", setup: optSrc("special"),
			args: []string{"-ai"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive, dstTimeFree: true,
		},
		{
			name: "itemize/delete", setup: extra,
			args: []string{"-ai", "--delete"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
		},
		{
			name: "itemize/no-times", setup: optSrcDst,
			args: []string{"-rlpi"}, srcs: []string{"src/"}, dst: "dst/", cmp: rsynctest.CompareOptions{Perms: true},
		},
		{
			name: "out-format/all-escapes", setup: optSrcDst,
			args: []string{"-a", "--out-format=" + allEscapes}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
			volatile: volatile,
		},
		{
			name: "out-format/all-escapes-new-checksum", setup: optSrc(""),
			args: []string{"-ac", "--out-format=" + allEscapes}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
			volatile: volatile, dstTimeFree: true,
		},
		{
			name: "out-format/log-format-alias-v", setup: optSrcDst,
			args: []string{"-av", "--log-format=%o %n%L %l"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
		},
		{
			name: "out-format/deletions-without-v", setup: extra,
			args: []string{"-a", "--delete", "--out-format=[%n]"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
		},
		{
			name: "out-format/q-silences", setup: optSrcDst,
			args: []string{"-aq", "--out-format=%n"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
		},
		{
			name: "out-format/empty-prints-empty-lines", setup: extra,
			args: []string{"-a", "--delete", "--out-format="}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
		},
		{
			// Before protocol 29 a pulling client's generator prints the
			// entries itself.
			name: "itemize/protocol-28", setup: extra,
			args: []string{"-ai", "--delete", "--protocol=28"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
		},
		{
			name: "itemize/protocol-30", setup: optSrcDst,
			args: []string{"-ai", "--protocol=30"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
		},
		{
			name: "names/escaped", setup: itemNames,
			args: []string{"-ai"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive, dstTimeFree: true,
		},
		{
			name: "names/8-bit", setup: itemNames,
			args: []string{"-ai8"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive, dstTimeFree: true,
		},
		{
			name: "names/c-locale", setup: itemNames, env: []string{"LC_ALL=C"},
			args: []string{"-ai"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive, dstTimeFree: true,
		},
		{
			name: "names/c-locale-8-bit", setup: itemNames, env: []string{"LC_ALL=C"},
			args: []string{"-av", "-8"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive, dstTimeFree: true,
		},
	}
}

// TestItemize compares -i, --out-format and name escaping with upstream's.
func TestItemize(t *testing.T) {
	runOptCases(t, withNoIncRecursive(itemCases()))
}

// TestLogFile compares --log-file and --log-file-format with upstream's.
func TestLogFile(t *testing.T) {
	archive := rsynctest.Archive(false)
	extra := delSetup(nil)
	cases := []optCase{
		{
			name: "log-file/default-format", setup: extra, logFile: true,
			args: []string{"-a", "--delete"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
		},
		{
			name: "log-file/with-i-and-v", setup: optSrcDst, logFile: true,
			args: []string{"-aiv"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
		},
		{
			name: "log-file/format-o-n-l-deletions", setup: extra, logFile: true,
			args: []string{"-a", "--delete", "--log-file-format=%o %n %l %i"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
		},
		{
			name: "log-file/format-without-i", setup: extra, logFile: true,
			args: []string{"-a", "--delete", "--log-file-format=[%f]"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
		},
		{
			name: "log-file/dry-run", setup: extra, logFile: true,
			args: []string{"-ain", "--delete"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
		},
		{
			name: "log-file/escaped-names", setup: itemNames, logFile: true,
			args: []string{"-a8"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive, dstTimeFree: true,
		},
		{
			name: "log-file/new-dir-created", setup: optSrc(""), logFile: true,
			args: []string{"-a", "--stats"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive, dstTimeFree: true,
		},
		{
			name: "log-file/cannot-open", setup: optSrc(""), stderrKeys: regexp.MustCompile(`log-file`),
			args: []string{"-a", "--log-file=/nonexistent-gorsync-dir/log"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive, dstTimeFree: true,
		},
	}
	runOptCases(t, withNoIncRecursive(cases))
}
