package session

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorsync/gorsync/internal/exitcode"
	"github.com/gorsync/gorsync/internal/protocol"
	"github.com/gorsync/gorsync/internal/wire"
)

// limitError ends a transfer that --timeout or --stop-at (--stop-after)
// stopped: rsync's RERR_TIMEOUT with its message.
type limitError struct{ msg string }

func (e *limitError) Error() string { return e.msg }
func (e *limitError) ExitCode() int { return exitcode.Timeout }

// watch is one transfer's clock for --timeout and --stop-at: it ends the
// transfer when the connection has been idle for the timeout or the stop
// time has come, and, while waiting, keeps a healthy connection alive for
// the peer's own --timeout with empty MSG_DATA frames.
// rsync: io.c check_timeout, maybe_send_keepalive, perform_io (stop_at_utime)
type watch struct {
	timeout   int64 // seconds; 0 for none
	lull      int64 // rsync's allowed_lull: half the timeout, rounded up
	stopAt    time.Time
	receiving bool // this side receives: it names itself the generator
	clock     protocol.IOClock

	// mux is the connection's multiplexed output once it is set up (nil
	// before, or when the peer is older than protocol 31, which rsync's
	// early receivers might not take a keepalive from).
	mux       atomic.Pointer[wire.MuxWriter]
	connected atomic.Bool
	sending   atomic.Bool // a keepalive is being written

	cancel context.CancelCauseFunc
	done   chan struct{}
	wg     sync.WaitGroup
	err    atomic.Pointer[limitError]
}

// startWatch starts the watch for cfg's limits, or returns nil when it has
// none; ctx is then cancelled (with the limitError as its cause) when a
// limit ends the transfer.
func startWatch(ctx context.Context, cfg *Config) (context.Context, *watch) {
	o := cfg.Opts
	if o.Timeout <= 0 && o.StopAt.IsZero() {
		return ctx, nil
	}
	w := &watch{
		timeout:   int64(max(o.Timeout, 0)),
		lull:      (int64(max(o.Timeout, 0)) + 1) / 2,
		stopAt:    o.StopAt,
		receiving: cfg.Role == Pull || cfg.Role == ServerReceiver,
		done:      make(chan struct{}),
	}
	w.clock.Start(time.Now())
	ctx, w.cancel = context.WithCancelCause(ctx)
	w.wg.Add(1)
	go w.run()
	return ctx, w
}

// run ticks once a second, as rsync's poll wakes at least that often for
// a short timeout.
func (w *watch) run() {
	defer w.wg.Done()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-w.done:
			return
		case now := <-t.C:
			if err := w.check(now); err != nil {
				w.err.Store(err)
				w.cancel(err)
				return
			}
		}
	}
}

// check is one tick: the stop time, the keepalive, the timeout.
func (w *watch) check(now time.Time) *limitError {
	if !w.stopAt.IsZero() && !now.Before(w.stopAt) {
		return &limitError{"stopping at requested limit\n"}
	}
	if w.timeout == 0 {
		return nil
	}
	t := now.Unix()
	in, out := w.clock.Last()
	if m := w.mux.Load(); m != nil && t-out >= w.lull && w.sending.CompareAndSwap(false, true) {
		go func() {
			defer w.sending.Store(false)
			m.Keepalive()
		}()
	}
	if idle := t - max(in, out); idle >= w.timeout {
		return &limitError{fmt.Sprintf("[%s] io timeout after %d seconds -- exiting\n", w.who(), idle)}
	}
	return nil
}

// who names this side as rsync's who_am_i does: a receiving side is the
// "Receiver" until its connection is set up, then its generator decides.
func (w *watch) who() string {
	switch {
	case !w.receiving:
		return "sender"
	case w.connected.Load():
		return "generator"
	}
	return "Receiver"
}

// connected records the set-up connection, whose output carries the
// keepalives from now on.
func (w *watch) setConn(pc *protocol.Conn) {
	if w == nil {
		return
	}
	w.connected.Store(true)
	if pc.Mux != nil && pc.Session.RemoteProtocol >= 31 {
		w.mux.Store(pc.Mux)
	}
}

// stop ends the watch and returns the limit that ended the transfer, if
// one did.
func (w *watch) stop() error {
	if w == nil {
		return nil
	}
	close(w.done)
	w.wg.Wait()
	if err := w.err.Load(); err != nil {
		return err
	}
	return nil
}

// runWatched runs role for a transfer over conn under w: when a limit
// fires, conn is closed (or its remote shell killed) under the role, which
// then has a second to return; a role stuck in a read that closing cannot
// interrupt (a server's blocking standard input) is left behind, as rsync
// exits from under its own.
func runWatched(ctx context.Context, w *watch, conn io.ReadWriter, role func() (*Stats, error)) (*Stats, error) {
	type result struct {
		st  *Stats
		err error
	}
	res := make(chan result, 1)
	go func() {
		st, err := role()
		res <- result{st, err}
	}()
	select {
	case r := <-res:
		return r.st, r.err
	case <-ctx.Done():
	}
	closeConn(conn)
	select {
	case r := <-res:
		return r.st, r.err
	case <-time.After(time.Second):
		return nil, context.Cause(ctx)
	}
}

// closeConn breaks a connection from under the roles using it.
func closeConn(conn io.ReadWriter) {
	switch c := conn.(type) {
	case interface{ Kill() }:
		c.Kill()
	case io.Closer:
		c.Close()
	case stdio:
		for _, s := range []any{c.Reader, c.Writer} {
			if cl, ok := s.(io.Closer); ok {
				cl.Close()
			}
		}
	}
}

// ioClock is the clock the connection stamps, or nil without a watch.
func (w *watch) ioClock() *protocol.IOClock {
	if w == nil {
		return nil
	}
	return &w.clock
}

// checkLimits refuses what rsync refuses of the limits once it knows the
// transfer's kind: --contimeout without a daemon. rsync: main.c
// start_client
func checkLimits(cfg *Config) error {
	if cfg.Opts.ConTimeout != 0 && !cfg.Role.server() {
		return &exitcode.Error{Code: exitcode.Syntax, Msg: "The --contimeout option may only be used when connecting to an rsync daemon."}
	}
	return nil
}
