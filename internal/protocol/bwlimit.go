package protocol

import (
	"io"
	"time"
)

// pacedWriter holds what this side writes to its peer to --bwlimit, as
// rsync does: each write is at most bwlimit*128 bytes (an eighth of a
// second's worth, at least 512), and after each one the writer sleeps as
// long as the bytes written so far run ahead of the rate, once that debt
// reaches a tenth of a second. rsync: io.c perform_io (bwlimit_writemax),
// sleep_for_bwlimit; options.c (bwlimit_writemax)
type pacedWriter struct {
	w        io.Writer
	kibps    int64 // the limit in KiB per second
	writeMax int

	prior   time.Time // when the debt was last brought up to date
	written int64     // bytes written and not yet paid for by elapsed time
}

// newPacedWriter limits w to kibps KiB per second.
func newPacedWriter(w io.Writer, kibps int) *pacedWriter {
	return &pacedWriter{w: w, kibps: int64(kibps), writeMax: max(kibps*128, 512)}
}

// Write writes p in pieces of at most writeMax bytes, pacing each.
func (pw *pacedWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		c := min(len(p), pw.writeMax)
		m, err := pw.w.Write(p[:c])
		n += m
		if m > 0 {
			pw.sleep(m)
		}
		if err != nil {
			return n, err
		}
		p = p[c:]
	}
	return n, nil
}

// sleep waits as long as the bytes written run ahead of the rate.
// rsync: io.c sleep_for_bwlimit
func (pw *pacedWriter) sleep(n int) {
	const second = int64(time.Second / time.Microsecond)
	pw.written += int64(n)
	start := time.Now()
	if !pw.prior.IsZero() {
		elapsed := start.Sub(pw.prior).Microseconds()
		pw.written -= elapsed * pw.kibps / (second / 1024)
		if pw.written < 0 {
			pw.written = 0
		}
	}
	sleepUsec := pw.written * (second / 1024) / pw.kibps
	if sleepUsec < second/10 {
		pw.prior = start
		return
	}
	time.Sleep(time.Duration(sleepUsec) * time.Microsecond)
	pw.prior = time.Now()
	elapsed := pw.prior.Sub(start).Microseconds()
	pw.written = (sleepUsec - elapsed) * pw.kibps / (second / 1024)
}
