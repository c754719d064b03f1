package interop

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gorsync/gorsync/internal/rsynctest"
)

// batchSide names the program that writes or reads a batch.
type batchSide struct {
	name    string
	gorsync bool
}

var batchPairs = []struct{ writer, reader batchSide }{
	{batchSide{"rsync", false}, batchSide{"gorsync", true}},
	{batchSide{"gorsync", true}, batchSide{"rsync", false}},
}

// prog returns the binary of s.
func (s batchSide) prog(t *testing.T) string {
	if s.gorsync {
		return rsynctest.BuildGorsync(t)
	}
	return rsynctest.RequireRsync(t)
}

// runIn runs prog in dir with args and fails the test unless it exits 0.
func runIn(t *testing.T, dir, prog string, args ...string) string {
	t.Helper()
	out, errOut, code := rsynctest.Run(t, dir, nil, prog, args...)
	if code != 0 {
		t.Fatalf("%s %s: exit %d\nstdout:\n%s\nstderr:\n%s", filepath.Base(prog), strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// copyTree copies src to dst with cp -a.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	if out, err := exec.Command("cp", "-a", src, dst).CombinedOutput(); err != nil {
		t.Fatalf("cp -a: %v\n%s", err, out)
	}
}

// scriptProg is the program name FILE.sh starts with.
var scriptProg = regexp.MustCompile(`^'[^']*'`)

// TestBatchInterchange writes a batch with one program and applies it with
// the other, at protocols 29 to 32, with and without incremental recursion,
// onto an empty destination and onto one holding the older tree (the batch
// then holds deltas). The writer's own destination, and the reader's, must
// equal the source; and the FILE.sh both programs write for the same
// command must be the same but for the program's name.
func TestBatchInterchange(t *testing.T) {
	trees(t)
	for _, pair := range batchPairs {
		for _, proto := range []int{32, 31, 30, 29} {
			for _, noIR := range []bool{false, true} {
				if noIR && proto < 30 {
					continue
				}
				for _, delta := range []bool{false, true} {
					name := fmt.Sprintf("%s-writes_%s-reads/proto%d", pair.writer.name, pair.reader.name, proto)
					if noIR {
						name += "-no-i-r"
					}
					if delta {
						name += "/delta"
					} else {
						name += "/fresh"
					}
					t.Run(name, func(t *testing.T) {
						t.Parallel()
						batchCase(t, pair.writer, pair.reader, proto, noIR, delta, nil)
					})
				}
			}
		}
	}
}

func batchCase(t *testing.T, writer, reader batchSide, proto int, noIR, delta bool, extra []string) {
	work := t.TempDir()
	src := smallA
	if delta {
		src = smallB
		copyTree(t, smallA, filepath.Join(work, "dstw"))
		copyTree(t, smallA, filepath.Join(work, "dstr"))
	}
	args := []string{"-a", fmt.Sprintf("--protocol=%d", proto)}
	if noIR {
		args = append(args, "--no-i-r")
	}
	args = append(args, extra...)
	wargs := append(append([]string{}, args...), "--write-batch=batch", src+"/", "dstw/")
	runIn(t, work, writer.prog(t), wargs...)
	rsynctest.CompareTrees(t, src, filepath.Join(work, "dstw"), compareOpts(proto))

	runIn(t, work, reader.prog(t), append(append([]string{}, args...), "--read-batch=batch", "dstr/")...)
	rsynctest.CompareTrees(t, src, filepath.Join(work, "dstr"), compareOpts(proto))

	// The other program, given the same command, writes the same script.
	other := t.TempDir()
	if delta {
		copyTree(t, smallA, filepath.Join(other, "dstw"))
	}
	runIn(t, other, reader.prog(t), wargs...)
	compareScripts(t, filepath.Join(work, "batch.sh"), filepath.Join(other, "batch.sh"))
}

// TestBatchInterchangeOptions is TestBatchInterchange's delta case with
// the options that change the batch's stream: compressed tokens (-z, at
// protocols 32 and 29), pre-transfer checksums (-c), and deletions, which
// the reader makes from its own command line (--delete).
func TestBatchInterchangeOptions(t *testing.T) {
	trees(t)
	for _, pair := range batchPairs {
		for _, c := range []struct {
			name  string
			proto int
			extra []string
		}{
			{"z", 32, []string{"-z"}},
			{"z-proto29", 29, []string{"-z"}},
			{"c", 32, []string{"-c"}},
			{"delete", 32, []string{"--delete"}},
			{"delete-no-i-r", 31, []string{"--delete", "--no-i-r"}},
		} {
			t.Run(fmt.Sprintf("%s-writes_%s-reads/%s", pair.writer.name, pair.reader.name, c.name), func(t *testing.T) {
				t.Parallel()
				batchCase(t, pair.writer, pair.reader, c.proto, false, true, c.extra)
			})
		}
	}
}

// upstreamBatch writes with upstream rsync, in a new directory, the batch
// name of a fresh copy of the small tree, and returns the directory.
func upstreamBatch(t *testing.T, name string) string {
	t.Helper()
	trees(t)
	work := t.TempDir()
	runIn(t, work, rsynctest.RequireRsync(t), "-a", "--write-batch="+name, smallA+"/", name+"-dst/")
	return work
}

// compareScripts compares two FILE.sh scripts but for the program name.
func compareScripts(t *testing.T, a, b string) {
	t.Helper()
	sa, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := os.ReadFile(b)
	if err != nil {
		t.Fatal(err)
	}
	na := scriptProg.ReplaceAllString(string(sa), "'PROG'")
	nb := scriptProg.ReplaceAllString(string(sb), "'PROG'")
	if na != nb {
		t.Errorf("batch scripts differ:\n%s: %q\n%s: %q", a, na, b, nb)
	}
}

// TestBatchScript compares the FILE.sh upstream rsync and gorsync write for
// command lines that exercise its rules: positional arguments left out but
// the destination, --write-batch and --only-write-batch spelled either way,
// filter options dropped, quoting of odd arguments, a remote destination's
// path.
func TestBatchScript(t *testing.T) {
	trees(t)
	rsync := rsynctest.RequireRsync(t)
	gorsync := rsynctest.BuildGorsync(t)
	cases := []struct {
		name string
		args []string
	}{
		{"plain", []string{"-a", "--write-batch=b", "SRC/", "dst/"}},
		{"separate-value", []string{"-rt", "--write-batch", "b", "SRC/", "dst/"}},
		{"only-write", []string{"-av", "--only-write-batch=b", "SRC/", "dst/"}},
		{"quoting", []string{"-a", "--write-batch=b", "--modify-window=1", "SRC/", "it's dst/"}},
		{"filters-dropped", []string{"-a", "--exclude", "*.c", "--include=x", "--write-batch=b", "SRC/", "dst/"}},
		{"filter-kinds", []string{"-a", "-f", "- *.o", "--filter=+s keep/", "--exclude=/top", "-C", "--write-batch=b", "SRC/", "dst/"}},
		{"from0", []string{"-a", "--from0", "--exclude=x", "--write-batch=b", "SRC/", "dst/"}},
		{"two-sources", []string{"-r", "--write-batch=b", "SRC/sub1", "SRC/sub2", "dst"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var scripts [2]string
			for i, prog := range []string{rsync, gorsync} {
				dir := t.TempDir()
				if err := os.Symlink(smallA, filepath.Join(dir, "SRC")); err != nil {
					t.Fatal(err)
				}
				if err := os.MkdirAll(filepath.Join(dir, "SRC-unused"), 0o755); err != nil {
					t.Fatal(err)
				}
				_, errOut, code := rsynctest.Run(t, dir, nil, prog, c.args...)
				if code != 0 && code != 23 {
					t.Fatalf("%s %v: exit %d\n%s", prog, c.args, code, errOut)
				}
				scripts[i] = filepath.Join(dir, "b.sh")
			}
			compareScripts(t, scripts[0], scripts[1])
		})
	}
}

// TestOnlyWriteBatch writes a batch with --only-write-batch, which must
// leave the destination untouched (the older tree, or none at all), and
// applies it with the other program to a copy of that destination, which
// must then equal the source.
func TestOnlyWriteBatch(t *testing.T) {
	trees(t)
	for _, pair := range batchPairs {
		for _, proto := range []int{32, 30, 29} {
			for _, fresh := range []bool{false, true} {
				name := fmt.Sprintf("%s-writes_%s-reads/proto%d", pair.writer.name, pair.reader.name, proto)
				if fresh {
					name += "-fresh"
				}
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					work := t.TempDir()
					dstw := filepath.Join(work, "dstw")
					if !fresh {
						copyTree(t, smallA, dstw)
						copyTree(t, smallA, filepath.Join(work, "dstr"))
					}
					p := fmt.Sprintf("--protocol=%d", proto)
					runIn(t, work, pair.writer.prog(t), "-a", p, "--only-write-batch=batch", smallB+"/", "dstw/")
					if fresh {
						if _, err := os.Lstat(dstw); !os.IsNotExist(err) {
							t.Errorf("--only-write-batch made the destination (%v)", err)
						}
					} else {
						rsynctest.CompareTrees(t, smallA, dstw, compareOpts(proto))
					}
					runIn(t, work, pair.reader.prog(t), "-a", p, "--read-batch=batch", "dstr/")
					rsynctest.CompareTrees(t, smallB, filepath.Join(work, "dstr"), compareOpts(proto))
				})
			}
		}
	}
}

