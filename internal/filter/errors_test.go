package filter

import (
	"errors"
	"strings"
	"testing"

	"github.com/gorsync/gorsync/internal/rsynctest"
)

// TestSyntaxErrorsMatchUpstream checks that a malformed --filter gives
// upstream rsync's message and exit code.
func TestSyntaxErrorsMatchUpstream(t *testing.T) {
	rsync := rsynctest.RequireRsync(t)
	tmp := t.TempDir()
	for _, rule := range []string{
		"x foo", "+", "-", "!x", "-z foo", "+,e foo", "P,s foo", ":! foo",
		"clearx", "include", "include,", "- ", "-p,s foo", "H,C foo", ":-+ f",
		"show,r foo", "- foo\x00", ":C- x",
	} {
		if strings.ContainsRune(rule, 0) {
			continue // not expressible as an argument
		}
		_, stderr, code := rsynctest.Run(t, tmp, nil, rsync, "-n", "-r", "--filter="+rule, tmp+"/", tmp+"/d/")
		wantMsg := strings.SplitN(stderr, "\n", 2)[0]
		err := New(Options{}).AddFilter(rule)
		if code == 0 {
			if err != nil {
				t.Errorf("%q: upstream accepts it, we say %v", rule, err)
			}
			continue
		}
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("%q: got %v, want SyntaxError %q (exit %d)", rule, err, wantMsg, code)
			continue
		}
		if se.Error() != wantMsg || se.ExitCode() != code {
			t.Errorf("%q: got %q exit %d, want %q exit %d", rule, se.Error(), se.ExitCode(), wantMsg, code)
		}
	}
}

// TestFileErrorsMatchUpstream checks a missing --exclude-from file and a
// bad rule inside a merge file against upstream's message and exit code.
func TestFileErrorsMatchUpstream(t *testing.T) {
	rsync := rsynctest.RequireRsync(t)
	tmp := t.TempDir()
	bad := tmp + "/bad"
	if err := writeFile(bad, "- ok\nfoo bar\n"); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		arg string
		add func(l *List) error
	}{
		{"--exclude-from=" + tmp + "/missing", func(l *List) error { return l.AddExcludeFrom(tmp + "/missing") }},
		{"--filter=merge " + tmp + "/missing", func(l *List) error { return l.AddFilter("merge " + tmp + "/missing") }},
		{"--filter=merge " + bad, func(l *List) error { return l.AddFilter("merge " + bad) }},
	}
	for _, c := range cases {
		_, stderr, code := rsynctest.Run(t, tmp, nil, rsync, "-n", "-r", c.arg, tmp+"/", tmp+"/d/")
		wantMsg := strings.SplitN(stderr, "\n", 2)[0]
		err := c.add(New(Options{}))
		ec, ok := err.(interface{ ExitCode() int })
		if !ok || err.Error() != wantMsg || ec.ExitCode() != code {
			t.Errorf("%s: got %v, want %q exit %d", c.arg, err, wantMsg, code)
		}
	}
}
