package delta

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/gorsync/gorsync/internal/checksum"
	"github.com/gorsync/gorsync/internal/wire"
)

func randBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// roundTrip runs generator, sender and receiver over basis and src with the
// given block size (0: rsync's heuristic) and returns the sender's result.
func roundTrip(t *testing.T, basis, src []byte, blockSize int32, p checksum.Params, inplace bool) MatchResult {
	t.Helper()
	head, err := checksum.SumSizes(int64(len(basis)), blockSize, 31, checksum.ShortSumLength, p.DigestLen())
	if err != nil {
		t.Fatal(err)
	}

	// Generator: signature onto the wire.
	var sigBuf bytes.Buffer
	w := wire.NewWriter(&sigBuf)
	if _, err := WriteSignature(w, bytes.NewReader(basis), int64(len(basis)), head, checksum.NewBlockHasher(p), nil, 1); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}

	// Sender: read the sums, search, send tokens and the file sum.
	r := wire.NewReader(&sigBuf)
	h2, err := ReadSumHead(r, 31, p.DigestLen())
	if err != nil || h2 != head {
		t.Fatalf("ReadSumHead = %+v, %v; want %+v", h2, err, head)
	}
	var sums Sums
	if err := ReadSums(r, h2, &sums); err != nil {
		t.Fatal(err)
	}
	var tokBuf bytes.Buffer
	tw := wire.NewWriter(&tokBuf)
	WriteSumHead(tw, head)
	res, err := NewMatcher(p, inplace).Match(NewPlainTokenWriter(tw), src, &sums)
	if err != nil {
		t.Fatal(err)
	}
	tw.Write(res.Sum)
	if err := tw.Flush(); err != nil {
		t.Fatal(err)
	}

	// Receiver: rebuild and verify.
	rr := wire.NewReader(&tokBuf)
	h3, err := ReadSumHead(rr, 31, p.DigestLen())
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	got, err := NewReceiver().Receive(rr, NewPlainTokenReader(rr), h3, p, bytes.NewReader(basis), &out)
	if err != nil {
		t.Fatalf("Receive: %v", err)
	}
	if !bytes.Equal(out.Bytes(), src) {
		t.Fatalf("reconstructed %d bytes differ from the %d-byte source", out.Len(), len(src))
	}
	if got.Literal != res.Literal || got.Matched != res.Matched || got.Size != int64(len(src)) {
		t.Fatalf("receiver saw literal %d matched %d size %d; sender sent %d, %d", got.Literal, got.Matched, got.Size, res.Literal, res.Matched)
	}
	if res.Literal+res.Matched != int64(len(src)) {
		t.Fatalf("literal %d + matched %d != %d", res.Literal, res.Matched, len(src))
	}
	if rr.Buffered() != 0 {
		t.Fatalf("%d bytes left after the file", rr.Buffered())
	}
	return res
}

func TestRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	mib := randBytes(r, 1<<20)
	k4 := mib[:4096]
	other := randBytes(r, 5000)
	fresh := randBytes(r, 100000)
	edit := func(b []byte, at int, with []byte) []byte {
		return cat(b[:at], with, b[at+len(with):])
	}
	cases := []struct {
		name         string
		basis, src   []byte
		block        int32
		wantLiteral  int64 // -1: only check the round trip
		wantMatchedN int64
	}{
		{"empty both", nil, nil, 0, 0, 0},
		{"empty basis", nil, k4, 0, 4096, 0},
		{"empty source", k4, nil, 0, 0, 0},
		{"identical 1", k4[:1], k4[:1], 0, 0, 1},
		{"identical 699", k4[:699], k4[:699], 0, 0, 699},
		{"identical 700", k4[:700], k4[:700], 0, 0, 700},
		{"identical 701", k4[:701], k4[:701], 0, 0, 701},
		{"identical 4096", k4, k4, 0, 0, 4096},
		{"identical 1MiB", mib, mib, 0, 0, 1 << 20},
		{"identical 1MiB-1", mib[:1<<20-1], mib[:1<<20-1], 0, 0, 1<<20 - 1},
		{"identical 1MiB+1", cat(mib, []byte{1}), cat(mib, []byte{1}), 0, 0, 1<<20 + 1},
		// 4096 = 5*700 + 596: the short last block cannot match mid-file.
		{"append", k4, cat(k4, other[:100]), 0, 596 + 100, 3500},
		{"append aligned", k4[:3500], cat(k4[:3500], other[:100]), 0, 100, 3500},
		{"prepend", k4, cat(other[:123], k4), 0, 123, 4096},
		{"middle edit", k4, edit(k4, 2000, other[:10]), 0, 700, 4096 - 700},
		{"middle insert", k4, cat(k4[:2100], other[:10], k4[2100:]), 0, 10, 4096},
		{"middle delete", k4, cat(k4[:2100], k4[2110:]), 0, 690, 4096 - 700},
		{"truncate", k4, k4[:3000], 0, 200, 2800},
		{"unrelated", k4, other, 0, 5000, 0},
		{"1MiB edits", mib, edit(edit(mib, 1000, other[:1]), 700000, other[:64]), 0, -1, 0},
		{"1MiB shifted", mib, cat(other[:1], mib[:1<<20-1]), 0, -1, 0},
		{"small blocks", k4, edit(k4, 99, other[:1]), 16, 16, 4096 - 16},
		{"zeros", make([]byte, 10000), make([]byte, 12000), 0, 100, 11900},
		{"long literal run", k4, cat(k4[:700], other, fresh, k4[700:]), 0, 105000, 4096},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := roundTrip(t, c.basis, c.src, c.block, checksum.Params{Kind: checksum.MD5, Seed: 42, ProperSeedOrder: true}, false)
			if c.wantLiteral >= 0 && (res.Literal != c.wantLiteral || res.Matched != c.wantMatchedN) {
				t.Errorf("literal %d matched %d; want %d, %d", res.Literal, res.Matched, c.wantLiteral, c.wantMatchedN)
			}
		})
	}
}

func TestRoundTripKinds(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	basis := randBytes(r, 50000)
	src := cat(basis[:10000], randBytes(r, 777), basis[12000:])
	for _, k := range []checksum.Kind{checksum.MD4Old, checksum.MD4, checksum.MD5, checksum.SHA1, checksum.XXH64, checksum.XXH3, checksum.XXH128} {
		for _, seed := range []int32{0, -5, 0x7eadbeef} {
			t.Run(fmt.Sprintf("%v/%d", k, seed), func(t *testing.T) {
				roundTrip(t, basis, src, 0, checksum.Params{Kind: k, Seed: seed}, false)
			})
		}
	}
}

func TestRoundTripInplace(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	basis := randBytes(r, 70000)
	zeros := make([]byte, 7000)
	cases := []struct {
		name       string
		basis, src []byte
	}{
		{"identical", basis, basis},
		{"edit", basis, cat(basis[:30000], []byte("x"), basis[30001:])},
		{"moved back", basis, cat(basis[7000:], basis[:7000])},
		{"zeros", cat(basis[:7000], zeros, zeros, basis[21000:]), cat(basis[:7000], zeros, []byte{1}, zeros, basis[21001:])},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			roundTrip(t, c.basis, c.src, 700, checksum.Params{Kind: checksum.XXH128}, true)
		})
	}
}

// recordTokens is a TokenWriter that records the tokens it is given.
type recordTokens struct{ toks []int32 }

func (r *recordTokens) WriteToken(lit []byte, tok int32, match []byte) error {
	r.toks = append(r.toks, int32(len(lit)), tok)
	return nil
}

