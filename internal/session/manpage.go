package session

import (
	"fmt"
	"sort"
	"strings"

	"github.com/gorsync/gorsync/internal/exitcode"
	"github.com/gorsync/gorsync/internal/options"
)

// ManPage renders gorsync(1) in troff from the same text --help prints, so
// the two cannot drift: the usage lines become the synopsis, each option
// line an entry of OPTIONS, and rsync's exit codes the EXIT VALUES.
// doc/gorsync.1 is this output (TestManPage keeps it current).
func ManPage() string {
	var b strings.Builder
	fmt.Fprintf(&b, ".TH GORSYNC 1 \"\" \"gorsync %s\" \"User Commands\"\n", Version)
	b.WriteString(".SH NAME\ngorsync \\- rsync, re-implemented in Go\n.SH SYNOPSIS\n.nf\n")
	usage, opts, _ := strings.Cut(options.Usage(), "\nOptions\n")
	for _, l := range strings.Split(strings.TrimSpace(usage), "\n") {
		if strings.HasPrefix(l, "Usage:") || strings.HasPrefix(l, "  or") {
			b.WriteString(troff(strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(l, "Usage:"), "  or"))) + "\n")
		}
	}
	b.WriteString(".fi\n.SH DESCRIPTION\n")
	b.WriteString("gorsync is a drop-in replacement for rsync(1): it takes rsync's options, " +
		"speaks rsync's wire protocol (versions 27 to 32) with any rsync 3.x peer, over a remote " +
		"shell or locally, prints rsync's output and exits with rsync's codes. " +
		"An option rsync has that gorsync does not implement yet is refused with an error " +
		"(exit code 1), never ignored.\n")
	b.WriteString(".SH OPTIONS\n")
	for _, l := range strings.Split(strings.TrimSpace(opts), "\n") {
		if strings.HasPrefix(l, " ") { // the previous option's description goes on
			fmt.Fprintf(&b, "%s\n", troff(strings.TrimSpace(l)))
			continue
		}
		names, desc := l, ""
		if len(l) > 25 {
			names, desc = strings.TrimSpace(l[:25]), strings.TrimSpace(l[25:])
		}
		if i := strings.Index(names, "  "); i > 0 { // a spelling longer than the column
			names, desc = names[:i], strings.TrimSpace(names[i:]+" "+desc)
		}
		fmt.Fprintf(&b, ".TP\n.B %s\n%s\n", troff(names), troff(desc))
	}
	b.WriteString(".SH ENVIRONMENT\n")
	for _, e := range [][2]string{
		{"RSYNC_RSH", "the remote shell when -e is not given (default ssh)"},
		{"RSYNC_CHECKSUM_LIST", "the checksum names this side offers, in order"},
		{"RSYNC_COMPRESS_LIST", "the compression names this side offers, in order"},
		{"CVSIGNORE", "more names for -C to exclude"},
		{"HOME", "where -C finds .cvsignore"},
		{"GORSYNC_FASTIO", "fast paths forced on or off: a comma-separated list of path=on|off (all names every path)"},
	} {
		fmt.Fprintf(&b, ".TP\n.B %s\n%s\n", e[0], troff(e[1]))
	}
	b.WriteString(".SH EXIT VALUES\n")
	var codes []int
	for c := range 100 {
		if t := exitcode.Text(c); t != "unexplained error" {
			codes = append(codes, c)
		}
	}
	sort.Ints(codes)
	b.WriteString(".TP\n.B 0\nsuccess\n")
	for _, c := range codes {
		fmt.Fprintf(&b, ".TP\n.B %d\n%s\n", c, troff(exitcode.Text(c)))
	}
	b.WriteString(".SH SEE ALSO\nrsync(1)\n")
	return b.String()
}

// troff escapes text for a man page: backslashes, dashes (so that options
// copy as ASCII), and a leading dot or quote.
func troff(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	s = strings.ReplaceAll(s, "-", `\-`)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}
