// Package workpool holds the one shape of gorsync's worker pools: a fixed
// number of goroutines, each with its own state, working ahead of one
// consumer (the walk, the generator, the sender), started together and
// stopped together, none outliving Stop. What the workers take, in which
// order their results are used and how errors reach the consumer stays
// with each pool's owner; this package is only the start, stop and wait.
//
// rsync runs each role on one thread; these pools are gorsync's own
// (fastio.Parallel, fastio.SendAhead).
package workpool

import "sync"

// Pool is a set of worker goroutines and the lock and condition they share
// with their consumer. Its workers take their work in one of two ways: from
// a channel the owner closes before Stop, or from state the owner guards
// with the Pool's lock, waiting on its condition until there is work or
// Stopped reports true. The zero Pool is ready for Start; it must not be
// copied after.
type Pool struct {
	sync.Mutex
	cond    sync.Cond
	stopped bool
	wg      sync.WaitGroup
}

// Start runs work on n more goroutines. Only the owner calls it, before
// Stop.
func (p *Pool) Start(n int, work func()) {
	if p.cond.L == nil {
		p.cond.L = &p.Mutex
	}
	for range n {
		p.wg.Go(work)
	}
}

// Wait waits for a Broadcast or for Stop; p must be locked, and is again
// when Wait returns.
func (p *Pool) Wait() { p.cond.Wait() }

// Broadcast wakes every goroutine in Wait; p must be locked.
func (p *Pool) Broadcast() { p.cond.Broadcast() }

// Signal wakes one goroutine in Wait, if any: one new piece of work needs
// one worker, and waking the others only puts them back to sleep. p must
// be locked.
func (p *Pool) Signal() { p.cond.Signal() }

// Stopped reports whether Stop has been called; p must be locked.
func (p *Pool) Stopped() bool { return p.stopped }

// Stop tells the workers to end (Stopped reports true and every Wait
// returns; workers fed by a channel end when the owner closes it) and
// returns once all of them have returned.
func (p *Pool) Stop() {
	p.Lock()
	p.stopped = true
	p.cond.Broadcast()
	p.Unlock()
	p.wg.Wait()
}
