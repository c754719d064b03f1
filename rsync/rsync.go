// Package rsync is gorsync's Go API: rsync, re-implemented in Go, speaking
// upstream rsync's wire protocol (27 to 32) with any rsync 3.x peer.
//
// A Client copies trees locally, pushes and pulls over a remote shell, or
// runs over a connection the caller made (to an "rsync --server" it started
// itself); a Server serves one connection from a client. Both take a
// context.Context: cancelling it stops the transfer promptly, removes what
// was being written, and yields an error whose ExitCode is 20, as rsync's
// on a signal. Main runs a whole command line, as the gorsync binary does.
package rsync

import (
	"context"
	"errors"
	"io"

	"github.com/gorsync/gorsync/internal/exitcode"
	"github.com/gorsync/gorsync/internal/session"
)

// Version is gorsync's version.
const Version = session.Version

// Env is the process environment a command line sees: its standard
// streams and its environment variables. A nil field means the process's
// own.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
}

// Main runs one gorsync command line (without the program name) as the
// gorsync binary does — printing what rsync prints — and returns rsync's
// exit code for it.
func Main(args []string, env Env) int {
	return MainContext(context.Background(), args, env)
}

// MainContext is Main with a context: cancelling it stops the transfer with
// exit code 20.
func MainContext(ctx context.Context, args []string, env Env) int {
	return session.Main(ctx, args, session.Env(env))
}

// ErrSignal is the cause to cancel MainContext's context with when a
// signal ends the run (as the gorsync binary does on SIGINT, SIGTERM and
// SIGHUP): only rsync's "received SIGINT, SIGTERM, or SIGHUP (code 20)"
// line is printed.
var ErrSignal = session.ErrSignal

// ExitCode is rsync's exit code for an error a Client or Server returned:
// 0 for nil, 1 for a usage error, 23 when some files failed, 24 when some
// vanished, 20 when the context was cancelled, and so on (rsync's
// errcode.h).
func ExitCode(err error) int { return exitcode.Of(err) }

// Error is the error of a transfer that did not succeed: Code is rsync's
// exit code for it, Err what went wrong.
type Error struct {
	Code int
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// ExitCode is e's code.
func (e *Error) ExitCode() int { return e.Code }

// wrap gives a transfer's error its exit code.
func wrap(err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return &Error{Code: exitcode.Of(err), Err: err}
}
