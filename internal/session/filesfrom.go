package session

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/gorsync/gorsync/internal/engine"
	"github.com/gorsync/gorsync/internal/exitcode"
	"github.com/gorsync/gorsync/internal/flist"
	"github.com/gorsync/gorsync/internal/fsys"
	"github.com/gorsync/gorsync/internal/options"
)

// filesFrom carries a --files-from list to the side that uses it: the
// sender reads names (from a file here or from the connection); a
// receiving side that holds the list forwards it to the sender while the
// file list comes back. rsync: main.c start_filesfrom_forwarding,
// io.c forward_filesfrom_data, flist.c send_file_list
type filesFrom struct {
	// names yields the sender's names; nil on a receiving side.
	names func() (string, bool, error)
	// fwd is the list a receiving side forwards, nul its separator.
	fwd  io.ReadCloser
	nul  bool
	done chan error
}

// openFilesFrom opens a local --files-from file, "-" being standard input,
// with rsync's message when it cannot. rsync: options.c parse_arguments
func openFilesFrom(name string, stdin io.Reader) (io.ReadCloser, error) {
	if name == "-" {
		return io.NopCloser(stdin), nil
	}
	f, err := fsys.OpenTrusted(name)
	if err != nil {
		return nil, &exitcode.Error{Code: exitcode.Syntax, Msg: fmt.Sprintf("rsync: failed to open files-from file %s: %s", name, strerror(errnoOf(err)))}
	}
	return f, nil
}

func errnoOf(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// localNames reads names from a local list for this side's sender.
func localNames(r io.Reader, o *options.Options) func() (string, bool, error) {
	nr := flist.NewNameReader(bufio.NewReader(r), o.From0, true, o.Relative)
	return nr.Next
}

// peerNames reads the names the peer forwards. Before protocol 31 they
// come outside the multiplexed frames.
func peerNames(c *engine.Conn, o *options.Options) func() (string, bool, error) {
	src := c.R
	if c.Session.Protocol < 31 && c.Raw != nil {
		src = c.Raw
	}
	nr := flist.NewNameReader(src, true, false, o.Relative)
	return func() (string, bool, error) {
		name, ok, err := nr.Next()
		if err != nil {
			err = fmt.Errorf("read --files-from names: %w", streamErrOf(err))
		}
		return name, ok, err
	}
}

// streamErrOf makes a short peer stream a protocol error.
func streamErrOf(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return &exitcode.Error{Code: exitcode.StreamIO, Msg: "rsync: connection unexpectedly closed while reading --files-from names"}
	}
	return err
}

// senderFilesFrom returns where a sending side's names come from: a
// client reads its own file (or, for host:file, the names its server
// forwards); a server reads the client's forwarded names ("-") or the
// file the client named on this host.
func senderFilesFrom(c *engine.Conn, cfg *Config) (*filesFrom, error) {
	o, server := cfg.Opts, cfg.Role.server()
	switch {
	case o.FilesFrom == "":
		return nil, nil
	case server && o.FilesFrom == "-", !server && o.FilesFromRemote:
		return &filesFrom{names: peerNames(c, o)}, nil
	}
	r, err := openFilesFrom(o.FilesFrom, cfg.stdin())
	if err != nil {
		return nil, err
	}
	return &filesFrom{names: localNames(r, o)}, nil
}

// receiverFilesFrom returns the list a receiving side forwards to the
// sender: a pulling client's own file, or the file a pushing client named
// on this server.
func receiverFilesFrom(cfg *Config) (*filesFrom, error) {
	o, server := cfg.Opts, cfg.Role.server()
	if o.FilesFrom == "" || (!server && o.FilesFromRemote) || (server && o.FilesFrom == "-") {
		return nil, nil
	}
	r, err := openFilesFrom(o.FilesFrom, cfg.stdin())
	if err != nil {
		return nil, err
	}
	return &filesFrom{fwd: r, nul: o.From0}, nil
}

// start forwards the list in the background while the file list arrives.
func (f *filesFrom) start(c *engine.Conn) {
	if f == nil || f.fwd == nil {
		return
	}
	f.done = make(chan error, 1)
	go func() {
		err := forwardNames(c, f.fwd, f.nul)
		f.fwd.Close()
		f.done <- err
	}()
}

// wait waits for the forwarding to finish; the sender has every name
// once its file list is complete.
func (f *filesFrom) wait() error {
	if f == nil || f.done == nil {
		return nil
	}
	return <-f.done
}

// forwardNames sends a --files-from list to the sender as NUL-terminated
// names (line ends become NULs unless nul), without empty names, and ends
// it with an empty name. Before protocol 31 the names travel outside the
// multiplexed frames. rsync: io.c forward_filesfrom_data
func forwardNames(c *engine.Conn, src io.Reader, nul bool) error {
	var out io.Writer = c.W
	raw := c.Session.Protocol < 31 && c.Mux != nil
	if raw {
		if err := c.W.Flush(); err != nil {
			return err
		}
		out = c.Out
	}
	buf := make([]byte, 32<<10)
	last := byte(0)
	for {
		n, rerr := src.Read(buf)
		t := buf[:0]
		for _, ch := range buf[:n] {
			if !nul && (ch == '\n' || ch == '\r') {
				ch = 0
			}
			if ch == 0 && last == 0 {
				continue
			}
			t = append(t, ch)
			last = ch
		}
		if len(t) > 0 {
			if _, err := out.Write(t); err != nil {
				return err
			}
			if !raw {
				if err := c.W.Flush(); err != nil {
					return err
				}
			}
		}
		if rerr != nil {
			break
		}
	}
	end := []byte{0, 0}
	if last == 0 {
		end = end[:1]
	}
	if _, err := out.Write(end); err != nil {
		return err
	}
	if !raw {
		return c.W.Flush()
	}
	return nil
}

// checkFilesFrom opens a local --files-from file as rsync does while
// parsing its options, so that a missing one stops the client before it
// connects. rsync: options.c parse_arguments
func checkFilesFrom(o *options.Options) error {
	if o.FilesFrom == "" || o.FilesFrom == "-" || o.FilesFromRemote {
		return nil
	}
	f, err := fsys.OpenTrusted(o.FilesFrom)
	if err != nil {
		msg := strerror(errnoOf(err))
		if i := strings.LastIndex(msg, " ("); i > 0 && strings.HasSuffix(msg, ")") {
			msg = msg[:i]
		}
		return &exitcode.Error{Code: exitcode.Syntax, Msg: fmt.Sprintf("rsync: failed to open files-from file %s: %s", o.FilesFrom, msg)}
	}
	return f.Close()
}
