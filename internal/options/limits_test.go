package options

import (
	"bufio"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseLimits(t *testing.T) {
	env := func(vars ...string) func(string) string {
		return func(k string) string {
			for _, v := range vars {
				if name, val, _ := strings.Cut(v, "="); name == k {
					return val
				}
			}
			return ""
		}
	}
	tests := []struct {
		args []string
		env  []string
		want LimitOptions
	}{
		{[]string{"--bwlimit=1M", "a", "b"}, nil, LimitOptions{BwLimit: 1024}},
		{[]string{"--bwlimit=100", "a", "b"}, nil, LimitOptions{BwLimit: 100}},
		{[]string{"--bwlimit=1.5k", "a", "b"}, nil, LimitOptions{BwLimit: 2}},
		{[]string{"--bwlimit=1MB", "a", "b"}, nil, LimitOptions{BwLimit: 977}}, // 1,000,000 bytes
		{[]string{"--bwlimit=1MiB", "a", "b"}, nil, LimitOptions{BwLimit: 1024}},
		{[]string{"--bwlimit=1G", "--no-bwlimit", "a", "b"}, nil, LimitOptions{}},
		{[]string{"--timeout=0x10", "--contimeout", "3", "a", "b"}, nil, LimitOptions{Timeout: 16, ConTimeout: 3}},
		{[]string{"--max-alloc=2M", "a", "b"}, nil, LimitOptions{MaxAlloc: 2 << 20, MaxAllocArg: "2M", maxAllocSeen: true}},
		{[]string{"a", "b"}, []string{"RSYNC_MAX_ALLOC=3m"}, LimitOptions{MaxAlloc: 3 << 20, MaxAllocArg: "3m"}},
		{[]string{"--blocking-io", "a", "b"}, nil, LimitOptions{BlockingIO: On}},
		{[]string{"-s", "a", "b"}, nil, LimitOptions{SecludedArgs: true, secludedSet: On}},
		{[]string{"--protect-args", "--no-s", "a", "b"}, nil, LimitOptions{secludedSet: Off}},
		{[]string{"a", "b"}, []string{"RSYNC_PROTECT_ARGS=1"}, LimitOptions{SecludedArgs: true}},
		{[]string{"a", "b"}, []string{"RSYNC_PROTECT_ARGS=0"}, LimitOptions{}},
		{[]string{"--old-args", "--old-args", "a", "b"}, nil, LimitOptions{OldArgs: 2, oldArgsSet: true, secludedSet: Off}},
		{[]string{"a", "b"}, []string{"RSYNC_OLD_ARGS=2"}, LimitOptions{OldArgs: 2, secludedSet: Off}},
		// -s wins over $RSYNC_OLD_ARGS, as in rsync.
		{[]string{"-s", "a", "b"}, []string{"RSYNC_OLD_ARGS=1"}, LimitOptions{SecludedArgs: true, secludedSet: On}},
		// A server takes its quoting from its client, not the environment.
		{[]string{"--server", ".", "b"}, []string{"RSYNC_PROTECT_ARGS=1", "RSYNC_OLD_ARGS=1"}, LimitOptions{}},
	}
	for _, tt := range tests {
		o, err := Parse(tt.args, env(tt.env...))
		if err != nil {
			t.Errorf("Parse(%q) with %q: %v", tt.args, tt.env, err)
			continue
		}
		if o.LimitOptions != tt.want {
			t.Errorf("Parse(%q) with %q:\n got %+v\nwant %+v", tt.args, tt.env, o.LimitOptions, tt.want)
		}
	}
}

// TestParseLimitErrors checks the messages against upstream's, which
// interop/limits_test.go compares on the command line.
func TestParseLimitErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--bwlimit=abc"}, "rsync: --bwlimit=abc is invalid"},
		{[]string{"--bwlimit=100b"}, "rsync: --bwlimit=100b is too small (min: 512 or 0 for unlimited)"},
		{[]string{"--max-alloc=1k"}, "rsync: --max-alloc=1k is too small (min: 1.00M or 0 for unlimited)"},
		{[]string{"--max-alloc=0"}, "rsync: max-alloc must be greater than zero"},
		{[]string{"--stop-after=0"}, "rsync: invalid --stop-after value: 0"},
		{[]string{"--time-limit=x"}, "rsync: invalid --stop-after value: x"},
		{[]string{"--stop-at=bad"}, "rsync: invalid --stop-at format: bad"},
		{[]string{"--stop-at=2000-01-01T00:00"}, "rsync: --stop-at time is not in the future: 2000-01-01T00:00"},
		{[]string{"-s", "--old-args"}, "rsync: --secluded-args conflicts with --old-args."},
		{[]string{"--timeout=abc"}, "rsync: --timeout=abc: invalid numeric value"},
		{[]string{"--iconv=utf8,latin1"}, "rsync: This rsync does not support --iconv"},
		{[]string{"--server", "--iconv=utf8"}, "rsync: The server does not support --iconv"},
	}
	for _, tt := range tests {
		_, err := Parse(append(tt.args, "a", "b"), nil)
		if err == nil || err.Error() != tt.want {
			t.Errorf("Parse(%q) = %v, want %q", tt.args, err, tt.want)
		}
	}
}

