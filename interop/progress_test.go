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

	"github.com/gorsync/gorsync/internal/rsynctest"
)

// This file checks --progress, -P and --info=progress2 against upstream
// rsync: the same transfer, run by upstream and by gorsync, must leave the
// same screen (each line as its last carriage return left it, rates and
// times aside) and the same final lines with their counts, locally and over
// a remote shell, with gorsync on both ends and as the client of
// upstream's server.

// progressRate and progressTime are the parts of a progress line that
// depend on the clock.
var (
	progressRate = regexp.MustCompile(` +[0-9]+\.[0-9]{2}[kMG]B/s`)
	progressTime = regexp.MustCompile(` +([0-9]+|\?\?):([0-9]{2}|\?\?):([0-9]{2}|\?\?)`)
	// progressLine is one update or final line, normalised.
	progressLine = regexp.MustCompile(`^ *[0-9,.]+[KMGTP]? +[0-9]+% RATE T(  | \(xfr#[0-9]+, (to|ir)-chk=[0-9]+/[0-9]+\) *)?$`)
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
	}{
		{"progress", []string{"-r", "--progress"}, false},
		{"P", []string{"-a", "-P"}, false},
		{"progress no-inc-recursive", []string{"-r", "--progress", "--no-inc-recursive"}, false},
		{"progress verbose", []string{"-rv", "--progress"}, false},
		{"progress delta", []string{"-r", "-I", "--progress", "--no-W"}, true},
		{"progress2", []string{"-r", "--info=progress2"}, false},
		{"progress2 no-inc-recursive", []string{"-r", "--info=progress2", "--no-inc-recursive"}, false},
		{"progress and progress2", []string{"-r", "--progress", "--info=progress2"}, false},
		{"progress human", []string{"-r", "--progress", "-hh"}, false},
	}
	// Each mode names the client and, over the remote shell, the server
	// of the gorsync run; upstream's runs use upstream on both ends.
	modes := []struct {
		name         string
		remote, push bool
		server       string
	}{
		{"local", false, false, ""},
		{"push", true, true, gorsync},
		{"pull", true, false, gorsync},
		{"push to upstream", true, true, rsync},
		{"pull from upstream", true, false, rsync},
	}
	for _, c := range cases {
		for _, m := range modes {
			t.Run(c.name+"/"+m.name, func(t *testing.T) {
				run := func(client, server string) progressOut {
					root := t.TempDir()
					makeProgressTree(t, root)
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
					rsynctest.CompareTrees(t, filepath.Join(root, "src"), filepath.Join(root, "dst"), rsynctest.CompareOptions{})
					return parseProgress(out, root)
				}
				up := run(rsync, rsync)
				got := run(gorsync, m.server)
				if !slices.Equal(up.screen, got.screen) {
					t.Errorf("screen differs:\nupstream:\n%s\ngorsync:\n%s", strings.Join(up.screen, "\n"), strings.Join(got.screen, "\n"))
				}
				if !slices.Equal(up.ends, got.ends) {
					t.Errorf("final lines differ:\nupstream: %q\ngorsync:  %q", up.ends, got.ends)
				}
				for _, p := range got.pieces {
					if !progressLine.MatchString(p) && !strings.HasSuffix(p, "files to consider") {
						t.Errorf("not a progress line: %q", p)
					}
				}
				if len(got.pieces) == 0 {
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
