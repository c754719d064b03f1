package interop

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorsync/gorsync/internal/rsynctest"
)

// This file checks --progress, -P and --info=progress2 against upstream
// rsync: the same transfer, run by upstream and by gorsync, must leave the
// same screen (each line as its last carriage return left it, rates and
// times aside) and the same final lines with their counts, locally and over
// a remote shell, with gorsync on both ends, as the client of upstream's
// server and as the server of upstream's client.

// progressRate and progressTime are the parts of a progress line that
// depend on the clock.
var (
	progressRate = regexp.MustCompile(` +[0-9]+\.[0-9]{2}[kMG]B/s`)
	progressTime = regexp.MustCompile(` +([0-9]+|\?\?):([0-9]{2}|\?\?):([0-9]{2}|\?\?)`)
	// progressLine is one update or final line, normalised.
	progressLine = regexp.MustCompile(`^ *[0-9,.]+[KMGTP]? +[0-9]+% RATE T(  | \(xfr#[0-9]+, (to|ir)-chk=[0-9]+/[0-9]+\) *)?$`)
	listCount    = regexp.MustCompile(`^( [0-9]+ files\.\.\.|[0-9]+ files? to consider)$`)
	progressEnd  = regexp.MustCompile(`\(xfr#[0-9]+, (to|ir)-chk=[0-9]+/[0-9]+\)`)
)

// progressOut is what a run's standard output says about progress: the
// screen it leaves (each line as its last "\r" left it), its final lines'
// counts in order (one of a run of repeats), and every piece between two
// carriage returns, normalised.
type progressOut struct {
	screen []string
	ends   []string
	pieces []string
}

func parseProgress(out, root string) progressOut {
	norm := func(s string) string {
		s = strings.ReplaceAll(s, root, "ROOT")
		s = progressRate.ReplaceAllString(s, " RATE")
		return progressTime.ReplaceAllString(s, " T")
	}
	var p progressOut
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if strings.HasPrefix(line, "sent ") || strings.HasPrefix(line, "total size is ") {
			continue // the summary's byte counts are not under test here
		}
		parts := strings.Split(line, "\r")
		p.screen = append(p.screen, norm(parts[len(parts)-1]))
		for _, part := range parts[1:] {
			part = norm(part)
			p.pieces = append(p.pieces, part)
			if e := progressEnd.FindString(part); e != "" && (len(p.ends) == 0 || p.ends[len(p.ends)-1] != e) {
				p.ends = append(p.ends, e)
			}
		}
	}
	return p
}

