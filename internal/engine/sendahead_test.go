package engine

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gorsync/gorsync/internal/checksum"
	"github.com/gorsync/gorsync/internal/delta"
	"github.com/gorsync/gorsync/internal/fastio"
	"github.com/gorsync/gorsync/internal/flist"
	"github.com/gorsync/gorsync/internal/protocol"
	"github.com/gorsync/gorsync/internal/wire"
)

// nopLog drops what the sender logs.
type nopLog struct{}

func (nopLog) Info(string)      {}
func (nopLog) Error(string)     {}
func (nopLog) Warning(string)   {}
func (nopLog) XferError(string) {}

// chunkReader serves the generator's stream one chunk per Read (a chunk
// is what the generator has sent by then) and records, at each Read, how
// many bytes the sender had written: the sender waits for input there.
type chunkReader struct {
	chunks [][]byte
	out    *bytes.Buffer
	w      *wire.Writer
	at     []int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	r.at = append(r.at, r.out.Len()+r.w.Buffered())
	if len(r.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.chunks[0])
	if r.chunks[0] = r.chunks[0][n:]; len(r.chunks[0]) == 0 {
		r.chunks = r.chunks[1:]
	}
	return n, nil
}

// senderSession is a delta session: source files, and the generator's
// requests for them against edited bases, in chunks of several requests.
type senderSession struct {
	dir    string
	list   *flist.List
	chunks [][]byte
}

var sessionParams = checksum.Params{Kind: checksum.MD5, Seed: 11, ProperSeedOrder: true}

// newSenderSession makes files files of minSize bytes and up; with mixed,
// some are whole-file transfers and some bases are cut short.
func newSenderSession(t testing.TB, files, minSize, maxSize int, mixed bool) *senderSession {
	t.Helper()
	ss := &senderSession{dir: t.TempDir(), list: &flist.List{}}
	codec := wire.NewNdxCodec(31)
	var chunk bytes.Buffer
	w := wire.NewWriter(&chunk)
	r := rand.New(rand.NewPCG(5, 6))
	for i := range files {
		size := minSize + r.IntN(maxSize-minSize)
		if mixed && i%5 == 3 {
			size = 300 << 10
		}
		src := randBytes(uint64(i+1), size)
		name := fmt.Sprintf("f%02d", i)
		if err := os.WriteFile(filepath.Join(ss.dir, name), src, 0o644); err != nil {
			t.Fatal(err)
		}
		ss.list.Entries = append(ss.list.Entries, &flist.Entry{Base: name, Mode: flist.ModeRegular | 0o644, Size: int64(size)})
		basis := bytes.Clone(src)
		for range 10 {
			basis[r.IntN(len(basis))] ^= 0x5a
		}
		if mixed && i%7 == 6 {
			basis = basis[:len(basis)/2]
		}
		head, err := checksum.SumSizes(int64(len(basis)), 0, 31, checksum.ShortSumLength, sessionParams.DigestLen())
		if err != nil {
			t.Fatal(err)
		}
		var sums delta.Sums
		if !mixed || i%4 != 2 { // every fourth a whole-file transfer
			if err := sums.Compute(basis, head, checksum.NewBlockHasher(sessionParams)); err != nil {
				t.Fatal(err)
			}
		}
		codec.Write(w, int32(i))
		w.WriteShortint(uint16(itemTransfer))
		if err := delta.WriteSums(w, &sums); err != nil {
			t.Fatal(err)
		}
		if i%5 == 4 {
			w.Flush()
			ss.chunks = append(ss.chunks, bytes.Clone(chunk.Bytes()))
			chunk.Reset()
		}
	}
	for range 5 { // end of phases 1 and 2, of the transfer, goodbye
		codec.Write(w, wire.NdxDone)
	}
	w.Flush()
	ss.chunks = append(ss.chunks, bytes.Clone(chunk.Bytes()))
	return ss
}

// run runs a sender over the session and returns what it wrote and how
// much of it it had written at each wait for input.
func (ss *senderSession) run(t testing.TB, compression string, o *Options) ([]byte, []int) {
	t.Helper()
	var out bytes.Buffer
	w := wire.NewWriter(&out)
	in := &chunkReader{chunks: slices.Clone(ss.chunks), out: &out, w: w}
	for i, c := range in.chunks {
		in.chunks[i] = bytes.Clone(c)
	}
	s := &Sender{
		Conn: &Conn{Conn: &protocol.Conn{R: wire.NewReader(in), W: w, Session: &protocol.Session{
			Protocol: 31, XferSum: checksum.MD5, Seed: 11, CompatFlags: protocol.CFChksumSeedFix, Compression: compression,
		}}, Log: nopLog{}},
		Opts: o,
		List: ss.list,
		Open: func(e *flist.Entry) (*os.File, error) { return os.Open(filepath.Join(ss.dir, e.Name())) },
	}
	if err := s.Run(false); err != nil {
		t.Fatal(err)
	}
	return out.Bytes(), in.at
}

// TestSendAhead runs the same delta session with the block searches on
// workers and serially: the sender's output must be the same bytes, plain
// and compressed, and at every wait for the generator's input it must
// have written all the serial sender had (it never waits for a request
// while searched files are unsent). The searches must overlap.
func TestSendAhead(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	// Mapped files and files read through windows.
	ss := newSenderSession(t, 14, 1000, 600<<10, true)
	for _, comp := range []string{"", "zstd", "zlibx"} {
		t.Run("comp="+comp, func(t *testing.T) {
			want, wantAt := ss.run(t, comp, &Options{CompressLevel: -1, IO: fastio.Defaults().With(fastio.SendAhead, false)})

			o := &Options{CompressLevel: -1, IO: fastio.Defaults().With(fastio.SendAhead, true)}
			// The first search waits for the second to start.
			second := make(chan struct{})
			var once sync.Once
			overlapped := false
			o.Hooks.Mapped = func(name string, _ bool) {
				switch filepath.Base(name) {
				case "f00":
					select {
					case <-second:
						overlapped = true
					case <-time.After(10 * time.Second):
					}
				case "f01":
					once.Do(func() { close(second) })
				}
			}
			got, gotAt := ss.run(t, comp, o)
			if !bytes.Equal(got, want) {
				t.Fatalf("parallel output differs from the serial one (%d vs %d bytes)", len(got), len(want))
			}
			if !slices.Equal(gotAt, wantAt) {
				t.Errorf("written at each wait for input: %v, serially %v", gotAt, wantAt)
			}
			if !overlapped {
				t.Error("no two block searches ran at once")
			}
		})
	}
}

// BenchmarkSendAhead runs the sender over 48 delta transfers of 1-4 MiB
// with a few edits each (sums precomputed, output to memory), its block
// searches on workers or serial.
func BenchmarkSendAhead(b *testing.B) {
	ss := newSenderSession(b, 48, 1<<20, 4<<20, false)
	for _, on := range []bool{false, true} {
		b.Run(fmt.Sprintf("parallel=%v", on), func(b *testing.B) {
			o := &Options{CompressLevel: -1, IO: fastio.Defaults().With(fastio.SendAhead, on)}
			var n int64
			for _, e := range ss.list.Entries {
				n += e.Size
			}
			b.SetBytes(n)
			for b.Loop() {
				ss.run(b, "", o)
			}
		})
	}
}
