package interop

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorsync/gorsync/internal/rsynctest"
	"golang.org/x/sys/unix"
)

// This file checks gorsync's receiving side (generator and receiver) with
// incremental recursion against upstream rsync's sender, in both
// positions: gorsync pulling from upstream's server, and upstream pushing
// to gorsync's server. Each case runs the command line with upstream on
// both ends, then with gorsync receiving, with incremental recursion (the
// default) and with --no-i-r, over a tree of more than 3,000 directories
// several levels deep, and compares the destination trees, the --stats
// counts and the -v file lines with upstream's.

// incTreeSeed makes the tree the same on every run.
const incTreeSeed = 20261203

// incTree is the shared source tree, built once per test process and only
// read by the transfers; incTreeRoot holds it (TestMain removes it).
var (
	incTreeOnce sync.Once
	incTreeRoot string
	incTreeDir  string
	incTreeErr  string
)

// incFastDir is where this file's trees go: a memory file system when
// there is one, as thousands of directories are made for every run and
// a disk's file system can make that ten times slower than the transfer.
func incFastDir() string {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() && unix.Access("/dev/shm", unix.W_OK) == nil {
		return "/dev/shm"
	}
	return ""
}

// incTempDir is t.TempDir on the fast file system.
func incTempDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp(incFastDir(), "gorsync-inc-run-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// incFanout gives the tree's shape: 6 top directories of 7 of 8 of 8, and
// so 3,073 directories in 4 levels (and the skip directories).
var incFanout = []int{6, 7, 8, 8}

// incSource returns the shared source tree, building it on first use. Each
// directory holds one or two small files, some a symlink, some a file a
// filter case excludes (*.tmp) or a directory named skip; a few hold a
// .rsync-filter merge file.
func incSource(t *testing.T) string {
	t.Helper()
	trees(t)
	incTreeOnce.Do(func() {
		var err error
		if incTreeRoot, err = os.MkdirTemp(incFastDir(), "gorsync-inc-tree-"); err != nil {
			incTreeErr = err.Error()
			return
		}
		dir := filepath.Join(incTreeRoot, "src")
		rng := rand.New(rand.NewPCG(incTreeSeed, 1))
		var dirs []string
		var walk func(rel string, depth int)
		walk = func(rel string, depth int) {
			dirs = append(dirs, rel)
			if depth == len(incFanout) {
				return
			}
			for i := range incFanout[depth] {
				walk(filepath.Join(rel, fmt.Sprintf("d%d", i)), depth+1)
			}
		}
		walk(".", 0)
		write := func(p string, data []byte) {
			if err := os.WriteFile(p, data, 0o644); err != nil {
				incTreeErr = err.Error()
			}
		}
		for i, rel := range dirs {
			p := filepath.Join(dir, rel)
			if err := os.MkdirAll(p, 0o755); err != nil {
				incTreeErr = err.Error()
				return
			}
			data := make([]byte, rng.IntN(300))
			for j := range data {
				data[j] = byte('a' + rng.IntN(26))
			}
			write(filepath.Join(p, "f"), data)
			switch i % 7 {
			case 1:
				write(filepath.Join(p, "g.tmp"), data[:len(data)/2])
			case 2:
				os.Symlink("f", filepath.Join(p, "l"))
			case 3:
				os.Mkdir(filepath.Join(p, "skip"), 0o755)
				write(filepath.Join(p, "skip", "s"), data[:len(data)/3])
			case 4:
				write(filepath.Join(p, "h"), append(data, data...))
			}
			if i%97 == 5 {
				// A merge file deep down: -F must read it there.
				write(filepath.Join(p, ".rsync-filter"), []byte("- *.tmp\n- skip/\n"))
			}
		}
		if incTreeErr != "" {
			return
		}
		// Times deepest first, so a directory's time is not changed
		// after it is set.
		base := time.Unix(1_600_000_000, 0)
		for i := len(dirs) - 1; i >= 0; i-- {
			p := filepath.Join(dir, dirs[i])
			ents, _ := os.ReadDir(p)
			for _, e := range ents {
				// Symlinks too: rsync leaves a new one's time alone when
				// it is within the second of the source's.
				if !e.IsDir() {
					ft := unix.NsecToTimespec(base.Add(time.Duration(i*7+len(e.Name())) * time.Second).UnixNano())
					unix.UtimesNanoAt(unix.AT_FDCWD, filepath.Join(p, e.Name()), []unix.Timespec{ft, ft}, unix.AT_SYMLINK_NOFOLLOW)
				}
			}
			os.Chtimes(filepath.Join(p, "skip"), base, base)
			dt := base.Add(time.Duration(i) * time.Minute)
			if err := os.Chtimes(p, dt, dt); err != nil {
				incTreeErr = err.Error()
				return
			}
		}
		incTreeDir = dir
	})
	if incTreeErr != "" {
		t.Fatal(incTreeErr)
	}
	return incTreeDir
}

// incCase is one command line of the receiving side's checks.
type incCase struct {
	name string
	args []string
	// srcs are the source operands; "SRC" stands for the source tree.
	// Default: "SRC/".
	srcs []string
	// noDst leaves out the destination operand (--list-only); it is
	// root/dst otherwise.
	noDst bool
	// ownSrc gives each run its own copy of the source at root/src
	// (the case changes its source); SRC then names it.
	ownSrc bool
	// setup prepares root (the destination) before the run.
	setup func(t *testing.T, root string)
	// cmp is what must be equal between the destinations.
	cmp rsynctest.CompareOptions
	// pullOnly leaves out the push, which the case cannot be.
	pullOnly bool
	// dstTimeFree says the transfer creates root/dst without sending it
	// (no source's "."), so its time is the run's: it is not compared.
	dstTimeFree bool
}

// incResult is what one run left behind.
type incResult struct {
	root           string
	stdout, stderr string
	code           int
}

// incRun runs c in one direction with the given client and server
// programs.
func incRun(t *testing.T, c incCase, push bool, client, server string, extra ...string) incResult {
	t.Helper()
	src := incSource(t)
	root := incTempDir(t)
	if c.ownSrc {
		optCopy(t, src, filepath.Join(root, "src"))
		src = filepath.Join(root, "src")
	}
	if c.setup != nil {
		c.setup(t, root)
	}
	args := append(slices.Clone(c.args), extra...)
	args = append(args, "--stats", "-e", localRsh, "--rsync-path="+server)
	srcs := c.srcs
	if srcs == nil {
		srcs = []string{"SRC/"}
	}
	for _, s := range srcs {
		s = strings.ReplaceAll(s, "SRC", src)
		if !push {
			s = "localhost:" + s
		}
		args = append(args, s)
	}
	if !c.noDst {
		dst := "dst/"
		if push {
			dst = "localhost:" + filepath.Join(root, "dst") + "/"
		}
		args = append(args, dst)
	}
	out, errOut, code := rsynctest.Run(t, root, nil, client, args...)
	return incResult{root: root, stdout: strings.ReplaceAll(out, src, "SRC"), stderr: errOut, code: code}
}

// incCompared names the --stats counts that must equal upstream's.
var incCompared = []string{"Number of files", "Number of deleted files", "Number of regular files transferred",
	"Total file size", "Total transferred file size", "Literal data", "Matched data"}

// incCompare reports how got differs from upstream's run want.
func incCompare(t *testing.T, c incCase, want, got incResult) {
	t.Helper()
	if got.code != want.code {
		t.Errorf("exit code %d, upstream %d", got.code, want.code)
	}
	ws, werr := rsynctest.ParseStats(want.stdout)
	gs, gerr := rsynctest.ParseStats(got.stdout)
	switch {
	case werr != nil:
		t.Fatalf("upstream printed no --stats: %v\n%s%s", werr, want.stdout, want.stderr)
	case gerr != nil:
		t.Errorf("--stats: %v", gerr)
	default:
		for i, f := range []struct{ want, got any }{
			{ws.NumFiles, gs.NumFiles}, {ws.DeletedFiles, gs.DeletedFiles},
			{ws.RegularFilesTransferred, gs.RegularFilesTransferred}, {ws.TotalFileSize, gs.TotalFileSize},
			{ws.TotalTransferredFileSize, gs.TotalTransferredFileSize}, {ws.LiteralData, gs.LiteralData},
			{ws.MatchedData, gs.MatchedData},
		} {
			if f.want != f.got {
				t.Errorf("--stats %s: %+v, upstream %+v", incCompared[i], f.got, f.want)
			}
		}
	}
	wf, wm := optStdout(want.stdout, want.root)
	gf, gm := optStdout(got.stdout, got.root)
	if !slices.Equal(wf, gf) {
		t.Errorf("stdout file lines differ from upstream's (%d lines, upstream %d)%s", len(gf), len(wf), firstDiff(wf, gf))
	}
	if !slices.Equal(wm, gm) {
		t.Errorf("stdout messages differ from upstream's (%d, upstream %d)%s", len(gm), len(wm), firstDiff(wm, gm))
	}
	for _, dir := range []string{"dst", "src"} {
		wd, gd := filepath.Join(want.root, dir), filepath.Join(got.root, dir)
		if _, err := os.Lstat(wd); err != nil {
			continue
		}
		cmp := c.cmp
		if dir == "src" {
			// What --remove-source-files left: the directories' times
			// are those of the removals.
			cmp.DirTimes = false
		} else if c.dstTimeFree {
			os.Chtimes(wd, optEpoch, optEpoch)
			os.Chtimes(gd, optEpoch, optEpoch)
		}
		diffs, err := rsynctest.DiffTrees(wd, gd, cmp)
		if err != nil {
			t.Fatalf("compare %s: %v", dir, err)
		}
		for i, d := range diffs {
			if i == 10 {
				t.Errorf("... and %d more differences in %s", len(diffs)-i, dir)
				break
			}
			t.Errorf("%s differs from upstream's: %v", dir, d)
		}
	}
	if t.Failed() {
		t.Logf("gorsync stderr:\n%s\nupstream stderr:\n%s", got.stderr, want.stderr)
	}
}

// firstDiff shows where two line lists part.
func firstDiff(want, got []string) string {
	for i := range max(len(want), len(got)) {
		var w, g string
		if i < len(want) {
			w = want[i]
		}
		if i < len(got) {
			g = got[i]
		}
		if w != g {
			return fmt.Sprintf(": line %d is %q, upstream %q", i, g, w)
		}
	}
	return ""
}

// incHeader is the -v line that says the lists came incrementally.
var incHeader = regexp.MustCompile(`(?m)^(receiving|sending) incremental file list$`)

// runIncCases runs each case pulling (gorsync client, upstream server)
// and pushing (upstream client, gorsync server), with and without
// incremental recursion, against upstream on both ends.
func runIncCases(t *testing.T, cases []incCase) {
	rsync := rsynctest.RequireRsync(t)
	gorsync := rsynctest.BuildGorsync(t)
	for _, c := range cases {
		for _, push := range []bool{false, true} {
			if push && c.pullOnly {
				continue
			}
			dir := "pull"
			client, server := gorsync, rsync
			if push {
				dir, client, server = "push", rsync, gorsync
			}
			t.Run(c.name+"/"+dir, func(t *testing.T) {
				want := incRun(t, c, push, rsync, rsync)
				if !incHeader.MatchString(want.stdout) && slices.Contains(c.args, "-v") {
					t.Fatalf("upstream did not recurse incrementally:\n%s", want.stdout)
				}
				got := incRun(t, c, push, client, server)
				if slices.Contains(c.args, "-v") && !incHeader.MatchString(got.stdout) {
					t.Errorf("no incremental file list with gorsync receiving:\n%.300s", got.stdout)
				}
				incCompare(t, c, want, got)
				got = incRun(t, c, push, client, server, "--no-i-r")
				if incHeader.MatchString(got.stdout) {
					t.Errorf("--no-i-r: still incremental")
				}
				incCompare(t, c, want, got)
			})
		}
	}
}

// incCopyTree copies the source tree to root/dst.
func incCopyTree(t *testing.T, root string) {
	optCopy(t, incSource(t), filepath.Join(root, "dst"))
}

// incDeepDirs returns the relative paths of every directory of the
// source tree that are depth levels down.
func incDeepDirs(depth int) []string {
	var out []string
	var walk func(rel string, d int)
	walk = func(rel string, d int) {
		if d == depth {
			out = append(out, rel)
			return
		}
		for i := range incFanout[d] {
			walk(filepath.Join(rel, fmt.Sprintf("d%d", i)), d+1)
		}
	}
	walk(".", 0)
	sort.Strings(out)
	return out
}

// incStaleDst fills root/dst with the tree, then, in deep directories,
// entries the source lacks (files, a directory of files, a symlink),
// changed files (same size and time, other bytes: only -c sees them) and
// files left out.
func incStaleDst(t *testing.T, root string) {
	incCopyTree(t, root)
	dst := filepath.Join(root, "dst")
	// What the source lacks gets a fixed time, the same in every run.
	fixed := func(paths ...string) {
		ts := []unix.Timespec{unix.NsecToTimespec(optEpoch.UnixNano()), unix.NsecToTimespec(optEpoch.UnixNano())}
		for _, p := range paths {
			unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW)
		}
	}
	for i, d := range incDeepDirs(4) {
		p := filepath.Join(dst, d)
		switch i % 11 {
		case 0:
			os.WriteFile(filepath.Join(p, "extra"), []byte("extra"), 0o644)
			fixed(filepath.Join(p, "extra"))
		case 1:
			os.MkdirAll(filepath.Join(p, "xdir", "sub"), 0o755)
			os.WriteFile(filepath.Join(p, "xdir", "sub", "x"), []byte("x"), 0o644)
			fixed(filepath.Join(p, "xdir", "sub", "x"), filepath.Join(p, "xdir", "sub"), filepath.Join(p, "xdir"))
		case 2:
			os.Symlink("nowhere", filepath.Join(p, "xlink"))
			fixed(filepath.Join(p, "xlink"))
		case 3:
			f := filepath.Join(p, "f")
			fi, err := os.Stat(f)
			if err == nil && fi.Size() > 0 {
				data, _ := os.ReadFile(f)
				data[0] ^= 0x20
				os.WriteFile(f, data, 0o644)
				os.Chtimes(f, fi.ModTime(), fi.ModTime())
			}
		case 4:
			os.Remove(filepath.Join(p, "f"))
		}
		// The directory's time must not give the change away.
		st, err := os.Stat(filepath.Join(incSource(t), d))
		if err == nil {
			os.Chtimes(p, st.ModTime(), st.ModTime())
		}
	}
}

