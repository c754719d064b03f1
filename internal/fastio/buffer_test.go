package fastio

import (
	"bytes"
	"io"
	"os"
	"testing"
)

func TestBufferSize(t *testing.T) {
	for _, c := range []struct {
		size           int64
		adaptive, want int
	}{
		{0, 4 << 10, FixedSize},
		{100, 4 << 10, FixedSize},
		{4 << 10, 4 << 10, FixedSize},
		{4<<10 + 1, 16 << 10, FixedSize},
		{20 << 10, 64 << 10, FixedSize},
		{64 << 10, 64 << 10, FixedSize},
		{200 << 10, 256 << 10, FixedSize},
		{256<<10 + 1, 256 << 10, FixedSize},
		{1 << 40, 256 << 10, FixedSize},
	} {
		got := Defaults().With(Adaptive, true).BufferSize(c.size)
		if got != c.adaptive {
			t.Errorf("adaptive fio.BufferSize(%d) = %d, want %d", c.size, got, c.adaptive)
		}
		if got < int(c.size) && got%(32<<10) != 0 {
			t.Errorf("fio.BufferSize(%d) = %d neither holds the file nor is a multiple of 32 KiB", c.size, got)
		}
		got = Defaults().With(Adaptive, false).BufferSize(c.size)
		if got != c.want {
			t.Errorf("fixed fio.BufferSize(%d) = %d, want %d", c.size, got, c.want)
		}
	}
}

func TestGetBuffer(t *testing.T) {
	for _, n := range []int{0, 1, 4 << 10, 5000, MaxBufferSize, MaxBufferSize + 1} {
		b := GetBuffer(n)
		if len(b.B) < n {
			t.Errorf("GetBuffer(%d) has %d bytes", n, len(b.B))
		}
		PutBuffer(b)
	}
}

// TestNoAllocationPerFile runs what a transfer does per file — a view of
// the source (small and mapped, large and read through the window), a read
// buffer, a buffered writer for the new file — and checks that once the
// pools are warm none of it allocates.
func TestNoAllocationPerFile(t *testing.T) {
	small := randData(1, 100<<10)
	large := randData(2, 2<<20)
	fs, fl := openTemp(t, writeTemp(t, small)), openTemp(t, writeTemp(t, large))
	block := make([]byte, 700)
	for _, c := range []struct {
		name     string
		mmap     bool
		adaptive bool
	}{
		{"default", true, true},
		{"mmap=off", false, true},
		{"adaptive=off", true, false},
		{"all off", false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			fio := Defaults().With(Mmap, c.mmap)
			fio = fio.With(Adaptive, c.adaptive)
			perFile := func() {
				for _, f := range []struct {
					file *os.File
					data []byte
				}{{fs, small}, {fl, large}} {
					file, size := f.file, int64(len(f.data))
					m, err := fio.Open(file, size, Sequential)
					if err != nil {
						t.Fatal(err)
					}
					for off := int64(0); off < size; off += 300 << 10 {
						m.Window(off, int(min(size-off, 100<<10)))
					}
					m.Close()
					m, _ = fio.Open(file, size, Random)
					for off := int64(0); off+700 < size; off += 50 << 10 {
						m.ReadAt(block, off)
					}
					m.Close()
					b := fio.FileBuffer(size)
					w := fio.GetWriter(io.Discard, size)
					w.Write(f.data[:min(len(b.B), len(f.data))])
					w.Flush()
					PutWriter(w)
					PutBuffer(b)
				}
			}
			perFile()
			if n := testing.AllocsPerRun(50, perFile); n != 0 {
				t.Errorf("%.1f allocations per file cycle, want 0", n)
			}
		})
	}
}

// countWriter records the writes it is given.
type countWriter struct {
	bytes.Buffer
	calls int
	fail  error
}

func (c *countWriter) Write(p []byte) (int, error) {
	if c.fail != nil {
		return 0, c.fail
	}
	c.calls++
	return c.Buffer.Write(p)
}

// TestWriter writes sequences of pieces through a Writer: the bytes arrive
// in order, small pieces gather into one write per buffer, large ones go
// straight through.
func TestWriter(t *testing.T) {
	fio := Defaults().With(Adaptive, true)
	for _, c := range []struct {
		name   string
		size   int64 // file size, choosing the buffer
		pieces []int
		calls  int
	}{
		{"small file", 3000, []int{1000, 1000, 1000}, 1},
		{"blocks", 1 << 30, repeat(700, 1000), 3},           // 700,000 bytes: 256 KiB buffers
		{"literal chunks", 1 << 30, repeat(32<<10, 10), 10}, // each goes straight through
		{"mixed", 1 << 30, []int{100, 32 << 10, 100, 100, 20 << 10, 5}, 5},
		{"larger than the buffer", 3000, []int{100, 10 << 10}, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out countWriter
			var want bytes.Buffer
			w := fio.GetWriter(&out, c.size)
			for i, n := range c.pieces {
				p := bytes.Repeat([]byte{byte(i)}, n)
				want.Write(p)
				if k, err := w.Write(p); k != n || err != nil {
					t.Fatalf("Write(%d bytes) = %d, %v", n, k, err)
				}
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			PutWriter(w)
			if !bytes.Equal(out.Bytes(), want.Bytes()) {
				t.Error("the bytes arrived otherwise")
			}
			if out.calls != c.calls {
				t.Errorf("%d writes, want %d", out.calls, c.calls)
			}
		})
	}
}

func repeat(n, times int) []int {
	s := make([]int, times)
	for i := range s {
		s[i] = n
	}
	return s
}

// TestWriterError checks that a failed write sticks, and that a pooled
// Writer comes back clean.
func TestWriterError(t *testing.T) {
	out := &countWriter{fail: io.ErrClosedPipe}
	w := Defaults().GetWriter(out, 1<<20)
	w.Write(make([]byte, 10))
	if err := w.Flush(); err != io.ErrClosedPipe {
		t.Fatalf("Flush = %v", err)
	}
	if _, err := w.Write(make([]byte, 10)); err != io.ErrClosedPipe {
		t.Fatalf("Write after a failure = %v", err)
	}
	PutWriter(w)
	var ok countWriter
	w = Defaults().GetWriter(&ok, 1<<20)
	w.Write([]byte("fresh"))
	if err := w.Flush(); err != nil || ok.String() != "fresh" {
		t.Errorf("a pooled Writer: %v, %q", err, ok.String())
	}
	PutWriter(w)
}
