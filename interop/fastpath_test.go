package interop

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorsync/gorsync/internal/fastio"
	"github.com/gorsync/gorsync/internal/rsynctest"
)

// fastPathSettings are the GORSYNC_FASTIO values TestFastPaths runs under:
// every fast path forced off, every one forced on (io_uring included, off by
// default), and each alone on with the others off (io_uring with the two
// paths it serves), so that no path depends on another to be correct.
func fastPathSettings() []string {
	s := []string{"all=off", "all=on"}
	for _, p := range fastio.Paths() {
		v := fmt.Sprintf("all=off,%s=on", p)
		if p == fastio.Uring {
			// The ring stats directories listed ahead of the walk,
			// which needs those two paths.
			v += ",batch=on,parallel=on"
		}
		s = append(s, v)
	}
	return s
}

var (
	manyOnce sync.Once
	manyRoot string
	manyErr  error
)

// manyFiles builds, once per test process, a tree of 1,500 files in 12
// directories with long names (so a directory takes several getdents64
// calls whatever the buffer) and sizes from 0 to 40 KiB (both sides of the
// buffer-size classes and the mmap threshold), with fixed old mtimes.
func manyFiles(t *testing.T) string {
	t.Helper()
	manyOnce.Do(func() {
		manyRoot = filepath.Join(treeRoot, "many")
		old := time.Date(2024, 3, 4, 5, 6, 7, 123456789, time.UTC)
		for d := 0; d < 12; d++ {
			dir := filepath.Join(manyRoot, fmt.Sprintf("dir-%02d-%s", d, strings.Repeat("d", 40)))
			if manyErr = os.MkdirAll(dir, 0o755); manyErr != nil {
				return
			}
			for i := 0; i < 125; i++ {
				name := filepath.Join(dir, fmt.Sprintf("file-%04d-%s.dat", i, strings.Repeat("n", 60+i%50)))
				size := (i * 331 * (d + 1)) % (40 << 10)
				data := make([]byte, size)
				for j := range data {
					data[j] = byte(j*7 + i + d)
				}
				if manyErr = os.WriteFile(name, data, 0o644); manyErr != nil {
					return
				}
				if manyErr = os.Chtimes(name, old, old); manyErr != nil {
					return
				}
			}
			if manyErr = os.Chtimes(dir, old, old); manyErr != nil {
				return
			}
		}
		manyErr = os.Chtimes(manyRoot, old, old)
	})
	if manyErr != nil {
		t.Fatal(manyErr)
	}
	return manyRoot
}

// TestFastPaths runs a local copy and each interop direction against
// upstream rsync with the fast paths switched through GORSYNC_FASTIO (the
// gorsync processes, client and server, inherit it): fresh copies, a delta
// over the edited tree, an unchanged --checksum run, compression, protocols
// 32, 30 and 29. Every destination must equal its source to the nanosecond.
func TestFastPaths(t *testing.T) {
	trees(t)
	many := manyFiles(t)
	gorsync := rsynctest.BuildGorsync(t)
	rsync := rsynctest.RequireRsync(t)
	for _, setting := range fastPathSettings() {
		env := []string{fastio.Env + "=" + setting}
		t.Run(setting, func(t *testing.T) {
			t.Parallel()
			type step struct {
				client, server string // server "" means a local copy
				push           bool
				proto          int
				extra          []string
			}
			cases := []struct {
				name  string
				step  step
				delta bool // a second run over the edited tree must match blocks
			}{
				{"local", step{client: gorsync}, true},
				{"gorsync-push-to-rsync", step{client: gorsync, server: rsync, push: true, proto: 32}, true},
				{"gorsync-pull-from-rsync-z", step{client: gorsync, server: rsync, proto: 30, extra: []string{"-z"}}, true},
				{"rsync-push-to-gorsync-zstd", step{client: rsync, server: gorsync, push: true, proto: 32, extra: []string{"--zc=zstd"}}, true},
				{"rsync-pull-from-gorsync", step{client: rsync, server: gorsync, proto: 29}, true},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					run := func(src, dst string, more ...string) string {
						t.Helper()
						args := []string{"-a", "--stats"}
						if c.step.server != "" {
							args = append(args, "-e", localRsh, "--rsync-path="+c.step.server, fmt.Sprintf("--protocol=%d", c.step.proto))
						}
						args = append(args, c.step.extra...)
						args = append(args, more...)
						switch {
						case c.step.server == "":
							args = append(args, src+"/", dst+"/")
						case c.step.push:
							args = append(args, src+"/", "localhost:"+dst+"/")
						default:
							args = append(args, "localhost:"+src+"/", dst+"/")
						}
						out, errOut, code := rsynctest.Run(t, "", env, c.step.client, args...)
						if code != 0 {
							t.Fatalf("%s %s: exit %d\nstdout:\n%s\nstderr:\n%s", filepath.Base(c.step.client), strings.Join(args, " "), code, out, errOut)
						}
						return out
					}
					opts := compareOpts(c.step.proto)
					if c.step.server == "" {
						opts = compareOpts(32)
					}
					base := t.TempDir()
					dst := filepath.Join(base, "dst")
					run(smallA, dst)
					rsynctest.CompareTrees(t, smallA, dst, opts)
					out := run(smallB, dst, "--no-W")
					rsynctest.CompareTrees(t, smallB, dst, opts)
					st, err := rsynctest.ParseStats(out)
					if err != nil {
						t.Fatalf("stats: %v\n%s", err, out)
					}
					if c.delta && (st.MatchedData < smallBig/2 || st.LiteralData > smallBig/8) {
						t.Errorf("big file did not travel as a delta: literal %d, matched %d\n%s", st.LiteralData, st.MatchedData, out)
					}
					out = run(smallB, dst, "-c")
					if st, err = rsynctest.ParseStats(out); err != nil || st.RegularFilesTransferred != 0 {
						t.Errorf("unchanged --checksum run transferred files (err %v)\n%s", err, out)
					}
					manyDst := filepath.Join(base, "many")
					run(many, manyDst)
					rsynctest.CompareTrees(t, many, manyDst, opts)
				})
			}
		})
	}
}
