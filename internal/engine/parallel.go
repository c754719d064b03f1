package engine

import (
	"runtime"
	"sync"

	"github.com/gorsync/gorsync/internal/checksum"
	"github.com/gorsync/gorsync/internal/fastio"
	"github.com/gorsync/gorsync/internal/flist"
	"github.com/gorsync/gorsync/internal/fsys"
	"github.com/gorsync/gorsync/internal/workpool"
	"golang.org/x/sys/unix"
)

// sumReadBuf is the read buffer of each --checksum worker.
const sumReadBuf = 256 << 10

// HashFD appends to out the whole-file checksum under p of the open file
// fd: its first size bytes (rsync's file_checksum sums the size its stat
// found), or everything up to its end when size is negative. Reading
// through the descriptor, not an *os.File, spares the runtime's poller
// probing: four system calls per file fewer.
func HashFD(h *checksum.FileHasher, p checksum.Params, fd int, size int64, buf, out []byte) ([]byte, error) {
	h.Reset(p)
	for size != 0 {
		want := buf
		if size > 0 && size < int64(len(buf)) {
			want = buf[:size]
		}
		n, err := unix.Read(fd, want)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		if n == 0 {
			break
		}
		h.Write(want[:n])
		if size > 0 {
			size -= int64(n)
		}
	}
	return h.Sum(out), nil
}

// FileSums computes the sender's --checksum sums on a pool of workers, one
// per processor, while the walk that lists the files goes on
// (fastio.Parallel). Start hands out the slice a worker fills; after Wait
// every slice is final. At most a few files per worker wait in the queue.
type FileSums struct {
	params checksum.Params
	sumLen int
	jobs   chan fileSumJob
	pool   workpool.Pool
	slab   []byte
	queued sync.WaitGroup // sums started and not done (Sync)
}

type fileSumJob struct {
	fd  int
	dst []byte
}

// NewFileSums starts the workers for sums of sumLen bytes (the file list's
// checksum length) under p.
func NewFileSums(p checksum.Params, sumLen int) *FileSums {
	n := max(1, runtime.GOMAXPROCS(0))
	fs := &FileSums{params: p, sumLen: sumLen, jobs: make(chan fileSumJob, 4*n)}
	fs.pool.Start(n, fs.work)
	return fs
}

func (fs *FileSums) work() {
	h := checksum.NewFileHasher(fs.params)
	buf := make([]byte, sumReadBuf)
	var out [checksum.MaxDigestLen]byte
	for j := range fs.jobs {
		sum, err := HashFD(h, fs.params, j.fd, -1, buf, out[:0])
		unix.Close(j.fd)
		if err == nil {
			copy(j.dst, sum)
		}
		fs.queued.Done()
	}
}

// Start queues the open file fd, which a worker closes, and returns the
// slice its sum will fill: zeros until then, and for good if the file
// cannot be read, which is what rsync sends for such a file. Only the
// walk's goroutine calls it.
func (fs *FileSums) Start(fd int) []byte {
	if len(fs.slab) < fs.sumLen {
		fs.slab = make([]byte, 1024*fs.sumLen)
	}
	dst := fs.slab[:fs.sumLen:fs.sumLen]
	fs.slab = fs.slab[fs.sumLen:]
	fs.queued.Add(1)
	fs.jobs <- fileSumJob{fd: fd, dst: dst}
	return dst
}

// Sync returns when every sum started so far is done: an incremental
// list's sums before it is sent. Start may follow.
func (fs *FileSums) Sync() { fs.queued.Wait() }

// Wait returns when every started sum is done; Start must not follow.
func (fs *FileSums) Wait() {
	close(fs.jobs)
	fs.pool.Stop()
}

// aheadWindow is how many list entries past the generator the --checksum
// workers of sumAhead may go.
const aheadWindow = 128

// Slot states of sumAhead.
const (
	slotFree = iota
	slotRunning
	slotDone
)

// aheadSlot is one entry's destination checksum, computed ahead of the
// generator, with the identity of the file it was computed from.
type aheadSlot struct {
	ndx   int32
	state int8
	ok    bool
	st    unix.Stat_t
	sum   [checksum.MaxDigestLen]byte
	n     int
}

// sumAhead computes the --checksum sums of destination files on a pool of
// workers ahead of the generator, which walks the lists in order and takes
// each sum when its quick check needs it (fastio.Parallel). The workers go
// through the regular files of the lists at most aheadWindow file indexes
// past the generator's last request, from one list into the next as the
// lists of incremental recursion come. A sum counts only if the file it
// was read from is still the one the generator stats (device, inode, size,
// mtime); otherwise, and for an entry no worker reached, the generator
// computes it itself as before.
type sumAhead struct {
	g      *generator
	params checksum.Params

	pool workpool.Pool // its lock guards the fields below
	base int32         // the generator's position
	next int32         // the next file index a worker considers
	// lists are the lists the workers may go through, in index order,
	// those wholly behind base dropped; done says no more will come.
	lists []*flist.List
	done  bool
	ring  [aheadWindow]aheadSlot
}

