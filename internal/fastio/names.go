package fastio

import "unsafe"

// nameChunk is the size of a NameArena's chunks: the names of a few
// thousand directory entries, a few hundred directories of a source tree.
const nameChunk = 64 << 10

// NameArena makes strings from bytes by copying them into shared chunks, one
// allocation per chunk instead of one per string. A chunk stays in memory as
// long as any string carved from it does, which suits names kept for a whole
// transfer (a file list's). The zero NameArena is ready; it is not safe for
// concurrent use.
type NameArena struct {
	buf []byte // the current chunk's free space
}

// String returns a string equal to b.
func (a *NameArena) String(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > cap(a.buf)-len(a.buf) {
		if len(b) > nameChunk/8 {
			return string(b) // a chunk of its own would waste the rest
		}
		a.buf = make([]byte, 0, nameChunk)
	}
	start := len(a.buf)
	a.buf = append(a.buf, b...)
	// The bytes from start on are never written again: the chunk only
	// grows by appends past them, within its capacity.
	return unsafe.String(&a.buf[start], len(b))
}
