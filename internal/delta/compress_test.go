package delta

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/gorsync/gorsync/internal/checksum"
	"github.com/gorsync/gorsync/internal/wire"
)

var allCompressions = []Compression{Zlib, Zlibx, Zstd, LZ4}

// textBytes returns n bytes of compressible, text-like data.
func textBytes(r *rand.Rand, n int) []byte {
	words := make([]string, 300)
	for i := range words {
		w := make([]byte, 2+r.IntN(8))
		for j := range w {
			w[j] = 'a' + byte(r.IntN(26))
		}
		words[i] = string(w)
	}
	var b bytes.Buffer
	for b.Len() < n {
		b.WriteString(words[r.IntN(len(words))])
		if r.IntN(12) == 0 {
			b.WriteByte('\n')
		} else {
			b.WriteByte(' ')
		}
	}
	return b.Bytes()[:n]
}

// sessionFile is one file of a session: its basis, its new content and
// the block size of its signature (0: rsync's heuristic).
type sessionFile struct {
	name         string
	basis, src   []byte
	blockSize    int32
	wantMatches  bool
	wantLiterals bool
}

func sessionFiles() []sessionFile {
	r := rand.New(rand.NewPCG(5, 6))
	text := textBytes(r, 300<<10)
	random := randBytes(r, 200<<10)
	edited := cat(text[:70000], []byte("an insertion"), text[70000:150000], text[160000:])
	big := textBytes(r, 400<<10)
	return []sessionFile{
		{name: "text-edit", basis: text, src: edited, wantMatches: true, wantLiterals: true},
		{name: "random-new", src: random, wantLiterals: true},
		{name: "random-edit", basis: random, src: cat(random[:1000], randBytes(r, 70000), random[50000:]), wantMatches: true, wantLiterals: true},
		{name: "empty", src: nil},
		{name: "identical", basis: text[:100000], src: text[:100000], wantMatches: true},
		{name: "text-new", src: textBytes(r, 100<<10), wantLiterals: true},
		// Blocks over 0xffff bytes exercise see_deflate_token's split.
		{name: "big-blocks", basis: big, src: cat(big[:150000], []byte("x"), big[150000:]), blockSize: 100000, wantMatches: true, wantLiterals: true},
		{name: "reordered", basis: text, src: cat(text[200000:], text[:200000]), wantMatches: true, wantLiterals: true},
	}
}

// sendSession encodes files as one session with a writer for c and
// returns the stream: per file, its sum head, tokens and file checksum.
func sendSession(t testing.TB, c Compression, level, protocol int, files []sessionFile) ([]byte, []MatchResult) {
	t.Helper()
	p := checksum.Params{Kind: checksum.MD5}
	var buf bytes.Buffer
	w := wire.NewWriter(&buf)
	tw := NewTokenWriter(w, c, level, protocol)
	m := NewMatcher(p, false)
	var results []MatchResult
	for _, f := range files {
		head, err := checksum.SumSizes(int64(len(f.basis)), f.blockSize, protocol, checksum.ShortSumLength, p.DigestLen())
		if err != nil {
			t.Fatal(err)
		}
		var s Sums
		if err := s.Compute(f.basis, head, checksum.NewBlockHasher(p)); err != nil {
			t.Fatal(err)
		}
		WriteSumHead(w, head)
		res, err := m.Match(tw, f.src, &s)
		if err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		w.Write(res.Sum)
		results = append(results, res)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), results
}

