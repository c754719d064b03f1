package delta

import (
	"bytes"
	"io"
	"testing"

	"github.com/gorsync/gorsync/internal/checksum"
	"github.com/gorsync/gorsync/internal/wire"
)

// fuzzCompressedReader decodes data as a session of up to four files with
// the reader for c against a fixed basis, checking that every literal run
// is well formed and that nothing panics or runs away.
func fuzzCompressedReader(f *testing.F, c Compression) {
	basis := bytes.Repeat([]byte("0123456789abcdef"), 64)
	head := SumHead{Count: 16, BlockLen: 64, S2Len: 2, Remainder: 0}
	// Seeds: small sessions from our own writer; the corpus under
	// testdata/fuzz adds more.
	for _, lit := range [][]byte{nil, []byte("hello"), bytes.Repeat([]byte("xy"), 5000)} {
		var buf bytes.Buffer
		w := wire.NewWriter(&buf)
		tw := NewTokenWriter(w, c, 0, 31)
		tw.WriteToken(lit, 3, basis[192:256])
		tw.WriteToken(nil, 4, basis[256:320])
		tw.WriteToken(lit, TokenEnd, nil)
		w.Flush()
		f.Add(buf.Bytes())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := wire.NewReader(bytes.NewReader(data))
		tr := NewTokenReader(r, c, 31)
		if cl, ok := tr.(io.Closer); ok {
			defer cl.Close()
		}
		var total int
		for range 4 {
			for range 10000 {
				tok, lit, err := tr.ReadToken()
				if err != nil {
					return
				}
				if tok == 0 {
					break
				}
				if tok > 0 {
					if len(lit) != int(tok) || tok > 1<<20 {
						t.Fatalf("token %d with %d bytes", tok, len(lit))
					}
					if total += len(lit); total > 4<<20 {
						return
					}
					continue
				}
				if i := -tok - 1; i >= 0 && i < head.Count {
					tr.SeeToken(basis[i*64 : (i+1)*64])
				}
			}
		}
		r = wire.NewReader(bytes.NewReader(data))
		tr2 := NewTokenReader(r, c, 30)
		if cl, ok := tr2.(io.Closer); ok {
			defer cl.Close()
		}
		NewReceiver().Receive(r, tr2, head, checksum.Params{Kind: checksum.XXH64}, bytes.NewReader(basis), io.Discard)
	})
}

func FuzzZlibTokenReader(f *testing.F) { fuzzCompressedReader(f, Zlib) }
func FuzzZstdTokenReader(f *testing.F) { fuzzCompressedReader(f, Zstd) }
func FuzzLZ4TokenReader(f *testing.F)  { fuzzCompressedReader(f, LZ4) }
