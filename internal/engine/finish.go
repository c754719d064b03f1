package engine

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/gorsync/gorsync/internal/fastio"
	"github.com/gorsync/gorsync/internal/flist"
	"github.com/gorsync/gorsync/internal/workpool"
	"golang.org/x/sys/unix"
)

// The receiver creates, writes and finishes files on a pool of workers
// (fastio.Parallel) while its own goroutine reads on. What orders what:
//
//   - The stream is read by the receiver goroutine alone: it reads each
//     file's data and checks its whole-file checksum, so a mismatch (a
//     redo) is known before a worker sees the file. A small whole file is
//     gathered in memory and a worker makes it; a larger one, or a delta,
//     the receiver writes itself and a worker only finishes it; a local
//     copy's handed-over source a worker copies.
//   - The -v line and --stats are the receiver's, at the hand-off, in
//     stream order, as rsync prints after receive_data.
//   - Each file the receiver meets has one job, queued in stream order,
//     and the jobs' outcomes are reported in that order (deliver): the
//     per-file errors (exit 23), MSG_SUCCESS, the embedder's OnFile, the
//     redo of a handed file whose source came up short, and with
//     incremental recursion the event that the file is done with. The
//     generator closes a list (NDX_DONE) and fixes up its directory only
//     once every file of it is reported, so a directory's time and mode
//     wait for the files in it.
//   - The receiver waits for every job to be reported (drain) before it
//     ends a phase, so the generator's redo phase, its late deletions
//     (--delete-after, --delete-delay) and the touch-up of every directory
//     without incremental recursion come after the files. --delete-during
//     deletes in a directory before the generator asks for any of its
//     files, so before any job for them exists.
//   - A failed close is fatal (exit 11, as rsync's receiver): the file
//     is not renamed into place, the files queued after it are not made
//     (but for those another worker finished before the failure was
//     known) nor reported but as done with, and the receiver stops at its
//     next file or phase end.
//   - Stopping (the end, an error, a cancelled transfer) waits for the
//     workers; one that has not renamed its file yet removes its
//     temporary file instead when the transfer failed.
//
// Memory stays bounded: at most maxFinishJobs files in flight and
// maxFinishBytes of their data buffered.
type finisher struct {
	rs       *Receiving
	events   *eventQueue
	amServer bool
	workers  int

	pool workpool.Pool // its lock guards the fields below
	room sync.Cond     // the receiver may go on (room, or all reported)
	// q holds the jobs from head (the oldest not yet reported) to tail,
	// by sequence number; none before next waits for a worker, queued
	// of them do.
	q                [maxFinishJobs]finishJob
	head, next, tail uint64
	queued           int
	bytes            int // buffered data of the queued jobs
	idle             int // workers waiting for a job
	// busy holds the directory each worker (and, last, the receiver) is
	// creating a file in.
	busy       []busyDir
	delivering bool // someone is reporting jobs
	waiting    bool // the receiver waits on room
	stopping   bool
	aborted    bool // the transfer failed: make nothing more
	// fatal is the fatal outcome of the earliest job that had one,
	// fatalSeq that job's sequence number: the jobs after it make
	// nothing.
	fatal    error
	fatalSeq uint64
	hasFatal atomic.Bool

	// literal counts the bytes copied from handed-over files (the
	// receiver's literal data for them), added to its stats at the end.
	literal atomic.Int64
}

// busyDir is the directory one goroutine is creating a file in.
type busyDir struct {
	dir string
	on  bool
}

const (
	// maxFinishJobs bounds the files the receiver has handed to the
	// workers and not yet seen reported: each may hold a descriptor (a
	// handed-over source, a written temporary file) or a buffer. It
	// spans a few directories of files, so that the workers find files
	// of different directories to create.
	maxFinishJobs = 512
	// maxFinishBytes bounds the file data buffered for the workers.
	maxFinishBytes = 32 << 20
	// smallFile is the largest whole file gathered in memory for a
	// worker to create: the largest pooled buffer.
	smallFile = fastio.MaxBufferSize
	// maxScan bounds how far past the oldest waiting job a worker looks
	// for one in a directory nobody is creating in.
	maxScan = 256
)

// jobKind says what a worker does for a file.
type jobKind int8

const (
	// jobReport: nothing, the outcome is known (an error, a redo).
	jobReport jobKind = iota
	// jobData: create the file from buffered data and finish it.
	jobData
	// jobHanded: create it as a copy of a handed-over source.
	jobHanded
	// jobTemp: finish a temporary file the receiver wrote.
	jobTemp
)

// jobState is where a job is.
type jobState int8

const (
	jobQueued jobState = iota
	jobRunning
	jobDone
)

// outcome is how a file's job ended.
type outcome int8

