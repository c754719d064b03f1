package session

import (
	"context"
	"errors"
	"time"

	"github.com/gorsync/gorsync/internal/engine"
	"github.com/gorsync/gorsync/internal/fastio"
	"github.com/gorsync/gorsync/internal/options"
	"github.com/gorsync/gorsync/internal/transport"
)

// errLocalSenderFailed ends a local copy's stream to its receiving side
// when the sending side has failed.
var errLocalSenderFailed = errors.New("local copy: the sending side failed")

// pipeSize is how many bytes each direction of a local copy buffers.
const pipeSize = 256 << 10

// localCopy runs both sides in this process, connected by in-memory pipes:
// this goroutine sends, a second one receives, exactly as over a remote shell
// but without a child process. Whole-file is the default, as in rsync.
// Cancelling ctx breaks both pipes (and the hand-off), which stops both
// roles where they are.
func localCopy(ctx context.Context, cfg *Config) (*Stats, error) {
	start := time.Now()
	toServer := transport.NewPipe(pipeSize)
	toClient := transport.NewPipe(pipeSize)

	// Whole files go from the sender to the receiver as open files, for
	// the receiver to copy with copy_file_range (engine/localcopy.go).
	var handoff *engine.Handoff
	var bw *batchWriter
	if cfg.Opts.WriteBatch != 0 {
		var err error
		if bw, err = openBatch(cfg); err != nil {
			return nil, err
		}
		defer bw.close()
	} else if cfg.IO.On(fastio.CopyRange) && !options.FormatHas(cfg.engine.Out.Format, 'C') && cfg.Opts.BwLimit == 0 {
		// A file handed over has no checksum for --out-format's %C to
		// show, and it bypasses the stream, which --bwlimit paces as
		// rsync's local copy paces its sender's writes.
		handoff = engine.NewHandoff()
		defer handoff.Close()
	}
	stop := onCancel(ctx, func() {
		// Each side's reads end with the cancellation, and its
		// writes fail.
		err := cancelled(ctx)
		toServer.CloseWrite(err)
		toClient.CloseWrite(err)
		if handoff != nil {
			handoff.Abort()
		}
	})
	serverDone := make(chan error, 1)
	go func() { serverDone <- localReceiver(ctx, cfg, toServer, toClient, handoff) }()

	var st *Stats
	c, err := connect(cfg, toClient, toServer, false, true, clientLogger(cfg))
	if err == nil {
		var wf *walkFilter
		var ff *filesFrom
		c.LogDeleted = cfg.logDeleted()
		if wf, err = sendFilters(c, cfg.Opts, cfg.rules.Clone(), true, true); err == nil {
			ff, err = senderFilesFrom(c, cfg)
		}
		eo := cfg.engineOptions()
		eo.Handoff = handoff
		if err == nil && bw != nil {
			batchEngine(cfg, eo, false)
			if err = bw.tap(c, eo); err == nil {
				err = bw.start(cfg, c)
			}
		}
		if err == nil {
			st, err = sendSide(c, eo, cfg.Sources, false, wf, ff)
		}
	}
	if err != nil && !endOfRun(err) {
		// The receiving side stops without a word: the sender's error
		// is the one reported, as rsync's parent, failing, stops its
		// child.
		toServer.CloseWrite(errLocalSenderFailed)
	} else {
		toServer.CloseWrite(nil)
	}
	if err != nil {
		toClient.CloseRead()
	}
	serr := <-serverDone
	if stop() {
		return st, cancelled(ctx)
	}
	if st != nil && handoff != nil {
		// What the receiver copied from handed files is the sender's
		// literal data, and was sent, as if it had crossed the stream.
		st.LiteralData += handoff.Copied()
		st.TotalWritten += handoff.Streamed()
	}
	if st != nil && (err == nil || endOfRun(err)) && (serr == nil || endOfRun(serr)) {
		summary(cfg, c, st, start)
	}
	if serr != nil && (err == nil || endOfRun(err)) {
		// The receiver's failure decides the exit code; it has already
		// said why.
		return st, serr
	}
	return st, err
}

// localReceiver is a local copy's receiving half: a server reading from
// in and answering on out, with its own copy of the command line's filter
// rules, as rsync's local server inherits the parsed list across its fork
// instead of reading the rules. rsync: main.c do_cmd (local_child)
func localReceiver(ctx context.Context, cfg *Config, in *transport.Pipe, out *transport.Pipe, handoff *engine.Handoff) error {
	c, err := connect(cfg, in, out, true, false, &engine.StderrLogger{Out: cfg.Env.Stderr, Err: cfg.Env.Stderr})
	if err == nil {
		eo := cfg.engineOptions()
		eo.Handoff = handoff
		eo.OnFile = nil // the client (this process's sender) reports files
		if cfg.Opts.WriteBatch != 0 {
			batchEngine(cfg, eo, true)
		}
		err = localReceiverFilters(cfg, cfg.rules.Clone(), c.Session.Protocol, eo)
		if err == nil {
			_, err = receiveSide(c, eo, cfg.Dest, true, nil)
			// A cancelled run, or a sender that failed, ends the
			// receiving side without a word of its own.
			if err != nil && !errors.Is(err, errLocalSenderFailed) && ctx.Err() == nil {
				err = serverFailed(c, err, false)
			}
		}
		c.W.Flush()
	}
	if handoff != nil {
		handoff.Close() // wakes a sender waiting to hand over more
	}
	out.CloseWrite(nil)
	in.CloseRead()
	return err
}
