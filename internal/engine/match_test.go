package engine

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/gorsync/gorsync/internal/checksum"
	"github.com/gorsync/gorsync/internal/delta"
	"github.com/gorsync/gorsync/internal/fastio"
	"github.com/gorsync/gorsync/internal/wire"
)

var matchParams = checksum.Params{Kind: checksum.MD5, Seed: 7, ProperSeedOrder: true}

func randBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 3))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// matchCase is a source file and the sums of a basis for it.
type matchCase struct {
	path  string
	src   []byte
	basis []byte
	sums  delta.Sums
}

func newMatchCase(t *testing.T, size int, whole bool) *matchCase {
	t.Helper()
	c := &matchCase{src: randBytes(uint64(size), size)}
	c.path = filepath.Join(t.TempDir(), "src")
	if err := os.WriteFile(c.path, c.src, 0o644); err != nil {
		t.Fatal(err)
	}
	if whole {
		return c
	}
	c.basis = bytes.Clone(c.src)
	r := rand.New(rand.NewPCG(1, uint64(size)))
	for range 20 {
		c.basis[r.IntN(len(c.basis))] ^= 0xa5
	}
	head, err := checksum.SumSizes(int64(len(c.basis)), 0, 31, checksum.ShortSumLength, matchParams.DigestLen())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.sums.Compute(c.basis, head, checksum.NewBlockHasher(matchParams)); err != nil {
		t.Fatal(err)
	}
	return c
}