const (
	// outDone: the file is in place.
	outDone outcome = iota
	// outFailed: it failed (msg, exit 23).
	outFailed
	// outRedo: it failed verification, or its handed source came up
	// short (msg, the sender's read error): it is asked for again.
	outRedo
	// outFatal: the transfer stops (fatal).
	outFatal
	// outSkipped: the transfer is stopping, nothing was made.
	outSkipped
)

// finishJob is one file between the receiver and the report of its
// outcome; one without an entry only carries a message (msg) to tell in
// its place.
type finishJob struct {
	kind    jobKind
	ndx     int32
	e       *flist.Entry
	name    string
	redoing bool
	// buf holds n bytes of data (jobData).
	buf *fastio.Buffer
	n   int
	// hf is the handed-over source (jobHanded).
	hf handedFile
	// tmp is the written temporary file (jobTemp).
	tmp     *os.File
	tmpName string

	seq   uint64
	state jobState
	out   outcome
	msg   string
	fatal error
}

// newFinisher returns the receiver's finisher: with fastio.Parallel a
// pool of workers, else one that does each job at once on the receiver
// goroutine.
func newFinisher(rs *Receiving, events *eventQueue, amServer bool) *finisher {
	f := &finisher{rs: rs, events: events, amServer: amServer}
	f.room.L = &f.pool.Mutex
	if rs.Opts.IO.On(fastio.Parallel) && !rs.Opts.DryRun && rs.Root != nil {
		// Two at least: creating a file waits on the file system, which
		// may be a disk.
		f.workers = min(max(2, runtime.GOMAXPROCS(0)), 8)
	}
	f.busy = make([]busyDir, f.workers+1)
	for slot := range f.workers {
		f.pool.Start(1, func() { f.work(slot) })
	}
	return f
}

// buffers reports whether a whole file of size bytes is gathered in
// memory for a worker.
func (f *finisher) buffers(size int64) bool {
	return f.workers > 0 && size >= 0 && size <= smallFile
}

// submit queues j, the next file of the stream, waiting (and meanwhile
// doing queued jobs itself) while the queue is full. It returns the fatal
// outcome of an earlier job, if one came; j is then undone and dropped.
// Only the receiver goroutine calls it.
func (f *finisher) submit(j finishJob) error {
	size := j.size()
	f.pool.Lock()
	for !f.stopping && f.fatal == nil && f.tail > f.head &&
		(f.tail-f.head >= maxFinishJobs || f.bytes+size > maxFinishBytes) {
		f.helpOrWait()
	}
	if f.stopping || f.fatal != nil {
		err := f.fatal
		f.pool.Unlock()
		f.rs.discard(&j)
		if err == nil {
			err = errFinisherStopped
		}
		return err
	}
	f.bytes += size
	j.seq = f.tail
	j.state = jobQueued
	if j.kind == jobReport {
		j.state = jobDone // nothing to do: known already
	}
	f.q[f.tail%maxFinishJobs] = j
	f.tail++
	switch {
	case j.state == jobDone:
		f.deliver()
	case f.workers == 0:
		f.queued++
		f.helpOne()
	default:
		f.queued++
		if f.idle > 0 && f.queued >= wakeBatch {
			f.pool.Signal()
		}
	}
	f.pool.Unlock()
	return nil
}

// wakeBatch is how many jobs wait before an idle worker is woken for
// them: when the receiver is slower than the workers (files coming over
// a pipe) a worker woken for every file would sleep again after it, a
// futex call each way per file.
const wakeBatch = 8

// kick wakes a worker for the jobs that wait when every worker is idle.
// The receiver calls it before a read that may block: a job must not wait
// for more to come while the sender waits for its outcome (with
// incremental recursion the generator closes a list, and the sender sends
// more, once its files are reported).
func (f *finisher) kick() {
	if f.workers == 0 {
		return
	}
	f.pool.Lock()
	if f.queued > 0 && f.idle == f.workers {
		f.pool.Signal()
	}
	f.pool.Unlock()
}

// errFinisherStopped refuses a job after the finisher stopped: the
// transfer is over.
var errFinisherStopped = errors.New("receiver stopped")

// drain waits until every queued job is reported (doing queued ones
// meanwhile) and returns a fatal outcome if one came. Only the receiver
// goroutine calls it.
func (f *finisher) drain() error {
	f.pool.Lock()
	defer f.pool.Unlock()
	for f.head < f.tail && !f.stopping {
		f.helpOrWait()
	}
	return f.fatal
}

// failed returns the fatal outcome of a job, if one came.
func (f *finisher) failed() error {
	if !f.hasFatal.Load() {
		return nil
	}
	f.pool.Lock()
	defer f.pool.Unlock()
	return f.fatal
}

