package rsync

import (
	"context"
	"io"

	"github.com/gorsync/gorsync/internal/engine"
	"github.com/gorsync/gorsync/internal/session"
)

// A Client runs transfers with one set of options. Its zero value copies
// with rsync's defaults (no recursion: set Options.Archive or Recursive)
// and discards rsync's messages. A Client may run several transfers at
// once.
type Client struct {
	Options Options
	// Stdout and Stderr receive what rsync would print (nil discards it).
	Stdout, Stderr io.Writer
	// Stdin serves "-" in options such as --files-from=- (nil: empty).
	Stdin io.Reader
	// Getenv reads the environment (RSYNC_RSH, RSYNC_CHECKSUM_LIST, HOME,
	// GORSYNC_FASTIO, …); nil means none is set.
	Getenv func(string) string
	// OnFile, when set, is called as each file's transfer ends on this
	// side: the progress of the transfer, in file-list order.
	OnFile func(File)
}

// File reports one file of a transfer.
type File struct {
	// Name is the file's path in the file list (relative to the
	// transfer's root).
	Name string
	// Size is its size in bytes.
	Size int64
	// Transferred says its data was sent or received (false: it was
	// already up to date at the destination).
	Transferred bool
}

// Result is a finished transfer's statistics, as rsync's --stats reports
// them from this side.
type Result struct {
	Files, Dirs, Symlinks, Devices, Specials int64 // entries in the file list
	Created, Deleted                         int64 // entries created and deleted at the destination
	Transferred                              int64 // regular files whose data was sent
	TotalSize                                int64 // size of all files in the list
	TransferredSize                          int64 // size of the files sent
	LiteralData, MatchedData                 int64 // data sent, and data rebuilt from the basis files
	FileListSize                             int64 // bytes of the encoded file list
	BytesSent, BytesReceived                 int64 // bytes on the connection
}

// Run transfers srcs to dst the way a command line does: a local copy when
// both are local, a push when dst is "host:path", a pull when the sources
// are; remote sides are reached through Options.Rsh (ssh by default). The
// Result is returned also when some files failed (ExitCode 23 or 24).
func (c *Client) Run(ctx context.Context, srcs []string, dst string) (*Result, error) {
	cfg, err := c.config(append(srcs[:len(srcs):len(srcs)], dst))
	if err != nil {
		return nil, err
	}
	st, err := session.RunClient(ctx, cfg)
	return result(st), wrap(err)
}

// config is the transfer's Config for the paths of a command line.
func (c *Client) config(paths []string) (*session.Config, error) {
	o, err := c.Options.parse(paths, c.getenv)
	if err != nil {
		return nil, wrap(err)
	}
	cfg, err := session.NewConfig(o, c.env())
	if err != nil {
		return nil, wrap(err)
	}
	cfg.OnFile = c.onFile()
	return cfg, nil
}

// Send pushes srcs over conn, a connection to a server that was started
// with the argument vector ServerArgs(true, dstPath) returns (for
// example "rsync" followed by it, run on the other host). Both ends write
// before they read, so conn must buffer as a socket or a pipe does
// (net.Pipe does not). Cancelling ctx closes conn if it is an io.Closer.
func (c *Client) Send(ctx context.Context, conn io.ReadWriter, srcs ...string) (*Result, error) {
	return c.overConn(ctx, conn, session.Push, srcs)
}

// Receive pulls into dst over conn, a connection to a server started with
// ServerArgs(false, srcPaths...).
func (c *Client) Receive(ctx context.Context, conn io.ReadWriter, dst string) (*Result, error) {
	return c.overConn(ctx, conn, session.Pull, []string{dst})
}

// overConn runs a push or pull over conn. The command line it parses
// names the peer with a placeholder, as "host:" would: the role and the
// local paths come from it as for a remote shell, which is not started.
func (c *Client) overConn(ctx context.Context, conn io.ReadWriter, role session.Role, paths []string) (*Result, error) {
	if role == session.Push {
		paths = append(paths[:len(paths):len(paths)], peer)
	} else {
		paths = append([]string{peer}, paths...)
	}
	cfg, err := c.config(paths)
	if err != nil {
		return nil, err
	}
	st, err := session.Run(ctx, cfg, conn)
	return result(st), wrap(err)
}

// ServerArgs returns the arguments a server must be started with (after
// the program name, "rsync" or "gorsync") for this client's options: to
// receive into paths[0] when the client sends (push), or to send paths when
// the client receives.
func (c *Client) ServerArgs(push bool, paths ...string) ([]string, error) {
	var args []string
	for _, p := range paths {
		args = append(args, peer+p)
	}
	if push {
		args = append([]string{"."}, args[:min(len(args), 1)]...)
	} else {
		args = append(args, ".")
	}
	cfg, err := c.config(args)
	if err != nil {
		return nil, err
	}
	return cfg.ServerArgs(), nil
}

// peer names the other end of a connection the caller made.
const peer = "peer:"

// getenv is the Client's environment.
func (c *Client) getenv(name string) string {
	if c.Getenv == nil {
		return ""
	}
	return c.Getenv(name)
}

func (c *Client) env() session.Env {
	return session.Env{Stdin: orEmpty(c.Stdin), Stdout: orDiscard(c.Stdout), Stderr: orDiscard(c.Stderr), Getenv: c.getenv}
}

func (c *Client) onFile() func(engine.FileEvent) {
	if c.OnFile == nil {
		return nil
	}
	return func(e engine.FileEvent) { c.OnFile(File(e)) }
}

// result is a session's statistics as the API reports them.
func result(st *session.Stats) *Result {
	if st == nil {
		return nil
	}
	return &Result{
		Files: st.NumFiles, Dirs: st.NumDirs, Symlinks: st.NumSymlinks, Devices: st.NumDevices, Specials: st.NumSpecials,
		Created:     st.CreatedFiles,
		Deleted:     st.DeletedFiles,
		Transferred: st.XferredFiles, TotalSize: st.TotalSize, TransferredSize: st.TotalTransferredSize,
		LiteralData: st.LiteralData, MatchedData: st.MatchedData, FileListSize: st.FlistSize,
		BytesSent: st.TotalWritten, BytesReceived: st.TotalRead,
	}
}
