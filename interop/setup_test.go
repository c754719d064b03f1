package interop

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/gorsync/gorsync/internal/rsynctest"
)

// The source trees are built once per test process and only read by the
// transfers: treeA is the standard tree, treeB the same after EditTree.
var (
	treesOnce sync.Once
	treesErr  string
	treeRoot  string
	treeA     string
	treeB     string
	smallA    string
	smallB    string
	localRsh  string
	bigSize   int64 = rsynctest.DefaultBigFileSize
	smallBig  int64 = 1 << 20
	treeSeed  int64 = 20261126
)

func TestMain(m *testing.M) {
	code := m.Run()
	if treeRoot != "" {
		os.RemoveAll(treeRoot)
	}
	if incTreeRoot != "" {
		os.RemoveAll(incTreeRoot)
	}
	if incTreeBase != "" {
		os.RemoveAll(incTreeBase) // increc_send_test.go's tree
	}
	os.Exit(code)
}

// trees returns the shared source trees, building them on first use.
func trees(t *testing.T) {
	t.Helper()
	treesOnce.Do(func() {
		var err error
		treeRoot, err = os.MkdirTemp("", "gorsync-interop-")
		if err != nil {
			treesErr = err.Error()
			return
		}
		build := func(a, b string, big int64) {
			rsynctest.MakeStandardTree(t, a, treeSeed, rsynctest.TreeOptions{BigFileSize: big})
			if out, err := exec.Command("cp", "-a", a, b).CombinedOutput(); err != nil {
				t.Fatalf("cp -a: %v\n%s", err, out)
			}
			rsynctest.EditTree(t, b, treeSeed+1)
		}
		treeA, treeB = filepath.Join(treeRoot, "A"), filepath.Join(treeRoot, "B")
		smallA, smallB = filepath.Join(treeRoot, "a"), filepath.Join(treeRoot, "b")
		build(treeA, treeB, bigSize)
		build(smallA, smallB, smallBig)
		// A stand-in for ssh: drop the host and let sh parse the command
		// line, as the remote shell would.
		localRsh = filepath.Join(treeRoot, "localrsh")
		script := "#!/bin/sh\nshift\nexec sh -c \"$*\"\n"
		if err := os.WriteFile(localRsh, []byte(script), 0o755); err != nil {
			treesErr = err.Error()
		}
	})
	if treesErr != "" {
		t.Fatal(treesErr)
	}
}
