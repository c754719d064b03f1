package engine

import (
	"sync/atomic"
	"time"

	"github.com/gorsync/gorsync/internal/delta"
	"github.com/gorsync/gorsync/internal/report"
)

// ProgressWriter is a Logger that prints progress lines: text that may end
// without a newline, which the next message to either stream starts by
// ending (rsync's output_needs_newline).
type ProgressWriter interface {
	Progress(msg string)
	// EndLine ends a progress line left open.
	EndLine()
}

// EndProgressLine ends, on a client's Logger, the progress line left open,
// as rsync does before its summary and at exit. rsync: main.c do_recv,
// cleanup.c _exit_cleanup
func EndProgressLine(l Logger) {
	if pw, ok := l.(ProgressWriter); ok {
		pw.EndLine()
	}
}

// progress is one role's --progress printer and what its lines count.
type progress struct {
	p     *report.Progress
	st    *Stats
	segs  *segments
	eof   *bool // no list follows
	names bool  // print each file's name before its data
	// curLast is the place of the last entry of the list of the last
	// file transferred, -1 before the first (rsync's cur_flist).
	curLast int
}

// newProgress returns the progress printer of a client role, nil when
// there is none (a server never prints progress). rsync: progress.c
func newProgress(c *Conn, o *Options, st *Stats, segs *segments, eof *bool, amServer bool) *progress {
	if amServer || o.Progress == 0 || o.Quiet {
		return nil
	}
	out := c.Log.Info
	if pw, ok := c.Log.(ProgressWriter); ok {
		out = pw.Progress
	}
	return &progress{p: report.NewProgress(out, o.Progress, o.Human), st: st, segs: segs, eof: eof,
		names: o.names(), curLast: -1}
}

// begin readies a level-2 line for a file about to be transferred.
func (pr *progress) begin() {
	if pr == nil {
		return
	}
	pr.p.Transferred, pr.p.TotalSize = pr.st.TotalTransferredSize, pr.st.TotalSize
}

// show reports that the file in transfer, of size bytes, is at ofs.
func (pr *progress) show(ofs, size int64) {
	if pr != nil {
		pr.p.Show(ofs, size)
	}
}

// end prints the final line of the file at index ndx.
func (pr *progress) end(ndx int32, size int64) {
	if pr == nil {
		return
	}
	pr.p.End(size, pr.counts(pr.at(ndx)))
}

// at records that the file at index ndx is the one in transfer (in a dry
// run too), and returns its place. rsync: progress.c
// set_current_file_index
func (pr *progress) at(ndx int32) int {
	if pr == nil {
		return 0
	}
	pos := int(ndx)
	pr.curLast = pos
	if l, _, err := pr.segs.find(ndx); err == nil {
		pos = pr.segs.position(l, ndx)
		pr.curLast = pr.segs.position(l, l.NdxStart+int32(len(l.Entries))-1)
	}
	return pos
}

// listDone prints, at level 2, the transfer's line as counted at the end
// of the list of the last file transferred, as rsync does at each
// NDX_DONE once a file has come. rsync: receiver.c recv_files, sender.c
// send_files (set_current_file_index(NULL))
func (pr *progress) listDone() {
	if pr == nil || pr.p.Level < 2 || pr.curLast < 0 {
		return
	}
	pr.begin()
	pr.p.End(0, pr.counts(pr.curLast))
}

// freed follows the freeing of the oldest list: once none is left,
// rsync's cur_flist is gone and NDX_DONE prints nothing more. rsync:
// flist.c flist_free
func (pr *progress) freed() {
	if pr != nil && pr.segs.first() == nil {
		pr.curLast = -1
	}
}

func (pr *progress) counts(pos int) report.Counts {
	return report.Counts{Xfr: pr.st.XferredFiles, Left: int64(pr.segs.seen - pos - 1), Total: int64(pr.segs.seen), EOF: *pr.eof}
}

// progressTokens passes a file's tokens on to a TokenWriter and reports
// where the file is after each: rsync's show_progress in matched().
// rsync: match.c matched
type progressTokens struct {
	tw   delta.TokenWriter
	pr   *progress
	ofs  int64
	size int64
}

// WriteToken implements delta.TokenWriter.
func (t *progressTokens) WriteToken(literal []byte, token int32, match []byte) error {
	err := t.tw.WriteToken(literal, token, match)
	t.ofs += int64(len(literal) + len(match))
	t.pr.show(t.ofs, t.size)
	return err
}

// copyProgressEvery is how often the sender of a local copy looks at how
// far the receiver's copy of a handed file has got: the line itself
// changes at most once a second.
const copyProgressEvery = 200 * time.Millisecond

// handedProgress is how far the receiver's copy of a handed file is, for
// the sender's progress lines; done closes when the copy ends, however.
type handedProgress struct {
	n    atomic.Int64
	done chan struct{}
}

// wait waits for a handed file's copy to end, showing its progress.
func (pr *progress) wait(hp *handedProgress, size int64, stop <-chan struct{}) {
	t := time.NewTicker(copyProgressEvery)
	defer t.Stop()
	for {
		select {
		case <-hp.done:
			pr.show(hp.n.Load(), size)
			return
		case <-stop:
			return
		case <-t.C:
			pr.show(hp.n.Load(), size)
		}
	}
}
