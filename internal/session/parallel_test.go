package session

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorsync/gorsync/internal/exitcode"
	"github.com/gorsync/gorsync/internal/fastio"
	"github.com/gorsync/gorsync/internal/rsynctest"
)

// TestChecksumParallel runs --checksum --no-W local copies with the
// parallel checksum workers on and off over the same stale destination:
// files changed without a change of size or mtime (only the sums can tell;
// the big one goes as a delta whose block sums are computed in parallel
// chunks), resized files and missing ones. Both runs must itemize the same changes
// and leave the same tree as the source; a third run finds nothing to do.
func TestChecksumParallel(t *testing.T) {
	root := t.TempDir()
	src := filepath.Join(root, "src")
	rsynctest.MakeStandardTree(t, src, 11, rsynctest.TreeOptions{BigFileSize: 9 << 20})
	var outs [2]string
	for i, on := range []bool{true, false} {
		dst := filepath.Join(root, map[bool]string{true: "on", false: "off"}[on])
		if _, errs, code, _ := runLocal(t, withPath(fastio.CopyRange, true), "-a", src+"/", dst+"/"); code != 0 {
			t.Fatalf("first copy: exit %d: %s", code, errs)
		}
		n := 0
		var inPlace []string
		filepath.WalkDir(dst, func(p string, d os.DirEntry, err error) error {
			fi, e := d.Info()
			if e != nil || !fi.Mode().IsRegular() || fi.Size() == 0 {
				return nil
			}
			n++
			if filepath.Base(p) == rsynctest.BigFileName {
				n = 1 // a big delta: its block sums go through the workers
			}
			switch n % 4 {
			case 1: // same size and mtime, one byte different
				data, _ := os.ReadFile(p)
				data[len(data)/2] ^= 1
				rel, _ := filepath.Rel(dst, p)
				inPlace = append(inPlace, rel)
				os.WriteFile(p, data, fi.Mode())
				os.Chtimes(p, time.Time{}, fi.ModTime())
			case 2:
				os.Truncate(p, fi.Size()/2)
				os.Chtimes(p, time.Time{}, fi.ModTime())
			case 3:
				os.Remove(p)
			}
			return nil
		})
		out, errs, code, _ := runLocal(t, withPath(fastio.Parallel, on), "-a", "--checksum", "--no-W", "-v", src+"/", dst+"/")
		if code != 0 {
			t.Fatalf("parallel=%v: exit %d: %s", on, code, errs)
		}
		rsynctest.CompareTrees(t, src, dst, rsynctest.Archive(false))
		outs[i] = fileLines(out)
		for _, name := range inPlace {
			if !strings.Contains("\n"+outs[i], "\n"+name+"\n") {
				t.Errorf("parallel=%v: %s, changed in place, was not transferred:\n%s", on, name, out)
			}
		}
		again, _, _, _ := runLocal(t, withPath(fastio.Parallel, on), "-a", "--checksum", "-v", src+"/", dst+"/")
		if l := fileLines(again); l != "" {
			t.Errorf("parallel=%v: a second run transferred files:\n%s", on, l)
		}
	}
	if outs[0] != outs[1] {
		t.Errorf("-v output differs:\n on:\n%s\noff:\n%s", outs[0], outs[1])
	}
}

// fileLines keeps -v's file names: no list-building notes, no summary.
func fileLines(out string) string {
	var b strings.Builder
	for _, l := range strings.Split(out, "\n") {
		if l == "" || strings.HasSuffix(l, "/") || strings.HasPrefix(l, "sending ") || strings.HasPrefix(l, "building ") ||
			strings.HasPrefix(l, "sent ") || strings.HasPrefix(l, "total size ") {
			continue
		}
		b.WriteString(l + "\n")
	}
	return b.String()
}

