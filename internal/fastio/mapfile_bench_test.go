package fastio_test

import (
	"bufio"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gorsync/gorsync/internal/checksum"
	"github.com/gorsync/gorsync/internal/delta"
	"github.com/gorsync/gorsync/internal/fastio"
	"github.com/gorsync/gorsync/internal/wire"
)

const benchSize = 64 << 20

// benchFile writes size random bytes to a file in a fresh directory.
func benchFile(b *testing.B, size int) (string, []byte) {
	b.Helper()
	data := make([]byte, size)
	r := rand.New(rand.NewPCG(uint64(size), 9))
	for i := 0; i+8 <= size; i += 8 {
		binary.LittleEndian.PutUint64(data[i:], r.Uint64())
	}
	p := filepath.Join(b.TempDir(), "f")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		b.Fatal(err)
	}
	return p, data
}

// dropCache evicts the file's pages from the page cache (it must not be
// mapped), so that the next pass reads the disk.
func dropCache(b *testing.B, f *os.File) {
	if err := f.Sync(); err != nil {
		b.Fatal(err)
	}
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		b.Fatal(err)
	}
}

// consume folds p into a sum, so that every byte is read.
func consume(p []byte) uint64 {
	var s uint64
	for len(p) >= 8 {
		s += binary.LittleEndian.Uint64(p)
		p = p[8:]
	}
	for _, c := range p {
		s += uint64(c)
	}
	return s
}

// A reader is one way to read a file for the benchmarks: mapped, through
// MapFile's window (pread into a pooled buffer), or plain reads.
type reader struct {
	name  string
	mmap  bool // MapFile with Mmap on
	plain bool // f.Read / f.ReadAt into the caller's buffer
	adv   int  // madvise for the mapping, -1 for the default
}

var caches = []string{"warm", "cold"}

// BenchmarkSequentialRead reads a 64 MiB file once from start to end:
// MapFile mapped (MADV_SEQUENTIAL), MapFile's window, and plain 32 KiB
// reads.
func BenchmarkSequentialRead(b *testing.B) {
	p, _ := benchFile(b, benchSize)
	f, err := os.Open(p)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 32<<10)
	for _, cache := range caches {
		for _, r := range []reader{{name: "mmap", mmap: true}, {name: "window"}, {name: "read32k", plain: true}} {
			b.Run(cache+"/"+r.name, func(b *testing.B) {
				fio := fastio.Defaults().With(fastio.Mmap, r.mmap)
				b.SetBytes(benchSize)
				var sink uint64
				for b.Loop() {
					if cache == "cold" {
						b.StopTimer()
						dropCache(b, f)
						b.StartTimer()
					}
					if r.plain {
						for off := int64(0); off < benchSize; {
							n, err := f.ReadAt(buf, off)
							if err != nil {
								b.Fatal(err)
							}
							sink += consume(buf[:n])
							off += int64(n)
						}
						continue
					}
					m, err := fio.Open(f, benchSize, fastio.Sequential)
					if err != nil {
						b.Fatal(err)
					}
					if m.Mapped() != r.mmap {
						b.Fatalf("mapped = %v", m.Mapped())
					}
					for off := int64(0); off < benchSize; {
						w := m.Window(off, int(min(32<<10, benchSize-off)))
						w = w[:min(len(w), 1<<20)]
						sink += consume(w)
						off += int64(len(w))
					}
					m.Close()
				}
				_ = sink
			})
		}
	}
}

