package engine

import (
	"sync"

	"github.com/gorsync/gorsync/internal/flist"
)

// evKind says what a genEvent tells the generator.
type evKind int8

// What the receiver tells the generator. rsync's receiver writes these on
// its pipe to the generator process: MSG_REDO, MSG_SUCCESS and
// MSG_NO_SEND (as the in-progress counts of io.c got_flist_entry_status),
// the forwarded file lists and NDX_FLIST_EOF, and its phase's NDX_DONE.
const (
	// evPhase: the receiver finished a phase.
	evPhase evKind = iota
	// evRedo: file ndx failed verification and is to be sent again.
	evRedo
	// evDone: the transfer of file ndx ended, well or not, or the
	// sender could not send it (incremental recursion only).
	evDone
	// evSegment: a new list arrived (incremental recursion).
	evSegment
	// evEOF: no list follows (NDX_FLIST_EOF).
	evEOF
)

// genEvent is one thing the receiver tells the generator.
type genEvent struct {
	kind evKind
	ndx  int32
	// list and dir are a new list and the directory whose entries it
	// holds (nil for none), for evSegment.
	list *flist.List
	dir  *flist.Entry
}

// eventQueue carries the receiver's events to the generator. It never
// blocks the receiver, however far behind the generator is: the receiver
// must go on reading the sender's stream, or the sender, the generator
// and the receiver could all wait on one another.
type eventQueue struct {
	mu     sync.Mutex
	cond   sync.Cond
	items  []genEvent
	closed bool
}

func newEventQueue() *eventQueue {
	q := &eventQueue{}
	q.cond.L = &q.mu
	return q
}

// push adds ev; after close it is dropped.
func (q *eventQueue) push(ev genEvent) {
	q.mu.Lock()
	if !q.closed {
		q.items = append(q.items, ev)
		q.cond.Signal()
	}
	q.mu.Unlock()
}

// close tells the generator no event follows.
func (q *eventQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.cond.Broadcast()
	q.mu.Unlock()
}

// take returns the waiting events, first waiting for one when wait is
// set; closed reports a closed queue with nothing left. buf, the caller's
// previous batch (done with), becomes the queue's: the two slices swap
// roles, so neither side allocates once both have grown.
func (q *eventQueue) take(buf []genEvent, wait bool) (evs []genEvent, closed bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for wait && len(q.items) == 0 && !q.closed {
		q.cond.Wait()
	}
	if len(q.items) == 0 {
		return buf[:0], q.closed
	}
	clear(buf)
	evs, q.items = q.items, buf[:0]
	return evs, false
}
