package fastio

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

func writeTemp(t testing.TB, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func openTemp(t testing.TB, p string) *os.File {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func randData(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// failMmap makes mapping fail as a file system without mmap does, until
// the returned function restores it.
func failMmap() (restore func()) {
	mmap = func(int, int64, unsafe.Pointer, uintptr, int, int) (unsafe.Pointer, error) {
		return nil, unix.ENODEV
	}
	return func() { mmap = unix.MmapPtr }
}

// TestMapFileReads reads files of every size class through Window and
// ReadAt, mapped and not (switched off, or the kernel refusing), with
// adaptive buffers and fixed ones, and compares with the file.
func TestMapFileReads(t *testing.T) {
	for _, size := range []int{0, 1, 5000, MapThreshold - 1, MapThreshold, 3<<20 + 123} {
		data := randData(uint64(size), size)
		p := writeTemp(t, data)
		for _, mode := range []string{"mmap", "mmap=off", "mmap-fails"} {
			for _, adaptive := range []bool{true, false} {
				t.Run(fmt.Sprintf("%d/%s/adaptive=%v", size, mode, adaptive), func(t *testing.T) {
					fio := Defaults().With(Mmap, mode != "mmap=off")
					fio = fio.With(Adaptive, adaptive)
					if mode == "mmap-fails" {
						defer failMmap()()
					}
					f := openTemp(t, p)
					checkWindow(t, fio, f, data, mode == "mmap" && size >= MapThreshold)
					checkReadAt(t, fio, f, data)
				})
			}
		}
	}
}

func checkWindow(t *testing.T, fio Config, f *os.File, data []byte, wantMapped bool) {
	m, err := fio.Open(f, int64(len(data)), Sequential)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.Mapped() != wantMapped {
		t.Fatalf("Mapped() = %v, want %v", m.Mapped(), wantMapped)
	}
	r := rand.New(rand.NewPCG(1, 2))
	var off int64
	for off < int64(len(data)) {
		want := min(1+r.IntN(200_000), len(data)-int(off))
		w := m.Window(off, want)
		if len(w) < want || !bytes.Equal(w[:want], data[off:off+int64(want)]) {
			t.Fatalf("Window(%d, %d): wrong bytes (got %d)", off, want, len(w))
		}
		off += int64(r.IntN(want + 1))
	}
	if m.Err() != nil {
		t.Fatal(m.Err())
	}
}

func checkReadAt(t *testing.T, fio Config, f *os.File, data []byte) {
	m, err := fio.Open(f, int64(len(data)), Random)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	r := rand.New(rand.NewPCG(3, 4))
	for range 300 {
		off := int64(r.IntN(len(data) + 10))
		p := make([]byte, r.IntN(3*MaxBufferSize/4))
		n, err := m.ReadAt(p, off)
		end := min(off+int64(len(p)), int64(len(data)))
		wantN := int(max(0, end-off))
		if n != wantN || !bytes.Equal(p[:n], data[min(off, end):end]) {
			t.Fatalf("ReadAt(%d bytes, %d) = %d, %v: wrong bytes", len(p), off, n, err)
		}
		if (n < len(p)) != (err == io.EOF) {
			t.Fatalf("ReadAt(%d bytes, %d) = %d, %v", len(p), off, n, err)
		}
	}
	// Blocks in sequence, as an unchanged stretch is read.
	blk := make([]byte, 1+r.IntN(9000))
	for off := int64(r.IntN(len(data) + 1)); off < int64(len(data)); off += int64(len(blk)) {
		n, _ := m.ReadAt(blk, off)
		if !bytes.Equal(blk[:n], data[off:off+int64(n)]) {
			t.Fatalf("ReadAt(%d bytes, %d) in sequence: wrong bytes", len(blk), off)
		}
	}
}

// TestGuardTruncatedWhileMapped truncates a mapped file and reads past the
// new end, through Window and through ReadAt: the fault must come back as
// ErrFault, not kill the process.
func TestGuardTruncatedWhileMapped(t *testing.T) {
	fio := Defaults().With(Mmap, true) // a real mapping, whatever GORSYNC_FASTIO says
	p := writeTemp(t, make([]byte, 1<<20))
	f := openTemp(t, p)
	m, err := fio.Open(f, 1<<20, Sequential)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if !m.Mapped() {
		t.Fatal("a 1 MiB file was not mapped")
	}
	var sum byte
	err = Guard(func() error {
		w := m.Window(0, 1<<20)
		for i := 0; i < len(w); i += 4096 {
			if i == 64<<10 {
				// Mid-read: the first 64 KiB are in, the rest goes.
				if err := os.Truncate(p, 4096); err != nil {
					return err
				}
			}
			sum += w[i]
		}
		return nil
	})
	if !errors.Is(err, ErrFault) {
		t.Fatalf("Guard = %v, want ErrFault", err)
	}
	buf := make([]byte, 8192)
	if _, err := m.ReadAt(buf, 1<<19); !errors.Is(err, ErrFault) {
		t.Fatalf("ReadAt past the new end = %v, want ErrFault", err)
	}
	if _, err := m.ReadAt(buf[:100], 0); err != nil {
		t.Fatalf("ReadAt before the new end = %v", err)
	}
}

// TestWindowFileShrank reads a file that shrinks after it was opened,
// without a mapping: what is gone reads as zeros and is reported.
func TestWindowFileShrank(t *testing.T) {
	fio := Defaults().With(Mmap, false)
	data := randData(5, 3<<20)
	p := writeTemp(t, data)
	f := openTemp(t, p)
	for _, a := range []Access{Sequential, Random} {
		m, err := fio.Open(f, int64(len(data)), a)
		if err != nil {
			t.Fatal(err)
		}
		if a == Sequential {
			if w := m.Window(0, 1000); !bytes.Equal(w[:1000], data[:1000]) {
				t.Fatal("wrong bytes before the truncation")
			}
		}
		if err := os.Truncate(p, 2<<20); err != nil {
			t.Fatal(err)
		}
		switch a {
		case Sequential:
			w := m.Window(2<<20-10, 100)
			if !bytes.Equal(w[:10], data[2<<20-10:2<<20]) || !bytes.Equal(w[10:100], make([]byte, 90)) {
				t.Error("Window across the new end: want the data, then zeros")
			}
		case Random:
			p := make([]byte, 100)
			if _, err := m.ReadAt(p, 2<<20-10); err == nil {
				t.Error("ReadAt across the new end succeeded")
			}
			if _, err := m.ReadAt(p, 5); err != nil || !bytes.Equal(p, data[5:105]) {
				t.Errorf("ReadAt before the new end = %v, or wrong bytes", err)
			}
			// In sequence, through the window, up to and past the end.
			var off int64
			for off = 2<<20 - 100_050; off < 2<<20+100<<10; off += 100 {
				if _, err := m.ReadAt(p, off); err != nil {
					break
				}
				if !bytes.Equal(p, data[off:off+100]) {
					t.Fatalf("ReadAt(%d) in sequence: wrong bytes", off)
				}
			}
			if off != 2<<20-50 {
				t.Errorf("reads in sequence failed at %d, want at the one across the new end", off)
			}
		}
		if m.Err() == nil {
			t.Errorf("%v: no error after reading past the new end", a)
		}
		m.Close()
		os.WriteFile(p, data, 0o644)
	}
}
