package fastio

import (
	"bytes"
	"testing"
)

// TestSpan checks that a mapped view lends exactly the ranges inside it,
// before and after its pages are released, and that a view that is not a
// mapping lends nothing.
func TestSpan(t *testing.T) {
	fio := Defaults().With(Mmap, true)
	const size = 3*dropBehind + 12345
	data := randData(11, size)
	f := openTemp(t, writeTemp(t, data))
	m, err := fio.Open(f, size, Sequential)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if !m.Mapped() {
		t.Skip("not mapped here")
	}
	for _, c := range []struct {
		off int64
		n   int
		ok  bool
	}{
		{0, 0, true}, {0, size, true}, {size, 0, true}, {size - 1, 1, true},
		{size - 1, 2, false}, {-1, 1, false}, {0, -1, false}, {size + 1, 0, false},
	} {
		if got := m.Span(c.off, c.n); (got != nil) != c.ok || c.ok && !bytes.Equal(got, data[c.off:c.off+int64(c.n)]) {
			t.Errorf("Span(%d, %d): %d bytes, want ok=%v", c.off, c.n, len(got), c.ok)
		}
	}
	// Released pages read back the same (they stay in the page cache).
	for off := int64(0); off < size; off += dropBehind / 2 {
		n := int(min(dropBehind/2, size-off))
		if err := Guard(func() error {
			if !bytes.Equal(m.Span(off, n), data[off:off+int64(n)]) {
				t.Errorf("Span(%d, %d) differs after release", off, n)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		m.DoneBefore(off + int64(n))
		m.Spent(n)
	}
	if !bytes.Equal(m.Span(0, 100), data[:100]) {
		t.Error("the start differs after it was released")
	}

	small := openTemp(t, writeTemp(t, data[:MapThreshold-1]))
	u, err := fio.Open(small, MapThreshold-1, Random)
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	if u.Span(0, 1) != nil {
		t.Error("an unmapped view lends bytes")
	}
}
