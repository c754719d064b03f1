package interop

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gorsync/gorsync/internal/rsynctest"
)

// exitCase is one failure run with upstream rsync and with gorsync as the
// client (and, for a remote side, with each as the server).
type exitCase struct {
	name string
	// args are the whole command line after the program name; "RSH" is
	// the stand-in for ssh and "SERVER" the server program.
	args []string
	// codes are the exit codes upstream may give (some failures race
	// between two of them); gorsync's must be among them.
	codes []int
	// lines picks the stderr lines compared, as a set, after normalising
	// the root, the source location and the role of the exit line.
	lines *regexp.Regexp
}

// exitErrorLines normalises the exit line's tail and keeps the lines that
// keys matches.
func exitErrorLines(out, root string, keys *regexp.Regexp) []string {
	var lines []string
	for _, l := range strings.Split(normaliseExitLine(strings.ReplaceAll(out, root, "ROOT")), "\n") {
		if keys.MatchString(l) {
			lines = append(lines, l)
		}
	}
	slices.Sort(lines)
	return slices.Compact(lines)
}

// TestExitCodes compares the exit codes and messages of the failures gorsync
// can meet with upstream's for the same situation: a missing source (23,
// local, pushed and pulled), a destination beneath a file (3), an unknown
// option (1), a remote shell that cannot be run (12, or 14 when rsync's
// first write fails first), a remote rsync that is not there (127, or 12 when
// rsync looks before it has exited), a remote shell that fails or a server
// that refuses an option (12), --protocol out of range (2) and
// --max-delete (25). A signal (20) is interop/signal_test.go's.
func TestExitCodes(t *testing.T) {
	gorsync := rsynctest.BuildGorsync(t)
	rsync := rsynctest.RequireRsync(t)
	base := t.TempDir()
	rsh := filepath.Join(base, "localrsh")
	if err := os.WriteFile(rsh, []byte("#!/bin/sh\nshift\nexec sh -c \"$*\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	all := regexp.MustCompile(`^rsync`)
	cases := []exitCase{
		{"missing-source/local", []string{"-a", "nosuch", "src/a", "dst/"}, []int{23}, all},
		{"missing-source/push", []string{"-a", "-e", "RSH", "--rsync-path=SERVER", "nosuch", "src/a", "localhost:dst/"}, []int{23}, all},
		// Pulling, upstream's client may also fail a write to the
		// server that has gone: only the error itself is compared.
		{"missing-source/pull", []string{"-a", "-e", "RSH", "--rsync-path=SERVER", "localhost:nosuch", "localhost:src/a", "dst/"}, []int{23},
			regexp.MustCompile(`link_stat|\(code 23\)`)},
		{"destination-beneath-file", []string{"-a", "src/", "afile/sub/"}, []int{3}, all},
		{"destination-beneath-file/push", []string{"-a", "-e", "RSH", "--rsync-path=SERVER", "src/", "localhost:afile/sub/"}, []int{3}, all},
		{"unknown-option", []string{"--frobnicate", "src/", "dst/"}, []int{1}, all},
		{"unknown-option-bundle", []string{"-avj", "src/", "dst/"}, []int{1}, all},
		{"missing-argument", []string{"src/", "dst/", "--rsync-path"}, []int{1}, all},
		{"remote-shell-not-found/push", []string{"-a", "-e", "/nonexistent/ssh", "src/", "host:dst/"}, []int{12, 14},
			regexp.MustCompile(`Failed to exec|\(code 14\)`)},
		{"remote-shell-not-found/pull", []string{"-a", "-e", "/nonexistent/ssh", "host:src/", "dst/"}, []int{12, 14},
			regexp.MustCompile(`Failed to exec|\(code 14\)`)},
		// rsync takes the remote command's status (127) when it has
		// exited by the time rsync looks (WNOHANG), else 12.
		{"remote-rsync-not-found", []string{"-a", "-e", "RSH", "--rsync-path=/nonexistent/rsync", "src/", "localhost:dst/"}, []int{127, 12},
			regexp.MustCompile(`not found`)},
		{"remote-option-refused", []string{"-a", "-e", "RSH", "--rsync-path=SERVER --frobnicate", "src/", "localhost:dst/"}, []int{12},
			regexp.MustCompile(`unknown option|\(code 1\)`)},
		{"remote-shell-fails", []string{"-a", "-e", "false", "src/", "host:dst/"}, []int{12},
			regexp.MustCompile(`\(code 12\)`)},
		{"protocol-too-new", []string{"--protocol=99", "-a", "src/", "dst/"}, []int{2}, regexp.MustCompile(`\(code 2\)`)},
		{"protocol-too-old", []string{"--protocol=10", "-a", "src/", "dst/"}, []int{2}, regexp.MustCompile(`\(code 2\)`)},
		{"max-delete", []string{"-a", "--delete", "--max-delete=1", "src/", "full/"}, []int{25}, all},
		{"max-delete/push", []string{"-a", "--delete", "--max-delete=1", "-e", "RSH", "--rsync-path=SERVER", "src/", "localhost:full/"}, []int{25}, all},
	}
	setup := func(t *testing.T) string {
		root := t.TempDir()
		for name, data := range map[string]string{"src/a": "a\n", "src/b": "b\n", "afile": "x\n", "full/x1": "1", "full/x2": "2", "full/x3": "3"} {
			p := filepath.Join(root, name)
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return root
	}
	servers := []string{rsync, gorsync}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := func(server string) []string {
				a := slices.Clone(c.args)
				for i := range a {
					a[i] = strings.ReplaceAll(strings.ReplaceAll(a[i], "RSH", rsh), "SERVER", server)
				}
				return a
			}
			uroot := setup(t)
			_, uerr, ucode := rsynctest.Run(t, uroot, nil, rsync, args(rsync)...)
			if !slices.Contains(c.codes, ucode) {
				t.Fatalf("upstream exit code %d, the case is built for %v\n%s", ucode, c.codes, uerr)
			}
			want := exitErrorLines(uerr, uroot, c.lines)
			for _, server := range servers {
				if server == gorsync && !slices.ContainsFunc(c.args, func(a string) bool { return strings.HasPrefix(a, "--rsync-path=SERVER") }) {
					continue
				}
				groot := setup(t)
				_, gerr, gcode := rsynctest.Run(t, groot, nil, gorsync, args(server)...)
				if !slices.Contains(c.codes, gcode) {
					t.Errorf("server %s: exit code %d, upstream %d", filepath.Base(server), gcode, ucode)
				}
				if got := exitErrorLines(gerr, groot, c.lines); !slices.Equal(got, want) {
					t.Errorf("server %s: messages differ\ngot:\n%s\nupstream:\n%s\n(gorsync stderr:\n%s)", filepath.Base(server),
						strings.Join(got, "\n"), strings.Join(want, "\n"), gerr)
				}
			}
		})
	}
}