// TestPrefersAdjacentBlock checks rsync's want_i rule: among identical
// blocks the one after the previous match is chosen.
func TestPrefersAdjacentBlock(t *testing.T) {
	blk := bytes.Repeat([]byte("abcdefgh"), 2)
	basis := bytes.Repeat(blk, 4)
	var s Sums
	p := checksum.Params{Kind: checksum.MD5}
	head := SumHead{Count: 4, BlockLen: 16, S2Len: 16}
	if err := s.Compute(basis, head, checksum.NewBlockHasher(p)); err != nil {
		t.Fatal(err)
	}
	var rec recordTokens
	if _, err := NewMatcher(p, false).Match(&rec, basis, &s); err != nil {
		t.Fatal(err)
	}
	// The chain is searched from the highest index, but want_i (starting
	// at 0) steers every match to the block after the previous one.
	want := []int32{0, 0, 0, 1, 0, 2, 0, 3, 0, TokenEnd}
	if fmt.Sprint(rec.toks) != fmt.Sprint(want) {
		t.Errorf("tokens %v, want %v", rec.toks, want)
	}
}

func TestTokenStreamChunks(t *testing.T) {
	var buf bytes.Buffer
	w := wire.NewWriter(&buf)
	tw := NewPlainTokenWriter(w)
	lit := make([]byte, ChunkSize+5)
	tw.WriteToken(lit, 3, nil)
	tw.WriteToken(nil, TokenEnd, nil)
	w.Flush()
	r := wire.NewReader(&buf)
	tr := NewPlainTokenReader(r)
	var got []int32
	for {
		tok, _, err := tr.ReadToken()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, tok)
		if tok == 0 {
			break
		}
	}
	want := []int32{ChunkSize, 5, -4, 0}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("tokens %v, want %v", got, want)
	}
}

// TestTokenReaderLongRun checks that a literal run longer than ChunkSize,
// which upstream accepts, comes back in ChunkSize pieces.
func TestTokenReaderLongRun(t *testing.T) {
	var buf bytes.Buffer
	w := wire.NewWriter(&buf)
	w.WriteInt(ChunkSize*2 + 1)
	w.Write(make([]byte, ChunkSize*2+1))
	w.WriteInt(0)
	w.Flush()
	tr := NewPlainTokenReader(wire.NewReader(&buf))
	var got []int32
	for {
		tok, data, err := tr.ReadToken()
		if err != nil {
			t.Fatal(err)
		}
		if tok > 0 && len(data) != int(tok) {
			t.Fatalf("token %d with %d bytes", tok, len(data))
		}
		got = append(got, tok)
		if tok == 0 {
			break
		}
	}
	if want := []int32{ChunkSize, ChunkSize, 1, 0}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("tokens %v, want %v", got, want)
	}
}

func TestReceiveCorrupt(t *testing.T) {
	p := checksum.Params{Kind: checksum.MD5}
	head := SumHead{Count: 2, BlockLen: 4, S2Len: 2, Remainder: 2}
	basis := []byte("abcdef")
	good := checksum.NewFileHasher(p)
	good.Write([]byte("xxabcdef"))
	goodSum := good.Sum(nil)
	stream := func(f func(w *wire.Writer)) []byte {
		var b bytes.Buffer
		w := wire.NewWriter(&b)
		f(w)
		w.Flush()
		return b.Bytes()
	}
	cases := []struct {
		name     string
		data     []byte
		protocol bool // want wire.ErrProtocol
		mismatch bool // want ErrChecksumMismatch
	}{
		{"good", stream(func(w *wire.Writer) {
			w.WriteInt(2)
			w.Write([]byte("xx"))
			w.WriteInt(-1)
			w.WriteInt(-2)
			w.WriteInt(0)
			w.Write(goodSum)
		}), false, false},
		{"bad sum", stream(func(w *wire.Writer) {
			w.WriteInt(2)
			w.Write([]byte("yy"))
			w.WriteInt(-1)
			w.WriteInt(-2)
			w.WriteInt(0)
			w.Write(goodSum)
		}), false, true},
		{"block index too big", stream(func(w *wire.Writer) { w.WriteInt(-3) }), true, false},
		{"block index minimum int", stream(func(w *wire.Writer) { w.WriteInt(-1 << 31) }), true, false},
		{"truncated literal", stream(func(w *wire.Writer) {
			w.WriteInt(10)
			w.Write([]byte("abc"))
		}), false, false},
		{"truncated sum", stream(func(w *wire.Writer) {
			w.WriteInt(0)
			w.Write(goodSum[:3])
		}), false, false},
		{"empty", nil, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := wire.NewReader(bytes.NewReader(c.data))
			var out bytes.Buffer
			_, err := NewReceiver().Receive(r, NewPlainTokenReader(r), head, p, bytes.NewReader(basis), &out)
			switch {
			case c.name == "good":
				if err != nil || out.String() != "xxabcdef" {
					t.Errorf("err %v, out %q", err, out.String())
				}
			case c.mismatch:
				if !errors.Is(err, ErrChecksumMismatch) {
					t.Errorf("err %v, want ErrChecksumMismatch", err)
				}
			case c.protocol:
				if !errors.Is(err, wire.ErrProtocol) {
					t.Errorf("err %v, want ErrProtocol", err)
				}
			default:
				if err == nil {
					t.Error("want an error")
				}
			}
		})
	}
}

