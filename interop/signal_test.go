package interop

import (
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorsync/gorsync/internal/rsynctest"
)

// TestSignalStops sends SIGTERM to a local copy, upstream's and gorsync's,
// while a 256 MiB file is being written: both exit with code 20 and rsync's
// "received SIGINT, SIGTERM, or SIGHUP" line, and leave no temporary file
// and nothing half-written in place.
func TestSignalStops(t *testing.T) {
	rsync := rsynctest.RequireRsync(t)
	gorsync := rsynctest.BuildGorsync(t)
	dir := t.TempDir()
	if d, err := os.MkdirTemp("/dev/shm", "gorsync-signal-"); err == nil {
		t.Cleanup(func() { os.RemoveAll(d) })
		dir = d
	}
	src := filepath.Join(dir, "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 256<<20)
	rand.NewChaCha8([32]byte{7}).Read(data)
	if err := os.WriteFile(filepath.Join(src, "big"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, prog string }{{"upstream", rsync}, {"gorsync", gorsync}} {
		t.Run(tc.name, func(t *testing.T) {
			dst := filepath.Join(dir, "dst-"+tc.name)
			os.MkdirAll(dst, 0o755)
			cmd := exec.Command(tc.prog, "-a", "-z", src+"/", dst+"/")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			sent := false
			for end := time.Now().Add(20 * time.Second); time.Now().Before(end) && !sent; time.Sleep(time.Millisecond) {
				ents, _ := os.ReadDir(dst)
				for _, e := range ents {
					if strings.HasPrefix(e.Name(), ".big.") {
						cmd.Process.Signal(syscall.SIGTERM)
						sent = true
					}
				}
			}
			err := cmd.Wait()
			if !sent {
				t.Fatalf("the copy ended (%v) before its file was being written", err)
			}
			code := -1
			if xe, ok := err.(*exec.ExitError); ok {
				code = xe.ExitCode()
			}
			if code != 20 {
				t.Errorf("exit code %d (%v), want 20\n%s", code, err, stderr.String())
			}
			if !strings.Contains(stderr.String(), "received SIGINT, SIGTERM, or SIGHUP (code 20)") {
				t.Errorf("stderr:\n%s", stderr.String())
			}
			ents, _ := os.ReadDir(dst)
			for _, e := range ents {
				t.Errorf("left in the destination: %s", e.Name())
			}
		})
	}
}
