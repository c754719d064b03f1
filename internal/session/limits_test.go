package session

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorsync/gorsync/internal/options"
	"github.com/gorsync/gorsync/internal/protocol"
	"github.com/gorsync/gorsync/internal/transport"
)

// watchedPair connects a client (watched by w) and a server in memory and
// returns the server's connection; the server reads nothing, so the only
// traffic after the set-up is the client's keepalives.
func watchedPair(t *testing.T, w *watch) *protocol.Conn {
	t.Helper()
	toServer, toClient := transport.NewPipe(64<<10), transport.NewPipe(64<<10)
	t.Cleanup(func() { toServer.CloseWrite(nil); toClient.CloseWrite(nil) })
	done := make(chan *protocol.Conn, 1)
	go func() {
		pc, err := protocol.Connect(toServer, toClient, protocol.Config{AmServer: true, Protocol: protocol.MaxVersion})
		if err != nil {
			t.Error(err)
		}
		done <- pc
	}()
	pc, err := protocol.Connect(toClient, toServer, protocol.Config{AmSender: true, Protocol: protocol.MaxVersion, Clock: w.ioClock()})
	if err != nil {
		t.Fatal(err)
	}
	w.setConn(pc)
	return <-done
}

// TestWatchKeepsIdleConnectionAlive leaves a connection idle for longer
// than --timeout: the watch's empty MSG_DATA frames reach the peer and
// count as this side's I/O, so the transfer lives on, as rsync's
// maybe_send_keepalive keeps it.
func TestWatchKeepsIdleConnectionAlive(t *testing.T) {
	cfg := &Config{Role: Push, Opts: &options.Options{LimitOptions: options.LimitOptions{Timeout: 2}}}
	ctx, w := startWatch(context.Background(), cfg)
	server := watchedPair(t, w)
	before := server.BytesRead()
	go func() {
		var b [1]byte
		server.R.Read(b[:]) // drains the keepalives until the pipe closes
	}()
	time.Sleep(3500 * time.Millisecond)
	if err := w.stop(); err != nil {
		t.Fatalf("idle but healthy connection timed out: %v", err)
	}
	if ctx.Err() != nil {
		t.Fatal("transfer cancelled")
	}
	if n := server.BytesRead() - before; n < 4 || n%4 != 0 {
		t.Errorf("peer read %d bytes of keepalives, want whole empty frames", n)
	}
}

// TestWatchTimesOut checks the other side of the same clock: without the
// keepalives (a connection not yet set up), the idle transfer ends with
// rsync's message and exit code 30.
func TestWatchTimesOut(t *testing.T) {
	cfg := &Config{Role: Pull, Opts: &options.Options{LimitOptions: options.LimitOptions{Timeout: 1}}}
	ctx, w := startWatch(context.Background(), cfg)
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("no timeout after 5s idle with --timeout=1")
	}
	err := w.stop()
	le, ok := err.(*limitError)
	if !ok || le.ExitCode() != 30 || le.Error() != "[Receiver] io timeout after 1 seconds -- exiting\n" {
		t.Errorf("err = %#v", err)
	}
}

// TestBwLimitSlowsLocalCopy checks that --bwlimit is honoured by a local
// copy (which then streams its data instead of handing files over): 384
// KiB at 256 KiB/s cannot take less than a second, while the same copy
// unpaced takes a fraction of that. rsync's pacing lets the first tenth
// of a second's worth go unslept, hence the margin.
func TestBwLimitSlowsLocalCopy(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	os.Mkdir(src, 0o755)
	if err := os.WriteFile(filepath.Join(src, "f"), make([]byte, 384<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(dst string, args ...string) time.Duration {
		start := time.Now()
		_, errOut, code, _ := runLocal(t, nil, append(args, "-a", src+"/", filepath.Join(dir, dst)+"/")...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		return time.Since(start)
	}
	fast := run("fast")
	slow := run("slow", "--bwlimit=256")
	if slow < time.Second || slow < 2*fast {
		t.Errorf("--bwlimit=256 copied 384 KiB in %v (unpaced %v), want at least 1s", slow, fast)
	}
	got, err := os.ReadFile(filepath.Join(dir, "slow", "f"))
	if err != nil || len(got) != 384<<10 || strings.Trim(string(got), "\x00") != "" {
		t.Errorf("paced copy's file differs: %d bytes, %v", len(got), err)
	}
}

// TestStopAtEndsLocalCopy stops a paced local copy a second into it: exit
// code 30 and rsync's "stopping at requested limit". (--stop-at itself
// counts in minutes; interop/limits_test.go runs it against upstream.)
func TestStopAtEndsLocalCopy(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	os.Mkdir(src, 0o755)
	if err := os.WriteFile(filepath.Join(src, "f"), make([]byte, 2<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, errOut, code, _ := runLocal(t, func(cfg *Config) { cfg.Opts.StopAt = time.Now().Add(time.Second) },
		"-a", "--bwlimit=256", src+"/", filepath.Join(dir, "dst")+"/")
	took := time.Since(start)
	if code != 30 || !strings.HasPrefix(errOut, "stopping at requested limit\n") {
		t.Errorf("exit %d, stderr %q; want 30 and rsync's message", code, errOut)
	}
	if took > 4*time.Second {
		t.Errorf("stopped after %v, want about 1s", took)
	}
}
