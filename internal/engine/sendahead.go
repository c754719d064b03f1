package engine

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"runtime"

	"github.com/gorsync/gorsync/internal/delta"
	"github.com/gorsync/gorsync/internal/fastio"
	"github.com/gorsync/gorsync/internal/flist"
	"github.com/gorsync/gorsync/internal/wire"
	"github.com/gorsync/gorsync/internal/workpool"
)

// The sender's block searches run on workers across files (fastio.SendAhead):
// a worker searches file N and records its tokens as a script of lengths,
// and the sender replays the script into the one token stream in protocol
// order, reading the data from the file again. The stream (compressed or
// not) gets the very WriteToken calls the serial search would make, so the
// bytes on the wire are the same. The sender reads a request ahead only when
// the whole of it is already buffered: it never waits for the generator
// while finished work waits to be sent, since the generator's next requests
// may depend on what the receiver gets from us.

// tokenOp is one recorded token: lit bytes of literal data, then token tok
// covering match bytes of the file.
type tokenOp struct {
	tok        int32
	lit, match int32
}

// tokenScript is a delta.TokenWriter that records a file's tokens instead of
// sending them. The data of one token follows the previous token's in the
// file (rsync: match.c matched), so the lengths place it.
type tokenScript struct {
	ops []tokenOp
	res delta.MatchResult
	sum []byte // res.Sum, kept past the Matcher's next search
}

// WriteToken implements delta.TokenWriter.
func (s *tokenScript) WriteToken(lit []byte, tok int32, match []byte) error {
	s.ops = append(s.ops, tokenOp{tok: tok, lit: int32(len(lit)), match: int32(len(match))})
	return nil
}

// replay writes the recorded tokens to tw with their data read from mf, a
// view of the file the script was recorded from, and returns the search's
// result.
func (s *tokenScript) replay(tw delta.TokenWriter, mf *fastio.MapFile) (delta.MatchResult, error) {
	var off int64
	for _, op := range s.ops {
		n := int(op.lit + op.match)
		var b []byte
		if n > 0 {
			b = mf.Window(off, n)[:n]
		}
		if err := tw.WriteToken(b[:op.lit], op.tok, b[op.lit:n]); err != nil {
			return delta.MatchResult{}, err
		}
		off += int64(n)
	}
	res := s.res
	res.Sum = s.sum
	return res, nil
}

// deltaJob is one requested file whose block search runs on a worker.
type deltaJob struct {
	ndx    int32
	iflags uint32
	item   logged // its log line's figures so far
	e      *flist.Entry
	l      *flist.List // e's list
	f      *os.File
	head   delta.SumHead
	sums   delta.Sums

	size   int64 // the source's size when the search began
	script tokenScript
	// serial says that the search met a read error or a fault: the sender
	// searches the file again itself, at the same size, so that the error
	// is handled as the serial path handles it.
	serial bool
	err    error
	done   chan struct{} // a worker is done with the job: one value
}

// search runs the block search of j's file with m and records its tokens.
func (j *deltaJob) search(o *Options, m *delta.Matcher) {
	st, err := j.f.Stat()
	if err != nil {
		j.err = err
		return
	}
	j.size = st.Size()
	mf, err := o.IO.Open(j.f, j.size, fastio.Sequential)
	if err != nil {
		j.err = err
		return
	}
	defer mf.Close()
	if o.Hooks.Mapped != nil {
		o.Hooks.Mapped(j.f.Name(), mf.Mapped())
	}
	err = fastio.Guard(func() error {
		res, err := m.MatchSource(&j.script, mf, j.size, &j.sums)
		j.script.res = res
		return err
	})
	switch {
	case errors.Is(err, fastio.ErrFault) || mf.Err() != nil:
		j.serial = true
	case err != nil:
		j.err = err
	default:
		j.script.sum = append(j.script.sum[:0], j.script.res.Sum...)
	}
}

// maxRequestHead bounds the bytes a request takes before its block sums:
// index, item flags, basis type, alternate name, sum head.
const maxRequestHead = 16 + 2 + flist.MaxPath + 16

// sendAhead keeps up to max files' block searches in flight, in request
// order, on max workers with a Matcher each.
type sendAhead struct {
	s        *Sender
	m        *delta.Matcher // the sender's own, for files it searches again
	tw       delta.TokenWriter
	amServer bool

	max   int
	queue []*deltaJob // started, in request order
	free  []*deltaJob
	jobs  chan *deltaJob // to the workers; never holds more than max
	pool  workpool.Pool

	// A decoder over the input's buffered bytes, to see whether a whole
	// request is there without reading the stream.
	peekBytes bytes.Reader
	peekBuf   *bufio.Reader
	peek      *wire.Reader
}

