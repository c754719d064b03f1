package session

import (
	"context"
	"errors"
	"fmt"
	"io"
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
	argv, secluded, err := cfg.remoteCommand()
	if err != nil {
		return nil, err
	}
	conn, err := transport.Start(argv, cfg.Env.Stderr)
	if err != nil {
		return nil, execFailed(cfg, argv[0], err)
	}
	if secluded != nil {
		// rsync: rsync.c send_protected_args, before the version.
		if _, err := conn.Write(secludedArgs(secluded)); err != nil {
			conn.Kill()
			conn.Wait()
			return nil, &exitcode.Error{Code: exitcode.StreamIO, Msg: "failed to send the secluded arguments: " + err.Error()}
		}
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
		// The server explained itself on our stderr. rsync exits with
		// the broken stream's code, or the remote command's status
		// when that is greater (127: not found). rsync: cleanup.c
		// _exit_cleanup
		msg := runErr.Error()
		if errors.Is(runErr, protocol.ErrClosedAtStart) {
			msg = fmt.Sprintf("%s: %s [%s]", options.ProgName, protocol.ErrClosedAtStart, clientRole(cfg))
		}
		return st, &exitcode.Error{Code: max(xe.ExitCode(), exitcode.StreamIO), Msg: msg}
	}
	return st, runErr
}

// execFailed reports a remote shell that could not be started as rsync
// does: its forked child says so and exits with code 14, and the client
// then finds the connection closed (code 12; rsync sometimes fails its
// first write instead, also 14). rsync: pipe.c piped_child, io.c
// whine_about_eof
func execFailed(cfg *Config, prog string, err error) error {
	role := clientRole(cfg)
	child := &exitcode.Error{Code: exitcode.IPC, Msg: fmt.Sprintf("%s: [%s] Failed to exec %s: %s", options.ProgName, role, prog, strerror(err))}
	io.WriteString(cfg.Env.Stderr, errorLines(child, role))
	return &exitcode.Error{Code: exitcode.StreamIO, Msg: fmt.Sprintf("%s: connection unexpectedly closed (0 bytes received so far) [%s]", options.ProgName, role)}
}

// clientRole is how rsync's client names itself before the transfer
// starts: the sender when pushing, else the receiver not yet forked.
// rsync: rsync.c who_am_i
func clientRole(cfg *Config) string {
	if cfg.Role == Push {
		return "sender"
	}
	return "Receiver"
}

// remoteCommand is the argv that starts the server: the remote shell, the
// host, and "rsync --server" with the options it needs.
// With -s, secluded are the arguments sent over the connection instead.
func (cfg *Config) remoteCommand() (argv, secluded []string, err error) {
	o := cfg.Opts
	args, secluded := o.RemoteCommand(cfg.Role == Push, cfg.clientInfo(), cfg.RemotePaths)
	cmd := &transport.Command{
		Rsh:        o.Rsh,
		User:       cfg.Remote.User,
		Host:       cfg.Remote.Host,
		RsyncPath:  o.RsyncPath,
		ServerArgs: args,
	}
	argv, err = cmd.Argv()
	if err != nil {
		return nil, nil, &options.UsageError{Reason: err.Error()}
	}
	return argv, secluded, nil
}

// secludedArgs encodes -s arguments for the wire: each NUL-terminated, an
// empty one sent as ".", and an empty string to end them.
// rsync: rsync.c send_protected_args
func secludedArgs(args []string) []byte {
	var b []byte
	for _, a := range args {
		if a == "" {
			a = "."
		}
		b = append(append(b, a...), 0)
	}
	return append(b, 0)
}

// ServerArgs are the arguments, after the program name, that a push's or
// pull's server is started with: "--server", its options (with this
// client's capability letters) and cfg.RemotePaths. rsync: options.c
// server_options
func (cfg *Config) ServerArgs() []string {
	return cfg.Opts.RemoteArgs(cfg.Role == Push, cfg.clientInfo(), cfg.RemotePaths)
}

// clientInfo is the capability letters the server is told with -e, none
// for a --protocol below 30.
func (cfg *Config) clientInfo() string {
	o := cfg.Opts
	if o.Protocol != 0 && o.Protocol < 30 {
		return ""
	}
	return protocol.ClientInfo(cfg.allowIncRecurse(cfg.Role == Push))
}
