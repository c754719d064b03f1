package delta

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/gorsync/gorsync/internal/checksum"
	"github.com/gorsync/gorsync/internal/flist"
	"github.com/gorsync/gorsync/internal/rsynctest"
	"github.com/gorsync/gorsync/internal/wire"
)

// Upstream's batch files carry the sender's stream as the receiver reads
// it, compressed tokens included. A batch can only be written with "zlib"
// (compat.c getenv_nstr forces the old-style choice), but --read-batch
// takes any --compress-choice, so these tests check both directions:
// our zlib reader decodes upstream's zlib tokens, and upstream decodes
// our writers' tokens in every algorithm, spliced into upstream's batch.

// interopTree writes src/ and the basis dst/ under dir.
func interopTree(t *testing.T, dir string) {
	t.Helper()
	r := rand.New(rand.NewPCG(7, 8))
	text := textBytes(r, 400<<10)
	random := randBytes(r, 150<<10)
	files := []struct {
		name       string
		basis, src []byte
	}{
		{"a-text", text, cat(text[:90000], []byte("inserted"), text[90000:200000], text[210000:], text[:5000])},
		{"b-random", random, cat(random[:40000], randBytes(r, 20000), random[60000:])},
		{"c-new", nil, textBytes(r, 100<<10)},
		{"d-same", text[:70000], text[:70000]},
		{"e-empty", nil, nil},
	}
	for _, f := range files {
		for _, side := range []struct {
			dir  string
			data []byte
		}{{"src", f.src}, {"dst", f.basis}} {
			if side.dir == "dst" && f.basis == nil {
				continue
			}
			p := filepath.Join(dir, side.dir, f.name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, side.data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// batchFile is upstream's batch stream, cut where the token streams are.
type batchFile struct {
	proto int
	// pieces alternate: raw bytes kept as they are, then one file's
	// token stream (decoded as ops), then raw bytes again, ...
	raw   [][]byte
	files []batchTransfer
}

// batchTransfer is one file transfer found in a batch.
type batchTransfer struct {
	name     string
	ops      []tokenOp
	matches  [][]byte // basis data of each op's block, when it has one
	literal  int64
	matched  int64
	rebuilds []byte
}

// recordingReader records a file's tokens as the Receiver reads them,
// regrouped into WriteToken calls.
type recordingReader struct {
	TokenReader
	lit     []byte
	ops     []tokenOp
	matches [][]byte
}

func (r *recordingReader) ReadToken() (int32, []byte, error) {
	tok, data, err := r.TokenReader.ReadToken()
	switch {
	case err != nil:
	case tok > 0:
		r.lit = append(r.lit, data...)
	case tok == 0:
		r.ops = append(r.ops, tokenOp{r.lit, TokenEnd})
		r.matches = append(r.matches, nil)
		r.lit = nil
	default:
		r.ops = append(r.ops, tokenOp{r.lit, -tok - 1})
		r.lit = nil
	}
	return tok, data, err
}

func (r *recordingReader) SeeToken(data []byte) {
	r.matches = append(r.matches, bytes.Clone(data))
	r.TokenReader.SeeToken(data)
}

// writeZlibBatch has upstream write a zlib-compressed batch of dir/src/
// against dir/dst/ and returns its bytes.
func writeZlibBatch(t *testing.T, rsync, dir string, proto int, extra ...string) []byte {
	t.Helper()
	batch := filepath.Join(t.TempDir(), "batch")
	args := append([]string{"-r", "--no-W", "-I", "--no-inc-recursive", "-z", "--compress-choice=zlib",
		fmt.Sprintf("--protocol=%d", proto), "--only-write-batch=" + batch}, extra...)
	args = append(args, "src/", "dst/")
	cmd := exec.Command(rsync, args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("rsync %v: %v\n%s", args, err, out)
	}
	data, err := os.ReadFile(batch)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// parseBatch decodes a batch's file list and every file's tokens with our
// zlib reader, rebuilding each file from dir/dst/.
func parseBatch(t *testing.T, dir string, data []byte) *batchFile {
	t.Helper()
	r := wire.NewReader(bytes.NewReader(data))
	off := r.Consumed
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("batch at %d: %v", off(), err)
		}
	}
	_, err := r.ReadInt() // stream flags
	must(err)
	p, err := r.ReadInt()
	must(err)
	proto := int(p)
	var compat int32
	if proto >= 30 {
		compat, err = r.ReadVarint()
		must(err)
	}
	seed, err := r.ReadInt()
	must(err)
	dec, err := flist.NewDecoder(flist.Options{Protocol: proto, CompatFlags: int(compat), Recurse: true})
	must(err)
	dec.StartList(0)
	for {
		_, end, err := dec.ReadEntry(r)
		must(err)
		if end {
			break
		}
	}
	list := &flist.List{Entries: dec.Entries()}
	list.SortAndClean(proto, true)

	kind := checksum.MD5
	if proto < 30 {
		kind = checksum.MD4
	}
	params := checksum.Params{Kind: kind, Seed: seed}
	b := &batchFile{proto: proto}
	last := int64(0)
	ndx := wire.NewNdxCodec(proto)
	tr := NewTokenReader(r, Zlib, proto)
	rc := NewReceiver()
	for {
		i, err := ndx.Read(r)
		must(err)
		if i < 0 {
			break
		}
		if int(i) >= len(list.Entries) {
			t.Fatalf("batch names file %d of %d", i, len(list.Entries))
		}
		name := list.Entries[i].Name()
		iflags, err := r.ReadShortint()
		must(err)
		if iflags&(1<<11|1<<12) != 0 { // ITEM_BASIS_TYPE_FOLLOWS, ITEM_XNAME_FOLLOWS
			t.Fatalf("%s: unexpected item flags %#x", name, iflags)
		}
		head, err := ReadSumHead(r, proto, params.DigestLen())
		must(err)
		b.raw = append(b.raw, data[last:off()])
		rec := &recordingReader{TokenReader: tr}
		var basis io.ReaderAt
		if bd, err := os.ReadFile(filepath.Join(dir, "dst", name)); err == nil {
			basis = bytes.NewReader(bd)
		}
		var out bytes.Buffer
		res, err := rc.Receive(r, rec, head, params, basis, &out)
		if err != nil {
			t.Fatalf("%s: decoding upstream's zlib tokens: %v", name, err)
		}
		// The file checksum stays with the raw bytes after the tokens.
		last = off() - int64(params.DigestLen())
		b.files = append(b.files, batchTransfer{name: name, ops: rec.ops, matches: rec.matches,
			literal: res.Literal, matched: res.Matched, rebuilds: out.Bytes()})
	}
	b.raw = append(b.raw, data[last:])
	return b
}

// encode rebuilds the batch with every file's tokens written by our
// writer for c.
func (b *batchFile) encode(t *testing.T, c Compression) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := wire.NewWriter(&buf)
	_, level := NormalizeLevel(c, LevelUnspecified)
	tw := NewTokenWriter(w, c, level, b.proto)
	for i, f := range b.files {
		w.Write(b.raw[i])
		m := 0
		for _, op := range f.ops {
			var match []byte
			if op.token >= 0 {
				match = f.matches[m]
				m++
			}
			if err := tw.WriteToken(op.literal, op.token, match); err != nil {
				t.Fatal(err)
			}
		}
	}
	w.Write(b.raw[len(b.raw)-1])
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestUpstreamZlibTokens decodes upstream rsync's zlib token streams from
// its batch files and checks the rebuilt files against the sources, then
// has upstream read batches whose tokens our writers produced, in every
// algorithm, and checks the trees it builds.
func TestUpstreamZlibTokens(t *testing.T) {
	rsync := rsynctest.RequireRsync(t)
	dir := t.TempDir()
	interopTree(t, dir)
	cases := []struct {
		proto int
		extra []string
	}{
		{32, nil},
		{31, []string{"--block-size=70000"}}, // matched blocks over 0xffff bytes
		{30, []string{"--block-size=70000"}}, // ... before protocol 31's fix
		{30, nil},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%d%v", tc.proto, tc.extra), func(t *testing.T) {
			b := parseBatch(t, dir, writeZlibBatch(t, rsync, dir, tc.proto, tc.extra...))
			var matched, literal int64
			for _, f := range b.files {
				want, err := os.ReadFile(filepath.Join(dir, "src", f.name))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(f.rebuilds, want) {
					t.Errorf("%s: rebuilt %d bytes differ from the %d-byte source", f.name, len(f.rebuilds), len(want))
				}
				matched += f.matched
				literal += f.literal
			}
			if len(b.files) != 5 || matched == 0 || literal == 0 {
				t.Fatalf("%d files, %d matched and %d literal bytes: not the transfer the test is for", len(b.files), matched, literal)
			}
			for _, c := range allCompressions {
				t.Run(c.String(), func(t *testing.T) {
					readOurBatch(t, rsync, dir, c, b.encode(t, c))
				})
			}
		})
	}
}

// readOurBatch has upstream apply batch (tokens compressed with c) to a
// copy of dir/dst/ and compares the result with dir/src/.
func readOurBatch(t *testing.T, rsync, dir string, c Compression, batch []byte) {
	t.Helper()
	tmp := t.TempDir()
	bf := filepath.Join(tmp, "batch")
	if err := os.WriteFile(bf, batch, 0o600); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(tmp, "dst")
	if err := os.CopyFS(dst, os.DirFS(filepath.Join(dir, "dst"))); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(rsync, "-r", "--no-W", "-I", "-z", "--compress-choice="+c.Name(), "--read-batch="+bf, dst+"/")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("upstream rsync --read-batch of our %s tokens: %v\n%s", c, err, out)
	}
	entries, err := os.ReadDir(filepath.Join(dir, "src"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		want, _ := os.ReadFile(filepath.Join(dir, "src", e.Name()))
		got, err := os.ReadFile(filepath.Join(dst, e.Name()))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: upstream rebuilt %d bytes (%v), want the %d-byte source", e.Name(), len(got), err, len(want))
		}
	}
}
