package interop

import (
	"regexp"
	"strings"
	"testing"

	"github.com/gorsync/gorsync/internal/rsynctest"
)

// This file checks the message options against upstream rsync: the --info
// flags and their levels, the levels -v and --stats imply, -q, --debug
// flags (accepted; gorsync prints no debugging output, so the cases pick
// flags upstream has nothing to say for), --stderr, --msgs2stderr and
// --outbuf. Each case runs through runOptCases, so stdout's file lines and
// messages, the --stats counts, the exit code and the trees are compared
// in every mode.

// infoNames picks the stderr lines that are file names or file-list lines
// (no spaces), for the cases that move messages to stderr.
var infoNames = regexp.MustCompile(`^[^ ]+$|incremental file list$`)

// infoSanityStdoutEmpty checks that upstream printed nothing on stdout.
func infoSanityStdoutEmpty(t *testing.T, up optResult, _ string) {
	if up.stdout != "" {
		t.Errorf("upstream stdout not empty: %q", up.stdout)
	}
}

func infoCases() []optCase {
	archive := rsynctest.Archive(false)
	noDirTimes := archive
	noDirTimes.DirTimes = false // removing files changes the source's
	edited := func(args ...string) optCase {
		return optCase{setup: optSrcDst, args: args, srcs: []string{"src/"}, dst: "dst/", cmp: archive}
	}
	named := func(name string, c optCase) optCase {
		c.name = name
		return c
	}
	withDelete := func(name string, args ...string) optCase {
		return optCase{name: name, setup: delSetup(nil), args: args, srcs: []string{"src/"}, dst: "dst/", cmp: archive}
	}
	return []optCase{
		named("info/name-without-v", edited("-a", "--info=name")),
		named("info/name2-without-v", edited("-a", "--info=name2")),
		withDelete("info/name-shows-deletions", "-a", "--delete", "--info=name"),
		named("info/name-with-v-name0", edited("-v", "--info=name0", "-a", "--info=name")),
		named("info/name0-with-v", edited("-av", "--info=name0")),
		named("info/name2-unchanged-names", edited("-av", "--info=name2")),
		named("info/flist0-with-v", edited("-av", "--info=flist0")),
		named("info/stats1-over-stats", edited("-a", "--info=stats1")),
		named("info/stats0-over-stats", edited("-av", "--info=stats0")),
		named("info/none-after-v", edited("-v", "--info=none", "-a")),
		named("info/all-but-progress", edited("-av", "--info=all,progress0")),
		named("info/skip-max-size", edited("-a", "--info=skip", "--max-size=2k")),
		named("info/skip2-ignore-existing", edited("-a", "--info=skip2", "--ignore-existing")),
		named("info/skip0-after-skip", edited("-av", "--info=skip", "--info=skip0", "--max-size=2k")),
		withDelete("info/del-without-v", "-a", "--delete", "--info=del"),
		withDelete("info/del0-with-v", "-av", "--delete", "--info=del0"),
		{
			name: "info/remove", setup: optSrc(""),
			args: []string{"-a", "--remove-source-files", "--info=remove"},
			srcs: []string{"src/"}, dst: "dst/", cmp: noDirTimes,
			sanity: optMustContain("sender removed "),
		},
		{
			name: "info/nonreg0", setup: optSrc("special"),
			args: []string{"-rlt", "--info=nonreg0"},
			srcs: []string{"src/"}, dst: "dst/", cmp: rsynctest.CompareOptions{Times: true},
		},
		{
			name: "info/nonreg-default", setup: optSrc("special"),
			args: []string{"-rlt"},
			srcs: []string{"src/"}, dst: "dst/", cmp: rsynctest.CompareOptions{Times: true},
			sanity: optMustContain("skipping non-regular file"),
		},
		named("quiet/q-silences-v", edited("-avq", "--delete")),
		{name: "quiet/q-silences-listing", setup: optSrc(""), args: []string{"-rq"}, srcs: []string{"src/"}},
		named("quiet/q-with-info", edited("-avq", "--info=name2,del")),
		named("debug/quiet-flags", edited("-av", "--debug=bind,fuzzy2,backup2,acl,chdir0")),
		named("debug/none", edited("-av", "--debug=none")),
		{
			name: "stderr/all", setup: optSrcDst,
			args: []string{"-av", "--stderr=all"},
			srcs: []string{"src/"}, dst: "dst/", cmp: archive,
			stderrKeys: infoNames, sanity: infoSanityStdoutEmpty,
		},
		{
			name: "stderr/msgs2stderr", setup: optSrcDst,
			args: []string{"-av", "--msgs2stderr"},
			srcs: []string{"src/"}, dst: "dst/", cmp: archive,
			stderrKeys: infoNames, sanity: infoSanityStdoutEmpty,
		},
		named("stderr/client", edited("-av", "--stderr=client")),
		named("stderr/errors", edited("-av", "--stderr=e", "--no-msgs2stderr", "--stderr=errors")),
		named("outbuf/block", edited("-av", "--outbuf=B")),
		named("outbuf/none", edited("-av", "--outbuf=n")),
		named("outbuf/line", edited("-av", "--outbuf=Line")),
	}
}

// TestInfo runs infoCases with upstream rsync and with gorsync in every
// mode, and compares the outcomes.
func TestInfo(t *testing.T) {
	runOptCases(t, infoCases())
}

// TestInfoErrors compares what gorsync and upstream print and exit with for
// bad --info, --debug, --stderr and --outbuf values, and what --info=help
// and --debug=help print.
func TestInfoErrors(t *testing.T) {
	gorsync := rsynctest.BuildGorsync(t)
	rsync := rsynctest.RequireRsync(t)
	dir := t.TempDir()
	for _, args := range [][]string{
		{"--info=help"}, {"--debug=help"}, {"--info=name", "--debug=HELP", "-a"},
		{"--info=bogus", "a", "b"}, {"--debug=name,2", "a", "b"}, {"--stderr=x", "a", "b"},
		{"--outbuf=q", "a", "b"}, {"--stderr", "a", "b"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			wout, werr, wcode := rsynctest.Run(t, dir, nil, rsync, args...)
			gout, gerr, gcode := rsynctest.Run(t, dir, nil, gorsync, args...)
			if gcode != wcode {
				t.Errorf("exit code %d, upstream %d", gcode, wcode)
			}
			if gout != wout {
				t.Errorf("stdout differs\ngot:\n%s\nupstream:\n%s", gout, wout)
			}
			if g, w := normaliseExitLine(gerr), normaliseExitLine(werr); g != w {
				t.Errorf("stderr differs\ngot:\n%s\nupstream:\n%s", g, w)
			}
		})
	}
}

// exitLineTail is the part of rsync's exit line that names the source line,
// the role and the version, which differ by implementation.
var exitLineTail = regexp.MustCompile(`(\(code \d+\)) at \S+\(\d+\) \[\w+( \w+)?=[^\]]+\]`)

// normaliseExitLine replaces the tail of every "rsync error" line.
func normaliseExitLine(s string) string {
	return exitLineTail.ReplaceAllString(s, "$1 at FILE(LINE) [ROLE=VERSION]")
}
