package flist

import (
	"fmt"

	"github.com/gorsync/gorsync/internal/exitcode"
)

// defaultMaxAlloc is rsync's DEFAULT_MAX_ALLOC, 1 GiB.
const defaultMaxAlloc = 1 << 30

// ListCap is how many entries one file list may hold under --max-alloc:
// rsync keeps a list's entries in an array of pointers that starts with
// room for 32 Ki, doubles up to 16 Mi and then grows by 16 Mi, and
// my_alloc refuses the growth that would reach the limit; a list needing
// more ends the transfer (exit 22). Both sides apply it, as both rsyncs
// do: the sender to the lists it sends, the receiver to those a peer
// sends it. rsync: flist.c flist_expand, recv_file_list, send_file_list;
// util2.c my_alloc
func (o *Options) ListCap() int64 {
	const start, linear, ptr = 32 << 10, 32 << 10 * 512, 8
	limit := o.MaxAlloc
	if limit <= 0 {
		limit = defaultMaxAlloc
	}
	c := int64(start)
	for {
		next := c * 2
		if c >= linear {
			next = c + linear
		}
		if next >= limit/ptr {
			return c
		}
		c = next
	}
}

// allocError is rsync's message when a list outgrows --max-alloc, naming
// the allocation in rsync's source that refuses it.
func allocError(who string, limit int64) error {
	if limit <= 0 {
		limit = defaultMaxAlloc
	}
	return &exitcode.Error{Code: exitcode.Malloc, Msg: fmt.Sprintf("[%s] exceeded --max-alloc=%d setting (file=flist.c, line=401)", who, limit)}
}
