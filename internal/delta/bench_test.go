package delta

import (
	"math/rand/v2"
	"testing"

	"github.com/gorsync/gorsync/internal/checksum"
)

// discardTokens is a TokenWriter that drops everything.
type discardTokens struct{}

func (discardTokens) WriteToken([]byte, int32, []byte) error { return nil }

var benchParams = checksum.Params{Kind: checksum.XXH128, Seed: 1, ProperSeedOrder: true}

func benchSums(b *testing.B, basis []byte) *Sums {
	head, err := checksum.SumSizes(int64(len(basis)), 0, 31, checksum.ShortSumLength, benchParams.DigestLen())
	if err != nil {
		b.Fatal(err)
	}
	var s Sums
	if err := s.Compute(basis, head, checksum.NewBlockHasher(benchParams)); err != nil {
		b.Fatal(err)
	}
	return &s
}

func BenchmarkMatch(b *testing.B) {
	const size = 16 << 20
	r := rand.New(rand.NewPCG(5, 6))
	basis := randBytes(r, size)
	edited := append([]byte(nil), basis...)
	for i := 0; i < 100; i++ { // scattered one-byte edits
		edited[r.IntN(size)] ^= 0xff
	}
	cases := []struct {
		name string
		src  []byte
	}{
		{"identical", basis},
		{"unrelated", randBytes(r, size)},
		{"scattered", edited},
	}
	s := benchSums(b, basis)
	m := NewMatcher(benchParams, false)
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := m.Match(discardTokens{}, c.src, s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkSignature(b *testing.B) {
	const size = 16 << 20
	basis := randBytes(rand.New(rand.NewPCG(5, 6)), size)
	head, _ := checksum.SumSizes(size, 0, 31, checksum.ShortSumLength, benchParams.DigestLen())
	for _, k := range []checksum.Kind{checksum.MD5, checksum.XXH128} {
		b.Run(k.Name(), func(b *testing.B) {
			h := checksum.NewBlockHasher(checksum.Params{Kind: k, Seed: 1})
			var s Sums
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				if err := s.Compute(basis, head, h); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
