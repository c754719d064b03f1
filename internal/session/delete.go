package session

import (
	"path/filepath"

	"github.com/gorsync/gorsync/internal/engine"
	"github.com/gorsync/gorsync/internal/filter"
	"github.com/gorsync/gorsync/internal/options"
)

// serverReceiverFilters reads the rules a client sends to a receiving
// server that deletes (or prunes), and adds -C's, as rsync's
// recv_filter_list does; they protect destination entries from deletion.
func serverReceiverFilters(c *engine.Conn, cfg *Config, eo *engine.Options) error {
	o := cfg.Opts
	var rules []string
	if o.ReceiverWantsFilters(c.Session.Protocol) {
		var err error
		if rules, err = filter.ReadRules(c.R); err != nil {
			return err
		}
	}
	l, err := filter.Receive(rules, c.Session.Protocol, false, o.CVSExclude,
		cfg.peerRules(c, "receiver", absDir(cfg.Dest)))
	if err != nil {
		return wireRuleError(err)
	}
	eo.Filter = l
	return nil
}

// localReceiverFilters gives a local copy's receiving side its copy l of
// the command line's rules, with -C's rules added for a receiver, as
// rsync's local server keeps the parsed list it inherits across its fork
// instead of reading the rules from the wire.
// rsync: exclude.c recv_filter_list (local_server)
func localReceiverFilters(cfg *Config, l *filter.List, protocol int, eo *engine.Options) error {
	o := cfg.Opts
	if !o.Delete && o.MissingArgs != options.DeleteMissingArgs && !o.PruneEmptyDirs {
		return nil
	}
	if _, err := l.SendList(protocol, false, o.CVSExclude); err != nil {
		return err
	}
	eo.Filter = l
	return nil
}

// absDir returns dir as an absolute, clean path, or "" if it cannot.
func absDir(dir string) string {
	a, err := filepath.Abs(dir)
	if err != nil {
		return ""
	}
	return a
}
