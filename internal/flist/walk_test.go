//go:build linux

package flist

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/gorsync/gorsync/internal/fastio"
	"github.com/gorsync/gorsync/internal/rsynctest"
)

// faultFS injects errors into chosen paths of the real filesystem.
type faultFS struct {
	OSFS
	lstat   map[string]error
	readdir map[string]error
}

func (f faultFS) Lstat(p string) (Stat, error) {
	if err := f.lstat[filepath.Base(p)]; err != nil {
		return Stat{}, &os.PathError{Op: "lstat", Path: p, Err: err}
	}
	return f.OSFS.Lstat(p)
}

// dirFault is the fault injected into opening the directory path.
func (f faultFS) dirFault(p string) error {
	if err := f.readdir[filepath.Base(p)]; err != nil {
		return &os.PathError{Op: "open", Path: p, Err: err}
	}
	return nil
}

func collect(ps *[]Problem) func(Problem) {
	return func(p Problem) { *ps = append(*ps, p) }
}

func TestWalkProblems(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"src/locked", "src/ok", "src/gone"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"src/ok/f", "src/vanish", "src/gone/x"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name     string
		args     []string
		opts     WalkOptions
		want     []string // rendered problems
		wantErr  int32
		wantList []string
	}{
		{
			name: "no recursion skips directories", args: []string{"src/ok", "src/vanish"},
			want:     []string{"skipping directory ok"},
			wantList: []string{"vanish"},
		},
		{
			name: "missing argument", args: []string{"src/nope", "src/vanish"},
			want:     []string{`link_stat "` + dir + `/src/nope" failed: no such file or directory`},
			wantList: []string{"vanish"},
		},
		{
			name: "ignore missing args", args: []string{"src/nope"}, opts: WalkOptions{MissingArgs: IgnoreMissing},
		},
		{
			name: "delete missing args", args: []string{"src/nope"}, opts: WalkOptions{MissingArgs: DeleteMissing},
			wantList: []string{"nope"},
		},
		{
			name: "unreadable and vanished", args: []string{"src/"},
			opts: WalkOptions{Recurse: true, FS: faultFS{
				lstat:   map[string]error{"vanish": syscall.ENOENT},
				readdir: map[string]error{"locked": syscall.EACCES, "gone": syscall.ENOENT},
			}},
			want: []string{
				`file has vanished: "` + dir + `/src/vanish"`,
				`opendir "` + dir + `/src/locked" failed: permission denied`,
				`directory has vanished: "` + dir + `/src/gone"`,
			},
			wantErr:  IOErrGeneral | IOErrVanished,
			wantList: []string{".", "gone", "locked", "ok", "ok/f"},
		},
		{
			name: "bad parent directory", args: []string{"src/vanish/x"},
			want:    []string{`change_dir "` + dir + `/src/vanish" failed: not a directory`},
			wantErr: IOErrGeneral,
		},
	}
	for _, batch := range []bool{true, false} {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s/batch=%v", tt.name, batch), func(t *testing.T) {
				var ps []Problem
				opts := tt.opts
				opts.IO = fastio.Defaults().With(fastio.Batch, batch)
				opts.Report = collect(&ps)
				opts.Cwd = dir
				if opts.FS == nil {
					opts.FS = chdirFS{dir}
				} else {
					opts.FS = chdirFaultFS{chdirFS{dir}, opts.FS.(faultFS)}
				}
				l, err := Build(tt.args, opts)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, p := range ps {
					got = append(got, p.String())
				}
				slices.Sort(got)
				want := slices.Clone(tt.want)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Errorf("problems:\n got %q\nwant %q", got, want)
				}
				if l.IOError != tt.wantErr {
					t.Errorf("io_error %d, want %d", l.IOError, tt.wantErr)
				}
				l.SortAndClean(32, false)
				var names []string
				for _, e := range l.Entries {
					names = append(names, e.Name())
				}
				if !slices.Equal(names, tt.wantList) {
					t.Errorf("list %q, want %q", names, tt.wantList)
				}
			})
		}
	}
}

