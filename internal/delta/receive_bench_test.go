package delta

import (
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/gorsync/gorsync/internal/fastio"
	"github.com/gorsync/gorsync/internal/wire"
)

// hideSpans hides a basis's Span, so that the receiver reads it block by
// block (the path without runs).
type hideSpans struct{ io.ReaderAt }

// countingFile counts the writes that reach the file.
type countingFile struct {
	*os.File
	writes int
}

func (c *countingFile) Write(p []byte) (int, error) {
	c.writes++
	return c.File.Write(p)
}

// BenchmarkReceiveBasis rebuilds a 256 MiB file with 50 scattered small
// edits from a mapped basis into a new file, as the receiver does for T5:
// runs of blocks written from the mapping ("runs") against one block at a
// time through a copy ("blocks"), on tmpfs (/dev/shm) and on the temporary
// directory's file system.
func BenchmarkReceiveBasis(b *testing.B) {
	const size = 256 << 20
	r := rand.New(rand.NewPCG(9, 10))
	basis := randBytes(r, size)
	src := append([]byte(nil), basis...)
	for range 50 {
		off := r.IntN(size - 64)
		copy(src[off:], randBytes(r, 1+r.IntN(64)))
	}
	head, tokens := encodeDelta(b, basis, src, 0, benchParams)
	dirs := map[string]string{"tmpdir": b.TempDir()}
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		d, err := os.MkdirTemp("/dev/shm", "recvbench")
		if err == nil {
			defer os.RemoveAll(d)
			dirs["tmpfs"] = d
		}
	}
	for _, fs := range []string{"tmpfs", "tmpdir"} {
		dir, ok := dirs[fs]
		if !ok {
			continue
		}
		name := filepath.Join(dir, "basis")
		if err := os.WriteFile(name, basis, 0o644); err != nil {
			b.Fatal(err)
		}
		for _, mode := range []string{"blocks", "runs"} {
			b.Run(fs+"/"+mode, func(b *testing.B) {
				rx := NewReceiver()
				writes := 0
				b.SetBytes(size)
				for b.Loop() {
					f, err := os.Open(name)
					if err != nil {
						b.Fatal(err)
					}
					mf, err := mmapOn.Open(f, size, fastio.Random)
					if err != nil {
						b.Fatal(err)
					}
					var basis io.ReaderAt = mf
					if mode == "blocks" {
						basis = hideSpans{mf}
					}
					out, err := os.CreateTemp(dir, "out")
					if err != nil {
						b.Fatal(err)
					}
					cf := &countingFile{File: out}
					w := fastio.Defaults().GetWriter(cf, size)
					rr := wire.NewReader(bytes.NewReader(tokens))
					if _, err := rx.Receive(rr, NewPlainTokenReader(rr), head, benchParams, basis, w); err != nil {
						b.Fatal(err)
					}
					if err := w.Flush(); err != nil {
						b.Fatal(err)
					}
					fastio.PutWriter(w)
					writes += cf.writes
					mf.Close()
					f.Close()
					out.Close()
					os.Remove(out.Name())
				}
				b.ReportMetric(float64(writes)/float64(b.N), "writes/op")
			})
		}
		os.Remove(name)
	}
}