// BenchmarkBlockSearch runs the sender's block search (rsync's rolling
// match, the Matcher) over a 64 MiB source with 200 scattered edits
// against its basis's sums: it reads each region several times over (the
// rolling window, the strong sums, the literal and the file sum). The
// source is mapped, read through MapFile's window, or read whole into
// memory first; the mapping with each madvise hint.
func BenchmarkBlockSearch(b *testing.B) {
	p, data := benchFile(b, benchSize)
	basis := append([]byte(nil), data...)
	r := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		basis[r.IntN(len(basis))] ^= 0xff
	}
	params := checksum.Params{Kind: checksum.XXH128, Seed: 1, ProperSeedOrder: true}
	head, err := checksum.SumSizes(benchSize, 0, 31, checksum.ShortSumLength, params.DigestLen())
	if err != nil {
		b.Fatal(err)
	}
	var sums delta.Sums
	if err := sums.Compute(basis, head, checksum.NewBlockHasher(params)); err != nil {
		b.Fatal(err)
	}
	basis = nil
	f, err := os.Open(p)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	m := delta.NewMatcher(params, false)
	for _, cache := range caches {
		for _, rd := range []reader{
			{name: "mmap-sequential", mmap: true, adv: unix.MADV_SEQUENTIAL},
			{name: "mmap-normal", mmap: true, adv: unix.MADV_NORMAL},
			{name: "mmap-willneed", mmap: true, adv: unix.MADV_WILLNEED},
			{name: "window"},
			{name: "readall", plain: true},
		} {
			b.Run(cache+"/"+rd.name, func(b *testing.B) {
				fio := fastio.Defaults().With(fastio.Mmap, rd.mmap)
				if rd.mmap {
					defer fastio.SetAdvice(fastio.Sequential, rd.adv)()
				}
				b.SetBytes(benchSize)
				for b.Loop() {
					if cache == "cold" {
						b.StopTimer()
						dropCache(b, f)
						b.StartTimer()
					}
					if rd.plain {
						src, err := os.ReadFile(p)
						if err != nil {
							b.Fatal(err)
						}
						if _, err := m.Match(discard{}, src, &sums); err != nil {
							b.Fatal(err)
						}
						continue
					}
					mf, err := fio.Open(f, benchSize, fastio.Sequential)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := m.MatchSource(discard{}, mf, benchSize, &sums); err != nil {
						b.Fatal(err)
					}
					mf.Close()
				}
			})
		}
	}
}

type discard struct{}

func (discard) WriteToken([]byte, int32, []byte) error { return nil }

// BenchmarkRandomRead reads 4,096 blocks of 8 KiB at random block offsets
// of a 64 MiB file through ReadAt (the receiver's basis reads for a file
// whose blocks moved): MapFile mapped with each madvise hint, MapFile's
// window, and plain pread.
func BenchmarkRandomRead(b *testing.B) {
	p, _ := benchFile(b, benchSize)
	f, err := os.Open(p)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	const blk = 8 << 10
	offs := make([]int64, 4096)
	r := rand.New(rand.NewPCG(3, 4))
	for i := range offs {
		offs[i] = int64(r.IntN(benchSize/blk)) * blk
	}
	buf := make([]byte, blk)
	for _, cache := range caches {
		for _, rd := range []reader{
			{name: "mmap-willneed", mmap: true, adv: unix.MADV_WILLNEED},
			{name: "mmap-random", mmap: true, adv: unix.MADV_RANDOM},
			{name: "mmap-normal", mmap: true, adv: unix.MADV_NORMAL},
			{name: "window"},
			{name: "pread", plain: true},
		} {
			b.Run(cache+"/"+rd.name, func(b *testing.B) {
				fio := fastio.Defaults().With(fastio.Mmap, rd.mmap)
				if rd.mmap {
					defer fastio.SetAdvice(fastio.Random, rd.adv)()
				}
				b.SetBytes(int64(len(offs) * blk))
				for b.Loop() {
					if cache == "cold" {
						b.StopTimer()
						dropCache(b, f)
						b.StartTimer()
					}
					var ra interface {
						ReadAt([]byte, int64) (int, error)
					} = f
					var mf *fastio.MapFile
					if !rd.plain {
						mf, err = fio.Open(f, benchSize, fastio.Random)
						if err != nil {
							b.Fatal(err)
						}
						ra = mf
					}
					for _, off := range offs {
						if _, err := ra.ReadAt(buf, off); err != nil {
							b.Fatal(err)
						}
					}
					if mf != nil {
						mf.Close()
					}
				}
			})
		}
	}
}