func TestReceiveNoBasis(t *testing.T) {
	p := checksum.Params{Kind: checksum.XXH64}
	head := SumHead{Count: 1, BlockLen: 4, S2Len: 2}
	var b bytes.Buffer
	w := wire.NewWriter(&b)
	w.WriteInt(-1)
	w.WriteInt(0)
	w.Write(make([]byte, 8))
	w.Flush()
	data := b.Bytes()

	r := wire.NewReader(bytes.NewReader(data))
	if _, err := NewReceiver().Receive(r, NewPlainTokenReader(r), head, p, nil, &bytes.Buffer{}); !errors.Is(err, wire.ErrProtocol) {
		t.Errorf("match without basis: err %v, want ErrProtocol", err)
	}
	// Discarding absorbs the match and does not verify.
	r = wire.NewReader(bytes.NewReader(data))
	res, err := NewReceiver().Receive(r, NewPlainTokenReader(r), head, p, nil, nil)
	if err != nil || res.Matched != 4 {
		t.Errorf("discard: %+v, %v", res, err)
	}
}

func TestReadSumHead(t *testing.T) {
	cases := []struct {
		name     string
		protocol int
		h        [4]int32
		ok       bool
	}{
		{"typical", 31, [4]int32{10, 700, 2, 100}, true},
		{"empty", 31, [4]int32{0, 0, 0, 0}, true},
		{"negative count", 31, [4]int32{-1, 700, 2, 0}, false},
		{"negative block", 31, [4]int32{1, -1, 2, 0}, false},
		{"zero block with count", 31, [4]int32{1, 0, 2, 0}, false},
		{"max block 30+", 31, [4]int32{1, 1 << 17, 2, 0}, true},
		{"over max block 30+", 31, [4]int32{1, 1<<17 + 1, 2, 0}, false},
		{"big block 29", 29, [4]int32{1, 1 << 29, 2, 0}, true},
		{"over max block 29", 29, [4]int32{1, 1<<29 + 1, 2, 0}, false},
		{"s2 digest length", 31, [4]int32{1, 700, 16, 0}, true},
		{"s2 too long", 31, [4]int32{1, 700, 17, 0}, false},
		{"negative s2", 31, [4]int32{1, 700, -1, 0}, false},
		{"remainder equals block", 31, [4]int32{1, 700, 2, 700}, true},
		{"remainder too big", 31, [4]int32{1, 700, 2, 701}, false},
		{"negative remainder", 31, [4]int32{1, 700, 2, -1}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			w := wire.NewWriter(&b)
			WriteSumHead(w, SumHead{Count: c.h[0], BlockLen: c.h[1], S2Len: c.h[2], Remainder: c.h[3]})
			w.Flush()
			h, err := ReadSumHead(wire.NewReader(&b), c.protocol, 16)
			if c.ok {
				if err != nil || h != (SumHead{Count: c.h[0], BlockLen: c.h[1], S2Len: c.h[2], Remainder: c.h[3]}) {
					t.Errorf("got %+v, %v", h, err)
				}
			} else if !errors.Is(err, wire.ErrIncompatible) {
				t.Errorf("err %v, want ErrIncompatible (rsync exits 2)", err)
			}
		})
	}
}

