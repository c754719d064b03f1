package engine

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	"github.com/gorsync/gorsync/internal/delta"
	"github.com/gorsync/gorsync/internal/fastio"
	"github.com/gorsync/gorsync/internal/flist"
)

// maxHanded caps the source files a local copy's sender has handed over
// and its receiver has not taken yet: each holds an open descriptor.
const maxHanded = 64

// Handoff joins the sender and the receiver of a local copy, both running
// in this process: for a file that travels whole and uncompressed, the
// sender hands the receiver its open source file instead of pushing the
// bytes through the in-memory stream, and the receiver copies it with
// fastio.CopyFile (copy_file_range, a reflink where the file system makes
// one). The stream then carries, for that file, the index, item flags and
// empty sum head rsync's sender writes, and neither data tokens nor the
// whole-file checksum: a gorsync-private form that only these two ends,
// which agree through the Handoff, ever see. Nothing a peer process reads
// changes: a Handoff exists only when both roles are ours.
type Handoff struct {
	mu      sync.Mutex
	room    sync.Cond // a waiting sender may go on
	files   map[int32]handedFile
	closed  bool
	waiting bool // the sender waits for room
	once    sync.Once
	copied  atomic.Int64
	// stop closes when the transfer is abandoned (Abort): a copy in
	// progress gives up.
	stop      chan struct{}
	abortOnce sync.Once
}

// handedFile is an open source file and the size the sender found when it
// opened it: the bytes rsync's sender would read and send.
type handedFile struct {
	f    *os.File
	size int64
	// prog, when the sender shows progress, follows the copy.
	prog *handedProgress
}

// NewHandoff returns a Handoff for one local copy; give it to both roles
// through Options.Handoff and Close it when the receiver stops.
func NewHandoff() *Handoff {
	h := &Handoff{files: make(map[int32]handedFile), stop: make(chan struct{})}
	h.room.L = &h.mu
	return h
}

// Copied returns the bytes the receiver copied straight from handed files:
// the transfer's literal data for them.
func (h *Handoff) Copied() int64 { return h.copied.Load() }

// Close closes the files the receiver never took and wakes a sender
// waiting for room; after it no file is handed over.
func (h *Handoff) Close() {
	h.once.Do(func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.closed = true
		h.room.Broadcast()
		for ndx, hf := range h.files {
			hf.f.Close()
			if hf.prog != nil {
				close(hf.prog.done)
			}
			delete(h.files, ndx)
		}
	})
}

// Abort abandons the transfer: a copy in progress stops between two
// chunks, and the Handoff closes.
func (h *Handoff) Abort() {
	h.abortOnce.Do(func() { close(h.stop) })
	h.Close()
}

// give registers f as the data of file ndx. The sender calls it before it
// writes the file's index, so the receiver finds the file once the index
// arrives. When maxHanded files wait for the receiver it flushes the
// sender's buffered output, so the receiver can reach them, and waits
// until the receiver has taken half of them: the same wait as on a full
// pipe, which ends when the receiver reads on, and one wake-up per
// maxHanded/2 files instead of one per file (a futex call each way). It
// reports false when the file goes the ordinary way instead.
func (h *Handoff) give(ndx int32, f *os.File, flush func() error, hp *handedProgress) bool {
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.files) >= maxHanded && !h.closed {
		h.mu.Unlock()
		err := flush()
		h.mu.Lock()
		if err != nil {
			return false
		}
		for len(h.files) > maxHanded/2 && !h.closed {
			h.waiting = true
			h.room.Wait()
		}
	}
	if _, dup := h.files[ndx]; dup || h.closed {
		return false
	}
	h.files[ndx] = handedFile{f: f, size: st.Size(), prog: hp}
	return true
}

// take returns the file handed over for ndx, if the sender handed one;
// the receiver closes it when done.
func (h *Handoff) take(ndx int32) (handedFile, bool) {
	if h == nil {
		return handedFile{}, false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	hf, ok := h.files[ndx]
	if ok {
		delete(h.files, ndx)
		if h.waiting && len(h.files) <= maxHanded/2 {
			h.waiting = false
			h.room.Signal()
		}
	}
	return hf, ok
}

// handOff hands f to the receiver of a local copy when the file is sent
// whole (no basis blocks: -W, or nothing to compare against) and without
// compression. It must run before the file's index is written.
// hp, if not nil, is to follow the copy.
func (s *Sender) handOff(ndx int32, head delta.SumHead, comp delta.Compression, f *os.File, hp *handedProgress) bool {
	h := s.Opts.Handoff
	if h == nil || head.Count != 0 || comp != delta.NoCompression {
		return false
	}
	return h.give(ndx, f, s.Conn.W.Flush, hp)
}

// receiveHanded hands the finisher a file whose source the sender handed
// over open: a worker copies it (copyHanded) and finishes it as any other
// file. The copy never crosses the stream and comes without the sender's
// whole-file checksum, so it is not verified against one: that check
// guards the stream's bytes, and these files (only these) skip it.
func (rs *Receiving) receiveHanded(hf handedFile, ndx int32, e *flist.Entry, name string, redoing bool, amServer bool) error {
	rs.received(ndx, e, amServer)
	return rs.fin.submit(finishJob{kind: jobHanded, ndx: ndx, e: e, name: name, redoing: redoing, hf: hf})
}

// copyHanded makes job j's file as a copy of its handed-over source, then
// finishes it. A source that ends before the size the sender saw (it
// shrank meanwhile) or cannot be read is what rsync's sender reports as
// read errors, and the file is redone as after a failed checksum; it is
// then handed over again at its new size.
func (rs *Receiving) copyHanded(j *finishJob, stop func() bool) {
	h := rs.Opts.Handoff
	src := j.hf
	j.hf = handedFile{}
	defer src.f.Close()
	var copied *atomic.Int64
	if src.prog != nil {
		defer close(src.prog.done)
		copied = &src.prog.n
	}
	tmp, tmpName, err := rs.Root.CreateTemp(j.name)
	if err != nil {
		j.out, j.msg = outFailed, fmt.Sprintf("rsync: [receiver] mkstemp %q failed: %v\n", j.name, unwrapPathErr(err))
		return
	}
	if rs.Opts.Hooks.Handed != nil {
		rs.Opts.Hooks.Handed(j.e.Name())
	}
	n, err := rs.Opts.IO.CopyFileCounted(tmp, src.f, src.size, h.stop, copied)
	rs.fin.literal.Add(n)
	h.copied.Add(n)
	if err == nil && n < src.size {
		err = fmt.Errorf("%w %s: file shrank from %d to %d bytes while copied", fastio.ErrSourceRead, j.e.Name(), src.size, n)
	}
	if err != nil {
		if errors.Is(err, fastio.ErrStopped) && rs.Opts.Partial && n > 0 {
			keepPartial(rs.Root, tmp, tmpName, j.name, j.e, rs.Opts, nil)
		} else {
			tmp.Close()
			rs.Root.Remove(tmpName)
		}
		switch {
		case errors.Is(err, fastio.ErrStopped):
			// The transfer was abandoned.
			j.out, j.fatal = outFatal, fmt.Errorf("receive %s: %w", j.name, err)
		case !errors.Is(err, fastio.ErrSourceRead):
			j.out, j.msg = outFailed, fmt.Sprintf("rsync: [receiver] write failed on %q: %v\n", j.name, err)
		default:
			j.out, j.msg = outRedo, fmt.Sprintf("rsync: [sender] read errors mapping %q: %v\n", j.e.Name(), err)
		}
		return
	}
	rs.finishJob(j, tempFile{f: tmp, name: tmpName}, stop)
}
