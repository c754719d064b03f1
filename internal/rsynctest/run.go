package rsynctest

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// RunTimeout bounds every command Run starts.
const RunTimeout = 2 * time.Minute

// runTimeout is RunTimeout, shortened by this package's own test of it.
var runTimeout = RunTimeout

// Run runs name with args in dir (empty means the test's working directory),
// with env appended to the test process's environment (nil means inherit).
// It returns the captured output and the exit code, or -1 if the command
// died from a signal. It fails the test if the command cannot start or
// outlives RunTimeout, in which case its whole process group is killed.
func Run(t testing.TB, dir string, env []string, name string, args ...string) (stdout, stderr string, exitCode int) {
	t.Helper()
	// Not t.Context(): that is already cancelled when cleanups run commands.
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	// A process group lets a timeout kill what the command spawned too (the
	// ssh that rsync starts, the server that ssh starts).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var outBuf, errBuf bytes.Buffer
	cmd.Stdout = &outBuf
	cmd.Stderr = &errBuf

	line := commandLine(env, name, args)
	t.Logf("$ %s", line)
	start := time.Now()
	err := cmd.Run()
	stdout, stderr = outBuf.String(), errBuf.String()
	if ctx.Err() != nil {
		t.Fatalf("%s: killed after %v (%v)\nstdout:\n%s\nstderr:\n%s",
			line, time.Since(start).Round(time.Millisecond), ctx.Err(), stdout, stderr)
	}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return stdout, stderr, 0
	case errors.As(err, &exitErr):
		return stdout, stderr, exitErr.ExitCode()
	default:
		t.Fatalf("%s: %v\nstdout:\n%s\nstderr:\n%s", line, err, stdout, stderr)
		return stdout, stderr, -1
	}
}

// MustRun is Run that also fails the test, showing both outputs, when the
// command exits non-zero.
func MustRun(t testing.TB, dir string, env []string, name string, args ...string) (stdout, stderr string) {
	t.Helper()
	stdout, stderr, code := Run(t, dir, env, name, args...)
	if code != 0 {
		t.Fatalf("%s: exit code %d\nstdout:\n%s\nstderr:\n%s", commandLine(env, name, args), code, stdout, stderr)
	}
	return stdout, stderr
}

// commandLine renders a command for logs, quoting words a shell would split.
func commandLine(env []string, name string, args []string) string {
	words := make([]string, 0, len(env)+1+len(args))
	words = append(words, env...)
	words = append(words, name)
	words = append(words, args...)
	for i, w := range words {
		words[i] = shellQuote(w)
	}
	return strings.Join(words, " ")
}

// shellQuote single-quotes w if it holds anything but plainly safe bytes.
func shellQuote(w string) string {
	if w == "" {
		return "''"
	}
	for _, c := range []byte(w) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_./=:,+@%", c) >= 0) {
			return "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
		}
	}
	return w
}