// createTree writes a tree for the receiver's file creation: 1,200 files
// of up to 12 KiB, 60 to a directory (two levels deep), a few larger than
// what is gathered in memory, empty ones, and directories whose modes and
// times must be set after their files.
func createTree(t *testing.T, src string) {
	t.Helper()
	rng := rand.New(rand.NewPCG(3, 4))
	buf := make([]byte, 400<<10)
	for i := range buf {
		buf[i] = byte(rng.Uint32())
	}
	for i := range 1200 {
		d := filepath.Join(src, fmt.Sprintf("a%d", i/300), fmt.Sprintf("b%02d", i/60%5))
		os.MkdirAll(d, 0o755)
		size := rng.IntN(12 << 10)
		switch {
		case i%97 == 5:
			size = 300<<10 + i
		case i%41 == 0:
			size = 0
		}
		name := filepath.Join(d, fmt.Sprintf("f%04d", i))
		if err := os.WriteFile(name, buf[:size], 0o600|os.FileMode(i%3)<<3); err != nil {
			t.Fatal(err)
		}
		mt := time.Unix(1600000000+int64(i)*7, int64(i)*1000)
		os.Chtimes(name, mt, mt)
	}
	for i := range 4 {
		for j := range 5 {
			d := filepath.Join(src, fmt.Sprintf("a%d", i), fmt.Sprintf("b%02d", j))
			if j == 3 {
				os.Chmod(d, 0o750)
			}
			mt := time.Unix(1500000000+int64(i*5+j), 0)
			os.Chtimes(d, mt, mt)
		}
	}
}

// TestCreatePool copies many small files (fresh, and again after some of
// them changed) with the receiver's workers on and off: locally through
// handed-over files, locally through the in-process stream (-z), and
// pulled from upstream rsync's sender, with and without incremental
// recursion. Both must leave the source's tree, times of directories
// included, and print the same -v lines in the same order and the same
// --stats counts.
func TestCreatePool(t *testing.T) {
	root := fastTempDir(t)
	src := filepath.Join(root, "src")
	createTree(t, src)
	type run struct {
		name  string
		extra []string
		pull  bool
	}
	runs := []run{
		{"local", nil, false},
		{"local-z", []string{"-z"}, false},
		{"local-no-i-r", []string{"--no-i-r"}, false},
		{"pull", nil, true},
		{"pull-no-i-r", []string{"--no-i-r"}, true},
	}
	for _, r := range runs {
		t.Run(r.name, func(t *testing.T) {
			if r.pull {
				rsynctest.RequireRsync(t)
			}
			var outs [2]string
			var stats [2]rsynctest.Stats
			for i, on := range []bool{true, false} {
				dst := filepath.Join(root, r.name+map[bool]string{true: "-on", false: "-off"}[on])
				copyOnce := func(args ...string) string {
					args = append(append(args, r.extra...), "-v", "--stats")
					var out, errs string
					var code int
					if r.pull {
						var stdout, stderr bytes.Buffer
						err := runUpstream(t, append(args, "localhost:"+src+"/", dst+"/"), Env{Stdout: &stdout, Stderr: &stderr}, withPath(fastio.Parallel, on))
						out, errs, code = stdout.String(), stderr.String(), exitcode.Of(err)
					} else {
						out, errs, code, _ = runLocal(t, withPath(fastio.Parallel, on), append(args, src+"/", dst+"/")...)
					}
					if code != 0 {
						t.Fatalf("parallel=%v: exit %d: %s", on, code, errs)
					}
					return out
				}
				out := copyOnce("-a")
				rsynctest.CompareTrees(t, src, dst, rsynctest.Archive(false))
				stats[i] = statsLines(t, out)
				// Change every seventh file: a delta each (--no-W),
				// finished by the workers too.
				n := 0
				filepath.WalkDir(dst, func(p string, d os.DirEntry, err error) error {
					if err == nil && d.Type().IsRegular() {
						if n++; n%7 == 0 {
							os.WriteFile(p, []byte("stale"), 0o644)
						}
					}
					return nil
				})
				again := copyOnce("-a", "--no-W")
				rsynctest.CompareTrees(t, src, dst, rsynctest.Archive(false))
				outs[i] = itemLines(out) + "--\n" + itemLines(again)
			}
			if outs[0] != outs[1] {
				t.Errorf("-v output differs:\n on:\n%s\noff:\n%s", outs[0], outs[1])
			}
			if stats[0] != stats[1] {
				t.Errorf("--stats differ:\n on: %+v\noff: %+v", stats[0], stats[1])
			}
		})
	}
}

// itemLines keeps -v's lines for files and directories, in their order:
// no notes, no summary, no statistics.
func itemLines(out string) string {
	var b strings.Builder
	for _, l := range strings.Split(out, "\n") {
		if l == "" || strings.Contains(l, ": ") || strings.HasPrefix(l, "created directory ") ||
			strings.HasPrefix(l, "sending ") || strings.HasPrefix(l, "receiving ") || strings.HasPrefix(l, "building ") ||
			strings.HasPrefix(l, "sent ") || strings.HasPrefix(l, "total size ") {
			continue
		}
		b.WriteString(l + "\n")
	}
	return b.String()
}
