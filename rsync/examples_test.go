package rsync_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/gorsync/gorsync/internal/rsynctest"
)

// TestExamplesModule builds the separate module under examples/, which
// embeds gorsync through this package only (as any other module would, with
// a replace directive), and runs its push command against upstream rsync's
// server: the tree must arrive as upstream rsync would have copied it.
func TestExamplesModule(t *testing.T) {
	rsyncPath := rsynctest.RequireRsync(t)
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goTool); err != nil {
		if goTool, err = exec.LookPath("go"); err != nil {
			t.Skip("no go command to build the examples module with")
		}
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "push")
	build := exec.Command(goTool, "build", "-o", bin, "./push")
	build.Dir = filepath.Join("..", "examples")
	build.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=readonly")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building examples/push: %v\n%s", err, out)
	}
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	rsynctest.MakeStandardTree(t, src, 3, rsynctest.TreeOptions{BigFileSize: 1 << 20})
	stdout, stderr := rsynctest.MustRun(t, "", nil, bin, "-rsync", rsyncPath, src, dst)
	if !strings.Contains(stdout, "transferred") {
		t.Errorf("no summary from the example:\n%s%s", stdout, stderr)
	}
	rsynctest.CompareTrees(t, src, dst, rsynctest.Archive(false))
}