// chdirFaultFS resolves relative paths, then injects faults.
type chdirFaultFS struct {
	c chdirFS
	f faultFS
}

func (x chdirFaultFS) Lstat(p string) (Stat, error)      { return x.f.Lstat(x.c.abs(p)) }
func (x chdirFaultFS) Stat(p string) (Stat, error)       { return x.f.Stat(x.c.abs(p)) }
func (x chdirFaultFS) Readlink(p string) (string, error) { return x.f.Readlink(x.c.abs(p)) }
func (x chdirFaultFS) OpenFile(p string) (int, error)    { return x.c.OpenFile(p) }

// OpenDir opens the directory with faultFS's faults, and the directories
// opened in it with them too.
func (x chdirFaultFS) OpenDir(p string, follow bool) (Dir, error) {
	if err := x.f.dirFault(p); err != nil {
		return nil, err
	}
	d, err := OSFS{}.OpenDir(x.c.abs(p), follow)
	if err != nil {
		return nil, err
	}
	return faultDir{d, x.f}, nil
}

// faultDir injects faultFS's faults into an open directory.
type faultDir struct {
	Dir
	f faultFS
}

func (d faultDir) Lstat(name string) (Stat, error) {
	if err := d.f.lstat[name]; err != nil {
		return Stat{}, &os.PathError{Op: "lstat", Path: name, Err: err}
	}
	return d.Dir.Lstat(name)
}

func (d faultDir) OpenDir(name string) (Dir, error) {
	if err := d.f.dirFault(name); err != nil {
		return nil, err
	}
	sub, err := d.Dir.OpenDir(name)
	if err != nil {
		return nil, err
	}
	return faultDir{sub, d.f}, nil
}

func TestSourcePath(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "src/sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "src/sub/f"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	abs := filepath.Join(dir, "src/sub/f")
	l, err := Build([]string{"src/", "src/sub", abs, "src/sub/."}, WalkOptions{Recurse: true, FS: chdirFS{dir}, Cwd: dir})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i, e := range l.Entries {
		got = append(got, e.Name()+"="+l.SourcePath(i))
	}
	want := []string{
		".=src", "sub=src/sub", "sub/f=src/sub/f", // "src/": contents of src
		"sub=src/sub", "sub/f=src/sub/f", // "src/sub": sub itself
		"f=" + abs,                 // an absolute file
		".=src/sub", "f=src/sub/f", // "src/sub/.": contents of sub
	}
	if !slices.Equal(got, want) {
		t.Errorf("source paths:\n got %q\nwant %q", got, want)
	}
	// Consecutive arguments with the same parent share a root.
	if len(l.Roots) != 3 {
		t.Errorf("roots %q", l.Roots)
	}
}

// TestWalkMessagesMatchUpstream checks our problem texts against what
// upstream prints for the same arguments.
func TestWalkMessagesMatchUpstream(t *testing.T) {
	rsync := rsynctest.RequireRsync(t)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "src/d"), 0o755); err != nil {
		t.Fatal(err)
	}
	args := []string{"src/d", "src/missing", "src/d/"}
	cmd := exec.Command(rsync, append([]string{"--only-write-batch=" + filepath.Join(dir, "b")}, append(args, filepath.Join(dir, "dst"))...)...)
	cmd.Dir = dir
	out, _ := cmd.CombinedOutput()
	var want []string
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "rsync error:") || line == "" {
			continue
		}
		want = append(want, line)
	}
	var ps []Problem
	if _, err := Build(args, WalkOptions{FS: chdirFS{dir}, Cwd: dir, Report: collect(&ps)}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range ps {
		line := p.Msg
		var errno syscall.Errno
		if errors.As(p.Err, &errno) {
			// rsyserr's format, with C's strerror text.
			line = "rsync: [sender] " + line + ": " + strings.ToUpper(errno.Error()[:1]) + errno.Error()[1:] + " (" + strconv.Itoa(int(errno)) + ")"
		}
		got = append(got, line)
	}
	if !slices.Equal(got, want) {
		t.Errorf("messages:\n got %q\nwant %q", got, want)
	}
}
