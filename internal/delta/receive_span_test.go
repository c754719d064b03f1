package delta

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/gorsync/gorsync/internal/checksum"
	"github.com/gorsync/gorsync/internal/fastio"
	"github.com/gorsync/gorsync/internal/wire"
)

// memSpans is a SpanReader over bytes in memory that counts what it lends.
type memSpans struct {
	*bytes.Reader
	data         []byte
	spans, spent int
}

func (m *memSpans) Span(off int64, n int) []byte {
	if off < 0 || n < 0 || off > int64(len(m.data))-int64(n) {
		return nil
	}
	m.spans++
	return m.data[off : off+int64(n)]
}

func (m *memSpans) Spent(n int) { m.spent += n }

func (m *memSpans) Mapped() bool { return true }

// countWriter counts its writes.
type countWriter struct {
	bytes.Buffer
	writes int
}

func (c *countWriter) Write(p []byte) (int, error) {
	c.writes++
	return c.Buffer.Write(p)
}

// encodeDelta returns the sum head and the token stream (with the file sum)
// that the sender sends for src against basis.
func encodeDelta(t testing.TB, basis, src []byte, blockSize int32, p checksum.Params) (SumHead, []byte) {
	t.Helper()
	head, err := checksum.SumSizes(int64(len(basis)), blockSize, 31, checksum.ShortSumLength, p.DigestLen())
	if err != nil {
		t.Fatal(err)
	}
	var sums Sums
	if err := sums.Compute(basis, head, checksum.NewBlockHasher(p)); err != nil {
		t.Fatal(err)
	}
	var tok bytes.Buffer
	tw := wire.NewWriter(&tok)
	res, err := NewMatcher(p, false).Match(NewPlainTokenWriter(tw), src, &sums)
	if err != nil {
		t.Fatal(err)
	}
	tw.Write(res.Sum)
	if err := tw.Flush(); err != nil {
		t.Fatal(err)
	}
	return head, tok.Bytes()
}

// TestReceiveSpans checks that a basis lent in place (runs of consecutive
// blocks hashed and written at once) rebuilds what the block-by-block path
// does, with the same counts, one write per run.
func TestReceiveSpans(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	mib := randBytes(r, 1<<20)
	other := randBytes(r, 5000)
	edit := func(b []byte, at int, with []byte) []byte {
		return cat(b[:at], with, b[at+len(with):])
	}
	p := checksum.Params{Kind: checksum.MD5, Seed: 42, ProperSeedOrder: true}
	cases := []struct {
		name       string
		basis, src []byte
		block      int32
		maxWrites  int // 0: not checked
	}{
		{"identical", mib, mib, 0, 1},
		{"identical small blocks", mib[:100000], mib[:100000], 700, 1},
		{"identical 9 MiB runs", bytes.Repeat(mib, 9), bytes.Repeat(mib, 9), 0, 3},
		{"two edits", mib, edit(edit(mib, 1000, other[:1]), 700000, other[:64]), 0, 5},
		{"reordered", mib, cat(mib[500000:], mib[:500000]), 0, 0},
		{"shifted", mib, cat(other[:1], mib[:1<<20-1]), 0, 0},
		{"repeated block", mib[:4096], bytes.Repeat(mib[:700], 6), 700, 0},
		{"truncated", mib, mib[:300000], 0, 0},
		{"unrelated", mib[:4096], other, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			head, tokens := encodeDelta(t, c.basis, c.src, c.block, p)
			receive := func(basis io.ReaderAt) (RecvResult, *countWriter) {
				rr := wire.NewReader(bytes.NewReader(tokens))
				var out countWriter
				res, err := NewReceiver().Receive(rr, NewPlainTokenReader(rr), head, p, basis, &out)
				if err != nil {
					t.Fatalf("Receive: %v", err)
				}
				if !bytes.Equal(out.Bytes(), c.src) {
					t.Fatalf("rebuilt %d bytes differ from the %d-byte source", out.Len(), len(c.src))
				}
				if rr.Buffered() != 0 {
					t.Fatalf("%d bytes left after the file", rr.Buffered())
				}
				return res, &out
			}
			want, _ := receive(bytes.NewReader(c.basis))
			spans := &memSpans{Reader: bytes.NewReader(c.basis), data: c.basis}
			got, out := receive(spans)
			if got != want {
				t.Errorf("spans: %+v; block by block: %+v", got, want)
			}
			if int64(spans.spent) != got.Matched {
				t.Errorf("spent %d bytes of spans, matched %d", spans.spent, got.Matched)
			}
			if c.maxWrites > 0 && out.writes > c.maxWrites {
				t.Errorf("%d writes, want at most %d", out.writes, c.maxWrites)
			}
		})
	}
}

// TestReceiveSpansBasisGone checks that a mapped basis that shrinks under
// the mapping, or is shorter than the blocks the sender names, fails the
// file's checksum (so that it is redone) while the whole stream is read.
func TestReceiveSpansBasisGone(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	data := randBytes(r, 1<<20)
	p := checksum.Params{Kind: checksum.MD5}
	head, tokens := encodeDelta(t, data, data, 0, p)
	for _, c := range []struct {
		name string
		size int64 // what the file is cut to after mapping
		view int64 // what the view maps
		want error
	}{
		{"truncated while mapped", 0, 1 << 20, fastio.ErrFault},
		{"shorter than the blocks", 1 << 20, 600 << 10, errNoSpan},
	} {
		t.Run(c.name, func(t *testing.T) {
			name := filepath.Join(t.TempDir(), "basis")
			if err := os.WriteFile(name, data, 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(name)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			mf, err := mmapOn.Open(f, c.view, fastio.Random)
			if err != nil {
				t.Fatal(err)
			}
			defer mf.Close()
			if !mf.Mapped() {
				t.Skip("the basis is not mapped here")
			}
			if err := os.Truncate(name, c.size); err != nil {
				t.Fatal(err)
			}
			rr := wire.NewReader(bytes.NewReader(tokens))
			var out bytes.Buffer
			_, err = NewReceiver().Receive(rr, NewPlainTokenReader(rr), head, p, mf, &out)
			if !errors.Is(err, ErrChecksumMismatch) || !errors.Is(err, c.want) {
				t.Fatalf("Receive: %v; want ErrChecksumMismatch and %v", err, c.want)
			}
			if rr.Buffered() != 0 {
				t.Fatalf("%d bytes left after the file", rr.Buffered())
			}
		})
	}
}

// TestReceiveUnmappedView checks that a view that is not a mapping (a small
// file, or Mmap off) is read block by block and rebuilds the file.
func TestReceiveUnmappedView(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	data := randBytes(r, fastio.MapThreshold/2)
	src := cat(data[:1000], []byte("edit"), data[1004:])
	p := checksum.Params{Kind: checksum.MD5}
	head, tokens := encodeDelta(t, data, src, 0, p)
	name := filepath.Join(t.TempDir(), "basis")
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	mf, err := mmapOn.Open(f, int64(len(data)), fastio.Random)
	if err != nil {
		t.Fatal(err)
	}
	defer mf.Close()
	if mf.Mapped() {
		t.Fatal("a file below MapThreshold is mapped")
	}
	rr := wire.NewReader(bytes.NewReader(tokens))
	var out bytes.Buffer
	if _, err := NewReceiver().Receive(rr, NewPlainTokenReader(rr), head, p, mf, &out); err != nil {
		t.Fatalf("Receive: %v", err)
	}
	if !bytes.Equal(out.Bytes(), src) {
		t.Fatal("rebuilt file differs from the source")
	}
}
