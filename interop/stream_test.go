package interop

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorsync/gorsync/internal/rsynctest"
	"golang.org/x/sys/unix"
)

// The stream tests feed gorsync recorded upstream sessions that were cut
// short or damaged, and hold it to what rsync promises for a bad stream:
// exit code 12 ("error in rsync protocol data stream") or, where upstream
// rsync itself exits otherwise on the very same bytes, upstream's code; a
// message on stderr; no panic; no hang.

// streamSeed makes the chosen offsets and corruptions the same on every run.
const streamSeed = 20261126

// streamTimeout bounds one run of a program on one damaged stream; a run
// that outlives it is reported as a hang.
const streamTimeout = 10 * time.Second

// rsync exit codes the damaged-stream checks name.
const (
	exitProtocol = 2
	exitSocketIO = 10
	exitStreamIO = 12
	exitMalloc   = 22
	exitPartial  = 23
)

// recordScript is a remote shell that runs the command line like localRsh
// does and copies what flows into and out of it to $REC_IN and $REC_OUT, and
// the command line itself to $REC_ARGS. It waits for the output copy before
// exiting, so the recording is complete when the client returns.
const recordScript = `#!/bin/bash
shift
printf '%s' "$*" > "$REC_ARGS"
bash -c "$*" < <(tee "$REC_IN") > >(tee "$REC_OUT")
code=$?
wait $!
exit $code
`

// replayScript is a remote shell that ignores its command line, writes the
// file $REPLAY to the client, closes its output and then drains the client's
// output until the client goes away, as a server that died would.
const replayScript = `#!/bin/sh
cat "$REPLAY"
exec >&-
exec cat >/dev/null
`

// recording is one upstream session, seen from one side.
type recording struct {
	in, out []byte // what the client sent to the server, and the reply
	flags   string // the server's short-option word, e.g. -logDtpre.LsfxCIvu
}

// streamFixture holds the tiny source tree and the two recorded sessions.
type streamFixture struct {
	dir        string
	src        string
	recordSh   string
	replaySh   string
	push, pull recording
	// pullZstd and pullZlib are pulls with compressed file data.
	pullZstd, pullZlib recording
}

// makeStreamSource writes a small flat tree: a few regular files around
// rsync's block sizes and a symlink, with fixed contents and times. It has
// no subdirectory: upstream's generator and receiver are separate processes,
// and on a replayed stream the receiver can be handed a file's data before
// the generator made its directory, which would make upstream's own result
// depend on timing.
func makeStreamSource(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(streamSeed, 1))
	mtime := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	for _, f := range []struct {
		name string
		size int
	}{{"empty", 0}, {"small", 6}, {"block", 700}, {"data.bin", 5000}} {
		b := make([]byte, f.size)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		p := filepath.Join(dir, f.name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink("small", link); err != nil {
		t.Fatal(err)
	}
	// Fixed times for the symlink and the root too, so that the recordings
	// have the same length, and the seeded offsets the same meaning, on
	// every run.
	ts := []unix.Timespec{unix.NsecToTimespec(mtime.UnixNano()), unix.NsecToTimespec(mtime.UnixNano())}
	for _, p := range []string{link, dir} {
		if err := unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			t.Fatal(err)
		}
	}
}

