package fsys

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gorsync/gorsync/internal/fastio"
)

// fileOps does to n files beneath r what the generator and receiver do to a
// fresh destination, in list order, 100 files to a directory: the
// generator's lstat (missing) and the receiver's temp file, its attributes,
// the rename into place and the rename's lstat (for a kept mode); unchanged
// runs the generator's lstat of files that are already there.
func fileOps(tb testing.TB, r *Root, run string, n int, unchanged bool) {
	for i := range n {
		dir := fmt.Sprintf("%s/d%d", run, i/100)
		name := fmt.Sprintf("%s/file-%03d.txt", dir, i%100)
		if unchanged {
			if _, err := r.LstatT(name); err != nil {
				tb.Fatal(err)
			}
			continue
		}
		if i%100 == 0 {
			if err := r.MkdirAll(dir, 0o755); err != nil {
				tb.Fatal(err)
			}
		}
		if _, err := r.LstatT(name); !os.IsNotExist(err) {
			tb.Fatalf("lstat %s: %v", name, err)
		}
		f, tmp, err := r.CreateTemp(name)
		if err != nil {
			tb.Fatal(err)
		}
		if err := SetFileAttrs(f, Attrs{Set: SetMode, Mode: 0o644}); err != nil {
			tb.Fatal(err)
		}
		f.Close()
		r.LstatT(name)
		if err := r.Rename(tmp, name); err != nil {
			tb.Fatal(err)
		}
	}
}

// fileOpsChildEnv asks TestFileOpsChild for a run: "fresh|unchanged:n:dir".
const fileOpsChildEnv = "GORSYNC_FSYS_FILEOPS_CHILD"

// TestFileOpsChild is BenchmarkFileOps's child process, run under strace
// to count system calls.
func TestFileOpsChild(t *testing.T) {
	spec := os.Getenv(fileOpsChildEnv)
	if spec == "" {
		t.Skip("helper process for BenchmarkFileOps")
	}
	parts := strings.SplitN(spec, ":", 3)
	n, err := strconv.Atoi(parts[1])
	if err != nil || len(parts) != 3 {
		t.Fatalf("bad %s %q", fileOpsChildEnv, spec)
	}
	fio, err := fastio.ParseConfig(os.Getenv(fastio.Env))
	if err != nil {
		t.Fatal(err)
	}
	r, err := OpenRoot(parts[2], fio)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	fileOps(t, r, "run", n, parts[0] == "unchanged")
}

// straceCount runs TestFileOpsChild under strace -c -f and returns the
// number of system calls it made.
func straceCount(b *testing.B, strace, spec string, cache bool) int {
	b.Helper()
	out := filepath.Join(b.TempDir(), "strace.out")
	cmd := exec.Command(strace, "-f", "-c", "-o", out, os.Args[0], "-test.run=^TestFileOpsChild$", "-test.count=1")
	onOff := map[bool]string{true: "on", false: "off"}
	cmd.Env = append(os.Environ(), fileOpsChildEnv+"="+spec, fastio.Env+"=batch="+onOff[cache])
	if msg, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("strace child: %v\n%s", err, msg)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		b.Fatal(err)
	}
	// The last line is "100.00  seconds  usecs/call  calls  [errors]  total".
	for _, line := range strings.Split(string(data), "\n") {
		if fields := strings.Fields(line); len(fields) >= 5 && fields[len(fields)-1] == "total" {
			if n, err := strconv.Atoi(fields[3]); err == nil {
				return n
			}
		}
	}
	b.Fatalf("no total in strace's output:\n%s", data)
	return 0
}

// BenchmarkFileOps measures a destination's per-file operations (fileOps)
// with the parent directory cache (fastio.Batch) on and off; an op is one
// file. syscalls/op is counted by strace in child processes: the calls of a
// child doing 2,000 files less those of one doing none, divided by 2,000.
// The Go runtime's own calls (futex, nanosleep) are in both and vary a
// little with scheduling.
func BenchmarkFileOps(b *testing.B) {
	strace, straceErr := exec.LookPath("strace")
	for _, mode := range []string{"fresh", "unchanged"} {
		for _, cache := range []bool{true, false} {
			b.Run(fmt.Sprintf("%s/cache=%v", mode, cache), func(b *testing.B) {
				fio := fastio.Defaults().With(fastio.Batch, cache)
				dir := b.TempDir()
				r, err := OpenRoot(dir, fio)
				if err != nil {
					b.Fatal(err)
				}
				defer r.Close()
				unchanged := mode == "unchanged"
				if unchanged {
					fileOps(b, r, "run", b.N, false)
				}
				b.ResetTimer()
				fileOps(b, r, "run", b.N, unchanged)
				b.StopTimer()
				if straceErr != nil {
					b.Logf("no syscalls/op: %v", straceErr)
					return
				}
				const files = 2000
				cdir := b.TempDir()
				if unchanged {
					cr, err := OpenRoot(cdir, fio)
					if err != nil {
						b.Fatal(err)
					}
					fileOps(b, cr, "run", files, false)
					cr.Close()
				}
				idle := straceCount(b, strace, fmt.Sprintf("%s:0:%s", mode, cdir), cache)
				busy := straceCount(b, strace, fmt.Sprintf("%s:%d:%s", mode, files, cdir), cache)
				b.ReportMetric(float64(busy-idle)/files, "syscalls/op")
			})
		}
	}
}
