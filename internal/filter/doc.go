// Package filter implements rsync's filter rules: the rule grammar
// (--filter, --include, --exclude, their -from files, -F, -C), rsync's
// wildcard matching, first-match checking for the sending and the
// receiving side, per-directory merge files, and the rule list a client
// sends to its server.
//
// A List is built once from the options and is read-only afterwards; a
// Stack follows one tree walk, reading per-directory merge files as it
// enters directories. rsync: exclude.c, lib/wildmatch.c.
package filter
