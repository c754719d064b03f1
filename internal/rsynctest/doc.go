// Package rsynctest is the interop test harness: it finds upstream rsync and
// sshd, builds the gorsync binary, builds and edits deterministic file trees,
// compares trees down to the nanosecond, runs commands with a timeout and
// parses rsync's --stats output. It is meant to be imported only from tests,
// and only on Linux.
package rsynctest
