package rsynctest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestRequireRsync(t *testing.T) {
	p := RequireRsync(t)
	out, _ := MustRun(t, "", nil, p, "--version")
	if !strings.Contains(out, "protocol version") {
		t.Errorf("%s --version printed %q", p, out)
	}
}

func TestRequireSSHD(t *testing.T) {
	if p := RequireSSHD(t); p != SSHDPath {
		t.Errorf("RequireSSHD = %q, want %q", p, SSHDPath)
	}
}

// TestMissingSkipsOrFails checks the CI rule: a missing tool skips on a
// developer machine and fails when CI is set.
func TestMissingSkipsOrFails(t *testing.T) {
	cases := []struct {
		ci        string
		wantSkip  bool
		wantFatal bool
	}{
		{"", true, false},
		{"true", false, true},
	}
	for _, tc := range cases {
		t.Setenv("CI", tc.ci)
		f := capture(t, func(tb testing.TB) { lookTool(tb, "rsynctest-no-such-tool", "nothing") })
		if (f.skipped != "") != tc.wantSkip || (f.fatal != "") != tc.wantFatal {
			t.Errorf("CI=%q: skipped %q, fatal %q", tc.ci, f.skipped, f.fatal)
		}
	}
}

func TestBuildGorsync(t *testing.T) {
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv(GorsyncEnv) == "" {
		matches, _ := filepath.Glob(filepath.Join(root, "cmd", "gorsync", "*.go"))
		if len(matches) == 0 {
			t.Skip("cmd/gorsync has no Go files yet")
		}
	}
	p := BuildGorsync(t)
	if again := BuildGorsync(t); again != p {
		t.Errorf("second BuildGorsync = %q, want %q", again, p)
	}
	if fi, err := os.Stat(p); err != nil || fi.Mode().Perm()&0o111 == 0 {
		t.Fatalf("built binary %s: %v, %v", p, fi, err)
	}
	if _, err := exec.LookPath(p); err != nil {
		t.Errorf("built binary not executable: %v", err)
	}
}

func TestBuildBinary(t *testing.T) {
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	p, err := buildBinary(root, "./internal/rsynctest/testdata/hello", "rsynctest-hello")
	if err != nil {
		t.Fatal(err)
	}
	out, _ := MustRun(t, "", nil, p)
	if out != "hello from rsynctest\n" {
		t.Errorf("built binary printed %q", out)
	}
	if matches, _ := filepath.Glob(filepath.Join(filepath.Dir(p), "rsynctest-hello-*.tmp")); len(matches) != 0 {
		t.Errorf("temporary build files left behind: %q", matches)
	}
}
