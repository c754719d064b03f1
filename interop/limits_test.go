package interop

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorsync/gorsync/internal/rsynctest"
)

// This file checks the options that bound a transfer (--bwlimit,
// --timeout, --stop-after/--stop-at, --max-alloc, --contimeout,
// --blocking-io) and those that choose how the arguments reach the server
// (-s, --old-args and their environment variables) against upstream rsync,
// in every client/server pairing, pushing and pulling.

// limitNames is a source tree whose names a remote shell would split or
// expand: spaces, a wildcard character, a leading dash.
func limitNames(t *testing.T, r optRoots, root string) {
	files := map[string]string{
		"src/a b/f 1.txt": "one\n",
		"src/a b/g":       "two\n",
		"src/w*c":         "star\n",
		"src/x/y.txt":     "y\n",
		"src/x/z.txt":     "z\n",
		"src/x/q.dat":     "q\n",
		"src/-dash":       "dash\n",
		"src/$HOME":       "dollar\n",
	}
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
	for _, d := range []string{"src/a b", "src/x", "src"} {
		os.Chtimes(filepath.Join(root, d), optEpoch, optEpoch)
	}
	if err := os.Mkdir(filepath.Join(root, "dst"), 0o755); err != nil {
		t.Fatal(err)
	}
}

// limitMessages are the stderr lines of these options' own errors.
var limitMessages = regexp.MustCompile(`max-alloc|stop-a|contimeout|conflicts|bwlimit|timeout|invalid numeric`)

func limitCases() []optCase {
	archive := rsynctest.Archive(false)
	// The operands a remote shell would split or expand: pulled, the
	// spaces and the wildcards are in the remote paths; pushed, the
	// destination has a space.
	names := func(name string, args []string, env ...string) []optCase {
		return []optCase{
			{
				name: "args/" + name + "/sources", setup: limitNames, env: env,
				args: args, srcs: []string{"src/a b", "src/w*c", "src/x/*.txt", "src/-dash", "src/$HOME"},
				dst: "dst/", cmp: archive, remoteErrorsFree: true, dstTimeFree: true,
			},
			{
				name: "args/" + name + "/tree", setup: limitNames, env: env,
				args: args, srcs: []string{"src/"}, dst: "dst dir/", cmp: archive,
			},
		}
	}
	var cases []optCase
	cases = append(cases, names("default", []string{"-a"})...)
	cases = append(cases, names("secluded", []string{"-a", "-s"})...)
	cases = append(cases, names("protect-args", []string{"-a", "--protect-args"})...)
	cases = append(cases, names("old-args", []string{"-a", "--old-args"})...)
	cases = append(cases, names("old-args-twice", []string{"-a", "--old-args", "--old-args"})...)
	cases = append(cases, names("env-protect", []string{"-a"}, "RSYNC_PROTECT_ARGS=1")...)
	cases = append(cases, names("env-old", []string{"-a"}, "RSYNC_OLD_ARGS=1")...)
	cases = append(cases, names("env-old-but-s", []string{"-a", "-s"}, "RSYNC_OLD_ARGS=1")...)
	cases = append(cases, names("no-s", []string{"-a", "-s", "--no-s"})...)
	usage := func(name string, args ...string) optCase {
		return optCase{
			name: "usage/" + name, setup: optSrc(""), args: append([]string{"-a"}, args...),
			srcs: []string{"src/"}, dst: "dst/", cmp: archive, stderrKeys: limitMessages,
		}
	}
	works := func(name string, args ...string) optCase {
		return optCase{
			name: "accepted/" + name, setup: optSrc(""), args: append([]string{"-a"}, args...),
			srcs: []string{"src/"}, dst: "dst/", cmp: archive, stderrKeys: limitMessages,
		}
	}
	return append(cases,
		usage("s-conflicts-with-old-args", "-s", "--old-args"),
		usage("max-alloc-1k", "--max-alloc=1k"),
		usage("max-alloc-zero", "--max-alloc=0"),
		usage("max-alloc-bad", "--max-alloc=1q"),
		usage("bwlimit-too-small", "--bwlimit=100b"),
		usage("bwlimit-bad", "--bwlimit=fast"),
		usage("timeout-bad", "--timeout=soon"),
		usage("stop-after-zero", "--stop-after=0"),
		usage("stop-at-bad", "--stop-at=noon"),
		usage("stop-at-past", "--stop-at=2001-01-01T00:00"),
		usage("contimeout", "--contimeout=5"),
		works("bwlimit-fast", "--bwlimit=50M"),
		works("bwlimit-then-none", "--bwlimit=1", "--no-bwlimit"),
		works("timeout", "--timeout=60"),
		works("timeout-then-none", "--timeout=1", "--no-timeout"),
		works("max-alloc", "--max-alloc=64M"),
		works("max-alloc-env", "--max-alloc=1g"),
		works("stop-after", "--stop-after=60"),
		works("time-limit", "--time-limit=60"),
		works("stop-at", "--stop-at="+time.Now().Add(48*time.Hour).Format("2006-01-02T15:04")),
		works("blocking-io", "--blocking-io"),
		works("no-blocking-io", "--no-blocking-io"),
		works("no-contimeout", "--no-contimeout"),
		optCase{
			name: "accepted/max-alloc-from-env", setup: optSrc(""), args: []string{"-a"},
			env:  []string{"RSYNC_MAX_ALLOC=8M"},
			srcs: []string{"src/"}, dst: "dst/", cmp: archive, stderrKeys: limitMessages,
		},
		optCase{
			name: "usage/max-alloc-from-env-too-small", setup: optSrc(""), args: []string{"-a"},
			env:  []string{"RSYNC_MAX_ALLOC=5k"},
			srcs: []string{"src/"}, dst: "dst/", cmp: archive, stderrKeys: limitMessages,
		},
	)
}

