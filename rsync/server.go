package rsync

import (
	"context"
	"io"
	"strings"

	"github.com/gorsync/gorsync/internal/options"
	"github.com/gorsync/gorsync/internal/session"
)

// A Server serves clients' connections as "rsync --server" does when a
// client's remote shell starts it. Its zero value discards the server's
// own messages and sees no environment. One Server may serve many
// connections at once.
type Server struct {
	// Stderr receives what the server prints on its standard error
	// (which a remote shell would pass to the client's terminal).
	Stderr io.Writer
	// Getenv reads the environment (HOME, RSYNC_CHECKSUM_LIST, …); nil
	// means none is set.
	Getenv func(string) string
}

// Serve runs the server side of one transfer over conn. args are the
// arguments the client wants the server started with, after the program
// name: what Client.ServerArgs returns, or what a remote shell's command
// line holds ("--server", "--sender", "-logDtpre.iLsfxCIvu", ".", "path").
// Relative paths are relative to the working directory.
func (s *Server) Serve(ctx context.Context, conn io.ReadWriter, args []string) error {
	getenv := s.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	o, err := options.Parse(args, getenv)
	if err != nil {
		return wrap(err)
	}
	if !o.Server {
		return wrap(&options.UsageError{Reason: "a server's arguments start with --server"})
	}
	cfg, err := session.NewConfig(o, session.Env{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: orDiscard(s.Stderr), Getenv: getenv})
	if err != nil {
		return wrap(err)
	}
	_, err = session.Run(ctx, cfg, conn)
	return wrap(err)
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

func orEmpty(r io.Reader) io.Reader {
	if r == nil {
		return strings.NewReader("")
	}
	return r
}
