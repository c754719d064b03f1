package interop

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorsync/gorsync/internal/rsynctest"
)

// TestUnrequestedNames pulls "src/a" through a remote shell that rewrites
// the request to "src/", so the server (upstream rsync, or gorsync) lists
// names the client never asked for. Upstream's client refuses them ("ERROR:
// rejecting unrequested file-list name", exit 4); gorsync's must too, and
// write nothing. An honest pull through the same shell still works.
func TestUnrequestedNames(t *testing.T) {
	rsync := rsynctest.RequireRsync(t)
	gorsync := rsynctest.BuildGorsync(t)
	root := t.TempDir()
	src := filepath.Join(root, "src")
	for name, data := range map[string]string{"a/f": "x", "b/g": "y", "top": "z"} {
		p := filepath.Join(src, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(data), 0o644)
	}
	// Times far from the run's clock (rsync leaves a same-second time alone).
	old := time.Date(2021, 2, 3, 4, 5, 6, 0, time.UTC)
	for _, d := range []string{"a/f", "b/g", "top", "a", "b", "."} {
		os.Chtimes(filepath.Join(src, d), old, old)
	}
	rsh := filepath.Join(root, "rsh")
	script := "#!/bin/sh\nshift\ncmd=$(printf '%s ' \"$@\")\n[ -n \"$FROM\" ] && cmd=$(printf '%s' \"$cmd\" | sed \"s#$FROM #$TO #\")\nexec sh -c \"$cmd\"\n"
	if err := os.WriteFile(rsh, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	evil := []string{"FROM=" + src + "/a", "TO=" + src + "/"}
	for _, server := range []string{rsync, gorsync} {
		for _, client := range []string{rsync, gorsync} {
			name := filepath.Base(client) + "-client_" + filepath.Base(server) + "-server"
			t.Run(name, func(t *testing.T) {
				dst := filepath.Join(t.TempDir(), "dst")
				args := []string{"-a", "-e", rsh, "--rsync-path=" + server, "localhost:" + src + "/a", dst + "/"}
				_, stderr, code := rsynctest.Run(t, "", evil, client, args...)
				if code != 4 || !strings.Contains(stderr, "rejecting unrequested file-list name") {
					t.Errorf("misbehaving server: exit %d, want 4 with rsync's message\n%s", code, stderr)
				}
				if _, err := os.Stat(filepath.Join(dst, "top")); err == nil {
					t.Error("an unrequested file was written")
				}
				honest := filepath.Join(t.TempDir(), "dst")
				out, stderr, code := rsynctest.Run(t, "", nil, client, "-a", "-e", rsh, "--rsync-path="+server, "localhost:"+src+"/a", honest+"/")
				if code != 0 {
					t.Fatalf("honest pull: exit %d\n%s%s", code, out, stderr)
				}
				rsynctest.CompareTrees(t, filepath.Join(src, "a"), filepath.Join(honest, "a"), rsynctest.Archive(false))
			})
		}
	}
}
