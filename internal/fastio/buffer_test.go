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
		restore := Force(Adaptive, true)
		got := BufferSize(c.size)
		restore()
		if got != c.adaptive {
			t.Errorf("adaptive BufferSize(%d) = %d, want %d", c.size, got, c.adaptive)
		}
		if got < int(c.size) && got%(32<<10) != 0 {
			t.Errorf("BufferSize(%d) = %d neither holds the file nor is a multiple of 32 KiB", c.size, got)
		}
		restore = Force(Adaptive, false)
		got = BufferSize(c.size)
		restore()
		if got != c.want {
			t.Errorf("fixed BufferSize(%d) = %d, want %d", c.size, got, c.want)
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
			defer Force(Mmap, c.mmap)()
			defer Force(Adaptive, c.adaptive)()
			perFile := func() {
				for _, f := range []struct {
					file *os.File
					data []byte
				}{{fs, small}, {fl, large}} {
					file, size := f.file, int64(len(f.data))
					m, err := Open(file, size, Sequential)
					if err != nil {
						t.Fatal(err)
					}
					for off := int64(0); off < size; off += 300 << 10 {
						m.Window(off, int(min(size-off, 100<<10)))
					}
					m.Close()
					m, _ = Open(file, size, Random)
					for off := int64(0); off+700 < size; off += 50 << 10 {
						m.ReadAt(block, off)
					}
					m.Close()
					b := FileBuffer(size)
					w := GetWriter(io.Discard, size)
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

func TestWriterPooled(t *testing.T) {
	var out bytes.Buffer
	w := GetWriter(&out, 10)
	w.WriteString("hello")
	w.Flush()
	PutWriter(w)
	w = GetWriter(&out, 10)
	if w.Buffered() != 0 || w.Available() != 4<<10 {
		t.Errorf("a pooled writer comes back with %d buffered, %d free", w.Buffered(), w.Available())
	}
	w.WriteString(" world")
	w.Flush()
	PutWriter(w)
	if out.String() != "hello world" {
		t.Errorf("wrote %q", out.String())
	}
}
