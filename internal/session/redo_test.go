package session

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorsync/gorsync/internal/options"
	"github.com/gorsync/gorsync/internal/rsynctest"
	"github.com/gorsync/gorsync/internal/transport"
)

// redoCase prepares a source and a stale destination whose file must travel
// as a delta.
func redoCase(t *testing.T) (src, dst string, data []byte) {
	t.Helper()
	root := t.TempDir()
	src, dst = filepath.Join(root, "src"), filepath.Join(root, "dst")
	os.MkdirAll(src, 0o755)
	os.MkdirAll(dst, 0o755)
	rng := rand.New(rand.NewPCG(1, 2))
	data = make([]byte, 300_000)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	old := bytes.Clone(data)
	copy(old[1000:], "an edit the delta has to carry")
	os.WriteFile(filepath.Join(src, "f"), data, 0o644)
	os.WriteFile(filepath.Join(dst, "f"), old, 0o644)
	past := time.Now().Add(-time.Hour)
	os.Chtimes(filepath.Join(dst, "f"), past, past)
	return src, dst, data
}

// runUpstream runs a push or pull command line ("localhost:" naming the
// remote side) against upstream rsync's server, started directly rather
// than over a remote shell, with adjust (if not nil) applied to the Config.
// Upstream's server is told the client's own capability letters
// (Config.ServerArgs: 'i' where the client allows incremental recursion).
func runUpstream(t *testing.T, args []string, env Env, adjust func(*Config)) error {
	t.Helper()
	o, err := options.Parse(args, os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := NewConfig(o, env)
	if err != nil {
		t.Fatal(err)
	}
	if adjust != nil {
		adjust(cfg)
	}
	conn := startUpstream(t, cfg)
	_, err = Run(context.Background(), cfg, conn)
	if werr := conn.Wait(); err == nil {
		err = werr
	}
	return err
}

// startUpstream starts upstream rsync's server for cfg's push or pull.
func startUpstream(t *testing.T, cfg *Config) *transport.Conn {
	t.Helper()
	rsync := rsynctest.RequireRsync(t)
	argv := append([]string{rsync}, cfg.ServerArgs()...)
	// No remote shell: run the server directly, so shell quoting is moot.
	for i, a := range argv {
		argv[i] = strings.ReplaceAll(a, `\`, "")
	}
	conn, err := transport.Start(argv, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

// TestRedoAfterBasisChange pulls from upstream rsync's sender while the
// destination file changes after its block sums were sent: gorsync's
// receiver must detect the whole-file checksum mismatch, ask for the file
// again in the redo phase with full-length sums, and end with the source.
func TestRedoAfterBasisChange(t *testing.T) {
	src, dst, data := redoCase(t)
	var mu sync.Mutex
	calls := 0
	afterSums := func(name string) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls == 1 {
			// Same size, different bytes: every matched block is now wrong.
			junk := bytes.Repeat([]byte{0x5a}, len(data))
			os.WriteFile(filepath.Join(dst, name), junk, 0o644)
		}
	}
	var stdout, stderr bytes.Buffer
	err := runUpstream(t, []string{"-a", "--no-W", "-vv", "localhost:" + src + "/", dst + "/"}, Env{Stdout: &stdout, Stderr: &stderr},
		func(cfg *Config) { cfg.Hooks.AfterSums = afterSums })
	if err != nil {
		t.Fatalf("pull: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	if calls != 2 {
		t.Errorf("generator sent sums %d times, want 2 (original and redo)", calls)
	}
	if !strings.Contains(stderr.String(), "WARNING: f failed verification -- update discarded (will try again).") {
		t.Errorf("no retransmission notice in:\n%s", stderr.String())
	}
	got, _ := os.ReadFile(filepath.Join(dst, "f"))
	if !bytes.Equal(got, data) {
		t.Error("destination differs from source after the redo")
	}
}

// TestUpstreamRedoesCorruptSum pushes to upstream rsync's receiver with the
// first whole-file checksum spoiled: upstream must ask gorsync's sender for
// the file again, and the second sending must succeed.
func TestUpstreamRedoesCorruptSum(t *testing.T) {
	src, dst, data := redoCase(t)
	var mu sync.Mutex
	sends := 0
	corrupt := func(string) bool {
		mu.Lock()
		defer mu.Unlock()
		sends++
		return sends == 1
	}
	var stdout, stderr bytes.Buffer
	err := runUpstream(t, []string{"-a", "--no-W", src + "/", "localhost:" + dst + "/"}, Env{Stdout: &stdout, Stderr: &stderr},
		func(cfg *Config) { cfg.Hooks.CorruptSum = corrupt })
	if err != nil {
		t.Fatalf("push: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	if sends != 2 {
		t.Errorf("sender sent the file %d times, want 2", sends)
	}
	got, _ := os.ReadFile(filepath.Join(dst, "f"))
	if !bytes.Equal(got, data) {
		t.Error("destination differs from source after the redo")
	}
}