// helpOrWait does a queued job on the receiver goroutine, or waits for a
// worker to report some. f must be locked.
func (f *finisher) helpOrWait() {
	if f.queued > 0 {
		f.helpOne()
		return
	}
	f.waiting = true
	f.room.Wait()
	f.waiting = false
}

// helpOne does a queued job on the receiver goroutine. f must be locked;
// it is unlocked meanwhile.
func (f *finisher) helpOne() { f.runOne(f.workers) }

// take returns a queued job for goroutine slot (a worker's index, or the
// receiver's, last) and marks it running: the oldest whose directory no
// other goroutine is creating a file in, else the oldest. Creating files
// in one directory takes the directory's lock in the kernel, so two
// goroutines there mostly wait for each other (4 KiB files on tmpfs, two
// goroutines: 7.9 µs a file in one directory, 5.6 µs in two, 8.5 µs
// alone). f must be locked and hold a queued job.
func (f *finisher) take(slot int) *finishJob {
	for f.q[f.next%maxFinishJobs].state != jobQueued {
		f.next++
	}
	j := &f.q[f.next%maxFinishJobs]
	for seq, end := f.next, min(f.tail, f.next+maxScan); seq < end; seq++ {
		c := &f.q[seq%maxFinishJobs]
		if c.state == jobQueued && !f.dirBusy(c.e.Dir, slot) {
			j = c
			break
		}
	}
	j.state = jobRunning
	f.queued--
	f.busy[slot] = busyDir{dir: j.e.Dir, on: true}
	return j
}

// dirBusy reports whether a goroutine other than slot is creating a file
// in dir. f must be locked.
func (f *finisher) dirBusy(dir string, slot int) bool {
	for i, b := range f.busy {
		if b.on && i != slot && b.dir == dir {
			return true
		}
	}
	return false
}

// runOne takes a queued job for goroutine slot and does it with f
// unlocked, then reports what can be reported. f must be locked and hold
// a queued job.
func (f *finisher) runOne(slot int) {
	j := f.take(slot)
	skip := f.skips(j.seq)
	size := j.size() // the job gives its buffer back
	f.pool.Unlock()
	f.rs.runJob(j, skip, func() bool { return f.stopsBefore(j.seq) })
	f.pool.Lock()
	f.busy[slot].on = false
	f.bytes -= size
	j.state = jobDone
	if j.out == outFatal && (f.fatal == nil || j.seq < f.fatalSeq) {
		f.fatal, f.fatalSeq = j.fatal, j.seq
		f.hasFatal.Store(true)
	}
	f.deliver()
	f.wake()
}

// skips reports whether job seq is to make nothing: the transfer failed,
// or an earlier job's outcome was fatal. f must be locked.
func (f *finisher) skips(seq uint64) bool {
	return f.aborted || f.fatal != nil && seq > f.fatalSeq
}

// stopsBefore reports, for a worker about to rename job seq's file into
// place, whether it is to remove it instead.
func (f *finisher) stopsBefore(seq uint64) bool {
	f.pool.Lock()
	defer f.pool.Unlock()
	return f.skips(seq)
}

// wake wakes the receiver when what it waits for has come: room in the
// queue (at least half of it, so that it is woken once per many files),
// every job reported, or a fatal outcome. f must be locked.
func (f *finisher) wake() {
	if f.waiting && (f.head == f.tail || f.fatal != nil ||
		f.tail-f.head <= maxFinishJobs/2 && f.bytes <= maxFinishBytes/2) {
		f.room.Signal()
	}
}

// work is worker slot's loop: it does queued jobs until the finisher
// stops, and then the ones still queued (which, when aborted, only clean
// up).
func (f *finisher) work(slot int) {
	f.pool.Lock()
	defer f.pool.Unlock()
	for {
		for f.queued == 0 && !f.pool.Stopped() {
			f.idle++
			f.pool.Wait()
			f.idle--
		}
		if f.queued == 0 {
			return
		}
		f.runOne(slot)
	}
}

// deliver reports, in queue order, the done jobs at the head, unless
// another goroutine is at it (it then reports these too). f must be
// locked; it is unlocked while reporting.
func (f *finisher) deliver() {
	if f.delivering {
		return
	}
	f.delivering = true
	for f.head < f.tail && f.q[f.head%maxFinishJobs].state == jobDone {
		j := &f.q[f.head%maxFinishJobs]
		quiet := f.fatal != nil && j.seq > f.fatalSeq
		f.pool.Unlock()
		f.report(j, quiet)
		f.pool.Lock()
		*j = finishJob{state: jobDone}
		f.head++
		f.next = max(f.next, f.head)
		f.wake()
	}
	f.delivering = false
}