func TestReadSumsTruncated(t *testing.T) {
	var b bytes.Buffer
	w := wire.NewWriter(&b)
	w.WriteInt(5)
	w.Write([]byte{1, 2})
	w.Flush()
	var s Sums
	if err := ReadSums(wire.NewReader(&b), SumHead{Count: 1 << 30, BlockLen: 700, S2Len: 2}, &s); err == nil {
		t.Error("want an error for a truncated sum list")
	}
	if cap(s.Sum1) > initialSums {
		t.Errorf("preallocated %d sums for a hostile count", cap(s.Sum1))
	}
}

func TestCorruptSum(t *testing.T) {
	cases := []struct{ in, want []byte }{
		{[]byte{1, 2, 3}, []byte{0, 0, 0}},
		{[]byte{0, 0, 0}, []byte{0, 0, 1}},
	}
	for _, c := range cases {
		s := append([]byte(nil), c.in...)
		CorruptSum(s)
		if !bytes.Equal(s, c.want) {
			t.Errorf("CorruptSum(%x) = %x, want %x", c.in, s, c.want)
		}
	}
}

func TestMatchAppend(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	src := randBytes(r, 5000)
	head := SumHead{Count: 3, BlockLen: 700, S2Len: 2, Remainder: 600} // 2000 bytes
	p := checksum.Params{Kind: checksum.MD5}
	for _, verify := range []bool{false, true} {
		var rec recordTokens
		res, err := NewMatcher(p, false).MatchAppend(&rec, src, head, verify)
		if err != nil || res.Literal != 3000 || res.Matched != 0 {
			t.Fatalf("verify=%v: %+v, %v", verify, res, err)
		}
		f := checksum.NewFileHasher(p)
		if verify {
			f.Write(src)
		} else {
			f.Write(src[2000:])
		}
		if !bytes.Equal(res.Sum, f.Sum(nil)) {
			t.Errorf("verify=%v: file sum %x, want %x", verify, res.Sum, f.Sum(nil))
		}
	}
}

func TestComputeReaderMatchesCompute(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	basis := randBytes(r, 600001)
	p := checksum.Params{Kind: checksum.MD4Old, Seed: 9}
	head, err := checksum.SumSizes(int64(len(basis)), 0, 29, checksum.ShortSumLength, p.DigestLen())
	if err != nil {
		t.Fatal(err)
	}
	var a, b Sums
	if err := a.Compute(basis, head, checksum.NewBlockHasher(p)); err != nil {
		t.Fatal(err)
	}
	if _, err := b.ComputeReader(bytes.NewReader(basis), int64(len(basis)), head, checksum.NewBlockHasher(p), nil); err != nil {
		t.Fatal(err)
	}
	if len(a.Sum1) != int(head.Count) || fmt.Sprint(a.Sum1) != fmt.Sprint(b.Sum1) || !bytes.Equal(a.Sum2, b.Sum2) {
		t.Error("ComputeReader and Compute disagree")
	}
	var w1, w2 bytes.Buffer
	ww := wire.NewWriter(&w1)
	WriteSums(ww, &a)
	ww.Flush()
	ww = wire.NewWriter(&w2)
	if _, err := WriteSignature(ww, bytes.NewReader(basis), int64(len(basis)), head, checksum.NewBlockHasher(p), nil, 1); err != nil {
		t.Fatal(err)
	}
	ww.Flush()
	if !bytes.Equal(w1.Bytes(), w2.Bytes()) {
		t.Error("WriteSums and WriteSignature disagree")
	}
	if err := a.Compute(basis[:100], head, checksum.NewBlockHasher(p)); err == nil {
		t.Error("Compute with a head for another length: want an error")
	}
}
