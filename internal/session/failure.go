package session

import (
	"errors"
	"io"
	"time"

	"github.com/gorsync/gorsync/internal/engine"
	"github.com/gorsync/gorsync/internal/exitcode"
	"github.com/gorsync/gorsync/internal/wire"
)

// serverFailed tells the client why the server stops, as rsync's
// exit_cleanup does: the message and the "rsync error" line go down the
// multiplexed stream, followed for most codes by MSG_ERROR_EXIT so the client
// exits with the same code. rsync: cleanup.c _exit_cleanup.
func serverFailed(c *engine.Conn, err error, sender bool) error {
	var pe *exitcode.PeerExit
	if errors.As(err, &pe) || c.Mux == nil {
		return err
	}
	role := "Receiver"
	if sender {
		role = "sender"
	}
	c.W.Flush()
	c.Log.Error(errorLines(err, role))
	code := exitcode.Of(err)
	if !endOfRun(err) && code != exitcode.SocketIO && code != exitcode.StreamIO && (c.Session.Protocol >= 31 || !sender) {
		c.SendMsgInt(wire.MsgErrorExit, int32(code))
		var ie *idleError
		if errors.As(err, &ie) {
			// The client may still be sending (the lists of incremental
			// recursion): read on until it has taken the message and
			// gone, so that it exits with our code, not a broken pipe.
			// rsync: cleanup.c _exit_cleanup (noop_io_until_death)
			c.W.Flush()
			drainUntilClosed(c)
		}
	}
	c.W.Flush()
	return errors.Join(err, errServerReported)
}

// idleError marks an error a receiving server met before its roles ran:
// nothing else reads the connection, which serverFailed may then drain.
type idleError struct{ error }

func (e *idleError) Unwrap() error { return e.error }

// drainUntilClosed reads and drops what the peer sends until it closes the
// connection, or for five seconds at most.
func drainUntilClosed(c *engine.Conn) {
	done := make(chan struct{})
	go func() {
		io.Copy(io.Discard, c.R)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
}

// clientFailed tells the server that the client is stopping with an error,
// so that the server exits quietly with the same code instead of reporting a
// broken connection, and waits (briefly) for it to hang up.
// rsync: cleanup.c _exit_cleanup, io.c noop_io_until_death.
func clientFailed(c *engine.Conn, err error) {
	if err == nil || endOfRun(err) || c.Mux == nil {
		return
	}
	var pe *exitcode.PeerExit
	code := exitcode.Of(err)
	if errors.As(err, &pe) || code == exitcode.SocketIO || code == exitcode.StreamIO {
		return
	}
	if c.SendMsgInt(wire.MsgErrorExit, int32(code)) != nil {
		return
	}
	drainUntilClosed(c)
}

// endOfRun reports whether err is a finished run's verdict (some files
// failed or vanished) rather than an aborted run; rsync still prints its
// summary for those.
func endOfRun(err error) bool { return exitcode.EndOfRun(err) }