// newStreamFixture records an upstream push and an upstream pull between an
// upstream client and an upstream server. Incremental recursion is off
// (gorsync does not offer it), so the client's bytes suit either server.
func newStreamFixture(t *testing.T) *streamFixture {
	t.Helper()
	rsync := rsynctest.RequireRsync(t)
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skipf("bash is needed to record sessions: %v", err)
	}
	f := &streamFixture{dir: t.TempDir()}
	f.src = filepath.Join(f.dir, "src")
	makeStreamSource(t, f.src)
	f.recordSh = filepath.Join(f.dir, "record.sh")
	f.replaySh = filepath.Join(f.dir, "replay.sh")
	for p, text := range map[string]string{f.recordSh: recordScript, f.replaySh: replayScript} {
		if err := os.WriteFile(p, []byte(text), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	record := func(name string, args ...string) recording {
		in, out, argv := filepath.Join(f.dir, name+".in"), filepath.Join(f.dir, name+".out"), filepath.Join(f.dir, name+".args")
		env := []string{"REC_IN=" + in, "REC_OUT=" + out, "REC_ARGS=" + argv}
		all := append([]string{"-a", "--no-inc-recursive", "-e", f.recordSh}, args...)
		rsynctest.MustRun(t, "", env, rsync, all...)
		var rec recording
		var err error
		if rec.in, err = os.ReadFile(in); err != nil {
			t.Fatal(err)
		}
		if rec.out, err = os.ReadFile(out); err != nil {
			t.Fatal(err)
		}
		line, err := os.ReadFile(argv)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range strings.Fields(string(line)) {
			if strings.HasPrefix(w, "-") && !strings.HasPrefix(w, "--") {
				rec.flags = w
				break
			}
		}
		if rec.flags == "" || len(rec.in) < 8 || len(rec.out) < 8 {
			t.Fatalf("recording %s: flags %q, %d bytes in, %d out, command %q", name, rec.flags, len(rec.in), len(rec.out), line)
		}
		return rec
	}
	f.push = record("push", f.src+"/", "localhost:"+filepath.Join(f.dir, "recorded-push")+"/")
	f.pull = record("pull", "localhost:"+f.src+"/", filepath.Join(f.dir, "recorded-pull")+"/")
	f.pullZstd = record("pull-zstd", "--zc=zstd", "localhost:"+f.src+"/", filepath.Join(f.dir, "recorded-pull-zstd")+"/")
	f.pullZlib = record("pull-zlib", "--zc=zlib", "localhost:"+f.src+"/", filepath.Join(f.dir, "recorded-pull-zlib")+"/")
	return f
}

// caseKind says what a damaged stream is expected to do.
type caseKind int

const (
	// truncated streams end early: exit 12, whatever else happens.
	truncated caseKind = iota
	// damaged streams are compared with upstream: same exit code.
	damaged
)

// streamCase is one damaged input.
type streamCase struct {
	name  string
	kind  caseKind
	input []byte
}

// muxStart finds where multiplexed frames begin in rec: the first offset
// from which 4-byte frame headers (little-endian; tag+7 in the top byte,
// length in the low three) chain exactly to the end of rec. It returns the
// offset and the frame offsets, or -1 if there is none.
func muxStart(rec []byte) (int, []int) {
	for h := 4; h+4 <= len(rec) && h < 256; h++ {
		var frames []int
		p := h
		for p+4 <= len(rec) {
			v := binary.LittleEndian.Uint32(rec[p:])
			if tag := v>>24 - 7; v>>24 < 7 || tag > 110 {
				break
			}
			frames = append(frames, p)
			p += 4 + int(v&0xffffff)
		}
		if p == len(rec) && len(frames) > 0 {
			return h, frames
		}
	}
	return -1, nil
}

// frameHeader encodes a multiplexed frame header.
func frameHeader(tag, n int) []byte {
	return binary.LittleEndian.AppendUint32(nil, uint32(tag+7)<<24|uint32(n))
}

// join concatenates byte slices into a new slice.
func join(parts ...[]byte) []byte {
	return bytes.Join(parts, nil)
}

// streamCases builds the damaged variants of one recorded stream: the fixed
// cases the protocol's structure suggests, then seeded random truncations and
// byte corruptions.
func streamCases(t *testing.T, rec []byte, seed uint64) []streamCase {
	t.Helper()
	h, frames := muxStart(rec)
	if h < 0 {
		t.Fatalf("no multiplexed frames found in the %d-byte recording", len(rec))
	}
	r := rand.New(rand.NewPCG(streamSeed, seed))
	version := func(v uint32) []byte {
		return join(binary.LittleEndian.AppendUint32(nil, v), rec[4:])
	}
	garbage := make([]byte, 64)
	for i := range garbage {
		garbage[i] = byte(r.Uint32())
	}
	cases := []streamCase{
		{"eof", truncated, nil},
		{"version-only", truncated, rec[:4]},
		{"version-cut", truncated, rec[:2]},
		{"version-5", damaged, version(5)},
		{"version-9999", damaged, version(9999)},
		{"version-negative", damaged, version(0xffffffff)},
		{"handshake-only", truncated, rec[:h]},
		{"handshake-cut", truncated, rec[:h-1]},
		{"frame-header-cut", truncated, rec[:h+2]},
		{"unknown-tag", damaged, join(rec[:h], frameHeader(120, 8), make([]byte, 8))},
		{"huge-frame-then-eof", truncated, join(rec[:h], frameHeader(0, 0xffffff), rec[h+4:min(len(rec), h+40)])},
		{"garbage-after-handshake", damaged, join(rec[:h], garbage)},
		{"garbage-frame", damaged, join(rec[:h], frameHeader(0, len(garbage)), garbage)},
		{"last-frame-cut", truncated, rec[:len(rec)-1]},
	}
	if len(frames) > 1 {
		cases = append(cases, streamCase{"second-frame-missing", truncated, rec[:frames[1]]})
	}
	for range 5 {
		n := h + 1 + r.IntN(len(rec)-h-1)
		cases = append(cases, streamCase{fmt.Sprintf("cut-at-%d", n), truncated, rec[:n]})
	}
	for i := range 6 {
		span := len(rec) - h
		if i < 4 {
			span = min(span, 300) // headers, file list, sum heads
		}
		off := h + r.IntN(span)
		x := byte(1 + r.IntN(255))
		b := bytes.Clone(rec)
		b[off] ^= x
		cases = append(cases, streamCase{fmt.Sprintf("xor-%d-at-%d", x, off), damaged, b})
	}
	return cases
}

// result is how one program ended on one input.
type result struct {
	code   int
	stderr string
	hung   bool
}

// runStream runs name with args in dir (and env added), stdin from input and
// stdout drained, for at most streamTimeout; the whole process group is
// killed on timeout.
func runStream(t *testing.T, input []byte, dir string, env []string, name string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), streamTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = bytes.NewReader(input)
	var errBuf bytes.Buffer
	// Not an *os.File, so exec gives the child a pipe and drains it, as a
	// peer would.
	cmd.Stdout = io.Discard
	cmd.Stderr = &errBuf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	res := result{stderr: errBuf.String()}
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		res.hung, res.code = true, -1
	case err == nil:
	case errors.As(err, &exitErr):
		res.code = exitErr.ExitCode()
	default:
		t.Fatalf("%s: %v", name, err)
	}
	return res
}

