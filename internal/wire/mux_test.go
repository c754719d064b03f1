package wire

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"sync"
	"testing"

	"github.com/gorsync/gorsync/internal/fastio"
)

// muxOp is one call on a MuxWriter.
type muxOp struct {
	code MsgCode // MsgData: Write, or WriteBuffers when bufs is set
	data []byte
	bufs [][]byte
}

func pattern(n, seed int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + seed)
	}
	return b
}

// muxOps covers empty and tiny payloads, a payload larger than the copy
// buffer, one larger than a frame (two frames), messages between data, and
// WriteBuffers with an empty piece.
func muxOps() []muxOp {
	return []muxOp{
		{code: MsgData, data: pattern(5, 1)},
		{code: MsgData, data: nil},
		{code: MsgInfo, data: []byte("hello\n")},
		{code: MsgNoop, data: nil},
		{code: MsgData, data: pattern(frameBuf+1, 2)},
		{code: MsgData, bufs: [][]byte{pattern(8, 3), nil, pattern(32<<10, 4)}},
		{code: MsgData, data: pattern(maxFrame+100, 5)},
		{code: MsgSuccess, data: pattern(20, 6)},
		{code: MsgData, bufs: [][]byte{pattern(maxFrame+1, 7), pattern(3, 8)}},
		{code: MsgData, data: pattern(1, 9)},
	}
}

func apply(t *testing.T, m *MuxWriter, ops []muxOp) {
	t.Helper()
	for i, op := range ops {
		switch {
		case op.bufs != nil:
			want := 0
			for _, b := range op.bufs {
				want += len(b)
			}
			if n, err := m.WriteBuffers(op.bufs); err != nil || n != int64(want) {
				t.Fatalf("op %d: WriteBuffers = %d, %v; want %d", i, n, err, want)
			}
		case op.code == MsgData:
			if n, err := m.Write(op.data); err != nil || n != len(op.data) {
				t.Fatalf("op %d: Write = %d, %v; want %d", i, n, err, len(op.data))
			}
		default:
			if err := m.WriteMsg(op.code, op.data); err != nil {
				t.Fatalf("op %d: WriteMsg: %v", i, err)
			}
		}
	}
}

// expected builds the stream muxOps must produce, frame by frame, from
// rsync's framing rule (io.c mplex_write), independently of MuxWriter.
func expected(ops []muxOp) []byte {
	var out []byte
	frame := func(code MsgCode, p []byte) {
		out = binary.LittleEndian.AppendUint32(out, uint32(mplexBase+int(code))<<24|uint32(len(p)))
		out = append(out, p...)
	}
	data := func(p []byte) {
		for len(p) > 0 {
			c := min(len(p), maxFrame)
			frame(MsgData, p[:c])
			p = p[c:]
		}
	}
	for _, op := range ops {
		switch {
		case op.bufs != nil:
			for _, b := range op.bufs {
				data(b)
			}
		case op.code == MsgData:
			data(op.data)
		default:
			frame(op.code, op.data)
		}
	}
	return out
}

// pipeWriter returns the write end of an OS pipe as a vectored writer, and
// a function that waits for everything written before close to be read.
func pipeWriter(t *testing.T) (*os.File, func() []byte) {
	t.Helper()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	var got []byte
	var rerr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		got, rerr = io.ReadAll(pr)
		pr.Close()
	}()
	return pw, func() []byte {
		pw.Close()
		<-done
		if rerr != nil {
			t.Fatal(rerr)
		}
		return got
	}
}

// TestMuxWriterPaths sends the same calls through the copying path (an
// in-memory buffer) and the vectored path (a non-blocking OS pipe that
// fills, so writes are partial and wait in the poller) and checks both
// streams byte for byte against rsync's framing.
func TestMuxWriterPaths(t *testing.T) {
	fio := fastio.Defaults().With(fastio.Writev, true) // the vectored path, whatever GORSYNC_FASTIO says
	ops := muxOps()
	want := expected(ops)

	var buf bytes.Buffer
	plain := NewMuxWriter(&buf)
	if plain.vw != nil {
		t.Fatal("a bytes.Buffer got the vectored path")
	}
	apply(t, plain, ops)
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("copying path: %d bytes differ from the %d expected", buf.Len(), len(want))
	}

	pw, wait := pipeWriter(t)
	vw := fio.NewVecWriter(pw)
	if vw == nil {
		t.Fatal("no vectored writer for an OS pipe")
	}
	before := fastio.WritevCalls()
	vec := NewMuxWriter(vw)
	apply(t, vec, ops)
	got := wait()
	if !bytes.Equal(got, want) {
		t.Fatalf("vectored path: %d bytes differ from the %d expected", len(got), len(want))
	}
	if fastio.WritevCalls() == before {
		t.Fatal("the vectored path made no writev")
	}
}

// TestMuxWriterSwitchOff checks that with the Writev path off a pipe gets
// no vectored writer and the MuxWriter copies frames as before.
func TestMuxWriterSwitchOff(t *testing.T) {
	fio := fastio.Defaults().With(fastio.Writev, false)
	pw, wait := pipeWriter(t)
	if fio.NewVecWriter(pw) != nil {
		t.Fatal("Writev off, but NewVecWriter returned a writer")
	}
	m := NewMuxWriter(pw)
	if m.vw != nil {
		t.Fatal("an *os.File alone must not select the vectored path")
	}
	ops := muxOps()[:6]
	apply(t, m, ops)
	if got := wait(); !bytes.Equal(got, expected(ops)) {
		t.Fatal("stream differs")
	}
}

