package delta

import (
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/gorsync/gorsync/internal/checksum"
	"github.com/gorsync/gorsync/internal/fastio"
	"github.com/gorsync/gorsync/internal/wire"
)

// mapBasis writes data to a file and returns a Sequential view of it,
// skipping the test where it is not mapped.
func mapBasis(t testing.TB, data []byte) (*fastio.MapFile, string) {
	t.Helper()
	name := filepath.Join(t.TempDir(), "basis")
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	mf, err := mmapOn.Open(f, int64(len(data)), fastio.Sequential)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mf.Close() })
	if !mf.Mapped() {
		t.Skip("the basis is not mapped here")
	}
	return mf, name
}

// TestSignatureMapped checks that block sums hashed in place from a mapped
// basis are byte for byte the ones read through a copy, serial and
// parallel.
func TestSignatureMapped(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 5))
	for _, size := range []int{fastio.MapThreshold, 3<<20 + 12345, parallelMinSize + 777} {
		data := randBytes(r, size)
		mf, _ := mapBasis(t, data)
		p := checksum.Params{Kind: checksum.XXH128}
		head, err := checksum.SumSizes(int64(size), 0, 31, checksum.ShortSumLength, p.DigestLen())
		if err != nil {
			t.Fatal(err)
		}
		want := serialSignature(t, data, head, p)
		for _, parallel := range []bool{false, true} {
			var b bytes.Buffer
			w := wire.NewWriter(&b)
			_, err := WriteSignature(w, mf, int64(size), head, checksum.NewBlockHasher(p), nil, sumWorkers(parallel))
			if err != nil {
				t.Fatalf("size %d parallel %v: %v", size, parallel, err)
			}
			w.Flush()
			if !bytes.Equal(b.Bytes(), want) {
				t.Errorf("size %d parallel %v: sums from the mapping differ", size, parallel)
			}
		}
		// The chunked path with more workers than this machine may have.
		var b bytes.Buffer
		w := wire.NewWriter(&b)
		WriteSumHead(w, head)
		if err := writeSumsParallel(w, mf, int64(size), head, p, 3, 100000); err != nil {
			t.Fatal(err)
		}
		w.Flush()
		if !bytes.Equal(b.Bytes(), want) {
			t.Errorf("size %d: chunked sums from the mapping differ", size)
		}
	}
}

// TestSignatureMappedShrunk checks that a basis truncated under its
// mapping is a read error, serial and parallel, not a crash.
func TestSignatureMappedShrunk(t *testing.T) {
	data := randBytes(rand.New(rand.NewPCG(6, 7)), 2<<20)
	p := checksum.Params{Kind: checksum.XXH128}
	head, _ := checksum.SumSizes(int64(len(data)), 0, 31, checksum.ShortSumLength, p.DigestLen())
	for _, parallel := range []bool{false, true} {
		mf, name := mapBasis(t, data)
		if err := os.Truncate(name, 1<<20); err != nil {
			t.Fatal(err)
		}
		w := wire.NewWriter(io.Discard)
		var err error
		if parallel {
			err = writeSumsParallel(w, mf, int64(len(data)), head, p, 2, 256<<10)
		} else {
			_, err = WriteSignature(w, mf, int64(len(data)), head, checksum.NewBlockHasher(p), nil, 1)
		}
		if err == nil {
			t.Errorf("parallel %v: no error from a shrunk basis", parallel)
		}
	}
}

// BenchmarkSignatureFile writes the block sums of a 256 MiB basis file on
// tmpfs (/dev/shm, else the temporary directory) read with pread ("read")
// or hashed in place from a mapping ("mapped"), serial and parallel.
func BenchmarkSignatureFile(b *testing.B) {
	const size = 256 << 20
	data := randBytes(rand.New(rand.NewPCG(5, 6)), size)
	dir := b.TempDir()
	if d, err := os.MkdirTemp("/dev/shm", "sigbench"); err == nil {
		defer os.RemoveAll(d)
		dir = d
	}
	name := filepath.Join(dir, "basis")
	if err := os.WriteFile(name, data, 0o644); err != nil {
		b.Fatal(err)
	}
	head, _ := checksum.SumSizes(size, 0, 31, checksum.ShortSumLength, benchParams.DigestLen())
	h := checksum.NewBlockHasher(benchParams)
	for _, parallel := range []bool{true, false} {
		for _, mapped := range []bool{false, true} {
			b.Run(map[bool]string{true: "parallel", false: "serial"}[parallel]+"/"+map[bool]string{true: "mapped", false: "read"}[mapped], func(b *testing.B) {
				w := wire.NewWriter(io.Discard)
				var buf []byte
				b.SetBytes(size)
				for b.Loop() {
					f, err := os.Open(name)
					if err != nil {
						b.Fatal(err)
					}
					var r io.ReaderAt = f
					var mf *fastio.MapFile
					if mapped {
						if mf, err = mmapOn.Open(f, size, fastio.Sequential); err != nil {
							b.Fatal(err)
						}
						r = mf
					}
					if buf, err = WriteSignature(w, r, size, head, h, buf, sumWorkers(parallel)); err != nil {
						b.Fatal(err)
					}
					if mf != nil {
						mf.Close()
					}
					f.Close()
				}
			})
		}
	}
}
