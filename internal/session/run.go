package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gorsync/gorsync/internal/engine"
	"github.com/gorsync/gorsync/internal/options"
	"github.com/gorsync/gorsync/internal/protocol"
	"github.com/gorsync/gorsync/internal/report"
)

// Stats is one side's transfer statistics, as --stats prints them.
type Stats = report.Stats

// Run runs one transfer in cfg's role over conn, the byte stream to the
// peer: a client's remote shell or socket, a server's standard streams. A
// local copy makes its own in-memory connection; conn is then unused.
// Cancelling ctx stops the transfer promptly: the connection is closed
// under the roles (conn must then be an io.Closer, or the caller closes it
// itself), what the receiver was writing is removed, and the error maps to
// rsync's exit code 20. A client's Stats are returned even for a run that
// ended with some files failed (exit 23 or 24).
func Run(ctx context.Context, cfg *Config, conn io.ReadWriter) (*Stats, error) {
	if cfg.Opts.ReadBatch {
		return readBatch(ctx, cfg)
	}
	// --timeout and --stop-at watch the transfer; a limit that ends it
	// is the error reported.
	ctx, w := startWatch(ctx, cfg)
	if w != nil {
		c := *cfg
		c.watch = w
		cfg = &c
	}
	st, err := run(ctx, cfg, conn)
	if lerr := w.stop(); lerr != nil {
		return st, lerr
	}
	return st, err
}

// run is Run under the transfer's watch.
func run(ctx context.Context, cfg *Config, conn io.ReadWriter) (*Stats, error) {
	if cfg.Role == Local {
		return localCopy(ctx, cfg)
	}
	stop := onCancel(ctx, func() {
		if c, ok := conn.(io.Closer); ok {
			c.Close()
		}
	})
	role := func() (*Stats, error) {
		switch cfg.Role {
		case Push:
			return clientSend(cfg, conn)
		case Pull:
			return clientReceive(cfg, conn)
		}
		return nil, serve(cfg, conn)
	}
	var st *Stats
	var err error
	if cfg.watch != nil {
		st, err = runWatched(ctx, cfg.watch, conn, role)
	} else {
		st, err = role()
	}
	if stop() {
		return st, cancelled(ctx)
	}
	return st, err
}

// onCancel runs fn in the background once ctx is done. The returned stop
// ends the watch and reports whether fn ran (or is running: stop waits for
// it).
func onCancel(ctx context.Context, fn func()) (stop func() bool) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	var fired bool
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-ctx.Done():
			fired = true
			fn()
		case <-done:
		}
	}()
	return func() bool {
		close(done)
		wg.Wait()
		return fired
	}
}

// clientLogger prints a client's messages to its standard streams,
// escaped for the terminal unless -8 says otherwise (-q drops the
// informational ones), and records them in the --log-file.
func clientLogger(cfg *Config) *engine.StderrLogger {
	env := cfg.Env
	l := &engine.StderrLogger{Out: env.Stdout, Err: env.Stderr, Esc: report.NewEscaper(cfg.Opts.EightBit, env.Getenv),
		Quiet: cfg.Opts.Quiet > 0}
	if cfg.logFile != nil {
		l.File = engine.NewLogFile(cfg.logFile)
	}
	return l
}

// openLogFile opens the --log-file for appending; rsync goes on without
// it when it cannot. rsync: log.c logfile_open
func (cfg *Config) openLogFile() {
	name := cfg.Opts.LogFile
	if name == "" || cfg.Role.server() {
		return
	}
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		var en syscall.Errno
		errors.As(err, &en)
		fmt.Fprintf(cfg.Env.Stderr, "rsync: [client] failed to open log-file %s: %s\n", name, strerror(en))
		fmt.Fprintf(cfg.Env.Stdout, "Ignoring \"log file\" setting.\n")
		return
	}
	cfg.logFile = f
}