// TestBatchRemoteShell writes a batch on the client of a transfer over a
// remote shell, pushing and pulling, in every pairing, and applies it with
// the program that did not write it; --only-write-batch must leave the
// destination untouched, the server's (a push tells it
// --only-write-batch=X) or the client's. Both destinations start with the older
// tree.
func TestBatchRemoteShell(t *testing.T) {
	trees(t)
	gorsync := rsynctest.BuildGorsync(t)
	rsync := rsynctest.RequireRsync(t)
	for _, p := range pairings {
		for _, push := range []bool{true, false} {
			for _, only := range []bool{false, true} {
				dir := "pull"
				if push {
					dir = "push"
				}
				if only {
					dir += "-only"
				}
				t.Run(p.name+"/"+dir, func(t *testing.T) {
					t.Parallel()
					client, server, reader := rsync, rsync, gorsync
					if p.clientGorsync {
						client, reader = gorsync, rsync
					}
					if p.serverGorsync {
						server = gorsync
					}
					work := t.TempDir()
					copyTree(t, smallA, filepath.Join(work, "dstw"))
					copyTree(t, smallA, filepath.Join(work, "dstr"))
					opt := "--write-batch=batch"
					if only {
						opt = "--only-write-batch=batch"
					}
					args := []string{"-a", "-e", localRsh, "--rsync-path=" + server, opt}
					dstw := filepath.Join(work, "dstw")
					if push {
						args = append(args, smallB+"/", "localhost:"+dstw+"/")
					} else {
						args = append(args, "localhost:"+smallB+"/", dstw+"/")
					}
					runIn(t, work, client, args...)
					if only {
						rsynctest.CompareTrees(t, smallA, dstw, compareOpts(32))
					} else {
						rsynctest.CompareTrees(t, smallB, dstw, compareOpts(32))
					}
					runIn(t, work, reader, "-a", "--read-batch=batch", "dstr/")
					rsynctest.CompareTrees(t, smallB, filepath.Join(work, "dstr"), compareOpts(32))
				})
			}
		}
	}
}

