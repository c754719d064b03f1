package session

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
