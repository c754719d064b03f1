package delta

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/gorsync/gorsync/internal/checksum"
	"github.com/gorsync/gorsync/internal/fastio"
	"github.com/gorsync/gorsync/internal/wire"
)

// serialSignature is WriteSignature with the parallel path off.
func serialSignature(t testing.TB, basis []byte, head SumHead, p checksum.Params) []byte {
	t.Helper()
	var b bytes.Buffer
	w := wire.NewWriter(&b)
	if _, err := WriteSignature(w, bytes.NewReader(basis), int64(len(basis)), head, checksum.NewBlockHasher(p), nil, 1); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	return b.Bytes()
}

// TestParallelSumsMatchSerial checks that chunked block sums computed by a
// pool of workers are byte for byte the serial ones, whatever the chunk and
// block sizes, remainders and worker counts.
func TestParallelSumsMatchSerial(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 9))
	for _, tc := range []struct {
		size      int
		blockSize int32
		chunk     int
		workers   int
		kind      checksum.Kind
	}{
		{1, 700, 4096, 2, checksum.XXH128},
		{700 * 10, 700, 700 * 3, 2, checksum.XXH128},
		{700*10 + 1, 700, 700 * 3, 3, checksum.MD5},
		{100000, 0, 1000, 2, checksum.MD4},
		{1 << 20, 0, 50000, 4, checksum.XXH3},
		{3<<20 + 12345, 0, 1 << 18, 2, checksum.XXH128},
		{3<<20 + 12345, 0, 1 << 30, 2, checksum.XXH128}, // one chunk
		{5000, 0, 1, 8, checksum.MD5},                   // chunk below a block: one block each
	} {
		basis := randBytes(r, tc.size)
		p := checksum.Params{Kind: tc.kind, Seed: 77, ProperSeedOrder: true}
		head, err := checksum.SumSizes(int64(tc.size), tc.blockSize, 31, checksum.ShortSumLength, p.DigestLen())
		if err != nil {
			t.Fatal(err)
		}
		want := serialSignature(t, basis, head, p)
		var b bytes.Buffer
		w := wire.NewWriter(&b)
		WriteSumHead(w, head)
		if err := writeSumsParallel(w, bytes.NewReader(basis), int64(tc.size), head, p, tc.workers, tc.chunk); err != nil {
			t.Fatalf("%+v: %v", tc, err)
		}
		w.Flush()
		if !bytes.Equal(b.Bytes(), want) {
			t.Errorf("%+v: parallel sums differ from serial ones", tc)
		}
	}
}

// failingReader fails every read at or beyond off.
type failingReader struct {
	r   io.ReaderAt
	off int64
}

var errDisk = errors.New("disk on fire")

func (f failingReader) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > f.off {
		return 0, errDisk
	}
	return f.r.ReadAt(p, off)
}

// TestParallelSumsReadError checks that a read error stops the parallel
// sums after the chunks before it, as the serial loop stops.
func TestParallelSumsReadError(t *testing.T) {
	basis := randBytes(rand.New(rand.NewPCG(1, 1)), 1<<20)
	p := checksum.Params{Kind: checksum.XXH128}
	head, _ := checksum.SumSizes(int64(len(basis)), 1000, 31, checksum.ShortSumLength, p.DigestLen())
	var b bytes.Buffer
	w := wire.NewWriter(&b)
	err := writeSumsParallel(w, failingReader{bytes.NewReader(basis), 500000}, int64(len(basis)), head, p, 3, 100000)
	if !errors.Is(err, errDisk) {
		t.Fatalf("err = %v, want the read error", err)
	}
	w.Flush()
	perBlock := 4 + int(head.S2Len)
	if got, want := b.Len(), 5*100*perBlock; got != want {
		t.Errorf("wrote %d bytes of sums before the error, want %d (the five whole chunks before it)", got, want)
	}
}

// BenchmarkWriteSignature writes the block sums of a 64 MiB basis with the
// parallel path on and off.
func BenchmarkWriteSignature(b *testing.B) {
	const size = 64 << 20
	basis := randBytes(rand.New(rand.NewPCG(5, 6)), size)
	head, _ := checksum.SumSizes(size, 0, 31, checksum.ShortSumLength, benchParams.DigestLen())
	h := checksum.NewBlockHasher(benchParams)
	for _, on := range []bool{true, false} {
		b.Run(map[bool]string{true: "parallel=on", false: "parallel=off"}[on], func(b *testing.B) {
			w := wire.NewWriter(io.Discard)
			var buf []byte
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if buf, err = WriteSignature(w, bytes.NewReader(basis), size, head, h, buf, sumWorkers(on)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSumsParallelChunk compares chunk sizes of the parallel block
// sums of a 64 MiB basis.
func BenchmarkSumsParallelChunk(b *testing.B) {
	const size = 64 << 20
	basis := randBytes(rand.New(rand.NewPCG(5, 6)), size)
	head, _ := checksum.SumSizes(size, 0, 31, checksum.ShortSumLength, benchParams.DigestLen())
	for _, chunk := range []int{128 << 10, 256 << 10, 1 << 20, 4 << 20} {
		b.Run(fmt.Sprintf("chunk=%dK", chunk>>10), func(b *testing.B) {
			w := wire.NewWriter(io.Discard)
			b.SetBytes(size)
			for b.Loop() {
				if err := writeSumsParallel(w, bytes.NewReader(basis), size, head, benchParams, 2, chunk); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// mmapOn is the fast paths with mapping forced on, whatever the defaults.
var mmapOn = fastio.Defaults().With(fastio.Mmap, true)

// sumWorkers is the workers WriteSignature gets with the Parallel path on
// or off.
func sumWorkers(parallel bool) int {
	if parallel {
		return runtime.GOMAXPROCS(0)
	}
	return 1
}