// replayCheck says how to judge a run whose exit code differs from
// upstream's on a damaged stream.
type replayCheck struct {
	// baseline is upstream's exit code on the undamaged recording. Upstream
	// cannot finish a replayed session (its generator and receiver share the
	// input, and the receiver reads ahead past the generator's last message),
	// so a damaged stream that is still valid ends with this code upstream
	// while gorsync completes it.
	baseline int
	// src and dst, for a receiving role, are the source tree and gorsync's
	// destination: when gorsync claims success on a damaged stream, it must
	// at least have written every regular file.
	src, dst string
}

// regularFiles counts the regular files directly in dir.
func regularFiles(t *testing.T, dir string) int {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		if e.Type().IsRegular() {
			n++
		}
	}
	return n
}

// checkStream applies the rules every damaged-stream run must keep, and the
// exit code rule of its kind; want is upstream's result on the same input.
func checkStream(t *testing.T, c streamCase, got, want result, rc replayCheck) {
	t.Helper()
	if got.hung {
		t.Fatalf("gorsync hung (killed after %v); upstream exited %d (hung: %v)\nstderr:\n%s", streamTimeout, want.code, want.hung, got.stderr)
	}
	if strings.Contains(got.stderr, "panic:") || strings.Contains(got.stderr, "goroutine ") {
		t.Fatalf("gorsync panicked (exit %d):\n%s", got.code, got.stderr)
	}
	if got.code != 0 && strings.TrimSpace(got.stderr) == "" {
		t.Errorf("gorsync exited %d without a message on stderr", got.code)
	}
	if rc.dst != "" && got.code == 0 {
		if w, g := regularFiles(t, rc.src), regularFiles(t, rc.dst); g != w {
			t.Errorf("gorsync exited 0 with %d of %d regular files written and no message\nstderr:\n%s", g, w, got.stderr)
		}
	}
	// Upstream's generator and receiver race on a dead peer: the one that
	// notices first decides between 12 (read EOF) and 10 (write EPIPE).
	if want.code == 10 && strings.Contains(want.stderr, "connection unexpectedly closed") {
		want.code = exitStreamIO
	}
	protoErr := func(code int) bool { return code == exitStreamIO || code == exitProtocol }
	switch {
	case c.kind == truncated:
		if got.code != exitStreamIO && got.code != want.code {
			t.Errorf("gorsync exited %d on a truncated stream, want %d (upstream rsync exited %d, hung: %v)\ngorsync stderr:\n%s\nupstream stderr:\n%s",
				got.code, exitStreamIO, want.code, want.hung, got.stderr, want.stderr)
		}
	case want.hung:
		t.Logf("upstream rsync hung on this input; gorsync exited %d", got.code)
	case got.code == want.code:
	case got.code == 0 && want.code == rc.baseline:
		t.Logf("still a valid stream: gorsync completed it; upstream ends its replays with %d", rc.baseline)
	case got.code == 0 && want.code == exitStreamIO:
		// The damage stayed within valid values for gorsync (a time, a
		// name, an item flag) and every file arrived (checked above);
		// upstream, replaying the same bytes, died of a read it could not
		// complete. Replays shift by a few bytes between recordings, so
		// this case comes and goes with the seeded offsets.
		t.Logf("gorsync completed a stream whose damage it could not see; upstream exited 12")
	case got.code == 0 && rc.dst == "":
		// gorsync sent files and found nothing wrong in what came back: a
		// corruption that stays within valid values (an item flag, a
		// checksum name) changes nothing a sender can check.
		t.Logf("gorsync as sender completed; upstream exited %d", want.code)
	case protoErr(got.code) && (protoErr(want.code) || want.code == exitMalloc || want.code == exitSocketIO):
		// Both refuse the stream; rsync's choice between 2, 12 and 22
		// depends on which of its checks trips first, and its generator
		// may die of the broken pipe (10) before its receiver reports.
		t.Logf("gorsync exited %d, upstream %d: both reject the stream", got.code, want.code)
	case got.code == exitPartial && strings.Contains(got.stderr, "failed verification") && (want.code == exitStreamIO || want.code == rc.baseline):
		// A corrupted file fails verification; the replay cannot resend it,
		// which gorsync reports as a failed file while upstream waits for
		// data the replay does not have.
		t.Logf("gorsync reported the corrupted file (23); upstream exited %d", want.code)
	default:
		t.Errorf("gorsync exited %d, upstream rsync %d\ngorsync stderr:\n%s\nupstream stderr:\n%s",
			got.code, want.code, got.stderr, want.stderr)
	}
}