// startSumAhead starts the workers for g, or returns nil when the sums
// are not needed or the parallel path is off. Without incremental
// recursion they go through g's one list; with it, through the lists g
// holds and then those add gives them.
func startSumAhead(g *generator) *sumAhead {
	if !g.opts.AlwaysChecksum || g.root == nil || g.rs.DryRunMissing || g.opts.Select.ListOnly || !g.opts.IO.On(fastio.Parallel) {
		return nil
	}
	a := &sumAhead{g: g, params: g.c.Session.FileParams()}
	if g.inc {
		for _, s := range g.live {
			a.lists = append(a.lists, s.list)
		}
		a.done = g.eof
	} else {
		a.lists, a.done = []*flist.List{g.list}, true
	}
	a.pool.Start(max(1, runtime.GOMAXPROCS(0)), a.work)
	return a
}

// add gives the workers list l, the newest; a nil sumAhead takes nothing.
func (a *sumAhead) add(l *flist.List) {
	if a == nil {
		return
	}
	a.pool.Lock()
	a.lists = append(a.lists, l)
	a.pool.Broadcast()
	a.pool.Unlock()
}

// end tells the workers that no list follows.
func (a *sumAhead) end() {
	if a == nil {
		return
	}
	a.pool.Lock()
	a.done = true
	a.pool.Broadcast()
	a.pool.Unlock()
}

// stop ends the workers; a nil sumAhead is stopped.
func (a *sumAhead) stop() {
	if a != nil {
		a.pool.Stop()
	}
}

// claim returns the next entry to sum, waiting for room in the window or
// for a list to come; ok is false when the workers are done.
func (a *sumAhead) claim() (ndx int32, e *flist.Entry, slot *aheadSlot, ok bool) {
	a.pool.Lock()
	defer a.pool.Unlock()
	for {
		if a.pool.Stopped() {
			return 0, nil, nil, false
		}
		a.next = max(a.next, a.base)
		e, more := a.regular()
		if e == nil {
			if !more {
				return 0, nil, nil, false
			}
			a.pool.Wait()
			continue
		}
		s := &a.ring[a.next%aheadWindow]
		if a.next < a.base+aheadWindow && s.state != slotRunning {
			*s = aheadSlot{ndx: a.next, state: slotRunning}
			a.next++
			return a.next - 1, e, s, true
		}
		a.pool.Wait()
	}
}

// regular moves next to the first regular file at or after it in the
// lists and returns it; nil when the lists held have none, more saying
// whether one may still come. a must be locked.
func (a *sumAhead) regular() (e *flist.Entry, more bool) {
	for len(a.lists) > 0 && listEnd(a.lists[0]) <= a.base {
		a.lists[0] = nil
		a.lists = a.lists[1:]
	}
	for _, l := range a.lists {
		end := listEnd(l)
		if a.next >= end {
			continue
		}
		a.next = max(a.next, l.NdxStart)
		for ; a.next < end; a.next++ {
			if e := l.Entries[a.next-l.NdxStart]; e.IsRegular() {
				return e, true
			}
		}
	}
	return nil, !a.done
}

// listEnd is the file index after l's last entry.
func listEnd(l *flist.List) int32 { return l.NdxStart + int32(len(l.Entries)) }

func (a *sumAhead) work() {
	h := checksum.NewFileHasher(a.params)
	buf := make([]byte, sumReadBuf)
	for {
		ndx, e, s, ok := a.claim()
		if !ok {
			return
		}
		var out [checksum.MaxDigestLen]byte
		var st unix.Stat_t
		sum, good := a.sumOne(h, e, buf, out[:0], &st)
		a.pool.Lock()
		if s.ndx == ndx {
			s.state, s.ok, s.st = slotDone, good, st
			s.n = copy(s.sum[:], sum)
		}
		a.pool.Broadcast()
		a.pool.Unlock()
	}
}

// sumOne reads entry e's destination file, if it is a regular file of the
// listed size, and returns its sum and identity.
func (a *sumAhead) sumOne(h *checksum.FileHasher, e *flist.Entry, buf, out []byte, st *unix.Stat_t) ([]byte, bool) {
	f, err := a.g.root.Open(a.g.name(e))
	if err != nil {
		return nil, false
	}
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, false
	}
	var sum []byte
	rc.Control(func(fd uintptr) {
		if unix.Fstat(int(fd), st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG || st.Size != e.Size {
			return
		}
		sum, err = HashFD(h, a.params, int(fd), st.Size, buf, out)
	})
	return sum, sum != nil && err == nil
}

// sum returns the destination sum of entry ndx computed ahead, if a worker
// computed it from the file st describes; it waits for a worker that is
// at it. A nil sumAhead has nothing.
func (a *sumAhead) sum(ndx int32, st *fsys.Stat) ([]byte, bool) {
	if a == nil {
		return nil, false
	}
	a.pool.Lock()
	defer a.pool.Unlock()
	if ndx > a.base {
		a.base = ndx
		a.pool.Broadcast()
	}
	s := &a.ring[ndx%aheadWindow]
	for s.ndx == ndx && s.state == slotRunning {
		a.pool.Wait()
	}
	if s.ndx != ndx || s.state != slotDone {
		// No worker got here: none will, the generator sums it itself.
		a.next = max(a.next, ndx+1)
		return nil, false
	}
	s.state = slotFree
	same := s.ok && uint64(s.st.Dev) == st.Dev && s.st.Ino == st.Ino && s.st.Size == st.Size &&
		s.st.Mtim.Sec == st.Mtime && uint32(s.st.Mtim.Nsec) == st.MtimeNsec
	if !same {
		return nil, false
	}
	return s.sum[:s.n], true
}
