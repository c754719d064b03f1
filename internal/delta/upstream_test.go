package delta

import (
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gorsync/gorsync/internal/checksum"
	"github.com/gorsync/gorsync/internal/wire"
)

var statRe = regexp.MustCompile(`(?m)^(Literal|Matched) data: ([0-9,]+) bytes`)

// upstreamStats runs upstream rsync's delta transfer of src onto basis and
// returns its --stats literal and matched byte counts.
func upstreamStats(t *testing.T, rsync string, basis, src []byte, args ...string) (literal, matched int64) {
	t.Helper()
	dir := t.TempDir()
	s, d := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	if err := os.WriteFile(s, src, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(d, basis, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(rsync, append([]string{"--no-W", "-I", "--stats", "--checksum-seed=1"}, append(args, s, d)...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("rsync: %v\n%s", err, out)
	}
	got, _ := os.ReadFile(d)
	if !bytes.Equal(got, src) {
		t.Fatal("upstream rsync produced a different file")
	}
	for _, m := range statRe.FindAllStringSubmatch(string(out), -1) {
		v, _ := strconv.ParseInt(strings.ReplaceAll(m[2], ",", ""), 10, 64)
		if m[1] == "Literal" {
			literal = v
		} else {
			matched = v
		}
	}
	return literal, matched
}

// TestUpstreamStats checks that the block search sends exactly as many
// literal and matched bytes as upstream rsync does for the same files.
func TestUpstreamStats(t *testing.T) {
	rsync, err := exec.LookPath("rsync")
	if err != nil {
		t.Skip("rsync not installed")
	}
	r := rand.New(rand.NewPCG(21, 22))
	base := randBytes(r, 300000)
	other := randBytes(r, 50000)
	zeros := make([]byte, 20000)
	edit := func(b []byte, at int, with []byte) []byte {
		return cat(b[:at], with, b[at+len(with):])
	}
	cases := []struct {
		name       string
		basis, src []byte
		block      int32
		inplace    bool
	}{
		{"scattered edits", base, edit(edit(edit(base, 5, other[:3]), 100000, other[:1000]), 299990, other[:10]), 0, false},
		{"insert and delete", base, cat(base[:1000], other[:77], base[1000:150000], base[150500:]), 0, false},
		{"append to short block", base[:299999], cat(base, other[:5]), 0, false},
		{"long literal", base[:10000], cat(base[:5000], other, base[:10000]), 0, false},
		{"repeats", bytes.Repeat(base[:5000], 20), cat(bytes.Repeat(base[:5000], 7), other[:1], bytes.Repeat(base[:5000], 13)), 1000, false},
		{"block 64", base[:50000], edit(base[:50000], 31000, other[:200]), 64, false},
		{"inplace edits", base, edit(base, 150000, other[:5000]), 0, true},
		{"inplace shifted", base, cat(other[:10], base), 0, true},
		{"inplace zeros", cat(base[:7000], zeros, base[27000:40000]), cat(base[:7000], zeros[:3500], other[:1], zeros, base[27000:40000]), 700, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var args []string
			if c.block != 0 {
				args = append(args, "-B", strconv.Itoa(int(c.block)))
			}
			if c.inplace {
				args = append(args, "--inplace")
			}
			wantLit, wantMatched := upstreamStats(t, rsync, c.basis, c.src, args...)

			p := checksum.Params{Kind: checksum.XXH128, Seed: 1, ProperSeedOrder: true}
			head, err := checksum.SumSizes(int64(len(c.basis)), c.block, 32, checksum.ShortSumLength, p.DigestLen())
			if err != nil {
				t.Fatal(err)
			}
			var s Sums
			if err := s.Compute(c.basis, head, checksum.NewBlockHasher(p)); err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			w := wire.NewWriter(&b)
			res, err := NewMatcher(p, c.inplace).Match(NewPlainTokenWriter(w), c.src, &s)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("literal %d matched %d", res.Literal, res.Matched)
			if res.Literal != wantLit || res.Matched != wantMatched {
				t.Errorf("literal %d matched %d; upstream rsync: literal %d matched %d",
					res.Literal, res.Matched, wantLit, wantMatched)
			}
		})
	}
}