// TestLimitOptions runs limitCases with upstream rsync and with gorsync in
// every mode, and compares the outcomes.
func TestLimitOptions(t *testing.T) {
	runOptCases(t, limitCases())
}

// TestTimeoutIdlePeer runs a transfer whose remote shell never answers:
// with --timeout=2 the client gives up as upstream's does, with exit code
// 30 and rsync's message naming the side that waited ("sender" pushing,
// the not yet forked "Receiver" pulling).
func TestTimeoutIdlePeer(t *testing.T) {
	rsync := rsynctest.RequireRsync(t)
	gorsync := rsynctest.BuildGorsync(t)
	dir := t.TempDir()
	hang := filepath.Join(dir, "hang")
	if err := os.WriteFile(hang, []byte("#!/bin/sh\nexec sleep 20\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "src"), 0o755); err != nil {
		t.Fatal(err)
	}
	timeoutLine := regexp.MustCompile(`(?m)^\[\w+\] io timeout after \d+ seconds -- exiting$`)
	for _, push := range []bool{true, false} {
		name := "pull"
		srcs := []string{"h:src/", "dst/"}
		if push {
			name, srcs = "push", []string{"src/", "h:dst/"}
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"-a", "--timeout=2", "-e", hang}, srcs...)
			_, upErr, upCode := rsynctest.Run(t, dir, nil, rsync, args...)
			start := time.Now()
			_, goErr, goCode := rsynctest.Run(t, dir, nil, gorsync, args...)
			took := time.Since(start)
			if goCode != upCode || goCode != 30 {
				t.Errorf("exit code %d, upstream %d (want 30)", goCode, upCode)
			}
			if w, g := timeoutLine.FindString(upErr), timeoutLine.FindString(goErr); w == "" || g != w {
				t.Errorf("timeout message %q, upstream %q", g, w)
			}
			if w, g := optErrors(upErr), optErrors(goErr); !slicesEqual(w, g) {
				t.Errorf("rsync error lines %q, upstream %q", g, w)
			}
			if took < 2*time.Second || took > 10*time.Second {
				t.Errorf("gave up after %v, want about 2s", took)
			}
		})
	}
}

