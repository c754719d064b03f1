package checksum

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// refSums is a straight per-byte port of get_checksum1's loop, returning the
// unmasked s1 and s2.
func refSums(buf []byte) (s1, s2 uint32) {
	for _, c := range buf {
		s1 += uint32(int8(c))
		s2 += s1
	}
	return s1, s2
}

// TestSumsMatchReference checks the word-at-a-time sums (and so Checksum1
// and Rolling.Init) against refSums for every length up to a few chunks and
// some large ones, over data that stresses the lane bounds: bytes that are
// all 0x7f (the largest lanes after the 0x80 flip), all 0x80 (the smallest),
// all at or above 0x80 (negative as signed chars), and uniform random.
func TestSumsMatchReference(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	gens := []struct {
		name string
		byte func() byte
	}{
		{"random", func() byte { return byte(r.Uint32()) }},
		{"high", func() byte { return 0x80 | byte(r.Uint32()) }},
		{"0x7f", func() byte { return 0x7f }},
		{"0x80", func() byte { return 0x80 }},
		{"0xff", func() byte { return 0xff }},
	}
	lengths := []int{1000, 1023, 1024, 4095, 4096, 65536 + 13, 1<<20 + 7}
	for n := range 301 {
		lengths = append(lengths, n)
	}
	for _, g := range gens {
		buf := make([]byte, 1<<20+7)
		for i := range buf {
			buf[i] = g.byte()
		}
		for _, n := range lengths {
			// Start at an odd offset too, so loads are unaligned.
			for _, off := range []int{0, 3} {
				if off+n > len(buf) {
					continue
				}
				b := buf[off : off+n]
				s1, s2 := sums(b)
				w1, w2 := refSums(b)
				if s1 != w1 || s2 != w2 {
					t.Fatalf("%s len %d off %d: sums = %08x %08x, want %08x %08x (vector sums: %v)", g.name, n, off, s1, s2, w1, w2, haveVectorSums)
				}
				if g1, g2 := sumsGeneric(b); g1 != w1 || g2 != w2 {
					t.Fatalf("%s len %d off %d: sumsGeneric = %08x %08x, want %08x %08x", g.name, n, off, g1, g2, w1, w2)
				}
				if got, want := Checksum1(b), w1&0xffff|w2<<16; got != want {
					t.Fatalf("%s len %d off %d: Checksum1 = %08x, want %08x", g.name, n, off, got, want)
				}
				var roll Rolling
				roll.Init(b)
				if got, want := roll.Sum(), w1&0xffff|w2<<16; got != want || roll.Len() != n {
					t.Fatalf("%s len %d off %d: Rolling.Init sum %08x len %d, want %08x len %d", g.name, n, off, got, roll.Len(), want, n)
				}
			}
		}
	}
}

func FuzzChecksum1(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("rsync weak checksum"))
	f.Add(fill(300, 0))
	f.Add(fill(257, 3))
	f.Fuzz(func(t *testing.T, b []byte) {
		w1, w2 := refSums(b)
		if got, want := Checksum1(b), w1&0xffff|w2<<16; got != want {
			t.Fatalf("len %d: Checksum1 = %08x, want %08x", len(b), got, want)
		}
	})
}

// BenchmarkChecksum1Sizes measures Checksum1 at block lengths the
// generator picks: the 700-byte minimum, a mid-size file's and the cap.
func BenchmarkChecksum1Sizes(b *testing.B) {
	for _, n := range []int{BlockSize, 8192, MaxBlockSize} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			buf := fill(n, 0)
			b.SetBytes(int64(n))
			var sink uint32
			for b.Loop() {
				sink += Checksum1(buf)
			}
			_ = sink
		})
	}
}
