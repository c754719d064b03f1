package wire

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gorsync/gorsync/internal/fastio"
	"golang.org/x/sys/unix"
)

// muxWorkload is one kind of message the benchmarks send; op sends one.
type muxWorkload struct {
	name  string
	count int // messages sent by the child counted under strace
	bytes int64
	op    func(m *MuxWriter, w *Writer) error
}

var (
	benchMsg   = []byte(strings.Repeat("m", 40))
	benchBlock = pattern(32<<10, 1)
	benchLarge = pattern(512<<10, 2)
	benchToken = []byte{0, 0x80, 0, 0} // a literal run's length, as the sender writes it
)

var muxWorkloads = []muxWorkload{
	// A small message (MSG_INFO of 40 bytes), as log lines or MSG_SUCCESS.
	{"msg40", 4000, 40, func(m *MuxWriter, _ *Writer) error { return m.WriteMsg(MsgInfo, benchMsg) }},
	// The sender's literal data through the wire.Writer: a 4-byte token
	// buffered, then a 32 KiB block written through, as two frames (which
	// the Writer hands to a vectored MuxWriter together).
	{"token32k", 2000, 4 + 32<<10, func(_ *MuxWriter, w *Writer) error {
		w.WriteInt(32 << 10)
		w.Write(benchBlock)
		return w.Err()
	}},
	// The same two frames handed to the MuxWriter together (WriteBuffers),
	// as a wire.Writer that gathers its flush with the block would.
	{"token32k-gathered", 2000, 4 + 32<<10, func(m *MuxWriter, _ *Writer) error {
		_, err := m.WriteBuffers([][]byte{benchToken, benchBlock})
		return err
	}},
	// A 512 KiB data write: one frame larger than the copy buffer.
	{"data512k", 500, 512 << 10, func(m *MuxWriter, _ *Writer) error {
		_, err := m.Write(benchLarge)
		return err
	}},
}

// newBenchMux returns a MuxWriter on f, vectored or copying, and the
// wire.Writer over it.
func newBenchMux(f *os.File, vectored bool) (*MuxWriter, *Writer) {
	var m *MuxWriter
	if vectored {
		fio := fastio.Defaults().With(fastio.Writev, true)
		m = NewMuxWriter(fio.NewVecWriter(f))
	} else {
		m = NewMuxWriter(f)
	}
	return m, NewWriter(m)
}

const muxChildEnv = "GORSYNC_MUX_BENCH_CHILD"

// TestMuxBenchChild is the child BenchmarkMux counts system calls in: it
// sends one workload's messages to descriptor 3 and exits. It does nothing
// in a normal test run.
func TestMuxBenchChild(t *testing.T) {
	spec := os.Getenv(muxChildEnv)
	if spec == "" {
		return
	}
	var name, mode string
	var count int
	if _, err := fmt.Sscanf(strings.ReplaceAll(spec, ",", " "), "%s %s %d", &name, &mode, &count); err != nil {
		t.Fatalf("%s=%q: %v", muxChildEnv, spec, err)
	}
	f := os.NewFile(3, "bench pipe")
	for _, wl := range muxWorkloads {
		if wl.name != name {
			continue
		}
		m, w := newBenchMux(f, mode == "writev")
		if (m.vw != nil) != (mode == "writev") {
			t.Fatalf("mode %s: vectored %v", mode, m.vw != nil)
		}
		for range count {
			if err := wl.op(m, w); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		f.Close()
		return
	}
	t.Fatalf("no workload %q", name)
}

// countMuxSyscalls runs the workload in a child under strace and returns
// the write and writev calls it made on the pipe per message.
func countMuxSyscalls(tb testing.TB, wl muxWorkload, mode string) (float64, error) {
	strace, err := exec.LookPath("strace")
	if err != nil {
		return 0, err
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return 0, err
	}
	defer pr.Close()
	// Room for a whole message, so that the child's writes do not wait
	// for the reader (best effort: the pipe keeps its size on failure).
	unix.FcntlInt(pr.Fd(), unix.F_SETPIPE_SZ, 1<<20)
	log := filepath.Join(tb.TempDir(), "strace.log")
	cmd := exec.Command(strace, "-f", "-qq", "-e", "trace=write,writev", "-o", log,
		os.Args[0], "-test.run=^TestMuxBenchChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s,%s,%d", muxChildEnv, wl.name, mode, wl.count))
	cmd.ExtraFiles = []*os.File{pw}
	drained := make(chan error, 1)
	go func() {
		_, err := io.Copy(io.Discard, pr)
		drained <- err
	}()
	out, err := cmd.CombinedOutput()
	pw.Close()
	if err != nil {
		return 0, fmt.Errorf("child: %v: %s", err, out)
	}
	if err := <-drained; err != nil {
		return 0, err
	}
	f, err := os.Open(log)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	calls := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// "PID write(3, ..." or "PID writev(3, ...", finished or not.
		_, call, _ := strings.Cut(sc.Text(), " ")
		call = strings.TrimLeft(call, " ")
		if strings.HasPrefix(call, "write(3,") || strings.HasPrefix(call, "writev(3,") {
			calls++
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return float64(calls) / float64(wl.count), nil
}

// BenchmarkMux sends each workload through a MuxWriter to an OS pipe that
// a goroutine drains, vectored (writev) and copying (plain), and reports
// the write system calls per message, counted with strace in a child
// process that sends the workload's messages (skipped without strace).
func BenchmarkMux(b *testing.B) {
	for _, wl := range muxWorkloads {
		for _, mode := range []string{"writev", "plain"} {
			b.Run(wl.name+"/"+mode, func(b *testing.B) {
				pr, pw, err := os.Pipe()
				if err != nil {
					b.Fatal(err)
				}
				go io.Copy(io.Discard, pr)
				defer pr.Close()
				defer pw.Close()
				m, w := newBenchMux(pw, mode == "writev")
				b.SetBytes(wl.bytes)
				for b.Loop() {
					if err := wl.op(m, w); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				n, err := countMuxSyscalls(b, wl, mode)
				if err != nil {
					b.Logf("syscalls not counted: %v", err)
					return
				}
				b.ReportMetric(n, "syscalls/msg")
			})
		}
	}
}

// TestMuxSyscallCounts checks the counts BenchmarkMux reports where they
// follow from the framing: one write per message when the connection is
// vectored, two for a payload larger than the copy buffer when it is not.
func TestMuxSyscallCounts(t *testing.T) {
	if testing.Short() {
		t.Skip("runs children under strace")
	}
	if _, err := exec.LookPath("strace"); err != nil {
		t.Skip("no strace")
	}
	want := map[string]float64{
		"msg40/writev": 1, "msg40/plain": 1,
		"token32k/writev": 1, "token32k/plain": 2,
		"token32k-gathered/writev": 1, "token32k-gathered/plain": 2,
		"data512k/writev": 1, "data512k/plain": 2,
	}
	for _, wl := range muxWorkloads {
		for _, mode := range []string{"writev", "plain"} {
			wl := wl
			wl.count = 50
			got, err := countMuxSyscalls(t, wl, mode)
			if err != nil {
				t.Fatal(err)
			}
			// A signal can cut a blocking write short and add one.
			if key := wl.name + "/" + mode; got < want[key] || got > want[key]*1.1 {
				t.Errorf("%s: %v write calls per message, want %v", key, got, want[key])
			}
		}
	}
}