// receiveSession decodes a stream made by sendSession with a reader for c.
func receiveSession(t testing.TB, c Compression, protocol int, stream []byte, files []sessionFile) []RecvResult {
	t.Helper()
	p := checksum.Params{Kind: checksum.MD5}
	r := wire.NewReader(bytes.NewReader(stream))
	tr := NewTokenReader(r, c, protocol)
	if cl, ok := tr.(io.Closer); ok {
		defer cl.Close()
	}
	rc := NewReceiver()
	var results []RecvResult
	for _, f := range files {
		head, err := ReadSumHead(r, protocol, p.DigestLen())
		if err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		var out bytes.Buffer
		res, err := rc.Receive(r, tr, head, p, bytes.NewReader(f.basis), &out)
		if err != nil {
			t.Fatalf("%s: Receive: %v", f.name, err)
		}
		if !bytes.Equal(out.Bytes(), f.src) {
			t.Fatalf("%s: reconstructed %d bytes differ from the %d-byte source", f.name, out.Len(), len(f.src))
		}
		results = append(results, res)
	}
	if n, _ := io.Copy(io.Discard, r); n != 0 {
		t.Fatalf("%d bytes left after the session", n)
	}
	return results
}

// TestCompressedRoundTrip sends a session of files through each
// compressed writer and rebuilds them with the matching reader.
func TestCompressedRoundTrip(t *testing.T) {
	files := sessionFiles()
	for _, c := range allCompressions {
		for _, proto := range []int{29, 30, 31} {
			t.Run(fmt.Sprintf("%s/%d", c, proto), func(t *testing.T) {
				_, level := NormalizeLevel(c, LevelUnspecified)
				stream, sent := sendSession(t, c, level, proto, files)
				got := receiveSession(t, c, proto, stream, files)
				var plainLen, lit int64
				for i, f := range files {
					if got[i].Literal != sent[i].Literal || got[i].Matched != sent[i].Matched {
						t.Errorf("%s: received literal %d matched %d, sent %d, %d", f.name, got[i].Literal, got[i].Matched, sent[i].Literal, sent[i].Matched)
					}
					if f.wantMatches != (sent[i].Matched > 0) || f.wantLiterals != (sent[i].Literal > 0) {
						t.Errorf("%s: literal %d matched %d: not the case the file is for", f.name, sent[i].Literal, sent[i].Matched)
					}
					plainLen += int64(len(f.src))
					lit += sent[i].Literal
				}
				t.Logf("%d literal bytes as %d stream bytes", lit, len(stream))
				if int64(len(stream)) >= lit {
					t.Errorf("stream of %d bytes for %d literal bytes: nothing compressed", len(stream), lit)
				}
			})
		}
	}
}

// tokenOp is one WriteToken call of a scripted token stream.
type tokenOp struct {
	literal []byte
	token   int32
}

// randomOps scripts a file of random token calls over a basis of nblocks
// blocks of blockLen bytes: runs of consecutive blocks (some longer than
// a 16-bit run count), far jumps, repeats, literal-only pieces and empty
// literals after them.
func randomOps(r *rand.Rand, nblocks int32, text bool) []tokenOp {
	var ops []tokenOp
	lit := func(n int) []byte {
		if text {
			return textBytes(r, n)
		}
		return randBytes(r, n)
	}
	for range 40 {
		var l []byte
		if r.IntN(3) > 0 {
			l = lit(r.IntN(3000))
		}
		switch r.IntN(8) {
		case 0:
			ops = append(ops, tokenOp{lit(ChunkSize), TokenLiteral})
			ops = append(ops, tokenOp{nil, r.Int32N(nblocks)})
		case 1:
			start := r.Int32N(nblocks)
			n := 1 + r.Int32N(min(70000, nblocks-start))
			for i := range n {
				ops = append(ops, tokenOp{nil, start + i})
			}
			ops[len(ops)-int(n)].literal = l
		default:
			ops = append(ops, tokenOp{l, r.Int32N(nblocks)})
		}
	}
	return append(ops, tokenOp{lit(r.IntN(100)), TokenEnd})
}

