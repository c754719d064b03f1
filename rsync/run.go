// Package rsync is gorsync's embeddable API: Main runs a command line the way
// the gorsync binary does, and the client and server entry points run one
// side of a transfer over any byte stream.
package rsync

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"

	"github.com/gorsync/gorsync/internal/engine"
	"github.com/gorsync/gorsync/internal/fastio"
	"github.com/gorsync/gorsync/internal/flist"
	"github.com/gorsync/gorsync/internal/options"
	"github.com/gorsync/gorsync/internal/protocol"
	"github.com/gorsync/gorsync/internal/transport"
	"github.com/gorsync/gorsync/internal/wire"
)

// Version is gorsync's version.
const Version = "0.1.0"

// Env gives the process environment, so embedders and tests can override it.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
}

func (e *Env) fill() {
	if e.Stdin == nil {
		e.Stdin = os.Stdin
	}
	if e.Stdout == nil {
		e.Stdout = os.Stdout
	}
	if e.Stderr == nil {
		e.Stderr = os.Stderr
	}
	if e.Getenv == nil {
		e.Getenv = os.Getenv
	}
}

// Main runs one gorsync command line (without the program name) and returns
// rsync's exit code for it.
func Main(args []string, env Env) int {
	env.fill()
	opts, err := options.Parse(args, env.Getenv)
	if err != nil {
		return reportErr(env, err, false)
	}
	switch {
	case opts.Help:
		fmt.Fprintf(env.Stdout, "gorsync  version %s  protocol version %d\n%s", Version, protocol.MaxVersion, options.Usage())
		return 0
	case opts.Version > 0:
		fmt.Fprintf(env.Stdout, "gorsync  version %s  protocol version %d\nrsync re-implemented in Go; speaks rsync protocols %d to %d.\n",
			Version, protocol.MaxVersion, protocol.MinVersion, protocol.MaxVersion)
		return 0
	}
	if err := checkProtocolOption(opts); err != nil {
		return reportErr(env, err, opts.Server)
	}
	if err := fastio.EnvError(); err != nil {
		return reportErr(env, &options.UsageError{Reason: err.Error(), Server: opts.Server}, opts.Server)
	}
	if opts.Server {
		err = RunServer(opts, env.Stdin, env.Stdout, env)
		return reportErr(env, err, true)
	}
	err = runClient(opts, env)
	return reportErr(env, err, false)
}

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
		return &engine.ExitError{Code: engine.ExitProtocol, Msg: fmt.Sprintf("--protocol must be no more than %d on the %s.", protocol.MaxVersion, side)}
	case p < 20:
		return &engine.ExitError{Code: engine.ExitProtocol, Msg: fmt.Sprintf("--protocol must be at least 20 on the %s.", side)}
	case p < protocol.MinVersion:
		return &engine.ExitError{Code: engine.ExitProtocol, Msg: fmt.Sprintf("--protocol=%d is older than gorsync supports (%d to %d).", p, protocol.MinVersion, protocol.MaxVersion)}
	}
	return nil
}

// exitCode maps an error to rsync's exit code. This is the one place that
// does so.
func exitCode(err error) int {
	var ee *engine.ExitError
	var ue *options.UsageError
	var ce *options.ChecksumChoiceError
	var ve *protocol.VersionError
	var ne *protocol.NegotiateError
	var xe *exec.ExitError
	var pe *engine.PeerExitError
	var coded interface{ ExitCode() int }
	switch {
	case err == nil:
		return 0
	case errors.As(err, &pe):
		return pe.Code
	case errors.As(err, &ue):
		return 1
	case errors.As(err, &ce):
		return 4
	case errors.As(err, &ee):
		return ee.Code
	case errors.As(err, &ve), errors.Is(err, wire.ErrIncompatible):
		return engine.ExitProtocol
	case errors.As(err, &ne), errors.Is(err, flist.ErrUnsafePath):
		return engine.ExitUnsupported
	case errors.Is(err, wire.ErrProtocol):
		return engine.ExitStreamIO
	case errors.As(err, &xe):
		return xe.ExitCode()
	case errors.As(err, &coded):
		return coded.ExitCode()
	}
	return engine.ExitStreamIO
}

// codeText is rsync's description of each exit code. rsync: log.c rerr_names.
var codeText = map[int]string{
	1:  "syntax or usage error",
	2:  "protocol incompatibility",
	3:  "errors selecting input/output files, dirs",
	4:  "requested action not supported",
	5:  "error starting client-server protocol",
	10: "error in socket IO",
	11: "error in file IO",
	12: "error in rsync protocol data stream",
	13: "errors with program diagnostics",
	14: "error in IPC code",
	20: "received SIGINT, SIGTERM, or SIGHUP",
	23: "some files/attrs were not transferred (see previous errors)",
	24: "some files vanished before they could be transferred",
	25: "the --max-delete limit stopped deletions",
}

