// Package exitcode holds rsync's exit codes, the error types that carry one,
// and Of, the one place that maps any error of a transfer to its code.
// It imports nothing of gorsync's, so every package may return its errors.
package exitcode

import (
	"context"
	"errors"
	"fmt"
)

// Exit codes. rsync: errcode.h RERR_*.
const (
	OK          = 0
	Syntax      = 1  // syntax or usage error
	Protocol    = 2  // protocol incompatibility
	FileSelect  = 3  // errors selecting input/output files, dirs
	Unsupported = 4  // requested action not supported
	StartClient = 5  // error starting client-server protocol
	SocketIO    = 10 // error in socket IO
	FileIO      = 11 // error in file IO
	StreamIO    = 12 // error in rsync protocol data stream
	MessageIO   = 13 // errors with program diagnostics
	IPC         = 14 // error in IPC code
	Crashed     = 15 // sibling crashed
	Terminated  = 16 // sibling terminated abnormally
	Signal1     = 19 // status returned when sent SIGUSR1
	Signal      = 20 // status returned when sent SIGINT, SIGTERM, SIGHUP
	WaitChild   = 21 // some error returned by waitpid()
	Malloc      = 22 // error allocating core memory buffers
	Partial     = 23 // partial transfer
	Vanished    = 24 // file(s) vanished on sender side
	DelLimit    = 25 // skipped some deletes due to --max-delete
	Timeout     = 30 // timeout in data send/receive
	ConTimeout  = 35 // timeout waiting for daemon connection

	// The remote shell's own failures, as rsync maps its exit status.
	CmdFailed   = 124 // the remote shell exited with 255
	CmdKilled   = 125 // the remote shell was killed by a signal
	CmdRun      = 126 // the remote command could not be run
	CmdNotFound = 127 // the remote command was not found
)

// text is rsync's description of each code. rsync: log.c rerr_names
var text = map[int]string{
	Syntax:      "syntax or usage error",
	Protocol:    "protocol incompatibility",
	FileSelect:  "errors selecting input/output files, dirs",
	Unsupported: "requested action not supported",
	StartClient: "error starting client-server protocol",
	SocketIO:    "error in socket IO",
	FileIO:      "error in file IO",
	StreamIO:    "error in rsync protocol data stream",
	MessageIO:   "errors with program diagnostics",
	IPC:         "error in IPC code",
	Crashed:     "sibling process crashed",
	Terminated:  "sibling process terminated abnormally",
	Signal1:     "received SIGUSR1",
	Signal:      "received SIGINT, SIGTERM, or SIGHUP",
	WaitChild:   "waitpid() failed",
	Malloc:      "error allocating core memory buffers",
	Partial:     "some files/attrs were not transferred (see previous errors)",
	Vanished:    "some files vanished before they could be transferred",
	DelLimit:    "the --max-delete limit stopped deletions",
	Timeout:     "timeout in data send/receive",
	ConTimeout:  "timeout waiting for daemon connection",
	CmdFailed:   "remote shell failed",
	CmdKilled:   "remote shell killed",
	CmdRun:      "remote command could not be run",
	CmdNotFound: "remote command not found",
}

// Text is rsync's description of code, "unexplained error" for a code it
// has no name for.
func Text(code int) string {
	if t, ok := text[code]; ok {
		return t
	}
	return "unexplained error"
}

// Error carries an rsync exit code and the message rsync prints for it.
type Error struct {
	Code int
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

// ExitCode is e's code.
func (e *Error) ExitCode() int { return e.Code }

// Errorf returns an *Error with code and a formatted message.
func Errorf(code int, format string, args ...any) *Error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// PeerExit is the peer's MSG_ERROR_EXIT: it has reported its error and this
// side exits with its code without another message.
type PeerExit struct{ Code int }

func (e *PeerExit) Error() string { return fmt.Sprintf("peer exited with code %d", e.Code) }

// ExitCode is the peer's code.
func (e *PeerExit) ExitCode() int { return e.Code }

// The verdicts of a finished run: some files failed, some vanished, the
// --max-delete limit was reached. rsync still prints its summary for these.
var (
	ErrPartial  = &Error{Code: Partial, Msg: Text(Partial)}
	ErrVanished = &Error{Code: Vanished, Msg: Text(Vanished)}
	ErrDelLimit = &Error{Code: DelLimit, Msg: Text(DelLimit)}
)

// EndOfRun reports whether err is a finished run's verdict (ErrPartial,
// ErrVanished, or a --max-delete stop) rather than an aborted run.
func EndOfRun(err error) bool {
	var e *Error
	return errors.As(err, &e) && (e == ErrPartial || e == ErrVanished || e.Code == DelLimit)
}

// A sentinel is an error value that carries its code, for errors.Is.
type sentinel struct {
	code int
	msg  string
}

func (s *sentinel) Error() string { return s.msg }
func (s *sentinel) ExitCode() int { return s.code }

// Sentinel returns a distinct error value with msg whose exit code is code;
// wrapped with %w it still decides the code of what wraps it.
func Sentinel(code int, msg string) error { return &sentinel{code: code, msg: msg} }

// I/O error bits carried in the file list and MSG_IO_ERROR. rsync: rsync.h IOERR_*
const (
	IOErrGeneral  = 1 << 0
	IOErrVanished = 1 << 1
	IOErrDelLimit = 1 << 2
)

// FromIOError turns accumulated I/O error bits into rsync's verdict, nil
// when none is set. rsync: cleanup.c exit_cleanup
func FromIOError(bits int32) error {
	switch {
	case bits&IOErrDelLimit != 0:
		return ErrDelLimit
	case bits&IOErrGeneral != 0:
		return ErrPartial
	case bits&IOErrVanished != 0:
		return ErrVanished
	}
	return nil
}

// Of maps err to rsync's exit code: 0 for nil, the peer's code after its
// MSG_ERROR_EXIT, 20 for a cancelled run (rsync's code for a signal), the
// code of the first error in err's tree that carries one (an ExitCode
// method: this package's errors, usage errors, a child's exit status), and
// 12 for any other failure, which can only be a broken stream.
func Of(err error) int {
	var pe *PeerExit
	var coded interface{ ExitCode() int }
	switch {
	case err == nil:
		return OK
	case errors.As(err, &pe):
		return pe.Code
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return Signal
	case errors.As(err, &coded):
		return coded.ExitCode()
	}
	return StreamIO
}
