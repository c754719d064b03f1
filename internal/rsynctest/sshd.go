package rsynctest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// SSHServer is a throwaway sshd on 127.0.0.1 that accepts one generated
// client key for the current user; it stops when the test that started it
// ends.
type SSHServer struct {
	port    int
	key     string // client private key
	sshPath string
	cmd     *exec.Cmd
	stderr  *lockedBuffer
	done    chan struct{}
}

// Host returns the address to put before the colon in rsync's host:path.
func (s *SSHServer) Host() string { return "127.0.0.1" }

// Port returns the TCP port sshd listens on.
func (s *SSHServer) Port() int { return s.port }

// KeyPath returns the client's private key file.
func (s *SSHServer) KeyPath() string { return s.key }

// RshCommand returns the value for rsync's -e (--rsh): an ssh command that
// reaches this server non-interactively, ignoring user configuration and
// known_hosts. Words containing spaces are quoted the way rsync splits -e.
func (s *SSHServer) RshCommand() string {
	words := s.SSHArgs()
	for i, w := range words {
		words[i] = rshQuote(w)
	}
	return strings.Join(words, " ")
}

// SSHArgs returns the ssh command line of RshCommand as separate words
// (unquoted), for running ssh directly; append the host and the command.
func (s *SSHServer) SSHArgs() []string {
	return []string{
		s.sshPath, "-F", "/dev/null", "-p", strconv.Itoa(s.port),
		"-i", s.key, "-o", "IdentitiesOnly=yes",
		"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
		"-o", "BatchMode=yes", "-o", "LogLevel=ERROR",
	}
}

// rshQuote double-quotes w if it has whitespace, which rsync's -e splitting
// honours; it is a no-op for the paths tests normally see.
func rshQuote(w string) string {
	if strings.ContainsAny(w, " \t\"'\\") {
		return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(w) + `"`
	}
	return w
}

// Log returns what sshd has written to stderr so far, for failure messages.
func (s *SSHServer) Log() string { return s.stderr.String() }

// lockedBuffer is a bytes.Buffer safe for sshd's writer goroutine and readers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// StartSSHD starts sshd on a free port of 127.0.0.1 with fresh host and
// client keys in a temporary directory, waits until it accepts connections,
// and stops it in t.Cleanup. Without sshd, ssh or ssh-keygen the test is
// skipped, or failed when the CI environment variable is non-empty.
func StartSSHD(t testing.TB) *SSHServer {
	t.Helper()
	sshd := RequireSSHD(t)
	sshPath := RequireSSH(t)
	keygen := RequireSSHKeygen(t)

	dir := t.TempDir()
	hostKey := filepath.Join(dir, "host_ed25519")
	clientKey := filepath.Join(dir, "client_ed25519")
	for _, k := range []string{hostKey, clientKey} {
		MustRun(t, "", nil, keygen, "-q", "-t", "ed25519", "-N", "", "-C", "rsynctest", "-f", k)
	}
	pub, err := os.ReadFile(clientKey + ".pub")
	if err != nil {
		t.Fatalf("sshd fixture: %v", err)
	}
	authKeys := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(authKeys, pub, 0o600); err != nil {
		t.Fatalf("sshd fixture: %v", err)
	}
	// sshd refuses to start without its privilege separation directory.
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil && os.Geteuid() == 0 {
		t.Fatalf("sshd fixture: %v", err)
	}

	// The port is found by binding :0 and closing; another process may grab
	// it before sshd does, so a bind failure is retried on a new port.
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port, err := freePort()
		if err != nil {
			t.Fatalf("sshd fixture: %v", err)
		}
		s := &SSHServer{port: port, key: clientKey, sshPath: sshPath}
		lastErr = s.start(t, sshd, dir, hostKey, authKeys)
		if lastErr == nil {
			return s
		}
		if !strings.Contains(lastErr.Error(), "Address already in use") {
			break
		}
	}
	t.Fatalf("sshd fixture: %v", lastErr)
	return nil
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// start writes the config, starts sshd and waits for its port; on success it
// registers the cleanup that stops it.
func (s *SSHServer) start(t testing.TB, sshd, dir, hostKey, authKeys string) error {
	config := filepath.Join(dir, fmt.Sprintf("sshd_config.%d", s.port))
	pidFile := filepath.Join(dir, fmt.Sprintf("sshd.%d.pid", s.port))
	text := strings.Join([]string{
		"ListenAddress 127.0.0.1",
		"Port " + strconv.Itoa(s.port),
		"HostKey " + hostKey,
		"AuthorizedKeysFile " + authKeys,
		"PidFile " + pidFile,
		"StrictModes no",
		"UsePAM no",
		"PermitRootLogin yes",
		"PubkeyAuthentication yes",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"UseDNS no",
		"PrintMotd no",
		"LogLevel INFO",
		"",
	}, "\n")
	if err := os.WriteFile(config, []byte(text), 0o600); err != nil {
		return err
	}

	s.stderr = &lockedBuffer{}
	s.done = make(chan struct{})
	s.cmd = exec.Command(sshd, "-D", "-e", "-f", config)
	s.cmd.Stderr = s.stderr
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", sshd, err)
	}
	var waitErr error
	go func() {
		waitErr = s.cmd.Wait()
		close(s.done)
	}()

	deadline := time.Now().Add(15 * time.Second)
	addr := net.JoinHostPort(s.Host(), strconv.Itoa(s.port))
	for {
		select {
		case <-s.done:
			return fmt.Errorf("sshd exited before accepting connections (%v):\n%s", waitErr, s.Log())
		default:
		}
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			s.stop()
			return fmt.Errorf("sshd not accepting on %s after 15s: %v\n%s", addr, err, s.Log())
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			t.Logf("sshd log:\n%s", s.Log())
		}
	})
	return nil
}

// stop terminates sshd (sessions run in their own sessions and end when their
// connections close) and waits for it to exit.
func (s *SSHServer) stop() {
	select {
	case <-s.done:
		return
	default:
	}
	pid := s.cmd.Process.Pid
	if err := syscall.Kill(-pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		s.cmd.Process.Kill()
	}
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		syscall.Kill(-pid, syscall.SIGKILL)
		<-s.done
	}
}
