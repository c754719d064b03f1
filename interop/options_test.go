package interop

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorsync/gorsync/internal/rsynctest"
)

// This file checks that the transfer options behave exactly as upstream
// rsync's: every case runs one command line on identical starting states with
// upstream rsync (locally, and with upstream on both ends of a remote shell)
// and with gorsync (locally, and in every client/server pairing, pushing and
// pulling), then compares the resulting trees, the --stats counts, the exit
// codes and the messages between the upstream run and the gorsync run of the
// same direction. Upstream is the oracle; nothing is expected by hand.

// optSeed seeds the trees of this file, apart from the matrix's.
const optSeed int64 = 20261127

// optBigSize keeps the standard tree small: the options, not the delta
// engine, are under test here.
const optBigSize int64 = 1 << 20

// optRoots names the starting trees a case's setup can copy from; they are
// built once per TestOptions run and never written to.
type optRoots struct {
	a, b    string // the standard tree and the same after EditTree
	special string // the standard tree with devices and foreign owners
	rsh     string // a stand-in for ssh (see setup_test.go's localRsh)
}

// optCase is one command line run with upstream rsync and with gorsync.
type optCase struct {
	name string
	// setup fills root (empty) with the starting state, typically root/src
	// and, for an existing destination, root/dst.
	setup func(t *testing.T, r optRoots, root string)
	// args are the options; --stats is always added.
	args []string
	// srcs and dst are the operands, relative to the run's root (the
	// working directory); "localhost:" goes before the remote side's.
	srcs []string
	dst  string
	// umask, if set, is the umask the client (and so the server it spawns)
	// runs with.
	umask string
	// twice runs the command once before the run that is compared.
	twice bool
	// stdin, if set, is the client's standard input (for "-" as a list's
	// file name); env is added to the client's environment, which the
	// server it spawns over the stand-in for ssh inherits.
	stdin string
	env   []string
	// remoteErrorsFree says the case ends in a fatal error on the
	// sending side, after which the closing error lines over a remote
	// shell, and pulling the exit code, differ for reasons of their own:
	// upstream's server writes the error on its own stderr and exits, and
	// its client reports the closed stream (code 12), while gorsync's
	// server sends the error down the stream and its code reaches the
	// client; upstream's receiving server reports the stream its failed
	// client closed, while gorsync's client stops its server first. Those
	// runs then need only fail like upstream's (pushing, with the same
	// code); trees, stdout and the stderrKeys lines are compared as ever.
	remoteErrorsFree bool
	// dstTimeFree says the transfer adds to or creates root/dst without
	// sending it (it is not a source's "."), so its mtime is the time of the
	// run; it is reset to a fixed time before the comparison.
	dstTimeFree bool
	// cmp says which metadata must be equal between the two roots after
	// the run (content and types always are).
	cmp rsynctest.CompareOptions
	// stderrKeys picks the stderr lines that must be the same (as a set,
	// with the run's root replaced by ROOT).
	stderrKeys *regexp.Regexp
	// volatile, if set, matches what differs from run to run in stdout
	// (an --out-format's %t or %p), replaced by "X" before comparing.
	volatile *regexp.Regexp
	// logFile runs the client with a --log-file outside the root, whose
	// lines are compared too (without their time, pid and byte counts).
	logFile bool
	// sanity checks the upstream run, so that the case exercises what it is
	// named for; a failure here is a broken fixture, not a gorsync bug.
	sanity func(t *testing.T, up optResult, template string)
}

// optResult is what one run left behind.
type optResult struct {
	root           string
	stdout, stderr string
	code           int
	log            string // the --log-file's lines (logFile cases)
}

// optMode is one way of running a case: locally, or over the remote shell in
// one direction with a given program on each end.
type optMode struct {
	name          string
	remote, push  bool
	clientGorsync bool
	serverGorsync bool
}

// optModes lists the gorsync runs; each is compared with the upstream run of
// the same kind (local, push or pull) that optReference returns.
func optModes() []optMode {
	modes := []optMode{{name: "local", clientGorsync: true}}
	for _, push := range []bool{true, false} {
		dir := "pull"
		if push {
			dir = "push"
		}
		for _, p := range pairings {
			modes = append(modes, optMode{
				name: dir + "/" + p.name, remote: true, push: push,
				clientGorsync: p.clientGorsync, serverGorsync: p.serverGorsync,
			})
		}
	}
	return modes
}

// optReferences are the all-upstream runs: a local copy, a push and a pull.
var optReferences = []optMode{
	{name: "local"},
	{name: "push", remote: true, push: true},
	{name: "pull", remote: true},
}

// optReference is the all-upstream run that m is compared with.
func optReference(m optMode) optMode {
	for _, ref := range optReferences {
		if ref.remote == m.remote && ref.push == m.push {
			return ref
		}
	}
	panic("no reference for " + m.name)
}

