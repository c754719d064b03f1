package fastio

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"
)

func randomFile(t testing.TB, dir string, size int) (string, []byte) {
	t.Helper()
	data := make([]byte, size)
	r := rand.New(rand.NewPCG(uint64(size), 7))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	name := filepath.Join(dir, "src")
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return name, data
}

// kernelCopies reports whether copy_file_range works between two files of
// dir, so that a test can insist the fast path is taken where it can be.
func kernelCopies(t testing.TB, dir string) bool {
	t.Helper()
	a, err := os.CreateTemp(dir, "probe")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := os.CreateTemp(dir, "probe")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	a.WriteString("probe")
	var off, woff int64
	n, err := unix.CopyFileRange(int(a.Fd()), &off, int(b.Fd()), &woff, 5, 0)
	return err == nil && n == 5
}

func TestCopyFile(t *testing.T) {
	for _, on := range []bool{true, false} {
		name := map[bool]string{true: "copyrange=on", false: "copyrange=off"}[on]
		t.Run(name, func(t *testing.T) {
			fio := Defaults().With(CopyRange, on)
			dir := t.TempDir()
			kernel := on && kernelCopies(t, dir)
			for _, tc := range []struct {
				name       string
				size, want int
			}{
				{"empty", 0, 0},
				{"small", 1000, 1000},
				{"several buffers", 3*copyBufSize + 17, 3*copyBufSize + 17},
				{"source shorter than asked", 5000, 6000},
			} {
				src, data := randomFile(t, dir, tc.size)
				sf, err := os.Open(src)
				if err != nil {
					t.Fatal(err)
				}
				df, err := os.CreateTemp(dir, "dst")
				if err != nil {
					t.Fatal(err)
				}
				calls, _ := CopyRangeCounts()
				n, err := fio.CopyFile(df, sf, int64(tc.want), nil)
				after, _ := CopyRangeCounts()
				sf.Close()
				df.Close()
				if err != nil {
					t.Fatalf("%s: %v", tc.name, err)
				}
				if n != int64(tc.size) {
					t.Errorf("%s: copied %d, want %d", tc.name, n, tc.size)
				}
				got, _ := os.ReadFile(df.Name())
				if !bytes.Equal(got, data) {
					t.Errorf("%s: copy differs from the source", tc.name)
				}
				used := after > calls
				if tc.size > 0 && used != kernel {
					t.Errorf("%s: copy_file_range used = %v, want %v", tc.name, used, kernel)
				}
			}
		})
	}
}

func TestCopyFileReadError(t *testing.T) {
	dir := t.TempDir()
	df, err := os.CreateTemp(dir, "dst")
	if err != nil {
		t.Fatal(err)
	}
	defer df.Close()
	// A directory opens but cannot be read: the kernel refuses it (EISDIR
	// from the read path) and the error names the source.
	sf, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer sf.Close()
	for _, on := range []bool{true, false} {
		_, err := Defaults().With(CopyRange, on).CopyFile(df, sf, 10, nil)
		if err == nil {
			t.Fatalf("copyrange=%v: copying a directory succeeded", on)
		}
		if !on && !errors.Is(err, ErrSourceRead) {
			t.Errorf("copyrange=off: %v does not wrap ErrSourceRead", err)
		}
	}
}

// BenchmarkCopyFile copies a 64 MiB file with copy_file_range and with
// read/write, reporting the copy_file_range calls counted per copy.
func BenchmarkCopyFile(b *testing.B) {
	const size = 64 << 20
	dir := b.TempDir()
	src, _ := randomFile(b, dir, size)
	for _, on := range []bool{true, false} {
		name := map[bool]string{true: "copyrange=on", false: "copyrange=off"}[on]
		b.Run(name, func(b *testing.B) {
			fio := Defaults().With(CopyRange, on)
			sf, err := os.Open(src)
			if err != nil {
				b.Fatal(err)
			}
			defer sf.Close()
			b.SetBytes(size)
			calls, _ := CopyRangeCounts()
			for b.Loop() {
				df, err := os.Create(filepath.Join(dir, "dst"))
				if err != nil {
					b.Fatal(err)
				}
				if _, err := fio.CopyFile(df, sf, size, nil); err != nil {
					b.Fatal(err)
				}
				df.Close()
			}
			after, _ := CopyRangeCounts()
			b.ReportMetric(float64(after-calls)/float64(b.N), "copy_file_range/op")
		})
	}
}

// TestCopyFileCounted checks that a followed copy, by the kernel or by
// read and write, ends with its counter at the bytes copied and copies the
// same bytes, through several chunks.
func TestCopyFileCounted(t *testing.T) {
	for _, on := range []bool{true, false} {
		dir := t.TempDir()
		name, data := randomFile(t, dir, 2*countedChunk+12345)
		sf, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		df, err := os.Create(filepath.Join(dir, "dst"))
		if err != nil {
			t.Fatal(err)
		}
		var copied atomic.Int64
		n, err := Defaults().With(CopyRange, on).CopyFileCounted(df, sf, int64(len(data)), nil, &copied)
		sf.Close()
		df.Close()
		if err != nil || n != int64(len(data)) || copied.Load() != n {
			t.Fatalf("CopyRange %v: copied %d (counter %d), %v; want %d", on, n, copied.Load(), err, len(data))
		}
		got, _ := os.ReadFile(filepath.Join(dir, "dst"))
		if !bytes.Equal(got, data) {
			t.Fatalf("CopyRange %v: the copy differs", on)
		}
	}
}