// connect sets up the connection on in and out and gives the roles their
// view of it; a server's messages travel to its client.
func connect(cfg *Config, in io.Reader, out io.Writer, server, sender bool, log engine.Logger) (*engine.Conn, error) {
	pc, err := protocol.Connect(in, out, cfg.protocolConfig(server, sender))
	if err != nil {
		return nil, err
	}
	if cfg.Role != Local {
		cfg.watch.setConn(pc)
	}
	if server {
		stderr := cfg.Env.Stderr
		if tl, ok := log.(*engine.StderrLogger); ok {
			stderr = tl.Err
		}
		log = &engine.ServerLogger{Mux: pc.Mux, Stderr: stderr, Protocol: pc.Session.Protocol,
			All: cfg.Opts.Msgs2Stderr == options.StderrAll, Client: cfg.Opts.Msgs2Stderr == options.StderrClient,
			Quiet: cfg.Opts.Quiet > 0}
	}
	return engine.NewConn(pc, log), nil
}

// clientSend runs the client side of a push: this side sends cfg.Sources.
func clientSend(cfg *Config, conn io.ReadWriter) (*Stats, error) {
	start := time.Now()
	c, err := connect(cfg, conn, conn, false, true, clientLogger(cfg))
	if err != nil {
		return nil, err
	}
	c.LogDeleted = cfg.logDeleted()
	wf, err := clientFilters(c, cfg, true)
	if err != nil {
		return nil, err
	}
	ff, err := senderFilesFrom(c, cfg)
	if err != nil {
		return nil, err
	}
	eo := cfg.engineOptions()
	if cfg.Opts.WriteBatch != 0 {
		bw, err := openBatch(cfg)
		if err != nil {
			return nil, err
		}
		defer bw.close()
		batchEngine(cfg, eo, false)
		if err := bw.tap(c, eo); err != nil {
			return nil, err
		}
		if err := bw.start(cfg, c); err != nil {
			return nil, err
		}
	}
	st, err := sendSide(c, eo, cfg.Sources, false, wf, ff)
	if st != nil && (err == nil || endOfRun(err)) {
		summary(cfg, c, st, start)
	}
	clientFailed(c, err)
	return st, err
}

// clientReceive runs the client side of a pull: this side writes into
// cfg.Dest.
func clientReceive(cfg *Config, conn io.ReadWriter) (*Stats, error) {
	o := cfg.Opts
	start := time.Now()
	c, err := connect(cfg, conn, conn, false, false, clientLogger(cfg))
	if err != nil {
		return nil, err
	}
	if o.WriteBatch != 0 {
		bw, err := openBatch(cfg)
		if err != nil {
			return nil, err
		}
		defer bw.close()
		bw.tapIn(c)
		if err := bw.start(cfg, c); err != nil {
			return nil, err
		}
	}
	// The client receiver always sends its filter list.
	rf, err := clientFilters(c, cfg, false)
	if err != nil {
		return nil, err
	}
	eo := cfg.engineOptions()
	if o.WriteBatch != 0 {
		batchEngine(cfg, eo, true)
	}
	eo.Filter = rf.list
	eo.SentRules, eo.SentCVS = rf.sent, o.CVSExclude
	eo.Requested = requestedNames(o)
	ff, err := receiverFilesFrom(cfg)
	if err != nil {
		return nil, err
	}
	st, err := receiveSide(c, eo, cfg.Dest, false, ff)
	if st != nil && (err == nil || endOfRun(err)) {
		summary(cfg, c, st, start)
	}
	clientFailed(c, err)
	return st, err
}

// serve runs "gorsync --server": the side a client started over a remote
// shell, speaking on conn.
func serve(cfg *Config, conn io.ReadWriter) error {
	sender := cfg.Role == ServerSender
	serverLog := &engine.StderrLogger{Out: cfg.Env.Stderr, Err: cfg.Env.Stderr}
	c, err := connect(cfg, conn, conn, true, sender, serverLog)
	if err != nil {
		return err
	}
	eo := cfg.engineOptions()
	if cfg.Opts.WriteBatch < 0 && !sender {
		batchEngine(cfg, eo, true) // --only-write-batch=X from a pushing client
	}
	if sender {
		err = serveSender(c, cfg, eo)
	} else {
		err = serveReceiver(c, cfg, eo)
	}
	if err != nil {
		return serverFailed(c, err, sender)
	}
	return nil
}