// TestDamagedStreamServer feeds gorsync --server, as receiver and as sender,
// what an upstream client sent in a recorded session, truncated or corrupted,
// and runs upstream rsync --server on the same bytes for comparison.
func TestDamagedStreamServer(t *testing.T) {
	gorsync := rsynctest.BuildGorsync(t)
	rsync := rsynctest.RequireRsync(t)
	f := newStreamFixture(t)
	roles := []struct {
		name string
		rec  recording
		args func(dst string) []string
	}{
		{"receiver", f.push, func(dst string) []string { return []string{"--server", f.push.flags, ".", dst + "/"} }},
		{"sender", f.pull, func(string) []string { return []string{"--server", "--sender", f.pull.flags, ".", f.src + "/"} }},
	}
	for i, role := range roles {
		base := t.TempDir()
		baseline := runStream(t, role.rec.in, base, nil, rsync, role.args(filepath.Join(base, "dst"))...).code
		for _, c := range streamCases(t, role.rec.in, uint64(i)) {
			t.Run(role.name+"/"+c.name, func(t *testing.T) {
				t.Parallel()
				dir := t.TempDir()
				dst := filepath.Join(dir, "gorsync-dst")
				want := runStream(t, c.input, dir, nil, rsync, role.args(filepath.Join(dir, "rsync-dst"))...)
				got := runStream(t, c.input, dir, nil, gorsync, role.args(dst)...)
				rc := replayCheck{baseline: baseline}
				if role.name == "receiver" {
					rc.src, rc.dst = f.src, dst
				}
				checkStream(t, c, got, want, rc)
			})
		}
	}
}

