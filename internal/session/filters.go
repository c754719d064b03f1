package session

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/gorsync/gorsync/internal/engine"
	"github.com/gorsync/gorsync/internal/exitcode"
	"github.com/gorsync/gorsync/internal/filter"
	"github.com/gorsync/gorsync/internal/flist"
	"github.com/gorsync/gorsync/internal/options"
	"github.com/gorsync/gorsync/internal/transport"
	"github.com/gorsync/gorsync/internal/wire"
)

// buildFilters turns the command line's filter options into a rule list,
// in their order. A malformed rule is a syntax error (exit 1), an unreadable
// --exclude-from file an I/O error, as rsync reports them.
// rsync: options.c parse_arguments, exclude.c parse_filter_str
func buildFilters(cfg *Config, protocol int, stdin io.Reader) (*filter.List, error) {
	l := filter.New(cfg.commandLineRules(protocol, stdin))
	for _, f := range cfg.Opts.Filters {
		var err error
		switch f.Kind {
		case 'f':
			err = l.AddFilter(f.Value)
		case 'e':
			err = l.AddExclude(f.Value)
		case 'i':
			err = l.AddInclude(f.Value)
		case 'E':
			err = l.AddExcludeFrom(f.Value)
		case 'I':
			err = l.AddIncludeFrom(f.Value)
		}
		if err != nil {
			return nil, err
		}
	}
	return l, nil
}

// walkFilter applies a rule list, with per-directory merge files, to the
// sender's walk: rsync's is_excluded for the SERVER_FILTERS/ALL_FILTERS
// checks of send_file_name.
type walkFilter struct {
	list  *filter.List
	root  string
	stack *filter.Stack
	sent  []string // the rules sent to the peer, in wire form
}

func (w *walkFilter) hooks(wo *flist.WalkOptions) {
	if w == nil || w.list == nil || w.list.Empty() {
		return
	}
	wo.Exclude = w.exclude
	wo.EnterDir = w.enter
	wo.LeaveDir = w.leave
}

func (w *walkFilter) exclude(name string, isDir bool) bool {
	var r filter.Result
	if w.stack != nil {
		r = w.stack.Check(name, isDir)
	} else {
		r = w.list.Check(name, isDir)
	}
	return r.Sender == filter.Excluded
}

// enter reads dir's merge files; a bad rule in one is fatal, as in rsync.
func (w *walkFilter) enter(root, dir string) error {
	if w.stack == nil || root != w.root {
		w.root = root
		w.stack = w.list.NewStack(filter.OSFS{Dir: root})
	}
	return w.stack.Push(dir)
}

func (w *walkFilter) leave() {
	if w.stack != nil {
		w.stack.Pop()
	}
}

// clientFilters builds the client's rules and, for a client that receives,
// sends them to the server's sender; a client that sends applies them
// itself (and would send them only to a deleting receiver). The -C rules
// are added as rsync's send_filter_list does.
func clientFilters(c *engine.Conn, cfg *Config, amSender bool) (*walkFilter, error) {
	return sendFilters(c, cfg.Opts, cfg.rules.Clone(), amSender, cfg.Role == Local)
}

// sendFilters completes the client's parsed rules l and sends them as
// clientFilters says.
func sendFilters(c *engine.Conn, o *options.Options, l *filter.List, amSender, local bool) (*walkFilter, error) {
	rules, err := l.SendList(c.Session.Protocol, amSender, o.CVSExclude)
	if err != nil {
		return nil, err
	}
	// A deleting receiver wants them too; a local one has its own.
	if !local && (!amSender || o.ReceiverWantsFilters(c.Session.Protocol)) {
		filter.WriteRules(c.W, rules)
		if err := c.W.Flush(); err != nil {
			return nil, err
		}
	}
	return &walkFilter{list: l, sent: rules}, nil
}

