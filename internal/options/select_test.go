package options

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gorsync/gorsync/internal/rsynctest"
)

// sizeArgs are --max-size/--min-size values covering rsync's size grammar:
// units, KB against KiB, fractions, the +1/-1 nudge, limits and mistakes.
var sizeArgs = []string{
	"0", "1", "", "100", "1b", "1B", "1k", "1K", "1kb", "1KB", "1kib", "1KiB",
	"1m", "1M", "1MB", "1MiB", "1g", "1G", "1GB", "1t", "1p", "1.5k", "1.5KB",
	".5k", "1.", ".", "2.25M", "1k+1", "1k-1", "1KB+1", "1KiB-1", "1+1", "1-1",
	"0-1", "1+2", "1k+", "+1", "-1", "abc", "1x", "1e3", "1KBx", "1 ", " 1",
	"1,5k", "1ki", "1kB", "1Kib", "8191P", "8192P", "9000P", "8E",
	"99999999999999999999", "9223372036854775807", "9223372036854775806",
	"1024G", "4kb+1", "0x10", "1..5", "1.5.k",
}

// TestParseSizeMatchesUpstream runs upstream rsync with each size value (a
// fake remote shell records the argv rsync would start the server with, where
// it passes the parsed size in bytes) and checks that ParseSize accepts the
// same values, yields the same number and rejects the rest with rsync's
// message.
func TestParseSizeMatchesUpstream(t *testing.T) {
	rsync := rsynctest.RequireRsync(t)
	dir := t.TempDir()
	rsh := filepath.Join(dir, "rsh")
	script := "#!/bin/sh\nshift\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > \"$RECORD\"\nexit 1\n"
	if err := os.WriteFile(rsh, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "src"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, opt := range []string{"max-size", "min-size"} {
		for i, v := range sizeArgs {
			record := filepath.Join(dir, "argv")
			os.Remove(record)
			cmd := exec.Command(rsync, "--"+opt+"="+v, "-e", rsh, "src/", "localhost:/dst")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "RECORD="+record)
			out, _ := cmd.CombinedOutput()
			got, err := ParseSize(v, 'b', opt)
			argv, rerr := os.ReadFile(record)
			if rerr != nil {
				// Upstream refused the value before starting the server.
				want := strings.SplitN(string(out), "\n", 2)[0]
				if err == nil {
					t.Errorf("%d: --%s=%q: got %d, upstream: %s", i, opt, v, got, want)
				} else if err.Error() != want {
					t.Errorf("%d: --%s=%q: got error %q, upstream %q", i, opt, v, err, want)
				}
				continue
			}
			wantArg := ""
			for _, a := range strings.Split(string(argv), "\n") {
				if strings.HasPrefix(a, "--"+opt+"=") {
					wantArg = a
				}
			}
			if err != nil {
				t.Errorf("%d: --%s=%q: %v; upstream passes %s", i, opt, v, err, wantArg)
				continue
			}
			o, perr := Parse([]string{"--" + opt + "=" + v, "src/", "localhost:/dst"}, nil)
			if perr != nil {
				t.Errorf("%d: Parse: %v", i, perr)
				continue
			}
			args := o.ServerArgs(true, "")
			if !slices.Contains(args, wantArg) {
				t.Errorf("%d: --%s=%q: server args %q, upstream passes %s (ParseSize %d)", i, opt, v, args, wantArg, got)
			}
		}
	}
}