// TestCompressedTokenStream writes scripted token calls and checks that
// the reader returns the same literal data and block indexes, across
// several files of one session.
func TestCompressedTokenStream(t *testing.T) {
	const nblocks, blockLen = 100000, 7
	r := rand.New(rand.NewPCG(1, 2))
	basis := textBytes(r, nblocks*blockLen)
	block := func(i int32) []byte { return basis[int(i)*blockLen : int(i+1)*blockLen] }
	var files [][]tokenOp
	for i := range 6 {
		files = append(files, randomOps(r, nblocks, i%2 == 0))
	}
	files = append(files, []tokenOp{{nil, TokenEnd}}, []tokenOp{{nil, 5}, {nil, 6}, {nil, TokenEnd}})
	for _, c := range allCompressions {
		t.Run(c.String(), func(t *testing.T) {
			var buf bytes.Buffer
			w := wire.NewWriter(&buf)
			tw := NewTokenWriter(w, c, 0, 31)
			for _, ops := range files {
				for _, op := range ops {
					var m []byte
					if op.token >= 0 {
						m = block(op.token)
					}
					if err := tw.WriteToken(op.literal, op.token, m); err != nil {
						t.Fatal(err)
					}
				}
			}
			w.Flush()
			rd := wire.NewReader(&buf)
			tr := NewTokenReader(rd, c, 31)
			if cl, ok := tr.(io.Closer); ok {
				defer cl.Close()
			}
			for fi, ops := range files {
				var want, got bytes.Buffer
				var wantToks, gotToks []int32
				for _, op := range ops {
					want.Write(op.literal)
					if op.token >= 0 {
						wantToks = append(wantToks, op.token)
					}
				}
				for {
					tok, data, err := tr.ReadToken()
					if err != nil {
						t.Fatalf("file %d: %v", fi, err)
					}
					if tok == 0 {
						break
					}
					if tok > 0 {
						if int(tok) != len(data) {
							t.Fatalf("token %d with %d bytes", tok, len(data))
						}
						got.Write(data)
						continue
					}
					i := -tok - 1
					if i >= nblocks {
						t.Fatalf("file %d: block %d out of range", fi, i)
					}
					gotToks = append(gotToks, i)
					tr.SeeToken(block(i))
				}
				if !bytes.Equal(got.Bytes(), want.Bytes()) {
					t.Fatalf("file %d: literal data differs (%d bytes, want %d)", fi, got.Len(), want.Len())
				}
				if !slicesEqual(gotToks, wantToks) {
					t.Fatalf("file %d: %d tokens differ from the %d sent", fi, len(gotToks), len(wantToks))
				}
			}
			if rd.Buffered() != 0 || buf.Len() != 0 {
				t.Fatal("bytes left after the session")
			}
		})
	}
}

func slicesEqual(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestTokenRunEncoding checks the flag bytes of the run coding against
// token.c's rules.
func TestTokenRunEncoding(t *testing.T) {
	cases := []struct {
		name   string
		tokens []int32
		want   []byte
	}{
		{"relative", []int32{5}, []byte{0x85, 0}},
		{"run", []int32{5, 6, 7}, []byte{0xc5, 2, 0, 0}},
		{"relative to run end", []int32{5, 6, 10}, []byte{0xc5, 1, 0, 0x84, 0}},
		{"long", []int32{64}, []byte{0x20, 64, 0, 0, 0, 0}},
		{"backwards", []int32{9, 3}, []byte{0x89, 0x20, 3, 0, 0, 0, 0}},
		{"long run", []int32{100, 101}, []byte{0x21, 100, 0, 0, 0, 1, 0, 0}},
		{"repeat", []int32{4, 4}, []byte{0x84, 0x80, 0}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, algo := range allCompressions {
				var buf bytes.Buffer
				w := wire.NewWriter(&buf)
				tw := NewTokenWriter(w, algo, 0, 31)
				for _, tok := range c.tokens {
					tw.WriteToken(nil, tok, make([]byte, 10))
				}
				tw.WriteToken(nil, TokenEnd, nil)
				w.Flush()
				if !bytes.Equal(buf.Bytes(), c.want) {
					t.Errorf("%s: % x, want % x", algo, buf.Bytes(), c.want)
				}
			}
		})
	}
}