// command returns the program and arguments that run c in mode m.
func (m optMode) command(c optCase, r optRoots, gorsync, rsync string) (string, []string) {
	client, server := rsync, rsync
	if m.clientGorsync {
		client = gorsync
	}
	if m.serverGorsync {
		server = gorsync
	}
	args := append(slices.Clone(c.args), "--stats")
	if m.remote {
		args = append(args, "-e", r.rsh, "--rsync-path="+server)
	}
	for _, s := range c.srcs {
		if m.remote && !m.push {
			s = "localhost:" + s
		}
		args = append(args, s)
	}
	// An empty dst leaves the source alone on the command line: rsync
	// lists it.
	if dst := c.dst; dst != "" {
		if m.remote && m.push {
			dst = "localhost:" + dst
		}
		args = append(args, dst)
	}
	if c.umask != "" {
		return "sh", append([]string{"-c", "umask " + c.umask + ` && exec "$0" "$@"`, client}, args...)
	}
	return client, args
}

// optEpoch is the time every run's root is given after the run, so that
// creating the destination inside it leaves no difference.
var optEpoch = time.Unix(1_500_000_000, 0)

// run copies template to a fresh root and runs c there in mode m.
func (m optMode) run(t *testing.T, c optCase, r optRoots, template string) optResult {
	t.Helper()
	gorsync := rsynctest.BuildGorsync(t)
	rsync := rsynctest.RequireRsync(t)
	root := filepath.Join(t.TempDir(), "root")
	optCopy(t, template, root)
	logPath := ""
	if c.logFile {
		logPath = filepath.Join(t.TempDir(), "log")
		c.args = append(slices.Clone(c.args), "--log-file="+logPath)
	}
	name, args := m.command(c, r, gorsync, rsync)
	if c.stdin != "" {
		in := filepath.Join(t.TempDir(), "stdin")
		if err := os.WriteFile(in, []byte(c.stdin), 0o644); err != nil {
			t.Fatal(err)
		}
		name, args = "sh", append([]string{"-c", `exec "$0" "$@" <"` + in + `"`, name}, args...)
	}
	if c.twice {
		rsynctest.Run(t, root, c.env, name, args...)
	}
	out, errOut, code := rsynctest.Run(t, root, c.env, name, args...)
	optResetTimes(t, c, root)
	res := optResult{root: root, stdout: out, stderr: errOut, code: code}
	if logPath != "" {
		b, err := os.ReadFile(logPath)
		if err != nil {
			t.Fatalf("read the log file: %v", err)
		}
		// The --stats lines (always asked for) and the closing byte
		// counts vary; deletions and entries interleave by timing.
		var lines []string
		for _, l := range strings.Split(optLogLines.ReplaceAllString(string(b), ""), "\n") {
			if !optSummary.MatchString(l) {
				lines = append(lines, optLogBytes.ReplaceAllString(l, "${1}N"))
			}
		}
		slices.Sort(lines)
		res.log = strings.Join(lines, "\n")
	}
	return res
}

// optLogLines matches a --log-file line's time and pid; optLogBytes the
// byte counts and rates of its closing lines, which the local-copy counts
// make differ.
var (
	optLogLines = regexp.MustCompile(`(?m)^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[\d+\] `)
	optLogBytes = regexp.MustCompile(`^(sent |total size ).*$`)
)

// optResetTimes gives a run's root, and its dst where the case says the
// run made it, optEpoch as their mtime.
func optResetTimes(t *testing.T, c optCase, root string) {
	t.Helper()
	reset := []string{root}
	if fi, err := os.Lstat(filepath.Join(root, "dst")); c.dstTimeFree && err == nil && fi.IsDir() {
		reset = append(reset, filepath.Join(root, "dst"))
	}
	for _, p := range reset {
		if err := os.Chtimes(p, optEpoch, optEpoch); err != nil {
			t.Fatal(err)
		}
	}
}

// optCopy copies a tree with everything rsync -a could preserve.
func optCopy(t *testing.T, from, to string) {
	t.Helper()
	if out, err := exec.Command("cp", "-a", from, to).CombinedOutput(); err != nil {
		t.Fatalf("cp -a %s %s: %v\n%s", from, to, err, out)
	}
}

// optSummary matches the stdout lines that are not about files: the file-list
// headers (which also depend on incremental recursion), the --stats block and
// the closing byte counts.
var optSummary = regexp.MustCompile(`^(|sending incremental file list|receiving incremental file list|` +
	`(building|receiving) file list \.\.\. done|Number of .*|Total .*|Literal data: .*|Matched data: .*|` +
	`File list .*|sent .* bytes .*|total size is .*)$`)