// report tells of one job's outcome, in stream order; quiet (a file after
// a fatal one) only lets the generator know it is done with. rsync:
// receiver.c recv_files (after finish_transfer)
func (f *finisher) report(j *finishJob, quiet bool) {
	rs := f.rs
	queued := false
	switch {
	case quiet:
	case j.out == outDone:
		rs.Conn.succeeded(rs.Opts, rs.Root, j.name, j.ndx)
		rs.Opts.fileDone(j.e, f.amServer)
	case j.out == outFailed:
		rs.errorf("%s", j.msg)
	case j.out == outRedo:
		if j.msg != "" {
			rs.Conn.XferError(j.msg)
		}
		queued = rs.verificationFailed(j.ndx, j.e, j.name, j.redoing, f.events)
	}
	if rs.inc && !queued && j.e != nil {
		// Done with, well or not: its list may be closed.
		// rsync: receiver.c recv_files (MSG_SUCCESS, MSG_NO_SEND)
		f.events.push(genEvent{kind: evDone, ndx: j.ndx})
	}
}

// stop ends the workers once they have done the queued jobs; with abort
// (the transfer failed) those make nothing and only clean up. It may be
// called more than once, from the receiver goroutine and from Run.
func (f *finisher) stop(abort bool) {
	f.pool.Lock()
	f.stopping = true
	if abort {
		f.aborted = true
	}
	f.room.Broadcast()
	f.pool.Unlock()
	f.pool.Stop()
}

// size is the buffered data j holds.
func (j *finishJob) size() int {
	if j.buf == nil {
		return 0
	}
	return len(j.buf.B)
}

// discard releases what job j holds, making nothing: its buffer, the
// handed-over source, the temporary file (removed).
func (rs *Receiving) discard(j *finishJob) {
	if j.buf != nil {
		fastio.PutBuffer(j.buf)
		j.buf = nil
	}
	if j.hf.f != nil {
		j.hf.f.Close()
		j.hf.f = nil
		if j.hf.prog != nil {
			close(j.hf.prog.done) // the sender follows it no more
		}
	}
	if j.tmp != nil {
		j.tmp.Close()
		j.tmp = nil
		rs.Root.Remove(j.tmpName)
	}
}

// runJob does what job j asks, on a worker or the receiver goroutine, and
// sets its outcome; with skip it makes nothing and only cleans up. stop
// tells, before the file is renamed into place, whether the transfer
// failed meanwhile.
func (rs *Receiving) runJob(j *finishJob, skip bool, stop func() bool) {
	if skip {
		rs.discard(j)
		j.out = outSkipped
		return
	}
	switch j.kind {
	case jobData:
		rs.createFile(j, stop)
	case jobHanded:
		rs.copyHanded(j, stop)
	case jobTemp:
		tmp := tempFile{f: j.tmp, name: j.tmpName}
		j.tmp = nil
		rs.finishJob(j, tmp, stop)
	}
}

// createFile makes job j's file from its buffered data.
func (rs *Receiving) createFile(j *finishJob, stop func() bool) {
	defer rs.discard(j)
	fd, tmpName, err := rs.Root.CreateTempFD(j.name)
	if err != nil {
		j.out, j.msg = outFailed, fmt.Sprintf("rsync: [receiver] mkstemp %q failed: %v\n", j.name, unwrapPathErr(err))
		return
	}
	tmp := tempFile{fd: fd, name: tmpName}
	if err := writeFD(fd, j.buf.B[:j.n]); err != nil {
		tmp.close()
		rs.Root.Remove(tmpName)
		j.out, j.msg = outFailed, fmt.Sprintf("rsync: [receiver] write failed on %q: %v\n", j.name, err)
		return
	}
	rs.finishJob(j, tmp, stop)
}

// writeFD writes all of p to fd.
func writeFD(fd int, p []byte) error {
	for len(p) > 0 {
		n, err := unix.Write(fd, p)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		p = p[n:]
	}
	return nil
}

// finishJob finishes job j's written temporary file (finish) and sets the
// job's outcome.
func (rs *Receiving) finishJob(j *finishJob, tmp tempFile, stop func() bool) {
	fatal, err := rs.finish(tmp, j.name, j.e, stop)
	switch {
	case fatal != nil:
		j.out, j.fatal = outFatal, fatal
	case errors.Is(err, errStopping):
		j.out = outSkipped
	case err != nil:
		j.out, j.msg = outFailed, fmt.Sprintf("rsync: [receiver] %v\n", err)
	default:
		j.out = outDone
	}
}

// errStopping is finish's answer when the transfer failed before the file
// was renamed into place: it was removed instead.
var errStopping = errors.New("transfer stopping")
