package engine

import (
	"testing"

	"github.com/gorsync/gorsync/internal/exitcode"
)

// TestCheckAlloc checks --max-alloc's bound on a peer's block count as
// rsync's my_alloc draws it: count items of sum_buf must stay under the
// limit, and past it the error is rsync's (exit 22).
func TestCheckAlloc(t *testing.T) {
	o := &Options{MaxAlloc: 1 << 20}
	if err := o.checkAlloc(1<<20/sumBufSize-1, sumBufSize, "sender", "sender.c", 363); err != nil {
		t.Errorf("under the limit: %v", err)
	}
	err := o.checkAlloc(1<<20/sumBufSize, sumBufSize, "sender", "sender.c", 363)
	if exitcode.Of(err) != exitcode.Malloc || err.Error() != "[sender] exceeded --max-alloc=1048576 setting (file=sender.c, line=363)" {
		t.Errorf("at the limit: %v (code %d)", err, exitcode.Of(err))
	}
	if err := (&Options{}).checkAlloc(1<<30/sumBufSize-1, sumBufSize, "sender", "sender.c", 363); err != nil {
		t.Errorf("default limit: %v", err)
	}
}