// errorLines renders an error as rsync prints it at exit: the error's own
// message (unless it was already shown) and the "rsync error: ... (code N)"
// line naming the role.
func errorLines(err error, role string) string {
	code := exitCode(err)
	var b strings.Builder
	var ee *engine.ExitError
	var coded interface{ ExitCode() int }
	quiet := errors.As(err, &ee) && (ee == engine.ErrPartial || ee == engine.ErrVanished || ee.Code == engine.ExitDelLimit)
	if !quiet && !errors.Is(err, errReported) {
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
	text := codeText[code]
	if text == "" {
		text = "unexplained error"
	}
	fmt.Fprintf(&b, "%s error: %s (code %d) [%s=gorsync-%s]\n", options.ProgName, text, code, role, Version)
	return b.String()
}

// reportErr prints an error the way rsync does and returns its exit code.
func reportErr(env Env, err error, server bool) int {
	if err == nil {
		return 0
	}
	code := exitCode(err)
	var xe *exec.ExitError
	var pe *engine.PeerExitError
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

// runClient starts the transfer a client command line asks for.
func runClient(opts *options.Options, env Env) error {
	args := opts.Args
	if len(args) == 0 {
		fmt.Fprintf(env.Stderr, "gorsync  version %s  protocol version %d\n%s", Version, protocol.MaxVersion, options.Usage())
		return &options.UsageError{Reason: "no source or destination given"}
	}
	// rsync parses filter rules with the options, before connecting.
	check := env
	check.Stdin = strings.NewReader("")
	if _, err := buildFilters(opts, check, protocol.MaxVersion); err != nil {
		return err
	}
	if err := checkFilesFrom(opts); err != nil {
		return err
	}
	if len(args) == 1 {
		// A lone source is listed: into "." locally, as rsync does.
		args = append(slices.Clone(args), ".")
	}
	srcs := args[:len(args)-1]
	dst := transport.Parse(args[len(args)-1])
	first := transport.Parse(srcs[0])
	if first.Daemon || dst.Daemon {
		return &options.UsageError{Reason: "rsync daemon connections (host::module, rsync://) are not supported by this version of gorsync yet"}
	}
	if first.Remote() {
		if dst.Remote() {
			return &options.UsageError{Reason: "The source and destination cannot both be remote."}
		}
		paths := []string{first.Path}
		for _, s := range srcs[1:] {
			l := transport.Parse(s)
			if l.Remote() && (l.Host != first.Host || l.User != first.User) {
				return &options.UsageError{Reason: "all source arguments must come from the same host"}
			}
			if !l.Remote() {
				paths = append(paths, s)
			} else {
				paths = append(paths, l.Path)
			}
		}
		return remoteClient(opts, env, first, paths, false, nil, args[len(args)-1])
	}
	for _, s := range srcs[1:] {
		if transport.Parse(s).Remote() {
			return &options.UsageError{Reason: "The source and destination cannot both be remote."}
		}
	}
	if dst.Remote() {
		return remoteClient(opts, env, dst, []string{dst.Path}, true, srcs, "")
	}
	return localCopy(opts, env, srcs, args[len(args)-1])
}

// remoteClient runs the server over a remote shell and this side as client.
func remoteClient(opts *options.Options, env Env, loc transport.Location, remotePaths []string, push bool, localSrcs []string, localDst string) error {
	info := protocol.ClientCapabilities
	if opts.Protocol != 0 && opts.Protocol < 30 {
		info = ""
	}
	cmd := &transport.Command{
		Rsh:        opts.Rsh,
		User:       loc.User,
		Host:       loc.Host,
		RsyncPath:  opts.RsyncPath,
		ServerArgs: opts.RemoteArgs(push, info, remotePaths),
	}
	argv, err := cmd.Argv()
	if err != nil {
		return &options.UsageError{Reason: err.Error()}
	}
	conn, err := transport.Start(argv)
	if err != nil {
		return &engine.ExitError{Code: engine.ExitStartClient, Msg: err.Error()}
	}
	var runErr error
	if push {
		runErr = ClientSend(opts, conn, conn, localSrcs, env)
	} else {
		runErr = ClientReceive(opts, conn, conn, localDst, env)
	}
	if runErr != nil {
		conn.Kill()
	}
	waitErr := conn.Wait()
	if runErr == nil && waitErr != nil {
		var xe *exec.ExitError
		if errors.As(waitErr, &xe) && xe.ExitCode() > 0 {
			return &engine.ExitError{Code: xe.ExitCode(), Msg: fmt.Sprintf("remote command exited with code %d", xe.ExitCode())}
		}
	}
	if runErr != nil && waitErr != nil {
		var xe *exec.ExitError
		if errors.As(waitErr, &xe) && xe.ExitCode() > 0 && errors.Is(runErr, wire.ErrProtocol) {
			// The server explained itself on our stderr; take its code.
			return &engine.ExitError{Code: xe.ExitCode(), Msg: runErr.Error()}
		}
	}
	return runErr
}