// TestReadBatchStdin applies an upstream batch read from standard input
// (--read-batch=-).
func TestReadBatchStdin(t *testing.T) {
	work := upstreamBatch(t, "batch")
	gorsync := rsynctest.BuildGorsync(t)
	f, err := os.Open(filepath.Join(work, "batch"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(gorsync, "-a", "--read-batch=-", "dstr/")
	cmd.Dir, cmd.Stdin = work, f
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gorsync --read-batch=-: %v\n%s", err, out)
	}
	rsynctest.CompareTrees(t, smallA, filepath.Join(work, "dstr"), compareOpts(32))
}

// rate is the timing in rsync's "sent ... bytes/sec" line.
var rate = regexp.MustCompile(`[0-9.,]+ bytes/sec`)

// TestReadBatchOutput applies an upstream batch with -v with both
// programs: onto an empty destination, onto the result again (every file
// is then skipped: "Skipping batched update"), and, for a batch written
// where a file was up to date, onto an empty one (that file has "No
// batched update", exit 23), and as a dry run, which makes nothing.
// Standard output and the exit code must be the same; only the transfer
// rate may differ.
func TestReadBatchOutput(t *testing.T) {
	work := upstreamBatch(t, "full")
	rsync := rsynctest.RequireRsync(t)
	gorsync := rsynctest.BuildGorsync(t)
	// A destination holding one top-level file already.
	if err := os.Mkdir(filepath.Join(work, "w2"), 0o755); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(smallA)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.Type().IsRegular() {
			copyTree(t, filepath.Join(smallA, e.Name()), filepath.Join(work, "w2", e.Name()))
			break
		}
	}
	runIn(t, work, rsync, "-a", "--write-batch=part", smallA+"/", "w2/")
	for _, c := range []struct {
		name, batch, opt string
		again            bool
	}{
		{"fresh", "full", "-av", false},
		{"again", "full", "-av", true},
		{"no-batched-update", "part", "-av", false},
		{"dry-run", "full", "-avn", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			var outs, dsts [2]string
			var codes [2]int
			for i, prog := range []string{rsync, gorsync} {
				dir := t.TempDir()
				dsts[i] = filepath.Join(dir, "dst")
				args := []string{c.opt, "--read-batch=" + filepath.Join(work, c.batch), "dst/"}
				if c.again {
					runIn(t, dir, prog, args...)
				}
				out, _, code := rsynctest.Run(t, dir, nil, prog, args...)
				outs[i], codes[i] = rate.ReplaceAllString(out, "RATE bytes/sec"), code
			}
			// The file the batch lacks is missing from both.
			if c.opt == "-avn" {
				for _, d := range dsts {
					if _, err := os.Lstat(d); !os.IsNotExist(err) {
						t.Errorf("dry run made %s (%v)", d, err)
					}
				}
				return
			}
			rsynctest.CompareTrees(t, dsts[0], dsts[1], compareOpts(32))
			if c.batch == "full" {
				rsynctest.CompareTrees(t, smallA, dsts[1], compareOpts(32))
			}
			if outs[0] != outs[1] || codes[0] != codes[1] {
				t.Errorf("rsync (exit %d):\n%s\ngorsync (exit %d):\n%s", codes[0], outs[0], codes[1], outs[1])
			}
		})
	}
}

