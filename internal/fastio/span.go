package fastio

import (
	"os"

	"golang.org/x/sys/unix"
)

// Span returns the mapped bytes [off, off+n) of the view in place, or nil
// when the view is not a mapping or the range is not inside it. The bytes
// fault if the file shrinks: read them only under Guard, and hand them to
// a system call (write) ready for EFAULT. Span does not change the view,
// so workers may call it concurrently.
func (m *MapFile) Span(off int64, n int) []byte {
	if m.data == nil || off < 0 || n < 0 || off > m.size-int64(n) {
		return nil
	}
	return m.data[off : off+int64(n)]
}

// Spent tells the view that n more bytes were read through Span at random
// offsets: as with ReadAt, every dropBehind of them the whole mapping is
// released from the process (the pages stay in the page cache), so a
// reader of a huge basis keeps its resident memory bounded.
func (m *MapFile) Spent(n int) {
	if m.data == nil {
		return
	}
	if m.read += int64(n); m.read >= dropBehind {
		_ = unix.Madvise(m.data, unix.MADV_DONTNEED)
		m.read = 0
	}
}

// DoneBefore tells the view that no one reads its bytes before off again:
// a sequential reader through Span releases what it has left behind, whole
// pages, every dropBehind bytes. Not for concurrent use (Span is).
func (m *MapFile) DoneBefore(off int64) {
	if m.data == nil || off-m.dropped < dropBehind {
		return
	}
	end := min(off, m.size) &^ int64(os.Getpagesize()-1)
	_ = unix.Madvise(m.data[m.dropped:end], unix.MADV_DONTNEED)
	m.dropped = end
}