func TestParseTime(t *testing.T) {
	loc := time.FixedZone("X", 3600)
	now := time.Date(2026, 12, 4, 21, 30, 15, 0, loc)
	tests := []struct {
		arg  string
		want time.Time // zero: invalid
	}{
		{"2027-01-02T03:04", time.Date(2027, 1, 2, 3, 4, 0, 0, loc)},
		{"27-01-02T03:04", time.Date(2027, 1, 2, 3, 4, 0, 0, loc)},
		{"2027/01/02", time.Date(2027, 1, 2, 0, 0, 0, 0, loc)},
		{"12-25", time.Date(2026, 12, 25, 0, 0, 0, 0, loc)},
		{"12-01", time.Date(2027, 12, 1, 0, 0, 0, 0, loc)}, // past this year: next year
		{"22:00", time.Date(2026, 12, 4, 22, 0, 0, 0, loc)},
		{"T21:00", time.Date(2026, 12, 5, 21, 0, 0, 0, loc)}, // passed today: tomorrow
		{":45", time.Date(2026, 12, 4, 21, 45, 0, 0, loc)},
		{":15", time.Date(2026, 12, 4, 22, 15, 0, 0, loc)}, // passed this hour: the next
		{"bad", time.Time{}},
		{"25:00", time.Time{}},
		{"2027-13-01", time.Time{}},
		{"T5", time.Time{}},
		{"1-2-3-4", time.Time{}},
	}
	for _, tt := range tests {
		got, ok := parseTime(tt.arg, now)
		if tt.want.IsZero() {
			if ok {
				t.Errorf("parseTime(%q) = %v, want invalid", tt.arg, got)
			}
			continue
		}
		if !ok || !got.Equal(tt.want) {
			t.Errorf("parseTime(%q) = %v, %v; want %v", tt.arg, got, ok, tt.want)
		}
	}
}

// TestRemoteCommandQuoting checks how the paths and option values reach
// the server with each quoting: rsync's safe_arg escaping by default,
// untouched names with --old-args (the remote shell splits them), nothing
// escaped with a doubled --old-args, and with -s everything after the
// bundled letters moved over the connection unescaped.
func TestRemoteCommandQuoting(t *testing.T) {
	paths := []string{"a b", "w*c", "-d", `\*`}
	tests := []struct {
		args          []string
		cmd, secluded []string
	}{
		{
			[]string{"-r", "--timeout=5", "--bwlimit=2M", "--max-alloc=2M", "--skip-compress=a b*"},
			[]string{"--server", "--sender", "-re.iLsfxCIvu", "--timeout=5", "--bwlimit=2048", "--skip-compress=a\\ b\\*", "--max-alloc=2M", ".", `a\ b`, "w*c", "./-d", `\*`},
			nil,
		},
		{
			[]string{"-r", "--old-args", "--skip-compress=a b"},
			[]string{"--server", "--sender", "-re.iLsfxCIvu", "--skip-compress=a\\ b", ".", "a b", "w*c", "./-d", `\*`},
			nil,
		},
		{
			[]string{"-r", "--old-args", "--old-args", "--skip-compress=a b"},
			[]string{"--server", "--sender", "-re.iLsfxCIvu", "--skip-compress=a b", ".", "a b", "w*c", "./-d", `\*`},
			nil,
		},
		{
			[]string{"-rs", "--timeout=5", "--skip-compress=a b"},
			[]string{"--server", "--sender", "-sre.iLsfxCIvu"},
			[]string{"rsync", "--timeout=5", "--skip-compress=a b", ".", "a b", "w*c", "./-d", `\*`},
		},
	}
	for _, tt := range tests {
		o, err := Parse(append(tt.args, "h:x", "y"), nil)
		if err != nil {
			t.Fatal(err)
		}
		cmd, sec := o.RemoteCommand(false, ".iLsfxCIvu", paths)
		if !slices.Equal(cmd, tt.cmd) || !slices.Equal(sec, tt.secluded) {
			t.Errorf("%q:\n got %q\n     %q\nwant %q\n     %q", tt.args, cmd, sec, tt.cmd, tt.secluded)
		}
	}
}

func TestReadSecludedArgs(t *testing.T) {
	in := "rsync\x00--timeout=5\x00.\x00a b\x00w*c\x00\x00VERSION"
	r := bufio.NewReader(strings.NewReader(in))
	glob := func(s string) []string { return []string{"<" + s + ">"} }
	got, err := ReadSecludedArgs(r, glob)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"--timeout=5", ".", "<a b>", "<w*c>"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if rest, _ := r.ReadString(0); rest != "VERSION" {
		t.Errorf("read past the arguments: %q left", rest)
	}
	if _, err := ReadSecludedArgs(bufio.NewReader(strings.NewReader("rsync\x00.\x00unterminated")), nil); err == nil {
		t.Error("a stream ending inside the arguments was accepted")
	}
	if _, err := ReadSecludedArgs(bufio.NewReader(strings.NewReader(strings.Repeat("x", 5000)+"\x00")), nil); err == nil {
		t.Error("an argument longer than rsync's buffer was accepted")
	}
}
