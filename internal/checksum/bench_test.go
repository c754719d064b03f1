package checksum

import (
	"fmt"
	"testing"
)

var kinds = []Kind{MD4, MD5, SHA1, XXH64, XXH3, XXH128}

// BenchmarkChecksum1 measures the weak sum of 1 MiB and of a 32 KiB
// block (the block size of a 1 GiB file), with the AVX2 path where the CPU
// has it ("vector") and the word-at-a-time Go code ("generic").
func BenchmarkChecksum1(b *testing.B) {
	for _, size := range []int{1 << 20, 32 << 10} {
		buf := fill(size, 0)
		for _, vec := range []bool{true, false} {
			name := fmt.Sprintf("%dKiB/generic", size>>10)
			if vec {
				if !haveVectorSums {
					continue
				}
				name = fmt.Sprintf("%dKiB/vector", size>>10)
			}
			b.Run(name, func(b *testing.B) {
				old := haveVectorSums
				haveVectorSums = vec
				defer func() { haveVectorSums = old }()
				b.SetBytes(int64(len(buf)))
				var sink uint32
				for b.Loop() {
					sink += Checksum1(buf)
				}
				_ = sink
			})
		}
	}
}

func BenchmarkRollingRoll(b *testing.B) {
	buf := fill(1<<20, 0)
	const k = 700
	b.SetBytes(int64(len(buf) - k))
	var sink uint32
	for b.Loop() {
		var r Rolling
		r.Init(buf[:k])
		for i := 0; i+k < len(buf); i++ {
			r.Roll(buf[i], buf[i+k])
			sink += r.Sum()
		}
	}
	_ = sink
}

func BenchmarkBlockSum(b *testing.B) {
	for _, k := range kinds {
		for _, n := range []int{700, 8192} {
			b.Run(fmt.Sprintf("%v/%d", k, n), func(b *testing.B) {
				buf := fill(n, 0)
				h := NewBlockHasher(Params{Kind: k, Seed: 0x1234, ProperSeedOrder: true})
				dst := make([]byte, MaxDigestLen)
				b.SetBytes(int64(n))
				b.ReportAllocs()
				for b.Loop() {
					h.Sum(dst, buf)
				}
			})
		}
	}
}

func BenchmarkFileSum(b *testing.B) {
	buf := fill(1<<20, 0)
	for _, k := range append([]Kind{MD4Old}, kinds...) {
		name := k.Name()
		if k == MD4Old {
			name = "md4old"
		}
		b.Run(name, func(b *testing.B) {
			f := NewFileHasher(Params{Kind: k})
			dst := make([]byte, 0, MaxDigestLen)
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				f.Reset(Params{Kind: k})
				f.Write(buf)
				dst = f.Sum(dst[:0])
			}
		})
	}
}
