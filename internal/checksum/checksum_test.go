package checksum

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
)

// fill reproduces testdata/gen_golden.c's data patterns.
func fill(n, pattern int) []byte {
	p := make([]byte, n)
	x := uint64(0x9e3779b97f4a7c15)
	for i := range p {
		switch pattern {
		case 0:
			x = x*6364136223846793005 + 1442695040888963407
			p[i] = byte(x >> 56)
		case 1:
			p[i] = 0xff
		case 2:
			p[i] = 0x80
		case 3:
			p[i] = 0x7f
		}
	}
	return p
}

type golden struct {
	pattern, n int
	seed       int32
	weak       uint32
	// md4, md5 (seed after), md5 (seed first), sha1, xxh64, xxh3, xxh128,
	// md4 whole-file with the seed first.
	sums [8][]byte
}

func readGolden(t *testing.T) []golden {
	t.Helper()
	f, err := os.Open("testdata/golden.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []golden
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) != 12 {
			t.Fatalf("bad golden line %q", sc.Text())
		}
		var g golden
		g.pattern, _ = strconv.Atoi(fs[0])
		g.n, _ = strconv.Atoi(fs[1])
		s, _ := strconv.Atoi(fs[2])
		g.seed = int32(s)
		w, _ := strconv.ParseUint(fs[3], 16, 32)
		g.weak = uint32(w)
		for i := range g.sums {
			g.sums[i], err = hex.DecodeString(fs[4+i])
			if err != nil {
				t.Fatal(err)
			}
		}
		out = append(out, g)
	}
	return out
}

// naiveChecksum1 is the byte-at-a-time definition of get_checksum1.
func naiveChecksum1(b []byte) uint32 {
	var s1, s2 uint32
	for _, c := range b {
		s1 += uint32(int8(c))
		s2 += s1
	}
	return s1&0xffff | s2<<16
}

func TestChecksum1Golden(t *testing.T) {
	for _, g := range readGolden(t) {
		if g.seed != 0 {
			continue
		}
		if got := Checksum1(fill(g.n, g.pattern)); got != g.weak {
			t.Errorf("pattern %d len %d: Checksum1 = %08x, want %08x", g.pattern, g.n, got, g.weak)
		}
	}
}

func TestChecksum1MatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 5000)
	for i := range buf {
		buf[i] = byte(r.Uint32())
	}
	for n := 0; n <= len(buf); n += 1 + n/7 {
		if got, want := Checksum1(buf[:n]), naiveChecksum1(buf[:n]); got != want {
			t.Fatalf("len %d: %08x, want %08x", n, got, want)
		}
	}
}

func TestRollingMatchesOneShot(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	buf := make([]byte, 3000)
	for i := range buf {
		buf[i] = byte(r.Uint32())
	}
	const k = 700
	var roll Rolling
	roll.Init(buf[:k])
	for off := 0; off+k < len(buf); off++ {
		if got, want := roll.Sum(), Checksum1(buf[off:off+k]); got != want {
			t.Fatalf("offset %d: rolled %08x, want %08x", off, got, want)
		}
		roll.Roll(buf[off], buf[off+k])
	}
	// Shrinking at the end of the file.
	roll.Init(buf[len(buf)-k:])
	for off := len(buf) - k; off < len(buf); off++ {
		if got, want := roll.Sum(), Checksum1(buf[off:]); got != want || roll.Len() != len(buf)-off {
			t.Fatalf("tail offset %d: rolled %08x, want %08x", off, got, want)
		}
		roll.RollOut(buf[off])
	}
}

func TestBlockSumGolden(t *testing.T) {
	cases := []struct {
		p     Params
		field int
	}{
		{Params{Kind: MD4}, 0},
		{Params{Kind: MD4Old}, 0},
		{Params{Kind: MD5}, 1},
		{Params{Kind: MD5, ProperSeedOrder: true}, 2},
		{Params{Kind: SHA1}, 3},
		{Params{Kind: XXH64}, 4},
		{Params{Kind: XXH3}, 5},
		{Params{Kind: XXH128}, 6},
	}
	gs := readGolden(t)
	dst := make([]byte, MaxDigestLen)
	for _, c := range cases {
		for _, g := range gs {
			p := c.p
			p.Seed = g.seed
			h := NewBlockHasher(p)
			n := h.Sum(dst, fill(g.n, g.pattern))
			if n != DigestLen(p.Kind) || !bytes.Equal(dst[:n], g.sums[c.field]) {
				t.Errorf("%v proper=%v seed %d pattern %d len %d: %x, want %x",
					p.Kind, p.ProperSeedOrder, g.seed, g.pattern, g.n, dst[:n], g.sums[c.field])
			}
		}
	}
}

