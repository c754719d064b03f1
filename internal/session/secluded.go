package session

import (
	"bufio"
	"os"
	"strings"

	"github.com/gorsync/gorsync/internal/exitcode"
	"github.com/gorsync/gorsync/internal/filter"
	"github.com/gorsync/gorsync/internal/flist"
	"github.com/gorsync/gorsync/internal/options"
)

// readSecluded completes a -s server's command line: the client sends the
// rest of its arguments on standard input before the protocol starts, and
// the server parses its own and those together, as rsync's second
// parse_arguments keeps what the first set. It returns the options and
// the reader the connection continues on. rsync: main.c start_server
func readSecluded(args []string, env Env) (*options.Options, *bufio.Reader, error) {
	in := bufio.NewReader(env.Stdin)
	more, err := options.ReadSecludedArgs(in, globArg)
	if err != nil {
		if _, ok := err.(*options.UsageError); ok {
			return nil, nil, err
		}
		return nil, nil, exitcode.Errorf(exitcode.StreamIO, "failed to read the secluded arguments: %v", err)
	}
	opts, err := options.Parse(append(args[:len(args):len(args)], more...), env.Getenv)
	if err != nil {
		return nil, nil, err
	}
	return opts, in, nil
}

// globArg expands the wildcards of one file argument against the server's
// tree, a component at a time as rsync's own glob does (a wildcard never
// matches "." or ".."; an argument that matches nothing stands for
// itself), since no remote shell expanded it.
// rsync: util1.c glob_expand, glob_match
func globArg(arg string) []string {
	s, _ := flist.CleanName(arg, flist.CleanKeepDotDirs|flist.CleanKeepTrailing|flist.CleanCollapseDotDots)
	var out []string
	globMatch(s, "", false, &out)
	if len(out) == 0 {
		return []string{s}
	}
	return out
}

// globMatch matches arg's next component beneath base (which ends in '/'
// unless empty) and appends each complete match to out.
func globMatch(arg, base string, fromGlob bool, out *[]string) {
	for strings.HasPrefix(arg, "./") {
		base += "./"
		arg = arg[2:]
	}
	name, rest, more := strings.Cut(arg, "/")
	if !strings.ContainsAny(name, "*?[") {
		globStep(base+name, rest, more, fromGlob || (more && name != ""), out)
		return
	}
	dir := base
	if dir == "" {
		dir = "."
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		if filter.Wildmatch(name, e.Name()) {
			globStep(base+e.Name(), rest, more, true, out)
		}
	}
}

// globStep takes one matched component: a directory when more follows,
// an existing entry when a wildcard found it.
// rsync: util1.c call_glob_match
func globStep(p, rest string, more, check bool, out *[]string) {
	if check {
		st, err := os.Stat(p)
		if err != nil || (more && !st.IsDir()) {
			return
		}
	}
	if more {
		globMatch(rest, p+"/", false, out)
		return
	}
	*out = append(*out, p)
}