// TestBatchScriptReplays runs the FILE.sh each program writes, with its
// filter rules in a here-document, on a second copy of the destination:
// it must come out as the batch writer's own destination did.
func TestBatchScriptReplays(t *testing.T) {
	trees(t)
	for _, side := range []batchSide{{"rsync", false}, {"gorsync", true}} {
		t.Run(side.name, func(t *testing.T) {
			work := t.TempDir()
			copyTree(t, smallA, filepath.Join(work, "dstw"))
			copyTree(t, smallA, filepath.Join(work, "dstr"))
			runIn(t, work, side.prog(t), "-a", "--delete", "--exclude=*.txt", "--write-batch=batch", smallB+"/", "dstw/")
			cmd := exec.Command("sh", "batch.sh", "dstr/")
			cmd.Dir = work
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("sh batch.sh: %v\n%s", err, out)
			}
			rsynctest.CompareTrees(t, filepath.Join(work, "dstw"), filepath.Join(work, "dstr"), compareOpts(32))
		})
	}
}

// TestBatchErrors compares how both programs refuse a batch they cannot
// use or write: the first line of the message and the exit code.
func TestBatchErrors(t *testing.T) {
	work := upstreamBatch(t, "good")
	rsync := rsynctest.RequireRsync(t)
	gorsync := rsynctest.BuildGorsync(t)
	data, err := os.ReadFile(filepath.Join(work, "good"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, "short"), data[:10], 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"-a", "--read-batch=missing", "d/"},
		{"-a", "--read-batch=good", "host:d/"},
		{"-a", "--read-batch=good", "--write-batch=x", "d/"},
		{"-a", "--write-batch=nodir/x", smallA + "/", "d/"},
		{"-a", "--read-batch=.", "d/"},
		{"-a", "--read-batch=short", "d/"},
		{"-v", "--read-batch=good", "d/"}, // incremental, without -r
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var firsts [2]string
			var codes [2]int
			for i, prog := range []string{rsync, gorsync} {
				out, errOut, code := rsynctest.Run(t, work, nil, prog, args...)
				firsts[i], _, _ = strings.Cut(out+errOut, "\n")
				codes[i] = code
			}
			if firsts[0] != firsts[1] || codes[0] != codes[1] {
				t.Errorf("rsync: exit %d %q\ngorsync: exit %d %q", codes[0], firsts[0], codes[1], firsts[1])
			}
		})
	}
}
