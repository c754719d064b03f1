package delta

import (
	"bytes"
	"io"
	"testing"

	"github.com/gorsync/gorsync/internal/checksum"
	"github.com/gorsync/gorsync/internal/wire"
)

func FuzzReadSumHead(f *testing.F) {
	f.Add([]byte{10, 0, 0, 0, 0xbc, 2, 0, 0, 2, 0, 0, 0, 100, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, proto := range []int{29, 31} {
			h, err := ReadSumHead(wire.NewReader(bytes.NewReader(data)), proto, 16)
			if err != nil {
				continue
			}
			if h.Count < 0 || h.BlockLen < 0 || h.BlockLen > checksum.MaxBlockLen(proto) ||
				h.S2Len < 0 || h.S2Len > 16 || h.Remainder < 0 || h.Remainder > h.BlockLen ||
				(h.Count > 0 && h.BlockLen == 0) {
				t.Fatalf("accepted invalid head %+v", h)
			}
			var b bytes.Buffer
			w := wire.NewWriter(&b)
			WriteSumHead(w, h)
			w.Flush()
			if !bytes.Equal(b.Bytes(), data[:16]) {
				t.Fatalf("head %+v re-encodes as %x, read from %x", h, b.Bytes(), data[:16])
			}
		}
	})
}

func FuzzTokenReader(f *testing.F) {
	f.Add([]byte{3, 0, 0, 0, 'a', 'b', 'c', 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0})
	basis := bytes.Repeat([]byte("0123456789"), 10)
	head := SumHead{Count: 15, BlockLen: 7, S2Len: 2, Remainder: 2}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := wire.NewReader(bytes.NewReader(data))
		tr := NewPlainTokenReader(r)
		for range 1000 {
			tok, lit, err := tr.ReadToken()
			if err != nil || tok == 0 {
				break
			}
			if tok > 0 && (len(lit) != int(tok) || tok > ChunkSize) {
				t.Fatalf("token %d with %d bytes", tok, len(lit))
			}
		}
		r = wire.NewReader(bytes.NewReader(data))
		NewReceiver().Receive(r, NewPlainTokenReader(r), head, checksum.Params{Kind: checksum.XXH64},
			bytes.NewReader(basis), io.Discard)
	})
}

func FuzzReadSums(f *testing.F) {
	f.Add([]byte{2, 0, 0, 0, 4, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0,
		1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
	src := bytes.Repeat([]byte("abcdefgh"), 100)
	f.Fuzz(func(t *testing.T, data []byte) {
		r := wire.NewReader(bytes.NewReader(data))
		head, err := ReadSumHead(r, 31, 8)
		if err != nil {
			return
		}
		var s Sums
		if err := ReadSums(r, head, &s); err != nil {
			return
		}
		// Hostile sums must still give a well-formed delta of src.
		for _, inplace := range []bool{false, true} {
			var rec recordTokens
			res, err := NewMatcher(checksum.Params{Kind: checksum.XXH64}, inplace).Match(&rec, src, &s)
			if err != nil {
				t.Fatal(err)
			}
			if res.Literal+res.Matched != int64(len(src)) {
				t.Fatalf("literal %d + matched %d != %d", res.Literal, res.Matched, len(src))
			}
		}
	})
}
