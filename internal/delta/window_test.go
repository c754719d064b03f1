package delta

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/gorsync/gorsync/internal/checksum"
)

// stingySource hands out the bytes asked for and a random few more (often
// none), in a buffer it overwrites with junk before every call, so that a
// search holding on to an old window, or reading past what it asked for,
// sends other tokens.
type stingySource struct {
	t     *testing.T
	data  []byte
	buf   []byte
	last  int64
	calls int
	rng   *rand.Rand
}

func (s *stingySource) Window(off int64, want int) []byte {
	if off < s.last {
		s.t.Fatalf("Window(%d) after Window(%d): offsets went back", off, s.last)
	}
	if off+int64(want) > int64(len(s.data)) {
		s.t.Fatalf("Window(%d, %d) reaches past the end (%d)", off, want, len(s.data))
	}
	s.last = off
	s.calls++
	for i := range s.buf {
		s.buf[i] = byte(i*7 + s.calls)
	}
	if s.rng == nil {
		s.rng = rand.New(rand.NewPCG(uint64(len(s.data)), 1))
	}
	if s.rng.IntN(4) > 0 {
		want = int(min(int64(want+s.rng.IntN(2*ChunkSize)), int64(len(s.data))-off))
	}
	if cap(s.buf) < want {
		s.buf = make([]byte, want)
	}
	s.buf = s.buf[:want]
	copy(s.buf, s.data[off:])
	return s.buf
}

// tokenLog records everything a TokenWriter is given.
type tokenLog struct{ b bytes.Buffer }

func (l *tokenLog) WriteToken(lit []byte, tok int32, match []byte) error {
	fmt.Fprintf(&l.b, "%d %x %d %x\n", len(lit), lit, tok, match)
	return nil
}

// TestMatchSourceSameTokens checks that the search through a sliding
// window sends the tokens, results and file sum that the search over the
// whole file does, for inplace and not, across block sizes and edits.
func TestMatchSourceSameTokens(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	p := checksum.Params{Kind: checksum.MD5, Seed: 3, ProperSeedOrder: true}
	zeros := make([]byte, 50000)
	for _, c := range []struct {
		name  string
		size  int
		blen  int32
		edits int
	}{
		{"small", 3000, 700, 3},
		{"chunky", 200_000, 700, 40},
		{"unrelated", 150_000, 0, -1},
		{"big-blocks", 600_000, 8192, 25},
		{"identical", 400_000, 0, 0},
		{"zeros", 0, 1024, 5},
	} {
		for _, inplace := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/inplace=%v", c.name, inplace), func(t *testing.T) {
				basis := randBytes(r, c.size)
				if c.name == "zeros" {
					basis = cat(zeros, randBytes(r, 3000), zeros)
				}
				src := bytes.Clone(basis)
				switch {
				case c.edits < 0:
					src = randBytes(r, c.size)
				default:
					for range c.edits {
						at := r.IntN(len(src))
						switch r.IntN(3) {
						case 0:
							src[at] ^= 0x55
						case 1:
							src = cat(src[:at], randBytes(r, r.IntN(3*ChunkSize)), src[at:])
						default:
							src = cat(src[:at], src[min(len(src), at+r.IntN(3000)):])
						}
					}
				}
				head, err := checksum.SumSizes(int64(len(basis)), c.blen, 31, checksum.ShortSumLength, p.DigestLen())
				if err != nil {
					t.Fatal(err)
				}
				var s Sums
				if err := s.Compute(basis, head, checksum.NewBlockHasher(p)); err != nil {
					t.Fatal(err)
				}
				var whole, windowed tokenLog
				m := NewMatcher(p, inplace)
				want, err := m.Match(&whole, src, &s)
				if err != nil {
					t.Fatal(err)
				}
				wantSum := bytes.Clone(want.Sum)
				ss := &stingySource{t: t, data: src}
				got, err := m.MatchSource(&windowed, ss, int64(len(src)), &s)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(whole.b.Bytes(), windowed.b.Bytes()) {
					t.Fatal("the windowed search sent other tokens")
				}
				if !bytes.Equal(got.Sum, wantSum) {
					t.Error("the windowed search has another file sum")
				}
				got.Sum, want.Sum = nil, nil
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("result %+v, want %+v", got, want)
				}
				if len(src) > 8*int(head.BlockLen)+4*ChunkSize && ss.calls < 2 {
					t.Errorf("%d windows for %d bytes: the window never slid", ss.calls, len(src))
				}
			})
		}
	}
}

// TestMatchSourceLiteral checks the window over a file with no sums.
func TestMatchSourceLiteral(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	p := checksum.Params{Kind: checksum.XXH128}
	for _, n := range []int{0, 1, ChunkSize - 1, ChunkSize, ChunkSize + 1, 5*ChunkSize + 17} {
		src := randBytes(r, n)
		var whole, windowed tokenLog
		var s Sums
		m := NewMatcher(p, false)
		want, _ := m.Match(&whole, src, &s)
		wantSum := bytes.Clone(want.Sum)
		got, err := m.MatchSource(&windowed, &stingySource{t: t, data: src}, int64(n), &s)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(whole.b.Bytes(), windowed.b.Bytes()) || !bytes.Equal(got.Sum, wantSum) {
			t.Errorf("%d bytes: the windowed literal differs", n)
		}
	}
}
