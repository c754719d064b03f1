package engine

import (
	"errors"
	"fmt"
	"io"

	"github.com/gorsync/gorsync/internal/delta"
	"github.com/gorsync/gorsync/internal/flist"
	"github.com/gorsync/gorsync/internal/wire"
)

// BatchTee is the writer beneath a batch-writing sender's connection: once
// recording it copies what the sender writes to the batch file as well
// (rsync's write_batch_monitor_out), and with --only-write-batch the
// files' data goes to the batch file alone (sender.c send_files, f_xfer).
// rsync: io.c write_buf, start_write_batch
type BatchTee struct {
	Conn  io.Writer
	Batch io.Writer
	// On starts the recording; Only sends what follows to the batch only.
	On, Only bool
}

// Write writes p to the connection and, while recording, the batch.
func (t *BatchTee) Write(p []byte) (int, error) {
	if !t.Only {
		if n, err := t.Conn.Write(p); err != nil {
			return n, err
		}
	}
	if t.On || t.Only {
		if _, err := t.Batch.Write(p); err != nil {
			return 0, fmt.Errorf("batch file write error: %w", err)
		}
	}
	return len(p), nil
}

// batchOnly switches the sender's file data to the batch file alone
// (--only-write-batch) or back; what was written before goes where it
// belongs first.
func (s *Sender) batchOnly(only bool) error {
	t := s.Opts.BatchTee
	if t == nil || s.Opts.WriteBatch >= 0 {
		return nil
	}
	if err := s.Conn.W.Flush(); err != nil {
		return err
	}
	t.Only = only
	return nil
}

// batchStats records the sender's totals in the batch file, for the
// receiver that reads it to report: a client sender sends them to no one
// else. rsync: main.c handle_stats (write_batch)
func (s *Sender) batchStats() error {
	t := s.Opts.BatchTee
	if t == nil {
		return nil
	}
	c := s.Conn
	if err := c.W.Flush(); err != nil {
		return err
	}
	w := wire.NewWriter(t.Batch)
	writeStats(w, c, &s.Stats)
	return w.Flush()
}

// batchGen is the receiver's view, when applying a batch file, of the
// generator's requests: the indexes of the files it wants, plain integers
// with a negative one for each list done (rsync's batch_gen_fd).
type batchGen struct {
	r    *wire.Reader
	next int32
	done int32
	eof  bool
}

// genWants reports whether the generator asked for file ndx of list
// number num, telling of each file it asked for that the batch skipped.
// rsync: receiver.c gen_wants_ndx
func (rs *Receiving) genWants(ndx int32, num int32) (bool, error) {
	b := rs.batch
	if b.eof {
		return false, nil
	}
	for b.next < ndx {
		if rs.inc && num <= b.done {
			return false, nil
		}
		if b.next >= 0 {
			if err := rs.noBatchedUpdate(b.next); err != nil {
				return false, err
			}
		}
		if b.r.Buffered() == 0 && rs.fin != nil {
			// The generator may wait for the outcome of files
			// done but not yet reported. rsync: receiver.c
			// gen_wants_ndx (io_flush)
			rs.fin.kick()
		}
		v, err := b.r.ReadInt()
		if err != nil {
			return false, fmt.Errorf("read generator request: %w", err)
		}
		b.next = v
		if v < 0 {
			if rs.inc {
				b.done++
				continue
			}
			b.eof = true
			return false, nil
		}
	}
	if b.next == ndx {
		b.next = -1
		return true, nil
	}
	return false, nil
}

// noBatchedUpdate reports a file the generator wanted that the batch does
// not update. rsync: receiver.c no_batched_update
func (rs *Receiving) noBatchedUpdate(ndx int32) error {
	_, e, err := rs.segs.find(ndx)
	if err != nil {
		return err
	}
	rs.errorf("(No batched update for \"%s\")\n", e.Name())
	if rs.inc && !rs.Opts.DryRun {
		rs.events.push(genEvent{kind: evDone, ndx: ndx})
	}
	return nil
}

// listNum is rsync's flist_num for list l: from 1 in order of arrival
// with incremental recursion, 0 for the only list without.
func (rs *Receiving) listNum(l *flist.List) int32 {
	if !rs.inc {
		return 0
	}
	for i, x := range rs.segs.live {
		if x == l {
			return rs.segs.freed + int32(i) + 1
		}
	}
	return rs.segs.freed
}

// discardData reads one file's data and checksum and keeps none of it.
// rsync: receiver.c discard_receive_data
func (rs *Receiving) discardData(rx *delta.Receiver, e *flist.Entry) error {
	c := rs.Conn
	params := c.Session.XferParams()
	head, err := delta.ReadSumHead(c.R, c.Session.Protocol, params.DigestLen())
	if err == nil {
		_, err = rx.Receive(c.R, rs.tokens, head, params, nil, nil)
	}
	if err != nil && !errors.Is(err, delta.ErrChecksumMismatch) {
		return fmt.Errorf("receive %s: %w", e.Name(), streamErr(err))
	}
	return nil
}

// ErrnoText formats err as rsync's rsyserr does: C's strerror with the
// errno in parentheses.
func ErrnoText(err error) string { return errnoText(err) }