// stream sends c's source with matchFile (or, with reference, with the
// Matcher over the file's bytes in memory) and returns the wire bytes: the
// tokens and the whole-file sum.
func (c *matchCase) stream(t *testing.T, o *Options, comp delta.Compression, reference bool) ([]byte, error) {
	t.Helper()
	var out bytes.Buffer
	w := wire.NewWriter(&out)
	tw := delta.NewTokenWriter(w, comp, 0, 31)
	m := delta.NewMatcher(matchParams, false)
	var res delta.MatchResult
	var readErr, err error
	if reference {
		res, err = m.Match(tw, c.src, &c.sums)
	} else {
		f, ferr := os.Open(c.path)
		if ferr != nil {
			t.Fatal(ferr)
		}
		res, readErr, err = matchFile(o, m, tw, f, &c.sums)
		f.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	if readErr != nil {
		delta.CorruptSum(res.Sum)
	}
	w.Write(res.Sum)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes(), readErr
}

// receive rebuilds the file from a stream.
func (c *matchCase) receive(stream []byte, comp delta.Compression) ([]byte, error) {
	r := wire.NewReader(bytes.NewReader(stream))
	var out bytes.Buffer
	var basis *bytes.Reader
	if c.basis != nil {
		basis = bytes.NewReader(c.basis)
	}
	_, err := delta.NewReceiver().Receive(r, delta.NewTokenReader(r, comp, 31), c.sums.Head, matchParams, basis, &out)
	return out.Bytes(), err
}

// TestMatchFileSameStream checks that matchFile sends exactly what the
// Matcher sends over the file's bytes in memory — whole-file (streamed,
// never mapped) and delta (mapped or read through the window), with Mmap
// and Adaptive each way, plain and compressed.
func TestMatchFileSameStream(t *testing.T) {
	for _, size := range []int{0, 1000, 40 << 10, fastio.MapThreshold + 1, 3<<20 + 5} {
		for _, whole := range []bool{true, false} {
			if size == 0 && !whole {
				continue
			}
			c := newMatchCase(t, size, whole)
			for _, comp := range []delta.Compression{delta.NoCompression, delta.Zlib, delta.Zstd} {
				want, _ := c.stream(t, &Options{}, comp, true)
				for _, sw := range []struct{ mmap, adaptive bool }{{true, true}, {false, true}, {true, false}, {false, false}} {
					t.Run(fmt.Sprintf("%d/whole=%v/%v/mmap=%v,adaptive=%v", size, whole, comp, sw.mmap, sw.adaptive), func(t *testing.T) {
						var mapped bool
						o := &Options{IO: fastio.Defaults().With(fastio.Mmap, sw.mmap).With(fastio.Adaptive, sw.adaptive)}
						o.Hooks.Mapped = func(_ string, m bool) { mapped = m }
						got, readErr := c.stream(t, o, comp, false)
						if readErr != nil {
							t.Fatal(readErr)
						}
						if wantMapped := sw.mmap && !whole && size >= fastio.MapThreshold; mapped != wantMapped {
							t.Errorf("mapped = %v, want %v", mapped, wantMapped)
						}
						if !bytes.Equal(got, want) {
							t.Error("matchFile sent another stream than the Matcher over the bytes")
						}
					})
				}
			}
		}
	}
}

// TestMatchFileTruncated truncates the source once its view is open, before
// the block search reads it — mapped (the search faults), read through the
// window (reads come up short) and streamed whole: each time the stream
// stays whole and in step, the missing part arrives as zeros, readErr says
// what happened, and the spoiled checksum makes the receiver refuse the
// file (so that it asks again).
func TestMatchFileTruncated(t *testing.T) {
	const size, cut = 3 << 20, 1<<20 + 77
	for _, c := range []struct {
		name  string
		mmap  bool
		whole bool
		fault bool
	}{
		{"mapped", true, false, true},
		{"window", false, false, false},
		{"whole-file", true, true, false},
	} {
		for _, comp := range []delta.Compression{delta.NoCompression, delta.Zlib} {
			t.Run(fmt.Sprintf("%s/%v", c.name, comp), func(t *testing.T) {
				mc := newMatchCase(t, size, c.whole)
				o := &Options{IO: fastio.Defaults().With(fastio.Mmap, c.mmap)}
				o.Hooks.Mapped = func(name string, mapped bool) {
					if mapped != (c.mmap && !c.whole) {
						t.Errorf("mapped = %v", mapped)
					}
					if err := os.Truncate(name, cut); err != nil {
						t.Fatal(err)
					}
				}
				stream, readErr := mc.stream(t, o, comp, false)
				if readErr == nil {
					t.Fatal("no read error for a file truncated under the search")
				}
				if errors.Is(readErr, fastio.ErrFault) != c.fault {
					t.Errorf("readErr = %v; a fault: %v", readErr, c.fault)
				}
				got, err := mc.receive(stream, comp)
				if !errors.Is(err, delta.ErrChecksumMismatch) {
					t.Fatalf("receive = %v, want the checksum mismatch", err)
				}
				if len(got) != size {
					t.Fatalf("received %d bytes, want %d", len(got), size)
				}
				// What lies past the page holding the new end is zeros
				// (the search may have sent a little more before the
				// fault; the zero-filled remainder is never data).
				tail := got[(cut+4096)&^4095+delta.ChunkSize*2:]
				if !bytes.Equal(tail, make([]byte, len(tail))) {
					t.Error("the part past the truncation is not zeros")
				}
			})
		}
	}
}

// TestBasisTruncatedWhileMapped truncates the receiver's basis file after
// its view is open, mapped and not: reading the matched blocks fails (a
// fault, or a short read), which the receiver zero-fills and reports as a
// checksum mismatch, the signal to redo the file — never a crash.
func TestBasisTruncatedWhileMapped(t *testing.T) {
	const size = 3 << 20
	for _, mmap := range []bool{true, false} {
		t.Run(fmt.Sprintf("mmap=%v", mmap), func(t *testing.T) {
			c := newMatchCase(t, size, false)
			stream, _ := c.stream(t, &Options{}, delta.NoCompression, true)
			p := filepath.Join(t.TempDir(), "basis")
			os.WriteFile(p, c.basis, 0o644)
			f, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			bv := openBasis(fastio.Defaults().With(fastio.Mmap, mmap), f)
			defer bv.close()
			if bv.mf == nil || bv.mf.Mapped() != mmap {
				t.Fatalf("basis view %+v, want mapped=%v", bv.mf, mmap)
			}
			r := wire.NewReader(bytes.NewReader(stream))
			var out bytes.Buffer
			// A sound read first, then the truncation.
			if _, err := bv.reader().ReadAt(make([]byte, 100), 0); err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(p, size/3); err != nil {
				t.Fatal(err)
			}
			_, err = delta.NewReceiver().Receive(r, delta.NewTokenReader(r, delta.NoCompression, 31), c.sums.Head, matchParams, bv.reader(), &out)
			if !errors.Is(err, delta.ErrChecksumMismatch) {
				t.Fatalf("receive = %v, want the checksum mismatch", err)
			}
			if mmap && !errors.Is(err, fastio.ErrFault) {
				t.Errorf("receive = %v, want the fault named", err)
			}
		})
	}
}
