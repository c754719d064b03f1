package rsynctest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// SSHDPath is where Debian's openssh-server installs sshd; sshd insists on
// being started by an absolute path.
const SSHDPath = "/usr/sbin/sshd"

// GorsyncEnv names an environment variable that, when set, points
// BuildGorsync at a prebuilt gorsync binary instead of building one.
const GorsyncEnv = "GORSYNC_BIN"

// missing skips the test on a developer machine but fails it in CI, where an
// interop test that silently skips would hide a broken environment.
func missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") != "" {
		t.Fatalf("%s (CI is set, so interop tests may not skip)", msg)
	}
	t.Skip(msg)
}

// lookTool returns the path of an executable on PATH or reports it missing.
func lookTool(t testing.TB, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		missing(t, "%s not found on PATH (install %s): %v", name, pkg, err)
	}
	return p
}

// UpstreamVersion is the upstream rsync release the tests compare with:
// its messages and defaults are what gorsync matches. .ci/upstream-rsync
// builds it where the distribution ships another.
const UpstreamVersion = "3.5.0"

var upstreamVersion struct {
	once sync.Once
	line string
}

// RequireRsync returns the path of upstream rsync. Without it, or when it
// is not UpstreamVersion, the test is skipped, or failed when the CI
// environment variable is non-empty: another release's messages would
// fail the comparisons for reasons that are not gorsync's.
func RequireRsync(t testing.TB) string {
	t.Helper()
	p := lookTool(t, "rsync", "rsync")
	upstreamVersion.once.Do(func() {
		out, _ := exec.Command(p, "--version").Output()
		upstreamVersion.line, _, _ = strings.Cut(string(out), "\n")
	})
	if !strings.Contains(upstreamVersion.line, "version "+UpstreamVersion+" ") {
		missing(t, "%s is %q, not rsync %s (run .ci/upstream-rsync)", p, upstreamVersion.line, UpstreamVersion)
	}
	return p
}

// RequireSSH returns the path of the OpenSSH client. Without it the test is
// skipped, or failed when the CI environment variable is non-empty.
func RequireSSH(t testing.TB) string {
	t.Helper()
	return lookTool(t, "ssh", "openssh-client")
}

// RequireSSHKeygen returns the path of ssh-keygen. Without it the test is
// skipped, or failed when the CI environment variable is non-empty.
func RequireSSHKeygen(t testing.TB) string {
	t.Helper()
	return lookTool(t, "ssh-keygen", "openssh-client")
}

// RequireSSHD returns SSHDPath if sshd is installed there. Without it the
// test is skipped, or failed when the CI environment variable is non-empty.
func RequireSSHD(t testing.TB) string {
	t.Helper()
	fi, err := os.Stat(SSHDPath)
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		missing(t, "%s not usable (install openssh-server): %v", SSHDPath, err)
	}
	return SSHDPath
}

// gorsyncPackage is the import path BuildGorsync builds.
const gorsyncPackage = "github.com/gorsync/gorsync/cmd/gorsync"

var build struct {
	once sync.Once
	path string
	err  error
}

// BuildGorsync builds cmd/gorsync once per test process and returns the
// binary's path; if GorsyncEnv is set, it returns that path instead.
func BuildGorsync(t testing.TB) string {
	t.Helper()
	build.once.Do(func() { build.path, build.err = buildGorsync() })
	if build.err != nil {
		t.Fatalf("build gorsync: %v", build.err)
	}
	return build.path
}

// ModuleRoot returns the directory holding the go.mod of the module that the
// current working directory belongs to.
func ModuleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("go env GOMOD: not inside a module")
	}
	return filepath.Dir(gomod), nil
}

// buildGorsync returns the binary named by GorsyncEnv or builds one.
func buildGorsync() (string, error) {
	if p := os.Getenv(GorsyncEnv); p != "" {
		abs, err := filepath.Abs(p)
		if err != nil {
			return "", fmt.Errorf("%s=%q: %w", GorsyncEnv, p, err)
		}
		if _, err := os.Stat(abs); err != nil {
			return "", fmt.Errorf("%s: %w", GorsyncEnv, err)
		}
		return abs, nil
	}
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	return buildBinary(root, gorsyncPackage, "gorsync")
}

// buildBinary builds pkg within the module at root and returns the path of
// the binary, called name. It lives in a per-user, per-module directory that
// outlives the test (t.TempDir would vanish with the first test's cleanup).
// Concurrent test processes each build to a private name and rename it into
// place, so a binary is never seen half-written; go's build cache keeps the
// rebuilds cheap.
func buildBinary(root, pkg, name string) (string, error) {
	top := filepath.Join(os.TempDir(), fmt.Sprintf("gorsync-rsynctest-%d", os.Getuid()))
	if err := os.Mkdir(top, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", fmt.Errorf("make build dir: %w", err)
	}
	// The directory sits in a shared temporary directory: refuse one that
	// another user made or that is a symlink.
	fi, err := os.Lstat(top)
	if err != nil {
		return "", fmt.Errorf("make build dir: %w", err)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); !fi.IsDir() || !ok || int(st.Uid) != os.Getuid() {
		return "", fmt.Errorf("build dir %s is not a directory owned by uid %d", top, os.Getuid())
	}
	sum := sha256.Sum256([]byte(root))
	dir := filepath.Join(top, hex.EncodeToString(sum[:8]))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("make build dir: %w", err)
	}
	tmp, err := os.CreateTemp(dir, name+"-*.tmp")
	if err != nil {
		return "", fmt.Errorf("make build file: %w", err)
	}
	tmpName := tmp.Name()
	tmp.Close()
	defer os.Remove(tmpName)

	cmd := exec.Command("go", "build", "-o", tmpName, pkg)
	cmd.Dir = root
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build %s in %s: %w\n%s", pkg, root, err, out.Bytes())
	}
	final := filepath.Join(dir, name)
	if err := os.Rename(tmpName, final); err != nil {
		return "", fmt.Errorf("install built binary: %w", err)
	}
	return final, nil
}
