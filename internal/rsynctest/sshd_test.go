package rsynctest

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestStartSSHD(t *testing.T) {
	rsync := RequireRsync(t)
	s := StartSSHD(t)
	if s.Host() != "127.0.0.1" || s.Port() == 0 {
		t.Fatalf("server at %s:%d", s.Host(), s.Port())
	}

	args := append(s.SSHArgs(), s.Host(), "echo", "remote-ok")
	out, _ := MustRun(t, "", nil, args[0], args[1:]...)
	if strings.TrimSpace(out) != "remote-ok" {
		t.Fatalf("ssh echo printed %q", out)
	}

	base := t.TempDir()
	src, dst := filepath.Join(base, "src"), filepath.Join(base, "dst")
	MakeStandardTree(t, src, 21, TreeOptions{BigFileSize: 100 << 10})
	MustRun(t, "", nil, rsync, "-a", "-e", s.RshCommand(), src+"/", s.Host()+":"+dst+"/")
	CompareTrees(t, src, dst, Archive(false))
}

func TestRshQuote(t *testing.T) {
	cases := map[string]string{
		"/usr/bin/ssh":             "/usr/bin/ssh",
		"/tmp/a b/key":             `"/tmp/a b/key"`,
		`/tmp/q"uote`:              `"/tmp/q\"uote"`,
		"StrictHostKeyChecking=no": "StrictHostKeyChecking=no",
	}
	for in, want := range cases {
		if got := rshQuote(in); got != want {
			t.Errorf("rshQuote(%q) = %q, want %q", in, got, want)
		}
	}
}
