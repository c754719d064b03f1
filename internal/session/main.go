// Package session runs one rsync transfer: it derives the transfer's Config
// from the command line (config.go), connects the roles to their peer —
// a remote shell it starts, a connection it is given, or, for a local copy,
// an in-memory pipe (client.go, local.go) — and runs the sender or the
// generator and receiver over it (sender.go, receiver.go), with the filter,
// --files-from and deletion wiring rsync does around them, and rsync's
// failure protocol at the end (failure.go).
package session

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/gorsync/gorsync/internal/exitcode"
	"github.com/gorsync/gorsync/internal/options"
	"github.com/gorsync/gorsync/internal/protocol"
)

// Version is gorsync's version.
const Version = "0.1.0"

// Main runs one gorsync command line (without the program name) and returns
// rsync's exit code for it, having printed what rsync prints.
func Main(ctx context.Context, args []string, env Env) int {
	return runMain(ctx, args, env, nil)
}

// runMain is Main with a chance to adjust the Config before the transfer
// runs (tests set hooks and fast paths there).
func runMain(ctx context.Context, args []string, env Env, adjust func(*Config)) int {
	env = env.filled()
	opts, err := options.Parse(args, env.Getenv)
	if err != nil {
		return reportExit(env, err, false)
	}
	if !opts.Server {
		var flush func()
		env, flush = outputStreams(env, opts)
		defer flush()
	}
	switch {
	case opts.Help:
		writeHelp(env.Stdout)
		return 0
	case opts.OutputHelp != "":
		io.WriteString(env.Stdout, opts.OutputHelp)
		return 0
	case opts.Version > 1:
		writeVersionJSON(env.Stdout)
		return 0
	case opts.Version > 0:
		writeVersion(env.Stdout)
		return 0
	}
	var stdin io.Reader = env.Stdin
	if opts.Server && opts.SecludedArgs {
		var in *bufio.Reader
		if opts, in, err = readSecluded(args, env); err != nil {
			return reportExit(env, err, true)
		}
		stdin = in
	}
	if err := checkProtocolOption(opts); err != nil {
		return reportExit(env, err, opts.Server)
	}
	cfg, err := NewConfig(opts, env)
	if errors.Is(err, errNoArgs) {
		writeHelp(env.Stderr) // rsync: main.c main, usage(FERROR) without arguments
	}
	if err != nil {
		return reportExit(env, err, opts.Server)
	}
	if adjust != nil {
		adjust(cfg)
	}
	if opts.Server {
		_, err = Run(ctx, cfg, stdio{stdin, env.Stdout})
		return reportExit(env, err, true)
	}
	_, err = RunClient(ctx, cfg)
	return reportExit(env, err, false)
}

// outputStreams applies --stderr=all (every message to standard error)
// and --outbuf=B (standard output written in blocks, flushed at exit) to a
// client's streams. Unbuffered and line-buffered output are what gorsync
// does anyway: each message is one write. rsync: options.c
// parse_arguments (setvbuf), log.c rwrite
func outputStreams(env Env, o *options.Options) (Env, func()) {
	if o.Msgs2Stderr == options.StderrAll {
		env.Stdout = env.Stderr
	}
	if o.OutBuf != options.OutBufBlock || o.Msgs2Stderr == options.StderrAll {
		return env, func() {}
	}
	bw := bufio.NewWriter(env.Stdout)
	env.Stdout = &lockedWriter{w: bw}
	return env, func() { env.Stdout.(*lockedWriter).flush() }
}

// lockedWriter serialises the roles' writes to one buffered stream.
type lockedWriter struct {
	mu sync.Mutex
	w  *bufio.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (l *lockedWriter) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.w.Flush()
}

// stdio is a server's connection: the standard streams its client's remote
// shell gave it.
type stdio struct {
	io.Reader
	io.Writer
}

// errNoArgs is a client command line without paths.
var errNoArgs = &options.UsageError{Reason: "no source or destination given"}

// checkProtocolOption applies rsync's bounds to --protocol, and gorsync's
// own: it speaks protocols 27 to 32. rsync: compat.c setup_protocol.
func checkProtocolOption(o *options.Options) error {
	side := "Client"
	if o.Server {
		side = "Server"
	}
	switch p := o.Protocol; {
	case p == 0:
		return nil
	case p > protocol.MaxVersion:
		return exitcode.Errorf(exitcode.Protocol, "--protocol must be no more than %d on the %s.", protocol.MaxVersion, side)
	case p < 20:
		return exitcode.Errorf(exitcode.Protocol, "--protocol must be at least 20 on the %s.", side)
	case p < protocol.MinVersion:
		return exitcode.Errorf(exitcode.Protocol, "--protocol=%d is older than gorsync supports (%d to %d).", p, protocol.MinVersion, protocol.MaxVersion)
	}
	return nil
}

// errorLines renders an error as rsync prints it at exit: the error's own
// message (unless it was already shown) and the "rsync error: ... (code N)"
// line naming the role. rsync: log.c log_exit
func errorLines(err error, role string) string {
	code := exitcode.Of(err)
	var b strings.Builder
	var ee *exitcode.Error
	var coded interface{ ExitCode() int }
	if !exitcode.EndOfRun(err) && !errors.Is(err, errReported) {
		msg := err.Error()
		// An error that carries its exit code carries rsync's own message
		// too, printed as it is.
		if !errors.As(err, &ee) && !errors.As(err, &coded) && !strings.HasPrefix(msg, options.ProgName+":") {
			msg = options.ProgName + ": " + msg
		}
		b.WriteString(msg)
		if !strings.HasSuffix(msg, "\n") {
			b.WriteByte('\n')
		}
	}
	// rsync names the source line that called exit_cleanup; ours is the
	// caller's, and code 24 is only a warning. rsync: log.c log_exit
	kind := "error"
	if code == exitcode.Vanished {
		kind = "warning"
	}
	_, file, line, _ := runtime.Caller(1)
	fmt.Fprintf(&b, "%s %s: %s (code %d) at %s(%d) [%s=gorsync-%s]\n", options.ProgName, kind, exitcode.Text(code), code, filepath.Base(file), line, role, Version)
	return b.String()
}

// reportExit prints an error the way rsync does and returns its exit code.
func reportExit(env Env, err error, server bool) int {
	if err == nil {
		return 0
	}
	code := exitcode.Of(err)
	var xe *exec.ExitError
	var pe *exitcode.PeerExit
	if errors.As(err, &xe) || errors.As(err, &pe) || errors.Is(err, errServerReported) {
		// The peer (or our own server code) already said why.
		return code
	}
	role := "client"
	if server {
		role = "server"
	}
	io.WriteString(env.Stderr, errorLines(err, role))
	return code
}

// errServerReported marks a server error already sent to the client.
var errServerReported = errors.New("reported to the client")

// errReported marks an error whose message was already shown.
var errReported = errors.New("reported")

// ErrSignal is the cause a command line's context is cancelled with when a
// signal (SIGINT, SIGTERM, SIGHUP) ends the run: rsync then prints only its
// "received SIGINT, SIGTERM, or SIGHUP (code 20)" line.
var ErrSignal = errors.New("received SIGINT, SIGTERM, or SIGHUP")

// cancelled is the error of a transfer whose context ended: rsync's code
// for a signal (20), with the context's reason.
func cancelled(ctx context.Context) error {
	if errors.Is(context.Cause(ctx), ErrSignal) {
		return fmt.Errorf("%w: %w", errReported, ctx.Err())
	}
	return fmt.Errorf("%s: transfer stopped: %w", options.ProgName, ctx.Err())
}