// makeProgressTree makes src under root: a few small files, one of 3 MB
// and a directory, for to-chk counts across lists.
func makeProgressTree(t *testing.T, root string) {
	t.Helper()
	rng := rand.New(rand.NewSource(optSeed))
	big := make([]byte, 3<<20)
	rng.Read(big)
	files := map[string][]byte{
		"src/a": []byte("x\n"), "src/big": big, "src/sub/small": []byte("hi\n"),
		"src/sub/deeper/c": []byte("deeper\n"), "src/z": make([]byte, 40000),
	}
	for name, data := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// withBasis gives the destination an older copy of big, so that its
// data goes as a delta (matched blocks and literal data).
func withBasis(t *testing.T, root string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "src/big"))
	if err != nil {
		t.Fatal(err)
	}
	copy(data[1<<20:], "changed in the middle")
	if err := os.MkdirAll(filepath.Join(root, "dst"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "dst/big"), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestProgressMatchesUpstream(t *testing.T) {
	trees(t)
	rsync := rsynctest.RequireRsync(t)
	gorsync := rsynctest.BuildGorsync(t)
	cases := []struct {
		name  string
		args  []string
		basis bool
		many  bool // 250 more files, for the file-list counts
	}{
		{"progress", []string{"-r", "--progress"}, false, false},
		{"P", []string{"-a", "-P"}, false, false},
		{"progress no-inc-recursive", []string{"-r", "--progress", "--no-inc-recursive"}, false, false},
		{"progress verbose", []string{"-rv", "--progress"}, false, false},
		{"progress delta", []string{"-r", "-I", "--progress", "--no-W"}, true, false},
		{"progress2", []string{"-r", "--info=progress2"}, false, false},
		{"progress2 no-inc-recursive", []string{"-r", "--info=progress2", "--no-inc-recursive"}, false, false},
		{"progress and progress2", []string{"-r", "--progress", "--info=progress2"}, false, false},
		{"progress human", []string{"-r", "--progress", "-hh"}, false, false},
		{"progress quiet", []string{"-rq", "--progress"}, false, false},
		{"progress dry run", []string{"-rn", "--progress"}, false, false},
		{"progress2 dry run", []string{"-rn", "--info=progress2"}, false, false},
		{"progress list counts", []string{"-r", "--progress", "--no-inc-recursive"}, false, true},
	}
	// Each mode names the client and, over the remote shell, the server
	// of the gorsync run; upstream's runs use upstream on both ends.
	modes := []struct {
		name           string
		remote, push   bool
		client, server string
	}{
		{"local", false, false, gorsync, ""},
		{"push", true, true, gorsync, gorsync},
		{"pull", true, false, gorsync, gorsync},
		{"push to upstream", true, true, gorsync, rsync},
		{"pull from upstream", true, false, gorsync, rsync},
		{"upstream push", true, true, rsync, gorsync},
		{"upstream pull", true, false, rsync, gorsync},
	}
	for _, c := range cases {
		for _, m := range modes {
			t.Run(c.name+"/"+m.name, func(t *testing.T) {
				run := func(client, server string) progressOut {
					root := t.TempDir()
					makeProgressTree(t, root)
					if c.many {
						for i := range 250 {
							p := filepath.Join(root, "src/many", fmt.Sprintf("f%03d", i))
							os.MkdirAll(filepath.Dir(p), 0o755)
							if err := os.WriteFile(p, []byte(p), 0o644); err != nil {
								t.Fatal(err)
							}
						}
					}
					if c.basis {
						withBasis(t, root)
					}
					args := slices.Clone(c.args)
					src, dst := "src/", "dst/"
					if m.remote {
						args = append(args, "-e", localRsh, "--rsync-path="+server)
						if m.push {
							dst = "localhost:" + filepath.Join(root, "dst") + "/"
						} else {
							src = "localhost:" + filepath.Join(root, "src") + "/"
						}
					}
					out, _ := rsynctest.MustRun(t, root, nil, client, append(args, src, dst)...)
					if !slices.Contains(args, "-rn") {
						rsynctest.CompareTrees(t, filepath.Join(root, "src"), filepath.Join(root, "dst"), rsynctest.CompareOptions{})
					}
					return parseProgress(out, root)
				}
				up := run(rsync, rsync)
				got := run(m.client, m.server)
				if !slices.Equal(up.screen, got.screen) {
					t.Errorf("screen differs:\nupstream:\n%s\ngorsync:\n%s", strings.Join(up.screen, "\n"), strings.Join(got.screen, "\n"))
				}
				if !slices.Equal(up.ends, got.ends) {
					t.Errorf("final lines differ:\nupstream: %q\ngorsync:  %q", up.ends, got.ends)
				}
				for _, p := range got.pieces {
					if !progressLine.MatchString(p) && !listCount.MatchString(p) {
						t.Errorf("not a progress line: %q", p)
					}
				}
				if len(got.pieces) == 0 && len(up.pieces) > 0 {
					t.Errorf("no progress lines")
				}
			})
		}
	}
}

// TestProgressIncrementalCounts checks the "ir-chk" form, while lists are
// still to come: a pull of many directories from upstream's server, whose
// lists the gorsync client counts as they arrive.
func TestProgressIncrementalCounts(t *testing.T) {
	trees(t)
	rsync := rsynctest.RequireRsync(t)
	gorsync := rsynctest.BuildGorsync(t)
	run := func(client string) progressOut {
		root := t.TempDir()
		for d := range 30 {
			for f := range 50 {
				p := filepath.Join(root, "src", fmt.Sprintf("d%02d/f%02d", d, f))
				os.MkdirAll(filepath.Dir(p), 0o755)
				if err := os.WriteFile(p, []byte(p), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		out, _ := rsynctest.MustRun(t, root, nil, client, "-r", "--progress", "-e", localRsh, "--rsync-path="+rsync,
			"localhost:"+filepath.Join(root, "src")+"/", "dst/")
		return parseProgress(out, root)
	}
	up, got := run(rsync), run(gorsync)
	if !slices.ContainsFunc(up.ends, func(s string) bool { return strings.Contains(s, "ir-chk") }) {
		t.Skip("upstream printed no ir-chk line for this tree")
	}
	if !slices.Equal(up.ends, got.ends) {
		t.Errorf("final lines differ:\nupstream: %q\ngorsync:  %q", up.ends[:min(20, len(up.ends))], got.ends[:min(20, len(got.ends))])
	}
}

// pacedRsh is a stand-in for ssh whose server sends at 300 kB/s
// (--bwlimit, given to upstream's server only) and is killed with SIGTERM
// a second after it starts: a transfer cut short in the middle of a file.
const pacedRsh = `#!/bin/sh
shift
cmd=$(echo "$*" | sed 's/--server /--server --bwlimit=300 /')
exec 3<&0
sh -c "exec $cmd" <&3 &
pid=$!
sleep 1
kill $pid
wait $pid
`

// TestPartialKeepsWhatCame pulls a file from upstream's server, slowed
// down and killed mid-file: with --partial the data that came is left in
// the file's place, a prefix of the source, as upstream leaves it (its
// mode, and with -t the time 0), and the next run's basis; without it nothing is
// left.
func TestPartialKeepsWhatCame(t *testing.T) {
	trees(t)
	rsync := rsynctest.RequireRsync(t)
	gorsync := rsynctest.BuildGorsync(t)
	rsh := filepath.Join(t.TempDir(), "pacedrsh")
	if err := os.WriteFile(rsh, []byte(pacedRsh), 0o755); err != nil {
		t.Fatal(err)
	}
	src := make([]byte, 1<<20)
	rand.New(rand.NewSource(optSeed)).Read(src)
	type left struct {
		names []string
		size  int64
		mode  os.FileMode
		mtime time.Time
		// matched is what the next, whole run took from the partial
		// file, its basis (--partial runs only).
		matched int64
	}
	run := func(client string, args ...string) left {
		root := t.TempDir()
		if err := os.MkdirAll(filepath.Join(root, "src"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, "src/big"), src, 0o640); err != nil {
			t.Fatal(err)
		}
		args = append(args, "-rpt", "-e", rsh, "--rsync-path="+rsync, "localhost:"+filepath.Join(root, "src")+"/", "dst/")
		_, stderr, code := rsynctest.Run(t, root, nil, client, args...)
		if code != 20 && code != 12 {
			t.Fatalf("%s: exit %d, want an interrupted run's (12 or 20)\n%s", client, code, stderr)
		}
		var l left
		ents, _ := os.ReadDir(filepath.Join(root, "dst"))
		for _, e := range ents {
			l.names = append(l.names, e.Name())
		}
		if st, err := os.Stat(filepath.Join(root, "dst/big")); err == nil {
			l.size, l.mode, l.mtime = st.Size(), st.Mode(), st.ModTime()
			// Time 0 with the source's nanoseconds, as rsync leaves it:
			// compared as the offset from that.
			if sst, err := os.Stat(filepath.Join(root, "src/big")); err == nil {
				l.mtime = l.mtime.Add(-time.Duration(sst.ModTime().Nanosecond()))
			}
			got, _ := os.ReadFile(filepath.Join(root, "dst/big"))
			if !slices.Equal(got, src[:len(got)]) {
				t.Errorf("%s: dst/big is not a prefix of the source", client)
			}
		}
		if slices.Contains(args, "--partial") {
			out, _ := rsynctest.MustRun(t, root, nil, client, "-rpt", "--stats", "-e", localRsh, "--rsync-path="+rsync,
				"localhost:"+filepath.Join(root, "src")+"/", "dst/")
			st, err := rsynctest.ParseStats(out)
			if err != nil {
				t.Fatal(err)
			}
			l.matched = st.MatchedData
			rsynctest.CompareTrees(t, filepath.Join(root, "src"), filepath.Join(root, "dst"), rsynctest.CompareOptions{})
		}
		return l
	}
	up, got := run(rsync, "--partial"), run(gorsync, "--partial")
	if !slices.Equal(up.names, []string{"big"}) || up.size == 0 || up.size >= int64(len(src)) {
		t.Fatalf("upstream left %v (%d bytes): not a partial file, the pacing did not work", up.names, up.size)
	}
	if !slices.Equal(got.names, up.names) || got.mode != up.mode || !got.mtime.Equal(up.mtime) || got.size == 0 || got.size >= int64(len(src)) {
		t.Errorf("--partial: gorsync left %v (%d bytes, %v, %v), upstream %v (%d bytes, %v, %v)", got.names, got.size, got.mode, got.mtime, up.names, up.size, up.mode, up.mtime)
	}
	// The next run's basis is the partial file: most of it matches.
	if up.matched < up.size/2 || got.matched < got.size/2 {
		t.Errorf("the run after: matched %d of a %d-byte partial file (upstream %d of %d)", got.matched, got.size, up.matched, up.size)
	}
	up, got = run(rsync), run(gorsync)
	if len(up.names) != 0 || len(got.names) != 0 {
		t.Errorf("without --partial: gorsync left %v, upstream %v; want nothing", got.names, up.names)
	}
}