// TestMuxWriterConcurrent has several goroutines share one vectored
// MuxWriter, as roles do, and checks through MuxReader that every frame
// arrives whole: messages intact and in each sender's order.
func TestMuxWriterConcurrent(t *testing.T) {
	fio := fastio.Defaults().With(fastio.Writev, true) // the vectored path, whatever GORSYNC_FASTIO says
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	m := NewMuxWriter(fio.NewVecWriter(pw))
	const senders, each = 4, 300
	var wg sync.WaitGroup
	for s := range senders {
		wg.Go(func() {
			for i := range each {
				msg := fmt.Appendf(nil, "%d:%d:%s", s, i, bytes.Repeat([]byte{'x'}, i%97))
				if err := m.WriteMsg(MsgInfo, msg); err != nil {
					t.Error(err)
					return
				}
				if i%10 == 0 {
					if _, err := m.Write(pattern(40<<10, s)); err != nil {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	go func() {
		wg.Wait()
		pw.Close()
	}()
	next := make([]int, senders)
	mr := NewMuxReader(pr, func(code MsgCode, p []byte) error {
		f := bytes.SplitN(p, []byte(":"), 3)
		var s, i int
		if len(f) != 3 || code != MsgInfo {
			return fmt.Errorf("torn message %v %q", code, p)
		}
		fmt.Sscan(string(f[0]), &s)
		fmt.Sscan(string(f[1]), &i)
		if s < 0 || s >= senders || i != next[s] || len(f[2]) != i%97 {
			return fmt.Errorf("message %q out of order or torn", p)
		}
		next[s]++
		return nil
	})
	n, err := io.Copy(io.Discard, mr)
	if err != nil {
		t.Fatal(err)
	}
	for s, got := range next {
		if got != each {
			t.Errorf("sender %d: %d messages arrived, want %d", s, got, each)
		}
	}
	if want := int64(senders * (each / 10) * 40 << 10); n != want {
		t.Errorf("%d data bytes, want %d", n, want)
	}
}

// shortWriter is a BuffersWriter that takes at most limit bytes per call,
// through either method, and then fails, to check the payload count a failed vectored write returns.
type shortWriter struct {
	limit int64
	got   bytes.Buffer
}

func (s *shortWriter) Write(p []byte) (int, error) {
	n, err := s.WriteBuffers([][]byte{p})
	return int(n), err
}

func (s *shortWriter) WriteBuffers(bufs [][]byte) (int64, error) {
	var n int64
	for _, b := range bufs {
		c := min(int64(len(b)), s.limit-n)
		s.got.Write(b[:c])
		n += c
	}
	return n, io.ErrClosedPipe
}

// TestMuxWriterFailedWriteCount checks that Write reports only payload
// bytes (not headers) when the connection fails part way.
func TestMuxWriterFailedWriteCount(t *testing.T) {
	for _, tc := range []struct {
		limit int64
		p     int
		want  int
	}{
		{limit: 0, p: 10, want: 0},
		{limit: 3, p: 10, want: 0},
		{limit: 4, p: 10, want: 0},
		{limit: 9, p: 10, want: 5},
		{limit: 14, p: 10, want: 10},
		{limit: 4 + maxFrame + 4 + 2, p: maxFrame + 10, want: maxFrame + 2},
	} {
		m := NewMuxWriter(&shortWriter{limit: tc.limit})
		n, err := m.Write(make([]byte, tc.p))
		if err == nil || n != tc.want {
			t.Errorf("limit %d, %d bytes: Write = %d, %v; want %d and an error", tc.limit, tc.p, n, err, tc.want)
		}
	}
}

// TestQueueMsg: queued messages cost no write of their own; they go out
// in order ahead of the next data or message, or at Flush.
func TestQueueMsg(t *testing.T) {
	var out countingWriter
	m := NewMuxWriter(&out)
	for i := range 100 {
		if err := m.QueueMsg(MsgDeleted, []byte(fmt.Sprintf("f%02d", i))); err != nil {
			t.Fatal(err)
		}
	}
	if out.writes != 0 {
		t.Fatalf("%d writes for queued messages", out.writes)
	}
	if _, err := m.Write([]byte("data")); err != nil {
		t.Fatal(err)
	}
	m.QueueMsg(MsgDeleted, []byte("last"))
	if err := m.Flush(); err != nil {
		t.Fatal(err)
	}
	var got []string
	r := NewMuxReader(bytes.NewReader(out.Bytes()), func(code MsgCode, p []byte) error {
		got = append(got, fmt.Sprintf("%v:%s", code, p))
		return nil
	})
	data, err := io.ReadAll(r)
	if err != nil || string(data) != "data" {
		t.Fatalf("data %q, %v", data, err)
	}
	if len(got) != 101 || got[0] != MsgDeleted.String()+":f00" || got[99] != MsgDeleted.String()+":f99" || got[100] != MsgDeleted.String()+":last" {
		t.Fatalf("messages %d: %q ... %q", len(got), got[0], got[len(got)-1])
	}
	if out.writes != 3 { // the queue, the data, the flushed message
		t.Errorf("%d writes, want 3", out.writes)
	}
}

type countingWriter struct {
	bytes.Buffer
	writes int
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.writes++
	return c.Buffer.Write(p)
}