// TestRunLongerThan16Bits checks that a run of more than 65536 blocks is
// split as upstream splits it.
func TestRunLongerThan16Bits(t *testing.T) {
	var buf bytes.Buffer
	w := wire.NewWriter(&buf)
	tw := NewTokenWriter(w, LZ4, 0, 31)
	for i := range int32(70000) {
		tw.WriteToken(nil, i, nil)
	}
	tw.WriteToken(nil, TokenEnd, nil)
	w.Flush()
	const n = 70000 - 65536 - 1
	want := []byte{0xc0, 0xff, 0xff, 0xc1, n & 0xff, n >> 8, 0}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("% x, want % x", buf.Bytes(), want)
	}
}

// TestCompressedReaderRejects feeds each reader malformed streams and
// checks for a protocol error (never a panic or a hang).
func TestCompressedReaderRejects(t *testing.T) {
	cases := []struct {
		name string
		data []byte
	}{
		{"bad flag", []byte{0x01}},
		{"other bad flag", []byte{0x3f}},
		{"empty data", []byte{0x40, 0x00}},
		{"garbage data", []byte{0x40, 0x04, 0xff, 0xff, 0xff, 0xff, 0x81}},
		{"negative long token", []byte{0x20, 0xff, 0xff, 0xff, 0xff}},
		{"token past the limit", []byte{0x20, 0xfe, 0xff, 0xff, 0x7f, 0x81}},
		{"zero run", []byte{0xc0, 0x00, 0x00}},
		{"run past the limit", []byte{0x21, 0xfe, 0xff, 0xff, 0x7f, 0x01, 0x00}},
	}
	for _, c := range cases {
		for _, algo := range allCompressions {
			t.Run(c.name+"/"+algo.String(), func(t *testing.T) {
				err := drain(NewTokenReader(wire.NewReader(bytes.NewReader(c.data)), algo, 31))
				if !errors.Is(err, wire.ErrProtocol) {
					t.Fatalf("got %v, want a protocol error", err)
				}
			})
		}
	}
}

// TestCompressedReaderTruncated cuts a valid session short at many points
// and checks that each reader fails rather than hangs or panics.
func TestCompressedReaderTruncated(t *testing.T) {
	files := sessionFiles()[:3]
	for _, c := range allCompressions {
		t.Run(c.String(), func(t *testing.T) {
			_, level := NormalizeLevel(c, LevelUnspecified)
			stream, _ := sendSession(t, c, level, 31, files)
			for cut := 0; cut < len(stream); cut += 1 + len(stream)/31 {
				r := wire.NewReader(bytes.NewReader(stream[:cut]))
				tr := NewTokenReader(r, c, 31)
				done := make(chan error, 1)
				go func() {
					p := checksum.Params{Kind: checksum.MD5}
					var err error
					for err == nil {
						var head SumHead
						if head, err = ReadSumHead(r, 31, p.DigestLen()); err == nil {
							_, err = NewReceiver().Receive(r, tr, head, p, bytes.NewReader(files[0].basis), io.Discard)
						}
					}
					done <- err
				}()
				select {
				case err := <-done:
					if !errors.Is(err, wire.ErrProtocol) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
						t.Fatalf("cut at %d: %v", cut, err)
					}
				case <-time.After(10 * time.Second):
					t.Fatalf("cut at %d: reader hangs", cut)
				}
				if cl, ok := tr.(io.Closer); ok {
					cl.Close()
				}
			}
		})
	}
}

// drain reads tokens until the end of a file or an error.
func drain(tr TokenReader) error {
	defer func() {
		if cl, ok := tr.(io.Closer); ok {
			cl.Close()
		}
	}()
	for range 1 << 20 {
		tok, _, err := tr.ReadToken()
		if err != nil {
			return err
		}
		if tok == 0 {
			return nil
		}
	}
	return nil
}

func TestParseCompression(t *testing.T) {
	for _, c := range append(allCompressions, NoCompression) {
		got, err := ParseCompression(strings.ToUpper(c.Name()))
		if err != nil || got != c {
			t.Errorf("ParseCompression(%q) = %v, %v", c.Name(), got, err)
		}
	}
	if _, err := ParseCompression("gzip"); err == nil {
		t.Error("ParseCompression accepted gzip")
	}
}
