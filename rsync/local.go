package rsync

import (
	"time"

	"github.com/gorsync/gorsync/internal/engine"
	"github.com/gorsync/gorsync/internal/options"
	"github.com/gorsync/gorsync/internal/protocol"
	"github.com/gorsync/gorsync/internal/transport"
)

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
	serverDone := make(chan error, 1)
	go func() {
		slog := engine.NewTerminalLogger()
		slog.Out, slog.Err = env.Stderr, env.Stderr
		c, err := connect(toServer, toClient, protocolConfig(&so, env, true, false), slog)
		seo := engineOptions(&so, true)
		if err == nil {
			err = localReceiverFilters(&so, env, c.Session.Protocol, seo)
		}
		if err == nil {
			_, err = receiveSide(c, seo, dst, true, nil)
			if err != nil {
				err = serverFailed(c, err, false)
			}
			c.W.Flush()
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
	if err == nil {
		var wf *walkFilter
		var ff *filesFrom
		c.LogDeleted = o.Verbose > 0 && o.Quiet == 0
		if wf, err = clientFilters(c, o, env, true, true); err == nil {
			ff, err = senderFilesFrom(c, o, env, false)
		}
		if err == nil {
			st, err = sendSide(c, engineOptions(o, true), srcs, false, wf, ff)
		}
	}
	toServer.CloseWrite(nil)
	if err != nil {
		toClient.CloseRead()
	}
	serr := <-serverDone
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