// rejectExcluded refuses a received file list that holds a name the rules
// we sent exclude: an honest sender never sends one, so it is refused as
// rsync does, unless per-directory merge files (which only the sender can
// read) make the sender's filtering the one to trust.
// rsync: flist.c recv_file_entry ("rejecting excluded file-list name")
func rejectExcluded(l *flist.List, sent []string, protocol int, cvs bool) error {
	if len(sent) == 0 && !cvs {
		return nil
	}
	view, err := filter.Receive(sent, protocol, true, cvs, filter.Options{Protocol: protocol})
	if err != nil || view.Empty() || view.HasDirMerge() {
		return nil
	}
	for _, e := range l.Entries {
		name := strings.TrimPrefix(e.Name(), "/")
		if name == "." || name == "" || !e.Active() {
			continue
		}
		if view.Check(name, e.IsDir()).Sender == filter.Excluded {
			return &exitcode.Error{Code: exitcode.Unsupported, Msg: "ERROR: rejecting excluded file-list name: " + name}
		}
	}
	return nil
}

// requestedNames returns, for a pulling client, a check that a name in the
// sender's list is one the client asked for: the base name of each remote
// source argument and, recursing, what lies beneath it. It returns nil —
// every name may come — where rsync's implied rules would admit everything
// (a trailing slash, ".", an empty path) and where gorsync does not build
// them yet (-R, --files-from, wildcards, escapes). rsync: exclude.c
// add_implied_include, flist.c recv_file_entry ("rejecting unrequested
// file-list name").
func requestedNames(o *options.Options) func(name string, isDir bool) bool {
	if o.Relative || o.FilesFrom != "" || len(o.Args) < 2 || o.ListOnly {
		return nil
	}
	var bases []string
	for _, a := range o.Args[:len(o.Args)-1] {
		p := transport.Parse(a).Path
		if p == "" || strings.HasSuffix(p, "/") || strings.ContainsAny(p, "*?[\\") {
			return nil
		}
		base := p[strings.LastIndexByte(p, '/')+1:]
		if base == "." || base == ".." || base == "~" {
			return nil
		}
		bases = append(bases, base)
	}
	recurse, dirs := o.Recursive, o.TransferDirs()
	return func(name string, isDir bool) bool {
		for _, b := range bases {
			switch {
			case name == b:
				return true
			case !strings.HasPrefix(name, b+"/"):
			case recurse:
				return true
			case dirs && !strings.Contains(name[len(b)+1:], "/"):
				return true
			}
		}
		return false
	}
}

// rejectUnrequested refuses a list naming something the client did not ask
// for (exit 4, as rsync 3.5.0 does).
func rejectUnrequested(l *flist.List, ok func(name string, isDir bool) bool) error {
	if ok == nil {
		return nil
	}
	for _, e := range l.Entries {
		name := e.Name()
		if name == "." || !e.Active() {
			continue
		}
		if !ok(name, e.IsDir()) {
			return &exitcode.Error{Code: exitcode.Unsupported, Msg: "ERROR: rejecting unrequested file-list name: " + name}
		}
	}
	return nil
}

// serverFilters reads the rules a client sends to a server's sender.
// rsync: exclude.c recv_filter_list
func serverFilters(c *engine.Conn, cfg *Config) (*walkFilter, error) {
	rules, err := filter.ReadRules(c.R)
	if err != nil {
		return nil, err
	}
	cwd, _ := os.Getwd()
	l, err := filter.Receive(rules, c.Session.Protocol, true, cfg.Opts.CVSExclude,
		cfg.peerRules(c, "sender", filepath.Clean(cwd)))
	if err != nil {
		return nil, wireRuleError(err)
	}
	return &walkFilter{list: l}, nil
}

// wireRuleError makes a malformed rule that came over the wire a protocol
// data stream error (exit 12), as the issue asks; upstream's server exits 1
// for it, with the same message.
func wireRuleError(err error) error {
	var se *filter.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("%s: %w", se.Msg, wire.ErrProtocol)
	}
	return err
}