// TestDamagedStreamClient runs gorsync as a client, pushing and pulling,
// against a fake server that replays what an upstream server sent in a
// recorded session, truncated or corrupted, and runs the upstream rsync
// client against the same replay for comparison.
func TestDamagedStreamClient(t *testing.T) {
	gorsync := rsynctest.BuildGorsync(t)
	rsync := rsynctest.RequireRsync(t)
	f := newStreamFixture(t)
	roles := []struct {
		name string
		rec  recording
		args func(dst string) []string
	}{
		{"push", f.push, func(string) []string {
			return []string{"-a", "-e", f.replaySh, f.src + "/", "localhost:" + filepath.Join(f.dir, "unused") + "/"}
		}},
		{"pull", f.pull, func(dst string) []string {
			return []string{"-a", "-e", f.replaySh, "localhost:" + f.src + "/", dst + "/"}
		}},
		// Compressed token streams: a corrupted one must end in an error,
		// never a panic or a hang.
		{"pull-zstd", f.pullZstd, func(dst string) []string {
			return []string{"-a", "--zc=zstd", "-e", f.replaySh, "localhost:" + f.src + "/", dst + "/"}
		}},
		{"pull-zlib", f.pullZlib, func(dst string) []string {
			return []string{"-a", "--zc=zlib", "-e", f.replaySh, "localhost:" + f.src + "/", dst + "/"}
		}},
	}
	replayRun := func(t *testing.T, dir string, input []byte, prog, dst string, args func(string) []string) result {
		replay := filepath.Join(dir, filepath.Base(prog)+".replay")
		if err := os.WriteFile(replay, input, 0o644); err != nil {
			t.Fatal(err)
		}
		return runStream(t, nil, dir, []string{"REPLAY=" + replay}, prog, args(dst)...)
	}
	for i, role := range roles {
		base := t.TempDir()
		baseline := replayRun(t, base, role.rec.out, rsync, filepath.Join(base, "dst"), role.args).code
		for _, c := range streamCases(t, role.rec.out, uint64(10+i)) {
			t.Run(role.name+"/"+c.name, func(t *testing.T) {
				t.Parallel()
				dir := t.TempDir()
				dst := filepath.Join(dir, "gorsync-dst")
				want := replayRun(t, dir, c.input, rsync, filepath.Join(dir, "rsync-dst"), role.args)
				got := replayRun(t, dir, c.input, gorsync, dst, role.args)
				rc := replayCheck{baseline: baseline}
				if role.name == "pull" {
					rc.src, rc.dst = f.src, dst
				}
				checkStream(t, c, got, want, rc)
			})
		}
	}
}
