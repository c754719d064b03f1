package transport

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// SplitRsh splits a remote-shell command on spaces, honouring single and
// double quotes (a doubled quote inside quotes is a literal quote).
// rsync: main.c do_cmd.
func SplitRsh(cmd string) ([]string, error) {
	var args []string
	var cur strings.Builder
	inArg := false
	var quote byte
	for i := 0; i < len(cmd); i++ {
		c := cmd[i]
		switch {
		case quote != 0 && c == quote:
			if i+1 < len(cmd) && cmd[i+1] == quote {
				cur.WriteByte(c)
				i++
			} else {
				quote = 0
			}
		case quote == 0 && (c == '\'' || c == '"'):
			quote = c
			inArg = true
		case quote == 0 && c == ' ':
			if inArg {
				args = append(args, cur.String())
				cur.Reset()
				inArg = false
			}
		default:
			cur.WriteByte(c)
			inArg = true
		}
	}
	if quote != 0 {
		//lint:ignore ST1005 rsync's own message, word for word
		return nil, fmt.Errorf("Missing trailing-%c in remote-shell command.", quote)
	}
	if inArg {
		args = append(args, cur.String())
	}
	if len(args) == 0 {
		return nil, errors.New("empty remote-shell command")
	}
	return args, nil
}

// Command describes how to start the server over a remote shell.
type Command struct {
	Rsh        string   // the -e value (or RSYNC_RSH, or "ssh")
	User, Host string   // the peer
	RsyncPath  string   // --rsync-path, default "rsync"
	ServerArgs []string // everything after the program: "--server", options, ".", quoted paths
}

// Argv builds the remote-shell command line. rsync: main.c do_cmd.
func (c *Command) Argv() ([]string, error) {
	args, err := SplitRsh(c.Rsh)
	if err != nil {
		return nil, err
	}
	dashL := false
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "-l" && !strings.HasPrefix(args[i+1], "-") {
			dashL = true
		}
	}
	_ = dashL // rsync only consults it for daemon-over-rsh connections
	if c.User != "" {
		args = append(args, "-l", c.User)
	}
	args = append(args, c.Host)
	rp := c.RsyncPath
	if rp == "" {
		rp = "rsync"
	}
	args = append(args, rp)
	args = append(args, c.ServerArgs...)
	return args, nil
}

// Conn is a running remote shell: reads come from its stdout, writes go to its
// stdin. Close waits for it to exit.
type Conn struct {
	cmd *exec.Cmd
	io.Reader
	w *os.File
}

// Write sends bytes to the remote shell's stdin.
func (c *Conn) Write(p []byte) (int, error) { return c.w.Write(p) }

// SyscallConn gives the descriptor of the remote shell's stdin, so that
// the multiplexed writer can gather frames into one writev.
func (c *Conn) SyscallConn() (syscall.RawConn, error) { return c.w.SyscallConn() }

// CloseWrite closes the remote shell's stdin.
func (c *Conn) CloseWrite() error { return c.w.Close() }

// Wait closes stdin and waits for the remote shell to exit.
func (c *Conn) Wait() error {
	c.w.Close()
	return c.cmd.Wait()
}

// Kill stops the remote shell.
func (c *Conn) Kill() {
	if c.cmd.Process != nil {
		c.cmd.Process.Kill()
	}
}

// Start runs argv with its stdin and stdout connected to the returned Conn and
// its stderr passed to stderr (the client's own, where the server's
// messages belong), like rsync's piped_child.
func Start(argv []string, stderr io.Writer) (*Conn, error) {
	name := argv[0]
	if !strings.Contains(name, "/") {
		if p, err := exec.LookPath(name); err == nil {
			name = p
		}
	}
	cmd := exec.Command(name, argv[1:]...)
	cmd.Stderr = stderr
	// Our own pipes rather than StdinPipe and StdoutPipe, whose ends hide
	// their descriptors: writev on the one, a larger buffer on both.
	pr, in, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	out, pw, err := os.Pipe()
	if err != nil {
		pr.Close()
		in.Close()
		return nil, err
	}
	growPipe(in)
	growPipe(out)
	cmd.Stdin, cmd.Stdout = pr, pw
	err = cmd.Start()
	pr.Close()
	pw.Close()
	if err != nil {
		in.Close()
		out.Close()
		return nil, fmt.Errorf("failed to exec %s: %w", argv[0], err)
	}
	return &Conn{cmd: cmd, Reader: out, w: in}, nil
}

// pipeBuffer is the buffer the remote shell's pipes are given: with the
// kernel's 64 KiB the two processes take turns on every few frames (a
// fresh copy of 100,000 small files over a remote shell: 1.58 s with
// 64 KiB, 1.43 s with 1 MiB). It is /proc/sys/fs/pipe-max-size's default.
const pipeBuffer = 1 << 20

// growPipe asks for pipeBuffer bytes of buffer on the pipe f; where the
// kernel refuses (a lower pipe-max-size for an unprivileged user), the
// pipe keeps its size.
func growPipe(f *os.File) {
	if rc, err := f.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) { unix.FcntlInt(fd, unix.F_SETPIPE_SZ, pipeBuffer) })
	}
}
