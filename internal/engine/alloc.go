package engine

import (
	"fmt"

	"github.com/gorsync/gorsync/internal/exitcode"
)

// defaultMaxAlloc is rsync's DEFAULT_MAX_ALLOC, 1 GiB.
const defaultMaxAlloc = 1 << 30

// sumBufSize is the size of rsync's struct sum_buf, per block of a
// signature: what rsync's sender allocates for the sums its peer
// announces, and so the measure --max-alloc bounds them by.
const sumBufSize = 24

// checkAlloc applies --max-alloc to an allocation of num items of size
// bytes whose count the peer chose, as rsync's my_alloc does: at or over
// the limit the transfer ends with exit code 22 and rsync's message,
// naming rsync's own allocation (file, line) that the limit stopped.
// gorsync grows such buffers as the data arrives, but a peer that may not
// make rsync allocate so much may not make gorsync either.
// rsync: util2.c my_alloc
func (o *Options) checkAlloc(num, size int64, who, file string, line int) error {
	limit := o.MaxAlloc
	if limit <= 0 {
		limit = defaultMaxAlloc
	}
	if num < limit/size {
		return nil
	}
	return &exitcode.Error{Code: exitcode.Malloc, Msg: fmt.Sprintf("[%s] exceeded --max-alloc=%d setting (file=%s, line=%d)", who, limit, file, line)}
}