// optMessage matches the stdout lines that are messages rather than file
// names. Upstream prints the sender's "skipping" messages as each directory
// is listed, which with incremental recursion interleaves them with the
// file lines (and, pulling, with the timing of two processes); so messages
// are compared as a set, file lines in order.
//
// Deletions are reported by the receiver's generator while the sender (or,
// pulling, another process) prints file lines, so their interleaving with
// file lines depends on timing: "deleting" lines are compared as a set too.
//
// --info=name2's "is uptodate" lines come from the generator too, as it
// goes ahead of the sender's file lines, and --info=remove's "sender
// removed" lines as the receiver's successes come back.
var optMessage = regexp.MustCompile(`^(skipping |created directory |deleting |\*deleting |cannot delete non-empty directory: |IO error encountered|sender removed )|^[^ ].* is uptodate$`)

// optStdout splits out, with root replaced by ROOT and the summary lines
// dropped, into its file lines in order and its sorted message lines.
func optStdout(out, root string) (files, messages []string) {
	for _, l := range strings.Split(strings.ReplaceAll(out, root, "ROOT"), "\n") {
		switch {
		case optSummary.MatchString(l):
		case optMessage.MatchString(l):
			messages = append(messages, l)
		default:
			files = append(files, l)
		}
	}
	slices.Sort(messages)
	return files, messages
}

// optPicked returns the sorted, distinct lines of out, with root replaced by
// ROOT, that keys matches.
func optPicked(out, root string, keys *regexp.Regexp) []string {
	var lines []string
	for _, l := range strings.Split(strings.ReplaceAll(out, root, "ROOT"), "\n") {
		if keys.MatchString(l) {
			lines = append(lines, l)
		}
	}
	slices.Sort(lines)
	return slices.Compact(lines)
}

// optErrorLine picks the reason and code of rsync's closing error line,
// leaving out the source location and role, which differ by implementation.
var optErrorLine = regexp.MustCompile(`rsync (?:error|warning): (.*\(code \d+\))`)

// optErrors returns the distinct "rsync error: ... (code N)" reasons in out.
// Upstream's local copy stops its receiving child with SIGUSR1 when the
// sending parent fails, and the child says so; gorsync's local copy has no
// child to signal, so that line is left out.
func optErrors(out string) []string {
	var errs []string
	for _, m := range optErrorLine.FindAllStringSubmatch(out, -1) {
		if m[1] != "received SIGUSR1 (code 19)" {
			errs = append(errs, m[1])
		}
	}
	slices.Sort(errs)
	return slices.Compact(errs)
}

// compareOptRuns reports every way got, a run in mode m, differs from the
// upstream run want.
func compareOptRuns(t *testing.T, c optCase, m optMode, want, got optResult) {
	t.Helper()
	linesFree := c.remoteErrorsFree && m.remote
	codeFree := linesFree && !m.push
	switch {
	case codeFree && (got.code == 0) != (want.code == 0):
		t.Errorf("exit code %d, upstream %d", got.code, want.code)
	case !codeFree && got.code != want.code:
		t.Errorf("exit code %d, upstream %d", got.code, want.code)
	}
	diffs, err := rsynctest.DiffTrees(want.root, got.root, c.cmp)
	if err != nil {
		t.Fatalf("compare trees: %v", err)
	}
	for i, d := range diffs {
		if i == 20 {
			t.Errorf("... and %d more tree differences", len(diffs)-i)
			break
		}
		t.Errorf("tree differs from upstream's: %v", d)
	}
	// An early error (an unknown option, a bad destination) prints no
	// statistics; then gorsync must print none either.
	ws, werr := rsynctest.ParseStats(want.stdout)
	gs, gerr := rsynctest.ParseStats(got.stdout)
	switch {
	case werr != nil && gerr == nil:
		t.Errorf("--stats printed, upstream printed none (%v)", werr)
	case werr == nil && gerr != nil:
		t.Errorf("--stats: %v; upstream printed them", gerr)
	case werr == nil:
		for _, f := range []struct {
			name      string
			want, got any
		}{
			{"Number of files", ws.NumFiles, gs.NumFiles},
			{"Number of deleted files", ws.DeletedFiles, gs.DeletedFiles},
			{"Number of regular files transferred", ws.RegularFilesTransferred, gs.RegularFilesTransferred},
			{"Total file size", ws.TotalFileSize, gs.TotalFileSize},
			{"Literal data", ws.LiteralData, gs.LiteralData},
			{"Matched data", ws.MatchedData, gs.MatchedData},
		} {
			if f.want != f.got {
				t.Errorf("--stats %s: %+v, upstream %+v", f.name, f.got, f.want)
			}
		}
	}
	wout, gout := want.stdout, got.stdout
	if c.volatile != nil {
		wout, gout = c.volatile.ReplaceAllString(wout, "X"), c.volatile.ReplaceAllString(gout, "X")
	}
	wf, wm := optStdout(wout, want.root)
	gf, gm := optStdout(gout, got.root)
	if !slices.Equal(wf, gf) {
		t.Errorf("stdout file lines differ from upstream's\ngot:\n%s\nupstream:\n%s", strings.Join(gf, "\n"), strings.Join(wf, "\n"))
	}
	if !slices.Equal(wm, gm) {
		t.Errorf("stdout messages differ from upstream's\ngot:\n%s\nupstream:\n%s", strings.Join(gm, "\n"), strings.Join(wm, "\n"))
	}
	if w, g := strings.ReplaceAll(want.log, want.root, "ROOT"), strings.ReplaceAll(got.log, got.root, "ROOT"); c.logFile && w != g {
		t.Errorf("log file differs from upstream's\ngot:\n%s\nupstream:\n%s", g, w)
	}
	if c.stderrKeys != nil {
		if w, g := optPicked(want.stderr, want.root, c.stderrKeys), optPicked(got.stderr, got.root, c.stderrKeys); !slices.Equal(w, g) {
			t.Errorf("stderr lines matching %q differ\ngot:\n%s\nupstream:\n%s", c.stderrKeys, strings.Join(g, "\n"), strings.Join(w, "\n"))
		}
	}
	if w, g := optErrors(want.stderr), optErrors(got.stderr); !linesFree && !slices.Equal(w, g) {
		t.Errorf("rsync error lines differ: got %q, upstream %q", g, w)
	}
	if t.Failed() {
		t.Logf("gorsync stdout:\n%s\ngorsync stderr:\n%s\nupstream stdout:\n%s\nupstream stderr:\n%s",
			got.stdout, got.stderr, want.stdout, want.stderr)
	}
}