// serveSender sends what the client asked for.
func serveSender(c *engine.Conn, cfg *Config, eo *engine.Options) error {
	wf, err := serverFilters(c, cfg)
	if err != nil {
		return err
	}
	args := cfg.Sources
	if len(args) == 0 && (eo.Recursive || eo.Dirs) {
		args = []string{"."}
	}
	ff, err := senderFilesFrom(c, cfg)
	if err != nil {
		return err
	}
	_, err = sendSide(c, eo, args, true, wf, ff)
	return err
}

// serveReceiver receives into cfg.Dest.
func serveReceiver(c *engine.Conn, cfg *Config, eo *engine.Options) error {
	ff, err := receiverFilesFrom(cfg)
	if err != nil {
		return err
	}
	if err := serverReceiverFilters(c, cfg, eo); err != nil {
		return err
	}
	_, err = receiveSide(c, eo, cfg.Dest, true, ff)
	return err
}

// summary prints -v and --stats output on the client.
func summary(cfg *Config, c *engine.Conn, st *Stats, start time.Time) {
	o := cfg.Opts
	// rsync: main.c output_summary. Level 3 adds heap statistics, which
	// a Go program does not have in that form.
	level := min(int(o.Info[options.InfoStats]), 2)
	lf := logFileOf(c)
	if level == 0 {
		// Without the summary's own lines the log gets this one.
		// rsync: cleanup.c _exit_cleanup, log.c log_exit
		lf.Log(fmt.Sprintf("sent %s bytes  received %s bytes  total size %s\n",
			report.BigNum(st.TotalWritten), report.BigNum(st.TotalRead), report.BigNum(st.TotalSize)))
	}
	if level == 0 || o.Quiet > 0 && lf == nil {
		return
	}
	var w io.Writer = cfg.Env.Stdout
	if o.Quiet > 0 {
		// -q silences the terminal, not the log, as rsync's rwrite
		// logs a message before it looks at quiet.
		w = io.Discard
	}
	var text strings.Builder
	if lf != nil {
		w = io.MultiWriter(w, &text)
	}
	report.WriteSummary(w, st, report.SummaryOptions{
		Level: level, Protocol: c.Session.Protocol, Human: o.HumanReadable,
		DryRun: o.DryRun, BatchOnly: o.WriteBatch < 0, Start: start, End: time.Now(),
	})
	for _, l := range strings.SplitAfter(text.String(), "\n") {
		if strings.TrimSpace(l) != "" {
			lf.Log(l)
		}
	}
}

// logFileOf is the --log-file c's messages are recorded in (nil for none).
func logFileOf(c *engine.Conn) *engine.LogFile {
	if l, ok := c.Log.(*engine.StderrLogger); ok {
		return l.File
	}
	return nil
}

// stdin is what this side reads for a "-" (--files-from=-,
// --exclude-from=-): a server reads nothing, as its standard input is the
// connection.
func (cfg *Config) stdin() io.Reader {
	if cfg.Role.server() {
		return strings.NewReader("")
	}
	return cfg.Env.Stdin
}

// clientOnly prints msg on the terminal but not in the --log-file (rsync's
// FCLIENT).
func clientOnly(c *engine.Conn, msg string) {
	if l, ok := c.Log.(*engine.StderrLogger); ok {
		l.Client(msg)
		return
	}
	c.Log.Info(msg)
}

// logOnly records msg in the --log-file only (rsync's FLOG).
func logOnly(c *engine.Conn, msg string) {
	if l, ok := c.Log.(*engine.StderrLogger); ok {
		l.LogOnly(msg)
	}
}
