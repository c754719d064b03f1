package rsync

import (
	"errors"
	"time"

	"github.com/gorsync/gorsync/internal/engine"
	"github.com/gorsync/gorsync/internal/fastio"
	"github.com/gorsync/gorsync/internal/filter"
	"github.com/gorsync/gorsync/internal/options"
	"github.com/gorsync/gorsync/internal/protocol"
	"github.com/gorsync/gorsync/internal/transport"
)

// errLocalSenderFailed ends a local copy's stream to its receiving side
// when the sending side has failed.
var errLocalSenderFailed = errors.New("local copy: the sending side failed")

// pipeSize is how many bytes each direction of a local copy buffers.
const pipeSize = 1 << 20

// localCopy runs both sides in this process, connected by in-memory pipes:
// this goroutine sends, a second one receives, exactly as over a remote shell
// but without a child process. Whole-file is the default, as in rsync.
func localCopy(o *options.Options, env Env, srcs []string, dst string) error {
	if o.FilesFromRemote {
		return &engine.ExitError{Code: engine.ExitSyntax, Msg: "--files-from cannot be remote when the transfer is local"}
	}
	start := time.Now()
	toServer := transport.NewPipe(pipeSize)
	toClient := transport.NewPipe(pipeSize)

	so := *o
	so.Server, so.Sender = true, false
	so.ClientInfo = protocol.ClientCapabilities
	so.Args = []string{".", dst}
	// Whole files go from the sender to the receiver as open files, for
	// the receiver to copy with copy_file_range (engine/localcopy.go).
	var handoff *engine.Handoff
	if fastio.Enabled(fastio.CopyRange) {
		handoff = engine.NewHandoff()
		defer handoff.Close()
	}
	// The receiving side gets its own copy of the rules the client parses
	// (nil if the client fails first), as rsync's local server inherits
	// them across its fork. rsync: main.c do_cmd (local_child)
	rules := make(chan *filter.List, 1)
	serverDone := make(chan error, 1)
	go func() {
		slog := engine.NewTerminalLogger()
		slog.Out, slog.Err = env.Stderr, env.Stderr
		c, err := connect(toServer, toClient, protocolConfig(&so, env, true, false), slog)
		seo := engineOptions(&so, true)
		seo.Handoff = handoff
		if err == nil {
			err = localReceiverFilters(&so, <-rules, c.Session.Protocol, seo)
		}
		if err == nil {
			_, err = receiveSide(c, seo, dst, true, nil)
			if err != nil && !errors.Is(err, errLocalSenderFailed) {
				err = serverFailed(c, err, false)
			}
			c.W.Flush()
		}
		if handoff != nil {
			handoff.Close() // wakes a sender waiting to hand over more
		}
		toClient.CloseWrite(nil)
		toServer.CloseRead()
		serverDone <- err
	}()

	log := engine.NewTerminalLogger()
	log.Out, log.Err = env.Stdout, env.Stderr
	var st *engine.Stats
	var c *engine.Conn
	c, err := connect(toClient, toServer, protocolConfig(o, env, false, true), log)
	var l *filter.List
	if err == nil {
		l, err = buildFilters(o, env, c.Session.Protocol)
	}
	if l != nil {
		rules <- l.Clone()
	} else {
		rules <- nil
	}
	if err == nil {
		var wf *walkFilter
		var ff *filesFrom
		c.LogDeleted = o.Verbose > 0 && o.Quiet == 0
		if wf, err = sendFilters(c, o, l, true, true); err == nil {
			ff, err = senderFilesFrom(c, o, env, false)
		}
		if err == nil {
			eo := engineOptions(o, true)
			eo.Handoff = handoff
			st, err = sendSide(c, eo, srcs, false, wf, ff)
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
	if st != nil && handoff != nil {
		// What the receiver copied from handed files is the sender's
		// literal data, as if it had crossed the stream.
		st.LiteralData += handoff.Copied()
	}
	if st != nil && (err == nil || endOfRun(err)) && (serr == nil || endOfRun(serr)) {
		summary(o, env, c, st, start)
	}
	if serr != nil && (err == nil || endOfRun(err)) {
		// The receiver's failure decides the exit code; it has already
		// said why.
		return serr
	}
	return err
}