func TestFileSumGolden(t *testing.T) {
	gs := readGolden(t)
	for _, g := range gs {
		data := fill(g.n, g.pattern)
		want := map[Kind][]byte{
			MD4Old: g.sums[7],
		}
		if g.seed == 0 {
			// Unseeded kinds equal the block sums with seed 0.
			want[MD4] = g.sums[0]
			want[MD5] = g.sums[1]
			want[SHA1] = g.sums[3]
			want[XXH64] = g.sums[4]
			want[XXH3] = g.sums[5]
			want[XXH128] = g.sums[6]
		}
		for k, w := range want {
			f := NewFileHasher(Params{Kind: k, Seed: g.seed})
			// Feed in uneven pieces to exercise buffering.
			for rest := data; len(rest) > 0; {
				n := min(len(rest), 1+len(rest)/3)
				f.Write(rest[:n])
				rest = rest[n:]
			}
			if got := f.Sum(nil); !bytes.Equal(got, w) || len(got) != f.Size() {
				t.Errorf("%v seed %d pattern %d len %d: %x, want %x", k, g.seed, g.pattern, g.n, got, w)
			}
		}
	}
}

// TestFileSumIgnoresSeed checks that only MD4Old's whole-file sum is seeded.
func TestFileSumIgnoresSeed(t *testing.T) {
	data := fill(1000, 0)
	for _, k := range []Kind{None, MD4, MD5, SHA1, XXH64, XXH3, XXH128} {
		a := NewFileHasher(Params{Kind: k, Seed: 0})
		b := NewFileHasher(Params{Kind: k, Seed: 12345})
		a.Write(data)
		b.Write(data)
		if !bytes.Equal(a.Sum(nil), b.Sum(nil)) {
			t.Errorf("%v: whole-file sum depends on the seed", k)
		}
	}
}

// TestXXH3Streaming repeats rsync's own self-test of the xxh3 streaming API
// (checksum.c verify_digest).
func TestXXH3Streaming(t *testing.T) {
	buf := make([]byte, 32816)
	for j := range buf {
		buf[j] = byte(' ' + j%96)
	}
	f := NewFileHasher(Params{Kind: XXH3})
	for _, n := range []int{32816, 31152, 32474, 9322} {
		f.Write(buf[:n])
	}
	if got := f.Sum(nil); !bytes.Equal(got, []byte{0xde, 0xd1, 0x78, 0x46, 0x6d, 0xf1, 0xbc, 0xad}) {
		t.Errorf("xxh3 streaming digest %x, want le(0xadbcf16d4678d1de)", got)
	}
}

func TestNoneSum(t *testing.T) {
	f := NewFileHasher(Params{Kind: None})
	f.Write([]byte("abc"))
	if got := f.Sum(nil); !bytes.Equal(got, []byte{0}) || DigestLen(None) != 1 {
		t.Errorf("none sum = %x, want 00", got)
	}
}

func TestParseKind(t *testing.T) {
	cases := []struct {
		name string
		want Kind
		ok   bool
	}{
		{"xxh128", XXH128, true},
		{"xxh3", XXH3, true},
		{"xxh64", XXH64, true},
		{"xxhash", XXH64, true},
		{"MD5", MD5, true},
		{"md4", MD4, true},
		{"sha1", SHA1, true},
		{"none", None, true},
		{"sha256", None, false},
		{"", None, false},
	}
	for _, c := range cases {
		k, err := ParseKind(c.name)
		if (err == nil) != c.ok || k != c.want {
			t.Errorf("ParseKind(%q) = %v, %v", c.name, k, err)
		}
		if c.ok && c.name != "xxhash" && c.name != "MD5" && k.Name() != c.name {
			t.Errorf("%v.Name() = %q, want %q", k, k.Name(), c.name)
		}
	}
}

func TestLocalList(t *testing.T) {
	cases := []struct {
		env    string
		server bool
		want   string
	}{
		{"", false, "xxh128 xxh3 xxh64 md5 md4 sha1"},
		{"", true, "xxh128 xxh3 xxh64 md5 md4 sha1 none"},
		{"   ", false, "xxh128 xxh3 xxh64 md5 md4 sha1"},
		{"md5 md4", false, "md5 md4"},
		{"md5 md4", true, "md5 md4"},
		{"xxhash md5 xxh64", false, "xxh64 md5"},
		{"md5 & xxh128 none", false, "md5"},
		{"md5 & xxh128 none", true, "xxh128 none"},
		{"&md4", false, "xxh128 xxh3 xxh64 md5 md4 sha1"},
		{"md5&", true, "xxh128 xxh3 xxh64 md5 md4 sha1 none"},
		{"bogus", false, "INVALID"},
		{"bogus\tMD5\n", false, "MD5"},
	}
	for _, c := range cases {
		if got := FormatList(LocalList(c.env, c.server)); got != c.want {
			t.Errorf("LocalList(%q, server=%v) = %q, want %q", c.env, c.server, got, c.want)
		}
	}
}

