package filter

import (
	"errors"
	"fmt"
	"syscall"
)

// SyntaxError is a malformed filter rule. Msg is rsync's message, word for
// word (for example "Unknown filter rule: x foo"); rsync exits with code 1
// (RERR_SYNTAX).
type SyntaxError struct {
	Msg string
}

func (e *SyntaxError) Error() string { return e.Msg }

// ExitCode is rsync's RERR_SYNTAX.
func (e *SyntaxError) ExitCode() int { return 1 }

// Error is any other fatal filter error, with rsync's message and exit code:
// an unreadable --exclude-from or merge file (11, RERR_FILEIO), or rules a
// peer's protocol cannot express (2, RERR_PROTOCOL).
type Error struct {
	Msg  string
	Code int
	Err  error // the underlying error, if any
}

func (e *Error) Error() string { return e.Msg }

// ExitCode is the rsync exit code for the error.
func (e *Error) ExitCode() int { return e.Code }

func (e *Error) Unwrap() error { return e.Err }

// syserr formats err the way rsync's rsyserr does: "msg: strerror (errno)".
func syserr(msg string, err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		s := errno.Error()
		if s != "" && s[0] >= 'a' && s[0] <= 'z' {
			s = string(s[0]-'a'+'A') + s[1:]
		}
		return fmt.Sprintf("%s: %s (%d)", msg, s, int(errno))
	}
	return fmt.Sprintf("%s: %v", msg, err)
}
