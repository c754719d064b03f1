//go:build linux

package flist

import (
	"bytes"
	"crypto/md5"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gorsync/gorsync/internal/fastio"
	"golang.org/x/sys/unix"
)

// The tests of this file swap a directory of the source tree for a
// symbolic link to a directory outside it at the moment that matters,
// from the walk's own callbacks (issue 9, item 5): neither the walk nor
// the sender after it may reach what the link points at. Outside, every
// file holds raceSecret and has a name of its own, so that its data or
// its name showing up anywhere is seen.

const raceSecret = "SECRET from outside the tree\n"

// raceTree makes base/src (d/f, d/sub/g, top) and base/outside (f, sub/g,
// secret-name, each with raceSecret), and returns src.
func raceTree(t *testing.T, base string) string {
	t.Helper()
	files := map[string]string{
		"src/top":         "top inside\n",
		"src/d/f":         "f inside\n",
		"src/d/sub/g":     "g inside\n",
		"outside/f":       raceSecret,
		"outside/sub/g":   raceSecret,
		"outside/secret":  raceSecret,
		"outside/sub/sec": raceSecret,
	}
	for name, data := range files {
		p := filepath.Join(base, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(base, "src")
}

// swapForLink moves path, beneath a directory named src, out of that tree
// (next to src) and puts a symbolic link to target in its place.
func swapForLink(t *testing.T, path, target string) {
	t.Helper()
	i := strings.LastIndex(path, "/src/")
	away := path[:i] + "/away-" + strings.ReplaceAll(path[i+len("/src/"):], "/", "-")
	if err := os.Rename(path, away); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
}

// raceModes are the walk's fast-path settings the tests run under: the
// plain walk, the batched one, and the batched one listing ahead.
func raceModes() map[string]fastio.Config {
	d := fastio.Defaults()
	return map[string]fastio.Config{
		"plain":  d.With(fastio.Batch, false).With(fastio.Parallel, false),
		"batch":  d.With(fastio.Batch, true).With(fastio.Parallel, false),
		"ahead":  d.With(fastio.Batch, true).With(fastio.Parallel, true),
		"uring":  d.With(fastio.Batch, true).With(fastio.Parallel, true).With(fastio.Uring, true),
		"serial": d.With(fastio.Batch, false).With(fastio.Parallel, true),
	}
}

func entryNames(l *List) []string {
	var names []string
	for _, e := range l.Entries {
		names = append(names, e.Name())
	}
	return names
}

// TestWalkRefusesSwappedDirectory swaps src/d for a link to outside once
// the walk has described it as a directory, before it is listed: the walk
// must report the directory as rsync 3.5.0 does ("opendir ... failed: Too
// many levels of symbolic links") and list nothing from outside. Swapping
// the directory being listed (d, when d/sub is described) changes
// nothing: the walk holds it open and lists sub in it.
func TestWalkRefusesSwappedDirectory(t *testing.T) {
	for mode, io := range raceModes() {
		for _, swap := range []string{"d", "d/sub"} {
			t.Run(mode+"/"+swap, func(t *testing.T) {
				base := t.TempDir()
				src := raceTree(t, base)
				outside := filepath.Join(base, "outside")
				var ps []Problem
				opts := WalkOptions{Recurse: true, IO: io, Report: collect(&ps), Cwd: base,
					Exclude: func(name string, isDir bool) bool {
						switch {
						case swap == "d" && name == "d":
							swapForLink(t, filepath.Join(src, "d"), outside)
						case swap == "d/sub" && name == "d/sub":
							// The parent, which the walk is listing.
							swapForLink(t, filepath.Join(src, "d"), outside)
						}
						return false
					}}
				l, err := Build([]string{src + "/"}, opts)
				if err != nil {
					t.Fatal(err)
				}
				names := entryNames(l)
				for _, n := range names {
					if strings.Contains(n, "sec") {
						t.Errorf("listed %q from outside the tree: %q", n, names)
					}
				}
				if swap == "d" {
					want := fmt.Sprintf("opendir %q failed: %v", filepath.Join(src, "d"), unix.ELOOP)
					if len(ps) != 1 || ps[0].String() != want || ps[0].Severity != SeverityError {
						t.Errorf("problems %q, want [%q]", ps, want)
					}
					if l.IOError != IOErrGeneral {
						t.Errorf("io_error %d, want %d", l.IOError, IOErrGeneral)
					}
					return
				}
				if len(ps) != 0 || !strings.Contains(strings.Join(names, " "), "d/sub/g") {
					t.Errorf("problems %q, list %q: want d/sub/g listed from the directory held", ps, names)
				}
			})
		}
	}
}

// TestWalkChecksumNotThroughLink swaps a file for a link to a file
// outside, and then its directory for a link to a directory outside,
// between the walk's lstat of the file and --checksum's open of it: the
// sum must never be the outside file's. A swapped file has the zero sum
// rsync sends for a file it cannot open; through a swapped directory the
// walk still sums the file it listed (its directory is held open).
func TestWalkChecksumNotThroughLink(t *testing.T) {
	secretSum := md5.Sum([]byte(raceSecret))
	insideSum := md5.Sum([]byte("f inside\n"))
	sum := func(fd int) ([]byte, error) {
		f := os.NewFile(uintptr(fd), "sum")
		defer f.Close()
		h := md5.New()
		if _, err := io.Copy(h, f); err != nil {
			return nil, err
		}
		return h.Sum(nil), nil
	}
	cases := []struct {
		swap string // what is swapped when d/f has been described
		want []byte
	}{
		{"d/f", make([]byte, md5.Size)},
		{"d", insideSum[:]},
	}
	for mode, io := range raceModes() {
		for _, c := range cases {
			t.Run(mode+"/"+c.swap, func(t *testing.T) {
				base := t.TempDir()
				src := raceTree(t, base)
				target := filepath.Join(base, "outside")
				if c.swap == "d/f" {
					target = filepath.Join(target, "f")
				}
				opts := WalkOptions{Recurse: true, IO: io, Cwd: base, Checksum: sum, ChecksumLen: md5.Size,
					Exclude: func(name string, isDir bool) bool {
						if name == "d/f" {
							swapForLink(t, filepath.Join(src, c.swap), target)
						}
						return false
					}}
				l, err := Build([]string{src + "/"}, opts)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range l.Entries {
					if bytes.Equal(e.Sum(), secretSum[:]) {
						t.Errorf("%s: the sum of the file outside", e.Name())
					}
					if e.Name() == "d/f" && !bytes.Equal(e.Sum(), c.want) {
						t.Errorf("d/f: sum %x, want %x", e.Sum(), c.want)
					}
				}
			})
		}
	}
}

// sourceEntry returns l's entry named name.
func sourceEntry(t *testing.T, l *List, name string) *Entry {
	t.Helper()
	for _, e := range l.Entries {
		if e.Name() == name {
			return e
		}
	}
	t.Fatalf("no entry %q in %q", name, entryNames(l))
	return nil
}

// TestSourceRefusesSwappedDirectory builds the list of a tree, then swaps
// a directory the walk found for a link to outside, or takes it away:
// opening, stating and removing a file beneath it (the sender's open,
// --remove-source-files) fail as rsync 3.5.0's do (ELOOP: "Too many
// levels of symbolic links"; ENOENT: "file has vanished"), and nothing
// outside is read or removed.
func TestSourceRefusesSwappedDirectory(t *testing.T) {
	cases := []struct {
		name     string
		args     func(base string) []string
		relative bool
		file     string // the entry opened
		swap     string // beneath base
	}{
		{"plain", func(b string) []string { return []string{b + "/src/"} }, false, "d/f", "src/d"},
		{"plain/deeper", func(b string) []string { return []string{b + "/src/"} }, false, "d/sub/g", "src/d"},
		{"named-dir", func(b string) []string { return []string{b + "/src/d"} }, false, "d/sub/g", "src/d/sub"},
		{"named-top", func(b string) []string { return []string{b + "/src/d"} }, false, "d/f", "src/d"},
		{"relative", func(b string) []string { return []string{b + "/./src/d"} }, true, "src/d/sub/g", "src/d/sub"},
		{"relative-top", func(b string) []string { return []string{b + "/./src/d"} }, true, "src/d/f", "src/d"},
		{"relative-abs", func(b string) []string { return []string{b + "/src/d"} }, true, "", "src/d/sub"},
	}
	for _, c := range cases {
		for _, gone := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/gone=%v", c.name, gone), func(t *testing.T) {
				base := t.TempDir()
				raceTree(t, base)
				file := c.file
				if file == "" { // an absolute --relative name
					file = base + "/src/d/sub/g"
				}
				l, err := Build(c.args(base), WalkOptions{Recurse: true, Relative: c.relative, ImpliedDirs: c.relative, Cwd: base})
				if err != nil {
					t.Fatal(err)
				}
				e := sourceEntry(t, l, file)
				s := NewSource(l)
				defer s.Close()
				if f, err := s.Open(e); err != nil {
					t.Fatalf("open before the swap: %v", err)
				} else {
					f.Close()
				}
				swapped := filepath.Join(base, c.swap)
				if gone {
					if err := os.Rename(swapped, swapped+"-gone"); err != nil {
						t.Fatal(err)
					}
				} else {
					outside := filepath.Join(base, "outside")
					if strings.HasSuffix(c.swap, "sub") {
						outside = filepath.Join(outside, "sub") // holds a g too
					}
					swapForLink(t, swapped, outside)
				}
				s2 := NewSource(l) // nothing cached from before the swap
				defer s2.Close()
				wantErr := unix.ELOOP
				if gone {
					wantErr = unix.ENOENT
				}
				if f, err := s2.Open(e); !errors.Is(err, wantErr) {
					if f != nil {
						data, _ := io.ReadAll(f)
						f.Close()
						t.Errorf("open after the swap read %q", data)
					}
					t.Errorf("open after the swap: %v, want %v", err, wantErr)
				}
				if _, err := s2.Lstat(e); !errors.Is(err, wantErr) {
					t.Errorf("lstat after the swap: %v, want %v", err, wantErr)
				}
				if err := s2.Remove(e); !errors.Is(err, wantErr) {
					t.Errorf("remove after the swap: %v, want %v", err, wantErr)
				}
				for _, f := range []string{"outside/f", "outside/sub/g"} {
					if _, err := os.Stat(filepath.Join(base, f)); err != nil {
						t.Errorf("%s: %v", f, err)
					}
				}
			})
		}
	}
}