func TestChoose(t *testing.T) {
	cases := []struct {
		local, remote string
		want          Kind
		ok            bool
	}{
		{"xxh128 xxh3 xxh64 md5 md4 sha1", "xxh128 xxh3 xxh64 md5 md4 sha1 none", XXH128, true},
		{"xxh128 xxh3 xxh64 md5 md4 sha1 none", "xxh64 md5 md4", XXH64, true},
		// Our own order wins, whatever the peer's order.
		{"md5 xxh128", "xxh128 md5", MD5, true},
		{"xxh128 md5", "md5 xxh128", XXH128, true},
		{"md4", "xxhash md4", MD4, true},
		{"xxh64", "xxhash", XXH64, true},
		{"md5", "sha1 none", None, false},
		{"INVALID", "md5", None, false},
		{"md5", "", None, false},
	}
	for _, c := range cases {
		k, err := Choose(ParseList(c.local), ParseList(c.remote))
		if (err == nil) != c.ok || k != c.want {
			t.Errorf("Choose(%q, %q) = %v, %v; want %v", c.local, c.remote, k, err, c.want)
		}
	}
}

func TestParseChoice(t *testing.T) {
	cases := []struct {
		choice     string
		protocol   int
		xfer, file Kind
		ok         bool
	}{
		{"md5", 31, MD5, MD5, true},
		{"xxh128,md5", 32, XXH128, MD5, true},
		{"auto", 29, MD4Old, MD4Old, true},
		{"auto", 30, MD5, MD5, true},
		{"auto,sha1", 28, MD4Old, SHA1, true},
		{"nope", 31, None, None, false},
		{"md5,nope", 31, None, None, false},
	}
	for _, c := range cases {
		x, f, err := ParseChoice(c.choice, c.protocol)
		if (err == nil) != c.ok || x != c.xfer || f != c.file {
			t.Errorf("ParseChoice(%q, %d) = %v, %v, %v", c.choice, c.protocol, x, f, err)
		}
	}
}

func TestValidateChoice(t *testing.T) {
	cases := []struct {
		env   string
		kinds []Kind
		ok    bool
	}{
		{"", []Kind{MD5}, true},
		{"xxh64 & md5", []Kind{MD5}, true},
		{"xxh64 & md5", []Kind{XXH64}, false},
		{"md4", []Kind{MD4Old}, true},
		{"md5 sha1", []Kind{MD5, SHA1}, true},
		{"md5", []Kind{MD5, SHA1}, false},
	}
	for _, c := range cases {
		if err := ValidateChoice(c.env, c.kinds...); (err == nil) != c.ok {
			t.Errorf("ValidateChoice(%q, %v) = %v", c.env, c.kinds, err)
		}
	}
}

// TestSumSizes uses values printed by upstream rsync 3.5.0
// (--debug=deltasum2, "count= rem= blength= s2length=").
func TestSumSizes(t *testing.T) {
	cases := []struct {
		size             int64
		count, rem, blen int32
		s2               int32
	}{
		{0, 0, 0, 700, 2},
		{1, 1, 1, 700, 2},
		{699, 1, 699, 700, 2},
		{700, 1, 0, 700, 2},
		{701, 2, 1, 700, 2},
		{490000, 700, 0, 700, 2},
		{490001, 701, 1, 700, 2},
		{500000, 711, 160, 704, 2},
		{1000000, 1000, 0, 1000, 2},
		{4194304, 2048, 0, 2048, 2},
		{16777217, 4097, 1, 4096, 2},
		{100000000, 10000, 0, 10000, 3},
		{300000000, 17322, 280, 17320, 3},
	}
	for _, c := range cases {
		for _, digest := range []int{16, 8} {
			h, err := SumSizes(c.size, 0, 31, ShortSumLength, digest)
			want := SumHead{Count: c.count, BlockLen: c.blen, S2Len: c.s2, Remainder: c.rem}
			if err != nil || h != want {
				t.Errorf("SumSizes(%d, digest %d) = %+v, %v; want %+v", c.size, digest, h, err, want)
			}
		}
	}
}

func TestSumSizesLimits(t *testing.T) {
	cases := []struct {
		size      int64
		block     int32
		protocol  int
		csum      int
		digest    int
		blen, s2  int32
		wantCount int32
	}{
		// The block length is capped per protocol.
		{1 << 40, 0, 31, ShortSumLength, 16, MaxBlockSize, 6, 1 << 23},
		{1 << 40, 0, 29, ShortSumLength, 16, 1 << 20, 5, 1 << 20},
		// Redo pass: full-length sums, capped by the digest.
		{1000, 0, 31, SumLength, 16, 700, 16, 2},
		{1000, 0, 31, SumLength, 8, 700, 8, 2},
		// --block-size is taken as given.
		{10000, 1000, 31, ShortSumLength, 16, 1000, 2, 10},
	}
	for _, c := range cases {
		h, err := SumSizes(c.size, c.block, c.protocol, c.csum, c.digest)
		if err != nil || h.BlockLen != c.blen || h.S2Len != c.s2 || h.Count != c.wantCount {
			t.Errorf("SumSizes(%d, %d, proto %d, csum %d, digest %d) = %+v, %v", c.size, c.block,
				c.protocol, c.csum, c.digest, h, err)
		}
	}
	if _, err := SumSizes(1<<62, 1, 31, ShortSumLength, 16); err == nil {
		t.Error("SumSizes with 2^62 one-byte blocks: want count overflow error")
	}
}

func ExampleChecksum1() {
	fmt.Printf("%08x\n", Checksum1([]byte("hello")))
	// Output: 06270214
}
