package rsynctest

import (
	"strings"
	"testing"
	"time"
)

func TestRunCapturesOutputAndExitCode(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name           string
		env            []string
		script         string
		stdout, stderr string
		code           int
	}{
		{"success", nil, "echo out; echo err >&2", "out\n", "err\n", 0},
		{"exit code", nil, "exit 23", "", "", 23},
		{"env appended", []string{"RSYNCTEST_X=hello"}, `printf %s "$RSYNCTEST_X"`, "hello", "", 0},
		{"env inherits", []string{"RSYNCTEST_X=1"}, `test -n "$PATH"`, "", "", 0},
		{"dir", nil, "pwd", dir + "\n", "", 0},
		{"signal", nil, "kill -9 $$", "", "", -1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := Run(t, dir, tc.env, "sh", "-c", tc.script)
			if stdout != tc.stdout || stderr != tc.stderr || code != tc.code {
				t.Errorf("Run = %q, %q, %d; want %q, %q, %d", stdout, stderr, code, tc.stdout, tc.stderr, tc.code)
			}
		})
	}
}

func TestRunFailsOnTimeoutAndStartError(t *testing.T) {
	old := runTimeout
	runTimeout = 200 * time.Millisecond
	defer func() { runTimeout = old }()

	start := time.Now()
	f := capture(t, func(tb testing.TB) {
		// The grandchild sleep holds stdout open; the group kill must end it.
		Run(tb, "", nil, "sh", "-c", "echo partial; sleep 30 & wait")
	})
	if !strings.Contains(f.fatal, "killed after") || !strings.Contains(f.fatal, "partial") {
		t.Errorf("timeout report = %q, want it to say killed and show output", f.fatal)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("timed-out command took %v to reap", d)
	}

	f = capture(t, func(tb testing.TB) { Run(tb, "", nil, "/nonexistent/rsynctest-command") })
	if !strings.Contains(f.fatal, "nonexistent") {
		t.Errorf("start failure report = %q", f.fatal)
	}
}

func TestMustRunFailsOnNonZeroExit(t *testing.T) {
	f := capture(t, func(tb testing.TB) { MustRun(tb, "", nil, "sh", "-c", "echo why >&2; exit 3") })
	if !strings.Contains(f.fatal, "exit code 3") || !strings.Contains(f.fatal, "why") {
		t.Errorf("MustRun report = %q", f.fatal)
	}
}

func TestShellQuote(t *testing.T) {
	cases := map[string]string{
		"plain":        "plain",
		"a b":          "'a b'",
		"":             "''",
		"it's":         `'it'\''s'`,
		"--opt=/x/y.z": "--opt=/x/y.z",
	}
	for in, want := range cases {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %q, want %q", in, got, want)
		}
	}
}
