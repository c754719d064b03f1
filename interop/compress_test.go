package interop

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorsync/gorsync/internal/rsynctest"
)

// compressTrees holds a source with a large compressible file, a random
// file and a few small ones, and an edited copy of it, built once.
var (
	compressOnce         sync.Once
	compressA, compressB string
)

// textLike returns n bytes of word salad: compressible like source code or
// logs, about 3:1 with zlib.
func textLike(rng *rand.Rand, n int) []byte {
	words := strings.Fields("the quick brown fox jumps over lazy dog rsync delta block checksum file list sender receiver generator protocol token stream compress literal matched data offset length buffer window")
	var b bytes.Buffer
	for b.Len() < n {
		b.WriteString(words[rng.IntN(len(words))])
		if rng.IntN(12) == 0 {
			b.WriteString(fmt.Sprintf(" %d\n", rng.IntN(100000)))
		} else {
			b.WriteByte(' ')
		}
	}
	return b.Bytes()[:n]
}

func compressTrees(t *testing.T) {
	t.Helper()
	trees(t)
	compressOnce.Do(func() {
		compressA = filepath.Join(treeRoot, "zA")
		compressB = filepath.Join(treeRoot, "zB")
		rng := rand.New(rand.NewPCG(7, 11))
		os.MkdirAll(filepath.Join(compressA, "sub"), 0o755)
		text := textLike(rng, 3<<20)
		random := make([]byte, 300<<10)
		for i := range random {
			random[i] = byte(rng.Uint32())
		}
		files := map[string][]byte{
			"text.log":      text,
			"random.bin":    random,
			"sub/small.txt": textLike(rng, 5000),
			"empty":         nil,
		}
		for name, data := range files {
			os.WriteFile(filepath.Join(compressA, name), data, 0o644)
		}
		if out, err := exec.Command("cp", "-a", compressA, compressB).CombinedOutput(); err != nil {
			t.Fatalf("cp: %v\n%s", err, out)
		}
		// Scattered edits, an insertion and an append: a delta with both
		// matched blocks and literal runs longer than one chunk.
		edited := bytes.Clone(text)
		for i := 0; i < 40; i++ {
			off := rng.IntN(len(edited) - 100)
			copy(edited[off:], "EDITED-EDITED")
		}
		edited = append(edited[:1<<20], append(textLike(rng, 100<<10), edited[1<<20:]...)...)
		edited = append(edited, textLike(rng, 70<<10)...)
		os.WriteFile(filepath.Join(compressB, "text.log"), edited, 0o644)
		rnd2 := bytes.Clone(random)
		copy(rnd2[1000:], bytes.Repeat([]byte{1}, 5000))
		os.WriteFile(filepath.Join(compressB, "random.bin"), rnd2, 0o644)
		// A later mtime, so the quick check sees the same-size edit.
		later := time.Now().Add(time.Hour)
		for _, name := range []string{"text.log", "random.bin"} {
			os.Chtimes(filepath.Join(compressB, name), later, later)
		}
		// Directory times far from the run's clock: a directory whose new
		// time falls in the same second as its current one is left alone
		// (rsync compares seconds), which would make the check flaky.
		for i, root := range []string{compressA, compressB} {
			when := time.Date(2020, 1, 2, 3, 4, 5, 600_000_000+i, time.UTC).Add(time.Duration(i) * time.Hour)
			for _, d := range []string{"sub", "."} {
				os.Chtimes(filepath.Join(root, d), when, when)
			}
		}
	})
}

// TestCompression transfers with each compressed token format in both
// roles: gorsync compressing for upstream rsync and decompressing what
// upstream sends, first a fresh copy and then a delta. The trees must
// match the source, and the bytes the sender puts on the wire must be
// within 5% of what upstream rsync sends for the same transfer.
func TestCompression(t *testing.T) {
	compressTrees(t)
	type pair struct {
		name                         string
		clientGorsync, serverGorsync bool
		push                         bool
	}
	pairs := []pair{
		{"gorsync-sends/gorsync-client-push", true, false, true},
		{"gorsync-sends/rsync-client-pull", false, true, false},
		{"rsync-sends/rsync-client-push", false, true, true},
		{"rsync-sends/gorsync-client-pull", true, false, false},
	}
	type algo struct {
		name   string
		protos []int
	}
	algos := []algo{{"zstd", []int{32, 31, 30}}, {"lz4", []int{32, 31, 30}}, {"zlibx", []int{32, 31, 30}}, {"zlib", []int{32, 31, 30, 29}}}
	for _, a := range algos {
		for _, proto := range a.protos {
			for _, p := range pairs {
				for _, noIR := range []bool{false, true} {
					if noIR && proto != 32 {
						continue // incremental recursion on and off, at protocol 32
					}
					name := fmt.Sprintf("%s/proto%d/%s", a.name, proto, p.name)
					var base []string
					if noIR {
						name += "/no-i-r"
						base = []string{"--no-i-r"}
					}
					t.Run(name, func(t *testing.T) {
						t.Parallel()
						choice := "--compress-choice=" + a.name
						if proto < 30 {
							choice = "-z" // only zlib before protocol 30
						}
						x := transfer{p: pairing{clientGorsync: p.clientGorsync, serverGorsync: p.serverGorsync}, push: p.push, proto: proto,
							base: base, extra: []string{"--no-W", choice}}
						ref := transfer{p: pairing{}, push: p.push, proto: proto, base: base, extra: x.extra}
						dst := filepath.Join(t.TempDir(), "dst")
						refDst := filepath.Join(t.TempDir(), "dst")
						for _, src := range []string{compressA, compressB} {
							x.extra = append(x.extra[:2:2], "--stats")
							ref.extra = x.extra
							out := x.run(t, src, dst)
							rsynctest.CompareTrees(t, src, dst, compareOpts(proto))
							refOut := ref.run(t, src, refDst)
							got, want := senderBytes(t, out, p.push), senderBytes(t, refOut, p.push)
							t.Logf("%s: sender bytes %d, upstream %d", filepath.Base(src), got, want)
							d := float64(got-want) / float64(want)
							switch {
							case d > 0.05:
								t.Errorf("%s: sender put %d bytes on the wire, upstream rsync %d (%+.1f%%)", filepath.Base(src), got, want, 100*d)
							case d < -0.05 && a.name == "lz4":
								// pierrec/lz4's block compressor finds more
								// matches than LZ4_compress_default; smaller is
								// recorded, not failed.
								t.Logf("%s: lz4 output %.1f%% smaller than upstream's", filepath.Base(src), -100*d)
							case d < -0.05:
								t.Errorf("%s: sender put %d bytes on the wire, upstream rsync %d (%+.1f%%)", filepath.Base(src), got, want, 100*d)
							}
						}
					})
				}
			}
		}
	}
}

// senderBytes is what the sending side wrote, from the client's --stats.
func senderBytes(t *testing.T, out string, push bool) int64 {
	t.Helper()
	st, err := rsynctest.ParseStats(out)
	if err != nil {
		t.Fatalf("stats: %v\n%s", err, out)
	}
	if push {
		return st.TotalBytesSent
	}
	return st.TotalBytesReceived
}
