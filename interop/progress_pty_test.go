//go:build linux

package interop

import (
	"bytes"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorsync/gorsync/internal/rsynctest"
	"golang.org/x/sys/unix"
)

// openPty opens a pseudo-terminal pair: the master, which the test
// reads, and the terminal a command writes to.
func openPty(t *testing.T) (master, tty *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		if os.Getenv("CI") == "" {
			t.Skipf("no pseudo-terminal: %v", err)
		}
		t.Fatalf("open /dev/ptmx: %v", err)
	}
	fd := int(m.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		t.Fatalf("unlock pty: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		m.Close()
		t.Fatalf("pty number: %v", err)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		t.Fatalf("open pty: %v", err)
	}
	return m, s
}

// screenLine is the line a terminal shows last for out: what follows the
// last newline, as its carriage returns left it.
func screenLine(out []byte) string {
	s := strings.ReplaceAll(string(out), "\r\n", "\n")
	s = s[strings.LastIndexByte(s, '\n')+1:]
	return s[strings.LastIndexByte(s, '\r')+1:]
}

// progressUpdate is an update line of a file in transfer, rsync's
// rprint_progress format.
var progressUpdate = regexp.MustCompile(`^ {0,15}[0-9,]+ +([0-9]+)% +[0-9]+\.[0-9]{2}[kMG]B/s +[0-9]+:[0-9]{2}:[0-9]{2}  $`)

// TestProgressOnTerminal runs "gorsync -P" on a terminal, pulling a file
// that takes three seconds to come (upstream's server at 300 kB/s), and
// looks at the screen mid-transfer: the file's line is updated in place,
// in rsync's format, and moves on.
func TestProgressOnTerminal(t *testing.T) {
	trees(t)
	rsync := rsynctest.RequireRsync(t)
	gorsync := rsynctest.BuildGorsync(t)
	root := t.TempDir()
	rsh := filepath.Join(root, "slowrsh")
	script := "#!/bin/sh\nshift\nexec sh -c \"$(echo \"$*\" | sed 's/--server /--server --bwlimit=300 /')\"\n"
	if err := os.WriteFile(rsh, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 1<<20)
	rand.New(rand.NewSource(optSeed)).Read(data)
	os.MkdirAll(filepath.Join(root, "src"), 0o755)
	if err := os.WriteFile(filepath.Join(root, "src/big"), data, 0o644); err != nil {
		t.Fatal(err)
	}

	master, tty := openPty(t)
	defer master.Close()
	cmd := exec.Command(gorsync, "-rP", "-e", rsh, "--rsync-path="+rsync, "localhost:"+filepath.Join(root, "src")+"/", "dst/")
	cmd.Dir = root
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-done
		}
	}()

	var mu sync.Mutex
	var out []byte
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			mu.Lock()
			out = append(out, buf[:n]...)
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	screen := func() ([]byte, string) {
		mu.Lock()
		defer mu.Unlock()
		return bytes.Clone(out), screenLine(out)
	}

	// Two looks at the screen a little more than a second apart, both
	// while the file is on its way.
	var seen []string
	deadline := time.Now().Add(8 * time.Second)
	for len(seen) < 2 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		select {
		case err := <-done:
			all, _ := screen()
			t.Fatalf("gorsync ended (%v) before two updates were seen; output %q", err, all)
		default:
		}
		all, line := screen()
		m := progressUpdate.FindStringSubmatch(line)
		if m == nil || m[1] == "100" || len(seen) > 0 && line == seen[len(seen)-1] {
			continue
		}
		if !strings.Contains(strings.ReplaceAll(string(all), "\r\n", "\n"), "big\n") {
			t.Errorf("no name line before the progress: %q", all)
		}
		seen = append(seen, line)
		if len(seen) == 1 {
			time.Sleep(time.Second)
		}
	}
	if len(seen) < 2 {
		all, _ := screen()
		t.Fatalf("saw %d in-place updates in 8 s; output %q", len(seen), all)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("gorsync: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("gorsync did not finish")
	}
	all, _ := screen()
	// The updates and the final line share one line of the screen.
	final := "1,048,576 100%" // len(data)
	lines := strings.Split(strings.ReplaceAll(string(all), "\r\n", "\n"), "\n")
	var fileLine string
	for i, l := range lines {
		if l == "big" && i+1 < len(lines) {
			fileLine = lines[i+1]
		}
	}
	parts := strings.Split(fileLine, "\r")
	last := parts[len(parts)-1]
	if len(parts) < 3 || !strings.Contains(last, final) || !strings.Contains(last, "(xfr#1, to-chk=0/2)") {
		t.Errorf("the file's line %q: want updates overwritten by %q ... (xfr#1, to-chk=0/2)", fileLine, final)
	}
	t.Logf("screen mid-transfer: %q, then %q", seen[0], seen[1])
}