// startAhead returns the worker pool for s's block searches, or nil when the
// searches are to run serially (fastio.SendAhead off, one CPU, a dry run).
func (s *Sender) startAhead(m *delta.Matcher, tw delta.TokenWriter, amServer bool) *sendAhead {
	procs := runtime.GOMAXPROCS(0)
	if procs < 2 || s.Opts.DryRun || s.Opts.WriteBatch < 0 || !s.Opts.IO.On(fastio.SendAhead) {
		return nil
	}
	a := &sendAhead{s: s, m: m, tw: tw, amServer: amServer, max: procs,
		jobs: make(chan *deltaJob, procs)}
	params := s.Conn.Session.XferParams()
	a.pool.Start(procs, func() {
		m := delta.NewMatcher(params, false)
		for j := range a.jobs {
			j.search(s.Opts, m)
			j.done <- struct{}{}
		}
	})
	a.peekBuf = bufio.NewReaderSize(&a.peekBytes, 64<<10)
	a.peek = wire.NewReader(a.peekBuf)
	return a
}

// job returns an unused job whose sums the request's can be read into.
func (a *sendAhead) job() *deltaJob {
	if n := len(a.free); n > 0 {
		j := a.free[n-1]
		a.free = a.free[:n-1]
		return j
	}
	return &deltaJob{done: make(chan struct{}, 1)}
}

// release makes j available again.
func (a *sendAhead) release(j *deltaJob) {
	j.f, j.e, j.l, j.err, j.serial = nil, nil, nil, nil, false
	j.script.ops = j.script.ops[:0]
	a.free = append(a.free, j)
}

// start queues j's search, its request and file ready. emitReady has made
// room: the queue, and so the channel, holds fewer than max jobs.
func (a *sendAhead) start(j *deltaJob) {
	a.queue = append(a.queue, j)
	a.jobs <- j
}

// emitReady sends the searched files in order until there is room for
// another search and its request is already buffered.
func (a *sendAhead) emitReady() error {
	if a == nil {
		return nil
	}
	for len(a.queue) > 0 && (len(a.queue) >= a.max || !a.requestBuffered()) {
		if err := a.emitFirst(); err != nil {
			return err
		}
	}
	return nil
}

// drain sends every queued file, for the sender to go on serially.
func (a *sendAhead) drain() error {
	if a == nil {
		return nil
	}
	for len(a.queue) > 0 {
		if err := a.emitFirst(); err != nil {
			return err
		}
	}
	return nil
}

// stop ends the workers once they have finished the searches queued, and
// closes the files of those not sent, when the sender ends early.
func (a *sendAhead) stop() {
	if a == nil {
		return
	}
	close(a.jobs)
	a.pool.Stop()
	for _, j := range a.queue {
		j.f.Close()
	}
	a.queue = nil
}

// emitFirst sends the first queued file: what the serial sender sends once
// it has opened the file.
func (a *sendAhead) emitFirst() error {
	j := a.queue[0]
	<-j.done
	a.queue = a.queue[1:]
	s, c := a.s, a.s.Conn
	if s.Opts.Out.Before && !a.amServer {
		c.logItem(s.Opts, j.item, logClient)
	}
	j.item.written = c.W.Written()
	writeNdxAndAttrs(c, s.outNdx, j.ndx, j.iflags)
	delta.WriteSumHead(c.W, j.head)
	var res delta.MatchResult
	var readErr, err error
	if j.err == nil {
		search := j.script.replay
		if j.serial {
			search = func(tw delta.TokenWriter, mf *fastio.MapFile) (delta.MatchResult, error) {
				return a.m.MatchSource(tw, mf, mf.Size(), &j.sums)
			}
		}
		res, readErr, err = sendView(a.s.Opts, a.m, a.tw, j.f, j.size, fastio.Sequential, false, search)
	} else {
		err = j.err
	}
	j.f.Close()
	if err != nil {
		return fmt.Errorf("send %s: %w", j.e.Name(), err)
	}
	err = s.sentFile(j.l, j.ndx, j.item, res, readErr, a.amServer)
	a.release(j)
	return err
}

// requestBuffered reports whether the input holds the whole of a next
// request for a delta transfer, block sums included, so that reading it
// cannot wait for the peer.
func (a *sendAhead) requestBuffered() bool {
	c := a.s.Conn
	proto := c.Session.Protocol
	b := c.R.Peek()
	a.peekBytes.Reset(b[:min(len(b), maxRequestHead)])
	a.peekBuf.Reset(&a.peekBytes)
	codec := *a.s.inNdx
	ndx, err := codec.Read(a.peek)
	if err != nil || ndx < 0 {
		return false
	}
	iflags := uint32(itemTransfer | itemMissingData)
	if proto >= 29 {
		v, err := a.peek.ReadShortint()
		if err != nil {
			return false
		}
		iflags = uint32(v)
	}
	if iflags&itemTransfer == 0 {
		return false
	}
	if iflags&itemBasisTypeFollows != 0 {
		if _, err := a.peek.ReadByte(); err != nil {
			return false
		}
	}
	if iflags&itemXnameFollows != 0 {
		if _, err := a.peek.ReadVstring(flist.MaxPath); err != nil {
			return false
		}
	}
	head, err := delta.ReadSumHead(a.peek, proto, c.Session.XferParams().DigestLen())
	if err != nil || head.Count == 0 {
		return false
	}
	used := a.peekBytes.Size() - int64(a.peekBytes.Len()) - int64(a.peekBuf.Buffered())
	return int64(len(b))-used >= int64(head.Count)*int64(4+head.S2Len)
}