// TestSourceFollowsNamedLinks: the links the user names (a source
// argument's directory, a --relative path and its implied directories)
// are followed by the sender as by the walk, wherever they point; only
// what lies beneath them is reached without links.
func TestSourceFollowsNamedLinks(t *testing.T) {
	cases := []struct {
		name     string
		args     []string // "B" is the base directory
		relative bool
		file     string
	}{
		{"root", []string{"B/src/link/"}, false, "sub/g"},
		{"root-abs", []string{"B/src/abslink/"}, false, "sub/g"},
		{"relative-dir", []string{"B/./src/link/sub"}, true, "src/link/sub/g"},
		{"relative-abs", []string{"B/./src/abslink/sub"}, true, "src/abslink/sub/g"},
		{"relative-file", []string{"B/./src/abslink/sub/g"}, true, "src/abslink/sub/g"},
		{"relative-slash", []string{"B/./src/sublink/"}, true, "src/sublink/g"},
		{"files-from", nil, true, "src/abslink/sub/g"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			base := t.TempDir()
			raceTree(t, base)
			real := filepath.Join(base, "real")
			if err := os.MkdirAll(filepath.Join(real, "sub"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(real, "sub/g"), []byte("named\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			for link, target := range map[string]string{"src/link": "../real", "src/abslink": real, "src/sublink": real + "/sub"} {
				if err := os.Symlink(target, filepath.Join(base, link)); err != nil {
					t.Fatal(err)
				}
			}
			opts := WalkOptions{Recurse: true, Relative: c.relative, ImpliedDirs: c.relative, Cwd: base}
			var args []string
			for _, a := range c.args {
				args = append(args, strings.Replace(a, "B", base, 1))
			}
			if args == nil {
				names := []string{"src/abslink/sub/g"}
				opts.BaseDir = base
				opts.Names = func() (string, bool, error) {
					if len(names) == 0 {
						return "", false, nil
					}
					n := names[0]
					names = names[1:]
					return n, true, nil
				}
			}
			l, err := Build(args, opts)
			if err != nil {
				t.Fatal(err)
			}
			s := NewSource(l)
			defer s.Close()
			f, err := s.Open(sourceEntry(t, l, c.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if data, _ := io.ReadAll(f); string(data) != "named\n" {
				t.Errorf("read %q", data)
			}
		})
	}
}
