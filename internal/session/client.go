package session

import (
	"context"
	"errors"
	"os/exec"

	"github.com/gorsync/gorsync/internal/exitcode"
	"github.com/gorsync/gorsync/internal/options"
	"github.com/gorsync/gorsync/internal/protocol"
	"github.com/gorsync/gorsync/internal/transport"
	"github.com/gorsync/gorsync/internal/wire"
)

// RunClient runs a client's transfer as a command line asks for it: a
// local copy in this process, or a push or pull over the remote shell it
// starts for cfg.Remote. rsync: main.c start_client, do_cmd
func RunClient(ctx context.Context, cfg *Config) (*Stats, error) {
	cfg.openLogFile()
	if cfg.logFile != nil {
		defer cfg.logFile.Close()
	}
	if cfg.Role == Local {
		return Run(ctx, cfg, nil)
	}
	argv, err := cfg.remoteCommand()
	if err != nil {
		return nil, err
	}
	conn, err := transport.Start(argv, cfg.Env.Stderr)
	if err != nil {
		return nil, &exitcode.Error{Code: exitcode.StartClient, Msg: err.Error()}
	}
	stop := onCancel(ctx, conn.Kill)
	st, runErr := Run(context.WithoutCancel(ctx), cfg, conn)
	if runErr != nil {
		conn.Kill()
	}
	waitErr := conn.Wait()
	if stop() {
		return st, cancelled(ctx)
	}
	var xe *exec.ExitError
	switch {
	case runErr == nil && errors.As(waitErr, &xe) && xe.ExitCode() > 0:
		return st, exitcode.Errorf(xe.ExitCode(), "remote command exited with code %d", xe.ExitCode())
	case runErr != nil && errors.As(waitErr, &xe) && xe.ExitCode() > 0 && errors.Is(runErr, wire.ErrProtocol):
		// The server explained itself on our stderr; take its code.
		return st, &exitcode.Error{Code: xe.ExitCode(), Msg: runErr.Error()}
	}
	return st, runErr
}

// remoteCommand is the argv that starts the server: the remote shell, the
// host, and "rsync --server" with the options it needs.
func (cfg *Config) remoteCommand() ([]string, error) {
	o := cfg.Opts
	cmd := &transport.Command{
		Rsh:        o.Rsh,
		User:       cfg.Remote.User,
		Host:       cfg.Remote.Host,
		RsyncPath:  o.RsyncPath,
		ServerArgs: cfg.ServerArgs(),
	}
	argv, err := cmd.Argv()
	if err != nil {
		return nil, &options.UsageError{Reason: err.Error()}
	}
	return argv, nil
}

// ServerArgs are the arguments, after the program name, that a push's or
// pull's server is started with: "--server", its options (with this
// client's capability letters) and cfg.RemotePaths. rsync: options.c
// server_options
func (cfg *Config) ServerArgs() []string {
	o := cfg.Opts
	info := protocol.ClientInfo(cfg.allowIncRecurse(cfg.Role == Push))
	if o.Protocol != 0 && o.Protocol < 30 {
		info = ""
	}
	return o.RemoteArgs(cfg.Role == Push, info, cfg.RemotePaths)
}