// Setups. Each writes the starting state into an empty root.

// optSrc copies the named starting tree (see optRoots.tree) to root/src.
func optSrc(tree string) func(*testing.T, optRoots, string) {
	return func(t *testing.T, r optRoots, root string) {
		optCopy(t, r.tree(tree), filepath.Join(root, "src"))
	}
}

// optSrcDst copies the edited tree to root/src over a copy of the standard
// tree at root/dst, as a second sync would find them.
// optWithFiles copies the standard tree to src and adds the given files
// (paths relative to the run's root).
func optWithFiles(files map[string]string) func(*testing.T, optRoots, string) {
	return func(t *testing.T, r optRoots, root string) {
		optSrc("")(t, r, root)
		for name, data := range files {
			p := filepath.Join(root, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
			os.Chtimes(p, optEpoch, optEpoch)
		}
		// Adding files changed their directories' times: make them fixed
		// again, deepest first.
		for name := range files {
			for d := filepath.Dir(filepath.Join(root, name)); d != root && d != filepath.Dir(root); d = filepath.Dir(d) {
				os.Chtimes(d, optEpoch, optEpoch)
			}
		}
	}
}

func optSrcDst(t *testing.T, r optRoots, root string) {
	optCopy(t, r.b, filepath.Join(root, "src"))
	optCopy(t, r.a, filepath.Join(root, "dst"))
}

// optSame copies the standard tree to both root/src and root/dst, then lets
// edit change the destination.
func optSame(edit func(t *testing.T, dst string)) func(*testing.T, optRoots, string) {
	return func(t *testing.T, r optRoots, root string) {
		optCopy(t, r.a, filepath.Join(root, "src"))
		optCopy(t, r.a, filepath.Join(root, "dst"))
		if edit != nil {
			edit(t, filepath.Join(root, "dst"))
		}
	}
}

// optEmptyDst copies the standard tree to root/src and makes root/dst an
// empty directory.
func optEmptyDst(t *testing.T, r optRoots, root string) {
	optCopy(t, r.a, filepath.Join(root, "src"))
	if err := os.Mkdir(filepath.Join(root, "dst"), 0o755); err != nil {
		t.Fatal(err)
	}
}

// optFileDst copies the standard tree to root/src and makes root/dst a
// regular file.
func optFileDst(t *testing.T, r optRoots, root string) {
	optCopy(t, r.a, filepath.Join(root, "src"))
	if err := os.WriteFile(filepath.Join(root, "dst"), []byte("a file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// optRewrite gives the file at path new content of the same size, keeping
// its mtime, so only a checksum can tell it changed.
func optRewrite(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] ^= 0x5a
	}
	if err := os.WriteFile(path, b, 0); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
}

// optSameSizeSameTime changes size-4096's content at the destination only.
func optSameSizeSameTime(t *testing.T, dst string) {
	optRewrite(t, filepath.Join(dst, "size-4096"))
}

// optSizeOnly gives the destination's size-699 other content and another
// mtime at the same size, and truncates its size-701.
func optSizeOnly(t *testing.T, dst string) {
	p := filepath.Join(dst, "size-699")
	optRewrite(t, p)
	old := time.Unix(1_000_000_000, 123)
	if err := os.Chtimes(p, old, old); err != nil {
		t.Fatal(err)
	}
	q := filepath.Join(dst, "size-701")
	fi, err := os.Stat(q)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(q, 500); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(q, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
}

// optOtherNanoseconds moves the destination's size-700 to another
// nanosecond within the same second.
func optOtherNanoseconds(t *testing.T, dst string) {
	p := filepath.Join(dst, "size-700")
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	mt := fi.ModTime()
	other := time.Unix(mt.Unix(), int64((mt.Nanosecond()+500_000_000)%1_000_000_000))
	if err := os.Chtimes(p, other, other); err != nil {
		t.Fatal(err)
	}
}

// optPermsSetup makes files whose modes the umask would narrow in the source
// and, at the destination, a changed file with its own mode, an unchanged file
// with its own mode, and missing files and directories (e, e/f, e/f/g, of
// modes 0755, 0711 and 0750) that the transfer creates.
func optPermsSetup(t *testing.T, r optRoots, root string) {
	src, dst := filepath.Join(root, "src"), filepath.Join(root, "dst")
	optCopy(t, r.a, src)
	for _, f := range []struct {
		name string
		perm os.FileMode
	}{{"open.txt", 0o666}, {"all.sh", 0o777}, {"setgid", 0o2755}} {
		p := filepath.Join(src, f.name)
		if err := os.WriteFile(p, []byte(f.name+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, f.perm); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, optEpoch, optEpoch); err != nil {
			t.Fatal(err)
		}
	}
	// The new files change src's mtime; give it back a fixed one.
	if err := os.Chtimes(src, optEpoch, optEpoch); err != nil {
		t.Fatal(err)
	}
	optCopy(t, src, dst)
	changed := filepath.Join(dst, "size-700")
	optRewrite(t, changed)
	old := time.Unix(1_000_000_000, 0)
	for _, f := range []struct {
		name string
		perm os.FileMode
	}{{"size-700", 0o600}, {"z", 0o604}, {"open.txt", 0o640}} {
		if err := os.Chmod(filepath.Join(dst, f.name), f.perm); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chtimes(changed, old, old); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"exec.sh", "readonly", "all.sh", "setgid", "a/b", "e"} {
		if err := os.RemoveAll(filepath.Join(dst, name)); err != nil {
			t.Fatal(err)
		}
	}
}

// optMustContain returns a sanity check that upstream's stdout or stderr
// holds every one of lines.
func optMustContain(lines ...string) func(*testing.T, optResult, string) {
	return func(t *testing.T, up optResult, _ string) {
		for _, l := range lines {
			if !strings.Contains(up.stdout+up.stderr, l) {
				t.Errorf("upstream output lacks %q", l)
			}
		}
	}
}

// optTransferred returns a sanity check that upstream sent n regular files.
func optTransferred(n int64) func(*testing.T, optResult, string) {
	return func(t *testing.T, up optResult, _ string) {
		st, err := rsynctest.ParseStats(up.stdout)
		if err != nil {
			t.Fatalf("upstream stats: %v", err)
		}
		if st.RegularFilesTransferred != n {
			t.Errorf("upstream transferred %d regular files, the case is built for %d", st.RegularFilesTransferred, n)
		}
	}
}

// optStats returns a sanity check that upstream's --stats satisfy ok, which
// what describes.
func optStats(what string, ok func(rsynctest.Stats) bool) func(*testing.T, optResult, string) {
	return func(t *testing.T, up optResult, _ string) {
		st, err := rsynctest.ParseStats(up.stdout)
		if err != nil {
			t.Fatalf("upstream stats: %v", err)
		}
		if !ok(st) {
			t.Errorf("upstream stats do not show %s: %+v", what, st)
		}
	}
}

// optUnchanged is a sanity check that upstream left the starting state as it
// was, metadata included.
func optUnchanged(t *testing.T, up optResult, template string) {
	o := rsynctest.Archive(false)
	o.Ignore = func(rel string) bool { return rel == "." }
	diffs, err := rsynctest.DiffTrees(template, up.root, o)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range diffs {
		t.Errorf("upstream changed the tree: %v", d)
	}
}

// optCases lists the cases TestOptions runs.
func optCases() []optCase {
	archive := rsynctest.Archive(false)
	// Without -t, new entries get the time of the run; without -o and -g
	// they belong to the test's user, like the time-independent rest.
	noTimes := rsynctest.CompareOptions{Perms: true, Owner: true, Group: true}
	linkStat := regexp.MustCompile(`link_stat`)
	return []optCase{
		{
			name: "filter/exclude-list", setup: optSrc(""),
			args: []string{"-a", "--exclude=*.b", "--exclude=/z", "--exclude=e/", "--exclude=.hidden"},
			srcs: []string{"src/"}, dst: "dst/", cmp: archive,
		},
		{
			name: "filter/include-dirs-exclude-rest", setup: optSrc(""),
			args: []string{"-a", "--include=*/", "--include=*.bin", "--exclude=*"},
			srcs: []string{"src/"}, dst: "dst/", cmp: archive,
		},
		{
			name: "filter/filter-rules-and-anchors", setup: optSrc(""),
			args: []string{"-a", "-f", "- /a/**", "-f", "+ a/", "-f", "- a*", "-f", "-! */"},
			srcs: []string{"src"}, dst: "dst/", cmp: archive, dstTimeFree: true,
		},
		{
			name: "filter/F-merge-files", setup: optWithFiles(map[string]string{
				"src/.rsync-filter":   "- *.b\n- big.*\n",
				"src/e/.rsync-filter": "- g/\n",
			}),
			args: []string{"-a", "-F"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
		},
		{
			name: "filter/FF-hides-merge-files", setup: optWithFiles(map[string]string{
				"src/.rsync-filter": "- *.b\n",
			}),
			args: []string{"-a", "-FF"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
		},
		{
			name: "filter/C-cvs-exclude", setup: optWithFiles(map[string]string{
				"src/core": "x", "src/x.o": "y", "src/keep.c": "z", "src/e/.cvsignore": "f\n", "src/RCS/file": "r",
			}),
			args: []string{"-a", "-C"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
		},
		{
			name: "quick-check/second-run-sends-nothing", setup: optSrc(""),
			args: []string{"-a"}, srcs: []string{"src/"}, dst: "dst/", twice: true, cmp: archive,
			sanity: optTransferred(0),
		},
		{
			name: "quick-check/edited-source", setup: optSrcDst,
			args: []string{"-a"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
		},
		{
			name: "checksum/without-c-same-size-and-mtime-skipped", setup: optSame(optSameSizeSameTime),
			args: []string{"-a"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
			sanity: optTransferred(0),
		},
		{
			name: "checksum/c-sends-same-size-and-mtime", setup: optSame(optSameSizeSameTime),
			args: []string{"-ac"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
			sanity: optTransferred(1),
		},
		{
			name: "checksum/c-with-checksum-choice-md5", setup: optSame(optSameSizeSameTime),
			args: []string{"-ac", "--checksum-choice=md5"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
			sanity: optTransferred(1),
		},
		{
			name: "checksum/c-with-cc-xxh3", setup: optSame(optSameSizeSameTime),
			args: []string{"-ac", "--cc=xxh3"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
			sanity: optTransferred(1),
		},
		{
			name: "ignore-times/I-sends-unchanged-files", setup: optSame(nil),
			args: []string{"-a", "-I"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
			sanity: optStats("every regular file sent", func(s rsynctest.Stats) bool { return s.RegularFilesTransferred == s.NumFiles.Reg }),
		},
		{
			name: "size-only/skips-same-size-sends-other-size", setup: optSame(optSizeOnly),
			args: []string{"-a", "--size-only"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
			sanity: optTransferred(1),
		},
		{
			name: "size-only/without-it-both-are-sent", setup: optSame(optSizeOnly),
			args: []string{"-a"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
			sanity: optTransferred(2),
		},
		{
			name: "dry-run/existing-destination-unchanged", setup: optSrcDst,
			args: []string{"-a", "-n"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
			sanity: optUnchanged,
		},
		{
			name: "dry-run/new-destination-not-created", setup: optSrc(""),
			args: []string{"-av", "-n"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
			sanity: optUnchanged,
		},
		{
			name: "whole-file/W-sends-literal", setup: optSrcDst,
			args: []string{"-a", "-W"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
			sanity: optStats("only literal data", func(s rsynctest.Stats) bool { return s.MatchedData == 0 && s.LiteralData > 0 }),
		},
		{
			name: "whole-file/no-W-matches-blocks", setup: optSrcDst,
			args: []string{"-a", "--no-W"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
			sanity: optStats("mostly matched data", func(s rsynctest.Stats) bool { return s.MatchedData > s.LiteralData }),
		},
		{
			name: "recursion/r-without-l-skips-symlinks-and-fifo", setup: optSrc(""),
			args: []string{"-r"}, srcs: []string{"src/"}, dst: "dst/", cmp: noTimes,
			sanity: optMustContain(`skipping non-regular file "links/relative"`, `skipping non-regular file "fifo"`),
		},
		{
			name: "recursion/d-copies-top-level-only", setup: optSrc(""),
			args: []string{"-d"}, srcs: []string{"src/"}, dst: "dst/", cmp: noTimes,
		},
		{
			name: "recursion/neither-skips-directory", setup: optSrc(""),
			args: []string{"-t"}, srcs: []string{"src/"}, dst: "dst/", cmp: noTimes, dstTimeFree: true,
			sanity: optMustContain("skipping directory ."),
		},
		{
			name: "recursion/neither-copies-named-files", setup: optSrc(""),
			args: []string{"-t"}, srcs: []string{"src/z", "src/a", "src/a.b"}, dst: "dst/", cmp: noTimes,
			sanity: optMustContain("skipping directory a"),
		},
		{
			name: "perms/rt-keeps-destination-modes-umask-for-new", setup: optPermsSetup,
			args: []string{"-rt"}, srcs: []string{"src/"}, dst: "dst/", umask: "027", cmp: archive,
		},
		{
			name: "perms/rp-copies-modes", setup: optPermsSetup,
			args: []string{"-rp"}, srcs: []string{"src/"}, dst: "dst/", umask: "027", cmp: noTimes,
		},
		{
			name: "times/t-to-the-nanosecond", setup: optSrcDst,
			args: []string{"-rt"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
		},
		{
			name: "times/same-second-other-nanoseconds-kept", setup: optSame(optOtherNanoseconds),
			args: []string{"-a"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
			sanity: optTransferred(0),
		},
		{
			name: "times/t-at-protocol-30", setup: optSrcDst,
			args: []string{"-rt", "--protocol=30"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
		},
		{
			name: "owners/a-keeps-foreign-owner", setup: optSrc("special"),
			args: []string{"-a"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
		},
		{
			name: "owners/og-numeric-ids", setup: optSrc("special"),
			args: []string{"-rlptog", "--numeric-ids"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
		},
		{
			name: "owners/o-without-g", setup: optSrc("special"),
			args: []string{"-rlpto"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
		},
		{
			name: "owners/neither-o-nor-g", setup: optSrc("special"),
			args: []string{"-rlpt"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
		},
		{
			name: "devices/D-copies-fifo-and-devices", setup: optSrc("special"),
			args: []string{"-rlptD"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
		},
		{
			name: "devices/specials-without-devices", setup: optSrc("special"),
			args: []string{"-rlpt", "--specials"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
		},
		{
			name: "devices/without-D-skipped", setup: optSrc("special"),
			args: []string{"-rlpt"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
			sanity: optMustContain(`skipping non-regular file "fifo"`),
		},
		{
			name: "single-file/to-new-name", setup: optEmptyDst,
			args: []string{"-a"}, srcs: []string{"src/size-700"}, dst: "dst/newname", cmp: archive, dstTimeFree: true,
		},
		{
			name: "single-file/into-existing-directory", setup: optEmptyDst,
			args: []string{"-a"}, srcs: []string{"src/size-700"}, dst: "dst", cmp: archive, dstTimeFree: true,
		},
		{
			name: "trailing-slash/src-copies-the-directory", setup: optEmptyDst,
			args: []string{"-a"}, srcs: []string{"src"}, dst: "dst/", cmp: archive, dstTimeFree: true,
		},
		{
			name: "trailing-slash/src-slash-copies-the-contents", setup: optEmptyDst,
			args: []string{"-a"}, srcs: []string{"src/"}, dst: "dst", cmp: archive,
		},
		{
			name: "trailing-slash/src-to-new-destination", setup: optSrc(""),
			args: []string{"-a"}, srcs: []string{"src"}, dst: "dst", cmp: archive, dstTimeFree: true,
		},
		{
			name: "sources/multiple-into-one-destination", setup: optEmptyDst,
			args: []string{"-a"}, srcs: []string{"src/a", "src/e/", "src/z", "src/links"}, dst: "dst/", cmp: archive, dstTimeFree: true,
		},
		{
			name: "verbose/v-file-lines", setup: optSrc(""),
			args: []string{"-av"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
		},
		{
			name: "verbose/v-update-lines", setup: optSrcDst,
			args: []string{"-av"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
		},
		{
			name: "verbose/rv-skipped-entries", setup: optSrc(""),
			args: []string{"-rv"}, srcs: []string{"src/"}, dst: "dst/", cmp: noTimes,
		},
		{
			name: "errors/missing-source", setup: optSrc(""),
			args: []string{"-a"}, srcs: []string{"src/does-not-exist"}, dst: "dst/", cmp: archive, dstTimeFree: true,
			stderrKeys: linkStat, sanity: optMustContain(`link_stat`),
		},
		{
			name: "errors/missing-source-among-others", setup: optSrc(""),
			args: []string{"-a"}, srcs: []string{"src/does-not-exist", "src/z", "src/a"}, dst: "dst/", cmp: archive, dstTimeFree: true,
			stderrKeys: linkStat,
		},
		{
			name: "errors/directory-onto-file", setup: optFileDst,
			args: []string{"-a"}, srcs: []string{"src/"}, dst: "dst", cmp: archive,
			stderrKeys: regexp.MustCompile(`destination must be a directory`),
		},
		{
			name: "errors/directory-onto-file-no-slash", setup: optFileDst,
			args: []string{"-a"}, srcs: []string{"src"}, dst: "dst", cmp: archive,
			stderrKeys: regexp.MustCompile(`destination must be a directory`),
		},
		{
			name: "errors/unknown-option", setup: optSrc(""),
			args: []string{"-a", "--no-such-option"}, srcs: []string{"src/"}, dst: "dst/", cmp: archive,
			stderrKeys: regexp.MustCompile(`unknown option`),
		},
	}
}

// tree returns the starting tree optSrc names: "special", "b" or, for
// anything else, the standard tree.
func (r optRoots) tree(name string) string {
	switch name {
	case "special":
		return r.special
	case "b":
		return r.b
	}
	return r.a
}

// TestOptions runs every case of optCases with upstream rsync and with
// gorsync in every mode, and compares the outcomes.
func TestOptions(t *testing.T) {
	cases := optCases()
	var filters []optCase
	for _, c := range cases {
		if strings.HasPrefix(c.name, "filter/") {
			filters = append(filters, c)
		}
	}
	runOptCases(t, append(cases, withNoIncRecursive(filters)[len(filters):]...))
}

// withNoIncRecursive returns cases followed by a copy of each recursive one
// (with -a or -r) run with --no-i-r: incremental recursion is rsync's
// default, and the same command must give the same result without it.
func withNoIncRecursive(cases []optCase) []optCase {
	out := slices.Clone(cases)
	for _, c := range cases {
		recursive := false
		for _, a := range c.args {
			if a == "-r" || a == "--recursive" || strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && strings.ContainsAny(a, "ar") {
				recursive = true
			}
		}
		if !recursive || slices.Contains(c.args, "--no-i-r") || slices.Contains(c.args, "--no-inc-recursive") {
			continue
		}
		c.name = "no-i-r/" + c.name
		c.args = append(slices.Clone(c.args), "--no-i-r")
		out = append(out, c)
	}
	return out
}

// runOptCases runs cases with upstream rsync and with gorsync in every mode,
// and compares the outcomes; other files' tests reuse it for their cases.
func runOptCases(t *testing.T, cases []optCase) {
	rsynctest.RequireRsync(t)
	rsynctest.BuildGorsync(t)
	base := t.TempDir()
	r := optRoots{
		a:       filepath.Join(base, "A"),
		b:       filepath.Join(base, "B"),
		special: filepath.Join(base, "S"),
		rsh:     filepath.Join(base, "localrsh"),
	}
	rsynctest.MakeStandardTree(t, r.a, optSeed, rsynctest.TreeOptions{BigFileSize: optBigSize})
	optCopy(t, r.a, r.b)
	rsynctest.EditTree(t, r.b, optSeed+1)
	rsynctest.MakeStandardTree(t, r.special, optSeed, rsynctest.TreeOptions{
		BigFileSize: optBigSize, Devices: true, ForeignOwner: true,
	})
	// Like setup_test.go's localRsh: drop the host, let sh run the command
	// in the client's working directory.
	if err := os.WriteFile(r.rsh, []byte("#!/bin/sh\nshift\nexec sh -c \"$*\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			template := filepath.Join(t.TempDir(), "template")
			if err := os.Mkdir(template, 0o755); err != nil {
				t.Fatal(err)
			}
			c.setup(t, r, template)
			if err := os.Chtimes(template, optEpoch, optEpoch); err != nil {
				t.Fatal(err)
			}
			refs := make(map[string]optResult)
			for _, m := range optReferences {
				up := m.run(t, c, r, template)
				refs[m.name] = up
				if c.sanity != nil {
					t.Run("upstream-"+m.name, func(t *testing.T) { c.sanity(t, up, template) })
				}
			}
			for _, m := range optModes() {
				t.Run(m.name, func(t *testing.T) {
					t.Parallel()
					got := m.run(t, c, r, template)
					compareOptRuns(t, c, m, refs[optReference(m).name], got)
				})
			}
		})
	}
}

// TestOptionsModes checks the command lines TestOptions builds: each mode
// runs the client and server it is named for, marks the remote operands, and
// is compared with the all-upstream run of the same direction.
func TestOptionsModes(t *testing.T) {
	r := optRoots{rsh: "RSH"}
	c := optCase{args: []string{"-a"}, srcs: []string{"s1/", "s2"}, dst: "d/"}
	prog := map[bool]string{true: "G", false: "R"}
	want := map[string]string{
		"local": "G -a --stats s1/ s2 d/",
		"push":  "G -a --stats -e RSH --rsync-path=S s1/ s2 localhost:d/",
		"pull":  "G -a --stats -e RSH --rsync-path=S localhost:s1/ localhost:s2 d/",
	}
	for _, m := range optModes() {
		ref := optReference(m)
		if ref.clientGorsync || ref.serverGorsync || ref.remote != m.remote || ref.push != m.push {
			t.Errorf("%s: compared with %+v", m.name, ref)
		}
		name, args := m.command(c, r, "G", "R")
		got := name + " " + strings.Join(args, " ")
		w := strings.Replace(want[ref.name], "G", prog[m.clientGorsync], 1)
		w = strings.Replace(w, "=S", "="+prog[m.serverGorsync], 1)
		if got != w {
			t.Errorf("%s: command %q, want %q", m.name, got, w)
		}
	}
}