// TestStopAtEndsTransfer runs paced transfers with --stop-at at the
// coming minute, upstream's and gorsync's side by side (all at once, so
// that they share the stop time), locally and over the remote shell both
// ways: where upstream stops, gorsync must stop at the stop time with
// exit code 30 and "stopping at requested limit"; where it does not,
// gorsync must end as it does. --stop-at counts in minutes, so this takes
// up to a minute and a half (of sleeping, not of work).
func TestStopAtEndsTransfer(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the next minute")
	}
	rsync := rsynctest.RequireRsync(t)
	gorsync := rsynctest.BuildGorsync(t)
	trees(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	// 8 MiB at 100 KiB/s takes 80 s: the coming minute is sooner.
	if err := os.WriteFile(filepath.Join(src, "big"), make([]byte, 8<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	if time.Now().Second() >= 55 {
		time.Sleep(6 * time.Second) // not to race the minute's turn
	}
	at := time.Now().Truncate(time.Minute).Add(time.Minute)
	stopAt := "--stop-at=" + at.Format("15:04")
	type result struct {
		stderr string
		code   int
		end    time.Duration // after the stop time
	}
	modes := []string{"local", "push", "pull"}
	results := make(map[string]*result)
	var wg sync.WaitGroup
	for _, mode := range modes {
		for _, prog := range []string{rsync, gorsync} {
			r := &result{}
			results[mode+prog] = r
			dst := "dst-" + mode + "-" + filepath.Base(prog) + "/"
			args := []string{"-a", "--bwlimit=100", stopAt}
			switch mode {
			case "local":
				args = append(args, "src/", dst)
			case "push":
				args = append(args, "-e", localRsh, "--rsync-path="+prog, "src/", "h:"+dst)
			case "pull":
				args = append(args, "-e", localRsh, "--rsync-path="+prog, "h:src/", dst)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, r.stderr, r.code = rsynctest.Run(t, dir, nil, prog, args...)
				r.end = time.Since(at)
			}()
		}
	}
	wg.Wait()
	const stopping = "stopping at requested limit\n"
	for _, mode := range modes {
		up, got := results[mode+rsync], results[mode+gorsync]
		if !strings.Contains(up.stderr, stopping) {
			// Upstream ran to its end: so must gorsync.
			if got.code != up.code {
				t.Errorf("%s: exit code %d, upstream %d (not stopped)\ngorsync stderr:\n%s", mode, got.code, up.code, got.stderr)
			}
			continue
		}
		// Upstream stopped. Its exit code is 30 but for a pull, where its
		// generator, seeing the stream cut by its receiver, may report
		// first (code 12); gorsync's one process reports the stop.
		if up.code != 30 && (mode != "pull" || up.code != 12) {
			t.Fatalf("%s: upstream stopped with exit code %d\n%s", mode, up.code, up.stderr)
		}
		if got.code != 30 || !strings.Contains(got.stderr, stopping) {
			t.Errorf("%s: exit code %d, stderr %q; want 30 and rsync's %q (upstream: %d)", mode, got.code, got.stderr, stopping, up.code)
		}
		// What the peer says of the stream cut under it differs between
		// upstream's processes and gorsync's; the stopping side's code
		// must be there.
		if g := optErrors(got.stderr); !slices.Contains(g, "timeout in data send/receive (code 30)") {
			t.Errorf("%s: rsync error lines %q, upstream %q", mode, g, optErrors(up.stderr))
		}
		if got.end < 0 || got.end > 5*time.Second {
			t.Errorf("%s: ended %v after the stop time (upstream %v)", mode, got.end, up.end)
		}
	}
}

// nextMinute is the --stop-at value of the coming minute.
func nextMinute() string {
	return time.Now().Add(time.Minute).Format("15:04")
}

func slicesEqual(a, b []string) bool {
	return strings.Join(a, "\n") == strings.Join(b, "\n")
}

// TestMaxAllocListCap sends a directory of 65,537 files with
// --max-alloc=1M: rsync keeps a list's entries in an array of pointers
// that would have to grow to 1 MiB for the 65,537th, so upstream's sender
// stops with exit 22, and gorsync's must too, in every mode; 65,536 files
// still go through.
func TestMaxAllocListCap(t *testing.T) {
	if testing.Short() {
		t.Skip("65,537 files, about 45 s")
	}
	rsync := rsynctest.RequireRsync(t)
	gorsync := rsynctest.BuildGorsync(t)
	trees(t)
	dir := t.TempDir()
	d := filepath.Join(dir, "src", "d")
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range 65536 {
		f, err := os.Create(filepath.Join(d, "f"+strconv.Itoa(i)))
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	exceeded := "[sender] exceeded --max-alloc=1048576 setting (file=flist.c, line=401)\n"
	run := func(t *testing.T, client, server, mode, dst string) (string, int) {
		args := []string{"-a", "--max-alloc=1M"}
		switch mode {
		case "local":
			args = append(args, "src/", dst)
		case "push":
			args = append(args, "-e", localRsh, "--rsync-path="+server, "src/", "h:"+dst)
		case "pull":
			args = append(args, "-e", localRsh, "--rsync-path="+server, "h:src/", dst)
		}
		_, errOut, code := rsynctest.Run(t, dir, nil, client, args...)
		return errOut, code
	}
	// At the cap: a local copy each, which must succeed.
	for _, prog := range []string{rsync, gorsync} {
		if errOut, code := run(t, prog, prog, "local", "cap-"+filepath.Base(prog)+"/"); code != 0 {
			t.Fatalf("%s with 65,536 files: exit %d\n%s", filepath.Base(prog), code, errOut)
		}
	}
	if f, err := os.Create(filepath.Join(d, "one-more")); err != nil {
		t.Fatal(err)
	} else {
		f.Close()
	}
	type mode struct{ name, kind, client, server string }
	modes := []mode{{"local", "local", gorsync, gorsync}}
	for _, kind := range []string{"push", "pull"} {
		for _, p := range pairings {
			m := mode{kind + "/" + p.name, kind, rsync, rsync}
			if p.clientGorsync {
				m.client = gorsync
			}
			if p.serverGorsync {
				m.server = gorsync
			}
			modes = append(modes, m)
		}
	}
	ups := map[string]int{}
	for _, kind := range []string{"local", "push", "pull"} {
		errOut, code := run(t, rsync, rsync, kind, "up-"+kind+"/")
		if code != 22 || !strings.Contains(errOut, exceeded) {
			t.Fatalf("upstream %s: exit %d, want 22 with %q\n%s", kind, code, exceeded, errOut)
		}
		ups[kind] = code
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			errOut, code := run(t, m.client, m.server, m.kind, "got-"+strings.ReplaceAll(m.name, "/", "-")+"/")
			if code != ups[m.kind] {
				t.Errorf("exit code %d, upstream %d\n%s", code, ups[m.kind], errOut)
			}
			if !strings.Contains(errOut, exceeded) {
				t.Errorf("stderr lacks %q:\n%s", exceeded, errOut)
			}
		})
	}
}
