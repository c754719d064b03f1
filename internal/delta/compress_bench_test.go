package delta

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/gorsync/gorsync/internal/wire"
)

// benchInputs are the literal data of the codec benchmarks.
func benchInputs() []struct {
	name string
	data []byte
} {
	r := rand.New(rand.NewPCG(3, 4))
	return []struct {
		name string
		data []byte
	}{{"text", textBytes(r, 4<<20)}, {"random", randBytes(r, 4<<20)}}
}

// encodeLiteral writes data as one file of literal runs (ChunkSize pieces
// with TokenLiteral, as the matcher sends them) through tw.
func encodeLiteral(b *testing.B, tw TokenWriter, data []byte) {
	for len(data) > ChunkSize {
		if err := tw.WriteToken(data[:ChunkSize], TokenLiteral, nil); err != nil {
			b.Fatal(err)
		}
		data = data[ChunkSize:]
	}
	if err := tw.WriteToken(data, TokenEnd, nil); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkTokenCompress measures each codec's sending throughput at
// rsync's default level.
func BenchmarkTokenCompress(b *testing.B) {
	for _, in := range benchInputs() {
		for _, c := range allCompressions {
			b.Run(in.name+"/"+c.String(), func(b *testing.B) {
				_, level := NormalizeLevel(c, LevelUnspecified)
				w := wire.NewWriter(io.Discard)
				tw := NewTokenWriter(w, c, level, 31)
				b.SetBytes(int64(len(in.data)))
				for b.Loop() {
					encodeLiteral(b, tw, in.data)
				}
			})
		}
	}
}

// BenchmarkTokenDecompress measures each codec's receiving throughput
// (uncompressed bytes per second) at rsync's default level.
func BenchmarkTokenDecompress(b *testing.B) {
	for _, in := range benchInputs() {
		for _, c := range allCompressions {
			b.Run(in.name+"/"+c.String(), func(b *testing.B) {
				_, level := NormalizeLevel(c, LevelUnspecified)
				var buf bytes.Buffer
				w := wire.NewWriter(&buf)
				encodeLiteral(b, NewTokenWriter(w, c, level, 31), in.data)
				w.Flush()
				stream := buf.Bytes()
				b.ReportMetric(float64(len(stream))/float64(len(in.data)), "ratio")
				b.SetBytes(int64(len(in.data)))
				for b.Loop() {
					// zstd's stream spans the session, so each
					// iteration decodes a session of its own.
					tr := NewTokenReader(wire.NewReader(bytes.NewReader(stream)), c, 31)
					n := 0
					for {
						tok, _, err := tr.ReadToken()
						if err != nil {
							b.Fatal(err)
						}
						if tok == 0 {
							break
						}
						n += int(tok)
					}
					if n != len(in.data) {
						b.Fatalf("decoded %d bytes, want %d", n, len(in.data))
					}
					if cl, ok := tr.(io.Closer); ok {
						cl.Close()
					}
				}
			})
		}
	}
}