func incCases() []incCase {
	archive := rsynctest.Archive(false)
	lists := func(t *testing.T, root string) {
		list := "d1/d2\nd3/d0/d5/d7\nd5/d6/d1/d3/f\nd0\n"
		if err := os.WriteFile(filepath.Join(root, "list"), []byte(list), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return []incCase{
		{name: "archive", args: []string{"-av"}, cmp: archive},
		{name: "archive-over-stale", args: []string{"-av"}, setup: incStaleDst, cmp: archive},
		{name: "delete", args: []string{"-av", "--delete"}, setup: incStaleDst, cmp: archive},
		{name: "delete-delay", args: []string{"-av", "--delete-delay"}, setup: incStaleDst, cmp: archive},
		{name: "merge-files", args: []string{"-avF", "--delete"}, setup: incStaleDst, cmp: archive},
		{name: "checksum", args: []string{"-avc"}, setup: incStaleDst, cmp: archive},
		{name: "compress", args: []string{"-avz", "--no-W"}, setup: incStaleDst, cmp: archive},
		{name: "relative", args: []string{"-avR"}, srcs: []string{"SRC/./d1", "SRC/./d3/d2"}, cmp: archive, dstTimeFree: true},
		{name: "files-from", args: []string{"-av", "-r", "--files-from=list"}, srcs: []string{"SRC"}, setup: lists, cmp: archive, dstTimeFree: true},
		{name: "one-file-system", args: []string{"-avx"}, cmp: archive},
		{name: "list-only", args: []string{"-r", "--list-only"}, noDst: true, pullOnly: true},
		{name: "dry-run", args: []string{"-avn", "--delete"}, setup: incStaleDst, cmp: archive},
		{name: "remove-source-files", args: []string{"-av", "--remove-source-files"}, ownSrc: true, setup: incStaleDst, cmp: archive},
		// The phases' NDX_DONE sequence differs by protocol: no goodbye
		// echo at 30, no early deletion statistics before 31.
		{name: "protocol-30", args: []string{"-av", "--delete", "--protocol=30"}, setup: incStaleDst, cmp: archive},
		{name: "protocol-31", args: []string{"-av", "--delete", "--protocol=31"}, setup: incStaleDst, cmp: archive},
	}
}

// TestIncRecvArchive and the tests below run incCases in groups, each
// within a few tens of seconds.
func TestIncRecvArchive(t *testing.T) { runIncCases(t, incCases()[0:2]) }

// TestIncRecvDelete checks --delete and --delete-delay, deleting in deep
// directories.
func TestIncRecvDelete(t *testing.T) { runIncCases(t, incCases()[2:4]) }

// TestIncRecvFilter checks -F with merge files deep in the tree.
func TestIncRecvFilter(t *testing.T) { runIncCases(t, incCases()[4:5]) }

// TestIncRecvChecksumCompress checks -c and -z.
func TestIncRecvChecksumCompress(t *testing.T) { runIncCases(t, incCases()[5:7]) }

// TestIncRecvTreeShape checks -R, --files-from with -r and -x.
func TestIncRecvTreeShape(t *testing.T) { runIncCases(t, incCases()[7:10]) }

// TestIncRecvListing checks --list-only, -n and --remove-source-files.
func TestIncRecvListing(t *testing.T) { runIncCases(t, incCases()[10:13]) }

// TestIncRecvProtocols checks protocols 30 and 31.
func TestIncRecvProtocols(t *testing.T) { runIncCases(t, incCases()[13:15]) }

// incSegmentLine is upstream's sender's --debug=FLIST3 line for each list
// it sends, the first included.
var incSegmentLine = regexp.MustCompile(`(?m)^\[sender\] flist start=(\d+), used=\d+`)

// TestIncRecvManySegments shows on the wire that gorsync's receiver takes
// upstream's lists one directory at a time: upstream's sender, told to
// report each list it sends (--debug=FLIST3), must report one per
// directory of the tree, each starting at its own index, and the
// destination must be the source.
func TestIncRecvManySegments(t *testing.T) {
	rsync := rsynctest.RequireRsync(t)
	gorsync := rsynctest.BuildGorsync(t)
	src := incSource(t)
	dirs := 0
	filepath.WalkDir(src, func(_ string, d os.DirEntry, _ error) error {
		if d.IsDir() {
			dirs++
		}
		return nil
	})
	for _, push := range []bool{false, true} {
		name := "pull"
		if push {
			name = "push"
		}
		t.Run(name, func(t *testing.T) {
			root := incTempDir(t)
			var out string
			if push {
				// The client is upstream's sender: it reports the lists.
				out, _ = rsynctest.MustRun(t, root, nil, rsync, "-a", "--debug=FLIST3", "-e", localRsh,
					"--rsync-path="+gorsync, src+"/", "localhost:"+filepath.Join(root, "dst")+"/")
			} else {
				// The server is: its reports come to the client as
				// messages.
				out, _ = rsynctest.MustRun(t, root, nil, gorsync, "-a", "-e", localRsh,
					"--rsync-path="+rsync+" --debug=FLIST3", "localhost:"+src+"/", "dst/")
			}
			starts := map[string]bool{}
			for _, m := range incSegmentLine.FindAllStringSubmatch(out, -1) {
				starts[m[1]] = true
			}
			// One list per directory but ".", plus the first list.
			if len(starts) != dirs || starts["0"] {
				t.Errorf("upstream sent %d lists with distinct starts (index 0 among them: %v), want %d (one per directory)",
					len(starts), starts["0"], dirs)
			}
			rsynctest.CompareTrees(t, src, filepath.Join(root, "dst"), rsynctest.Archive(false))
		})
	}
}
