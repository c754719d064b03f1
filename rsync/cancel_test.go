package rsync_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorsync/gorsync/internal/rsynctest"
	"github.com/gorsync/gorsync/rsync"
)

// bigFile writes a file of size pseudo-random bytes (incompressible, so no
// layer can shortcut it).
func bigFile(t *testing.T, name string, size int) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := rand.NewChaCha8([32]byte{1})
	buf := make([]byte, 1<<20)
	for size > 0 {
		r.Read(buf)
		n := min(size, len(buf))
		if _, err := f.Write(buf[:n]); err != nil {
			t.Fatal(err)
		}
		size -= n
	}
}

// scratch is a directory for large files: tmpfs where there is one.
func scratch(t *testing.T) string {
	t.Helper()
	if d, err := os.MkdirTemp("/dev/shm", "gorsync-cancel-"); err == nil {
		t.Cleanup(func() { os.RemoveAll(d) })
		return d
	}
	return t.TempDir()
}

// cancelWhenWriting cancels once a receiver's temporary file for name
// appears in dir (the large file's transfer has begun) and reports when.
func cancelWhenWriting(dir, name string, cancel context.CancelFunc) <-chan time.Time {
	at := make(chan time.Time, 1)
	go func() {
		defer close(at)
		for end := time.Now().Add(30 * time.Second); time.Now().Before(end); time.Sleep(time.Millisecond) {
			ents, _ := os.ReadDir(dir)
			for _, e := range ents {
				if strings.HasPrefix(e.Name(), "."+name+".") {
					cancel()
					at <- time.Now()
					return
				}
			}
		}
	}()
	return at
}

// checkCancelled asserts what a cancelled transfer must leave: exit code
// 20, a prompt return, no temporary file, and no partial destination file.
func checkCancelled(t *testing.T, err error, cancelledAt <-chan time.Time, dst, name string) {
	t.Helper()
	returned := time.Now()
	at, ok := <-cancelledAt
	if !ok {
		t.Fatalf("the transfer ended (%v) before its large file was being written", err)
	}
	if code := rsync.ExitCode(err); code != 20 {
		t.Errorf("exit code %d (%v), want 20", code, err)
	}
	if d := returned.Sub(at); d > 3*time.Second {
		t.Errorf("returned %v after the cancellation", d)
	}
	filepath.WalkDir(dst, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".") && p != dst {
			t.Errorf("temporary file left behind: %s", p)
		}
		return nil
	})
	if _, err := os.Lstat(filepath.Join(dst, name)); err == nil {
		t.Errorf("%s is in place after a cancelled transfer", name)
	}
}

// TestCancelLocalCopy cancels a local copy while a 256 MiB file is being
// written: through the kernel copy (copy_file_range) and through the
// in-process stream (-z).
func TestCancelLocalCopy(t *testing.T) {
	dir := scratch(t)
	src := filepath.Join(dir, "src")
	bigFile(t, filepath.Join(src, "big"), 256<<20)
	for _, tc := range []struct {
		name  string
		extra []string
	}{
		{"copy_file_range", nil},
		{"stream", []string{"-z"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dst := filepath.Join(dir, "dst-"+tc.name)
			os.MkdirAll(dst, 0o755)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			at := cancelWhenWriting(dst, "big", cancel)
			c := &rsync.Client{Options: rsync.Options{Archive: true, Extra: tc.extra}}
			_, err := c.Run(ctx, []string{src + "/"}, dst)
			checkCancelled(t, err, at, dst, "big")
		})
	}
}

// procConn is a connection to a child process's standard streams; Close
// kills it.
type procConn struct {
	io.Reader
	io.WriteCloser
	cmd *exec.Cmd
}

func (p *procConn) Close() error {
	p.WriteCloser.Close()
	p.cmd.Process.Kill()
	return nil
}

// TestCancelPull cancels a pull from upstream rsync's sender, over a
// connection the caller made, while the large file is being received.
func TestCancelPull(t *testing.T) {
	rsyncPath := rsynctest.RequireRsync(t)
	dir := scratch(t)
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	bigFile(t, filepath.Join(src, "big"), 256<<20)
	os.MkdirAll(dst, 0o755)
	c := &rsync.Client{Options: rsync.Options{Archive: true}}
	conn := startSender(t, rsyncPath, c, src)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	at := cancelWhenWriting(dst, "big", cancel)
	_, err := c.Receive(ctx, conn, dst)
	checkCancelled(t, err, at, dst, "big")
}

// startSender starts upstream rsync's sender of src for c's pull and
// returns the connection to it; the test waits for it to end.
func startSender(t *testing.T, rsyncPath string, c *rsync.Client, src string) *procConn {
	t.Helper()
	args, err := c.ServerArgs(false, src+"/")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(rsyncPath, args...)
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Wait() })
	return &procConn{Reader: out, WriteCloser: in, cmd: cmd}
}

// smallFiles writes n files of up to 8 KiB, 100 to a directory.
func smallFiles(t *testing.T, dir string, n int) {
	t.Helper()
	r := rand.NewChaCha8([32]byte{2})
	buf := make([]byte, 8<<10)
	for i := range n {
		d := filepath.Join(dir, fmt.Sprintf("d%03d", i/100))
		if i%100 == 0 {
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		r.Read(buf)
		if err := os.WriteFile(filepath.Join(d, fmt.Sprintf("f%03d", i%100)), buf[:i*131%len(buf)], 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCancelManyFiles cancels transfers of many small files half way,
// while the receiver's workers are creating them (from handed-over
// sources, from the in-process stream, from upstream rsync's sender):
// exit code 20, a prompt return, and no temporary file left behind.
func TestCancelManyFiles(t *testing.T) {
	dir := scratch(t)
	src := filepath.Join(dir, "src")
	const n = 4000
	smallFiles(t, src, n)
	for _, tc := range []string{"copy_file_range", "stream", "upstream"} {
		t.Run(tc, func(t *testing.T) {
			if tc == "upstream" {
				rsynctest.RequireRsync(t)
			}
			dst := filepath.Join(dir, "dst-"+tc)
			os.MkdirAll(dst, 0o755)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var files atomic.Int64
			var cancelledAt atomic.Int64
			c := &rsync.Client{Options: rsync.Options{Archive: true}, OnFile: func(rsync.File) {
				if files.Add(1) == n/2 {
					cancelledAt.Store(time.Now().UnixNano())
					cancel()
				}
			}}
			var err error
			switch tc {
			case "copy_file_range":
				_, err = c.Run(ctx, []string{src + "/"}, dst)
			case "stream":
				c.Options.Extra = []string{"-z"}
				_, err = c.Run(ctx, []string{src + "/"}, dst)
			case "upstream":
				_, err = c.Receive(ctx, startSender(t, rsynctest.RequireRsync(t), c, src), dst)
			}
			at := cancelledAt.Load()
			if at == 0 {
				t.Fatalf("the transfer ended (%v) before it was cancelled", err)
			}
			if code := rsync.ExitCode(err); code != 20 {
				t.Errorf("exit code %d (%v), want 20", code, err)
			}
			if d := time.Since(time.Unix(0, at)); d > 3*time.Second {
				t.Errorf("returned %v after the cancellation", d)
			}
			made := 0
			filepath.WalkDir(dst, func(p string, d os.DirEntry, err error) error {
				switch {
				case err != nil || p == dst:
				case strings.HasPrefix(d.Name(), "."):
					t.Errorf("temporary file left behind: %s", p)
				case d.Type().IsRegular():
					made++
				}
				return nil
			})
			if made >= n {
				t.Errorf("all %d files were made after the cancellation", made)
			}
		})
	}
}