// ioCounts reads the kernel's count of this process's read and write
// system calls (read, pread64, readv...; write, pwrite64, writev...).
func ioCounts(b *testing.B) (reads, writes int64) {
	data, err := os.ReadFile("/proc/self/io")
	if err != nil {
		b.Skipf("no I/O accounting: %v", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		k, v, _ := strings.Cut(line, ": ")
		n, _ := strconv.ParseInt(v, 10, 64)
		switch k {
		case "syscr":
			reads = n
		case "syscw":
			writes = n
		}
	}
	return reads, writes
}

// BenchmarkCopySyscalls copies files of several sizes the way a whole-file
// transfer moves them — read through the sender's streaming window
// (MapFile, Stream), written through the receiver's pooled writer — with
// adaptive buffers, with fixed 32 KiB ones (Adaptive off), and with fixed
// 4 KiB reads and writes (bufio, for comparison). It reports the read and
// write system calls per MiB copied, as the kernel counts them
// (/proc/self/io syscr and syscw), not as computed from the sizes.
func BenchmarkCopySyscalls(b *testing.B) {
	for _, size := range []int{16 << 10, 1 << 20, 64 << 20} {
		p, _ := benchFile(b, size)
		src, err := os.Open(p)
		if err != nil {
			b.Fatal(err)
		}
		defer src.Close()
		dstPath := filepath.Join(b.TempDir(), "out")
		for _, mode := range []string{"adaptive", "fixed32k", "fixed4k"} {
			b.Run(strconv.Itoa(size>>10)+"KiB/"+mode, func(b *testing.B) {
				fio := fastio.Defaults().With(fastio.Adaptive, mode == "adaptive")
				dst, err := os.Create(dstPath)
				if err != nil {
					b.Fatal(err)
				}
				defer dst.Close()
				copyOnce := func() {
					if _, err := dst.Seek(0, 0); err != nil {
						b.Fatal(err)
					}
					if mode == "fixed4k" {
						br := bufio.NewReaderSize(src, 4<<10)
						bw := bufio.NewWriterSize(dst, 4<<10)
						if _, err := src.Seek(0, 0); err != nil {
							b.Fatal(err)
						}
						buf := make([]byte, 4<<10)
						for {
							n, err := br.Read(buf)
							bw.Write(buf[:n])
							if err != nil {
								break
							}
						}
						if err := bw.Flush(); err != nil {
							b.Fatal(err)
						}
						return
					}
					m, err := fio.Open(src, int64(size), fastio.Stream)
					if err != nil {
						b.Fatal(err)
					}
					w := fio.GetWriter(dst, int64(size))
					for off := int64(0); off < int64(size); off += delta.ChunkSize {
						n := int(min(delta.ChunkSize, int64(size)-off))
						w.Write(m.Window(off, n)[:n])
					}
					if err := w.Flush(); err != nil {
						b.Fatal(err)
					}
					fastio.PutWriter(w)
					m.Close()
				}
				copyOnce()
				r0, w0 := ioCounts(b)
				b.SetBytes(int64(size))
				b.ResetTimer()
				for b.Loop() {
					copyOnce()
				}
				b.StopTimer()
				r1, w1 := ioCounts(b)
				// One read of /proc/self/io lies between the counts.
				mib := float64(size) * float64(b.N) / (1 << 20)
				b.ReportMetric(float64(r1-r0)/mib, "reads/MiB")
				b.ReportMetric(float64(w1-w0)/mib, "writes/MiB")
				b.ReportMetric(float64(r1-r0+w1-w0)/float64(b.N), "syscalls/op")
			})
		}
	}
}

// BenchmarkWriterPieces writes 64 MiB to a file in pieces of one size —
// 1 KiB (small matched blocks), 8 KiB, 32 KiB (a whole-file transfer's
// literal chunks) — through the receiver's Writer (256 KiB buffer, pieces
// from 16 KiB straight through), through a 256 KiB bufio.Writer (every
// piece copied), and one write per piece. It reports the write system
// calls per MiB as the kernel counts them.
func BenchmarkWriterPieces(b *testing.B) {
	const total = 64 << 20
	data := make([]byte, 32<<10)
	dst, err := os.Create(filepath.Join(b.TempDir(), "out"))
	if err != nil {
		b.Fatal(err)
	}
	defer dst.Close()
	for _, piece := range []int{1 << 10, 8 << 10, 32 << 10} {
		for _, mode := range []string{"writer", "bufio256k", "direct"} {
			b.Run(strconv.Itoa(piece>>10)+"KiB/"+mode, func(b *testing.B) {
				fio := fastio.Defaults().With(fastio.Adaptive, true)
				writeAll := func() {
					if _, err := dst.Seek(0, 0); err != nil {
						b.Fatal(err)
					}
					var w interface{ Write([]byte) (int, error) } = dst
					var fw *fastio.Writer
					var bw *bufio.Writer
					switch mode {
					case "writer":
						fw = fio.GetWriter(dst, total)
						w = fw
					case "bufio256k":
						bw = bufio.NewWriterSize(dst, 256<<10)
						w = bw
					}
					for n := 0; n < total; n += piece {
						if _, err := w.Write(data[:piece]); err != nil {
							b.Fatal(err)
						}
					}
					switch {
					case fw != nil:
						err = fw.Flush()
						fastio.PutWriter(fw)
					case bw != nil:
						err = bw.Flush()
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				writeAll()
				_, w0 := ioCounts(b)
				b.SetBytes(total)
				b.ResetTimer()
				for b.Loop() {
					writeAll()
				}
				b.StopTimer()
				_, w1 := ioCounts(b)
				b.ReportMetric(float64(w1-w0)/float64(b.N)/(total>>20), "writes/MiB")
			})
		}
	}
}

// BenchmarkStreamLiteral sends a 64 MiB file whole, as the sender of a
// whole-file transfer does (the Matcher's literal path hashing it and
// encoding its tokens), read through MapFile's streaming window with
// adaptive buffers (256 KiB) and with fixed 32 KiB ones, from a warm and
// a cold page cache; it reports the read system calls per MiB as the
// kernel counts them.
func BenchmarkStreamLiteral(b *testing.B) {
	p, _ := benchFile(b, benchSize)
	f, err := os.Open(p)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	params := checksum.Params{Kind: checksum.XXH128, Seed: 1, ProperSeedOrder: true}
	m := delta.NewMatcher(params, false)
	w := wire.NewWriter(io.Discard)
	tw := delta.NewPlainTokenWriter(w)
	var none delta.Sums
	for _, cache := range caches {
		for _, adaptive := range []bool{true, false} {
			name := "fixed32k"
			if adaptive {
				name = "adaptive"
			}
			b.Run(cache+"/"+name, func(b *testing.B) {
				fio := fastio.Defaults().With(fastio.Adaptive, adaptive)
				b.SetBytes(benchSize)
				var reads int64
				for b.Loop() {
					if cache == "cold" {
						b.StopTimer()
						dropCache(b, f)
						b.StartTimer()
					}
					r0, _ := ioCounts(b)
					mf, err := fio.Open(f, benchSize, fastio.Stream)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := m.MatchSource(tw, mf, benchSize, &none); err != nil {
						b.Fatal(err)
					}
					mf.Close()
					r1, _ := ioCounts(b)
					reads += r1 - r0
				}
				b.ReportMetric(float64(reads)/float64(b.N)/(benchSize>>20), "reads/MiB")
			})
		}
	}
}
